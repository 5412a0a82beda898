"""MDB-1..6: one scenario per rule, each breaking one thing of the head-node fault-tolerance cluster."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, failed_checks
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
