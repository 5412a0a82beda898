"""Latency: every AWS API answer comes a fixed time later, while requests in flight still run side by side."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.sandbox.server import SandboxServer
from tests.helpers import cloudplane

CONCURRENT = 10


@pytest.fixture
def slow(sandbox: SandboxServer) -> Iterator[SandboxServer]:
    """The reset sandbox; the latency is taken off again however the test ends."""
    try:
        yield sandbox
    finally:
        sandbox.reset()


def _client(url: str, service: str = "ec2") -> Any:
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"total_max_attempts": 1}),
    )


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def _warm_clients(url: str, count: int, service: str = "ec2") -> list[Any]:
    """`count` clients, each with its connection open and the emulator's backend warm."""
    clients = [_client(url, service) for _ in range(count)]
    for client in clients:
        _first_call(client)()
    return clients


def _first_call(client: Any) -> Callable[[], Any]:
    return (
        client.describe_vpcs
        if client.meta.service_model.service_name == "ec2"
        else client.get_caller_identity
    )


def _at_once(clients: list[Any]) -> tuple[float, list[float]]:
    """Wall time of one call per client made at the same moment, and each call's own time."""
    with ThreadPoolExecutor(len(clients)) as pool:
        start = time.perf_counter()
        each = list(pool.map(lambda c: _timed(_first_call(c)), clients))
        return time.perf_counter() - start, each


def _route(url: str, method: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{url}/moto-api/cloudplane/latency",
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_calls_at_once_wait_side_by_side(slow: SandboxServer) -> None:
    clients = _warm_clients(slow.url, CONCURRENT)
    slow.set_latency(200)
    assert _timed(clients[0].describe_vpcs) >= 0.2
    wall, each = _at_once(clients)
    assert min(each) >= 0.2
    # One after another they would take 2 s; side by side about 0.2 s (room left for a busy machine).
    assert wall < 0.8, f"{CONCURRENT} calls at 200 ms took {wall:.2f} s"


def test_control_routes_answer_at_once_and_reset_ends_the_latency(slow: SandboxServer) -> None:
    ec2 = _warm_clients(slow.url, 1)[0]
    slow.set_latency(1500)
    start = time.perf_counter()
    assert _route(slow.url, "GET") == (200, {"ms": 1500.0})
    assert _route(slow.url, "GET", None)[1] == {"ms": 1500.0}
    with urllib.request.urlopen(f"{slow.url}/moto-api/cloudplane/faults", timeout=30) as response:
        assert response.status == 200
    assert time.perf_counter() - start < 1.0  # three control calls, none of them delayed

    slow.reset()
    assert _route(slow.url, "GET") == (200, {"ms": 0.0})
    assert _timed(ec2.describe_vpcs) < 1.0


def test_delete_ends_the_latency(slow: SandboxServer) -> None:
    assert _route(slow.url, "POST", {"ms": 50}) == (200, {"ms": 50.0})
    assert _route(slow.url, "DELETE") == (200, {"ms": 0.0})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"ms": -1}, "ms must be a number from 0 to 60000"),
        ({"ms": "50"}, "ms must be a number"),
        ({"ms": True}, "ms must be a number"),
        ({"delay": 50}, 'expected {"ms": <milliseconds>}'),
    ],
)
def test_control_route_rejects_bad_settings(slow: SandboxServer, body: Any, message: str) -> None:
    status, answer = _route(slow.url, "POST", body)
    assert (status, message in answer["Error"]) == (400, True), answer
    assert _route(slow.url, "GET")[1] == {"ms": 0.0}


def test_cli_rejects_a_negative_latency() -> None:
    result = cloudplane("sandbox", "start", "--latency-ms", "-5")
    assert result.exit_code == 2
    assert "--latency-ms" in result.stderr and "Sandbox AWS on" not in result.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_sandbox_serves_with_latency_side_by_side() -> None:
    """`cloudplane sandbox start --latency-ms` in a process of its own: the foreground server is threaded too."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "cloudplane", "sandbox", "start", "--port", str(port), "--latency-ms", "300"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                settings = _route(url, "GET")
                break
            except OSError:
                assert time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.1)
        assert settings == (200, {"ms": 300.0})
        _route(url, "DELETE")  # warming the clients up need not wait
        clients = _warm_clients(url, 4, "sts")
        _route(url, "POST", {"ms": 300})
        wall, each = _at_once(clients)
        assert min(each) >= 0.3
        assert wall < 0.9, f"4 calls at 300 ms took {wall:.2f} s"
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert "Latency on: every AWS API answer 300 ms later" in stderr
