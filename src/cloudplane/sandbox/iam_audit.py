"""A record of every permission the sandbox checks under IAM enforcement, and who made the request.

Each check is kept, in order, as `{"principal", "action", "allowed", "source"}`: the principal's ARN (an IAM
user, or an assumed role's session), the action as it was evaluated (after iam_actions' renaming), whether it
was allowed, and where it came from: "request" for the API request itself (moto's check), or
"cloudformation:<LogicalId>" for a resource handler's action (cfn_permissions). sts:GetCallerIdentity needs
no permission on AWS and moto lets it through unchecked, even past an explicit Deny: it is not recorded.

`GET /moto-api/cloudplane/iam-checks` answers `{"checks": [...]}`; `DELETE` on it clears the record, as does
`POST /moto-api/reset`. The record keeps the latest MAX_CHECKS checks.

The principal of the request being served (None when the request was not checked, i.e. IAM is not enforced)
is what CloudFormation's handlers act as: `request_principal()`.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

from moto.core.authorization import ActionAuthenticatorMixin
from moto.iam.access_control import IAMRequestBase

from . import _moto_api
from ._patching import wrap_method

MAX_CHECKS = 100_000
UNCHECKED_ACTIONS = frozenset({"sts:GetCallerIdentity"})

_lock = threading.Lock()
_checks: deque[dict[str, Any]] = deque(maxlen=MAX_CHECKS)
# werkzeug serves each request on its own thread: the principal of the request this thread serves.
_request = threading.local()


def record(principal: str, action: str, allowed: bool, source: str) -> None:
    entry = {"principal": principal, "action": action, "allowed": allowed, "source": source}
    with _lock:
        _checks.append(entry)


def checks() -> list[dict[str, Any]]:
    with _lock:
        return [dict(entry) for entry in _checks]


def clear() -> None:
    with _lock:
        _checks.clear()


def request_principal() -> Any:
    """The access key (moto's IAMUserAccessKey / AssumedRoleAccessKey) whose request is being served and was
    checked under IAM enforcement; None otherwise."""
    return getattr(_request, "access_key", None)


def _authenticate(orig: Any, self: Any, *args: Any, **kwargs: Any) -> None:
    # Every request starts unattributed; a checked one sets its principal below.
    _request.access_key = None
    orig(self, *args, **kwargs)


def _check_action_permitted(orig: Any, self: IAMRequestBase, resource: str) -> None:
    access_key = self._access_key
    _request.access_key = access_key
    if self._action in UNCHECKED_ACTIONS:
        orig(self, resource)
        return
    try:
        orig(self, resource)
    except Exception:
        record(access_key.arn, self._action, False, "request")
        raise
    record(access_key.arn, self._action, True, "request")


def _handle(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    if request.method == "DELETE":
        clear()
        return _moto_api.json_response(200, {"checks": []})
    if request.method != "GET":
        return _moto_api.json_response(405, {"Error": "GET lists the checks, DELETE clears them"})
    return _moto_api.json_response(200, {"checks": checks()})


def apply() -> None:
    wrap_method(ActionAuthenticatorMixin, "_authenticate_and_authorize_action", _authenticate)
    wrap_method(IAMRequestBase, "check_action_permitted", _check_action_permitted)
    _moto_api.add_route("iam-checks", _handle)
    _moto_api.on_reset(clear)
