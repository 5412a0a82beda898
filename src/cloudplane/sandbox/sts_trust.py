"""AssumeRole honours the role's trust policy, as AWS evaluates it.

Moto checks a trust policy only while its IAM enforcement is on, and then only for a role of the caller's own
account, comparing principals as plain strings (an account's `:root` never matches) and letting a condition
whose key is missing pass. Here every `sts:AssumeRole` request is checked before moto answers it:
- the role is looked up by its ARN in the account the ARN names; a role that does not exist is refused;
- the caller is who GetCallerIdentity says it is: an IAM user, a session of an earlier AssumeRole (its role's
  ARN counts too), else moto's default identity of the account (`arn:aws:sts::<account>:user/moto`);
- the trust policy is the one IAM shows at that moment (iam_consistency's delayed view), so a changed trust
  is honoured only once it is visible, as on AWS;
- an explicit Deny that applies wins; otherwise an Allow must apply. A statement applies when its Action (or
  NotAction) covers sts:AssumeRole, wildcards included; its Principal covers the caller: `"*"`, `{"AWS": "*"}`,
  an account (`123456789012` or `arn:aws:iam::123456789012:root`: any principal of it), an exact user or
  session ARN, a role ARN (the sessions of that role); a Service, Federated or CanonicalUser principal never
  covers a caller with access keys; NotPrincipal is honoured in a Deny and never lets anyone in through an
  Allow; and its Condition holds.
- Conditions: StringEquals, StringNotEquals, StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
  StringNotLike, their `...IfExists` forms and Null, on `sts:ExternalId`, `sts:RoleSessionName`,
  `aws:PrincipalArn` (a session's role) and `aws:PrincipalAccount`; a list of values means any of them. A
  missing key fails the positive operators and passes the negated and IfExists ones.
  Any other operator or key, or a policy variable, is not evaluated: an Allow using one does not apply and a
  Deny using one does, so the sandbox refuses where it cannot be sure AWS would allow.

A refusal is AWS's: HTTP 403, AccessDenied, "User: <caller ARN> is not authorized to perform: sts:AssumeRole
on resource: <role ARN>". An allowed request goes on to moto's AssumeRole unchanged. With moto's IAM
enforcement on, moto still requires the caller's own policies to allow sts:AssumeRole (also where AWS would
let a same-account trust policy that names the caller exactly suffice); its own trust check gives way to
this one.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

from moto.iam.access_control import IAMRequestBase
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends
from moto.sts.responses import TokenResponse

from . import iam_consistency
from ._patching import wrap_method

ACTION = "sts:AssumeRole"

_ACCOUNT = re.compile(r"\d{12}")
_ACCOUNT_ROOT = re.compile(r"arn:[a-z-]+:iam::(\d{12}):root")
_ROLE_ARN = re.compile(r"arn:([a-z-]+):iam::(\d{12}):role/.+")

# The request's condition keys (lower case, as keys are matched case-insensitively).
_EXTERNAL_ID = "sts:externalid"
_SESSION_NAME = "sts:rolesessionname"
_PRINCIPAL_ARN = "aws:principalarn"
_PRINCIPAL_ACCOUNT = "aws:principalaccount"
_KEYS = frozenset({_EXTERNAL_ID, _SESSION_NAME, _PRINCIPAL_ARN, _PRINCIPAL_ACCOUNT})


@dataclass(frozen=True)
class Caller:
    """Who calls AssumeRole. `role_arn` is set for a session of an earlier AssumeRole."""

    arn: str
    account: str
    role_arn: str | None = None


class _NotEvaluated(Exception):
    """A condition this module does not evaluate."""


def _wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    text = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(text, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


# -- statements ------------------------------------------------------------------------------------


def _statements(document: Any) -> list[dict[str, Any]]:
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            return []
    statements = document.get("Statement") if isinstance(document, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    return [s for s in statements or [] if isinstance(s, dict)]


def _covers_action(statement: dict[str, Any]) -> bool:
    def covered(patterns: Any) -> bool:
        return any(_wildcard(p, ignore_case=True).fullmatch(ACTION) for p in _strings(patterns))

    if "Action" in statement:
        return covered(statement["Action"])
    if "NotAction" in statement:
        return not covered(statement["NotAction"])
    return False


def _names(principal: Any, caller: Caller) -> bool:
    """The Principal element covers the caller."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _strings(principal.get("AWS")):
        root = _ACCOUNT_ROOT.fullmatch(value)
        account = root.group(1) if root else value if _ACCOUNT.fullmatch(value) else None
        if value == "*" or account == caller.account or value in (caller.arn, caller.role_arn):
            return True
    return False


def _covers_caller(statement: dict[str, Any], caller: Caller) -> bool:
    if "Principal" in statement:
        return _names(statement["Principal"], caller)
    if "NotPrincipal" in statement:
        return statement.get("Effect") == "Deny" and not _names(statement["NotPrincipal"], caller)
    return False


# -- conditions ------------------------------------------------------------------------------------

Same = Callable[[str, str], bool]
# operator -> (negated, how a request value compares with one policy value)
_STRING_OPERATORS: dict[str, tuple[bool, Same]] = {
    "StringEquals": (False, lambda value, wanted: value == wanted),
    "StringNotEquals": (True, lambda value, wanted: value == wanted),
    "StringEqualsIgnoreCase": (False, lambda value, wanted: value.casefold() == wanted.casefold()),
    "StringNotEqualsIgnoreCase": (True, lambda value, wanted: value.casefold() == wanted.casefold()),
    "StringLike": (False, lambda value, wanted: bool(_wildcard(wanted).fullmatch(value))),
    "StringNotLike": (True, lambda value, wanted: bool(_wildcard(wanted).fullmatch(value))),
}


def _policy_values(values: Any) -> list[str]:
    items = values if isinstance(values, list) else [values]
    found = []
    for item in items:
        if isinstance(item, bool):
            found.append("true" if item else "false")
        elif isinstance(item, str | int | float):
            found.append(str(item))
        else:
            raise _NotEvaluated
    if any("${" in v for v in found):
        raise _NotEvaluated  # policy variables
    return found


def _key_holds(operator: str, key: str, values: Any, context: dict[str, str]) -> bool:
    if key.lower() not in _KEYS:
        raise _NotEvaluated
    value = context.get(key.lower())
    wanted = _policy_values(values)
    if operator == "Null":
        if not wanted or any(w.lower() not in ("true", "false") for w in wanted):
            raise _NotEvaluated
        return any((value is None) == (w.lower() == "true") for w in wanted)
    if_exists = operator.endswith("IfExists")
    negated, same = _STRING_OPERATORS.get(operator.removesuffix("IfExists"), (None, None))
    if same is None:
        raise _NotEvaluated
    if value is None:
        return if_exists or bool(negated)
    hit = any(same(value, w) for w in wanted)
    return not hit if negated else hit


def _conditions_hold(block: Any, context: dict[str, str]) -> bool:
    """True or False; _NotEvaluated when the answer depends on something not evaluated here."""
    if block is None:
        return True
    if not isinstance(block, dict):
        raise _NotEvaluated
    unknown = False
    for operator, entries in block.items():
        if not isinstance(entries, dict):
            unknown = True
            continue
        for key, values in entries.items():
            try:
                if not _key_holds(operator, key, values, context):
                    return False  # every condition must hold: one that fails decides
            except _NotEvaluated:
                unknown = True
    if unknown:
        raise _NotEvaluated
    return True


# -- the decision ----------------------------------------------------------------------------------


def allows(document: Any, caller: Caller, context: dict[str, str]) -> bool:
    """Whether the trust policy `document` (a dict or its JSON) lets `caller` assume the role.

    `context` holds the request's condition keys in lower case (`sts:externalid`, ...); a key that the
    request does not carry is left out."""
    allowed = False
    for statement in _statements(document):
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny") or not _covers_action(statement):
            continue
        if not _covers_caller(statement, caller):
            continue
        try:
            applies = _conditions_hold(statement.get("Condition"), context)
        except _NotEvaluated:
            applies = effect == "Deny"
        if applies and effect == "Deny":
            return False
        allowed = allowed or applies
    return allowed


def trust_policy(role_arn: str) -> Any:
    """The trust policy IAM shows now for the role with this ARN, in the ARN's account; None if no such role."""
    match = _ROLE_ARN.fullmatch(role_arn)
    if match is None:
        return None
    partition, account = match.groups()
    if not dict.__contains__(iam_backends, account):  # an account never used has no roles (and stays unmade)
        return None
    try:
        role = iam_backends[account][partition].get_role_by_arn(role_arn)
    except (KeyError, NotFoundException):
        return None
    visible = iam_consistency._stale_copy((account, "role", role.name)) or role
    return visible.assume_role_policy_document


def _caller(response: TokenResponse) -> Caller:
    access_key = response.get_access_key()
    _, arn, account = response.backend.get_caller_identity(access_key, response.region)
    session = response.backend.get_assumed_role_from_access_key(access_key)
    return Caller(arn=arn, account=account, role_arn=session.role_arn if session else None)


def _refusal(caller: Caller, role_arn: str) -> tuple[str, dict[str, Any]]:
    message = f"User: {caller.arn} is not authorized to perform: {ACTION} on resource: {role_arn}"
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type>'
        f"<Code>AccessDenied</Code><Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )
    return body, {"status": 403, "Content-Type": "text/xml"}


def _assume_role(orig: Callable[..., Any], self: TokenResponse) -> Any:
    role_arn = self._get_param("RoleArn") or ""
    caller = _caller(self)
    context = {
        _EXTERNAL_ID: self._get_param("ExternalId"),
        _SESSION_NAME: self._get_param("RoleSessionName"),
        _PRINCIPAL_ARN: caller.role_arn or caller.arn,
        _PRINCIPAL_ACCOUNT: caller.account,
    }
    present = {key: value for key, value in context.items() if isinstance(value, str)}
    document = trust_policy(role_arn)
    if document is None or not allows(document, caller, present):
        return _refusal(caller, role_arn)
    return orig(self)


def _moto_trust_check(orig: Callable[..., bool], self: IAMRequestBase, role_arn: str) -> bool:
    return True  # decided by _assume_role, after moto checked the caller's own policies


def apply() -> None:
    wrap_method(TokenResponse, "assume_role", _assume_role)
    wrap_method(IAMRequestBase, "_check_role_trust_relationship", _moto_trust_check)
