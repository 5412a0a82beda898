"""AWS errors reach the user as one line naming the call, the resource and what to do: never a traceback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloudplane.sandbox.server import SandboxServer
from tests.enforcement import acting_as
from tests.helpers import Run, cloudplane

SETUP = ("cloud", "setup", "--name", "faulty", "--region", "us-west-2", "--yes")
# What setup needs before it creates its stack: who am I, the region, its zones and quotas.
SETUP_READS = [
    "sts:GetCallerIdentity",
    "ec2:Describe*",
    "servicequotas:GetServiceQuota",
    "cloudformation:DescribeStacks",
]


def one_line_error(run: Run) -> str:
    lines = [line for line in run.stderr.strip().splitlines() if line.startswith("error:")]
    assert len(lines) == 1, run.stderr
    assert "Traceback" not in run.stderr and "Traceback" not in run.stdout
    return lines[0]


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An address that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_an_unreachable_endpoint_is_named(aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    run = cloudplane(*SETUP)
    assert run.exit_code == 1
    line = one_line_error(run)
    assert f"127.0.0.1:{port}" in line and "cannot be reached" in line
    assert "credentials" not in line


def test_an_endpoint_that_never_answers_is_reported_in_seconds(
    aws_env: SandboxServer, silent_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", silent_endpoint)
    started = time.monotonic()
    run = cloudplane("cloud", "setup", "--name", "quiet", "--yes")
    assert run.exit_code == 1
    line = one_line_error(run)
    assert silent_endpoint in line and "did not answer in time" in line
    # Two attempts with a short read timeout: well under a minute, not botocore's default minutes.
    assert time.monotonic() - started < 45


def test_access_denied_during_setup_names_the_action_and_the_cloud_can_be_resumed(
    aws_env: SandboxServer, aws: Callable[..., Any]
) -> None:
    with acting_as(aws_env, aws, allow=SETUP_READS):
        run = cloudplane(*SETUP)
    assert run.exit_code == 1
    line = one_line_error(run)
    assert "cloudformation:CreateStack" in line and "AccessDenied" in line
    assert "cloudplane-cld-" in line  # the stack it was creating
    assert "run the same command again" in line
    (cloud,) = cloudplane("cloud", "list", "--output", "json").json()["clouds"]
    assert cloud["state"] == "creating"
    resumed = cloudplane(*SETUP, "--output", "json")
    assert resumed.exit_code == 0, resumed.stderr
    assert resumed.json()["cloud"]["id"] == cloud["id"]
    assert cloudplane("cloud", "delete", "--name", "faulty", "--yes").exit_code == 0


def test_access_denied_during_verify_leaves_rules_not_checked(
    aws_env: SandboxServer, aws: Callable[..., Any]
) -> None:
    assert cloudplane(*SETUP).exit_code == 0
    everything_but_iam = ["sts:GetCallerIdentity", "ec2:*", "cloudformation:*", "s3:*", "efs:*", "servicequotas:*"]
    with acting_as(aws_env, aws, allow=everything_but_iam):
        run = cloudplane("cloud", "verify", "--name", "faulty")
    assert run.exit_code == 1
    assert "Traceback" not in run.stderr
    assert "Verdict: INCOMPLETE" in run.stdout
    assert "Allow iam:GetRole" in run.stdout
    assert "vpc: PASSED" in run.stdout and "iam roles: NOT CHECKED" in run.stdout


def test_register_with_a_role_that_does_not_exist_is_one_line(aws_env: SandboxServer) -> None:
    run = cloudplane(
        "cloud", "register", "--name", "ghostly", "--region", "us-west-2",
        "--vpc-id", "vpc-0a1b2c3d", "--subnet-ids", "subnet-0a1b2c3d,subnet-0a1b2c3e",
        "--security-group-ids", "sg-0a1b2c3d", "--s3-bucket-id", "some-bucket",
        "--controlplane-iam-role-id", "arn:aws:iam::123456789012:role/not-there",
        "--instance-iam-role-id", "arn:aws:iam::123456789012:role/nodes", "--yes",
    )  # fmt: skip
    assert run.exit_code == 2
    line = one_line_error(run)
    assert "arn:aws:iam::123456789012:role/not-there does not exist" in line
    assert cloudplane("cloud", "list", "--output", "json").json()["clouds"] == []


def test_debug_shows_the_traceback(aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("CLOUDPLANE_DEBUG", "1")
    run = cloudplane(*SETUP)
    assert run.exit_code == 1
    assert "Traceback" in run.stderr and "EndpointConnectionError" in run.stderr
