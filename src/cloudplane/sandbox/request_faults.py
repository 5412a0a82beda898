"""Throttling and server errors on a share of AWS API requests, as real AWS answers under load.

`POST /moto-api/cloudplane/faults` with `{"throttle_rate": 0.2, "error_rate": 0.05, "seed": 7}` turns them on,
`GET` shows the settings and counters, `DELETE` (and `POST /moto-api/reset`) turns them off.

Each signed request draws one number from a seeded `random.Random` before moto sees it: below `throttle_rate`
it gets the service's throttling error, in the next `error_rate` an HTTP 500 or 503. A faulted request never
reaches moto, so retrying it is always safe. Errors use each protocol's own shape and codes that botocore's
retry handler knows (botocore/retries/standard.py, botocore/data/_retry.json), so clients retry them as they
would on AWS. Unsigned and presigned requests and the /moto-api routes always pass.
"""

from __future__ import annotations

import json
import random
import re
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from . import _moto_api, latency
from ._patching import wrap_method

_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
_PASS_PREFIXES = ("/moto-api", "/latest/meta-data/", "/latest/api/", "/favicon.ico")
# rest-xml services whose errors are wrapped in <ErrorResponse> like the query protocol's.
_REST_XML_SERVICES = frozenset({"route53", "cloudfront"})

THROTTLE, INTERNAL_ERROR, UNAVAILABLE = "throttle", "internal-error", "unavailable"


@dataclass(frozen=True)
class _Error:
    status: int
    code: str
    message: str


# (protocol, fault) -> the error AWS answers. Throttling codes are all in ThrottledRetryableChecker's list.
_ERRORS: dict[tuple[str, str], _Error] = {
    ("ec2", THROTTLE): _Error(503, "RequestLimitExceeded", "Request limit exceeded."),
    ("ec2", INTERNAL_ERROR): _Error(500, "InternalError", "An internal error has occurred."),
    ("ec2", UNAVAILABLE): _Error(
        503, "Unavailable", "The server is overloaded and can't handle the request."
    ),
    ("s3", THROTTLE): _Error(503, "SlowDown", "Please reduce your request rate."),
    ("s3", INTERNAL_ERROR): _Error(
        500, "InternalError", "We encountered an internal error. Please try again."
    ),
    ("s3", UNAVAILABLE): _Error(503, "ServiceUnavailable", "Please reduce your request rate."),
    ("query", THROTTLE): _Error(400, "Throttling", "Rate exceeded"),
    ("json", THROTTLE): _Error(400, "ThrottlingException", "Rate exceeded"),
}
_GENERIC_ERRORS = {
    INTERNAL_ERROR: _Error(
        500, "InternalFailure", "The request processing has failed because of an unknown error."
    ),
    UNAVAILABLE: _Error(
        503, "ServiceUnavailable", "The request has failed due to a temporary failure of the server."
    ),
}


class _Faults:
    """Settings, the seeded generator and the counters, all behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.throttle_rate = 0.0
        self.error_rate = 0.0
        self.seed: int | None = None
        self.rng = random.Random()
        self.counters = {"requests": 0, "throttled": 0, "failed": 0}

    @property
    def enabled(self) -> bool:
        return self.throttle_rate > 0 or self.error_rate > 0


_state = _Faults()


def validate(throttle_rate: Any, error_rate: Any, seed: Any) -> tuple[float, float, int | None]:
    """The settings as numbers, or ValueError saying what is wrong with them."""
    rates = []
    for name, value in (("throttle_rate", throttle_rate), ("error_rate", error_rate)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise ValueError(f"{name} must be a number from 0 to 1, got {value!r}")
        rates.append(float(value))
    if sum(rates) > 1:
        raise ValueError(f"throttle_rate + error_rate must be at most 1, got {sum(rates):g}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    return rates[0], rates[1], seed


def configure(throttle_rate: float = 0.0, error_rate: float = 0.0, seed: int | None = None) -> None:
    """Start injecting faults at these rates; counters start from zero and the generator from `seed`."""
    throttle_rate, error_rate, seed = validate(throttle_rate, error_rate, seed)
    with _state.lock:
        _state.throttle_rate, _state.error_rate, _state.seed = throttle_rate, error_rate, seed
        _state.rng = random.Random(seed)
        _state.counters = dict.fromkeys(_state.counters, 0)


def disable() -> None:
    """Stop injecting faults; the counters stay readable until the next configure or reset."""
    with _state.lock:
        _state.throttle_rate = _state.error_rate = 0.0


def clear() -> None:
    configure()


def status() -> dict[str, Any]:
    with _state.lock:
        return {
            "enabled": _state.enabled,
            "throttle_rate": _state.throttle_rate,
            "error_rate": _state.error_rate,
            "seed": _state.seed,
            "counters": dict(_state.counters),
        }


def decide() -> str | None:
    """Draw the fate of one request: THROTTLE, INTERNAL_ERROR, UNAVAILABLE or None (let it through)."""
    with _state.lock:
        if not _state.enabled:
            return None
        _state.counters["requests"] += 1
        draw = _state.rng.random()
        if draw < _state.throttle_rate:
            _state.counters["throttled"] += 1
            return THROTTLE
        if draw < _state.throttle_rate + _state.error_rate:
            _state.counters["failed"] += 1
            # Split the error band evenly between 500 and 503 so that one draw decides everything.
            return INTERNAL_ERROR if draw < _state.throttle_rate + _state.error_rate / 2 else UNAVAILABLE
        return None


def signing_service(environ: dict[str, Any]) -> str | None:
    """The service named in a SigV4 Authorization header's credential scope."""
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION") or "")
    return match.group(1).lower() if match else None


def protocol(service: str, environ: dict[str, Any]) -> str:
    """How the request's service shapes its errors: ec2, s3, query, json or rest-json."""
    if service in ("ec2", "s3"):
        return service
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    content_type = environ.get("CONTENT_TYPE") or ""
    if content_type.startswith("application/x-www-form-urlencoded") or service in _REST_XML_SERVICES:
        return "query"
    if "Action=" in (environ.get("QUERY_STRING") or ""):
        return "query"
    return "rest-json"


def error_response(
    fault: str, proto: str, environ: dict[str, Any]
) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of the error `fault` in protocol `proto`."""
    key = "json" if proto == "rest-json" else proto
    error = _ERRORS.get((key, fault)) or _GENERIC_ERRORS[fault]
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    xml_declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    if proto == "ec2":
        body = xml_declaration + (
            f"<Response><Errors><Error><Code>{error.code}</Code><Message>{error.message}</Message>"
            f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        )
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
    elif proto == "s3":
        body = xml_declaration + (
            f"<Error><Code>{error.code}</Code><Message>{error.message}</Message>"
            f"<RequestId>{request_id}</RequestId><HostId>{request_id}</HostId></Error>"
        )
        headers += [("Content-Type", "application/xml"), ("x-amz-request-id", request_id)]
    elif proto == "query":
        side = "Sender" if error.status < 500 else "Receiver"
        body = xml_declaration + (
            f"<ErrorResponse><Error><Type>{side}</Type><Code>{error.code}</Code>"
            f"<Message>{error.message}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers.append(("Content-Type", "text/xml"))
    elif proto == "json":
        body = json.dumps({"__type": error.code, "message": error.message})
        headers.append(("Content-Type", environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"))
    else:
        body = json.dumps({"message": error.message})
        headers += [("Content-Type", "application/json"), ("x-amzn-ErrorType", error.code)]
    payload = b"" if environ.get("REQUEST_METHOD") == "HEAD" else body.encode()
    headers.append(("Content-Length", str(len(payload))))
    return error.status, headers, payload


def _dispatch(
    orig: Callable[..., Iterable[bytes]], self: Any, environ: dict[str, Any], start_response: Any
) -> Iterable[bytes]:
    path = environ.get("PATH_INFO") or ""
    if not path.startswith(_PASS_PREFIXES):
        latency.wait()  # here, so that a throttled or failed answer takes its round trip too
    service = None if path.startswith(_PASS_PREFIXES) else signing_service(environ)
    fault = decide() if service else None
    if fault is None or service is None:
        return orig(self, environ, start_response)
    status, headers, body = error_response(fault, protocol(service, environ), environ)
    start_response(f"{status} {HTTPStatus(status).phrase}", headers)
    return [body]


def _handle(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    if request.method == "GET":
        return _moto_api.json_response(200, status())
    if request.method == "DELETE":
        disable()
        return _moto_api.json_response(200, status())
    try:
        body = _moto_api.read_json(request)
        if not isinstance(body, dict):
            raise ValueError('expected {"throttle_rate": 0..1, "error_rate": 0..1, "seed": int}')
        unknown = set(body) - {"throttle_rate", "error_rate", "seed"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        configure(body.get("throttle_rate", 0.0), body.get("error_rate", 0.0), body.get("seed"))
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        return _moto_api.json_response(400, {"Error": str(exc)})
    return _moto_api.json_response(200, status())


def apply() -> None:
    wrap_method(DomainDispatcherApplication, "__call__", _dispatch)
    _moto_api.add_route("faults", _handle)
    _moto_api.on_reset(clear)
