"""Local data: the SQLite file and CLOUDPLANE_HOME are private, and a home or database URL that cannot
be used is one line on stderr, never a traceback."""

from __future__ import annotations

import os
import socket
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.controlplane.settings import ensure_home
from tests.helpers import Run, cloudplane


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def one_line_error(run: Run, exit_code: int) -> str:
    assert run.exit_code == exit_code, run
    assert run.stderr.startswith("error: ") and run.stderr.count("\n") == 1, run.stderr
    assert "Traceback" not in run.stderr and "unexpected" not in run.stderr
    return run.stderr


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- private by default ------------------------------------------------------------------------


def test_a_new_home_and_database_are_private(isolated_env: Path, umask: int) -> None:
    run = cloudplane("cloud", "list")
    assert run.exit_code == 0 and run.stderr == ""
    assert mode(isolated_env) == 0o700
    assert mode(isolated_env / "cloudplane.db") == 0o600
    assert mode(isolated_env.parent) == 0o777 & ~umask  # parents made on the way are the user's business


def test_a_home_made_by_an_earlier_command_stays_private(isolated_env: Path, umask: int) -> None:
    assert cloudplane("cloud", "list").exit_code == 0
    assert ensure_home() == isolated_env
    again = cloudplane("cloud", "list")
    assert again.exit_code == 0 and again.stderr == ""
    assert mode(isolated_env) == 0o700 and mode(isolated_env / "cloudplane.db") == 0o600


def test_a_database_url_file_is_private_too(
    isolated_env: Path, tmp_path: Path, umask: int, monkeypatch
) -> None:
    database = tmp_path / "elsewhere" / "cloudplane.db"
    database.parent.mkdir()
    monkeypatch.setenv("CLOUDPLANE_DATABASE_URL", f"sqlite:///{database}")
    run = cloudplane("cloud", "list")
    assert run.exit_code == 0 and run.stderr == ""  # the directory is not cloudplane's to judge
    assert mode(database) == 0o600


def test_journal_and_wal_files_are_as_private_as_the_database(isolated_env: Path, umask: int) -> None:
    with ControlPlaneClient.from_env() as client:
        client.create_cloud("local", "aws", "us-west-2", "managed", "public")
    database = isolated_env / "cloudplane.db"

    conn = sqlite3.connect(database, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE clouds SET name = name")
        assert mode(Path(f"{database}-journal")) == 0o600
        conn.execute("ROLLBACK")
        assert conn.execute("PRAGMA journal_mode=WAL").fetchone() == ("wal",)
        conn.execute("UPDATE clouds SET name = name")
        assert mode(Path(f"{database}-wal")) == 0o600
        assert mode(Path(f"{database}-shm")) == 0o600
    finally:
        conn.close()


# --- warnings for data others can reach -----------------------------------------------------------


@pytest.mark.parametrize(
    ("home_mode", "db_mode", "fixes"),
    [
        (0o755, 0o600, ["chmod 700 {home}"]),
        (0o700, 0o644, ["chmod 600 {home}/cloudplane.db"]),
        (0o750, 0o660, ["chmod 700 {home}", "chmod 600 {home}/cloudplane.db"]),
    ],
)
def test_data_others_can_reach_is_one_warning_line_per_command(
    isolated_env: Path, home_mode: int, db_mode: int, fixes: list[str]
) -> None:
    assert cloudplane("cloud", "list").exit_code == 0
    isolated_env.chmod(home_mode)
    (isolated_env / "cloudplane.db").chmod(db_mode)

    for _ in range(2):  # every command says it, once
        run = cloudplane("cloud", "list", "--output", "json")
        assert run.exit_code == 0 and run.json() == {"clouds": []}
        (line,) = run.stderr.splitlines()
        assert line.startswith("warning: ") and "External IDs" in line
        assert line.endswith("restrict with: " + " && ".join(fix.format(home=isolated_env) for fix in fixes))
    # Only warned: the user may share the data on purpose.
    assert mode(isolated_env) == home_mode and mode(isolated_env / "cloudplane.db") == db_mode


# --- a home that cannot be used -------------------------------------------------------------------


def test_a_home_that_is_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path / "a-file"
    home.write_text("not a directory")
    monkeypatch.setenv("CLOUDPLANE_HOME", str(home))
    monkeypatch.delenv("CLOUDPLANE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOUDPLANE_URL", raising=False)
    error = one_line_error(cloudplane("cloud", "list"), 2)
    assert error == (
        f"error: CLOUDPLANE_HOME {str(home)!r} exists and is not a directory; "
        "set CLOUDPLANE_HOME to a directory, or move that file out of the way\n"
    )


def test_a_home_under_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = tmp_path / "a-file"
    parent.write_text("not a directory")
    monkeypatch.setenv("CLOUDPLANE_HOME", str(parent / "sub" / "home"))
    monkeypatch.delenv("CLOUDPLANE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOUDPLANE_URL", raising=False)
    error = one_line_error(cloudplane("cloud", "list"), 2)
    assert (
        f"cannot create CLOUDPLANE_HOME {str(parent / 'sub' / 'home')!r}: {str(parent)!r} is not a directory"
        in error
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_home_under_a_read_only_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parent = tmp_path / "read-only"
    parent.mkdir(mode=0o500)
    monkeypatch.setenv("CLOUDPLANE_HOME", str(parent / "home"))
    monkeypatch.delenv("CLOUDPLANE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOUDPLANE_URL", raising=False)
    error = one_line_error(cloudplane("cloud", "list"), 2)
    assert "Permission denied; set CLOUDPLANE_HOME to a directory you can write to" in error


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux /proc")
def test_a_home_where_nothing_can_be_created(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPLANE_HOME", "/proc/cloudplane-home")
    monkeypatch.delenv("CLOUDPLANE_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOUDPLANE_URL", raising=False)
    error = one_line_error(cloudplane("cloud", "list"), 2)
    assert error.startswith("error: cannot create CLOUDPLANE_HOME '/proc/cloudplane-home': ")


# --- a database URL that cannot be used -----------------------------------------------------------

SUPPORTED = (
    "use sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE (check CLOUDPLANE_DATABASE_URL)"
)


@pytest.mark.parametrize(
    ("url", "exit_code", "expected"),
    [
        ("not-a-url", 2, f"error: 'not-a-url' is not a database URL; {SUPPORTED}\n"),
        (
            "mysql://me:hunter2@localhost/clouds",
            2,
            "error: unsupported database 'mysql' in 'mysql://me:***@localhost/clouds': cloudplane stores its "
            f"data in SQLite or PostgreSQL; {SUPPORTED}\n",
        ),
        (
            "postgresql+asyncpg://me:hunter2@localhost/clouds",
            2,
            "error: unsupported database 'postgresql+asyncpg' in 'postgresql+asyncpg://me:***@localhost/clouds'",
        ),
        (
            "postgresql://me:hunter2@localhost:port/clouds",
            2,
            "error: invalid database URL 'postgresql+psycopg://me:***@localhost:port/clouds': ",
        ),
    ],
)
def test_a_database_url_that_is_not_usable_is_bad_input(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, url: str, exit_code: int, expected: str
) -> None:
    monkeypatch.setenv("CLOUDPLANE_DATABASE_URL", url)
    error = one_line_error(cloudplane("cloud", "list"), exit_code)
    assert error.startswith(expected) and "hunter2" not in error
    assert not isolated_env.exists()


def test_an_unreachable_database_is_a_failure_naming_the_url(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    monkeypatch.setenv("CLOUDPLANE_DATABASE_URL", f"postgresql://me:hunter2@127.0.0.1:{port}/clouds")
    error = one_line_error(cloudplane("cloud", "list"), 1)
    assert error.startswith(
        f"error: cannot connect to the control-plane database postgresql+psycopg://me:***@127.0.0.1:{port}/clouds: "
    )
    assert error.endswith("(is the database server running, and is CLOUDPLANE_DATABASE_URL right?)\n")
    assert "hunter2" not in error


def test_a_sqlite_file_in_a_missing_directory_names_the_path(
    isolated_env: Path, tmp_path: Path, monkeypatch
) -> None:
    database = tmp_path / "missing" / "x.db"
    monkeypatch.setenv("CLOUDPLANE_DATABASE_URL", f"sqlite:///{database}")
    error = one_line_error(cloudplane("cloud", "list"), 1)
    assert (
        error
        == f"error: cannot open the control-plane database sqlite:///{database}: No such file or directory: {database}\n"
    )


# --- as a user runs it: the console script, no traceback ----------------------------------------


def test_the_console_script_prints_one_line_for_every_unusable_setting(tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = [
        ({"CLOUDPLANE_HOME": str(a_file)}, 2),
        ({"CLOUDPLANE_HOME": str(a_file / "home")}, 2),
        ({"CLOUDPLANE_DATABASE_URL": "not-a-url"}, 2),
        ({"CLOUDPLANE_DATABASE_URL": "mysql://u:p@localhost/x"}, 2),
        ({"CLOUDPLANE_DATABASE_URL": f"postgresql+psycopg://u@127.0.0.1:{closed_port()}/x"}, 1),
    ]
    script = Path(sys.executable).with_name("cloudplane")
    base = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDPLANE_")}
    base["CLOUDPLANE_HOME"] = str(tmp_path / "home")
    for env, exit_code in cases:
        done = subprocess.run(
            [str(script), "cloud", "list"], env={**base, **env}, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == exit_code, (env, done.stderr)
        assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1, (env, done.stderr)
        assert "Traceback" not in done.stderr
