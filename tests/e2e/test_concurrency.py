"""Colleagues running the same command at once: one winner, clear words for the others, nothing doubled.

Each command is a process of its own, on the embedded control plane's SQLite file or on PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.sandbox.server import SandboxServer
from tests.controlplane.conftest import new_postgres_schema, postgres_server  # noqa: F401  (fixtures)
from tests.helpers import cloudplane, spawn


def five_setups_make_one_cloud(aws: Callable[..., Any]) -> None:
    processes = [spawn("cloud", "setup", "--name", "same", "--yes") for _ in range(5)]
    results = [(p, *p.communicate(timeout=600)) for p in processes]
    winners = [r for r in results if r[0].returncode == 0]
    losers = [r for r in results if r[0].returncode != 0]
    assert len(winners) == 1, [r[2][-500:] for r in results]
    for process, _, stderr in losers:
        assert process.returncode == 2, stderr
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1 and "Traceback" not in stderr, stderr
        assert "already exists" in errors[0] or "busy" in errors[0], errors[0]
    (cloud,) = cloudplane("cloud", "list", "--output", "json").json()["clouds"]
    assert cloud["state"] == "active" and cloud["operation"] is None
    stacks = aws("cloudformation").list_stacks()["StackSummaries"]
    assert [s["StackName"] for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"] == [
        "cloudplane-" + cloud["id"].replace("_", "-")
    ]
    vpcs = [v for v in aws("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")]
    assert len(vpcs) == 1


def concurrent_verifies_keep_the_report_whole() -> None:
    processes = [spawn("cloud", "verify", "--name", "same", "--output", "json") for _ in range(3)]
    outputs = [p.communicate(timeout=600) for p in processes]
    assert all(p.returncode == 0 for p in processes), [err for _, err in outputs]
    stored = cloudplane("cloud", "get", "--name", "same", "--output", "json").json()["last_verification"]
    # The stored report is one of the reports the runs printed, whole (not a mix of two writes).
    printed = [json.loads(out) for out, _ in outputs]
    assert stored in printed
    assert stored["passed"] is True and len(stored["findings"]) == len(printed[0]["findings"])


def test_at_once_on_sqlite(aws_env: SandboxServer, aws: Callable[..., Any]) -> None:
    five_setups_make_one_cloud(aws)
    concurrent_verifies_keep_the_report_whole()
    assert cloudplane("cloud", "delete", "--name", "same", "--yes", "--delete-bucket").exit_code == 0


@pytest.mark.postgres
def test_at_once_on_postgres(
    aws_env: SandboxServer,
    aws: Callable[..., Any],
    new_postgres_schema: Callable[[], str],  # noqa: F811  (the imported fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLOUDPLANE_DATABASE_URL", new_postgres_schema())
    five_setups_make_one_cloud(aws)
    concurrent_verifies_keep_the_report_whole()
    assert cloudplane("cloud", "delete", "--name", "same", "--yes", "--delete-bucket").exit_code == 0
