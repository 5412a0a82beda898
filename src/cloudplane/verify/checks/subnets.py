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
    acl_allow_command,
    acl_blocker,
    acl_delete_command,
    free_rule_number,
    is_private_egress_route,
)
from cloudplane.verify.outcome import Outcome, fail, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity
from cloudplane.verify.routing import (
    DefaultRoute,
    associate_command,
    default_route_of,
    first_internet_gateway,
    nat_problem,
    route_command,
    tables_routing,
    working_nat,
)

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


@check("SUB-2", GROUP, Severity.ERROR, reads=(VerifyContext.subnets,))
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


@check("SUB-3", GROUP, Severity.ERROR, reads=(VerifyContext.subnets,))
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


@check("SUB-4", GROUP, Severity.ERROR, reads=(VerifyContext.subnets,))
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


@check("SUB-5", GROUP, Severity.ERROR, networking=(PUBLIC,), reads=(VerifyContext.subnets,))
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


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _public_route_fix(ctx: VerifyContext, view: DefaultRoute) -> str:
    igw = first_internet_gateway(ctx)
    attach = "Attach an internet gateway to the VPC first (VPC-4). " if igw.startswith("<") else ""
    good = [t for t in tables_routing(ctx, view.vpc_id, to="igw") if t != view.table_id]
    associate = (
        f"associate the subnet with route table {good[0]}, which sends 0.0.0.0/0 to an internet gateway: "
        f"{associate_command(view.subnet_id, good[0])}"
        if good
        else None
    )
    if view.table is None:
        return attach + _sentence(associate or associate_command(view.subnet_id, "<rtb-id>"))
    fix = f"route 0.0.0.0/0 to internet gateway {igw}: {route_command(view, '--gateway-id', igw)}"
    if not view.explicit and associate:
        return f"{attach}Either {associate}; or {fix} (this changes every subnet on the main table)."
    return attach + _sentence(fix)


@check(
    "SUB-6",
    GROUP,
    Severity.ERROR,
    networking=(PUBLIC,),
    reads=(VerifyContext.subnets, VerifyContext.route_tables),
)
def subnet_igw_route(ctx: VerifyContext) -> Iterator[Outcome]:
    bad = False
    for subnet in _in_vpc(ctx):
        view = default_route_of(ctx, subnet)
        if view.to_internet_gateway:
            continue
        bad = True
        yield fail(
            f"Subnet {view.subnet_id}: {view.problem()}; a public subnet needs its 0.0.0.0/0 route to go to "
            "an internet gateway.",
            view.subnet_id,
            _public_route_fix(ctx, view),
        )
    if not bad:
        yield ok("Every subnet routes 0.0.0.0/0 to an internet gateway.", ", ".join(ctx.res.subnet_ids))


@check("SUB-7", GROUP, Severity.WARNING, reads=(VerifyContext.subnets,))
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


def _private_egress_problem(ctx: VerifyContext, view: DefaultRoute) -> str | None:
    """None when the subnet's 0.0.0.0/0 leaves through a working NAT gateway or another egress target."""
    if view.table is None or view.route is None or view.blackhole:
        return view.problem()
    if view.nat_gateway_id:
        issue = nat_problem(ctx, view.nat_gateway_id)
        return f"{view.problem()}, but {issue}" if issue else None
    if is_private_egress_route(view.route):
        return None
    if view.to_internet_gateway:
        return f"{view.problem()}, an internet gateway, which nodes without public addresses cannot use"
    return f"{view.problem()}, which is not an egress target"


def _private_route_fix(ctx: VerifyContext, view: DefaultRoute, zone: str | None) -> str:
    nat_id = view.nat_gateway_id
    if nat_id and nat_id in ctx.nat_gateways():
        own = default_route_of(ctx, ctx.nat_gateways()[nat_id])
        state_ok = ctx.nat_gateways()[nat_id].get("State") in ("available", "pending")
        if state_ok and not own.to_internet_gateway and own.table is not None:
            igw = first_internet_gateway(ctx)
            return (
                f"Give the NAT gateway's subnet {own.subnet_id} a route to the internet: "
                f"{route_command(own, '--gateway-id', igw)}"
            )
    nat = working_nat(ctx, view.vpc_id, zone)
    create = (
        ""
        if nat
        else " (create one first in a public subnet of the VPC: aws ec2 create-nat-gateway --subnet-id "
        "<public-subnet-id> --allocation-id <eipalloc-id>)"
    )
    target = nat or "<nat-id>"
    good = [t for t in tables_routing(ctx, view.vpc_id, to="nat") if t != view.table_id]
    associate = (
        f"associate the subnet with route table {good[0]}, which sends 0.0.0.0/0 to a NAT gateway: "
        f"{associate_command(view.subnet_id, good[0])}"
        if good
        else None
    )
    if view.table is None:
        return _sentence(associate or associate_command(view.subnet_id, "<rtb-id>"))
    fix = (
        f"route 0.0.0.0/0 to NAT gateway {target}{create}: {route_command(view, '--nat-gateway-id', target)}"
    )
    if not view.explicit and associate:
        return f"Either {associate}; or {fix} (this changes every subnet on the main table)."
    return _sentence(fix)


@check(
    "SUB-8",
    GROUP,
    Severity.ERROR,
    networking=(PRIVATE,),
    reads=(VerifyContext.subnets, VerifyContext.route_tables, VerifyContext.nat_gateways),
)
def subnet_private_egress(ctx: VerifyContext) -> Iterator[Outcome]:
    bad = False
    for subnet in _in_vpc(ctx):
        view = default_route_of(ctx, subnet)
        problem = _private_egress_problem(ctx, view)
        if problem is None:
            continue
        bad = True
        yield fail(
            f"Subnet {view.subnet_id}: {problem}; a private subnet needs its 0.0.0.0/0 route to go to a NAT "
            "gateway, transit gateway or another egress target.",
            view.subnet_id,
            _private_route_fix(ctx, view, subnet.get("AvailabilityZone")),
        )
    if not bad:
        yield ok("Every subnet routes 0.0.0.0/0 to a private egress target.", ", ".join(ctx.res.subnet_ids))


def _required_traffic(vpc_cidr: str, private: bool) -> list[Traffic]:
    # Private clouds are reached from inside the VPC (or networks routed into it), not from the internet;
    # their nodes still need return traffic of the connections they open through NAT.
    https = (
        Traffic(f"inbound TCP 443 from the VPC ({vpc_cidr})", False, TCP, (443, 443), vpc_cidr)
        if private
        else Traffic("inbound TCP 443 from 0.0.0.0/0", False, TCP, (443, 443), ANYWHERE)
    )
    return [
        https,
        Traffic(f"inbound all traffic from the VPC ({vpc_cidr})", False, ALL, None, vpc_cidr),
        Traffic(
            "inbound return traffic on TCP 1024-65535 from 0.0.0.0/0", False, TCP, (1024, 65535), ANYWHERE
        ),
        Traffic("outbound all traffic to 0.0.0.0/0", True, ALL, None, ANYWHERE),
    ]


def _acl_fixes(acl_id: str, entries: list[Item], traffic: list[Traffic]) -> tuple[list[str], list[str]]:
    """(what is wrong, how to fix it) for the traffic an ACL blocks; allows get distinct rule numbers."""
    problems: list[str] = []
    unmatched: list[str] = []
    behind: dict[int, tuple[Item, list[str]]] = {}  # deny rule -> (entry, allows to put ahead of it)
    reserved: set[tuple[bool, int]] = set()

    def allow(item: Traffic, below: int) -> str | None:
        number = free_rule_number(entries, item.egress, below, {n for e, n in reserved if e == item.egress})
        if number is None:
            return None
        reserved.add((item.egress, number))
        return acl_allow_command(acl_id, item, number)

    for item in traffic:
        verdict = acl_blocker(entries, item)
        if verdict is True:
            continue
        if verdict is None or int(verdict.get("RuleNumber", 0)) == 32767:
            problems.append(f"{item.label} is not allowed by any rule")
            unmatched.append(f"allow {item.label}: {allow(item, 32767) or '<free rule number>'}")
            continue
        rule = int(verdict["RuleNumber"])
        problems.append(f"{item.label} is denied by rule {rule}")
        command = allow(item, rule)
        behind.setdefault(rule, (verdict, []))[1].extend([command] if command else [])
    fixes = []
    for rule, (entry, allows) in sorted(behind.items()):
        fix = f"remove deny rule {rule} ({acl_delete_command(acl_id, entry)})"
        if allows:
            fix += f" or allow the traffic ahead of it: {' and '.join(allows)}"
        fixes.append(fix)
    return problems, fixes + unmatched


@check(
    "SUB-9",
    GROUP,
    Severity.WARNING,
    reads=(VerifyContext.vpc, VerifyContext.subnets, VerifyContext.network_acls),
)
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
        required = _required_traffic(vpc["CidrBlock"], ctx.spec.is_private)
        problems, fixes = _acl_fixes(acl_id, acl.get("Entries", []), required)
        if problems:
            bad = True
            yield fail(
                f"Network ACL {acl_id} (subnets {', '.join(subnet_ids)}): {'; '.join(problems)}.",
                acl_id,
                "In network ACL " + acl_id + ": " + "; ".join(fixes) + ". Or associate the subnets with an "
                "ACL that allows this traffic, such as the VPC's default ACL.",
            )
    if not bad:
        yield ok("The subnets' network ACLs allow the traffic clusters need.", ", ".join(sorted(acls)))
