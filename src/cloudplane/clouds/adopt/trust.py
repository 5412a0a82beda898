"""Reading a role's trust policy: whom it lets assume the role, and with which External ID."""

from __future__ import annotations

from typing import Any

EC2_SERVICE = "ec2.amazonaws.com"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _assume_statements(trust: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements that allow sts:AssumeRole (or a wildcard covering it)."""
    found = []
    for statement in _as_list(trust.get("Statement")):
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
        if any(a in ("sts:assumerole", "sts:*", "*") for a in actions):
            found.append(statement)
    return found


def _principals(statement: dict[str, Any], kind: str) -> list[str]:
    principal = statement.get("Principal")
    if not isinstance(principal, dict):
        return []
    return [str(p) for p in _as_list(principal.get(kind))]


def lets_ec2_assume(trust: dict[str, Any]) -> bool:
    return any(EC2_SERVICE in _principals(s, "Service") for s in _assume_statements(trust))


def account_statement(trust: dict[str, Any]) -> dict[str, Any] | None:
    """The first statement that lets an AWS principal (an account, not a service) assume the role."""
    return next((s for s in _assume_statements(trust) if _principals(s, "AWS")), None)


def trusted_principals(trust: dict[str, Any]) -> list[str]:
    statement = account_statement(trust)
    return _principals(statement, "AWS") if statement else []


def external_id(trust: dict[str, Any], principal: str | None = None) -> str | None:
    """The sts:ExternalId the first statement trusting `principal` (None: any AWS principal) requires, when it
    requires exactly one. Another tool's External ID, in a statement trusting that tool, is that tool's: a
    cloud registered here gets its own (`register --add-trust`)."""
    from cloudplane.clouds.trust import trusts_principal

    for statement in _assume_statements(trust):
        if not _principals(statement, "AWS") or not trusts_principal(statement, principal):
            continue
        # StringLike would hold a pattern, not the ID to pass.
        condition = (statement.get("Condition") or {}).get("StringEquals") or {}
        values = _as_list(condition.get("sts:ExternalId"))
        return values[0] if len(values) == 1 and isinstance(values[0], str) else None
    return None
