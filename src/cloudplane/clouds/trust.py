"""Requiring a cloud's External ID in a role's trust policy, and putting the old policy back."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

from cloudplane.aws.session import AwsClients
from cloudplane.clouds.byo_input import role_name
from cloudplane.errors import Conflict


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else list(actions)


def _lets_aws_principals_assume(statement: dict[str, Any]) -> bool:
    principal = statement.get("Principal")
    allows = statement.get("Effect") == "Allow"
    assume = any(a.lower() in ("sts:assumerole", "sts:*", "*") for a in _actions(statement))
    return allows and assume and isinstance(principal, dict) and "AWS" in principal


def with_external_id(document: dict[str, Any], external_id: str, arn: str) -> dict[str, Any] | None:
    """The trust policy with the External ID required on every statement that lets AWS principals assume
    the role; None when it already requires exactly that."""
    updated = copy.deepcopy(document)
    changed = False
    for statement in updated.get("Statement", []):
        if not _lets_aws_principals_assume(statement):
            continue
        equals = statement.setdefault("Condition", {}).setdefault("StringEquals", {})
        present = equals.get("sts:ExternalId")
        if present is None:
            equals["sts:ExternalId"] = external_id
            changed = True
        elif present not in (external_id, [external_id]):
            raise Conflict(
                f"role {arn} already requires External ID {present!r}, probably for another cloud; give each "
                f"cloud its own role, or register with --external-id {present if isinstance(present, str) else '...'}"
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


def require_external_id(aws: AwsClients, role_arn: str, external_id: str) -> TrustChange | None:
    iam = aws.client("iam")
    name = role_name(role_arn)
    document = iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"]
    if isinstance(document, str):  # some SDK paths return the URL-decoded JSON text
        document = json.loads(document)
    updated = with_external_id(document, external_id, role_arn)
    if updated is None:
        return None
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(updated))
    return TrustChange(aws, role_arn, document)
