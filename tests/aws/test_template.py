"""The managed-cloud template: cfn-lint clean in every variant, and shaped as the cloud needs."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint

from cloudplane.aws import policies
from cloudplane.aws.template import (
    ManagedCloudOptions,
    managed_cloud_template,
    memorydb_zone_names,
    stack_parameters,
    subnet_cidrs,
)
from cloudplane.errors import InputError
from cloudplane.naming import TAG_KEY

CLOUD_ID = "cld_abcdefghij0123456789"


def options(zones: int = 3, storage: str = "nfs", memorydb: bool = False) -> ManagedCloudOptions:
    names = tuple(f"us-west-2{chr(ord('a') + i)}" for i in range(zones))
    return ManagedCloudOptions(
        CLOUD_ID, f"{CLOUD_ID}-secret", "arn:aws:iam::123456789012:root", names, storage, memorydb
    )


@pytest.mark.parametrize("storage", ["nfs", "object-storage"])
@pytest.mark.parametrize("memorydb", [False, True])
@pytest.mark.parametrize("zones", [2, 4, 6])
def test_every_variant_is_cfn_lint_clean(storage: str, memorydb: bool, zones: int) -> None:
    template = managed_cloud_template(options(zones, storage, memorydb))
    matches = lint(json.dumps(template), config=ManualArgs(regions=["us-west-2"]))
    assert [str(m) for m in matches] == []


def test_the_largest_variant_fits_in_a_template_body_as_setup_sends_it() -> None:
    """`cloud setup` passes `json.dumps(template)` as TemplateBody, which CloudFormation limits to 51,200 bytes."""
    largest = managed_cloud_template(options(zones=6, storage="nfs", memorydb=True))
    assert len(json.dumps(largest).encode()) <= 51_200 - 10_000


def test_one_public_subnet_per_zone_with_its_own_cidr() -> None:
    template = managed_cloud_template(options(zones=4))
    subnets = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::Subnet"]
    assert len(subnets) == 4
    assert len({s["Properties"]["CidrBlock"] for s in subnets}) == 4
    assert all(s["Properties"]["MapPublicIpOnLaunch"] is True for s in subnets)
    assert [p["ParameterValue"] for p in stack_parameters(options(zones=4))] == [
        "us-west-2a",
        "us-west-2b",
        "us-west-2c",
        "us-west-2d",
    ]


def test_subnet_plan_fits_the_vpc() -> None:
    assert subnet_cidrs(3) == ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"]
    assert subnet_cidrs(6)[-1] == "10.0.160.0/19"
    assert len(subnet_cidrs(16)) == 16


def test_every_taggable_resource_carries_the_cloud_id() -> None:
    template = managed_cloud_template(options(memorydb=True))
    for logical_id, resource in template["Resources"].items():
        props = resource["Properties"]
        tags = props.get("Tags") or props.get("FileSystemTags")
        if tags is None:
            continue
        assert {"Key": TAG_KEY, "Value": CLOUD_ID} in tags, logical_id
    tagged_types = {
        r["Type"]
        for r in template["Resources"].values()
        if "Tags" in r["Properties"] or "FileSystemTags" in r["Properties"]
    }
    assert {"AWS::EC2::VPC", "AWS::EC2::Subnet", "AWS::S3::Bucket", "AWS::EFS::FileSystem"} <= tagged_types
    assert {"AWS::IAM::Role", "AWS::MemoryDB::Cluster", "AWS::EC2::SecurityGroup"} <= tagged_types


def test_controlplane_role_trusts_the_principal_only_with_the_external_id() -> None:
    role = managed_cloud_template(options())["Resources"]["ControlPlaneRole"]["Properties"]
    (statement,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": f"{CLOUD_ID}-secret"}}
    assert [p["PolicyName"] for p in role["Policies"]] == [
        policies.STEADY_STATE_POLICY_NAME,
        policies.SERVICE_STEADY_STATE_POLICY_NAME,
        policies.INITIAL_SETUP_POLICY_NAME,
    ]


def test_bucket_is_kept_when_the_stack_goes() -> None:
    bucket = managed_cloud_template(options())["Resources"]["Bucket"]
    assert bucket["DeletionPolicy"] == "Retain"
    public_access = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert all(public_access.values())


def test_storage_and_memorydb_are_optional() -> None:
    plain = managed_cloud_template(options(storage="object-storage"))["Resources"]
    assert not any(r["Type"].startswith("AWS::EFS::") for r in plain.values())
    assert not any(r["Type"].startswith("AWS::MemoryDB::") for r in plain.values())
    full = managed_cloud_template(options(zones=3, memorydb=True))["Resources"]
    assert sum(r["Type"] == "AWS::EFS::MountTarget" for r in full.values()) == 3
    cluster = full["MemoryDbCluster"]["Properties"]
    assert cluster["TLSEnabled"] is True and cluster["NumReplicasPerShard"] == 1
    assert cluster["NodeType"] == "db.t4g.small"
    assert full["MemoryDbParameterGroup"]["Properties"]["Parameters"] == {"maxmemory-policy": "allkeys-lru"}


def test_memorydb_names_the_engine_its_parameter_group_family_is_for() -> None:
    """Left out, Engine and EngineVersion are whatever AWS defaults to at the time, which the fixed family
    may not fit (InvalidParameterCombination)."""
    resources = managed_cloud_template(options(memorydb=True))["Resources"]
    cluster = resources["MemoryDbCluster"]["Properties"]
    family = resources["MemoryDbParameterGroup"]["Properties"]["Family"]
    assert (cluster["Engine"], cluster["EngineVersion"]) == ("redis", "7.1")
    major = cluster["EngineVersion"].split(".")[0]
    assert family == f"memorydb_{cluster['Engine']}{major}"


# Zones as `regions.availability_zones()` reports them in the sandbox (moto's name-to-id mapping).
US_WEST_2 = [
    {"name": "us-west-2a", "id": "usw2-az2"},
    {"name": "us-west-2b", "id": "usw2-az1"},
    {"name": "us-west-2c", "id": "usw2-az3"},
    {"name": "us-west-2d", "id": "usw2-az4"},
]
US_EAST_1 = [
    {"name": "us-east-1a", "id": "use1-az6"},
    {"name": "us-east-1b", "id": "use1-az1"},
    {"name": "us-east-1c", "id": "use1-az2"},
    {"name": "us-east-1d", "id": "use1-az4"},
    {"name": "us-east-1e", "id": "use1-az3"},
    {"name": "us-east-1f", "id": "use1-az5"},
]


def in_region(region: str, zones: list[dict[str, str]], **changes: Any) -> ManagedCloudOptions:
    names = tuple(z["name"] for z in zones)
    chosen = {"memorydb_zones": memorydb_zone_names(region, zones), **changes}
    return dataclasses.replace(options(memorydb=True), availability_zones=names, **chosen)


@pytest.mark.parametrize(
    ("region", "zones", "expected"),
    [
        ("us-west-2", US_WEST_2, ["Subnet0", "Subnet1", "Subnet2"]),  # not us-west-2d (usw2-az4)
        ("us-east-1", US_EAST_1, ["Subnet0", "Subnet2", "Subnet3"]),  # use1-az6, use1-az2, use1-az4
    ],
)
def test_memorydb_subnet_group_takes_only_the_zones_memorydb_runs_in(
    region: str, zones: list[dict[str, str]], expected: list[str]
) -> None:
    template = managed_cloud_template(in_region(region, zones))
    group = template["Resources"]["MemoryDbSubnetGroup"]["Properties"]["SubnetIds"]
    assert group == [{"Ref": subnet} for subnet in expected]
    # Every zone still gets its subnet, EFS mount target and parameter; only MemoryDB is narrowed.
    assert sum(r["Type"] == "AWS::EC2::Subnet" for r in template["Resources"].values()) == len(zones)
    assert sum(r["Type"] == "AWS::EFS::MountTarget" for r in template["Resources"].values()) == len(zones)
    matches = lint(json.dumps(template), config=ManualArgs(regions=[region]))
    assert [str(m) for m in matches] == []


def test_memorydb_zones_left_out_mean_every_zone() -> None:
    group = managed_cloud_template(options(zones=4, memorydb=True))["Resources"]["MemoryDbSubnetGroup"]
    assert len(group["Properties"]["SubnetIds"]) == 4


def test_a_region_without_two_memorydb_zones_is_refused() -> None:
    with pytest.raises(InputError) as error:
        memorydb_zone_names("us-west-2", [US_WEST_2[0], US_WEST_2[3]])
    assert str(error.value).startswith("MemoryDB supports only 1 of the 2 availability zones of us-west-2")
    assert "(us-west-2a = usw2-az2)" in str(error.value) and "needs two" in str(error.value)
    # A template asked for fewer than two MemoryDB zones is a mistake of the caller, not of the user.
    with pytest.raises(ValueError, match="MemoryDB needs two"):
        managed_cloud_template(in_region("us-west-2", US_WEST_2, memorydb_zones=("us-west-2a",)))
