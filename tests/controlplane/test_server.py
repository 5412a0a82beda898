"""`cloudplane server` as a real process: start-up, refusals, and two servers sharing one PostgreSQL database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.errors import Conflict
from tests.controlplane.conftest import mint_token
from tests.helpers import spawn

PRINCIPAL = "arn:aws:iam::123456789012:root"


@contextmanager
def server_process(*args: str, rest: list[str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """`cloudplane server --port 0 ARGS` until /healthz answers; its URL and what it printed first.
    Stopped with Ctrl-C (SIGINT) at the end; `rest` then receives the lines it printed on stdout after those."""
    proc = spawn("server", "--port", "0", *args)
    try:
        assert proc.stdout is not None
        printed = [proc.stdout.readline() for _ in range(4)]
        assert printed[0].startswith("cloudplane control plane listening on http://127.0.0.1:"), (
            printed,
            proc.stderr.read() if proc.poll() is not None and proc.stderr else "",
        )
        url = printed[0].split(" on ", 1)[1].strip()
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.05)
        yield url, [line.rstrip("\n") for line in printed]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
            out, _ = proc.communicate()
            if rest is not None:
                rest.extend(out.splitlines())


def test_the_server_command_starts_serves_and_stops(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPLANE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLOUDPLANE_DATABASE_URL", raising=False)
    with server_process("--aws-principal", PRINCIPAL) as (url, printed):
        assert printed[1:3] == [
            f"  database: sqlite:///{tmp_path / 'home' / 'cloudplane.db'}",
            f"  trusted AWS principal: {PRINCIPAL}",
        ]
        assert httpx.get(url + "/api/v1/info").json()["aws_principal"] == PRINCIPAL
        assert httpx.get(url + "/api/v1/clouds").status_code == 401
        # The first admin token, minted on the same database without a server.
        token = mint_token(f"sqlite:///{tmp_path / 'home' / 'cloudplane.db'}", "acme")
        with ControlPlaneClient.remote(url, token=token) as client:
            assert client.create_cloud("first", "aws", "us-west-2", "managed", "public")["name"] == "first"
            assert client.info()["aws_principal"] == PRINCIPAL
        with httpx.Client(base_url=url) as http:
            http.get("/healthz")
            start = time.perf_counter()
            for _ in range(20):
                http.get("/healthz")
            # Answers on a kept-alive connection come at once: with Nagle's algorithm on, each would wait
            # ~40 ms for the client's delayed ACK (0.8 s in all).
            assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("flag", [[], ["--access-log"]], ids=["quiet", "access-log"])
def test_requests_are_logged_only_when_asked(tmp_path, flag: list[str]) -> None:
    printed: list[str] = []
    with server_process("--database-url", f"sqlite:///{tmp_path / 'cloudplane.db'}", *flag, rest=printed) as (
        url,
        _,
    ):
        assert httpx.get(url + "/api/v1/clouds").status_code == 401
    logged = [line for line in printed if '"GET /api/v1/clouds HTTP/1.1" 401' in line]
    assert len(logged) == (1 if flag else 0), printed


def test_several_worker_processes_serve_one_port(tmp_path) -> None:
    database = f"sqlite:///{tmp_path / 'cloudplane.db'}"
    with server_process("--database-url", database, "--workers", "2") as (url, _):
        token = mint_token(database, "acme")
        clients = [ControlPlaneClient.remote(url, token=token) for _ in range(4)]
        try:
            made = clients[0].create_cloud("shared", "aws", "us-west-2", "managed", "public")
            # Each client holds a connection of its own, and the kernel hands connections to either worker.
            assert all(client.get_cloud(made["id"]) == made for client in clients)
        finally:
            for client in clients:
                client.close()


def test_the_database_password_is_not_printed(new_postgres_schema: Callable[[], str]) -> None:
    url = new_postgres_schema().replace(
        "postgresql+psycopg://postgres@", "postgresql+psycopg://postgres:hunter2@"
    )
    with server_process("--database-url", url) as (_, printed):
        assert printed[1].startswith("  database: postgresql+psycopg://postgres:***@127.0.0.1:5432/test")
        assert "hunter2" not in "\n".join(printed)


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (
            ["--aws-principal", "arn:aws:iam::12345678901:root"],
            2,
            "error: invalid AWS principal 'arn:aws:iam::12345678901:root'",
        ),
        (["--aws-principal", "arn:aws:iam::123456789012:group/admins"], 2, "error: invalid AWS principal"),
        (["--aws-principal", "arn:aws:iam::123456789012:role/a b"], 2, "error: invalid AWS principal"),
        (["--aws-principal", "arn:aws:iam::１２３456789012:root"], 2, "error: invalid AWS principal"),
        (["--aws-principal", "arn:aws:iam::123456789012:root\n"], 2, "error: invalid AWS principal"),
        (["--database-url", "mysql://x@y/z"], 2, "error: unsupported database 'mysql'"),
        (["--port", "70000"], 2, "Invalid value for '--port'"),
    ],
)
def test_bad_input_is_refused_before_listening(
    tmp_path, args: list[str], exit_code: int, message: str
) -> None:
    env = {**os.environ, "CLOUDPLANE_HOME": str(tmp_path / "home")}
    run = subprocess.run(
        [*spawn_argv(), "server", "--port", "0", *args], capture_output=True, text=True, env=env, timeout=60
    )
    assert run.returncode == exit_code, run.stderr
    assert message in run.stderr and run.stdout == ""
    assert "Traceback" not in run.stderr


def test_a_taken_port_is_one_line(tmp_path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**os.environ, "CLOUDPLANE_HOME": str(tmp_path / "home")}
        run = subprocess.run(
            [*spawn_argv(), "server", "--port", str(port)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert run.returncode == 1
    assert (
        run.stderr
        == f"error: cannot listen on 127.0.0.1:{port}: Address already in use; pick another --port\n"
    )


def spawn_argv() -> list[str]:
    return [sys.executable, "-m", "cloudplane"]


@pytest.mark.postgres
def test_two_servers_on_one_database_serve_the_same_clouds(new_postgres_schema: Callable[[], str]) -> None:
    url = new_postgres_schema()
    with (
        server_process("--database-url", url) as (first, _),
        server_process("--database-url", url) as (second, _),
    ):
        token = mint_token(url, "acme")
        a = ControlPlaneClient.remote(first, token=token)
        b = ControlPlaneClient.remote(second, token=token)
        with a, b:
            made = a.create_cloud("seen-by-both", "aws", "us-west-2", "managed", "public")
            assert b.get_cloud(made["id"]) == made
            b.update_cloud(made["id"], state="active")
            assert a.get_cloud(made["id"])["state"] == "active"

            # Concurrent creates of one name, half through each server: one winner.
            for round_ in range(5):
                outcomes = _at_once(
                    [
                        lambda client=client, name=f"race-{round_}": client.create_cloud(
                            name, "aws", "us-west-2", "managed", "public"
                        )
                        for client in (a, b, a, b)
                    ]
                )
                assert sum(isinstance(o, dict) for o in outcomes) == 1, outcomes
                assert all(isinstance(o, (dict, Conflict)) for o in outcomes), outcomes
                assert len(a.list_clouds(name=f"race-{round_}")) == 1

            # Concurrent set-default calls: exactly one default at the end.
            ids = [c["id"] for c in a.list_clouds()]
            outcomes = _at_once(
                [lambda i=i, c=c: c.set_default(i) for i, c in zip(ids, (a, b) * len(ids), strict=False)]
            )
            assert all(isinstance(o, dict) for o in outcomes), outcomes
            assert sum(c["is_default"] for c in b.list_clouds()) == 1


def _at_once(calls: list[Callable[[], object]]) -> list[object]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = calls[index]()
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes
