"""A server's pooled PostgreSQL connections: one dropped while idle (the database restarted, a firewall cut it)
is replaced before a request uses it; one in steady use is not pinged before each read."""

from __future__ import annotations

import secrets
from collections.abc import Callable

import psycopg
import pytest
from sqlalchemy import event
from sqlalchemy.engine import make_url

from cloudplane.controlplane import db
from cloudplane.controlplane.service import ControlPlaneService

pytestmark = pytest.mark.postgres


def test_a_connection_dropped_while_idle_is_replaced_and_a_busy_one_is_not_pinged(
    new_postgres_schema: Callable[[], str], postgres_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"cloudplane-pool-{secrets.token_hex(4)}"
    url = make_url(new_postgres_schema()).update_query_dict({"application_name": name})
    service = ControlPlaneService.open(url.render_as_string(hide_password=False))
    statements: list[str] = []
    event.listen(service.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        cloud = service.create_cloud(
            name="first", provider="aws", region="us-west-2", deployment="managed", networking="public"
        )
        statements.clear()
        for _ in range(3):
            assert service.get_cloud(cloud["id"])["name"] == "first"
        assert len(statements) == 3  # one SELECT each, no ping, no BEGIN

        libpq = make_url(postgres_server).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq, autocommit=True) as admin:
            killed = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s", (name,)
            ).fetchall()
        assert killed and all(row[0] for row in killed)
        monkeypatch.setattr(db, "IDLE_BEFORE_PING_SECONDS", 0.0)  # as if it had been idle a while
        assert service.get_cloud(cloud["id"])["name"] == "first"
    finally:
        service.close()
