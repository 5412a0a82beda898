"""IAM's eventual consistency: a read right after a write may still show the entity as it was.

AWS documents that changes to IAM take a few seconds to be visible everywhere; a `GetRole` right after
`UpdateAssumeRolePolicy` may return the old trust policy. Moto is immediately consistent, so code that reads
its own writes back works here and fails on AWS. This module makes that delay switchable:

`POST /moto-api/cloudplane/iam-consistency` with `{"delay_ms": 1500}` turns it on (GET shows it, DELETE and
`POST /moto-api/reset` turn it off). While it is on, each write below keeps the entity as it was just before
that write, and for `delay_ms` after it the matching read answers from that copy:
- UpdateAssumeRolePolicy, UpdateRole, UpdateRoleDescription, TagRole, UntagRole -> GetRole;
- PutRolePolicy, DeleteRolePolicy -> GetRolePolicy (a policy that did not exist is NoSuchEntity);
- AddRoleToInstanceProfile, RemoveRoleFromInstanceProfile -> GetInstanceProfile.
Writes made by CloudFormation count too. Creating and deleting entities is not delayed.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.iam.exceptions import NotFoundException
from moto.iam.models import IAMBackend
from moto.iam.responses import IamResponse

from . import _moto_api
from ._patching import wrap_method

_ABSENT = object()

_lock = threading.Lock()
_delay_seconds = 0.0
# (account, kind, name...) -> (monotonic time until which reads see the copy, the copy or _ABSENT)
_stale: dict[tuple[str, ...], tuple[float, Any]] = {}


def set_delay(delay_ms: float) -> None:
    global _delay_seconds
    if isinstance(delay_ms, bool) or not isinstance(delay_ms, int | float) or not 0 <= delay_ms <= 60_000:
        raise ValueError(f"delay_ms must be a number of milliseconds from 0 to 60000, got {delay_ms!r}")
    with _lock:
        _delay_seconds = delay_ms / 1000
        if not _delay_seconds:
            _stale.clear()


def delay_ms() -> int:
    with _lock:
        return round(_delay_seconds * 1000)


def _clear() -> None:
    set_delay(0)


def _remember(key: tuple[str, ...], take: Callable[[], Any]) -> None:
    """Keep what `take()` returns (the entity before a write) for reads during the delay."""
    with _lock:
        delay = _delay_seconds
    if not delay:
        return
    try:
        before = take()
    except NotFoundException:
        return  # the write itself fails or creates: nothing to show stale
    with _lock:
        _stale[key] = (time.monotonic() + delay, before)


def _stale_copy(key: tuple[str, ...]) -> Any:
    """The copy a read must answer from, or None when the entity's current state is visible."""
    with _lock:
        found = _stale.get(key)
        if found is None:
            return None
        until, before = found
        if time.monotonic() >= until:
            del _stale[key]
            return None
        return before


def _role_copy(backend: IAMBackend, role_name: str) -> Any:
    role = backend.get_role(role_name)
    before = copy.copy(role)
    before.policies = dict(role.policies)
    before.tags = list(role.tags)
    return before


def _profile_copy(backend: IAMBackend, profile_name: str) -> Any:
    profile = backend.get_instance_profile(profile_name)
    before = copy.copy(profile)
    before.roles = list(profile.roles)
    return before


def _policy_copy(backend: IAMBackend, role_name: str, policy_name: str) -> Any:
    role = backend.get_role(role_name)
    return role.policies.get(policy_name, _ABSENT)


# -- writes ------------------------------------------------------------------------------------------


def _role_write(orig: Callable[..., Any], self: IAMBackend, role_name: str, *args: Any, **kwargs: Any) -> Any:
    _remember((self.account_id, "role", role_name), lambda: _role_copy(self, role_name))
    return orig(self, role_name, *args, **kwargs)


def _policy_write(
    orig: Callable[..., Any], self: IAMBackend, role_name: str, policy_name: str, *args: Any, **kwargs: Any
) -> Any:
    key = (self.account_id, "role-policy", role_name, policy_name)
    _remember(key, lambda: _policy_copy(self, role_name, policy_name))
    return orig(self, role_name, policy_name, *args, **kwargs)


def _profile_write(
    orig: Callable[..., Any], self: IAMBackend, profile_name: str, *args: Any, **kwargs: Any
) -> Any:
    _remember((self.account_id, "instance-profile", profile_name), lambda: _profile_copy(self, profile_name))
    return orig(self, profile_name, *args, **kwargs)


# -- reads -------------------------------------------------------------------------------------------


def _get_role(orig: Callable[..., ActionResult], self: IamResponse) -> ActionResult:
    before = _stale_copy((self.current_account, "role", self._get_param("RoleName")))
    return orig(self) if before is None else ActionResult({"Role": before})


def _get_role_policy(orig: Callable[..., ActionResult], self: IamResponse) -> ActionResult:
    role_name, policy_name = self._get_param("RoleName"), self._get_param("PolicyName")
    before = _stale_copy((self.current_account, "role-policy", role_name, policy_name))
    if before is None:
        return orig(self)
    if before is _ABSENT:
        raise NotFoundException(f"Policy Document {policy_name} not attached to role {role_name}")
    return ActionResult({"RoleName": role_name, "PolicyName": policy_name, "PolicyDocument": before})


def _get_instance_profile(orig: Callable[..., ActionResult], self: IamResponse) -> ActionResult:
    before = _stale_copy((self.current_account, "instance-profile", self._get_param("InstanceProfileName")))
    return orig(self) if before is None else ActionResult({"InstanceProfile": before})


def _handle(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    try:
        if request.method == "DELETE":
            set_delay(0)
        elif request.method != "GET":
            body = _moto_api.read_json(request)
            if not isinstance(body, dict) or set(body) != {"delay_ms"}:
                raise ValueError('expected {"delay_ms": <milliseconds>}')
            set_delay(body["delay_ms"])
    except ValueError as exc:
        return _moto_api.json_response(400, {"Error": str(exc)})
    return _moto_api.json_response(200, {"delay_ms": delay_ms()})


def apply() -> None:
    for name in (
        "update_assume_role_policy",
        "update_role",
        "update_role_description",
        "tag_role",
        "untag_role",
    ):
        wrap_method(IAMBackend, name, _role_write)
    for name in ("put_role_policy", "delete_role_policy"):
        wrap_method(IAMBackend, name, _policy_write)
    for name in ("add_role_to_instance_profile", "remove_role_from_instance_profile"):
        wrap_method(IAMBackend, name, _profile_write)
    wrap_method(IamResponse, "get_role", _get_role)
    wrap_method(IamResponse, "get_role_policy", _get_role_policy)
    wrap_method(IamResponse, "get_instance_profile", _get_instance_profile)
    _moto_api.on_reset(_clear)
    _moto_api.add_route("iam-consistency", _handle)
