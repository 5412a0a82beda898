"""Fixtures of the cluster tests: one managed cloud per test module, set up once with the real CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.sandbox.server import SandboxServer
from tests.helpers import cloudplane

REGION = "us-west-2"
Factory = Callable[..., Any]


@pytest.fixture(scope="module")
def module_aws(sandbox: SandboxServer) -> Factory:
    """boto3 clients on the sandbox. (The `aws` fixture resets the sandbox, which would remove the cloud.)"""
    session = boto3.session.Session()

    def make(service: str, region_name: str = REGION) -> Any:
        return session.client(service, region_name=region_name, config=Config(retries={"max_attempts": 1}))

    return make


@pytest.fixture(scope="module")
def cloud(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """One managed cloud `demo` (without EFS, to be quick) for every test of the module."""
    sandbox.reset()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("CLOUDPLANE_HOME", str(tmp_path_factory.mktemp("cloudplane-home")))
        env.delenv("CLOUDPLANE_URL", raising=False)
        env.delenv("CLOUDPLANE_DATABASE_URL", raising=False)
        setup = cloudplane(
            "cloud",
            "setup",
            "--name",
            "demo",
            "--region",
            REGION,
            "--shared-storage",
            "object-storage",
            "--yes",
        )
        assert setup.exit_code == 0, setup.stderr
        yield cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
