"""VPC-1..5: one scenario per rule, each breaking one thing of a correct cloud."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks
from tests.verify.builders import REGION, BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


def test_vpc1_missing_vpc_fails_and_dependent_checks_skip(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    report = verify(built.with_resources(vpc_id="vpc-0badc0ffee0000000"))
    assert_fails(report, "VPC-1", Severity.ERROR, "vpc-0badc0ffee0000000")
    assert [f.check for f in report.findings if f.resource == "vpc"] == ["VPC-1"]


def test_vpc1_no_vpc_recorded(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    assert_fails(verify(built.with_resources(vpc_id=None)), "VPC-1", Severity.ERROR)


@pytest.mark.parametrize(
    ("vpc_cidr", "subnet_prefix", "severity"),
    [("10.0.0.0/25", 27, Severity.ERROR), ("10.0.0.0/22", 24, Severity.WARNING)],
    ids=["below-floor", "below-recommendation"],
)
def test_vpc2_small_cidr(
    make_cloud: Make, verify: Verify, vpc_cidr: str, subnet_prefix: int, severity: Severity
) -> None:
    built = make_cloud(efs=False, vpc_cidr=vpc_cidr, subnet_prefix=subnet_prefix)
    assert_fails(verify(built.spec), "VPC-2", severity, built.vpc_id, vpc_cidr)


@pytest.mark.parametrize("attribute", ["EnableDnsHostnames", "EnableDnsSupport"])
def test_vpc3_dns_attribute_off(make_cloud: Make, verify: Verify, shared_aws: Any, attribute: str) -> None:
    built = make_cloud(efs=False)
    shared_aws("ec2").modify_vpc_attribute(VpcId=built.vpc_id, **{attribute: {"Value": False}})
    report = verify(built.spec)
    (finding,) = assert_fails(report, "VPC-3", Severity.WARNING, built.vpc_id)
    assert f"--enable-dns-{'hostnames' if 'Hostnames' in attribute else 'support'}" in str(
        finding.remediation
    )
    assert report.passed and failed_checks(report) == {"VPC-3"}


def test_vpc4_internet_gateway_detached(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    shared_aws("ec2").detach_internet_gateway(InternetGatewayId=built.igw_id, VpcId=built.vpc_id)
    (finding,) = assert_fails(verify(built.spec), "VPC-4", Severity.ERROR, built.vpc_id)
    assert "attach-internet-gateway" in str(finding.remediation)


def test_vpc5_s3_endpoint_removed(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    shared_aws("ec2").delete_vpc_endpoints(VpcEndpointIds=[built.endpoint_id])
    report = verify(built.spec)
    (finding,) = assert_fails(report, "VPC-5", Severity.WARNING, built.vpc_id)
    assert f"com.amazonaws.{REGION}.s3" in str(finding.remediation)
    assert failed_checks(report) == {"VPC-5"}


def test_vpc5_endpoint_misses_a_route_table(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    ec2 = shared_aws("ec2")
    table = ec2.create_route_table(VpcId=built.vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=built.igw_id)
    tables = ec2.describe_route_tables(RouteTableIds=[built.route_table_id])["RouteTables"]
    association = next(a for a in tables[0]["Associations"] if a.get("SubnetId") == built.subnet_ids[0])
    ec2.replace_route_table_association(
        AssociationId=association["RouteTableAssociationId"], RouteTableId=table
    )
    report = verify(built.spec)
    assert_fails(report, "VPC-5", Severity.WARNING, table, built.subnet_ids[0])
    assert_passes(report, "SUB-6")
