"""The catalogue of checks: each one registered with its rule id, group, severity and scope."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cloudplane.cloud import CUSTOMER_DEFINED, MANAGED, PRIVATE, PUBLIC, CloudSpec
from cloudplane.verify.outcome import Outcome
from cloudplane.verify.report import GROUPS, Severity

if TYPE_CHECKING:
    from cloudplane.verify.context import VerifyContext

CheckFunc = Callable[["VerifyContext"], Iterable[Outcome]]

VERIFY = "verify"
SETUP = "setup"  # run before anything is created, not part of verify_cloud


@dataclass(frozen=True)
class Check:
    id: str
    group: str
    severity: Severity
    func: CheckFunc
    deployments: frozenset[str]
    networking: frozenset[str]
    phase: str
    when: Callable[[CloudSpec], bool] | None

    def applies(self, spec: CloudSpec, phase: str = VERIFY) -> bool:
        return (
            self.phase == phase
            and spec.deployment in self.deployments
            and spec.networking in self.networking
            and (self.when is None or self.when(spec))
        )


REGISTRY: list[Check] = []


def check(
    check_id: str,
    group: str,
    severity: Severity,
    *,
    deployments: Iterable[str] = (MANAGED, CUSTOMER_DEFINED),
    networking: Iterable[str] = (PUBLIC, PRIVATE),
    phase: str = VERIFY,
    when: Callable[[CloudSpec], bool] | None = None,
) -> Callable[[CheckFunc], CheckFunc]:
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}")

    def register(func: CheckFunc) -> CheckFunc:
        if any(c.id == check_id for c in REGISTRY):
            raise ValueError(f"check {check_id} registered twice")
        REGISTRY.append(
            Check(
                check_id,
                group,
                severity,
                func,
                frozenset(deployments),
                frozenset(networking),
                phase,
                when,
            )
        )
        return func

    return register


def all_checks() -> list[Check]:
    # Importing the modules registers their checks.
    from cloudplane.verify import checks  # noqa: F401

    return list(REGISTRY)


def select(spec: CloudSpec, phase: str = VERIFY) -> list[Check]:
    return [c for c in all_checks() if c.applies(spec, phase)]
