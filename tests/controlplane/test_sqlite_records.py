"""The embedded CLI's quick path on SQLite (controlplane.sqlite_records) answers as the service does, on the same
rows, and is taken only where it may be: a file at the newest schema. The contract tests of test_clouds.py and
test_claims.py run through it too (the "quick" transport)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.controlplane.service import ControlPlaneService
from cloudplane.controlplane.sqlite_records import SqliteRecords
from cloudplane.errors import InputError, NotFound


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cloudplane.db'}"


@pytest.fixture
def service(url: str):
    service = ControlPlaneService.open(url)
    yield service
    service.close()


@pytest.fixture
def quick(url: str, service: ControlPlaneService):
    records = SqliteRecords.open(url)
    assert records is not None
    yield records
    records.close()


def make_clouds(service: ControlPlaneService, count: int, *, same_moment: bool = False) -> list[str]:
    if same_moment:  # ties on the creation time: pages must break them by id, as the service does
        moment = datetime(2026, 11, 30, 10, 0, 0, 123456, tzinfo=UTC)
        service._store._clock = lambda: moment
    made = [
        service.create_cloud(
            name=f"c{index}",
            provider="aws",
            region="us-west-2",
            deployment="managed",
            networking="public",
            options={"note": f"cloud {index}", "nested": {"ok": True}},
            resources={"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0a1b2c3d", "subnet-0b1b2c3d"]},
        )["id"]
        for index in range(count)
    ]
    return made


@pytest.mark.parametrize("same_moment", [False, True], ids=["distinct-times", "one-time"])
def test_lists_and_pages_are_the_services(
    service: ControlPlaneService, quick: SqliteRecords, same_moment: bool
) -> None:
    make_clouds(service, 7, same_moment=same_moment)
    service.claim_cloud(service.list_clouds()[2]["id"], operation="setup", owner="me", seconds=60)
    assert quick.list_clouds() == service.list_clouds()
    assert quick.list_clouds(name="c3") == service.list_clouds(name="c3")
    assert quick.list_clouds(name="nosuch") == []
    for limit in (1, 3, 7, 100):
        cursor, seen = None, []
        while True:
            page = quick.list_clouds_page(limit=limit, cursor=cursor)
            assert page == service.list_clouds_page(limit=limit, cursor=cursor)
            seen += [cloud["id"] for cloud in page["clouds"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == [cloud["id"] for cloud in service.list_clouds()]


def test_what_the_quick_path_writes_the_service_reads_alike(
    service: ControlPlaneService, quick: SqliteRecords
) -> None:
    first, second = make_clouds(service, 2)
    service.set_default(first)
    moved = quick.set_default(second)
    assert moved["is_default"] and moved == service.get_cloud(second)
    assert service.get_cloud(first)["is_default"] is False
    assert quick.set_default(second) == moved  # already the default: nothing changes

    report = {"passed": False, "findings": [{"check": "VPC-1", "message": "é ✓"}], "counts": {"error": 1}}
    stored = quick.store_verification(first, report)
    assert stored == service.get_cloud(first)
    assert stored["last_verification"] == report and stored["last_verified_at"]
    # The service writes on top of what the quick path wrote, and the quick path reads the service's rows.
    service.store_verification(first, {"passed": True})
    assert quick.get_cloud(first) == service.get_cloud(first)


def test_errors_are_the_services(service: ControlPlaneService, quick: SqliteRecords) -> None:
    make_clouds(service, 1)
    for call in (
        lambda target: target.get_cloud("cld_aaaaaaaaaaaaaaaaaaaa"),
        lambda target: target.set_default("cld_aaaaaaaaaaaaaaaaaaaa"),
        lambda target: target.store_verification("cld_aaaaaaaaaaaaaaaaaaaa", {}),
        lambda target: target.list_clouds_page(limit=0),
        lambda target: target.list_clouds_page(cursor="not-a-cursor"),
        lambda target: target.list_clouds(name=3),
        lambda target: target.store_verification(service.list_clouds()[0]["id"], ["not", "a", "report"]),
    ):
        with pytest.raises(InputError) as ours:
            call(quick)
        with pytest.raises(InputError) as theirs:
            call(service)
        assert (type(ours.value), str(ours.value)) == (type(theirs.value), str(theirs.value))
    assert isinstance(ours.value, InputError) and not isinstance(ours.value, NotFound)


def test_only_a_file_at_the_newest_schema_takes_the_quick_path(tmp_path: Path, url: str) -> None:
    assert SqliteRecords.open(url) is None  # no file yet: the service creates and migrates it
    assert SqliteRecords.open("sqlite:///:memory:") is None
    assert SqliteRecords.open("postgresql+psycopg://u@127.0.0.1/db") is None
    ControlPlaneService.open(url).close()
    assert SqliteRecords.open(f"{url}?timeout=3") is None  # options: SQLAlchemy's to read
    records = SqliteRecords.open(url)
    assert records is not None
    records.close()

    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:  # as an older cloudplane left it
        db.execute("DROP INDEX ix_clouds_org_created_at_id")
        db.execute("CREATE INDEX ix_clouds_created_at ON clouds (created_at)")
        db.execute("UPDATE alembic_version SET version_num = '0005'")
    assert SqliteRecords.open(url) is None
    with ControlPlaneClient.embedded(url) as client:  # the service's path, which migrates the file
        assert client._quick is None
    with ControlPlaneClient.embedded(url) as client:
        assert client._quick is not None
    Path(tmp_path / "junk.db").write_bytes(b"not a database at all" * 100)
    assert SqliteRecords.open(f"sqlite:///{tmp_path / 'junk.db'}") is None


_IMPORTS_OF_A_COMMAND = """
import sys
from cloudplane.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as end:
    code = end.code
heavy = sorted({name.split(".")[0] for name in sys.modules} & {"sqlalchemy", "alembic", "fastapi", "pydantic",
                                                               "httpx", "boto3", "botocore"})
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


@pytest.mark.parametrize(
    "command", [["cloud", "list"], ["cloud", "get", "--name", "c0"], ["cloud", "set-default", "c1"]]
)
def test_everyday_commands_load_no_heavy_library(
    service: ControlPlaneService, url: str, tmp_path: Path, command: list[str]
) -> None:
    make_clouds(service, 2)
    run = subprocess.run(
        [sys.executable, "-c", "import json\n" + _IMPORTS_OF_A_COMMAND, *command],
        env={"CLOUDPLANE_DATABASE_URL": url, "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    outcome = json.loads(run.stderr.strip().splitlines()[-1])
    assert outcome == {"code": 0, "heavy": []}, run.stderr
