"""Fixtures of the least-privilege proofs: each module runs its commands on one sandbox state of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.sandbox.server import SandboxServer
from tests.verify.builders import REGION

Factory = Callable[..., Any]


@pytest.fixture(scope="module")
def aws(sandbox: SandboxServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Factory]:
    """boto3 clients on a sandbox reset once for the module, and a control plane of the module's own."""
    sandbox.reset()
    session = boto3.session.Session()

    def make(service: str, region_name: str = REGION) -> Any:
        return session.client(service, region_name=region_name, config=Config(retries={"max_attempts": 1}))

    with pytest.MonkeyPatch.context() as env:
        env.setenv("CLOUDPLANE_HOME", str(tmp_path_factory.mktemp("cloudplane-home")))
        env.delenv("CLOUDPLANE_URL", raising=False)
        env.delenv("CLOUDPLANE_DATABASE_URL", raising=False)
        yield make
