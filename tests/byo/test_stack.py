"""The printed template applied in the sandbox: the stack completes and its resources pass every rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws.session import AwsClients
from cloudplane.cloud import PRIVATE, PUBLIC
from cloudplane.verify import verify_cloud
from tests.byo.stacks import apply, outputs, print_template, spec_from_stack, stack_key, wait

MEMORYDB = ("--enable-head-node-fault-tolerance", "--region", "us-west-2")
VARIANTS = [
    pytest.param((), PUBLIC, id="public"),
    pytest.param((*MEMORYDB, "--no-efs"), PUBLIC, id="public-memorydb-no-efs"),
    pytest.param(("--private-network",), PRIVATE, id="private-per-az"),
    pytest.param(
        ("--private-network", "--nat-gateways", "single", *MEMORYDB),
        PRIVATE,
        id="private-single-memorydb",
    ),
]


def failed_findings(stack: dict[str, Any], networking: str) -> list[str]:
    report = verify_cloud(spec_from_stack(stack, networking), AwsClients("us-west-2"), strict=True)
    assert report.passed
    return [f"{f.check}: {f.message}" for f in report.findings if not f.passed]


@pytest.mark.parametrize(("flags", "networking"), VARIANTS)
def test_stack_passes_every_rule_strictly(
    aws: Callable[..., Any], flags: tuple[str, ...], networking: str
) -> None:
    stack = apply(aws, print_template(*flags))
    assert failed_findings(stack, networking) == []
    found = outputs(stack)
    assert found["CloudName"] == f"cloud-{stack_key(stack)}"  # no --name: never the stack's own name
    assert ("FileSystemId" in found) == ("--no-efs" not in flags)
    assert ("MemoryDbClusterName" in found) == ("--enable-head-node-fault-tolerance" in flags)
    assert found["RegisterCommand"].startswith(
        f"cloudplane cloud register --provider aws --name {found['CloudName']} --region us-west-2 "
    )


def test_memorydb_in_every_zone_of_us_west_2_keeps_us_west_2d_out_of_its_subnet_group(
    aws: Callable[..., Any],
) -> None:
    stack = apply(aws, print_template(*MEMORYDB, "--zone-count", "4", "--no-efs"))
    assert failed_findings(stack, PUBLIC) == []
    found = outputs(stack)
    subnets = aws("ec2").describe_subnets(SubnetIds=found["SubnetIds"].split(","))["Subnets"]
    assert sorted(s["AvailabilityZone"] for s in subnets) == [f"us-west-2{z}" for z in "abcd"]
    cluster = aws("memorydb").describe_clusters(ClusterName=found["MemoryDbClusterName"])["Clusters"][0]
    group = aws("memorydb").describe_subnet_groups(SubnetGroupName=cluster["SubnetGroupName"])[
        "SubnetGroups"
    ][0]
    assert sorted(s["AvailabilityZone"]["Name"] for s in group["Subnets"]) == [f"us-west-2{z}" for z in "abc"]


def _nat_by_subnet(ec2: Any, vpc_id: str) -> dict[str, str]:
    """Cluster subnet -> the NAT gateway its default route uses."""
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    found = {}
    for table in tables:
        nat = next((r["NatGatewayId"] for r in table["Routes"] if r.get("NatGatewayId")), None)
        for association in table["Associations"]:
            if nat and association.get("SubnetId"):
                found[association["SubnetId"]] = nat
    return found


def test_private_nat_gateway_per_zone_and_a_clean_delete(aws: Callable[..., Any]) -> None:
    ec2 = aws("ec2")
    stack = apply(aws, print_template("--private-network", "--name", "private-one"))
    found = outputs(stack)
    subnets = found["SubnetIds"].split(",")
    nats = found["NatGatewayIds"].split(",")
    assert len(nats) == 3 and _nat_by_subnet(ec2, found["VpcId"]) == dict(zip(subnets, nats, strict=True))
    described = ec2.describe_nat_gateways(NatGatewayIds=nats)["NatGateways"]
    zones = {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.describe_subnets()["Subnets"]}
    assert [zones[n["SubnetId"]] for n in described] == [zones[s] for s in subnets]  # one per zone
    assert all(not s["MapPublicIpOnLaunch"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"])

    cfn = aws("cloudformation")
    cfn.delete_stack(StackName="byo")
    assert wait(cfn, stack["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    assert ec2.describe_vpcs(Filters=[{"Name": "vpc-id", "Values": [found["VpcId"]]}])["Vpcs"] == []
    assert ec2.describe_addresses()["Addresses"] == []
    assert [b["Name"] for b in aws("s3").list_buckets()["Buckets"]] == [
        found["BucketName"]
    ]  # kept on purpose
