"""Control-plane fixtures: real databases (a SQLite file, and PostgreSQL in a schema of its own per
test session) and the real client talking HTTP to the real app.

PostgreSQL comes from CLOUDPLANE_TEST_POSTGRES_URL; when it cannot be reached those tests are
skipped, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
import uvicorn
from fastapi import FastAPI, Request
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cloudplane.client import ControlPlaneClient
from cloudplane.controlplane.app import create_app
from cloudplane.controlplane.service import ControlPlaneService

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def postgres_url() -> str:
    return os.environ.get("CLOUDPLANE_TEST_POSTGRES_URL") or DEFAULT_POSTGRES_URL


def in_schema(url: str, schema: str) -> str:
    """The URL with every connection's search_path set to `schema`."""
    return (
        make_url(url)
        .update_query_dict({"options": f"-csearch_path={schema}"})
        .render_as_string(hide_password=False)
    )


@pytest.fixture(scope="session")
def postgres_server() -> str:
    url = postgres_url()
    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    try:
        psycopg.connect(libpq, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        message = f"PostgreSQL not reachable at {make_url(url)!r}: {str(exc).strip().splitlines()[0]}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url


@pytest.fixture(scope="session")
def new_postgres_schema(postgres_server: str) -> Iterator[Callable[[], str]]:
    """Makes empty schemas (returning a URL bound to each); drops them all at the end."""
    admin = create_engine(postgres_server, isolation_level="AUTOCOMMIT")
    made: list[str] = []

    def make() -> str:
        schema = f"cloudplane_test_{secrets.token_hex(6)}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        made.append(schema)
        return in_schema(postgres_server, schema)

    yield make
    with admin.connect() as conn:
        for schema in made:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_session_url(new_postgres_schema: Callable[[], str]) -> str:
    """One schema for the behaviour tests of this session, emptied before each test."""
    return new_postgres_schema()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """An empty database (no schema yet on SQLite; migrated but emptied on PostgreSQL)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cloudplane.db'}"
    url = request.getfixturevalue("postgres_session_url")
    engine = create_engine(url)
    with engine.begin() as conn:
        has_table = conn.execute(text("SELECT to_regclass('clouds') IS NOT NULL")).scalar()
        if has_table:
            conn.execute(text("DELETE FROM clouds"))
            conn.execute(text("DELETE FROM tokens"))
            conn.execute(text("DELETE FROM organisations WHERE name <> 'local'"))
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def empty_database_url(request: pytest.FixtureRequest, tmp_path) -> str:
    """A database with nothing in it at all, not even the Alembic version table."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.db'}"
    return request.getfixturevalue("new_postgres_schema")()


class Served:
    """The control-plane server, for real: the FastAPI app under uvicorn on a free port of 127.0.0.1."""

    def __init__(self, app: FastAPI, url: str) -> None:
        self.app = app
        self.url = url
        self.authorizations: list[str | None] = []


def mint_token(database_url: str, org: str = "local", *, admin: bool = True, name: str | None = None) -> str:
    """A token minted on the database directly, as `cloudplane token create` without a server does."""
    with ControlPlaneClient.embedded(database_url) as direct:
        return direct.create_token(org=org, name=name, admin=admin)["token"]


@contextmanager
def serve(database_url: str, *, aws_principal: str | None = None, hot_reads: bool = True) -> Iterator[Served]:
    app = create_app(database_url, aws_principal=aws_principal, hot_reads=hot_reads)
    # Marked as TCP, so that asyncio turns Nagle's algorithm off on its connections (as `cloudplane server`
    # does): otherwise each answer on a kept-alive connection waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    served = Served(app, f"http://127.0.0.1:{sock.getsockname()[1]}")

    @app.middleware("http")
    async def record_authorization(request: Request, call_next: Any) -> Any:
        served.authorizations.append(request.headers.get("authorization"))
        return await call_next(request)

    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield served
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def server(database_url: str) -> Iterator[Served]:
    with serve(database_url) as served:
        yield served


# "quick": the direct transport on a SQLite file already at the newest schema, where the everyday cloud
# operations skip the service (controlplane.sqlite_records); PostgreSQL has no such path.
TRANSPORTS = ["direct", "quick", "http"]


# Where the quick path's operations are the ones under test.
_QUICK_MODULES = ("test_clouds.py", "test_claims.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in list(items):
        params = getattr(item, "callspec", None)
        if params is None or params.params.get("client") != "quick":
            continue
        if params.params.get("database_url") == "postgres" or item.path.name not in _QUICK_MODULES:
            items.remove(item)


@pytest.fixture(params=TRANSPORTS)
def client(request: pytest.FixtureRequest, database_url: str) -> Iterator[ControlPlaneClient]:
    """The same contract through every transport: the service in-process (also by its quick path on SQLite),
    and HTTP to a real server."""
    if request.param in ("direct", "quick"):
        if request.param == "quick":
            ControlPlaneService.open(database_url).close()  # the schema, so that the quick path applies
        with ControlPlaneClient.embedded(database_url) as client:
            assert client.mode == "embedded"
            assert (client._quick is not None) == (request.param == "quick")
            yield client
        return
    token = mint_token(database_url, name="contract")
    with serve(database_url) as served, ControlPlaneClient.remote(served.url, token=token) as client:
        assert client.mode == "remote"
        yield client


@pytest.fixture
def isolated_env(tmp_path, monkeypatch: pytest.MonkeyPatch):
    """No control-plane settings from the developer's shell; a private CLOUDPLANE_HOME."""
    for name in ("CLOUDPLANE_URL", "CLOUDPLANE_TOKEN", "CLOUDPLANE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home" / ".cloudplane"
    monkeypatch.setenv("CLOUDPLANE_HOME", str(home))
    return home
