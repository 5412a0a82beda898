"""Fixtures of the sandbox tests: one sandbox per session, reset before each test, real HTTP only."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.sandbox.server import SandboxServer

REGION = "us-east-1"


@pytest.fixture
def sandbox(sandbox: SandboxServer) -> SandboxServer:
    """The session's sandbox (tests/conftest.py), reset before each test."""
    sandbox.reset()
    return sandbox


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
