"""Puts a sandbox instance's Python start-up script inside its VPC (loaded by Python at start-up).

The sandbox runs the script with this directory on PYTHONPATH. Sockets then behave as on the instance:
- `getaddrinfo` resolves the names of in-VPC endpoints (a MemoryDB cluster endpoint, an EFS DNS name, a
  private DNS name) to their VPC address;
- a TCP connect to anything but loopback asks the sandbox whether the VPC lets it through
  (`/moto-api/cloudplane/network/reach`): reachable and listening -> the socket really connects to a loopback
  stand-in; reachable but nothing listening -> ConnectionRefusedError; not reachable -> after at most a
  second (or the socket's shorter timeout) TimeoutError, as a dropped SYN gives;
- `bind` to the wildcard or the instance's own address really binds an ephemeral loopback port (scripts of
  several instances never clash) and `listen` reports it, so load balancers' health checks find it;
  `getsockname` shows the port the script asked for.
Loopback traffic (the sandbox endpoint itself) passes untouched; nothing here ever sends a packet elsewhere.
Standard library only: it runs in whatever interpreter the script names.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import time
import weakref
from typing import Any
from urllib.parse import urlparse

_IMDS = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "")
_SANDBOX = (os.environ.get("AWS_ENDPOINT_URL") or "").rstrip("/")
_MARKER = "/moto-api/cloudplane/imds/"
_INSTANCE_ID = _IMDS.split(_MARKER, 1)[1].strip("/") if _MARKER in _IMDS else ""
_DROPPED_SYN_SECONDS = 1.0

_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_bind = socket.socket.bind
_listen = socket.socket.listen
_getsockname = socket.socket.getsockname
_getpeername = socket.socket.getpeername

# socket -> the (host, port) the script bound or connected to, where the real one is a loopback stand-in
_bound: weakref.WeakKeyDictionary[socket.socket, tuple[str, int]] = weakref.WeakKeyDictionary()
_peers: weakref.WeakKeyDictionary[socket.socket, tuple[str, int]] = weakref.WeakKeyDictionary()
_sandbox_host = urlparse(_SANDBOX).hostname or ""


def _ask(path: str, body: dict[str, Any]) -> dict[str, Any]:
    import urllib.request

    request = urllib.request.Request(
        f"{_SANDBOX}/moto-api/cloudplane/network/{path}",
        data=json.dumps(dict(body, instance_id=_INSTANCE_ID)).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def _address(host: Any) -> Any:
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0])
    except ValueError:
        return None


def _local(host: Any) -> bool:
    if host in (None, "", "localhost", _sandbox_host):
        return True
    address = _address(host)
    return address is not None and address.is_loopback


def getaddrinfo(host: Any, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
    name = host.decode() if isinstance(host, bytes) else host
    if _local(name) or _address(name) is not None or family == socket.AF_INET6:
        return _getaddrinfo(host, port, family, type, proto, flags)
    try:
        address = _ask("resolve", {"host": name}).get("address")
    except OSError:
        address = None
    if not address:
        return _getaddrinfo(host, port, family, type, proto, flags)
    number = socket.getservbyname(port) if isinstance(port, str) and not port.isdigit() else int(port or 0)
    kinds = [type] if type else [socket.SOCK_STREAM, socket.SOCK_DGRAM]
    return [
        (
            socket.AF_INET,
            kind,
            proto or (socket.IPPROTO_TCP if kind == socket.SOCK_STREAM else socket.IPPROTO_UDP),
            "",
            (address, number),
        )
        for kind in kinds
    ]


def _emulated(sock: socket.socket, address: Any) -> bool:
    return (
        sock.family in (socket.AF_INET, socket.AF_INET6)
        and sock.type == socket.SOCK_STREAM
        and isinstance(address, tuple)
        and not _local(address[0])
    )


def _decide(sock: socket.socket, address: tuple[Any, ...]) -> tuple[str, int] | None:
    """The loopback stand-in to connect to; raises as the VPC would when there is none."""
    host, port = str(address[0]), int(address[1])
    if _address(host) is None:
        host = getaddrinfo(host, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
    try:
        answer = _ask("reach", {"host": host, "port": port})
    except OSError:
        answer = {"reachable": False, "reason": "the sandbox did not answer"}
    if answer.get("connect"):
        stand_in = answer["connect"]
        return str(stand_in[0]), int(stand_in[1])
    if answer.get("reachable"):
        raise ConnectionRefusedError(errno.ECONNREFUSED, f"Connection refused ({answer.get('reason')})")
    timeout = sock.gettimeout()
    time.sleep(_DROPPED_SYN_SECONDS if timeout is None else min(timeout, _DROPPED_SYN_SECONDS))
    raise TimeoutError(errno.ETIMEDOUT, f"timed out ({answer.get('reason')})")


def connect(self: socket.socket, address: Any) -> None:
    if not _emulated(self, address):
        return _connect(self, address)
    stand_in = _decide(self, address)
    assert stand_in is not None
    _connect(self, stand_in)
    _peers[self] = (str(address[0]), int(address[1]))
    return None


def connect_ex(self: socket.socket, address: Any) -> int:
    if not _emulated(self, address):
        return _connect_ex(self, address)
    try:
        connect(self, address)
    except OSError as exc:
        return exc.errno or errno.EIO
    return 0


def bind(self: socket.socket, address: Any) -> None:
    # The wildcard or the instance's own address; an explicit loopback bind stays as it is.
    remapped = isinstance(address, tuple) and (address[0] in ("", "0.0.0.0", "::") or not _local(address[0]))
    if (
        self.family not in (socket.AF_INET, socket.AF_INET6)
        or self.type != socket.SOCK_STREAM
        or not remapped
    ):
        return _bind(self, address)
    loopback = "127.0.0.1" if self.family == socket.AF_INET else "::1"
    _bind(self, (loopback, 0))
    port = int(address[1]) or int(_getsockname(self)[1])
    _bound[self] = (str(address[0]) or ("0.0.0.0" if self.family == socket.AF_INET else "::"), port)
    return None


def listen(self: socket.socket, *backlog: int) -> None:
    _listen(self, *backlog)
    wanted = _bound.get(self)
    if wanted is not None:
        host, port = _getsockname(self)[:2]
        try:
            _ask("listen", {"port": wanted[1], "local_host": host, "local_port": port})
        except OSError as exc:
            import sys

            print(f"sandbox: could not report the listener on port {wanted[1]}: {exc}", file=sys.stderr)


def getsockname(self: socket.socket) -> Any:
    wanted = _bound.get(self)
    if wanted is None:
        return _getsockname(self)
    real = _getsockname(self)
    return (wanted[0], wanted[1], *real[2:])


def getpeername(self: socket.socket) -> Any:
    return _peers.get(self) or _getpeername(self)


if _INSTANCE_ID and _SANDBOX:
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.bind = bind  # type: ignore[method-assign]
    socket.socket.listen = listen  # type: ignore[method-assign]
    socket.socket.getsockname = getsockname  # type: ignore[method-assign]
    socket.socket.getpeername = getpeername  # type: ignore[method-assign]
