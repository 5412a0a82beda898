"""The VPC network as an instance's start-up script sees it: which in-VPC endpoints it can reach on which port.

The node shim (node_shim/sitecustomize.py) asks these hooks before a socket of the script connects anywhere
but loopback, and reports the ports the script listens on:
- `POST /moto-api/cloudplane/network/resolve` `{"instance_id", "host"}` -> `{"address": ip | null}`: a MemoryDB
  cluster endpoint, an EFS DNS name (the mount target in the instance's zone) or a private DNS name.
- `POST /moto-api/cloudplane/network/reach` `{"instance_id", "host", "port"}` -> `{"reachable", "reason",
  "address", "connect": [host, port] | null}`. `connect` is a loopback socket that stands for the destination
  (a TCP sink for EFS and MemoryDB, the destination script's own listener for an instance); null with
  `reachable` true means nothing listens there (the connection is refused).
- `POST /moto-api/cloudplane/network/listen` `{"instance_id", "port", "local_host", "local_port"}`.

A destination is reachable, as the VPC decides it (TCP only; network ACLs are not modelled), when it is a
known address in the instance's VPC (an EFS mount target, a MemoryDB cluster, another running instance), one
of the instance's security groups allows egress to it on that port (a CIDR containing its address or a rule
referencing one of its groups), and one of its groups allows ingress on that port from the instance (a rule
referencing one of the instance's groups or a CIDR containing the instance's private address). Resources
created without groups have their VPC's default group, as on AWS.
"""

from __future__ import annotations

import ipaddress
import socketserver
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from moto.efs.models import efs_backends
from moto.memorydb.models import memorydb_backends

from . import _moto_api
from .instance_startup import instance_of, node


@dataclass
class Endpoint:
    """Something in a VPC that accepts connections."""

    kind: str  # "the mount target", "the MemoryDB cluster", "instance i-..."
    address: str
    vpc_id: str
    groups: list[Any]
    ports: set[int] | None  # None: whatever the instance's script listens on
    instance_id: str | None = None


@dataclass
class Reach:
    reachable: bool
    reason: str
    address: str | None = None
    connect: tuple[str, int] | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "reachable": self.reachable,
            "reason": self.reason,
            "address": self.address,
            "connect": list(self.connect) if self.connect else None,
        }


class _Sink(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while self.request.recv(65536):
            pass


_lock = threading.Lock()
_sink: socketserver.ThreadingTCPServer | None = None
# (account, region, cluster name) -> address given to a MemoryDB cluster endpoint
_cluster_addresses: dict[tuple[str, str, str], str] = {}


def sink_address() -> tuple[str, int]:
    """A loopback TCP server that accepts every connection and discards what it receives."""
    global _sink
    with _lock:
        if _sink is None:
            socketserver.ThreadingTCPServer.daemon_threads = True
            _sink = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Sink)
            threading.Thread(target=_sink.serve_forever, name="vpc-sink", daemon=True).start()
        host, port = _sink.server_address[:2]
    return str(host), int(port)


def _reset() -> None:
    with _lock:
        _cluster_addresses.clear()


def _groups_or_default(ec2: Any, vpc_id: str, group_ids: Iterable[str] | None) -> list[Any]:
    groups = [ec2.get_security_group_from_id(group_id) for group_id in group_ids or []]
    groups = [group for group in groups if group is not None]
    if not groups:
        default = ec2.get_default_security_group(vpc_id)
        groups = [default] if default is not None else []
    return groups


def _cluster_address(account_id: str, region: str, cluster: Any, ec2: Any) -> str | None:
    """An address for the cluster's endpoint in the first subnet of its subnet group, counted from the top
    of the subnet so it does not meet the addresses moto hands out from the bottom."""
    key = (account_id, region, cluster.cluster_name)
    with _lock:
        if key in _cluster_addresses:
            return _cluster_addresses[key]
    group = memorydb_backends[account_id][region].subnet_groups.get(cluster.subnet_group_name)
    subnet_ids = list(getattr(group, "subnet_ids", []) or [])
    if not subnet_ids:
        return None
    network = ipaddress.ip_network(ec2.get_subnet(subnet_ids[0]).cidr_block)
    with _lock:
        taken = set(_cluster_addresses.values())
        for offset in range(2, min(network.num_addresses - 4, 64)):
            candidate = str(network[-offset])
            if candidate not in taken:
                _cluster_addresses[key] = candidate
                return candidate
    return None


def _endpoints(
    account_id: str, region: str, ec2: Any, zone: str | None
) -> Iterable[tuple[Endpoint, set[str]]]:
    """Every endpoint of the account's region with the names that resolve to it from `zone`."""
    efs = efs_backends[account_id][region]
    for target in list(efs.mount_targets_by_id.values()):
        groups = _groups_or_default(ec2, target.vpc_id, target.security_groups)
        names = {f"{target.availability_zone_name}.{target.file_system_id}.efs.{region}.amazonaws.com"}
        if target.availability_zone_name == zone:
            names.add(f"{target.file_system_id}.efs.{region}.amazonaws.com")
        yield Endpoint("the mount target", target.ip_address, target.vpc_id, groups, {2049}), names
    memorydb = memorydb_backends[account_id][region]
    for cluster in list(memorydb.clusters.values()):
        address = _cluster_address(account_id, region, cluster, ec2)
        if address is None:
            continue
        groups = _groups_or_default(ec2, cluster.vpc_id, cluster.security_group_ids)
        names = {cluster.cluster_endpoint["Address"]}
        yield Endpoint("the MemoryDB cluster", address, cluster.vpc_id, groups, {int(cluster.port)}), names
    for reservation in list(ec2.reservations.values()):
        for other in reservation.instances:
            if other.state != "running" or not other.private_ip:
                continue
            nic = other.nics[0]
            endpoint = Endpoint(
                f"instance {other.id}",
                other.private_ip,
                getattr(nic.subnet, "vpc_id", ""),
                list(nic.group_set),
                None,
                other.id,
            )
            yield endpoint, {other.private_dns_name}


def _protocol_allows(rule: Any, port: int) -> bool:
    if rule.ip_protocol == "-1":
        return True
    if rule.ip_protocol != "tcp" or rule.from_port is None:
        return False
    return int(rule.from_port) <= port <= int(rule.to_port)


def _cidr_contains(rule: Any, address: str) -> bool:
    cidr = (rule.ip_range or {}).get("CidrIp")
    if not cidr:
        return False
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def _cidr_covers(rule: Any, network: str) -> bool:
    cidr = (rule.ip_range or {}).get("CidrIp")
    if not cidr:
        return False
    try:
        return ipaddress.ip_network(network).subnet_of(ipaddress.ip_network(cidr, strict=False))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False


def _names_group(rule: Any, peer_groups: Iterable[Any]) -> bool:
    group_id = (rule.source_group or {}).get("GroupId")
    return bool(group_id) and any(group.id == group_id for group in peer_groups)


def allows(
    groups: Iterable[Any],
    egress: bool,
    port: int,
    peer_address: str | None = None,
    peer_groups: Iterable[Any] = (),
    peer_networks: Iterable[str] = (),
) -> bool:
    """Whether any of these groups has a rule (egress or ingress) for tcp/port with this peer."""
    peer_groups = list(peer_groups)
    peer_networks = list(peer_networks)
    for group in groups:
        for rule in group.egress_rules if egress else group.ingress_rules:
            if not _protocol_allows(rule, port):
                continue
            if peer_address and _cidr_contains(rule, peer_address):
                return True
            if _names_group(rule, peer_groups):
                return True
            if any(_cidr_covers(rule, network) for network in peer_networks):
                return True
    return False


def groups_allow_none(groups: Iterable[Any], owner: str) -> str:
    """'sg-1 of the mount target allows no' / 'sg-1, sg-2 of the instance allow no'."""
    ids = [group.id for group in groups]
    if not ids:
        return f"{owner} has no security group, so it allows no"
    return f"{', '.join(ids)} of {owner} {'allows' if len(ids) == 1 else 'allow'} no"


def resolve(instance_id: str, host: str) -> str | None:
    found = instance_of(instance_id)
    if found is None:
        return None
    instance, account_id, region = found
    ec2 = instance.ec2_backend
    name = host.rstrip(".").lower()
    for endpoint, names in _endpoints(account_id, region, ec2, instance.placement.zone):
        if name in {n.lower() for n in names}:
            return endpoint.address
    return None


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def reach(instance_id: str, host: str, port: int) -> Reach:
    """Whether the instance's script can open a TCP connection to host:port, and why (not)."""
    found = instance_of(instance_id)
    if found is None:
        return Reach(False, f"unknown instance {instance_id}")
    instance, account_id, region = found
    if instance.state != "running":
        return Reach(False, f"instance {instance_id} is {instance.state}")
    address = host if _is_address(host) else resolve(instance_id, host)
    if address is None:
        return Reach(False, f"{host} does not resolve inside the instance's VPC")
    ec2 = instance.ec2_backend
    nic = instance.nics[0]
    vpc_id = getattr(nic.subnet, "vpc_id", "")
    own_groups = list(nic.group_set)
    target = next(
        (e for e, _ in _endpoints(account_id, region, ec2, instance.placement.zone) if e.address == address),
        None,
    )
    if target is None:
        return Reach(False, f"nothing in the instance's VPC has the address {address}", address)
    if target.vpc_id != vpc_id:
        return Reach(False, f"{address} ({target.kind}) is in {target.vpc_id}, not in {vpc_id}", address)
    if target.instance_id == instance_id:
        own = node(instance_id)
        local = own.listeners.get(port) if own and own.running else None
        return Reach(True, "the instance itself", address, local)
    if not allows(own_groups, True, port, address, target.groups):
        return Reach(
            False,
            f"{groups_allow_none(own_groups, 'the instance')} egress on tcp/{port} to {address}",
            address,
        )
    if not allows(target.groups, False, port, instance.private_ip, own_groups):
        return Reach(
            False,
            f"{groups_allow_none(target.groups, target.kind)} ingress on tcp/{port} from the instance",
            address,
        )
    reason = f"{target.kind} accepts tcp/{port} from the instance"
    if target.instance_id is not None:
        peer = node(target.instance_id)
        return Reach(True, reason, address, peer.listeners.get(port) if peer and peer.running else None)
    if target.ports is not None and port not in target.ports:
        return Reach(True, f"nothing listens on tcp/{port} at {target.kind}", address)
    return Reach(True, reason, address, sink_address())


def _reach(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    body = _moto_api.read_json(request) or {}
    try:
        result = reach(str(body["instance_id"]), str(body["host"]), int(body["port"]))
    except (KeyError, TypeError, ValueError):
        return _moto_api.json_response(400, {"Error": 'expected {"instance_id", "host", "port"}'})
    return _moto_api.json_response(200, result.as_json())


def _resolve(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    body = _moto_api.read_json(request) or {}
    try:
        address = resolve(str(body["instance_id"]), str(body["host"]))
    except (KeyError, TypeError):
        return _moto_api.json_response(400, {"Error": 'expected {"instance_id", "host"}'})
    return _moto_api.json_response(200, {"address": address})


def _listen(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    body = _moto_api.read_json(request) or {}
    try:
        listening = node(str(body["instance_id"]))
        port, local = int(body["port"]), (str(body["local_host"]), int(body["local_port"]))
    except (KeyError, TypeError, ValueError):
        return _moto_api.json_response(
            400, {"Error": 'expected {"instance_id", "port", "local_host", "local_port"}'}
        )
    if listening is None:
        return _moto_api.json_response(404, {"Error": f"unknown instance {body['instance_id']}"})
    listening.listeners[port] = local
    return _moto_api.json_response(200, {"port": port})


def apply() -> None:
    _moto_api.add_route("network/reach", _reach)
    _moto_api.add_route("network/resolve", _resolve)
    _moto_api.add_route("network/listen", _listen)
    _moto_api.on_reset(_reset)
