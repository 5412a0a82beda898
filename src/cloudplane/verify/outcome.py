"""What a check yields: an outcome the engine turns into a Finding with the check's id and group."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from cloudplane.verify.report import Severity

T = TypeVar("T")


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str
    resource_id: str | None = None
    remediation: str | None = None
    severity: Severity | None = None  # None: the check's own severity


def ok(message: str, resource_id: str | None = None) -> Outcome:
    return Outcome(True, message, resource_id)


def fail(
    message: str,
    resource_id: str | None = None,
    remediation: str | None = None,
    severity: Severity | None = None,
) -> Outcome:
    return Outcome(False, message, resource_id, remediation, severity)


def note(message: str, resource_id: str | None = None, remediation: str | None = None) -> Outcome:
    """Information that needs no action to pass but is worth reading (never fails the verdict)."""
    return Outcome(False, message, resource_id, remediation, Severity.INFO)


class Skip(Exception):  # noqa: N818 - a control-flow signal, not an error
    """Raised by a check whose subject is missing; the group's "exists" check reports that."""


def require(value: T | None) -> T:
    if value is None:
        raise Skip
    return value
