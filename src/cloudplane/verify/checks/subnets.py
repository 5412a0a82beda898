"""SUB-1..9: enough subnets, in the VPC, large enough, across zones, routed and filtered correctly."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterator

from cloudplane.cloud import PRIVATE, PUBLIC
from cloudplane.verify.context import Item, VerifyContext
from cloudplane.verify.network import (
    ALL,
    ANYWHERE,
    TCP,
    Traffic,
    acl_blocker,
    default_route,
    is_internet_gateway_route,
    is_private_egress_route,
    route_target,
)
from cloudplane.verify.outcome import Outcome, fail, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "subnets"


def _found(ctx: VerifyContext) -> list[Item]:
    """The cloud's subnets that exist, in the order the cloud lists them; skip the check if none."""
    subnets = ctx.subnets()
    found = [subnets[i] for i in ctx.res.subnet_ids if i in subnets]
    if not found:
        require(None)
    return found


def _in_vpc(ctx: VerifyContext) -> list[Item]:
    return [s for s in _found(ctx) if s["VpcId"] == ctx.res.vpc_id]


@check("SUB-1", GROUP, Severity.ERROR)
def subnet_count(ctx: VerifyContext) -> Iterator[Outcome]:
    ids = ctx.res.subnet_ids
    joined = ", ".join(ids) or None
    if len(set(ids)) < 2:
        yield fail(
            f"The cloud lists {len(set(ids))} subnet(s) ({joined or 'none'}); at least two are needed "
            "(load balancers span two zones).",
            joined,
            "Add a second subnet in another availability zone of the VPC to the cloud's subnets.",
        )
    else:
        yield ok(f"The cloud lists {len(set(ids))} subnets.", joined)


@check("SUB-2", GROUP, Severity.ERROR)
def subnet_in_vpc(ctx: VerifyContext) -> Iterator[Outcome]:
    if not ctx.res.subnet_ids:
        return
    subnets = ctx.subnets()
    vpc_id = ctx.res.vpc_id
    bad = False
    for subnet_id in ctx.res.subnet_ids:
        subnet = subnets.get(subnet_id)
        if subnet is None:
            bad = True
            yield fail(
                f"Subnet {subnet_id} does not exist in region {ctx.aws.region}.",
                subnet_id,
                "Check the subnet id and that your credentials and region are the cloud's, "
                "or replace it with an existing subnet of the VPC.",
            )
        elif subnet["VpcId"] != vpc_id:
            bad = True
            yield fail(
                f"Subnet {subnet_id} is in VPC {subnet['VpcId']}, not in the cloud's VPC {vpc_id}.",
                subnet_id,
                f"Replace {subnet_id} with a subnet of VPC {vpc_id}.",
            )
    if not bad:
        yield ok(f"All {len(ctx.res.subnet_ids)} subnets exist in VPC {vpc_id}.", vpc_id)


@check("SUB-3", GROUP, Severity.ERROR)
def subnet_size(ctx: VerifyContext) -> Iterator[Outcome]:
    small = False
    for subnet in _found(ctx):
        subnet_id, cidr = subnet["SubnetId"], subnet["CidrBlock"]
        prefix = ipaddress.ip_network(cidr).prefixlen
        if prefix > 28:
            small = True
            yield fail(
                f"Subnet {subnet_id} has CIDR {cidr} (/{prefix}); at least /28 (16 addresses) is required.",
                subnet_id,
                "Use subnets of /28 or larger, ideally /24 or larger.",
            )
        elif prefix > 24:
            small = True
            yield fail(
                f"Subnet {subnet_id} has CIDR {cidr} (/{prefix}); /24 or larger is recommended so "
                "clusters do not run out of addresses.",
                subnet_id,
                "Use subnets of /24 or larger (256 addresses).",
                Severity.WARNING,
            )
    if not small:
        yield ok("Every subnet is /24 or larger.", ", ".join(ctx.res.subnet_ids))


@check("SUB-4", GROUP, Severity.ERROR)
def subnet_zones(ctx: VerifyContext) -> Iterator[Outcome]:
    found = _found(ctx)
    zones = sorted({s["AvailabilityZone"] for s in found})
    ids = ", ".join(s["SubnetId"] for s in found)
    if len(zones) < 2:
        yield fail(
            f"Subnets {ids} are all in availability zone {', '.join(zones)}; at least two zones are needed.",
            ids,
            "Add a subnet in a second availability zone of the VPC.",
        )
    else:
        yield ok(f"Subnets span {len(zones)} availability zones: {', '.join(zones)}.", ids)


@check("SUB-5", GROUP, Severity.ERROR, networking=(PUBLIC,))
def subnet_unique_zones(ctx: VerifyContext) -> Iterator[Outcome]:
    by_zone: dict[str, list[str]] = defaultdict(list)
    for subnet in _found(ctx):
        by_zone[subnet["AvailabilityZone"]].append(subnet["SubnetId"])
    shared = {zone: ids for zone, ids in by_zone.items() if len(ids) > 1}
    for zone, ids in sorted(shared.items()):
        yield fail(
            f"Subnets {', '.join(ids)} share availability zone {zone}; a public load balancer takes one "
            "subnet per zone.",
            ", ".join(ids),
            f"Keep one subnet per zone: drop {', '.join(ids[1:])} from the cloud or use a subnet in another zone.",
        )
    if not shared:
        yield ok("Each subnet is in its own availability zone.")


def _add_route(table_id: str, target: str) -> str:
    return (
        f"aws ec2 create-route --route-table-id {table_id} --destination-cidr-block 0.0.0.0/0 "
        f"--{'gateway-id' if target.startswith('igw-') else 'nat-gateway-id'} {target}"
    )


@check("SUB-6", GROUP, Severity.ERROR, networking=(PUBLIC,))
def subnet_igw_route(ctx: VerifyContext) -> Iterator[Outcome]:
    igw = next((g["InternetGatewayId"] for g in ctx.internet_gateways()), "<igw-id>")
    bad = False
    for subnet in _in_vpc(ctx):
        subnet_id = subnet["SubnetId"]
        table, explicit = ctx.route_table_for(subnet)
        if table is None:
            bad = True
            yield fail(
                f"Subnet {subnet_id} has no route table (neither its own nor a main table of the VPC).",
                subnet_id,
                f"Associate a route table with a 0.0.0.0/0 route to {igw}: aws ec2 associate-route-table "
                f"--subnet-id {subnet_id} --route-table-id <rtb-id>.",
            )
            continue
        table_id = table["RouteTableId"]
        which = "its route table" if explicit else "the VPC's main route table"
        route = default_route(table)
        if route is not None and is_internet_gateway_route(route) and route.get("State") != "blackhole":
            continue
        bad = True
        if route is None:
            problem = "has no 0.0.0.0/0 route"
            fix = _add_route(table_id, igw)
        elif route.get("State") == "blackhole":
            problem = f"sends 0.0.0.0/0 to {route_target(route)}, which no longer exists (blackhole)"
            fix = f"aws ec2 replace-route --route-table-id {table_id} --destination-cidr-block 0.0.0.0/0 --gateway-id {igw}"
        else:
            problem = f"sends 0.0.0.0/0 to {route_target(route)}, not to an internet gateway"
            fix = f"aws ec2 replace-route --route-table-id {table_id} --destination-cidr-block 0.0.0.0/0 --gateway-id {igw}"
        yield fail(
            f"Subnet {subnet_id}: {which} {table_id} {problem}; a public subnet needs a route to an "
            "internet gateway.",
            subnet_id,
            fix,
        )
    if not bad:
        yield ok("Every subnet routes 0.0.0.0/0 to an internet gateway.", ", ".join(ctx.res.subnet_ids))


@check("SUB-7", GROUP, Severity.WARNING)
def subnet_public_ip(ctx: VerifyContext) -> Iterator[Outcome]:
    want = not ctx.spec.is_private
    bad = False
    for subnet in _found(ctx):
        if bool(subnet.get("MapPublicIpOnLaunch")) == want:
            continue
        bad = True
        subnet_id = subnet["SubnetId"]
        if want:
            yield fail(
                f"Subnet {subnet_id} does not auto-assign public IPv4 addresses; nodes in a public cloud "
                "need one to be reached.",
                subnet_id,
                f"aws ec2 modify-subnet-attribute --subnet-id {subnet_id} --map-public-ip-on-launch",
            )
        else:
            yield fail(
                f"Subnet {subnet_id} auto-assigns public IPv4 addresses, but the cloud uses private networking.",
                subnet_id,
                f"aws ec2 modify-subnet-attribute --subnet-id {subnet_id} --no-map-public-ip-on-launch "
                "(or use public networking for this cloud).",
            )
    if not bad:
        state = "on" if want else "off"
        yield ok(f"Auto-assign public IPv4 is {state} on every subnet.", ", ".join(ctx.res.subnet_ids))


@check("SUB-8", GROUP, Severity.ERROR, networking=(PRIVATE,))
def subnet_private_egress(ctx: VerifyContext) -> Iterator[Outcome]:
    bad = False
    for subnet in _in_vpc(ctx):
        subnet_id = subnet["SubnetId"]
        table, explicit = ctx.route_table_for(subnet)
        route = default_route(table) if table else None
        if route is not None and is_private_egress_route(route) and route.get("State") != "blackhole":
            continue
        bad = True
        table_id = table["RouteTableId"] if table else "<rtb-id>"
        which = "its route table" if explicit else "the VPC's main route table"
        if table is None:
            problem = "has no route table"
        elif route is None:
            problem = f"{which} {table_id} has no 0.0.0.0/0 route"
        elif route.get("State") == "blackhole":
            problem = f"{which} {table_id} sends 0.0.0.0/0 to {route_target(route)}, which no longer exists"
        else:
            problem = f"{which} {table_id} sends 0.0.0.0/0 to {route_target(route)} (an internet gateway)"
        yield fail(
            f"Subnet {subnet_id}: {problem}; a private subnet needs egress through a NAT gateway, "
            "transit gateway or another egress appliance.",
            subnet_id,
            f"Route 0.0.0.0/0 through a NAT gateway in a public subnet: {_add_route(table_id, '<nat-id>')}"
            + (" (replace the internet gateway route first)" if route is not None else ""),
        )
    if not bad:
        yield ok("Every subnet routes 0.0.0.0/0 to a private egress target.", ", ".join(ctx.res.subnet_ids))


def _required_traffic(vpc_cidr: str) -> list[Traffic]:
    return [
        Traffic("inbound TCP 443 from 0.0.0.0/0", False, TCP, (443, 443), ANYWHERE),
        Traffic(f"inbound all traffic from the VPC ({vpc_cidr})", False, ALL, None, vpc_cidr),
        Traffic(
            "inbound return traffic on TCP 1024-65535 from 0.0.0.0/0", False, TCP, (1024, 65535), ANYWHERE
        ),
        Traffic("outbound all traffic to 0.0.0.0/0", True, ALL, None, ANYWHERE),
    ]


@check("SUB-9", GROUP, Severity.WARNING)
def subnet_network_acls(ctx: VerifyContext) -> Iterator[Outcome]:
    vpc = require(ctx.vpc())
    acls: dict[str, tuple[Item, list[str]]] = {}
    bad = False
    for subnet in _in_vpc(ctx):
        acl = ctx.network_acl_for(subnet)
        if acl is None:
            continue  # every subnet has one in AWS; nothing to judge otherwise
        acls.setdefault(acl["NetworkAclId"], (acl, []))[1].append(subnet["SubnetId"])
    for acl_id, (acl, subnet_ids) in sorted(acls.items()):
        problems = []
        for traffic in _required_traffic(vpc["CidrBlock"]):
            verdict = acl_blocker(acl.get("Entries", []), traffic)
            if verdict is True:
                continue
            if verdict is None or int(verdict.get("RuleNumber", 0)) == 32767:
                problems.append(f"{traffic.label} is not allowed by any rule")
            else:
                problems.append(f"{traffic.label} is denied by rule {verdict['RuleNumber']}")
        if problems:
            bad = True
            yield fail(
                f"Network ACL {acl_id} (subnets {', '.join(subnet_ids)}): {'; '.join(problems)}.",
                acl_id,
                f"Add allow entries ahead of any deny in {acl_id} (aws ec2 create-network-acl-entry "
                f"--network-acl-id {acl_id} ...) or associate the subnets with an ACL that allows "
                "this traffic, such as the VPC's default ACL.",
            )
    if not bad:
        yield ok("The subnets' network ACLs allow the traffic clusters need.", ", ".join(sorted(acls)))
