"""Schema migrations: from empty, repeatable, concurrent, and identical to the models."""

from __future__ import annotations

import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from cloudplane.client import ControlPlaneClient
from cloudplane.controlplane import migrate
from cloudplane.controlplane.models import Base
from cloudplane.errors import OperationFailed


def _state(url: str) -> tuple[str | None, set[str], list]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            return migrate.current_revision(conn), set(inspect(conn).get_table_names()), diff
    finally:
        engine.dispose()


def test_head_constant_matches_the_migration_scripts() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert script.get_current_head() == migrate.HEAD


def test_upgrade_from_empty_twice_matches_the_models(empty_database_url: str) -> None:
    assert _state(empty_database_url)[:2] == (None, set())

    migrate.upgrade(empty_database_url)
    migrate.upgrade(empty_database_url)

    revision, tables, diff = _state(empty_database_url)
    assert revision == migrate.HEAD
    assert tables == {
        "alembic_version",
        "clouds",
        "organisations",
        "tokens",
        "clusters",
        "functional_verifications",
    }
    assert diff == []


def test_processes_starting_at_once_all_succeed(empty_database_url: str) -> None:
    script = "import sys; from cloudplane.controlplane import migrate; migrate.upgrade(sys.argv[1])"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, empty_database_url], stderr=subprocess.PIPE, text=True
        )
        for _ in range(3)
    ]
    failures = [proc.communicate(timeout=60)[1] for proc in processes if proc.wait(timeout=60) != 0]
    assert failures == []
    assert _state(empty_database_url)[0] == migrate.HEAD


def test_app_start_up_migrates_an_empty_database(empty_database_url: str) -> None:
    with ControlPlaneClient.embedded(empty_database_url) as client:
        assert client.list_clouds() == []
    assert _state(empty_database_url)[0] == migrate.HEAD


def test_a_schema_from_a_newer_release_is_refused_clearly(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'newer.db'}"
    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(OperationFailed, match=r"^cannot migrate the database sqlite:///.*'9999'"):
        migrate.upgrade(url)
