"""Running a command as a user holding exactly a policy, and what the sandbox checked for it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudplane.sandbox.server import SandboxServer
from tests.enforcement import acting_with_policy, checked_permissions, clear_checked_permissions
from tests.helpers import Run, cloudplane

Factory = Callable[..., Any]
# Needs no permission on AWS; the sandbox does not record it.
FREE = frozenset({"sts:GetCallerIdentity"})


@dataclass
class Proof:
    run: Run
    allowed: set[str]  # actions checked for the user and allowed
    denied: set[str]  # actions checked for the user and refused

    @property
    def output(self) -> str:
        return self.run.stdout + self.run.stderr


def run_holding(sandbox: SandboxServer, aws: Factory, policy: dict[str, Any], *args: str) -> Proof:
    """`cloudplane *args` as a fresh IAM user whose only policy is `policy`, under IAM enforcement."""
    with acting_with_policy(sandbox, aws, policy) as user:
        clear_checked_permissions(sandbox)
        run = cloudplane(*args)
        checks = [c for c in checked_permissions(sandbox) if c["principal"] == user]
    return Proof(
        run,
        allowed={c["action"] for c in checks if c["allowed"]},
        denied={c["action"] for c in checks if not c["allowed"]},
    )


def without(policy: dict[str, Any], action: str) -> dict[str, Any]:
    """The policy with `action` taken out of every statement (a statement left empty goes)."""
    reduced = copy.deepcopy(policy)
    for statement in reduced["Statement"]:
        statement["Action"] = [a for a in statement["Action"] if a != action]
    reduced["Statement"] = [s for s in reduced["Statement"] if s["Action"]]
    assert reduced != policy, f"{action} is not in the policy"
    return reduced


def assert_one_line_naming(run: Run, action: str) -> None:
    """The command failed, and said so in one line that names the missing permission; no traceback."""
    assert run.exit_code != 0, run.stdout + run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, run.stderr
    assert action in errors[0], errors[0]


def assert_reported_not_checked(run: Run, action: str) -> None:
    """A verification that could not run a check because `action` was refused: a line names the action
    and says the check was not checked; no rule is reported as failed, and nothing passes unseen (a quota
    that could not be read is a note saying so)."""
    assert "Traceback" not in run.stdout + run.stderr
    text = run.stdout
    said = [line for line in text.splitlines() if action in line and "not checked" in line.lower()]
    assert said, text
    assert "[error]" not in text and "Verdict: FAILED" not in text, text
