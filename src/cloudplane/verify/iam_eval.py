"""Evaluate IAM policy documents the way AWS does, as far as the documents alone allow.

An action is allowed when some Allow statement matches the action and the resource and no Deny
statement does. Wildcards (`*`, `?`) match in actions (case-insensitively) and in resources;
NotAction, NotResource, Principal and NotPrincipal are honoured. Conditions cannot be evaluated
without a request context: a conditional Allow still counts as allowing, a conditional Deny does
not deny, and both are reported so the caller can say which conditions were not evaluated.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

Document = dict[str, Any]


def parse_document(raw: Any) -> Document:
    """A policy document as a dict, whether it came as a dict, JSON, URL-encoded JSON or a Python repr."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise ValueError(f"policy document of unexpected type {type(raw).__name__}")
    for text in (raw, unquote(raw)):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    # Some emulated stacks store inline policies as a Python repr (single quotes).
    value = ast.literal_eval(raw)
    if isinstance(value, dict):
        return value
    raise ValueError("policy document is not an object")


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    parts = (".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in glob)
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(glob: str, value: str, *, ignore_case: bool = False) -> bool:
    return _pattern(glob, ignore_case).fullmatch(value) is not None


def action_matches(pattern: str, action: str) -> bool:
    return glob_match(pattern, action, ignore_case=True)


def resource_covers(pattern: str, resource: str) -> bool:
    """`pattern` matches every resource `resource` may name (wildcards in `resource` are literal)."""
    return glob_match(pattern, resource)


def resources_overlap(a: str, b: str) -> bool:
    """Some resource is matched by both patterns (approximation: one matches the other)."""
    return glob_match(a, b) or glob_match(b, a)


def _account_of(principal: str) -> str | None:
    if re.fullmatch(r"\d{12}", principal):
        return principal
    match = re.fullmatch(r"arn:[^:]+:iam::(\d{12}):root", principal)
    return match.group(1) if match else None


def principal_matches(pattern: str, principal: str) -> bool:
    """An AWS principal entry names `principal`; an account id and its `:root` ARN are the same."""
    if pattern == "*" or pattern == principal:
        return True
    account = _account_of(principal)
    return account is not None and _account_of(pattern) == account


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    resources: tuple[str, ...]
    not_resources: tuple[str, ...]
    principal: Any
    not_principal: Any
    condition: dict[str, Any]
    sid: str | None
    source: str  # where it came from, e.g. "inline policy X" or "bucket policy"

    @classmethod
    def parse(cls, raw: dict[str, Any], source: str) -> Statement:
        return cls(
            effect=str(raw.get("Effect", "")),
            actions=tuple(_as_list(raw.get("Action"))),
            not_actions=tuple(_as_list(raw.get("NotAction"))),
            # Trust policies name no Resource: the role itself is the implicit one.
            resources=tuple(_as_list(raw.get("Resource"))) or (() if "NotResource" in raw else ("*",)),
            not_resources=tuple(_as_list(raw.get("NotResource"))),
            principal=raw.get("Principal"),
            not_principal=raw.get("NotPrincipal"),
            condition=dict(raw.get("Condition") or {}),
            sid=raw.get("Sid"),
            source=source,
        )

    @property
    def label(self) -> str:
        return f"{self.source}, statement {self.sid}" if self.sid else self.source

    def matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not any(action_matches(p, action) for p in self.not_actions)
        return any(action_matches(p, action) for p in self.actions)

    def covers_resource(self, resource: str | None) -> bool:
        """Allow side: the statement grants on `resource` (None: on at least some resource)."""
        if self.not_resources:
            if resource is None:
                return True
            return not any(resources_overlap(p, resource) for p in self.not_resources)
        if resource is None:
            return bool(self.resources)
        return any(resource_covers(p, resource) for p in self.resources)

    def denies_resource(self, resource: str | None) -> tuple[bool, bool]:
        """Deny side: (denies all of the request, denies some of it)."""
        if self.not_resources:
            # A Deny on everything but some resources: whole if the request is not among the exceptions.
            if resource is None:
                return False, True
            excepted = any(resources_overlap(p, resource) for p in self.not_resources)
            return not excepted, not excepted
        patterns = self.resources
        if resource is None:
            return "*" in patterns, bool(patterns)
        whole = any(resource_covers(p, resource) for p in patterns)
        return whole, whole or any(resources_overlap(p, resource) for p in patterns)

    def names_principal(self, principal: str) -> bool:
        """For resource and trust policies: the statement applies to this AWS principal."""
        if self.not_principal is not None:
            return not _principal_entry_matches(self.not_principal, principal)
        return _principal_entry_matches(self.principal, principal)

    def names_service(self, service: str) -> bool:
        if self.principal == "*":
            return True
        if isinstance(self.principal, dict):
            return service in _as_list(self.principal.get("Service"))
        return False


def _principal_entry_matches(entry: Any, principal: str) -> bool:
    if entry is None:
        return False
    if entry == "*":
        return True
    if isinstance(entry, dict):
        return any(principal_matches(str(p), principal) for p in _as_list(entry.get("AWS")))
    return any(principal_matches(str(p), principal) for p in _as_list(entry))


def statements_of(document: Any, source: str) -> list[Statement]:
    doc = parse_document(document)
    return [Statement.parse(raw, source) for raw in _as_list(doc.get("Statement")) if isinstance(raw, dict)]


def describe_condition(condition: dict[str, Any]) -> str:
    parts = []
    for operator, keys in condition.items():
        for key, value in (keys or {}).items():
            parts.append(f"{operator} {key}={json.dumps(value)}")
    return "; ".join(parts)


@dataclass
class Decision:
    action: str
    resource: str | None
    allowed: bool
    granted_by: list[Statement] = field(default_factory=list)
    denied_by: list[Statement] = field(default_factory=list)
    # Statements whose Condition could not be evaluated but that decided the outcome.
    conditional: list[Statement] = field(default_factory=list)
    # Deny statements that cover part of the request only (narrower resources).
    partially_denied_by: list[Statement] = field(default_factory=list)


class PolicySet:
    """All statements that apply to one principal: its identity policies, plus resource-policy statements."""

    def __init__(self, statements: Iterable[Statement] = ()) -> None:
        self.statements = list(statements)

    def extend(self, statements: Iterable[Statement]) -> None:
        self.statements.extend(statements)

    def allowed_resources(self, action: str) -> list[str]:
        """The resources unconditional Allow statements grant `action` on (for "allowed only on ...")."""
        found: dict[str, None] = {}
        for st in self.statements:
            if st.effect == "Allow" and not st.condition and st.matches_action(action):
                found.update(dict.fromkeys(st.resources))
        return list(found)

    def decide(
        self, action: str, resource: str | None = None, expected_condition: dict[str, Any] | None = None
    ) -> Decision:
        """May `action` be done on `resource`? None means "on at least some resource".

        A Condition equal to `expected_condition` (the one the requirement itself carries) counts
        as satisfied rather than as unevaluated.
        """
        decision = Decision(action=action, resource=resource, allowed=False)
        conditional_allows: list[Statement] = []
        for st in self.statements:
            if not st.matches_action(action):
                continue
            unknown = bool(st.condition) and st.condition != (expected_condition or {})
            if st.effect == "Deny":
                whole, some = st.denies_resource(resource)
                if unknown and some:
                    decision.conditional.append(st)
                elif whole:
                    decision.denied_by.append(st)
                elif some:
                    decision.partially_denied_by.append(st)
            elif st.effect == "Allow" and st.covers_resource(resource):
                (conditional_allows if unknown else decision.granted_by).append(st)
        if not decision.granted_by and conditional_allows:
            decision.granted_by = conditional_allows
            decision.conditional.extend(conditional_allows)
        decision.allowed = bool(decision.granted_by) and not decision.denied_by
        return decision
