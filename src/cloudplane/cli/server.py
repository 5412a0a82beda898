"""`cloudplane server`: the control plane as a shared HTTP service. Heavy modules load inside the command."""

from __future__ import annotations

import os
import socket
from typing import Any

import click

from cloudplane.errors import InputError, OperationFailed

# What the parent of `--workers N` tells each worker process (they start afresh and build their own app).
_WORKER_DATABASE_ENV = "CLOUDPLANE_SERVER_WORKER_DATABASE_URL"
_WORKER_PRINCIPAL_ENV = "CLOUDPLANE_SERVER_WORKER_AWS_PRINCIPAL"


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (0: any free port, printed at start).",
)
@click.option(
    "--database-url",
    default=None,
    metavar="URL",
    help="sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE "
    "[default: CLOUDPLANE_DATABASE_URL, else the SQLite file under CLOUDPLANE_HOME]",
)
@click.option(
    "--aws-principal",
    default=None,
    metavar="ARN",
    help="The AWS identity customer roles trust: arn:aws:iam::ACCOUNT:root, :role/NAME or :user/NAME.",
)
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes sharing the port; one per CPU core uses the machine.",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="One line per request on stdout (off by default: at a thousand requests a second it is about a "
    "quarter of the server's CPU time).",
)
def server(
    host: str, port: int, database_url: str | None, aws_principal: str | None, workers: int, access_log: bool
) -> int:
    """Serve the control plane over HTTP until Ctrl-C.

    Stateless: several servers on one PostgreSQL database serve the same clouds. Every /api/v1 route
    needs a token; mint the first admin token with `cloudplane token create --org ORG --admin` on the
    same database (without CLOUDPLANE_URL).
    """
    from cloudplane.controlplane.principal import validate_principal
    from cloudplane.controlplane.settings import DATABASE_URL_ENV, normalize_url
    from cloudplane.controlplane.settings import database_url as configured_url

    if aws_principal is not None:
        aws_principal = validate_principal(aws_principal)
    url = normalize_url(database_url) if database_url else configured_url()
    sock = _listen(host, port)
    try:
        _prepare_database(url)
        from_env = not database_url and bool(os.environ.get(DATABASE_URL_ENV))
        _serve(sock, url, aws_principal, from_env=from_env, workers=workers, access_log=access_log)
    finally:
        sock.close()
    return 0


def _listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything else so that a taken port is one clear line."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except (socket.gaierror, UnicodeError) as exc:
        raise InputError(
            f"cannot listen on {host!r}: {exc}; give --host an address of this machine"
        ) from None
    try:
        sock = socket.create_server((host, port), family=family)
    except OSError as exc:
        # create_server appends the address to strerror; the plain reason reads better.
        reason = os.strerror(exc.errno) if exc.errno else type(exc).__name__
        raise OperationFailed(f"cannot listen on {host}:{port}: {reason}; pick another --port") from None
    return tcp_socket(sock)


def tcp_socket(sock: socket.socket) -> socket.socket:
    """The same listening socket, marked as TCP. asyncio turns Nagle's algorithm off (TCP_NODELAY) only on
    connections whose socket says IPPROTO_TCP, and create_server leaves the protocol 0: without the mark,
    every answer on a kept-alive connection waits about 40 ms for the client's delayed ACK."""
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def _prepare_database(url: str) -> None:
    """Open the database and bring its schema up to date now: a bad URL or an unreachable database is
    one line before the server claims to listen."""
    from cloudplane.controlplane.embedded import open_service

    service, _ = open_service(url)
    service.close()


def _serve(
    sock: socket.socket,
    url: str,
    aws_principal: str | None,
    *,
    from_env: bool,
    workers: int,
    access_log: bool,
) -> None:
    import uvicorn

    from cloudplane.controlplane.db import redact

    app = None if workers > 1 else _app(url, aws_principal)
    address, port = sock.getsockname()[:2]
    shown_host = f"[{address}]" if ":" in address else address
    source = " (from CLOUDPLANE_DATABASE_URL)" if from_env else ""
    principal = aws_principal or "none configured (each caller's own account)"
    click.echo(f"cloudplane control plane listening on http://{shown_host}:{port}")
    click.echo(f"  database: {redact(url)}{source}")
    click.echo(f"  trusted AWS principal: {principal}")
    click.echo(f"  clients: export CLOUDPLANE_URL=http://{shown_host}:{port} CLOUDPLANE_TOKEN=<token>")
    if app is not None:
        uvicorn.Server(uvicorn.Config(app, log_level="info", lifespan="on", access_log=access_log)).run(
            sockets=[sock]
        )
        return
    from uvicorn.supervisors import Multiprocess

    click.echo(f"  workers: {workers} processes")
    os.environ[_WORKER_DATABASE_ENV] = url
    os.environ[_WORKER_PRINCIPAL_ENV] = aws_principal or ""
    config = uvicorn.Config(
        f"{__name__}:worker_app",
        factory=True,
        workers=workers,
        log_level="info",
        lifespan="on",
        access_log=access_log,
    )
    Multiprocess(config, sockets=[sock]).run()


def _app(url: str, aws_principal: str | None) -> Any:
    from cloudplane.controlplane.app import create_app

    return create_app(url, run_migrations=False, aws_principal=aws_principal)


def worker_app() -> Any:
    """The app of one worker process of `cloudplane server --workers N`, as its parent configured it."""
    return _app(os.environ[_WORKER_DATABASE_ENV], os.environ.get(_WORKER_PRINCIPAL_ENV) or None)
