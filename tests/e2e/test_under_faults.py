"""Every command succeeds while AWS throttles 20% of requests and fails 5% with server errors.

The sandbox injects the faults before a request has any effect (as AWS's throttling does), so what this
proves is that the product's retries, its stack polling and its error boundary hold: nothing is reported
as a broken rule, nothing is left half-made.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloudplane.sandbox.server import SandboxServer
from tests.e2e.test_customer_defined import customer_cloud, register_args
from tests.helpers import cloudplane
from tests.leftovers import tagged_resources

THROTTLE_RATE = 0.2
ERROR_RATE = 0.05


@pytest.fixture
def faulty_aws(aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxServer]:
    # The suite turns retries off for speed; here the product's own retry settings must do the work.
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    aws_env.set_faults(throttle_rate=THROTTLE_RATE, error_rate=ERROR_RATE, seed=20261130)
    yield aws_env
    aws_env.clear_faults()


def faults_were_injected(sandbox: SandboxServer) -> None:
    counters = sandbox.fault_counters()
    assert counters["throttled"] > 0 and counters["failed"] > 0, counters


def test_managed_lifecycle_under_faults(
    aws: Callable[..., Any], faulty_aws: SandboxServer
) -> None:
    setup = cloudplane("cloud", "setup", "--name", "stormy", "--yes", "--output", "json")
    assert setup.exit_code == 0, setup.stderr
    cloud = setup.json()["cloud"]
    assert setup.json()["verification"]["complete"] is True
    verify = cloudplane("cloud", "verify", "--name", "stormy", "--output", "json")
    assert verify.exit_code == 0, verify.stdout
    assert verify.json()["complete"] is True and verify.json()["passed"] is True
    delete = cloudplane("cloud", "delete", "--name", "stormy", "--yes", "--delete-bucket")
    assert delete.exit_code == 0, delete.stderr
    faults_were_injected(faulty_aws)
    faulty_aws.clear_faults()
    assert tagged_resources(aws, cloud["id"]) == {}


def test_customer_defined_lifecycle_under_faults(
    aws: Callable[..., Any], aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = customer_cloud(aws)  # made by the customer before the storm
    monkeypatch.delenv("AWS_MAX_ATTEMPTS", raising=False)
    aws_env.set_faults(throttle_rate=THROTTLE_RATE, error_rate=ERROR_RATE, seed=7)
    try:
        register = cloudplane(*register_args(built, "windy"), "--yes", "--output", "json")
        assert register.exit_code == 0, register.stderr
        assert register.json()["cloud"]["state"] == "active"
        edit = cloudplane("cloud", "edit", "windy", "--aws-efs-id", "none", "--yes")
        assert edit.exit_code == 0, edit.stderr + edit.stdout
        verify = cloudplane("cloud", "verify", "--name", "windy", "--output", "json")
        assert verify.json()["complete"] is True, verify.stdout
        delete = cloudplane("cloud", "delete", "--name", "windy", "--yes")
        assert delete.exit_code == 0, delete.stderr
        faults_were_injected(aws_env)
    finally:
        aws_env.clear_faults()
    assert cloudplane("cloud", "list", "--output", "json").json()["clouds"] == []
