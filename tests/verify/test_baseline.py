"""A correct cloud verifies cleanly, every applicable check runs, and the report is complete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.verify.report import GROUPS, Report
from tests.verify.builders import BuiltCloud


def _ids(prefix: str, count: int) -> set[str]:
    return {f"{prefix}-{n}" for n in range(1, count + 1)}


PUBLIC_MANAGED = (
    _ids("VPC", 5)
    | (_ids("SUB", 9) - {"SUB-8"})
    | _ids("SG", 6)
    | _ids("IAM", 11)
    | _ids("S3", 5)
    | _ids("EFS", 6)
    | _ids("CFN", 2)
    | {"QUOTA-2"}
)


@pytest.mark.parametrize("memorydb", [False, True], ids=["no-memorydb", "memorydb"])
def test_correct_cloud_passes_every_check(
    make_cloud: Callable[..., BuiltCloud], verify: Callable[..., Report], memorydb: bool
) -> None:
    built = make_cloud(memorydb=memorydb)
    report = verify(built.spec)
    expected = PUBLIC_MANAGED | (_ids("MDB", 6) if memorydb else set())
    assert {f.check for f in report.findings} == expected
    assert [f for f in report.findings if not f.passed] == []
    assert report.passed and report.passed is Report.from_dict(report.to_dict()).passed
    groups = report.groups()
    assert list(groups) == [g for g in GROUPS if g in groups]
    assert all(groups.values())
    assert ("memorydb" in groups) is memorydb


def test_private_cloud_checks_nat_egress_instead_of_internet_gateway(
    make_cloud: Callable[..., BuiltCloud], verify: Callable[..., Report]
) -> None:
    built = make_cloud(private=True, efs=False)
    report = verify(built.spec)
    checks = {f.check for f in report.findings}
    assert "SUB-8" in checks and not {"SUB-5", "SUB-6", "VPC-4"} & checks
    assert not any(f.check.startswith("EFS") for f in report.findings)
    assert [f for f in report.findings if not f.passed] == []


def test_findings_are_ordered_by_group(
    make_cloud: Callable[..., BuiltCloud], verify: Callable[..., Report]
) -> None:
    report = verify(make_cloud(memorydb=True).spec)
    order = [GROUPS.index(f.resource) for f in report.findings]
    assert order == sorted(order)


def test_report_json_round_trip(make_cloud: Callable[..., BuiltCloud], verify: Callable[..., Any]) -> None:
    built = make_cloud(efs=False, stack=False)
    report = verify(built.spec)
    data = report.to_dict()
    assert data["cloud"]["id"] == built.cloud_id
    assert Report.from_dict(data).to_dict() == data
