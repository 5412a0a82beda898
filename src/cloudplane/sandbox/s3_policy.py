"""Bucket-policy evaluation that tolerates Conditions.

moto evaluates a bucket policy on every object request, even without IAM enforcement, but its condition
engine only knows StringEquals and answers DENIED whenever a condition fails, for Allow statements too. The
usual `Deny ... Bool aws:SecureTransport=false` statement therefore 403s every object call. Here statements
whose conditions do not hold for a TLS request are dropped before moto evaluates what remains.

moto also applies every statement with a `{"AWS": ...}` Principal to every caller. Here a statement applies
only to the callers its Principal names, as on AWS: `*`, the caller's account (id or `:root`), its user ARN,
or the role whose session it is (a role ARN names all of its sessions, e.g. an instance's). A denied object
call answers S3's AccessDenied error instead of an empty 403.
"""

from __future__ import annotations

import contextvars
import json
import re
from typing import Any

from moto.iam.models import get_account_id_from, iam_backends
from moto.s3.exceptions import BucketAccessDeniedError
from moto.s3.models import FakeBucket
from moto.s3.responses import S3Response
from moto.sts.models import sts_backends

from ._patching import wrap_method

# What a request to the sandbox looks like from the policy's point of view (clients are assumed to use TLS).
REQUEST_CONTEXT = {"aws:securetransport": "true", "s3:tlsversion": "1.3"}


def _values(value: Any) -> list[str]:
    return [str(v).lower() for v in (value if isinstance(value, list) else [value])]


def _holds(operator: str, key: str, expected: Any) -> bool:
    base = operator[: -len("IfExists")] if operator.endswith("IfExists") else operator
    actual = REQUEST_CONTEXT.get(key.lower())
    if actual is None:
        # Unknown context keys: IfExists passes; anything else cannot be evaluated here, so it does not apply.
        return operator.endswith("IfExists") or base == "Null"
    wanted = _values(expected)
    if base in ("Bool", "StringEquals", "StringEqualsIgnoreCase"):
        return actual in wanted
    if base in ("StringNotEquals", "StringNotEqualsIgnoreCase"):
        return actual not in wanted
    if base == "Null":
        return "false" in wanted
    if base.startswith("Numeric"):
        number = float(actual)
        checks = {
            "NumericEquals": lambda w: number == w,
            "NumericNotEquals": lambda w: number != w,
            "NumericLessThan": lambda w: number < w,
            "NumericLessThanEquals": lambda w: number <= w,
            "NumericGreaterThan": lambda w: number > w,
            "NumericGreaterThanEquals": lambda w: number >= w,
        }
        check = checks.get(base)
        return check is not None and any(check(float(w)) for w in wanted)
    return False


def conditions_hold(conditions: dict[str, dict[str, Any]]) -> bool:
    return all(
        _holds(op, key, expected) for op, pairs in conditions.items() for key, expected in pairs.items()
    )


# The ARN of the principal that signed the S3 request being served (None: anonymous).
_caller: contextvars.ContextVar[str | None] = contextvars.ContextVar("s3_caller", default=None)
_ACCESS_KEY = re.compile(r"Credential=([A-Za-z0-9]+)/")


def caller_arn(access_key_id: str) -> str:
    """The principal behind an access key: a role session, an IAM user, else the account's root."""
    for _, partitions in list(sts_backends.items()):
        for sts in list(partitions.values()):
            assumed = sts.get_assumed_role_from_access_key(access_key_id)
            if assumed is not None:
                return assumed.arn
    account_id = get_account_id_from(access_key_id)
    for iam in list(iam_backends[account_id].values()):
        for user in list(iam.users.values()):
            if any(key.access_key_id == access_key_id for key in user.access_keys):
                return user.arn
    return f"arn:aws:iam::{account_id}:root"


def _names(value: str, caller: str) -> bool:
    if value == "*" or value == caller:
        return True
    caller_account = caller.split(":")[4]
    if re.fullmatch(r"\d{12}", value) or value.endswith(":root"):
        return value.split(":")[4] == caller_account if ":" in value else value == caller_account
    role = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):role/(?:.*/)?([^/]+)", value)
    session = re.fullmatch(r"arn:[^:]+:sts::(\d{12}):assumed-role/([^/]+)/.+", caller)
    return bool(role and session and role.groups() == session.groups())


def principal_names(principal: Any, caller: str | None) -> bool:
    """Whether a statement's Principal names the caller (only `*` names an anonymous one)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict) or "AWS" not in principal:
        return False
    values = principal["AWS"] if isinstance(principal["AWS"], list) else [principal["AWS"]]
    return any(value == "*" or (caller is not None and _names(str(value), caller)) for value in values)


def _applies_to(statement: dict[str, Any], caller: str | None) -> bool:
    if "Principal" in statement:
        return principal_names(statement["Principal"], caller)
    if "NotPrincipal" in statement:
        return not principal_names(statement["NotPrincipal"], caller)
    return True


def effective_policy(policy_text: str, caller: str | None = None) -> str:
    """The statements that apply to the caller and whose Conditions hold, without Principal and Condition."""
    policy = json.loads(policy_text)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = []
    for statement in statements:
        conditions = statement.get("Condition")
        if conditions and not conditions_hold(conditions):
            continue
        if not _applies_to(statement, caller):
            continue
        kept.append(
            {k: v for k, v in statement.items() if k not in ("Condition", "Principal", "NotPrincipal")}
        )
    return json.dumps(dict(policy, Statement=kept))


def _get_permission(orig: Any, self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return orig(self, action, resource)
    from moto.iam.access_control import IAMPolicy

    policy = effective_policy(self.policy.decode(), _caller.get())
    return IAMPolicy(policy).is_action_permitted(action, resource)


def _setup_class(orig: Any, self: S3Response, request: Any, *args: Any, **kwargs: Any) -> None:
    orig(self, request, *args, **kwargs)
    headers = getattr(request, "headers", {}) or {}
    signed = _ACCESS_KEY.search(str(headers.get("Authorization", "")))
    if signed is None:
        signed = re.search(r"X-Amz-Credential=([A-Za-z0-9]+)(?:/|%2F)", str(getattr(request, "url", "")))
    _caller.set(caller_arn(signed.group(1)) if signed else None)


def _key_response(orig: Any, self: S3Response, *args: Any, **kwargs: Any) -> Any:
    response = orig(self, *args, **kwargs)
    if isinstance(response, tuple) and response[0] == 403 and not response[2]:
        raise BucketAccessDeniedError(self.bucket_name or "")
    return response


def apply() -> None:
    wrap_method(FakeBucket, "get_permission", _get_permission)
    wrap_method(S3Response, "setup_class", _setup_class)
    wrap_method(S3Response, "_key_response", _key_response)
