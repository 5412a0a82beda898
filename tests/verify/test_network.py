"""Network ACL evaluation in rule-number order and security group rule reading, on plain data."""

from __future__ import annotations

from typing import Any

from cloudplane.verify.network import (
    ALL,
    ANYWHERE,
    TCP,
    Traffic,
    acl_blocker,
    cidr_covers,
    is_private_egress_route,
    rule_covers_port,
)

HTTPS_IN = Traffic("https", False, TCP, (443, 443), ANYWHERE)
EPHEMERAL_IN = Traffic("return", False, TCP, (1024, 65535), ANYWHERE)
VPC_IN = Traffic("vpc", False, ALL, None, "10.0.0.0/16")
ALL_OUT = Traffic("out", True, ALL, None, ANYWHERE)


def entry(
    number: int,
    action: str,
    cidr: str = ANYWHERE,
    protocol: str = "-1",
    ports: Any = None,
    egress: bool = False,
) -> dict[str, Any]:
    item = {
        "RuleNumber": number,
        "RuleAction": action,
        "CidrBlock": cidr,
        "Protocol": protocol,
        "Egress": egress,
    }
    if ports:
        item["PortRange"] = {"From": ports[0], "To": ports[1]}
    return item


DEFAULT = [
    entry(100, "allow"),
    entry(32767, "deny"),
    entry(100, "allow", egress=True),
    entry(32767, "deny", egress=True),
]


def test_default_acl_allows_everything() -> None:
    for traffic in (HTTPS_IN, EPHEMERAL_IN, VPC_IN, ALL_OUT):
        assert acl_blocker(DEFAULT, traffic) is True


def test_lower_numbered_deny_wins() -> None:
    entries = [entry(50, "deny", protocol="6", ports=(443, 443)), *DEFAULT]
    assert acl_blocker(entries, HTTPS_IN)["RuleNumber"] == 50  # type: ignore[index]
    assert acl_blocker(entries, EPHEMERAL_IN) is True


def test_higher_numbered_deny_is_shadowed() -> None:
    entries = [entry(200, "deny", protocol="6", ports=(443, 443)), *DEFAULT]
    assert acl_blocker(entries, HTTPS_IN) is True


def test_allow_pieces_must_cover_all_sources() -> None:
    halves = [
        entry(10, "allow", "0.0.0.0/1", "6", (443, 443)),
        entry(20, "allow", "128.0.0.0/1", "6", (443, 443)),
        entry(32767, "deny"),
    ]
    assert acl_blocker(halves, HTTPS_IN) is True
    assert acl_blocker(halves[:1] + halves[2:], HTTPS_IN)["RuleNumber"] == 32767  # type: ignore[index]


def test_partial_port_range_does_not_resolve() -> None:
    entries = [entry(10, "allow", protocol="6", ports=(1024, 2048)), entry(32767, "deny")]
    assert acl_blocker(entries, EPHEMERAL_IN)["RuleNumber"] == 32767  # type: ignore[index]


def test_deny_from_a_foreign_cidr_does_not_touch_vpc_traffic() -> None:
    entries = [entry(10, "deny", "192.168.0.0/16"), *DEFAULT]
    assert acl_blocker(entries, VPC_IN) is True
    assert acl_blocker(entries, HTTPS_IN)["RuleNumber"] == 10  # type: ignore[index]


def test_missing_outbound_rule() -> None:
    inbound_only = [e for e in DEFAULT if not e["Egress"]]
    assert acl_blocker(inbound_only, ALL_OUT) is None


def test_security_group_rule_ports() -> None:
    assert rule_covers_port({"IpProtocol": "-1"}, TCP, 443)
    assert rule_covers_port({"IpProtocol": "tcp", "FromPort": 0, "ToPort": 65535}, TCP, 2049)
    assert not rule_covers_port({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}, TCP, 443)
    assert not rule_covers_port({"IpProtocol": "udp", "FromPort": 443, "ToPort": 443}, TCP, 443)


def test_cidr_cover_and_egress_targets() -> None:
    assert cidr_covers("10.0.0.0/8", "10.0.0.0/16") and not cidr_covers("10.0.1.0/24", "10.0.0.0/16")
    assert is_private_egress_route({"NatGatewayId": "nat-1"})
    assert is_private_egress_route({"TransitGatewayId": "tgw-1"})
    assert not is_private_egress_route({"GatewayId": "igw-1"})
    assert not is_private_egress_route({"GatewayId": "local"})
