"""Requiring a cloud's External ID in a role's trust policy, and putting the old policy back.

The policy as it was is kept on the cloud record until registration ends, so that a run killed half-way
can still be put right by a rerun or by `cloud delete`.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudplane.aws.errors import AwsError, Fault
from cloudplane.aws.session import AwsClients
from cloudplane.clouds.byo_input import role_name
from cloudplane.errors import Conflict, InputError

# Where a cloud record keeps the trust policy of its role as it was before register changed it.
ORIGINAL_TRUST_OPTION = "trust_policy_before_register"
# External IDs cloudplane generates start with the cloud id (naming.new_external_id).
_OUR_EXTERNAL_ID = re.compile(r"(cld_[a-z0-9]{20})-[0-9a-f]+")

# Given an External ID a role already requires: None when it may be replaced (it belongs to a cloud the
# control plane no longer knows), else a short description of who uses it.
ExternalIdOwner = Callable[[str], str | None]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def _lets_aws_principals_assume(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    allows = statement.get("Effect") == "Allow"
    assume = any(a.lower() in ("sts:assumerole", "sts:*", "*") for a in _actions(statement))
    return allows and assume and isinstance(principal, dict) and "AWS" in principal


def cloud_id_of_external_id(external_id: str) -> str | None:
    """The cloud an External ID was generated for, when cloudplane generated it."""
    match = _OUR_EXTERNAL_ID.fullmatch(external_id)
    return match.group(1) if match else None


def with_external_id(
    document: dict[str, Any], external_id: str, arn: str, owner_of: ExternalIdOwner | None = None
) -> dict[str, Any] | None:
    """The trust policy with the External ID required on every statement that lets AWS principals assume
    the role; None when it already requires exactly that. An External ID of a deleted cloud is replaced."""
    updated = copy.deepcopy(document)
    changed = False
    for statement in updated.get("Statement", []):
        if not _lets_aws_principals_assume(statement):
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


@dataclass
class TrustChange:
    """A trust-policy edit that can be undone."""

    aws: AwsClients
    role_arn: str
    original: dict[str, Any]

    def revert(self) -> None:
        self.aws.client("iam").update_assume_role_policy(
            RoleName=role_name(self.role_arn), PolicyDocument=json.dumps(self.original)
        )


def read_trust_policy(aws: AwsClients, role_arn: str) -> dict[str, Any]:
    try:
        document = aws.client("iam").get_role(RoleName=role_name(role_arn))["Role"]["AssumeRolePolicyDocument"]
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
) -> TrustChange | None:
    """Require `external_id` in the role's trust policy. `before_change` receives the policy as it is,
    before anything changes (to keep it where an interrupted run can find it)."""
    document = read_trust_policy(aws, role_arn)
    updated = with_external_id(document, external_id, role_arn, owner_of)
    if updated is None:
        return None
    if before_change is not None:
        before_change(document)
    aws.client("iam").update_assume_role_policy(
        RoleName=role_name(role_arn), PolicyDocument=json.dumps(updated)
    )
    return TrustChange(aws, role_arn, document)


def requires_external_id(document: dict[str, Any], external_id: str) -> bool:
    for statement in document.get("Statement", []):
        present = (statement.get("Condition") or {}).get("StringEquals", {}).get("sts:ExternalId")
        if present in (external_id, [external_id]):
            return True
    return False


def undo_interrupted_change(aws: AwsClients, cloud: dict[str, Any]) -> str | None:
    """Put back the trust policy an interrupted registration of `cloud` changed, if it still requires the
    cloud's External ID (a policy edited since is left alone). Returns what was done, for the user."""
    original = (cloud.get("options") or {}).get(ORIGINAL_TRUST_OPTION)
    role_arn = (cloud.get("resources") or {}).get("controlplane_role_arn")
    if not original or not role_arn:
        return None
    current = read_trust_policy(aws, role_arn)
    if not requires_external_id(current, cloud["external_id"]):
        return f"the trust policy of {role_arn} no longer requires this cloud's External ID; left as it is"
    TrustChange(aws, role_arn, json.loads(original)).revert()
    return f"put the trust policy of {role_arn} back as it was before the interrupted registration"
