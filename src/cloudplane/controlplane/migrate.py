"""Bring a database to the newest schema, safely when several processes start at once."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text

from cloudplane.controlplane.db import make_engine, redact
from cloudplane.controlplane.settings import SCHEMA_REVISION
from cloudplane.errors import OperationFailed

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# The newest revision in migrations/versions (settings.SCHEMA_REVISION; a test keeps the two in step).
HEAD = SCHEMA_REVISION
# Any constant 64-bit key; PostgreSQL advisory locks are per database.
_PG_LOCK_KEY = int.from_bytes(b"cldplane", "big")
# Alembic keeps its running context in module globals: one migration at a time per process.
_ALEMBIC_LOCK = threading.Lock()


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def current_revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table("alembic_version"):
        return None
    return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(url: str) -> None:
    """`alembic upgrade head` on `url`, in one transaction holding a lock.

    PostgreSQL: a transaction-scoped advisory lock, so a second process waits and then finds the
    schema current. SQLite: the engine begins with BEGIN IMMEDIATE, taking the write lock before
    Alembic reads anything.
    """
    engine = make_engine(url)
    try:
        if not _needs_upgrade(engine):
            return
        from alembic import command
        from alembic.util import CommandError

        with _ALEMBIC_LOCK, engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
            try:
                command.upgrade(alembic_config(conn), "head")
            except CommandError as exc:
                # Typically a schema written by a newer cloudplane than this one.
                raise OperationFailed(f"cannot migrate the database {redact(url)}: {exc}") from exc
    finally:
        engine.dispose()


def _needs_upgrade(engine: Engine) -> bool:
    with engine.connect() as conn:
        return current_revision(conn) != HEAD
