"""Setup with head-node fault tolerance: MemoryDB only in the zones where it runs, two of them or no cloud."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import memorydb_zones
from tests.helpers import cloudplane

Factory = Callable[..., Any]
SETUP = ("cloud", "setup", "--provider", "aws", "--yes", "--enable-head-node-fault-tolerance")


def memorydb_group_zones(aws: Factory, cluster: str, region: str) -> list[str]:
    mdb = aws("memorydb", region_name=region)
    group = mdb.describe_clusters(ClusterName=cluster)["Clusters"][0]["SubnetGroupName"]
    subnets = mdb.describe_subnet_groups(SubnetGroupName=group)["SubnetGroups"][0]["Subnets"]
    return sorted(s["AvailabilityZone"]["Name"] for s in subnets)


def test_us_west_2_keeps_its_zone_without_memorydb_out_of_the_subnet_group(aws: Factory) -> None:
    run = cloudplane(*SETUP, "--name", "ha", "--region", "us-west-2")
    assert run.exit_code == 0, run.stderr + run.stdout
    assert "Verdict: PASSED" in run.stdout
    cloud = cloudplane("cloud", "get", "--name", "ha", "--output", "json").json()
    resources = cloud["resources"]
    subnets = aws("ec2").describe_subnets(SubnetIds=resources["subnet_ids"])["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == [f"us-west-2{z}" for z in "abcd"]
    # us-west-2d is usw2-az4 in the sandbox, a zone MemoryDB does not run in.
    assert memorydb_group_zones(aws, resources["memorydb_cluster_id"], "us-west-2") == [
        f"us-west-2{z}" for z in "abc"
    ]
    verify = cloudplane("cloud", "verify", "--name", "ha", "--strict", "--output", "json")
    assert verify.exit_code == 0, verify.stdout
    assert not [f for f in verify.json()["findings"] if not f["passed"]]


def test_a_region_where_memorydb_runs_in_fewer_than_two_zones_is_refused_before_anything_is_made(
    aws: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every region the sandbox knows has two MemoryDB zones or more (or is not in the list, which allows
    # every zone), so the list is narrowed here: us-west-2 as if MemoryDB ran only in usw2-az1 (us-west-2b).
    monkeypatch.setitem(memorydb_zones.SUPPORTED_ZONE_IDS, "us-west-2", frozenset({"usw2-az1"}))
    run = cloudplane(*SETUP, "--name", "ha", "--region", "us-west-2")
    assert run.exit_code == 2
    (error,) = [line for line in run.stderr.splitlines() if not line.startswith("(cloudplane")]
    assert error.startswith("error: ")
    assert "MemoryDB supports only 1 of the 4 availability zones of us-west-2" in error
    assert "(us-west-2b = usw2-az1)" in error and "needs two" in error
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert aws("cloudformation").list_stacks()["StackSummaries"] == []
    assert [v for v in aws("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")] == []
    # Without head-node fault tolerance the same region is fine.
    assert cloudplane(*SETUP[:-1], "--name", "plain", "--region", "us-west-2").exit_code == 0


def test_a_region_cloudplane_does_not_know_takes_every_zone_with_a_warning(aws: Factory) -> None:
    # eu-south-2 has MemoryDB (in the sandbox too) but is not in cloudplane's list.
    run = cloudplane(*SETUP, "--name", "ha", "--region", "eu-south-2")
    assert run.exit_code == 0, run.stderr + run.stdout
    assert "does not know which availability zones MemoryDB supports in eu-south-2" in run.stderr
    cloud = cloudplane("cloud", "get", "--name", "ha", "--output", "json").json()
    assert memorydb_group_zones(aws, cloud["resources"]["memorydb_cluster_id"], "eu-south-2") == [
        f"eu-south-2{z}" for z in "abc"
    ]


def test_an_unknown_region_without_memorydb_fails_in_the_stack_and_leaves_nothing(aws: Factory) -> None:
    run = cloudplane(*SETUP, "--name", "ha", "--region", "af-south-1")
    assert run.exit_code == 1
    assert "MemoryDB is not available in region af-south-1" in run.stderr
    assert "Nothing is left in AWS" in run.stderr
    stacks = aws("cloudformation", region_name="af-south-1").list_stacks()["StackSummaries"]
    assert all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks)
    vpcs = aws("ec2", region_name="af-south-1").describe_vpcs()["Vpcs"]
    assert [v for v in vpcs if not v.get("IsDefault")] == []
