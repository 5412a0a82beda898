"""How errors become HTTP responses: always `{"detail": "<one line>"}`."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError

from cloudplane.controlplane.auth import Forbidden, Unauthorized
from cloudplane.controlplane.cloud_access import CloudActionFailed
from cloudplane.controlplane.models import RESOURCE_KEYS
from cloudplane.errors import CloudplaneError, Conflict, InputError, NotFound

log = logging.getLogger(__name__)

# Most specific first: the first match wins.
_STATUS: dict[type[CloudplaneError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    InputError: 422,
    # AWS refused or failed what the server did through a cloud's role: the request was fine.
    CloudActionFailed: 424,
}
_REQUEST_PARTS = ("body", "query", "path", "header")


def install(app: FastAPI) -> None:
    app.add_exception_handler(CloudplaneError, _cloudplane_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(Exception, _unexpected_error)


def _detail(status: int, message: str) -> JSONResponse:
    return JSONResponse({"detail": first_line(message)}, status_code=status)


def first_line(message: str) -> str:
    return (message.strip().splitlines() or [""])[0]


def status_of(exc: CloudplaneError) -> int:
    return next((code for kind, code in _STATUS.items() if isinstance(exc, kind)), 500)


def unexpected(exc: Exception) -> tuple[int, str]:
    """The status and detail of an error that is not cloudplane's own, logged: the database's, or a bug."""
    if isinstance(exc, OperationalError):
        log.error("database error: %s", exc)
        cause = getattr(exc, "orig", None) or exc
        return 503, f"database unavailable: {first_line(str(cause))}"
    log.exception("unexpected error", exc_info=exc)
    return 500, f"internal error ({type(exc).__name__}); see the control-plane log"


async def _cloudplane_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CloudplaneError)
    status = status_of(exc)
    response = _detail(status, str(exc))
    if status == 401:
        response.headers["WWW-Authenticate"] = "Bearer"
    return response


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _detail(422, describe_validation_errors(exc.errors()))


async def _database_error(_request: Request, exc: Exception) -> JSONResponse:
    return _detail(*unexpected(exc))


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    return _detail(*unexpected(exc))


def describe_validation_errors(errors: Iterable[Mapping[str, Any]]) -> str:
    """Pydantic's list of errors as one readable line."""
    parts = [_describe(error) for error in errors]
    return "; ".join(dict.fromkeys(parts)) or "invalid request"


def _describe(error: Mapping[str, Any]) -> str:
    loc = [str(part) for part in error.get("loc", ()) if part not in _REQUEST_PARTS]
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "request body is not valid JSON"
    if kind == "missing" and not loc:
        return "request body is required"
    if kind == "extra_forbidden" and loc:
        if loc[:1] == ["resources"] and len(loc) == 2:
            return f"unknown resource key {loc[1]!r}: expected one of {', '.join(RESOURCE_KEYS)}"
        return f"unknown field {'.'.join(loc)!r}"
    where = ".".join(loc)
    if kind == "literal_error" and where:
        return f"invalid {where} {error.get('input')!r}: expected {error.get('ctx', {}).get('expected')}"
    message = first_line(str(error.get("msg", "invalid value")))
    return f"{where}: {message}" if where else message
