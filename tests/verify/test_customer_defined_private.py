"""Customer-defined clouds with private networking: the whole rule set, one scenario per rule.

The rules of both modes come from the public tests' COMMON scenarios, run here on private clouds
(NAT gateways in small public subnets, private subnets without public addresses). The rules of
private networking only are here: egress through a NAT gateway that itself reaches the internet
(SUB-8), and network ACLs that need no inbound HTTPS from the internet (SUB-9).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CUSTOMER_DEFINED, PUBLIC
from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks
from tests.verify.builders import BuiltCloud
from tests.verify.test_customer_defined_public import (
    COMMON,
    EFS_CHECKS,
    MDB_CHECKS,
    PRIVATE,
    Broken,
    Kit,
    Scenario,
    association_id,
    for_mode,
    main_table,
    run_scenario,
    scenario,
)

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]

EXPECTED_CHECKS = (
    {f"VPC-{n}" for n in (1, 2, 3, 5)}
    | {f"SUB-{n}" for n in (1, 2, 3, 4, 7, 8, 9)}
    | {f"SG-{n}" for n in range(1, 7)}
    | {f"IAM-{n}" for n in range(1, 12)}
    | {f"S3-{n}" for n in range(1, 6)}
    | {"QUOTA-2", "QUOTA-3"}
)

PRIVATE_ONLY: list[Scenario] = []


def _replace_default_route(kit: Kit, table: str, **target: str) -> None:
    kit.ec2.replace_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", **target)


@scenario(PRIVATE_ONLY, "SUB-8-route-to-internet-gateway", "SUB-8", Severity.ERROR)
def _route_to_igw(built: BuiltCloud, kit: Kit) -> Broken:
    table, subnet, nat = built.route_table_id, built.subnet_ids[1], built.nat_gateway_ids[0]
    _replace_default_route(kit, table, GatewayId=built.igw_id)
    fix = f"replace-route --route-table-id {table} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id {nat}"
    return Broken(built.spec, subnet, (fix,), (f"its route table {table} sends 0.0.0.0/0 to {built.igw_id}",))


@scenario(PRIVATE_ONLY, "SUB-8-no-default-route", "SUB-8", Severity.ERROR)
def _no_route(built: BuiltCloud, kit: Kit) -> Broken:
    table, nat = built.route_table_id, built.nat_gateway_ids[0]
    kit.ec2.delete_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0")
    fix = f"create-route --route-table-id {table} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id {nat}"
    return Broken(
        built.spec, built.subnet_ids[0], (fix,), (f"its route table {table} has no 0.0.0.0/0 route",)
    )


@scenario(PRIVATE_ONLY, "SUB-8-main-table-fallback", "SUB-8", Severity.ERROR)
def _fallback(built: BuiltCloud, kit: Kit) -> Broken:
    # Without an association of its own the subnet uses the main table, which has no route out.
    subnet, table = built.subnet_ids[2], built.route_table_id
    kit.ec2.disassociate_route_table(AssociationId=association_id(kit, table, subnet))
    main = main_table(kit, built.vpc_id)
    return Broken(
        built.spec,
        subnet,
        (f"associate-route-table --subnet-id {subnet} --route-table-id {table}", f"--route-table-id {main}"),
        (f"main route table {main}",),
        also=frozenset({"VPC-5"}),  # the S3 endpoint does not serve the main table either
    )


@scenario(PRIVATE_ONLY, "SUB-8-nat-gateway-deleted", "SUB-8", Severity.ERROR, nat_per_zone=True)
def _nat_deleted(built: BuiltCloud, kit: Kit) -> Broken:
    # One NAT gateway per zone: only the first zone's subnet loses its way out, and the fix names
    # a NAT gateway that still works.
    kit.ec2.delete_nat_gateway(NatGatewayId=built.nat_gateway_ids[0])
    table = built.route_table_ids[0]  # the first zone's table, holding subnet_ids[0]
    fix = f"replace-route --route-table-id {table} --destination-cidr-block 0.0.0.0/0 --nat-gateway-id nat-"
    return Broken(
        built.spec, built.subnet_ids[0], (fix,), (f"NAT gateway {built.nat_gateway_ids[0]} is deleted",)
    )


@scenario(PRIVATE_ONLY, "SUB-8-nat-gateway-without-internet-route", "SUB-8", Severity.ERROR)
def _nat_stranded(built: BuiltCloud, kit: Kit) -> Broken:
    # The NAT gateway's own subnet lost its route to the internet gateway.
    public_table, nat = str(built.public_route_table_id), built.nat_gateway_ids[0]
    kit.ec2.delete_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0")
    fix = f"create-route --route-table-id {public_table} --destination-cidr-block 0.0.0.0/0 --gateway-id {built.igw_id}"
    return Broken(
        built.spec,
        built.subnet_ids[0],
        (fix,),
        (nat, built.public_subnet_ids[0], "cannot reach the internet"),
    )


@scenario(PRIVATE_ONLY, "SUB-8-private-nat-gateway", "SUB-8", Severity.ERROR)
def _private_nat(built: BuiltCloud, kit: Kit) -> Broken:
    private_nat = kit.ec2.create_nat_gateway(SubnetId=built.public_subnet_ids[0], ConnectivityType="private")
    private_id = private_nat["NatGateway"]["NatGatewayId"]
    _replace_default_route(kit, built.route_table_id, NatGatewayId=private_id)
    fix = f"--nat-gateway-id {built.nat_gateway_ids[0]}"
    return Broken(built.spec, built.subnet_ids[0], (fix,), (private_id, "private NAT gateway"))


SCENARIOS = for_mode(COMMON, PRIVATE) + PRIVATE_ONLY


@pytest.mark.parametrize(
    ("nat_per_zone", "extras"),
    [(False, False), (True, True)],
    ids=["shared-nat", "nat-per-zone-efs-memorydb"],
)
def test_correct_cloud_passes(make_cloud: Make, verify: Verify, nat_per_zone: bool, extras: bool) -> None:
    built = make_cloud(
        deployment=CUSTOMER_DEFINED, private=True, nat_per_zone=nat_per_zone, efs=extras, memorydb=extras
    )
    assert built.stack_id is None and len(built.nat_gateway_ids) == (3 if nat_per_zone else 1)
    report = verify(built.spec, strict=False)
    assert {f.check for f in report.findings} == EXPECTED_CHECKS | (
        EFS_CHECKS | MDB_CHECKS if extras else set()
    )
    assert [(f.check, f.message) for f in report.findings if not f.passed] == []
    assert report.passed and report.cloud["networking"] == "private"


@pytest.mark.parametrize("item", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_rule(item: Scenario, make_cloud: Make, shared_aws: Any, sandbox: Any, clients: AwsClients) -> None:
    run_scenario(item, True, make_cloud, shared_aws, sandbox, clients)


def test_sub8_transit_gateway_is_an_egress_target(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(deployment=CUSTOMER_DEFINED, private=True, efs=False)
    ec2 = shared_aws("ec2")
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw, VpcId=built.vpc_id, SubnetIds=built.subnet_ids[:1]
    )
    ec2.replace_route(
        RouteTableId=built.route_table_id, DestinationCidrBlock="0.0.0.0/0", TransitGatewayId=tgw
    )
    report = verify(built.spec)
    assert_passes(report, "SUB-8")
    assert failed_checks(report) == set()


def test_sub9_private_acl_needs_no_https_from_the_internet(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    """Only the VPC reaches a private cloud on 443; return traffic from anywhere must still come in."""
    built = make_cloud(deployment=CUSTOMER_DEFINED, private=True, efs=False)
    ec2 = shared_aws("ec2")
    acl = ec2.create_network_acl(VpcId=built.vpc_id)["NetworkAcl"]["NetworkAclId"]
    for number, egress, protocol, cidr, ports in (
        (100, False, "-1", "10.0.0.0/16", None),
        (110, False, "6", "0.0.0.0/0", (1024, 65535)),
        (100, True, "-1", "0.0.0.0/0", None),
    ):
        extra = {"PortRange": {"From": ports[0], "To": ports[1]}} if ports else {}
        ec2.create_network_acl_entry(
            NetworkAclId=acl,
            RuleNumber=number,
            Protocol=protocol,
            RuleAction="allow",
            Egress=egress,
            CidrBlock=cidr,
            **extra,
        )
    for subnet in built.subnet_ids:
        current = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])
        association = next(
            a["NetworkAclAssociationId"]
            for a in current["NetworkAcls"][0]["Associations"]
            if a["SubnetId"] == subnet
        )
        ec2.replace_network_acl_association(AssociationId=association, NetworkAclId=acl)
    assert_passes(verify(built.spec), "SUB-9")
    # The same ACL is wrong for a public cloud, whose users come from the internet.
    (finding,) = assert_fails(verify(built.with_spec(networking=PUBLIC)), "SUB-9", Severity.WARNING, acl)
    assert "inbound TCP 443 from 0.0.0.0/0 is not allowed" in finding.message
    assert "--port-range From=443,To=443 --cidr-block 0.0.0.0/0" in str(finding.remediation)
