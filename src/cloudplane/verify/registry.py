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
# A read of the context a check makes (a method such as VerifyContext.vpc): the engine starts the reads of
# every selected check at once, before the checks ask for them.
Read = Callable[["VerifyContext"], object]

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
    reads: tuple[Read, ...] = ()

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
    reads: Iterable[Read] = (),
) -> Callable[[CheckFunc], CheckFunc]:
    """reads: the context's reads the check makes on a sound cloud; the engine starts those of every selected
    check at once, before any check asks (a check may read more: that read starts when it asks)."""
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
                tuple(reads),
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


def reads_of(checks: Iterable[Check]) -> list[Read]:
    """The reads the checks declare, each once, in the checks' order."""
    return list(dict.fromkeys(read for c in checks for read in c.reads))
