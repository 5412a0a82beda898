"""The CLI's whole managed lifecycle with the embedded control plane on PostgreSQL instead of SQLite."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.controlplane.conftest import new_postgres_schema, postgres_server  # noqa: F401  (fixtures)
from tests.helpers import cloudplane
from tests.leftovers import tagged_resources


@pytest.mark.postgres
def test_managed_lifecycle_on_postgres(
    aws: Callable[..., Any],
    new_postgres_schema: Callable[[], str],  # noqa: F811  (the imported fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = new_postgres_schema()
    monkeypatch.setenv("CLOUDPLANE_DATABASE_URL", url)
    setup = cloudplane("cloud", "setup", "--name", "pg", "--shared-storage", "object-storage", "--yes")
    assert setup.exit_code == 0, setup.stderr
    cloud = cloudplane("cloud", "get", "--name", "pg", "--output", "json").json()
    assert cloud["state"] == "active" and cloud["last_verification"]["passed"] is True
    engine = create_engine(url)
    with engine.connect() as conn:  # the record lives in PostgreSQL, and no SQLite file was made
        assert conn.execute(text("SELECT name FROM clouds")).scalars().all() == ["pg"]
    engine.dispose()
    assert not (Path(os.environ["CLOUDPLANE_HOME"]) / "cloudplane.db").exists()
    assert cloudplane("cloud", "set-default", "pg").exit_code == 0
    assert cloudplane("cloud", "verify", "--name", "pg").exit_code == 0
    assert cloudplane("cloud", "delete", "--name", "pg", "--yes", "--delete-bucket").exit_code == 0
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert tagged_resources(aws, cloud["id"]) == {}
