"""Where a subnet's 0.0.0.0/0 traffic goes, and whether a NAT gateway on the way reaches the internet.

A subnet without a route table association of its own uses the VPC's main route table, so every
judgement here starts from the table that really routes the subnet. Suggested fixes name real ids
(a table that already routes correctly, a NAT gateway that works) whenever the VPC has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from cloudplane.verify.context import Item, VerifyContext
from cloudplane.verify.network import default_route, is_internet_gateway_route, route_target

# NAT gateway states that still forward traffic (a new one is pending for a minute or two).
_WORKING_NAT_STATES = ("available", "pending")


@dataclass(frozen=True)
class DefaultRoute:
    """A subnet's route table (its own or the VPC's main one) and that table's 0.0.0.0/0 route."""

    subnet_id: str
    vpc_id: str
    table: Item | None
    explicit: bool
    route: Item | None

    @property
    def table_id(self) -> str:
        return str(self.table["RouteTableId"]) if self.table else "<rtb-id>"

    @property
    def where(self) -> str:
        if self.explicit:
            return f"its route table {self.table_id}"
        return f"the VPC's main route table {self.table_id} (it has no route table association of its own)"

    @property
    def target(self) -> str:
        return route_target(self.route) if self.route else "no target"

    @property
    def blackhole(self) -> bool:
        return self.route is not None and self.route.get("State") == "blackhole"

    @property
    def to_internet_gateway(self) -> bool:
        return self.route is not None and is_internet_gateway_route(self.route) and not self.blackhole

    @property
    def nat_gateway_id(self) -> str | None:
        return str(self.route["NatGatewayId"]) if self.route and self.route.get("NatGatewayId") else None

    def problem(self) -> str:
        """What the route does, worded to follow "Subnet X: ..."."""
        if self.table is None:
            return "has no route table (neither its own nor a main table of the VPC)"
        if self.route is None:
            return f"{self.where} has no 0.0.0.0/0 route"
        if self.blackhole:
            return f"{self.where} sends 0.0.0.0/0 to {self.target}, which no longer exists (blackhole)"
        return f"{self.where} sends 0.0.0.0/0 to {self.target}"


def default_route_of(ctx: VerifyContext, subnet: Item) -> DefaultRoute:
    """subnet: any item with SubnetId and VpcId (a subnet, a NAT gateway)."""
    table, explicit = ctx.route_table_for(subnet)
    return DefaultRoute(
        subnet_id=str(subnet["SubnetId"]),
        vpc_id=str(subnet["VpcId"]),
        table=table,
        explicit=explicit,
        route=default_route(table) if table else None,
    )


def nat_problem(ctx: VerifyContext, nat_id: str) -> str | None:
    """Why a NAT gateway cannot carry a private subnet's traffic to the internet, or None if it can."""
    nat = ctx.nat_gateways().get(nat_id)
    if nat is None:
        return f"NAT gateway {nat_id} does not exist"
    state = nat.get("State")
    if state not in _WORKING_NAT_STATES:
        return f"NAT gateway {nat_id} is {state}"
    if nat.get("ConnectivityType") == "private":
        return f"NAT gateway {nat_id} is a private NAT gateway, which does not reach the internet"
    own = default_route_of(ctx, nat)
    if own.to_internet_gateway:
        return None
    if own.table is None:
        where = f"its subnet {own.subnet_id} has no route table"
    elif own.route is None:
        where = f"the route table {own.table_id} of its subnet {own.subnet_id} has no 0.0.0.0/0 route"
    else:
        where = (
            f"the route table {own.table_id} of its subnet {own.subnet_id} sends 0.0.0.0/0 to "
            f"{own.target}, not to an internet gateway"
        )
    return f"NAT gateway {nat_id} cannot reach the internet itself: {where}"


def working_nat(ctx: VerifyContext, vpc_id: str, zone: str | None) -> str | None:
    """A NAT gateway of the VPC that reaches the internet, preferably one in `zone`."""
    candidates = [
        nat
        for nat_id, nat in sorted(ctx.nat_gateways().items())
        if nat.get("VpcId") == vpc_id and nat_problem(ctx, nat_id) is None
    ]
    if not candidates:
        return None
    zones = ctx.ec2_by_ids("subnet", [n["SubnetId"] for n in candidates])
    same_zone = [n for n in candidates if zones.get(n["SubnetId"], {}).get("AvailabilityZone") == zone]
    return str((same_zone or candidates)[0]["NatGatewayId"])


def first_internet_gateway(ctx: VerifyContext) -> str:
    return next((str(g["InternetGatewayId"]) for g in ctx.internet_gateways()), "<igw-id>")


def tables_routing(ctx: VerifyContext, vpc_id: str, *, to: str) -> list[str]:
    """Route tables of the VPC whose 0.0.0.0/0 route goes to `to` ("igw" or "nat"), working targets only."""

    def good(route: Item) -> bool:
        if to == "igw":
            return is_internet_gateway_route(route)
        nat_id = route.get("NatGatewayId")
        return bool(nat_id) and nat_problem(ctx, str(nat_id)) is None

    return sorted(
        str(table["RouteTableId"])
        for table in ctx.route_tables()
        if table.get("VpcId") == vpc_id
        and (route := default_route(table)) is not None
        and route.get("State") != "blackhole"
        and good(route)
    )


def route_command(view: DefaultRoute, target_flag: str, target: str) -> str:
    """The command that points the subnet's table's 0.0.0.0/0 at `target`."""
    verb = "replace-route" if view.route is not None else "create-route"
    return (
        f"aws ec2 {verb} --route-table-id {view.table_id} --destination-cidr-block 0.0.0.0/0 "
        f"{target_flag} {target}"
    )


def associate_command(subnet_id: str, table_id: str) -> str:
    return f"aws ec2 associate-route-table --subnet-id {subnet_id} --route-table-id {table_id}"
