"""Fixtures of the sandbox tests: one sandbox per session, reset before each test, real HTTP only."""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.sandbox.server import SandboxServer, start_threaded

REGION = "us-east-1"
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_MAX_ATTEMPTS": "1",
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
}


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    saved = {key: os.environ.get(key) for key in [*_ENV, "AWS_SESSION_TOKEN"]}
    os.environ.update(_ENV)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    server = start_threaded()
    # Pay EC2's one-off start-up cost outside the timed tests.
    boto3.client("ec2", region_name=REGION, endpoint_url=server.url).describe_vpcs()
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def sandbox(sandbox_server: SandboxServer) -> SandboxServer:
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def client(sandbox: SandboxServer) -> Callable[..., Any]:
    """boto3 client factory bound to the sandbox: client("ec2"), client("s3", region_name="eu-west-1")."""
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
    made: dict[tuple[str, str], Any] = {}

    def make(service: str, region_name: str = REGION) -> Any:
        key = (service, region_name)
        if key not in made:
            made[key] = session.client(
                service,
                region_name=region_name,
                endpoint_url=sandbox.url,
                config=Config(retries={"max_attempts": 1}),
            )
        return made[key]

    return make


@pytest.fixture
def moto_api(sandbox: SandboxServer) -> Callable[..., Any]:
    """Call the sandbox's /moto-api routes: moto_api("POST", "cloudplane/fail-next", {...})."""

    def call(method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{sandbox.url}/moto-api/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    return call
