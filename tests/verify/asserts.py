"""Assertions on verification reports."""

from __future__ import annotations

from cloudplane.verify.report import Finding, Report, Severity


def failures(report: Report, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check and not f.passed]


def assert_fails(report: Report, check: str, severity: Severity, *names: str) -> list[Finding]:
    """The check failed with this severity, and each name appears in some failing finding."""
    found = failures(report, check)
    assert found, f"{check} did not fail: {[f.message for f in report.findings if f.check == check]}"
    assert {f.severity for f in found} == {severity}, [(f.severity, f.message) for f in found]
    for name in names:
        assert any(name in (f.resource_id or "") or name in f.message for f in found), (name, found)
    return found


def assert_passes(report: Report, check: str) -> None:
    found = [f for f in report.findings if f.check == check]
    assert found and all(f.passed for f in found), [f.message for f in found]


def failed_checks(report: Report) -> set[str]:
    """Checks with a failing finding, informational notes left out."""
    return {f.check for f in report.findings if not f.passed and f.severity is not Severity.INFO}
