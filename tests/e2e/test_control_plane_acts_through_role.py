"""The control plane acts in a customer's account only through the cloud's role, never with the user's keys.

A real `cloudplane server` process runs with its own AWS identity: a user of another account allowed nothing
but sts:AssumeRole. The customer's role trusts that account with the cloud's External ID. The CLI runs with
AWS keys AWS does not know at all, and every byte it sends to the server passes through a recording proxy.
With IAM enforced by the sandbox, a cluster can only be launched, listed and terminated one way: the server
assuming the customer's role.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.cloud import CUSTOMER_DEFINED
from cloudplane.sandbox.server import SandboxServer
from tests.controlplane.conftest import mint_token
from tests.enforcement import enforce_iam
from tests.helpers import cloudplane
from tests.verify.builders import build_cloud, record_in

SERVER_ACCOUNT = "999999999999"
SERVER_PRINCIPAL = f"arn:aws:iam::{SERVER_ACCOUNT}:root"
CLI_KEYS = {
    "AWS_ACCESS_KEY_ID": "AKIACLIONLY000000001",
    "AWS_SECRET_ACCESS_KEY": "cli-only-secret-never-to-be-sent",
    "AWS_SESSION_TOKEN": "cli-only-session-token-never-to-be-sent",
}


class RecordingProxy:
    """A TCP proxy in front of the server that keeps every byte clients send through it."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.sent = bytearray()
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, record: bool) -> None:
        try:
            while chunk := source.recv(65536):
                if record:
                    with self._lock:
                        self.sent.extend(chunk)
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._listener.close()


def _server_identity(aws: Callable[..., Any]) -> dict[str, str]:
    """Keys of a user in the server's own account, allowed only to assume roles."""
    iam = aws("iam")
    iam.meta.events.register(
        "before-sign.iam.*",
        lambda request, **_: request.headers.__setitem__("x-moto-account-id", SERVER_ACCOUNT),
    )
    iam.create_user(UserName="controlplane-server")
    iam.put_user_policy(
        UserName="controlplane-server",
        PolicyName="assume-customer-roles",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="controlplane-server")["AccessKey"]
    return {"AWS_ACCESS_KEY_ID": key["AccessKeyId"], "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}


@pytest.fixture
def server_process(
    aws_env: SandboxServer, aws: Callable[..., Any], tmp_path: Path
) -> Iterator[tuple[str, str]]:
    """`cloudplane server` in a process of its own, with the server account's keys; (its URL, a token)."""
    database = f"sqlite:///{tmp_path / 'server.db'}"
    token = mint_token(database, name="e2e")
    port = socket.create_server(("127.0.0.1", 0))
    number = port.getsockname()[1]
    port.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CLOUDPLANE_"))}
    env.update(_server_identity(aws))
    env.update(
        {
            "AWS_ENDPOINT_URL": aws_env.url,
            "AWS_DEFAULT_REGION": "us-west-2",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "CLOUDPLANE_HOME": str(tmp_path / "server-home"),
        }
    )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cloudplane",
            "server",
            "--port",
            str(number),
            "--database-url",
            database,
            "--aws-principal",
            SERVER_PRINCIPAL,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{number}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).read()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else "server exited"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
    try:
        yield url, token
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_cli_commands_reach_aws_only_through_the_clouds_role(
    server_process: tuple[str, str],
    aws_env: SandboxServer,
    aws: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server_url, token = server_process
    built = build_cloud(aws, deployment=CUSTOMER_DEFINED, efs=False, azs=2)
    role_name = built.cp_role.rsplit("/", 1)[-1]
    trust = aws("iam").get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Principal"] = {"AWS": SERVER_PRINCIPAL}
    aws("iam").update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust))
    with ControlPlaneClient.remote(server_url, token=token) as admin:
        record_in(admin, built, options={"controlplane_principal": SERVER_PRINCIPAL})

    proxy = RecordingProxy(int(server_url.rsplit(":", 1)[1]))
    monkeypatch.setenv("CLOUDPLANE_URL", proxy.url)
    monkeypatch.setenv("CLOUDPLANE_TOKEN", token)
    for key, value in CLI_KEYS.items():
        monkeypatch.setenv(key, value)
    enforce_iam(aws_env, True)
    try:
        launched = cloudplane("cluster", "launch", "--cloud", "demo", "--name", "ws1", "--output", "json")
        listed = cloudplane("cluster", "list", "--output", "json")
        ended = cloudplane("cluster", "terminate", "ws1", "--yes", "--output", "json")
    finally:
        enforce_iam(aws_env, False)
        proxy.close()
        for key in CLI_KEYS:
            monkeypatch.delenv(key)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    assert launched.exit_code == 0, launched.stderr
    assert listed.exit_code == 0 and [c["name"] for c in listed.json()] == ["ws1"], listed.stderr
    assert ended.exit_code == 0 and ended.json()["state"] in ("terminating", "terminated"), ended.stderr
    instance_id = launched.json()["instances"][0]["id"]
    [reservation] = aws("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert reservation["Instances"][0]["State"]["Name"] in ("shutting-down", "terminated")

    sent = bytes(proxy.sent)
    assert b"POST /api/v1/clusters" in sent and b"/terminate" in sent  # the proxy saw the commands
    for value in CLI_KEYS.values():
        assert value.encode() not in sent, f"the CLI sent its AWS credential {value!r} to the control plane"
    assert b"AKIA" not in sent and b"aws_secret" not in sent.lower()


def test_the_server_cannot_use_a_role_that_does_not_trust_it(
    server_process: tuple[str, str], aws: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The role trusts the caller's own account (as an embedded cloud's does), not the server's."""
    server_url, token = server_process
    built = build_cloud(aws, deployment=CUSTOMER_DEFINED, efs=False, azs=2)
    with ControlPlaneClient.remote(server_url, token=token) as admin:
        record_in(admin, built)
    monkeypatch.setenv("CLOUDPLANE_URL", server_url)
    monkeypatch.setenv("CLOUDPLANE_TOKEN", token)

    run = cloudplane("cluster", "launch", "--cloud", "demo", "--name", "ws1")

    assert run.exit_code == 1
    assert f"access to cloud demo is revoked: its cross-account role {built.cp_role}" in run.stderr
    assert "Traceback" not in run.stderr
    assert aws("ec2").describe_instances()["Reservations"] == []
