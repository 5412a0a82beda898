"""`cloud register --from-terraform-state`: clouds described by state files shaped as the AWS provider writes
them (format version 4), with resources in a child module, `count` and `for_each` instances, and no route
tables (private or public is read from AWS).

One sandbox state for the module: a public and a private cloud are built once with boto3.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudplane.cloud import CUSTOMER_DEFINED
from tests.e2e.adopting import cloud_names, equivalent_flags, parse_flags
from tests.helpers import Run, cloudplane
from tests.iam import conftest as iam_fixtures
from tests.verify.builders import BuiltCloud, build_cloud

Factory = Callable[..., Any]
aws = iam_fixtures.aws  # boto3 clients on one sandbox state for the whole module
PROVIDER = 'provider["registry.terraform.io/hashicorp/aws"]'


def _resource(
    kind: str, name: str, instances: list[dict[str, Any]], module: str | None = None
) -> dict[str, Any]:
    resource: dict[str, Any] = {"mode": "managed", "type": kind, "name": name, "provider": PROVIDER}
    if module:
        resource = {"module": module, **resource}
    resource["instances"] = [{"schema_version": 0, **instance} for instance in instances]
    return resource


def _one(attributes: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"attributes": attributes}]


def _role(aws: Factory, arn: str) -> dict[str, Any]:
    role = aws("iam").get_role(RoleName=arn.rsplit("/", 1)[1])["Role"]
    return {
        "id": role["RoleName"],
        "name": role["RoleName"],
        "arn": role["Arn"],
        "assume_role_policy": json.dumps(role["AssumeRolePolicyDocument"]),
        "path": "/",
    }


def state_of(aws: Factory, built: BuiltCloud, *extra: dict[str, Any]) -> dict[str, Any]:
    """The state a Terraform configuration making `built` would leave: the network in module.net."""
    subnets = aws("ec2").describe_subnets(Filters=[{"Name": "vpc-id", "Values": [built.vpc_id]}])["Subnets"]
    mount_targets = aws("efs").describe_mount_targets(FileSystemId=built.fs_id)["MountTargets"]
    instance_role = _role(aws, built.instance_role)
    resources = [
        {
            "mode": "data",
            "type": "aws_caller_identity",
            "name": "current",
            "provider": PROVIDER,
            "instances": [{"schema_version": 0, "attributes": {"account_id": "123456789012"}}],
        },
        _resource("aws_vpc", "this", _one({"id": built.vpc_id, "cidr_block": "10.0.0.0/16"}), "module.net"),
        _resource(
            "aws_subnet",
            "this",
            [
                {
                    "index_key": index,
                    "attributes": {"id": s["SubnetId"], "vpc_id": s["VpcId"], "cidr_block": s["CidrBlock"]},
                }
                for index, s in enumerate(subnets)
            ],
            "module.net",
        ),
        _resource(
            "aws_security_group", "nodes", _one({"id": built.sg_id, "vpc_id": built.vpc_id}), "module.net"
        ),
        _resource("aws_s3_bucket", "data", _one({"id": built.bucket, "bucket": built.bucket})),
        _resource("aws_efs_file_system", "shared", _one({"id": built.fs_id})),
        *(
            [_resource("aws_memorydb_cluster", "ha", _one({"id": built.cluster, "name": built.cluster}))]
            if built.cluster
            else []
        ),
        _resource(
            "aws_efs_mount_target",
            "shared",
            [
                {
                    "index_key": target["SubnetId"],
                    "attributes": {
                        "id": target["MountTargetId"],
                        "file_system_id": built.fs_id,
                        "subnet_id": target["SubnetId"],
                        "security_groups": [built.sg_id],
                    },
                }
                for target in mount_targets
            ],
        ),
        _resource("aws_iam_role", "controlplane", _one(_role(aws, built.cp_role))),
        _resource("aws_iam_role", "nodes", _one(instance_role)),
        _resource(
            "aws_iam_instance_profile",
            "nodes",
            _one({"id": instance_role["name"], "name": instance_role["name"], "role": instance_role["name"]}),
        ),
        *extra,
    ]
    return {
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": 12,
        "lineage": "5d4c1f0e-8a1b-4c57-9d3e-6f1e2a7b9c00",
        "outputs": {},
        "resources": resources,
        "check_results": None,
    }


@pytest.fixture(scope="module")
def clouds(aws: Factory) -> dict[str, BuiltCloud]:
    return {
        "public": build_cloud(aws, deployment=CUSTOMER_DEFINED, memorydb=True),
        "private": build_cloud(aws, deployment=CUSTOMER_DEFINED, private=True),
    }


def register_from(path: Path, name: str, *flags: str) -> Run:
    return cloudplane(
        "cloud", "register", "--from-terraform-state", str(path), "--name", name, "--yes", *flags
    )


def test_state_with_two_buckets_is_listed_then_settled_by_flag_and_registered(
    aws: Factory, clouds: dict[str, BuiltCloud], tmp_path: Path
) -> None:
    built = clouds["public"]
    aws("s3").create_bucket(Bucket="acme-logs", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    logs = _resource(
        "aws_s3_bucket", "logs", _one({"id": "acme-logs", "bucket": "acme-logs"}), "module.audit"
    )
    # A second group in the VPC: the file system's mount targets tell which one the nodes use.
    bastion = aws("ec2").create_security_group(GroupName="bastion", Description="ssh", VpcId=built.vpc_id)[
        "GroupId"
    ]
    other_group = _resource("aws_security_group", "bastion", _one({"id": bastion, "vpc_id": built.vpc_id}))
    path = tmp_path / "terraform.tfstate"
    path.write_text(json.dumps(state_of(aws, built, logs, other_group), indent=2))

    ambiguous = register_from(path, "from-tf")
    assert ambiguous.exit_code == 2
    lines = [line.strip() for line in ambiguous.stderr.splitlines()]
    assert f"--s3-bucket-id {built.bucket}  from aws_s3_bucket.data" in lines
    assert "--s3-bucket-id acme-logs  from module.audit.aws_s3_bucket.logs" in lines
    assert cloud_names() == []

    run = register_from(path, "from-tf", "--s3-bucket-id", built.bucket, "--output", "json")
    assert run.exit_code == 0, run.stderr
    command = parse_flags(run.json()["equivalent_command"])
    assert sorted(command["--subnet-ids"].split(",")) == sorted(built.subnet_ids)
    assert command["--external-id"] == built.spec.external_id  # from the role's assume_role_policy
    assert "--private-network" not in command
    assert command["--security-group-ids"] == built.sg_id  # not bastion: the mount targets' group
    cloud = run.json()["cloud"]
    assert cloud["name"] == "from-tf" and cloud["state"] == "active" and cloud["networking"] == "public"
    assert cloud["external_id"] == built.spec.external_id
    resources = cloud["resources"]
    assert resources["vpc_id"] == built.vpc_id and resources["security_group_ids"] == [built.sg_id]
    assert resources["efs_id"] == built.fs_id and resources["s3_bucket_id"] == built.bucket
    assert resources["memorydb_cluster_id"] == built.cluster
    assert (resources["controlplane_role_arn"], resources["instance_role_arn"]) == (
        built.cp_role,
        built.instance_role,
    )


def test_private_subnets_are_told_by_their_routes_in_aws(
    aws: Factory, clouds: dict[str, BuiltCloud], tmp_path: Path
) -> None:
    built = clouds["private"]
    path = tmp_path / "terraform.tfstate"
    state = state_of(aws, built)
    assert len(state["resources"][2]["instances"]) == len(built.subnet_ids) + len(built.public_subnet_ids)
    path.write_text(json.dumps(state))
    run = register_from(path, "private-tf")
    assert run.exit_code == 0, run.stderr + run.stdout
    command = equivalent_flags(run)
    assert command["--private-network"] is True
    assert sorted(command["--subnet-ids"].split(",")) == sorted(
        built.subnet_ids
    )  # not the NAT gateways' subnets
    assert "module.net.aws_subnet.this[" in run.stderr
    cloud = cloudplane("cloud", "get", "--name", "private-tf", "--output", "json").json()
    assert cloud["networking"] == "private" and cloud["state"] == "active"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("{not json", "is not a Terraform state file: not JSON"),
        (json.dumps({"version": 3, "modules": []}), "has state format version 3; only version 4"),
        (json.dumps([1, 2]), "is not a Terraform state file"),
    ],
    ids=["missing", "not-json", "version-3", "not-a-state"],
)
def test_unreadable_state_files_are_refused_in_one_line(
    aws: Factory, tmp_path: Path, content: str | None, message: str
) -> None:
    path = tmp_path / "terraform.tfstate"
    if content is not None:
        path.write_text(content)
    before = cloud_names()
    run = register_from(path, "bad")
    assert run.exit_code == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert cloud_names() == before
