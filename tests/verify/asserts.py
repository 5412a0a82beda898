"""Assertions on verification reports."""

from __future__ import annotations

from cloudplane.verify.report import Finding, Report, Severity


def failures(report: Report, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check and not f.passed]


def assert_fails(report: Report, check: str, severity: Severity, *names: str) -> list[Finding]:
    """The check has failing findings of this severity, and each name appears in one of them.

    Informational notes of the same check (e.g. conditions not evaluated) may come alongside.
    """
    every = failures(report, check)
    found = [f for f in every if f.severity is severity]
    assert found, f"{check} has no failing {severity} finding: {[(f.severity, f.message) for f in every]}"
    assert {f.severity for f in every} <= {severity, Severity.INFO}, [(f.severity, f.message) for f in every]
    for name in names:
        assert any(name in (f.resource_id or "") or name in f.message for f in found), (name, found)
    return found


def assert_passes(report: Report, check: str) -> None:
    """The check ran and nothing of it counts against the verdict (notes aside)."""
    found = [f for f in report.findings if f.check == check]
    assert any(f.passed for f in found), [f.message for f in found]
    assert not [f for f in found if not f.passed and f.severity is not Severity.INFO], [
        f.message for f in found
    ]


def failed_checks(report: Report) -> set[str]:
    """Checks with a failing finding, informational notes and checks that could not run left out."""
    return {
        f.check for f in report.findings if f.checked and not f.passed and f.severity is not Severity.INFO
    }
