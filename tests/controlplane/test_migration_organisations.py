"""Migration 0003 on a database that already holds clouds: they land in the local organisation."""

from __future__ import annotations

from alembic import command
from sqlalchemy import create_engine, text

from cloudplane.client import ControlPlaneClient
from cloudplane.controlplane import migrate
from tests.controlplane.conftest import mint_token, serve

CLOUD_ID = "cld_0000000000000000old1"


def _at(url: str, revision: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        command.upgrade(migrate.alembic_config(conn), revision)
    engine.dispose()


def test_0001_to_head_keeps_a_cloud_in_the_local_organisation(empty_database_url: str) -> None:
    url = empty_database_url
    _at(url, "0001")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO clouds (id, name, provider, region, deployment, networking, state, is_default,"
                " external_id, resources, options, created_at, updated_at)"
                " VALUES (:id, 'old', 'aws', 'us-west-2', 'managed', 'public', 'active', :yes,"
                " 'cloudplane-old', '{}', '{}', :now, :now)"
            ),
            {"id": CLOUD_ID, "yes": True, "now": "2026-11-01T00:00:00+00:00"},
        )
    _at(url, "0002")
    migrate.upgrade(url)
    with engine.connect() as conn:
        assert migrate.current_revision(conn) == migrate.HEAD
        assert (
            conn.execute(text("SELECT org FROM clouds WHERE id = :id"), {"id": CLOUD_ID}).scalar() == "local"
        )
        assert conn.execute(text("SELECT name FROM organisations")).scalars().all() == ["local"]
    engine.dispose()

    with ControlPlaneClient.embedded(url) as direct:
        [cloud] = direct.list_clouds()
        assert (cloud["id"], cloud["name"], cloud["is_default"]) == (CLOUD_ID, "old", True)
        # Names and the default are per organisation now.
        acme_token = mint_token(url, "acme")
    with serve(url) as served, ControlPlaneClient.remote(served.url, token=acme_token) as acme:
        same_name = acme.create_cloud("old", "aws", "us-west-2", "managed", "public")
        assert acme.set_default(same_name["id"])["is_default"] is True
        assert [c["id"] for c in acme.list_clouds()] == [same_name["id"]]
    with ControlPlaneClient.embedded(url) as direct:
        assert direct.get_cloud(CLOUD_ID)["is_default"] is True
