"""Requests per second and latency of `cloudplane server` with 10,000 clouds, on SQLite and on PostgreSQL.

For each database: a scratch database (a SQLite file, or a PostgreSQL database created on 127.0.0.1:5432
and dropped afterwards), 10,000 clouds inserted through the service layer in bulk, then the real server
(`cloudplane server`, a process of its own) and CLIENTS client threads on kept-alive connections:
- get: GET /api/v1/clouds/{id} of random clouds, GETS requests in all;
- list: each client walks the whole list page by page (GET /api/v1/clouds?limit=100 and next_cursor).
It prints requests per second, p50 and p99 latency as the clients see them, and the CPU time per request of
the server's processes and of the clients: both run on this machine and share its cores.

    CLOUDPLANE_BENCH_POSTGRES_URL=postgresql://postgres@127.0.0.1:5432/test  (the default)
"""

from __future__ import annotations

import http.client
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

CLOUDS = 10_000
WORKERS = (1, 2)  # `cloudplane server --workers N`
CLIENTS = 4
GETS = 6_000
PAGE = 100
POSTGRES_ENV = "CLOUDPLANE_BENCH_POSTGRES_URL"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"
TARGET = "target: >= 1,000 gets/s, p99 < 20 ms"


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'cloudplane.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the PostgreSQL server, dropped at the end."""
    import psycopg

    admin_url = os.environ.get(POSTGRES_ENV) or DEFAULT_POSTGRES
    name = f"cloudplane_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(admin_url)
    try:
        yield parts._replace(scheme="postgresql+psycopg", path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def seed(url: str) -> tuple[str, list[str]]:
    """CLOUDS clouds (in batches of one transaction each) and a token: the token's secret and the ids."""
    from cloudplane.controlplane.service import ControlPlaneService

    service = ControlPlaneService.open(url)
    try:
        resources = {"vpc_id": "vpc-0123456789abcdef0", "subnet_ids": ["subnet-0123456789abcdef0"]}
        ids: list[str] = []
        for start in range(0, CLOUDS, 1000):
            batch = [
                {
                    "name": f"bench-{n:05d}",
                    "provider": "aws",
                    "region": "us-west-2",
                    "deployment": "managed",
                    "networking": "public",
                    "options": {"shared_storage": "nfs"},
                    "resources": resources,
                }
                for n in range(start, min(start + 1000, CLOUDS))
            ]
            ids += [cloud["id"] for cloud in service.create_clouds(batch)]
        secret = service.create_token(name="bench")["token"]
        return secret, ids
    finally:
        service.close()


@contextmanager
def server(url: str, workers: int) -> Iterator[tuple[int, list[int]]]:
    """`cloudplane server --workers N` on a free port of 127.0.0.1: (port, its processes) once /healthz answers."""
    command = [sys.executable, "-m", "cloudplane", "server", "--port", "0", "--database-url", url]
    command += ["--workers", str(workers)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        if "listening on http://" not in first:
            sys.exit(f"cloudplane server did not start: {first!r}")
        port = int(first.rsplit(":", 1)[1])
        threading.Thread(target=process.stdout.read, daemon=True).start()  # keep its output flowing
        deadline = time.monotonic() + 30
        while not _healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit("cloudplane server did not answer /healthz")
            time.sleep(0.05)
        time.sleep(1.0 if workers > 1 else 0)  # the other workers finish starting too
        yield port, [process.pid, *_children(process.pid)]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        connection.request("GET", "/healthz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    found: list[int] = []
    for task in tasks.iterdir():
        children = (task / "children").read_text().split()
        found += [int(child) for child in children]
    return found


def _cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes (Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


class Client:
    """One kept-alive connection with the token; `get` returns the JSON body and records the latency."""

    def __init__(self, port: int, secret: str) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {secret}"}
        self.latencies: list[float] = []

    def get(self, path: str) -> dict:
        start = time.perf_counter()
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        self.latencies.append(time.perf_counter() - start)
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status} {body[:200]!r}")
        return json.loads(body)


def run_clients(
    port: int, secret: str, work: Callable[[Client, int], None]
) -> tuple[list[float], float, float]:
    """CLIENTS threads, each doing `work(client, index)`: every latency, the wall time and the clients' CPU time."""
    clients = [Client(port, secret) for _ in range(CLIENTS)]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(clients[index], index)
        except BaseException as exc:  # reported after the threads end
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(CLIENTS)]
    cpu = time.process_time()
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    if errors:
        raise errors[0]
    return sorted(t for c in clients for t in c.latencies), wall, cpu


def gets(ids: list[str]) -> Callable[[Client, int], None]:
    def work(client: Client, index: int) -> None:
        rng = random.Random(index)
        for _ in range(GETS // CLIENTS):
            client.get(f"/api/v1/clouds/{rng.choice(ids)}")

    return work


def walk_list(client: Client, _index: int) -> None:
    path, seen = f"/api/v1/clouds?limit={PAGE}", 0
    while True:
        page = client.get(path)
        seen += len(page["clouds"])
        if not page["next_cursor"]:
            break
        path = f"/api/v1/clouds?limit={PAGE}&cursor={page['next_cursor']}"
    if seen != CLOUDS:
        raise RuntimeError(f"the list walked {seen} clouds, not {CLOUDS}")


def _row(
    backend: str, workers: int, label: str, latencies: list[float], wall: float, server: float, client: float
) -> str:
    count = len(latencies)
    p50, p99 = latencies[count // 2], latencies[min(count - 1, int(count * 0.99))]
    return (
        f"{backend:<11} {workers:>7} {label:<17} {count:>8} {count / wall:>10.0f} {p50 * 1000:>7.1f}"
        f" {p99 * 1000:>7.1f} {server / count * 1000:>10.2f} {client / count * 1000:>10.2f}"
    )


def measure(backend: str, url: str) -> None:
    start = time.perf_counter()
    secret, ids = seed(url)
    print(
        f"{backend:<11} {CLOUDS:,} clouds inserted through the service in {time.perf_counter() - start:.1f} s"
    )
    for workers in WORKERS:
        with server(url, workers) as (port, pids):
            run_clients(port, secret, lambda client, i: [client.get(f"/api/v1/clouds/{c}") for c in ids[:50]])
            for label, work in (("get one cloud", gets(ids)), (f"list, {PAGE} a page", walk_list)):
                cpu = _cpu_seconds(pids)
                latencies, wall, client_cpu = run_clients(port, secret, work)
                server_cpu = _cpu_seconds(pids) - cpu
                print(_row(backend, workers, label, latencies, wall, server_cpu, client_cpu), flush=True)


def main() -> None:
    print(f"{CLIENTS} client threads on kept-alive connections, {CLOUDS:,} clouds; {TARGET}")
    print("CPU: milliseconds of CPU time per request, of the server's processes and of the clients")
    print(
        f"{'database':<11} {'workers':>7} {'request':<17} {'requests':>8} {'per second':>10} {'p50 ms':>7}"
        f" {'p99 ms':>7} {'server CPU':>10} {'client CPU':>10}"
    )
    with sqlite_database() as url:
        measure("SQLite", url)
    try:
        database = postgres_database()
        url = database.__enter__()
    except Exception as exc:  # no server at the URL, no psycopg: said, and the SQLite figures stand
        print(f"PostgreSQL not measured: {(str(exc).strip().splitlines() or [repr(exc)])[0]}")
        return
    try:
        measure("PostgreSQL", url)
    finally:
        database.__exit__(None, None, None)


if __name__ == "__main__":
    main()
