"""Reading routes, network ACL entries and security group rules."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

Item = dict[str, Any]

ANYWHERE = "0.0.0.0/0"
ALL = "-1"
TCP = "6"
_PROTOCOL_NUMBERS = {"tcp": "6", "udp": "17", "icmp": "1", "all": ALL}

# Route fields that name a target, in the order they are shown.
_TARGET_FIELDS = (
    "GatewayId",
    "NatGatewayId",
    "TransitGatewayId",
    "NetworkInterfaceId",
    "InstanceId",
    "VpcPeeringConnectionId",
    "LocalGatewayId",
    "CarrierGatewayId",
    "CoreNetworkArn",
)


def protocol_number(protocol: str | int | None) -> str:
    value = str(protocol if protocol is not None else ALL).lower()
    return _PROTOCOL_NUMBERS.get(value, value)


# -- routes ------------------------------------------------------------------------------------


def default_route(table: Item) -> Item | None:
    return next((r for r in table.get("Routes", []) if r.get("DestinationCidrBlock") == ANYWHERE), None)


def route_target(route: Item) -> str:
    for name in _TARGET_FIELDS:
        if route.get(name):
            return str(route[name])
    return "no target"


def is_internet_gateway_route(route: Item) -> bool:
    return str(route.get("GatewayId", "")).startswith("igw-")


def is_private_egress_route(route: Item) -> bool:
    """NAT, transit gateway, an appliance interface or instance, peering, VPN gateway: not an IGW."""
    if is_internet_gateway_route(route):
        return False
    # A virtual private gateway, or a Gateway Load Balancer endpoint in front of a firewall.
    if str(route.get("GatewayId", "")).startswith(("vgw-", "vpce-")):
        return True
    return any(route.get(name) for name in _TARGET_FIELDS if name != "GatewayId")


# -- network ACLs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Traffic:
    """A class of packets a network ACL must let through."""

    label: str
    egress: bool
    protocol: str  # "-1" all, "6" TCP
    ports: tuple[int, int] | None  # None: all ports
    cidr: str


def _entry_ports(entry: Item) -> tuple[int, int] | None:
    if protocol_number(entry.get("Protocol")) == ALL or "PortRange" not in entry:
        return None
    port_range = entry["PortRange"]
    return int(port_range.get("From", 0)), int(port_range.get("To", 65535))


def _ranges_overlap(a: tuple[int, int] | None, b: tuple[int, int] | None) -> bool:
    if a is None or b is None:
        return True
    return a[0] <= b[1] and b[0] <= a[1]


def _entry_touches(entry: Item, traffic: Traffic) -> bool:
    protocol = protocol_number(entry.get("Protocol"))
    if ALL not in (protocol, traffic.protocol) and protocol != traffic.protocol:
        return False
    return _ranges_overlap(_entry_ports(entry), traffic.ports)


def _entry_covers(entry: Item, traffic: Traffic) -> bool:
    protocol = protocol_number(entry.get("Protocol"))
    if protocol == ALL:
        return True
    if protocol != traffic.protocol or traffic.ports is None:
        return False
    ports = _entry_ports(entry)
    return ports is None or (ports[0] <= traffic.ports[0] and traffic.ports[1] <= ports[1])


def acl_blocker(entries: list[Item], traffic: Traffic) -> Item | None | bool:
    """Walk the entries in rule-number order like AWS does.

    Returns True when every packet of `traffic` meets an allow before any deny; otherwise the entry
    that denies some of it, or None when nothing matched at all.
    """
    unresolved = [ipaddress.ip_network(traffic.cidr)]
    rules = sorted(
        (e for e in entries if bool(e.get("Egress")) == traffic.egress and e.get("CidrBlock")),
        key=lambda e: int(e.get("RuleNumber", 32767)),
    )
    for entry in rules:
        net = ipaddress.ip_network(entry["CidrBlock"], strict=False)
        if not any(n.overlaps(net) for n in unresolved) or not _entry_touches(entry, traffic):
            continue
        if entry.get("RuleAction") == "deny":
            return entry
        if not _entry_covers(entry, traffic):
            continue
        remaining: list[Any] = []
        for n in unresolved:
            if not n.overlaps(net):
                remaining.append(n)
            elif net.supernet_of(n):
                continue
            else:
                remaining.extend(n.address_exclude(net))
        unresolved = remaining
        if not unresolved:
            return True
    return None


def free_rule_number(
    entries: list[Item], egress: bool, below: int = 32767, reserved: set[int] | None = None
) -> int | None:
    """A rule number not taken (nor reserved) in that direction, below `below`: 100, 110 ... if free,
    else the highest free one below `below`."""
    taken = {int(e.get("RuleNumber", 0)) for e in entries if bool(e.get("Egress")) == egress}
    taken |= reserved or set()
    for number in range(100, below, 10):
        if number not in taken:
            return number
    return next((n for n in range(below - 1, 0, -1) if n not in taken), None)


def acl_allow_command(acl_id: str, traffic: Traffic, rule_number: int | str) -> str:
    ports = "" if traffic.ports is None else f" --port-range From={traffic.ports[0]},To={traffic.ports[1]}"
    protocol = "tcp" if traffic.protocol == TCP else traffic.protocol
    return (
        f"aws ec2 create-network-acl-entry --network-acl-id {acl_id} "
        f"--{'egress' if traffic.egress else 'ingress'} --rule-number {rule_number} --protocol {protocol}"
        f"{ports} --cidr-block {traffic.cidr} --rule-action allow"
    )


def acl_delete_command(acl_id: str, entry: Item) -> str:
    return (
        f"aws ec2 delete-network-acl-entry --network-acl-id {acl_id} "
        f"--{'egress' if entry.get('Egress') else 'ingress'} --rule-number {entry['RuleNumber']}"
    )


# -- security groups ---------------------------------------------------------------------------


def rule_covers_port(permission: Item, protocol: str, port: int) -> bool:
    rule_protocol = protocol_number(permission.get("IpProtocol"))
    if rule_protocol == ALL:
        return True
    if rule_protocol != protocol:
        return False
    low, high = permission.get("FromPort", 0), permission.get("ToPort", 65535)
    return low in (None, -1) or low <= port <= high


def is_all_traffic(permission: Item) -> bool:
    return protocol_number(permission.get("IpProtocol")) == ALL


def cidr_sources(permission: Item) -> list[str]:
    """CIDRs and prefix lists a rule names (not groups)."""
    return (
        [r["CidrIp"] for r in permission.get("IpRanges", [])]
        + [r["CidrIpv6"] for r in permission.get("Ipv6Ranges", [])]
        + [p["PrefixListId"] for p in permission.get("PrefixListIds", [])]
    )


def group_sources(permission: Item) -> list[str]:
    return [p["GroupId"] for p in permission.get("UserIdGroupPairs", []) if p.get("GroupId")]


def cidr_covers(outer: str, inner: str) -> bool:
    try:
        a, b = ipaddress.ip_network(outer, strict=False), ipaddress.ip_network(inner, strict=False)
    except ValueError:
        return False
    return a.version == b.version and a.supernet_of(b)
