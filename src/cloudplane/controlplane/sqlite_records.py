"""The embedded control plane's everyday cloud operations, on its SQLite file, with the standard library's sqlite3.

`cloud list`, `cloud get`, `cloud set-default` and a verification's read of its cloud and write of its report
are a query or two each; opening the full service for them would first cost importing SQLAlchemy, several times
the query itself. These operations answer exactly as ControlPlaneService's of the same names do for the local
operator, on a database already at the newest schema; any other database (a new file, an older schema,
PostgreSQL) goes through the service, which migrates it first. tests/controlplane/test_sqlite_records.py holds
the two to the same answers and the same rows.

Rows are read and written in SQLAlchemy's SQLite formats: datetimes as naive UTC text with microseconds, JSON as
json.dumps text, booleans as 0/1.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cloudplane.controlplane.auth import LOCAL_ORG
from cloudplane.controlplane.paging import DEFAULT_LIMIT, check_limit, decode_cursor, encode_cursor
from cloudplane.controlplane.records import cloud_record, text_field
from cloudplane.controlplane.settings import SCHEMA_REVISION
from cloudplane.errors import InputError, NotFound

# The URLs settings.normalize_url makes for a SQLite file; anything with options goes through SQLAlchemy.
_FILE_URL = re.compile(r"sqlite(?:\+pysqlite)?:///([^?]+)")
# The busy timeout of the service's engine (db.SQLITE_BUSY_TIMEOUT_MS): a writer waits for another, as there.
_BUSY_TIMEOUT_SECONDS = 15.0
_DATETIME_TEXT = "%Y-%m-%d %H:%M:%S.%f"
_DATETIME_COLUMNS = (
    "created_at",
    "updated_at",
    "last_verified_at",
    "operation_expires_at",
    "last_functional_verified_at",
)
_JSON_COLUMNS = ("resources", "options", "last_verification", "last_functional_verification")


def sqlite_path(url: str) -> Path | None:
    """The file of a plain SQLite URL; None for anything else (in-memory, URI options, other databases)."""
    match = _FILE_URL.fullmatch(url)
    if match is None or match.group(1) == ":memory:":
        return None
    return Path(match.group(1))


class SqliteRecords:
    """The local organisation's clouds on one SQLite connection, used one call at a time (the caller locks)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    @classmethod
    def open(cls, url: str) -> SqliteRecords | None:
        """On the file of `url` when it exists and holds the newest schema; None otherwise."""
        path = sqlite_path(url)
        if path is None or not path.is_file():
            return None
        connection = sqlite3.connect(
            path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        try:
            connection.execute("PRAGMA foreign_keys=ON")
            revisions = connection.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.Error:
            connection.close()
            return None
        if revisions != [(SCHEMA_REVISION,)]:
            connection.close()
            return None
        connection.row_factory = sqlite3.Row
        return cls(connection)

    def close(self) -> None:
        self._db.close()

    # --- reads ----------------------------------------------------------------------------------

    def list_clouds(self, *, name: str | None = None) -> list[dict[str, Any]]:
        if name is not None:
            text_field("name", name)
        return [_record(row) for row in self._select(name=name)]

    def list_clouds_page(
        self, *, name: str | None = None, limit: int = DEFAULT_LIMIT, cursor: str | None = None
    ) -> dict[str, Any]:
        if name is not None:
            text_field("name", name)
        limit = check_limit(limit)
        after = decode_cursor(cursor) if cursor is not None else None
        rows = self._select(name=name, limit=limit + 1, after=after)
        page = rows[:limit]
        last = page[-1] if len(rows) > limit else None
        return {
            "clouds": [_record(row) for row in page],
            "next_cursor": encode_cursor(_moment(last["created_at"]), last["id"]) if last else None,
        }

    def get_cloud(self, cloud_id: str) -> dict[str, Any]:
        return _record(self._existing(text_field("cloud id", cloud_id)))

    # --- writes ---------------------------------------------------------------------------------

    def set_default(self, cloud_id: str) -> dict[str, Any]:
        """The only default cloud of the organisation from now on, in one transaction."""
        cloud_id = text_field("cloud id", cloud_id)
        with self._writing():
            if not self._existing(cloud_id)["is_default"]:
                now = _text(_now())
                self._db.execute(
                    "UPDATE clouds SET is_default = 0, updated_at = ? "
                    "WHERE org = ? AND is_default = 1 AND id != ?",
                    (now, LOCAL_ORG, cloud_id),
                )
                self._db.execute(
                    "UPDATE clouds SET is_default = 1, updated_at = ? WHERE id = ?", (now, cloud_id)
                )
            return _record(self._existing(cloud_id))

    def store_verification(self, cloud_id: str, report: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(report, Mapping):
            raise InputError("report: the verification report must be a JSON object")
        cloud_id = text_field("cloud id", cloud_id)
        with self._writing():
            self._existing(cloud_id)
            now = _text(_now())
            self._db.execute(
                "UPDATE clouds SET last_verification = ?, last_verified_at = ?, updated_at = ? WHERE id = ?",
                (json.dumps(dict(report)), now, now, cloud_id),
            )
            return _record(self._existing(cloud_id))

    # --- helpers --------------------------------------------------------------------------------

    def _select(
        self, *, name: str | None, limit: int | None = None, after: tuple[datetime, str] | None = None
    ) -> list[sqlite3.Row]:
        """As CloudStore.list: creation order, `after` (creation time, id) excluded."""
        query = "SELECT * FROM clouds WHERE org = ?"
        values: list[Any] = [LOCAL_ORG]
        if name is not None:
            query += " AND name = ?"
            values.append(name)
        if after is not None:
            moment, after_id = _text(after[0]), after[1]
            query += " AND created_at >= ? AND (created_at > ? OR (created_at = ? AND id > ?))"
            values += [moment, moment, moment, after_id]
        query += " ORDER BY created_at, id"
        if limit is not None:
            query += " LIMIT ?"
            values.append(limit)
        return self._db.execute(query, values).fetchall()

    def _existing(self, cloud_id: str) -> sqlite3.Row:
        row = self._db.execute(
            "SELECT * FROM clouds WHERE id = ? AND org = ?", (cloud_id, LOCAL_ORG)
        ).fetchone()
        if row is None:
            raise NotFound(f"no cloud with id {cloud_id!r}")
        return row

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """One write transaction holding SQLite's write lock from the start, as the service's engine does."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")


def _record(row: sqlite3.Row) -> dict[str, Any]:
    fields = dict(zip(row.keys(), tuple(row), strict=True))
    for column in _DATETIME_COLUMNS:
        fields[column] = _moment(fields[column]) if fields[column] is not None else None
    for column in _JSON_COLUMNS:
        fields[column] = json.loads(fields[column]) if fields[column] is not None else None
    fields["is_default"] = bool(fields["is_default"])
    return cloud_record(SimpleNamespace(**fields))


def _now() -> datetime:
    return datetime.now(UTC)


def _text(moment: datetime) -> str:
    """A datetime as SQLAlchemy writes it into SQLite: naive UTC with microseconds."""
    return moment.astimezone(UTC).replace(tzinfo=None).strftime(_DATETIME_TEXT)


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)
