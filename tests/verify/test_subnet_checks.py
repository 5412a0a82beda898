"""SUB-1..9: one scenario per rule, each breaking one thing of a correct cloud."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks
from tests.verify.builders import BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


def _default_vpc_subnet(ec2: Any) -> str:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["Subnets"]
    return str(subnets[0]["SubnetId"])


def test_sub1_one_subnet(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    report = verify(built.with_resources(subnet_ids=built.subnet_ids[:1]))
    assert_fails(report, "SUB-1", Severity.ERROR, built.subnet_ids[0])
    assert_fails(report, "SUB-4", Severity.ERROR)


def test_sub2_subnet_of_another_vpc(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    stray = _default_vpc_subnet(shared_aws("ec2"))
    report = verify(built.with_resources(subnet_ids=[*built.subnet_ids, stray]))
    (finding,) = assert_fails(report, "SUB-2", Severity.ERROR, stray)
    assert finding.resource_id == stray
    # The stray is not judged by the routing checks of the cloud's VPC.
    assert_passes(report, "SUB-6")


def test_sub2_subnet_does_not_exist(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    ghost = "subnet-0123456789abcdef0"
    report = verify(built.with_resources(subnet_ids=[*built.subnet_ids, ghost]))
    assert_fails(report, "SUB-2", Severity.ERROR, ghost)
    assert_passes(report, "SUB-3")


def test_sub3_small_subnets_warn(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False, subnet_prefix=26)
    report = verify(built.spec)
    found = assert_fails(report, "SUB-3", Severity.WARNING, *built.subnet_ids)
    assert len(found) == len(built.subnet_ids)
    assert report.passed and not report.__class__(report.cloud, report.findings, strict=True).passed


def test_sub4_all_subnets_in_one_zone(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False, azs=1, subnets_per_az=2)
    assert_fails(verify(built.spec), "SUB-4", Severity.ERROR, *built.subnet_ids)


def test_sub5_two_subnets_share_a_zone(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False, subnets_per_az=2)
    report = verify(built.spec)
    found = assert_fails(report, "SUB-5", Severity.ERROR, built.subnet_ids[0], built.subnet_ids[3])
    assert len(found) == 3  # one per shared zone
    assert_passes(report, "SUB-4")


@pytest.mark.parametrize("breakage", ["route-deleted", "association-removed", "route-to-nat"])
def test_sub6_no_internet_gateway_route(
    make_cloud: Make, verify: Verify, shared_aws: Any, breakage: str
) -> None:
    built = make_cloud(efs=False)
    ec2 = shared_aws("ec2")
    if breakage == "route-deleted":
        ec2.delete_route(RouteTableId=built.route_table_id, DestinationCidrBlock="0.0.0.0/0")
        broken = built.subnet_ids
    elif breakage == "association-removed":
        # Without its own association the subnet falls back to the main table, which has no IGW route.
        table = ec2.describe_route_tables(RouteTableIds=[built.route_table_id])["RouteTables"][0]
        association = next(a for a in table["Associations"] if a.get("SubnetId") == built.subnet_ids[1])
        ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])
        broken = built.subnet_ids[1:2]
    else:
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=built.subnet_ids[0], AllocationId=allocation)["NatGateway"]
        ec2.replace_route(
            RouteTableId=built.route_table_id,
            DestinationCidrBlock="0.0.0.0/0",
            NatGatewayId=nat["NatGatewayId"],
        )
        broken = built.subnet_ids
    report = verify(built.spec)
    found = assert_fails(report, "SUB-6", Severity.ERROR, *broken)
    assert {f.resource_id for f in found} == set(broken)
    assert all(built.igw_id in str(f.remediation) for f in found)
    assert {c for c in failed_checks(report) if c != "VPC-5"} == {"SUB-6"}


@pytest.mark.parametrize("private", [False, True], ids=["public-off", "private-on"])
def test_sub7_public_ip_setting(make_cloud: Make, verify: Verify, shared_aws: Any, private: bool) -> None:
    built = make_cloud(efs=False, private=private)
    subnet = built.subnet_ids[2]
    shared_aws("ec2").modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": private})
    report = verify(built.spec)
    (finding,) = assert_fails(report, "SUB-7", Severity.WARNING, subnet)
    assert finding.resource_id == subnet
    assert failed_checks(report) == {"SUB-7"}


@pytest.mark.parametrize("breakage", ["route-to-igw", "route-deleted"])
def test_sub8_private_subnets_need_nat_egress(
    make_cloud: Make, verify: Verify, shared_aws: Any, breakage: str
) -> None:
    built = make_cloud(efs=False, private=True)
    assert_passes(verify(built.spec), "SUB-8")
    ec2 = shared_aws("ec2")
    if breakage == "route-to-igw":
        ec2.replace_route(
            RouteTableId=built.route_table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=built.igw_id
        )
    else:
        ec2.delete_route(RouteTableId=built.route_table_id, DestinationCidrBlock="0.0.0.0/0")
    report = verify(built.spec)
    found = assert_fails(report, "SUB-8", Severity.ERROR, *built.subnet_ids)
    assert {f.resource_id for f in found} == set(built.subnet_ids)
    if breakage == "route-to-igw":
        assert all(built.igw_id in f.message for f in found)


def _subnet_acl(ec2: Any, subnet_id: str) -> dict[str, Any]:
    acls = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}])
    return dict(acls["NetworkAcls"][0])


def test_sub9_acl_denies_https_before_allowing(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    ec2 = shared_aws("ec2")
    acl = _subnet_acl(ec2, built.subnet_ids[0])["NetworkAclId"]
    ec2.create_network_acl_entry(
        NetworkAclId=acl,
        RuleNumber=50,
        Protocol="6",
        RuleAction="deny",
        Egress=False,
        CidrBlock="0.0.0.0/0",
        PortRange={"From": 443, "To": 443},
    )
    report = verify(built.spec)
    (finding,) = assert_fails(report, "SUB-9", Severity.WARNING, acl)
    assert "443" in finding.message and "rule 50" in finding.message
    assert failed_checks(report) == {"SUB-9"}


def test_sub9_custom_acl_without_rules(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    ec2 = shared_aws("ec2")
    subnet = built.subnet_ids[1]
    association = next(
        a["NetworkAclAssociationId"]
        for a in _subnet_acl(ec2, subnet)["Associations"]
        if a["SubnetId"] == subnet
    )
    custom = ec2.create_network_acl(VpcId=built.vpc_id)["NetworkAcl"]["NetworkAclId"]
    ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=custom)
    report = verify(built.spec)
    (finding,) = assert_fails(report, "SUB-9", Severity.WARNING, custom, subnet)
    assert "outbound" in finding.message
