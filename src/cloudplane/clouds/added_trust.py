"""A trust statement of cloudplane's own beside another tool's: `cloud register --add-trust`, `cloud delete`.

A role built by another tool trusts that tool's principal, with that tool's External ID. To move such a cloud
over without breaking the other tool, register adds one statement of its own and changes nothing else:

    {"Sid": "CloudplaneAssume<the 20 characters of the cloud id after 'cld_'>",
     "Effect": "Allow", "Principal": {"AWS": "<cloudplane's principal>"}, "Action": "sts:AssumeRole",
     "Condition": {"StringEquals": {"sts:ExternalId": "<the cloud's External ID>"}}}

The cloud's record keeps the Sid (trust.ADDED_TRUST_OPTION), and `cloud delete` removes that statement
again, only while it is still exactly as added.

Whether the role already trusts cloudplane's principal is read the way verification's IAM-2 reads it
(iam_eval.principal_matches): an Allow of sts:AssumeRole whose AWS principal is `*`, the principal's own
ARN, or, when the principal is an account (`arn:aws:iam::<id>:root`), that account as its id or root ARN.
An account root does not count as trusting a role or user of that account: AWS would still want that
identity's own policy to allow the call, and IAM-2 asks for a statement naming the principal itself, so
`--add-trust` then adds one that names it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from cloudplane.aws.session import AwsClients
from cloudplane.clouds.byo_input import role_name
from cloudplane.clouds.trust import (
    ADDED_TRUST_OPTION,
    TRUST_WAIT_SECONDS,
    Progress,
    TrustChange,
    has_statement,
    lets_aws_principals_assume,
    read_trust_policy,
    trusts_principal,
    wait_for_trust_policy,
)
from cloudplane.errors import InputError
from cloudplane.naming import CLOUD_ID_PREFIX

SID_PREFIX = "CloudplaneAssume"


def statement_sid(cloud_id: str) -> str:
    """Sids are letters and digits only: the prefix and the cloud id's own part."""
    return SID_PREFIX + cloud_id.removeprefix(CLOUD_ID_PREFIX)


def our_statement(cloud_id: str, principal: str, external_id: str) -> dict[str, Any]:
    return {
        "Sid": statement_sid(cloud_id),
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
    }


def trusted_principals(document: dict[str, Any]) -> list[str]:
    """The AWS principals the trust policy lets assume the role, in order, once each."""
    seen: dict[str, None] = {}
    for statement in document.get("Statement", []):
        if lets_aws_principals_assume(statement):
            entry = statement["Principal"]["AWS"]
            for principal in [entry] if isinstance(entry, str) else entry:
                seen.setdefault(str(principal), None)
    return list(seen)


def trusts(document: dict[str, Any], principal: str) -> bool:
    """Some statement lets `principal` assume the role (see the module's docstring for what counts)."""
    return any(
        lets_aws_principals_assume(raw) and trusts_principal(raw, principal)
        for raw in document.get("Statement", [])
    )


def needs_statement(
    aws: AwsClients, role_arn: str, principal: str, *, add_trust: bool, say: Callable[[str], None]
) -> bool:
    """Whether register must add cloudplane's statement to the role's trust policy. Refused (InputError,
    before anything is made) when the role trusts other AWS principals only and `add_trust` is not given."""
    document = read_trust_policy(aws, role_arn)
    if trusts(document, principal):
        if add_trust:
            say(f"Role {role_arn} already trusts {principal}: no statement is needed, --add-trust adds none.")
        return False
    others = trusted_principals(document)
    if others and not add_trust:
        raise InputError(
            f"role {role_arn} trusts {', '.join(others)}, not cloudplane's principal {principal}; run again "
            "with --add-trust to add a statement trusting it with this cloud's External ID (the role's "
            "other statements stay as they are)"
        )
    return add_trust


def add_statement(
    aws: AwsClients,
    role_arn: str,
    statement: dict[str, Any],
    *,
    before_change: Callable[[dict[str, Any]], None] | None = None,
) -> TrustChange | None:
    """Append `statement` to the role's trust policy, every other statement left as it is; None when the
    policy has it already. `before_change` receives the policy as it was (for an interrupted run)."""
    document = read_trust_policy(aws, role_arn)
    if statement in document.get("Statement", []):
        return None
    updated = {**document, "Statement": [*document.get("Statement", []), statement]}
    if before_change is not None:
        before_change(document)
    aws.client("iam").update_assume_role_policy(
        RoleName=role_name(role_arn), PolicyDocument=json.dumps(updated)
    )
    external_id = statement["Condition"]["StringEquals"]["sts:ExternalId"]
    principal = statement["Principal"]["AWS"]
    return TrustChange(aws, role_arn, document, external_id, updated, principal, statement["Sid"])


def remove_added_statement(
    aws: AwsClients, cloud: dict[str, Any], progress: Progress | None = None
) -> tuple[bool, str]:
    """Remove the statement `cloud register --add-trust` added to the cloud's role, if it is still exactly
    as added; anything else is left alone. Returns whether it went, and what was done, for the user."""
    sid = (cloud.get("options") or {})[ADDED_TRUST_OPTION]
    role_arn = cloud["resources"]["controlplane_role_arn"]
    principal = cloud["options"].get("controlplane_principal", "")
    try:
        document = read_trust_policy(aws, role_arn)
    except InputError:
        return (
            False,
            f"role {role_arn} is not in this account (or no longer exists): no trust statement removed",
        )
    statements = document.get("Statement", [])
    if not has_statement(document, sid):
        return False, f"the trust policy of {role_arn} no longer has the statement {sid}; nothing to remove"
    if our_statement(cloud["id"], principal, cloud["external_id"]) not in statements:
        return False, (
            f"the statement {sid} in the trust policy of {role_arn} was changed since cloudplane added it; "
            "left as it is"
        )
    rest = [s for s in statements if s.get("Sid") != sid]
    if not rest:
        return False, (
            f"the statement {sid} is the only one left in the trust policy of {role_arn} and a role must "
            "trust someone; left as it is (delete the role if nothing else uses it)"
        )
    aws.client("iam").update_assume_role_policy(
        RoleName=role_name(role_arn), PolicyDocument=json.dumps({**document, "Statement": rest})
    )
    gone = wait_for_trust_policy(
        aws, role_arn, lambda d: not has_statement(d, sid), "the trust policy without the statement", progress
    )
    return (
        True,
        f"removed the statement {sid} from the trust policy of {role_arn}; its other statements stay"
        + ("" if gone else f" (IAM did not show it yet after {TRUST_WAIT_SECONDS:.0f} s)"),
    )
