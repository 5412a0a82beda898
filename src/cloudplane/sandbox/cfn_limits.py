"""CloudFormation's request limits, which moto does not check.

- `TemplateBody` of CreateStack, UpdateStack, ValidateTemplate and CreateChangeSet: at most 51,200 bytes,
  refused with AWS's constraint message ("Value '...' at 'templateBody' failed to satisfy constraint:
  Member must have length less than or equal to 51200"). A template read from S3 (`TemplateURL`) may have
  up to 1 MB.
- `StackName` of CreateStack: 1-128 characters, a letter and then letters, digits and hyphens.

Each violation is reported as AWS does, all of them in one ValidationError ("2 validation errors
detected: ...; ..."). The check runs in `call_action`, after moto authenticated the request and before
the action: the action is replaced, for this request only, by one that raises the error, so moto
serializes it like any other.
"""

from __future__ import annotations

import re
from typing import Any

from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.core.utils import camelcase_to_underscores

from ._patching import wrap_method

TEMPLATE_BODY_MAX_BYTES = 51_200
TEMPLATE_URL_MAX_BYTES = 1_048_576
STACK_NAME_MAX = 128
STACK_NAME_PATTERN = "[a-zA-Z][-a-zA-Z0-9]*"
TEMPLATE_ACTIONS = ("CreateStack", "UpdateStack", "ValidateTemplate", "CreateChangeSet")


def _constraint(value: str, member: str, rule: str) -> str:
    return f"Value '{value}' at '{member}' failed to satisfy constraint: Member must {rule}"


def violations(action: str, params: dict[str, Any]) -> list[str]:
    """The input constraints a request breaks, worded as AWS words them."""
    found: list[str] = []
    if action == "CreateStack":
        name = params.get("StackName")
        if isinstance(name, str):
            if not re.fullmatch(STACK_NAME_PATTERN, name):
                found.append(
                    _constraint(
                        name, "stackName", f"satisfy regular expression pattern: {STACK_NAME_PATTERN}"
                    )
                )
            if len(name) > STACK_NAME_MAX:
                found.append(
                    _constraint(name, "stackName", f"have length less than or equal to {STACK_NAME_MAX}")
                )
    body = params.get("TemplateBody")
    if action in TEMPLATE_ACTIONS and isinstance(body, str) and len(body.encode()) > TEMPLATE_BODY_MAX_BYTES:
        found.append(
            _constraint(body, "templateBody", f"have length less than or equal to {TEMPLATE_BODY_MAX_BYTES}")
        )
    return found


def _error(self: Any, action: str) -> ValidationError | None:
    params = {key: self._get_param(key) for key in ("StackName", "TemplateBody", "TemplateURL")}
    found = violations(action, params)
    if found:
        plural = "s" if len(found) > 1 else ""
        return ValidationError(message=f"{len(found)} validation error{plural} detected: {'; '.join(found)}")
    url = params["TemplateURL"]
    if action in TEMPLATE_ACTIONS and url and not params["TemplateBody"]:
        try:
            size = len(self._get_stack_from_s3_url(url).encode())
        except Exception:  # an unreadable URL is the action's own error to report
            return None
        if size > TEMPLATE_URL_MAX_BYTES:
            return ValidationError(message=f"Template may not exceed {TEMPLATE_URL_MAX_BYTES} bytes in size.")
    return None


def _call_action(orig: Any, self: Any) -> Any:
    action = self._get_action()
    if action in TEMPLATE_ACTIONS:
        error = _error(self, action)
        if error is not None:

            def refuse() -> Any:
                raise error

            setattr(self, camelcase_to_underscores(action), refuse)
    return orig(self)


def apply() -> None:
    wrap_method(cfn_responses.CloudFormationResponse, "call_action", _call_action)
