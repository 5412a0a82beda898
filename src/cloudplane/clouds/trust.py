"""Requiring a cloud's External ID in a role's trust policy, and putting the old policy back.

The policy as it was is kept on the cloud record until registration ends, so that a run killed half-way
can still be put right by a rerun or by `cloud delete`.

IAM is eventually consistent: for a few seconds after `UpdateAssumeRolePolicy`, `GetRole` may still return
the old document. Every change made here is therefore followed by reading the policy back until it shows
the change (bounded), so that what comes next (verification, a rerun, a delete) sees it.
"""

from __future__ import annotations

import copy
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudplane.aws.errors import AwsError, Fault
from cloudplane.aws.session import AwsClients
from cloudplane.clouds.byo_input import role_name
from cloudplane.errors import Conflict, InputError, OperationFailed
from cloudplane.verify.iam_eval import Statement

# Where a cloud record keeps the trust policy of its role as it was before register changed it.
ORIGINAL_TRUST_OPTION = "trust_policy_before_register"
# Where a cloud record keeps the Sid of the trust statement `register --add-trust` added (added_trust).
ADDED_TRUST_OPTION = "trust_statement_added"
# External IDs cloudplane generates start with the cloud id (naming.new_external_id).
_OUR_EXTERNAL_ID = re.compile(r"(cld_[a-z0-9]{20})-[0-9a-f]+")

# Given an External ID a role already requires: None when it may be replaced (it belongs to a cloud the
# control plane no longer knows), else a short description of who uses it.
ExternalIdOwner = Callable[[str], str | None]
# Where a wait for IAM says that it is waiting (a progress line).
Progress = Callable[[str], None]

# How long a trust-policy change may take to show in GetRole. AWS says "usually seconds"; past this, something
# else is wrong (or another party changed the policy again).
TRUST_WAIT_SECONDS = 30.0
# Pauses between reads: short at first, since most changes show within a second or two.
_PAUSES = (0.2, 0.3, 0.5, 1.0)


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def lets_aws_principals_assume(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    allows = statement.get("Effect") == "Allow"
    assume = any(a.lower() in ("sts:assumerole", "sts:*", "*") for a in _actions(statement))
    return allows and assume and isinstance(principal, dict) and "AWS" in principal


def trusts_principal(statement: dict[str, Any], principal: str | None) -> bool:
    """The statement trusts `principal` as verification's IAM-2 reads it (None: any principal)."""
    return principal is None or Statement.parse(statement, "trust policy").names_principal(principal)


def cloud_id_of_external_id(external_id: str) -> str | None:
    """The cloud an External ID was generated for, when cloudplane generated it."""
    match = _OUR_EXTERNAL_ID.fullmatch(external_id)
    return match.group(1) if match else None


def with_external_id(
    document: dict[str, Any],
    external_id: str,
    arn: str,
    owner_of: ExternalIdOwner | None = None,
    principal: str | None = None,
) -> dict[str, Any] | None:
    """The trust policy with the External ID required on every statement that lets AWS principals assume
    the role (given `principal`: every such statement trusting it, others' stay as they are); None when it
    already requires exactly that. An External ID of a deleted cloud is replaced."""
    updated = copy.deepcopy(document)
    changed = False
    for statement in updated.get("Statement", []):
        if not lets_aws_principals_assume(statement) or not trusts_principal(statement, principal):
            continue
        equals = statement.setdefault("Condition", {}).setdefault("StringEquals", {})
        present = equals.get("sts:ExternalId")
        if present in (external_id, [external_id]):
            continue
        stale = isinstance(present, str) and owner_of is not None and owner_of(present) is None
        if present is None or stale:
            equals["sts:ExternalId"] = external_id
            changed = True
            continue
        who = owner_of(present) if isinstance(present, str) and owner_of else None
        raise Conflict(
            f"role {arn} already requires External ID {present!r}"
            + (f", of {who}" if who else ", probably for another cloud")
            + "; give each cloud its own role, or register with --external-id "
            + (present if isinstance(present, str) else "...")
        )
    return updated if changed else None


def _external_id_of(statement: dict[str, Any]) -> Any:
    return ((statement.get("Condition") or {}).get("StringEquals") or {}).get("sts:ExternalId")


def requires_everywhere(document: dict[str, Any], external_id: str, principal: str | None = None) -> bool:
    """Every statement that lets AWS principals (given `principal`: that one) assume the role requires
    exactly `external_id`."""
    relevant = [
        s
        for s in document.get("Statement", [])
        if lets_aws_principals_assume(s) and trusts_principal(s, principal)
    ]
    return bool(relevant) and all(_external_id_of(s) in (external_id, [external_id]) for s in relevant)


def wait_for_trust_policy(
    aws: AwsClients,
    role_arn: str,
    shows: Callable[[dict[str, Any]], bool],
    what: str,
    progress: Progress | None = None,
    *,
    timeout: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Read the role's trust policy until `shows(document)`; False when it still did not after `timeout`
    (default TRUST_WAIT_SECONDS).

    The first read is immediate, so where IAM is already consistent nothing is waited for and nothing is
    said; one progress line is given once a wait begins."""
    deadline = clock() + (TRUST_WAIT_SECONDS if timeout is None else timeout)
    attempt = 0
    while not shows(read_trust_policy(aws, role_arn)):
        remaining = deadline - clock()
        if remaining <= 0:
            return False
        if attempt == 0 and progress is not None:
            progress(
                f"Waiting for IAM to show {what} of {role_arn} (IAM changes take a few seconds to appear) ..."
            )
        sleep(min(_PAUSES[min(attempt, len(_PAUSES) - 1)], remaining))
        attempt += 1
    return True


@dataclass
class TrustChange:
    """A trust-policy edit that can be undone. `updated` is None for an edit made by an earlier run."""

    aws: AwsClients
    role_arn: str
    original: dict[str, Any]
    external_id: str | None = None
    updated: dict[str, Any] | None = None
    principal: str | None = None
    # The Sid of the statement the edit added (added_trust), when it added one rather than a condition.
    added_sid: str | None = None

    def wait_until_visible(self, progress: Progress | None = None) -> None:
        """Return once IAM reads show the edit; OperationFailed when they still do not after the wait."""
        external_id = self.external_id

        def shows(document: dict[str, Any]) -> bool:
            return document == self.updated or (
                external_id is not None and requires_everywhere(document, external_id, self.principal)
            )

        if not wait_for_trust_policy(self.aws, self.role_arn, shows, "the new trust policy", progress):
            raise OperationFailed(
                f"IAM still shows the old trust policy of {self.role_arn} {TRUST_WAIT_SECONDS:.0f} s after it "
                "was changed; run the same command again"
            )

    def revert(self, progress: Progress | None = None) -> bool:
        """Put the original policy back; True once IAM reads show it (False: written, not yet visible)."""
        self.aws.client("iam").update_assume_role_policy(
            RoleName=role_name(self.role_arn), PolicyDocument=json.dumps(self.original)
        )
        external_id = self.external_id

        def shows(document: dict[str, Any]) -> bool:
            return document == self.original or (
                external_id is not None and not requires_external_id(document, external_id)
            )

        return wait_for_trust_policy(self.aws, self.role_arn, shows, "the restored trust policy", progress)

    def by_hand(self) -> str:
        """What to undo by hand when `revert` could not."""
        if self.added_sid:
            return f"remove the statement {self.added_sid} from it"
        return f"remove the sts:ExternalId condition {self.external_id} from it"


def read_trust_policy(aws: AwsClients, role_arn: str) -> dict[str, Any]:
    try:
        document = aws.client("iam").get_role(RoleName=role_name(role_arn))["Role"][
            "AssumeRolePolicyDocument"
        ]
    except AwsError as exc:
        if exc.fault is Fault.NOT_FOUND:
            raise InputError(
                f"the control-plane role {role_arn} does not exist in this account; create it first (or fix "
                "--controlplane-iam-role-id)"
            ) from exc
        raise
    if isinstance(document, str):  # some SDK paths return the URL-decoded JSON text
        document = json.loads(document)
    return document


def require_external_id(
    aws: AwsClients,
    role_arn: str,
    external_id: str,
    *,
    owner_of: ExternalIdOwner | None = None,
    before_change: Callable[[dict[str, Any]], None] | None = None,
    principal: str | None = None,
) -> TrustChange | None:
    """Require `external_id` in the role's trust policy (given `principal`: in the statements trusting it).
    `before_change` receives the policy as it is, before anything changes (to keep it where an interrupted
    run can find it)."""
    document = read_trust_policy(aws, role_arn)
    updated = with_external_id(document, external_id, role_arn, owner_of, principal)
    if updated is None:
        return None
    if before_change is not None:
        before_change(document)
    aws.client("iam").update_assume_role_policy(
        RoleName=role_name(role_arn), PolicyDocument=json.dumps(updated)
    )
    # Not waited for here: the caller must hold the change (to revert it) before a wait that may fail.
    return TrustChange(aws, role_arn, document, external_id, updated, principal)


def requires_external_id(document: dict[str, Any], external_id: str) -> bool:
    return any(_external_id_of(s) in (external_id, [external_id]) for s in document.get("Statement", []))


def has_statement(document: dict[str, Any], sid: str) -> bool:
    return any(s.get("Sid") == sid for s in document.get("Statement", []))


def undo_interrupted_change(
    aws: AwsClients, cloud: dict[str, Any], progress: Progress | None = None
) -> str | None:
    """Put back the trust policy an interrupted registration of `cloud` changed, if it still requires the
    cloud's External ID, or still has the statement the registration added (a policy edited since is left
    alone). Returns what was done, for the user."""
    options = cloud.get("options") or {}
    original = options.get(ORIGINAL_TRUST_OPTION)
    role_arn = (cloud.get("resources") or {}).get("controlplane_role_arn")
    if not original or not role_arn:
        return None
    current = read_trust_policy(aws, role_arn)
    added = options.get(ADDED_TRUST_OPTION)
    if added and not has_statement(current, added):
        return f"the trust policy of {role_arn} no longer has the statement {added}; left as it is"
    if not added and not requires_external_id(current, cloud["external_id"]):
        return f"the trust policy of {role_arn} no longer requires this cloud's External ID; left as it is"
    restored = TrustChange(aws, role_arn, json.loads(original), cloud["external_id"]).revert(progress)
    return f"put the trust policy of {role_arn} back as it was before the interrupted registration" + (
        "" if restored else f" (IAM did not show it yet after {TRUST_WAIT_SECONDS:.0f} s)"
    )
