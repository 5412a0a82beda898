"""MDB-1..6: one scenario per rule, each breaking one thing of the head-node fault-tolerance cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import memorydb_zones
from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks
from tests.verify.builders import BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


def _another_cluster(mdb: Any, built: BuiltCloud, suffix: str, **overrides: Any) -> str:
    """A second cluster like the cloud's, with some settings changed."""
    name = f"{built.cluster}-{suffix}"
    options = {
        "ClusterName": name,
        "NodeType": "db.t4g.small",
        "ACLName": "open-access",
        "SubnetGroupName": f"{built.cloud_id.replace('_', '-')}-subnets",
        "SecurityGroupIds": [built.sg_id],
        "TLSEnabled": True,
        "NumReplicasPerShard": 1,
        "ParameterGroupName": str(built.parameter_group),
    }
    mdb.create_cluster(**{**options, **overrides})
    return name


def test_mdb1_cluster_missing(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    report = verify(built.with_resources(memorydb_cluster_id="no-such-cluster"))
    assert_fails(report, "MDB-1", Severity.ERROR, "no-such-cluster")
    assert not report.passed
    assert [f.check for f in report.findings if f.resource == "memorydb"] == ["MDB-1"]


def test_mdb2_cluster_in_another_vpc(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False, memorydb=True)
    ec2, mdb = shared_aws("ec2"), shared_aws("memorydb")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [default_vpc]}])["Subnets"]
    group = f"{built.cluster}-elsewhere"
    mdb.create_subnet_group(SubnetGroupName=group, SubnetIds=[s["SubnetId"] for s in subnets[:2]])
    other = _another_cluster(mdb, built, "b", SubnetGroupName=group)
    found = assert_fails(
        verify(built.with_resources(memorydb_cluster_id=other)), "MDB-2", Severity.ERROR, other
    )
    assert any(default_vpc in f.message for f in found) and any(
        subnets[0]["SubnetId"] in f.message for f in found
    )


def test_mdb2_a_cloud_zone_memorydb_does_not_run_in_stays_out_of_the_subnet_group(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    """The managed cloud's shape in us-west-2: a subnet in every zone, MemoryDB in three of them."""
    built = make_cloud(efs=False, memorydb=False, azs=4)
    mdb = shared_aws("memorydb")
    parameters = f"{built.cloud_id.replace('_', '-')}-params"
    mdb.create_parameter_group(ParameterGroupName=parameters, Family="memorydb_redis7")
    mdb.update_parameter_group(
        ParameterGroupName=parameters,
        ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}],
    )
    group = f"{built.cloud_id.replace('_', '-')}-subnets"
    mdb.create_subnet_group(SubnetGroupName=group, SubnetIds=built.subnet_ids[:3])  # a, b, c
    with pytest.raises(mdb.exceptions.ClientError, match="us-west-2d, usw2-az4"):
        mdb.create_subnet_group(SubnetGroupName=f"{group}-all", SubnetIds=built.subnet_ids)
    mdb.create_cluster(
        ClusterName=f"{group}-ha",
        NodeType="db.t4g.small",
        ACLName="open-access",
        SubnetGroupName=group,
        SecurityGroupIds=[built.sg_id],
        TLSEnabled=True,
        NumReplicasPerShard=1,
        ParameterGroupName=parameters,
    )
    report = verify(built.with_resources(memorydb_cluster_id=f"{group}-ha"))
    assert_passes(report, "MDB-2")
    assert failed_checks(report) == set()


def test_mdb2_subnet_in_a_zone_memorydb_does_not_run_in(
    make_cloud: Make, verify: Verify, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS refuses such a subnet group, so one exists only where AWS accepted a zone cloudplane's list
    leaves out (AWS now lists usw2-az4 for MemoryDB, for one). The group is made while the sandbox's list,
    which is cloudplane's, includes us-west-2d's usw2-az4; the verifier then judges it by the list as shipped."""
    shipped = memorydb_zones.SUPPORTED_ZONE_IDS["us-west-2"]
    with monkeypatch.context() as patch:
        patch.setitem(memorydb_zones.SUPPORTED_ZONE_IDS, "us-west-2", shipped | {"usw2-az4"})
        built = make_cloud(efs=False, memorydb=True, azs=4)
    zone_d = built.subnet_ids[3]
    report = verify(built.spec)
    (finding,) = assert_fails(report, "MDB-2", Severity.WARNING, zone_d, "us-west-2d (usw2-az4)")
    assert finding.resource_id == zone_d
    assert " ".join(built.subnet_ids[:3]) in str(finding.remediation)
    assert report.passed and failed_checks(report) == {"MDB-2"}


def test_mdb3_cluster_without_the_cloud_group(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False, memorydb=True)
    group = shared_aws("ec2").create_security_group(
        GroupName="cache", Description="cache", VpcId=built.vpc_id
    )
    other = _another_cluster(shared_aws("memorydb"), built, "c", SecurityGroupIds=[group["GroupId"]])
    report = verify(built.with_resources(memorydb_cluster_id=other))
    assert_fails(report, "MDB-3", Severity.WARNING, other, group["GroupId"])
    assert report.passed and failed_checks(report) == {"MDB-3"}


def test_mdb4_tls_disabled(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False, memorydb=True, memorydb_tls=False)
    report = verify(built.spec)
    assert_fails(report, "MDB-4", Severity.ERROR, str(built.cluster))
    assert not report.passed and failed_checks(report) == {"MDB-4"}


def test_mdb5_shard_without_replica(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False, memorydb=True)
    shared_aws("memorydb").update_cluster(ClusterName=built.cluster, ReplicaConfiguration={"ReplicaCount": 0})
    report = verify(built.spec)
    (finding,) = assert_fails(report, "MDB-5", Severity.ERROR, str(built.cluster))
    assert "1 node" in finding.message
    assert failed_checks(report) == {"MDB-5"}


def test_mdb6_wrong_eviction_policy(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False, memorydb=True)
    shared_aws("memorydb").update_parameter_group(
        ParameterGroupName=built.parameter_group,
        ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "volatile-lru"}],
    )
    report = verify(built.spec)
    (finding,) = assert_fails(report, "MDB-6", Severity.ERROR, str(built.cluster), "volatile-lru")
    assert "allkeys-lru" in str(finding.remediation)
    assert failed_checks(report) == {"MDB-6"}
