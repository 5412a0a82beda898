"""What a customer changed in the cross-account role's managed inline policies, and how to keep it.

The baseline is what the stack deployed (its template's policies), not the current cloudplane version:
a statement that an older cloudplane wrote differently is cloudplane's to replace, not the customer's.
A live statement the baseline does not grant in full (a new statement, an action or resource added to
one of ours, a condition taken off) is the customer's addition, and so is any Deny they added: both
are kept, under a new Sid, in `Customer_Drifts_Policy`, which `cloud update` never overwrites. A
statement the customer narrowed or removed is put back by the update; those are reported, not kept.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cloudplane.verify.iam_eval import action_matches, resource_covers

CUSTOMER_DRIFTS_POLICY_NAME = "Customer_Drifts_Policy"
# Aggregate size of a role's inline policies, whitespace not counted.
ROLE_INLINE_POLICY_LIMIT = 10_240

Statement = dict[str, Any]
Document = dict[str, Any]


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _statements(document: Document | None) -> list[Statement]:
    return [s for s in _as_list((document or {}).get("Statement")) if isinstance(s, dict)]


def canonical(statement: Statement) -> str:
    """The statement without its Sid, lists sorted: two statements granting the same compare equal."""

    def norm(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: norm(v) for k, v in sorted(value.items())}
        if isinstance(value, list):
            items = [norm(v) for v in value]
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return value

    body = {k: v for k, v in statement.items() if k != "Sid"}
    for key in ("Action", "NotAction", "Resource", "NotResource"):
        if isinstance(body.get(key), str):
            body[key] = [body[key]]
    return json.dumps(norm(body), sort_keys=True)


def _simple(statement: Statement) -> bool:
    return not any(k in statement for k in ("NotAction", "NotResource", "Principal", "NotPrincipal"))


def _conditions(statement: Statement) -> set[str]:
    """Each (operator, key, values) of the Condition block, as one comparable string."""
    found = set()
    for operator, entries in (statement.get("Condition") or {}).items():
        for key, values in (entries or {}).items():
            found.add(json.dumps([operator, key, sorted(map(str, _as_list(values)))]))
    return found


def grants_within(statement: Statement, baseline: Statement) -> bool:
    """Every request `statement` allows, `baseline` allows too (both Allow statements)."""
    if not (_simple(statement) and _simple(baseline)):
        return canonical(statement) == canonical(baseline)
    actions_covered = all(
        any(action_matches(b, a) for b in _as_list(baseline.get("Action")))
        for a in _as_list(statement.get("Action"))
    )
    resources_covered = all(
        any(resource_covers(b, r) for b in _as_list(baseline.get("Resource")))
        for r in _as_list(statement.get("Resource"))
    )
    # A statement with every condition of the baseline (and maybe more) allows no more than it.
    return actions_covered and resources_covered and _conditions(baseline) <= _conditions(statement)


@dataclass
class PolicyDrift:
    """Customer changes found in the managed policies, by policy name."""

    kept: list[tuple[str, Statement]] = field(default_factory=list)  # (policy, live statement)
    restored: list[tuple[str, str]] = field(default_factory=list)  # (policy, what goes back)

    @property
    def changed(self) -> bool:
        return bool(self.kept or self.restored)


def _label(statement: Statement, index: int) -> str:
    return f"statement {statement['Sid']}" if statement.get("Sid") else f"statement #{index + 1}"


def find_drift(live: dict[str, Document | None], deployed: dict[str, Document]) -> PolicyDrift:
    """Compare the role's live managed policies (None: deleted) with what the stack deployed."""
    drift = PolicyDrift()
    for name, baseline_doc in deployed.items():
        baseline = _statements(baseline_doc)
        live_doc = live.get(name)
        if live_doc is None:
            drift.restored.append((name, "the whole policy, which was deleted"))
            continue
        current = _statements(live_doc)
        allows = [b for b in baseline if b.get("Effect") == "Allow"]
        for statement in current:
            if any(canonical(statement) == canonical(b) for b in baseline):
                continue
            if statement.get("Effect") == "Allow" and any(grants_within(statement, b) for b in allows):
                continue  # narrowed: the update widens it back (reported below)
            drift.kept.append((name, statement))
        # A statement of ours that the customer widened is kept (above); only narrowing or removal is lost.
        widened = {s.get("Sid") for policy, s in drift.kept if policy == name and s.get("Sid")}
        for index, statement in enumerate(baseline):
            if statement.get("Sid") in widened:
                continue
            if not any(canonical(statement) == canonical(s) for s in current):
                drift.restored.append((name, _label(statement, index)))
    return drift


_SID = re.compile(r"[^A-Za-z0-9]")


def drifted_sid(statement: Statement, taken: set[str]) -> str:
    """A Sid for the kept copy: `<Sid>Drifted` (or `Drifted`), numbered when taken. Sids are alphanumeric."""
    base = _SID.sub("", str(statement.get("Sid") or "")) + "Drifted"
    sid, number = base, 2
    while sid in taken:
        sid, number = f"{base}{number}", number + 1
    return sid


def merged_customer_policy(existing: Document | None, drift: PolicyDrift) -> Document | None:
    """`Customer_Drifts_Policy` with the kept statements added (each once); None when nothing changes."""
    statements = _statements(existing)
    present = {canonical(s) for s in statements}
    taken = {str(s.get("Sid")) for s in statements if s.get("Sid")}
    added = False
    for _, statement in drift.kept:
        if canonical(statement) in present:
            continue
        copy = {**statement, "Sid": drifted_sid(statement, taken)}
        taken.add(copy["Sid"])
        present.add(canonical(copy))
        statements.append(copy)
        added = True
    if not added:
        return None
    return {"Version": (existing or {}).get("Version", "2012-10-17"), "Statement": statements}


def inline_size(documents: list[Document]) -> int:
    """Characters IAM counts toward a role's inline-policy quota (JSON without whitespace)."""
    return sum(len(json.dumps(d, separators=(",", ":"))) for d in documents)
