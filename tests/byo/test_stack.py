"""The printed template applied in the sandbox: the stack completes and its resources pass every rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws.session import AwsClients
from cloudplane.cloud import PRIVATE, PUBLIC
from cloudplane.verify import verify_cloud
from tests.byo.stacks import apply, outputs, print_template, spec_from_stack, wait

VARIANTS = [
    pytest.param((), PUBLIC, id="public"),
    pytest.param(("--enable-head-node-fault-tolerance", "--no-efs"), PUBLIC, id="public-memorydb-no-efs"),
    pytest.param(("--private-network",), PRIVATE, id="private-per-az"),
    pytest.param(
        ("--private-network", "--nat-gateways", "single", "--enable-head-node-fault-tolerance"),
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
    assert found["CloudName"] == "byo"  # no --name: the stack's name
    assert ("FileSystemId" in found) == ("--no-efs" not in flags)
    assert ("MemoryDbClusterName" in found) == ("--enable-head-node-fault-tolerance" in flags)
    assert found["RegisterCommand"].startswith(
        "cloudplane cloud register --provider aws --name byo --region us-west-2 "
    )


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
