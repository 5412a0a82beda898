"""Bucket-policy evaluation that tolerates Conditions.

moto evaluates a bucket policy on every object request, even without IAM enforcement, but its condition
engine only knows StringEquals and answers DENIED whenever a condition fails, for Allow statements too. The
usual `Deny ... Bool aws:SecureTransport=false` statement therefore 403s every object call. Here statements
whose conditions do not hold for a TLS request are dropped before moto evaluates what remains.
"""

from __future__ import annotations

import json
from typing import Any

from moto.s3.models import FakeBucket

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


def effective_policy(policy_text: str) -> str:
    """The policy without the statements whose Conditions do not hold; the rest lose their Condition."""
    policy = json.loads(policy_text)
    statements = policy.get("Statement", [])
    if isinstance(statements, dict):
        statements = [statements]
    kept = []
    for statement in statements:
        conditions = statement.get("Condition")
        if conditions and not conditions_hold(conditions):
            continue
        kept.append({k: v for k, v in statement.items() if k != "Condition"})
    return json.dumps(dict(policy, Statement=kept))


def _get_permission(orig: Any, self: FakeBucket, action: str, resource: str) -> Any:
    if self.policy is None:
        return orig(self, action, resource)
    from moto.iam.access_control import IAMPolicy

    return IAMPolicy(effective_policy(self.policy.decode())).is_action_permitted(action, resource)


def apply() -> None:
    wrap_method(FakeBucket, "get_permission", _get_permission)
