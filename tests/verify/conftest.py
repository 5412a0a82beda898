"""Fixtures of the verifier's tests.

Scenario tests build their own cloud with unique names in the session's sandbox without resetting
it first (a reset makes the next calls reload the emulator's managed IAM policies, about a second);
tests that need a clean account (quotas, counts) use the `aws` fixture, which resets.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CloudSpec
from cloudplane.verify import verify_cloud
from cloudplane.verify.report import Report
from tests.verify.builders import REGION, BuiltCloud, build_cloud

Factory = Callable[..., Any]


@pytest.fixture(scope="session")
def shared_aws(sandbox: Any) -> Factory:
    """boto3 clients on the sandbox, made once, for building clouds side by side."""
    session = boto3.session.Session()
    made: dict[tuple[str, str], Any] = {}

    def make(service: str, region_name: str = REGION) -> Any:
        key = (service, region_name)
        if key not in made:
            made[key] = session.client(
                service, region_name=region_name, config=Config(retries={"max_attempts": 1})
            )
        return made[key]

    return make


@pytest.fixture
def make_cloud(sandbox: Any, shared_aws: Factory) -> Callable[..., BuiltCloud]:
    def make(**options: Any) -> BuiltCloud:
        # Many clouds share the region; lift the network quotas the sandbox enforces (VPCs, internet
        # gateways, Elastic IPs, NAT gateways per zone). (Set again each time: a reset drops the override.)
        sandbox.set_quota("vpc", "L-F678F1CE", 10_000)
        sandbox.set_quota("vpc", "L-A4707A72", 10_000)
        sandbox.set_quota("ec2", "L-0263D0A3", 10_000)
        sandbox.set_quota("vpc", "L-FE5A380F", 10_000)
        return build_cloud(shared_aws, **options)

    return make


@pytest.fixture(scope="session")
def clients(sandbox: Any) -> AwsClients:
    return AwsClients(REGION)


@pytest.fixture
def verify(clients: AwsClients) -> Callable[..., Report]:
    def run(spec: CloudSpec, **kwargs: Any) -> Report:
        return verify_cloud(spec, clients, **kwargs)

    return run
