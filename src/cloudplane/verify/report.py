"""Findings and the report they make: its verdict, its JSON, its per-resource summary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


PASSED, FAILED, NOT_CHECKED = "PASSED", "FAILED", "NOT CHECKED"

# Resource groups in the order they are reported.
GROUPS: tuple[str, ...] = (
    "vpc",
    "subnets",
    "security groups",
    "iam roles",
    "s3",
    "efs",
    "memorydb",
    "cloudformation stack",
    "quotas",
)


@dataclass(frozen=True)
class Finding:
    check: str  # rule id, e.g. "SUB-6"
    resource: str  # one of GROUPS
    resource_id: str | None
    severity: Severity
    passed: bool
    message: str
    remediation: str | None = None
    # False when the check could not run (throttling, a server error, a refused read ...): the rule was
    # neither passed nor failed, and the report is incomplete.
    checked: bool = True

    def fails(self, strict: bool) -> bool:
        if self.passed or not self.checked:
            return False
        return self.severity is Severity.ERROR or (strict and self.severity is Severity.WARNING)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "resource": self.resource,
            "resource_id": self.resource_id,
            "severity": str(self.severity),
            "passed": self.passed,
            "message": self.message,
            "remediation": self.remediation,
            "checked": self.checked,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(
            check=data["check"],
            resource=data["resource"],
            resource_id=data.get("resource_id"),
            severity=Severity(data["severity"]),
            passed=bool(data["passed"]),
            message=data["message"],
            remediation=data.get("remediation"),
            checked=bool(data.get("checked", True)),
        )


@dataclass
class Report:
    cloud: dict[str, Any]
    findings: list[Finding] = field(default_factory=list)
    strict: bool = False

    @property
    def complete(self) -> bool:
        """Every applicable check ran."""
        return all(f.checked for f in self.findings)

    @property
    def passed(self) -> bool:
        """Passed means checked and found right: an incomplete run never passes."""
        return self.complete and not any(f.fails(self.strict) for f in self.findings)

    def not_checked(self) -> list[Finding]:
        return [f for f in self.findings if not f.checked]

    def groups(self) -> dict[str, bool]:
        """Per resource group: True when none of its findings fails the verdict."""
        return {group: status == PASSED for group, status in self.group_statuses().items()}

    def group_statuses(self) -> dict[str, str]:
        """Per resource group: PASSED, FAILED, or NOT CHECKED when a check could not run."""
        result: dict[str, str] = {}
        for group in GROUPS:
            members = [f for f in self.findings if f.resource == group]
            if not members:
                continue
            if any(f.fails(self.strict) for f in members):
                result[group] = FAILED
            elif any(not f.checked for f in members):
                result[group] = NOT_CHECKED
            else:
                result[group] = PASSED
        return result

    def to_dict(self) -> dict[str, Any]:
        return {
            "cloud": self.cloud,
            "passed": self.passed,
            "complete": self.complete,
            "strict": self.strict,
            "findings": [f.to_dict() for f in self.findings],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        return cls(
            cloud=data.get("cloud", {}),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            strict=bool(data.get("strict", False)),
        )
