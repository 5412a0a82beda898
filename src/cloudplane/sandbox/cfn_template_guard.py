"""No HTTP 500 for a template: an unexpected error while reading or running one is a ValidationError.

CloudFormation answers a template it cannot use with `<ErrorResponse>` ValidationError (HTTP 400). The
sandbox's own gaps (a construct moto mishandles, a shape nobody foresaw) used to surface as an HTTP 500
with an HTML page, which clients read as an outage and retry. For the actions that take a template
(CreateStack, UpdateStack, CreateChangeSet, ExecuteChangeSet, ValidateTemplate, GetTemplateSummary) any
exception that is not already an AWS error becomes a ValidationError carrying its message; the traceback
goes to the sandbox's log. A resource that fails while a stack is created is not affected: cfn_lifecycle
reports it as CREATE_FAILED with the exception's message and rolls the stack back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.core.exceptions import ServiceException
from moto.core.utils import camelcase_to_underscores
from werkzeug.exceptions import HTTPException

from ._patching import error_message, original, patch_attr

logger = logging.getLogger(__name__)

GUARDED_ACTIONS = (
    "CreateStack",
    "UpdateStack",
    "CreateChangeSet",
    "ExecuteChangeSet",
    "ValidateTemplate",
    "GetTemplateSummary",
)


def as_validation_error(action: str, exc: BaseException) -> ValidationError:
    detail = error_message(exc) if not isinstance(exc, KeyError) else f"{exc.args[0]} is missing"
    return ValidationError(
        message=f"Template error: the sandbox could not process this template ({type(exc).__name__}: {detail})"
    )


def _guarded(action: str, method: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        try:
            return method()
        except (ServiceException, HTTPException):
            raise
        except Exception as exc:
            logger.warning("sandbox: %s failed on an unexpected error", action, exc_info=True)
            raise as_validation_error(action, exc) from exc

    return run


def apply() -> None:
    # Chains to the call_action installed before it (cfn_limits'), so install() applies this module after it.
    owner = cfn_responses.CloudFormationResponse
    current = owner.__dict__.get("call_action") or original(owner, "call_action")
    if getattr(current, "_template_guard", False):
        return

    def call_action(self: Any) -> Any:
        action = self._get_action()
        if action in GUARDED_ACTIONS:
            name = camelcase_to_underscores(action)
            method = getattr(self, name, None)
            if method is not None:
                setattr(self, name, _guarded(action, method))
        return current(self)

    call_action._template_guard = True  # type: ignore[attr-defined]
    patch_attr(owner, "call_action", call_action)
