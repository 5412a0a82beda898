"""Shared fixtures: one sandbox AWS (moto server + cloudplane's extensions) per test session, over real HTTP.

Every test starts from a reset sandbox and an empty CLOUDPLANE_HOME, so tests never see each other's state.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.sandbox.server import SandboxServer, start_threaded

REGION = "us-west-2"

_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_CONFIG_FILE": "/dev/null",
    "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    "AWS_EC2_METADATA_DISABLED": "true",
    # The emulator answers unimplemented actions with HTTP 500; don't spend seconds retrying them.
    "AWS_MAX_ATTEMPTS": "1",
}


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per sandbox request is noise
    server = start_threaded()
    saved = {key: os.environ.get(key) for key in [*_AWS_ENV, "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"]}
    os.environ.update(_AWS_ENV)
    os.environ["AWS_ENDPOINT_URL"] = server.url
    os.environ.pop("AWS_SESSION_TOKEN", None)
    # Pay the emulator's one-off EC2 start-up cost once, outside the tests.
    boto3.client("ec2", region_name=REGION, endpoint_url=server.url).describe_vpcs()
    yield server
    server.stop()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def aws_env(sandbox: SandboxServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> SandboxServer:
    """A freshly reset sandbox and a private CLOUDPLANE_HOME for this test."""
    sandbox.reset()
    monkeypatch.setenv("CLOUDPLANE_HOME", str(tmp_path / "cloudplane-home"))
    monkeypatch.delenv("CLOUDPLANE_URL", raising=False)
    monkeypatch.delenv("CLOUDPLANE_DATABASE_URL", raising=False)
    return sandbox


@pytest.fixture
def aws(aws_env: SandboxServer) -> Callable[..., Any]:
    """boto3 client factory bound to the sandbox: aws("ec2"), aws("s3", region_name="eu-west-1")."""
    session = boto3.session.Session()

    def make(service: str, region_name: str = REGION, **kwargs: Any) -> Any:
        config = Config(retries={"max_attempts": 1})
        return session.client(service, region_name=region_name, config=config, **kwargs)

    return make
