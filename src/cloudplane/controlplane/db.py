"""Engines and sessions for SQLite and PostgreSQL."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from cloudplane.controlplane.settings import DATABASE_URL_ENV, SUPPORTED_URLS, redact_url
from cloudplane.errors import InputError, OperationFailed

SQLITE_BUSY_TIMEOUT_MS = 15_000
# A pooled server connection used this recently is taken as alive; one idle for longer is pinged first.
IDLE_BEFORE_PING_SECONDS = 10.0
# Execution option of sessions that only read (`read_sessions`).
_READ_ONLY = "cloudplane_read_only"


def make_engine(url: str) -> Engine:
    """An engine for `url`.

    On SQLite the driver's own transaction handling is switched off and every transaction starts
    with BEGIN IMMEDIATE: DDL runs inside real transactions, and a writer takes the write lock up
    front, so concurrent processes (two CLI commands, two migrations) queue on the busy timeout
    instead of failing on a lock upgrade or losing an update. Sessions from `read_sessions` never
    write, so theirs start with a plain BEGIN and read side by side.

    A SQLite file is created readable by its owner only; SQLite gives its journal and WAL files
    the mode of the database file.
    """
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite":
        try:
            engine = create_engine(parsed)
        except (ArgumentError, ImportError) as exc:  # e.g. a driver that is not installed
            raise InputError(
                f"unsupported database URL {redact(url)!r} ({_first_line(str(exc))}); "
                f"use {SUPPORTED_URLS} (check {DATABASE_URL_ENV})"
            ) from None
        _ping_when_idle(engine)
        return engine

    path = sqlite_file(parsed)
    if path is not None:
        _create_private_file(path, url)
    engine = create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(_READ_ONLY) else "BEGIN IMMEDIATE")

    return engine


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before use when it has been idle for IDLE_BEFORE_PING_SECONDS: one that the
    database or a firewall dropped meanwhile is replaced rather than failing a request. SQLAlchemy's
    pool_pre_ping pings on every checkout, a round trip more for each read of a server's request."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < IDLE_BEFORE_PING_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError(f"a pooled connection did not answer a ping: {exc}") from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def read_sessions(engine: Engine) -> sessionmaker[Session]:
    """Sessions for reads only, each of one statement. On SQLite a server's requests then read at the same
    time instead of queueing one by one for the write lock (which a reader never needs); on PostgreSQL they
    run in autocommit, without the BEGIN and ROLLBACK round trips a transaction around one SELECT costs."""
    options: dict[str, Any] = {_READ_ONLY: True}
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "AUTOCOMMIT"
    return sessionmaker(engine.execution_options(**options), expire_on_commit=False)


def redact(url: str) -> str:
    """The URL without its password, fit for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return redact_url(url)


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or another backend."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    if parsed.query.get("uri") == "true" or parsed.query.get("mode") == "memory":
        return None
    return Path(database)


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except (ArgumentError, ValueError) as exc:
        raise InputError(
            f"invalid database URL {redact_url(url)!r}: {_first_line(str(exc))}; "
            f"use {SUPPORTED_URLS} (check {DATABASE_URL_ENV})"
        ) from None


def _create_private_file(path: Path, url: str) -> None:
    """Create the database file with mode 0600 before SQLite would create it with 0644."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OperationFailed(
            f"cannot open the control-plane database {redact(url)}: {reason}: {path}"
        ) from None
    try:
        os.fchmod(fd, 0o600)  # the umask may have taken the owner's bits too
    finally:
        os.close(fd)


def _first_line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0]
