"""The managed-cloud template: cfn-lint clean in every variant, and shaped as the cloud needs."""

from __future__ import annotations

import json

import pytest
from cfnlint.api import ManualArgs, lint

from cloudplane.aws import policies
from cloudplane.aws.template import (
    ManagedCloudOptions,
    managed_cloud_template,
    stack_parameters,
    subnet_cidrs,
)
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
