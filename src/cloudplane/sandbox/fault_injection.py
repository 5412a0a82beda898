"""Make the next CloudFormation create (or update) of a given resource type fail on purpose (for rollback tests).

`POST /moto-api/cloudplane/fail-next` with `{"ResourceType": "AWS::EFS::FileSystem", "Reason": "..."}`
(or a list of such objects). Optional keys: "LogicalResourceId" narrows the match; "Operation" is "create"
(the default: a new resource, in CreateStack or in an update that adds it) or "update" (an existing resource
that an UpdateStack or ExecuteChangeSet changes in place). The resource fails with exactly that reason as its
CREATE_FAILED / UPDATE_FAILED event, and the stack rolls back. Each rule fires once.
`GET` lists the pending rules, `DELETE` drops them, and `POST /moto-api/reset` clears them too.
"""

from __future__ import annotations

import threading
from typing import Any

from . import _moto_api

DEFAULT_REASON = "Resource creation failed (injected by the sandbox)"
UPDATE_REASON = "Resource update failed (injected by the sandbox)"
CREATE, UPDATE = "create", "update"
OPERATIONS = (CREATE, UPDATE)

_lock = threading.Lock()
_rules: list[dict[str, str]] = []


class InjectedFailure(Exception):
    """Raised in place of creating a resource; its message is the event's ResourceStatusReason."""


def add_rule(
    resource_type: str, reason: str | None = None, logical_id: str | None = None, operation: str = CREATE
) -> None:
    if operation not in OPERATIONS:
        raise ValueError(f"Operation must be one of {', '.join(OPERATIONS)}, not {operation!r}")
    default = DEFAULT_REASON if operation == CREATE else UPDATE_REASON
    rule = {"ResourceType": resource_type, "Reason": reason or default}
    if logical_id:
        rule["LogicalResourceId"] = logical_id
    if operation != CREATE:
        rule["Operation"] = operation
    with _lock:
        _rules.append(rule)


def clear() -> None:
    with _lock:
        _rules.clear()


def pending() -> list[dict[str, str]]:
    with _lock:
        return [dict(rule) for rule in _rules]


def check(resource_type: str, logical_id: str, operation: str = CREATE) -> None:
    """Raise InjectedFailure (consuming the rule) if a rule matches this resource and operation."""
    with _lock:
        for index, rule in enumerate(_rules):
            if rule["ResourceType"] != resource_type or rule.get("Operation", CREATE) != operation:
                continue
            if rule.get("LogicalResourceId") not in (None, logical_id):
                continue
            del _rules[index]
            raise InjectedFailure(rule["Reason"])


def _handle(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    if request.method == "GET":
        return _moto_api.json_response(200, pending())
    if request.method == "DELETE":
        clear()
        return _moto_api.json_response(200, {"status": "ok"})
    try:
        body = _moto_api.read_json(request)
        items = body if isinstance(body, list) else [body]
        for item in items:
            add_rule(
                str(item["ResourceType"]),
                item.get("Reason"),
                item.get("LogicalResourceId"),
                str(item.get("Operation") or CREATE).lower(),
            )
    except (ValueError, TypeError, KeyError) as exc:
        return _moto_api.json_response(
            400, {"Error": f"expected {{'ResourceType': ..., 'Reason': ..., 'Operation'?: ...}}: {exc}"}
        )
    return _moto_api.json_response(200, {"status": "ok", "pending": pending()})


def apply() -> None:
    _moto_api.add_route("fail-next", _handle)
    _moto_api.on_reset(clear)
