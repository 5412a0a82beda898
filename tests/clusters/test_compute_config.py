"""Compute configs: reading the YAML (every mistake with its key path, all at once), checking a config
against a cloud's record, and planning the nodes of a launch. No AWS: clouds are records built here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cloudplane.clusters.compute_config import (
    ComputeConfig,
    NodeType,
    cloud_mistakes,
    default_instance_profile,
    load_compute_config,
    parse_compute_config,
    plan_nodes,
)
from cloudplane.errors import InputError

SEED_EXAMPLE = """\
cloud: my-cloud # You may specify `cloud_id` instead
allowed_azs:
- us-west-2a
head_node_type:
  name: head_node_type
  instance_type: m5.8xlarge
---
aws:
  IamInstanceProfile:
    Arn: arn:aws:iam::012345678901:instance-profile/ray-nodes
"""

FULL = """\
cloud_id: cld_abcdefghij0123456789
allowed_azs: [us-west-2a, us-west-2b]
head_node_type:
  name: head
  instance_type: m5.8xlarge
worker_node_types:
  - name: cpu-workers
    instance_type: m5.2xlarge
    min_workers: 1
    max_workers: 4
  - name: gpu
    instance_type: g4dn.xlarge
    min_workers: 2
aws:
  IamInstanceProfile:
    Name: ray-nodes
  SubnetId: subnet-0a1b2c3d
  SecurityGroupIds: [sg-0a1b2c3d, sg-0123456789abcdef0]
"""

ACCOUNT = "123456789012"
CLOUD_ID = "cld_abcdefghij0123456789"
SUBNETS = ["subnet-0000000a", "subnet-0000000b", "subnet-0000000c", "subnet-000000a2"]
ZONES = {
    "subnet-0000000a": "us-west-2a",
    "subnet-0000000b": "us-west-2b",
    "subnet-0000000c": "us-west-2c",
    "subnet-000000a2": "us-west-2a",
}
GROUP = "sg-0000000a"


def cloud_record(**resources: Any) -> dict[str, Any]:
    return {
        "id": CLOUD_ID,
        "name": "demo",
        "region": "us-west-2",
        "is_default": False,
        "state": "active",
        "resources": {
            "subnet_ids": SUBNETS,
            "security_group_ids": [GROUP],
            "s3_bucket_id": "cloudplane-data-demo",
            "instance_role_arn": f"arn:aws:iam::{ACCOUNT}:role/cloudplane-demo-instance",
            "controlplane_role_arn": f"arn:aws:iam::{ACCOUNT}:role/cloudplane-demo-controlplane",
            **resources,
        },
    }


def config(text: str = "", **head: str) -> ComputeConfig:
    head_type = head.get("instance_type", "m5.xlarge")
    return parse_compute_config(
        f"head_node_type: {{name: head, instance_type: {head_type}}}\n{text}", "c.yaml"
    )


def mistakes_of(text: str, source: str = "compute.yaml") -> list[str]:
    with pytest.raises(InputError) as raised:
        parse_compute_config(text, source)
    assert raised.value.exit_code == 2
    return str(raised.value).splitlines()


# --- reading ------------------------------------------------------------------------------------


def test_the_seed_example_in_two_documents_is_read_as_one_config() -> None:
    parsed = parse_compute_config(SEED_EXAMPLE, "compute.yaml")
    assert parsed.cloud == "my-cloud" and parsed.cloud_id is None
    assert parsed.allowed_azs == ("us-west-2a",)
    assert parsed.head_node_type == NodeType("head_node_type", "m5.8xlarge")
    assert parsed.worker_node_types == ()
    assert parsed.instance_profile == "arn:aws:iam::012345678901:instance-profile/ray-nodes"
    assert parsed.source == "compute.yaml"
    one_document = parse_compute_config(SEED_EXAMPLE.replace("---\n", ""), "compute.yaml")
    assert one_document == parsed


def test_every_section_is_read_and_max_workers_defaults_to_min_workers() -> None:
    parsed = parse_compute_config(FULL, "c.yaml")
    assert parsed.cloud_id == CLOUD_ID
    assert parsed.worker_node_types == (
        NodeType("cpu-workers", "m5.2xlarge", 1, 4),
        NodeType("gpu", "g4dn.xlarge", 2, 2),
    )
    assert parsed.instance_profile == "ray-nodes"
    assert parsed.subnet_id == "subnet-0a1b2c3d"
    assert parsed.security_group_ids == ("sg-0a1b2c3d", "sg-0123456789abcdef0")


def test_a_config_travels_as_json_and_back() -> None:
    import json

    for text in (SEED_EXAMPLE, FULL):
        parsed = parse_compute_config(text, "c.yaml")
        assert ComputeConfig.from_dict(json.loads(json.dumps(parsed.to_dict()))) == parsed


def test_from_dict_checks_what_it_reads_like_the_yaml() -> None:
    data = parse_compute_config(FULL, "c.yaml").to_dict()
    data["worker_node_types"][0]["min_workers"] = 9
    data["subnet_id"] = "subnet-nope"
    with pytest.raises(InputError) as raised:
        ComputeConfig.from_dict(data)
    assert str(raised.value).splitlines() == [
        "c.yaml: worker_node_types[0].min_workers: 9 is more than max_workers (4)",
        "c.yaml: aws.SubnetId: 'subnet-nope' is not a subnet id (like subnet-0a1b2c3d)",
    ]


HEAD = "head_node_type: {name: head, instance_type: m5.xlarge}\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEAD + "colud: demo\n", "compute.yaml: colud: unknown key; did you mean cloud?"),
        (HEAD + "aws: {KeyName: mine}\n", "compute.yaml: aws.KeyName: unknown key"),
        (
            "head_node_type: {name: h, instance_type: m5.large, max_workers: 2}\n",
            "compute.yaml: head_node_type.max_workers: unknown key",
        ),
        ("cloud: demo\n", "compute.yaml: head_node_type: required, but missing"),
        ("head_node_type: {name: h}\n", "compute.yaml: head_node_type.instance_type: required, but missing"),
        (HEAD + "cloud: no\n", "compute.yaml: cloud: expected text, got the boolean false (YAML reads yes"),
        (HEAD + "cloud: 'bad name!'\n", "compute.yaml: cloud: invalid cloud name 'bad name!'"),
        (HEAD + "cloud_id: cld_123\n", "compute.yaml: cloud_id: invalid cloud id 'cld_123'"),
        (
            "head_node_type: {name: h, instance_type: m5}\n",
            "compute.yaml: head_node_type.instance_type: 'm5' is not an EC2 instance type (like m5.xlarge)",
        ),
        (
            "head_node_type: {name: h, instance_type: M5.XLARGE}\n",
            "compute.yaml: head_node_type.instance_type: 'M5.XLARGE' is not an EC2 instance type",
        ),
        (
            "head_node_type: {name: h, instance_type: m5.0xlarge}\n",
            "compute.yaml: head_node_type.instance_type: 'm5.0xlarge' is not an EC2 instance type",
        ),
        (
            "head_node_type: {name: h, instance_type: 5}\n",
            "compute.yaml: head_node_type.instance_type: expected text, got the number 5",
        ),
        (
            HEAD
            + "worker_node_types: [{name: w, instance_type: m5.large, min_workers: 3, max_workers: 1}]\n",
            "compute.yaml: worker_node_types[0].min_workers: 3 is more than max_workers (1)",
        ),
        (
            HEAD + "worker_node_types: [{name: w, instance_type: m5.large, min_workers: -1}]\n",
            "compute.yaml: worker_node_types[0].min_workers: must not be negative, got -1",
        ),
        (
            HEAD + "worker_node_types: [{name: w, instance_type: m5.large, max_workers: '4'}]\n",
            "compute.yaml: worker_node_types[0].max_workers: expected a whole number, got the text '4'",
        ),
        (
            HEAD + "worker_node_types: [{name: w, instance_type: m5.large, max_workers: 99999999}]\n",
            "compute.yaml: worker_node_types[0].max_workers: at most 10,000",
        ),
        (
            HEAD + "worker_node_types: [{name: head, instance_type: m5.large}]\n",
            "compute.yaml: worker_node_types[0].name: 'head' is already the name of head_node_type",
        ),
        (
            HEAD + "worker_node_types: {name: w}\n",
            "compute.yaml: worker_node_types: expected a list of worker node types, got a mapping",
        ),
        (
            HEAD + "allowed_azs: [us-west-2a, west]\n",
            "compute.yaml: allowed_azs[1]: 'west' is not an availability zone name (like us-west-2a)",
        ),
        (
            HEAD + "allowed_azs: [usw2-az1]\n",
            "compute.yaml: allowed_azs[0]: 'usw2-az1' is a zone ID; allowed_azs takes zone names",
        ),
        (HEAD + "allowed_azs: []\n", "compute.yaml: allowed_azs: empty; give at least one"),
        (HEAD + "allowed_azs: us-west-2a\n", "compute.yaml: allowed_azs: expected a list of zone names"),
        (
            HEAD + "allowed_azs: [us-west-2a, us-west-2a]\n",
            "compute.yaml: allowed_azs: us-west-2a given more than once",
        ),
        (
            HEAD + "aws: {SubnetId: subnet-xyz}\n",
            "compute.yaml: aws.SubnetId: 'subnet-xyz' is not a subnet id (like subnet-0a1b2c3d)",
        ),
        (
            HEAD + "aws: {SecurityGroupIds: [sg-0a1b2c3d, group]}\n",
            "compute.yaml: aws.SecurityGroupIds[1]: 'group' is not a security group id",
        ),
        (
            HEAD + "aws: {SecurityGroupIds: sg-0a1b2c3d}\n",
            "compute.yaml: aws.SecurityGroupIds: expected a list of security group ids",
        ),
        (
            HEAD + "aws: {IamInstanceProfile: {Arn: 'arn:aws:iam::123456789012:role/nodes'}}\n",
            "compute.yaml: aws.IamInstanceProfile.Arn: 'arn:aws:iam::123456789012:role/nodes' is not an instance profile ARN",
        ),
        (
            HEAD
            + "aws: {IamInstanceProfile: {Arn: 'arn:aws:iam::123456789012:instance-profile/a', Name: a}}\n",
            "compute.yaml: aws.IamInstanceProfile: give the instance profile's Arn or its Name, not both",
        ),
        (
            HEAD + "aws: {IamInstanceProfile: {Name: 'two words'}}\n",
            "compute.yaml: aws.IamInstanceProfile.Name: 'two words' is not an instance profile name",
        ),
        ("", "compute.yaml: holds no compute config (it is empty)"),
        (
            "- cloud: demo\n",
            "compute.yaml: expected a mapping of keys (cloud, cloud_id, allowed_azs, head_node_type, worker_node_types, aws), got a list",
        ),
        (HEAD + "---\n- x\n", "compute.yaml: document 2: expected a mapping of keys"),
        (
            HEAD + "cloud: a\n---\ncloud: b\n",
            "compute.yaml: cloud: given in document 1 and again in document 2; give it once",
        ),
        (
            HEAD + "cloud: a\ncloud: b\n",
            "compute.yaml: line 3, column 1: 'cloud' is given twice in one mapping (first on line 2)",
        ),
        (HEAD + "aws:\n  SubnetId: [\n", "compute.yaml: line 4, column 1: not valid YAML: "),
        (
            HEAD + "cloud: *nowhere\n",
            "compute.yaml: line 2, column 8: not valid YAML: found undefined alias 'nowhere'",
        ),
    ],
)
def test_each_mistake_names_the_file_and_the_key_path(text: str, expected: str) -> None:
    lines = mistakes_of(text)
    assert any(line.startswith(expected) for line in lines), lines


def test_every_mistake_is_reported_at_once_one_line_each() -> None:
    text = """\
cloud: demo
allowed_azs: [us-west-2z9]
head_node_type: {name: head, instance_type: huge}
worker_node_types:
  - {name: cpu, instance_type: m5.large, min_workers: 5, max_workers: 2}
  - {name: gpu, instance_type: g4dn.xlarge, min_workers: -2}
aws:
  SubnetId: subnet-1
  Tags: []
"""
    assert mistakes_of(text) == [
        "compute.yaml: allowed_azs[0]: 'us-west-2z9' is not an availability zone name (like us-west-2a)",
        "compute.yaml: head_node_type.instance_type: 'huge' is not an EC2 instance type (like m5.xlarge)",
        "compute.yaml: worker_node_types[0].min_workers: 5 is more than max_workers (2)",
        "compute.yaml: worker_node_types[1].min_workers: must not be negative, got -2",
        "compute.yaml: aws.Tags: unknown key (known here: IamInstanceProfile, SubnetId, SecurityGroupIds)",
        "compute.yaml: aws.SubnetId: 'subnet-1' is not a subnet id (like subnet-0a1b2c3d)",
    ]


def test_a_deeply_nested_alias_is_described_not_printed() -> None:
    text = HEAD + "aws: &a\n  SubnetId: [*a, *a, *a]\n"
    (line,) = mistakes_of(text)
    assert line == "compute.yaml: aws.SubnetId: expected text, got a list"


def test_a_file_is_read_with_its_path_as_the_prefix(tmp_path: Path) -> None:
    path = tmp_path / "compute.yaml"
    path.write_text(SEED_EXAMPLE)
    assert load_compute_config(path).source == str(path)
    path.write_text(HEAD + "cloud: [a]\n")
    with pytest.raises(InputError, match=f"^{path}: cloud: expected text, got a list$"):
        load_compute_config(path)
    with pytest.raises(InputError, match="nothing.yaml: no such file"):
        load_compute_config(tmp_path / "nothing.yaml")
    path.write_bytes(b"cloud: \xff\n")
    with pytest.raises(InputError, match="is not UTF-8 text"):
        load_compute_config(path)


# --- against a cloud ----------------------------------------------------------------------------


def test_a_config_that_fits_the_cloud_has_no_mistakes() -> None:
    fits = config(
        f"cloud: demo\ncloud_id: {CLOUD_ID}\nallowed_azs: [us-west-2b, us-west-2a]\n"
        f"aws: {{SubnetId: subnet-0000000a, SecurityGroupIds: [{GROUP}],"
        f" IamInstanceProfile: {{Arn: 'arn:aws:iam::{ACCOUNT}:instance-profile/nodes'}}}}\n"
    )
    assert cloud_mistakes(fits, cloud_record(), ZONES) == []


def test_zones_subnets_and_groups_the_cloud_lacks_are_named_with_what_it_has() -> None:
    misfit = config(
        "cloud: other\nallowed_azs: [us-west-2a, us-west-2d]\n"
        "aws: {SubnetId: subnet-0000000f, SecurityGroupIds: [sg-0000000a, sg-0000000f]}\n"
    )
    assert cloud_mistakes(misfit, cloud_record(), ZONES) == [
        f"c.yaml: cloud: other is not cloud demo ({CLOUD_ID}), which this config is checked against",
        f"c.yaml: allowed_azs[1]: us-west-2d is not a zone of cloud demo ({CLOUD_ID}); its subnets are in "
        "us-west-2a, us-west-2b, us-west-2c",
        f"c.yaml: aws.SubnetId: subnet-0000000f is not a subnet of cloud demo ({CLOUD_ID}); it has "
        + ", ".join(SUBNETS),
        f"c.yaml: aws.SecurityGroupIds[1]: sg-0000000f is not a security group of cloud demo ({CLOUD_ID}); it "
        f"has {GROUP}",
    ]


def test_a_subnet_outside_the_allowed_zones_is_a_mistake() -> None:
    misfit = config(
        "cloud_id: cld_zzzzzzzzzzzzzzzzzzzz\nallowed_azs: [us-west-2a]\naws: {SubnetId: subnet-0000000b}\n"
    )
    assert cloud_mistakes(misfit, cloud_record(), ZONES) == [
        f"c.yaml: cloud_id: cld_zzzzzzzzzzzzzzzzzzzz is not cloud demo ({CLOUD_ID}), which this config is checked "
        "against",
        "c.yaml: aws.SubnetId: subnet-0000000b is in us-west-2b, which allowed_azs (us-west-2a) leaves out",
    ]


# --- planning -----------------------------------------------------------------------------------


def test_nodes_are_spread_over_the_allowed_zones_in_turn() -> None:
    planned = config(
        "allowed_azs: [us-west-2a, us-west-2c]\n"
        "worker_node_types:\n"
        "  - {name: cpu, instance_type: m5.2xlarge, min_workers: 3, max_workers: 8}\n"
        "  - {name: idle, instance_type: g5.xlarge, max_workers: 2}\n",
        instance_type="m5.8xlarge",
    )
    nodes = plan_nodes(planned, cloud_record(), ZONES)
    assert [(n.role, n.node_type, n.instance_type, n.subnet_id, n.zone) for n in nodes] == [
        ("head", "head", "m5.8xlarge", "subnet-0000000a", "us-west-2a"),
        ("worker", "cpu", "m5.2xlarge", "subnet-0000000c", "us-west-2c"),
        ("worker", "cpu", "m5.2xlarge", "subnet-000000a2", "us-west-2a"),
        ("worker", "cpu", "m5.2xlarge", "subnet-0000000a", "us-west-2a"),
    ]
    assert {n.security_group_ids for n in nodes} == {(GROUP,)}
    assert {n.instance_profile for n in nodes} == {"cloudplane-demo-instance"}
    assert nodes[0].iam_instance_profile == {"Name": "cloudplane-demo-instance"}
    assert nodes[0].to_dict()["security_group_ids"] == [GROUP]


def test_the_configs_subnet_groups_and_profile_are_used_as_given() -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:instance-profile/team/nodes"
    planned = config(
        "worker_node_types: [{name: w, instance_type: m5.large, min_workers: 2}]\n"
        f"aws: {{SubnetId: subnet-0000000b, SecurityGroupIds: [{GROUP}, sg-0000000e],"
        f" IamInstanceProfile: {{Arn: '{arn}'}}}}\n"
    )
    nodes = plan_nodes(planned, cloud_record(), ZONES)
    assert [n.subnet_id for n in nodes] == ["subnet-0000000b"] * 3
    assert {n.security_group_ids for n in nodes} == {(GROUP, "sg-0000000e")}
    assert nodes[0].iam_instance_profile == {"Arn": arn}


def test_without_a_config_one_default_head_node_goes_to_the_first_subnet() -> None:
    (head,) = plan_nodes(None, cloud_record(), ZONES)
    assert (head.role, head.instance_type, head.subnet_id, head.zone) == (
        "head",
        "m5.xlarge",
        "subnet-0000000a",
        "us-west-2a",
    )
    assert (
        plan_nodes(None, cloud_record(), ZONES, default_instance_type="t3.large")[0].instance_type
        == "t3.large"
    )


def test_no_subnet_in_an_allowed_zone_is_refused() -> None:
    with pytest.raises(
        InputError, match=r"no subnet of cloud demo .* lies in an allowed zone \(us-west-2d\)"
    ):
        plan_nodes(config("allowed_azs: [us-west-2d]\n"), cloud_record(), ZONES)
    with pytest.raises(InputError, match="aws.SubnetId: subnet-0000000b is not a subnet of cloud demo"):
        plan_nodes(
            config("allowed_azs: [us-west-2a]\naws: {SubnetId: subnet-0000000b}\n"), cloud_record(), ZONES
        )


def test_the_default_instance_profile_is_named_like_the_instance_role() -> None:
    path_role = cloud_record(instance_role_arn=f"arn:aws:iam::{ACCOUNT}:role/team/ray-role")
    assert default_instance_profile(path_role) == "ray-role"
    no_role = cloud_record(instance_role_arn=None)
    assert default_instance_profile(no_role) is None
    with pytest.raises(InputError, match="records no instance role, so it has no default instance profile"):
        plan_nodes(None, no_role, ZONES)
