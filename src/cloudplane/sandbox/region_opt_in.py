"""Opt-in regions the account has not enabled, answered as AWS answers them.

Every opt-in region (launched after 20 March 2019) is enabled by default here; `POST
/moto-api/cloudplane/regions` with `{"disabled": ["ap-east-1"]}` disables some (GET shows them, DELETE enables
all again, `POST /moto-api/reset` goes back to the start-up value). `CLOUDPLANE_SANDBOX_DISABLED_REGIONS`
(comma-separated) sets the start-up value. Regions enabled by default cannot be disabled, as on AWS.

For a disabled region:
- DescribeRegions with AllRegions=true reports it `not-opted-in`; without AllRegions it is left out. (Moto
  reports every opt-in region `not-opted-in` and lists other partitions' regions too; here an opt-in region
  is `opted-in` unless disabled, and only the caller's partition is listed.)
- every request signed for that region is refused before moto sees it, with the error the region's own
  endpoint gives: EC2 `AuthFailure` (HTTP 401), query services `InvalidClientTokenId` (HTTP 403), JSON
  services `UnrecognizedClientException` (HTTP 400). Services that AWS serves from one global endpoint
  (IAM, Route 53, ...) are not refused: on AWS their requests are never signed for the disabled region.
"""

from __future__ import annotations

import copy
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.responses import EC2Response
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from cloudplane.aws.regions import ENABLED_BY_DEFAULT

from . import _moto_api
from ._patching import wrap_method
from .request_faults import protocol, signing_service

ENV_DISABLED = "CLOUDPLANE_SANDBOX_DISABLED_REGIONS"

_GLOBAL_SERVICES = frozenset({"iam", "route53", "cloudfront", "organizations", "account", "budgets"})
_PASS_PREFIXES = ("/moto-api", "/latest/meta-data/", "/latest/api/", "/favicon.ico")

_lock = threading.Lock()
_configured: frozenset[str] = frozenset()
_disabled: set[str] = set()


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("us-iso"):
        return "aws-iso"
    return "aws"


def validate(regions: Any) -> set[str]:
    """The regions as a set, or ValueError saying why they cannot be disabled."""
    if isinstance(regions, str):
        regions = [r for r in regions.replace(",", " ").split() if r]
    if not isinstance(regions, list) or not all(isinstance(r, str) for r in regions):
        raise ValueError('expected {"disabled": ["ap-east-1", ...]}')
    always = sorted(set(regions) & ENABLED_BY_DEFAULT)
    if always:
        raise ValueError(f"{', '.join(always)}: enabled by default for every account, cannot be disabled")
    foreign = sorted(r for r in regions if _partition(r) != "aws")
    if foreign:
        raise ValueError(f"{', '.join(foreign)}: not an opt-in region of the aws partition")
    return set(regions)


def set_disabled(regions: Iterable[str]) -> None:
    checked = validate(list(regions))
    with _lock:
        _disabled.clear()
        _disabled.update(checked)


def disabled() -> list[str]:
    with _lock:
        return sorted(_disabled)


def is_disabled(region: str) -> bool:
    with _lock:
        return region in _disabled


def _restore() -> None:
    with _lock:
        _disabled.clear()
        _disabled.update(_configured)


def opt_in_status(region: str) -> str:
    if region in ENABLED_BY_DEFAULT or _partition(region) != "aws":
        return "opt-in-not-required"
    return "not-opted-in" if is_disabled(region) else "opted-in"


def _describe_regions(orig: Callable[..., ActionResult], self: Any) -> ActionResult:
    self.error_on_dryrun()
    everything = str(self._get_param("AllRegions", "false")).lower() == "true"
    names = self._get_param("RegionNames", [])
    partition = _partition(self.region)
    shown = []
    for region in self.ec2_backend.describe_regions(names):
        if _partition(region.name) != partition:
            continue
        status = opt_in_status(region.name)
        if status == "not-opted-in" and not everything:
            continue
        answer = copy.copy(region)
        answer.opt_in_status = status
        shown.append(answer)
    return ActionResult({"Regions": shown})


def signing_region(environ: dict[str, Any]) -> str | None:
    """The region of a SigV4 Authorization header's credential scope."""
    auth = environ.get("HTTP_AUTHORIZATION") or ""
    try:
        scope = auth.split(",")[0].split()[1]
        _, _, region, _, _ = scope.split("=", 1)[1].split("/")
    except (IndexError, ValueError):
        return None
    return region


def _refusal(service: str, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    request_id = str(uuid.uuid4())
    headers = [("x-amzn-RequestId", request_id)]
    proto = protocol(service, environ)
    if proto == "ec2":
        status = 401
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>AuthFailure</Code>'
            "<Message>AWS was not able to validate the provided access credentials</Message></Error>"
            f"</Errors><RequestID>{request_id}</RequestID></Response>"
        )
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
    elif proto in ("json", "rest-json"):
        status = 400
        body = (
            '{"__type": "UnrecognizedClientException", '
            '"message": "The security token included in the request is invalid."}'
        )
        headers += [
            ("Content-Type", environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"),
            ("x-amzn-ErrorType", "UnrecognizedClientException"),
        ]
    else:
        status = 403
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><ErrorResponse><Error><Type>Sender</Type>'
            "<Code>InvalidClientTokenId</Code><Message>The security token included in the request is "
            f"invalid.</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
        )
        headers.append(("Content-Type", "text/xml"))
    payload = b"" if environ.get("REQUEST_METHOD") == "HEAD" else body.encode()
    headers.append(("Content-Length", str(len(payload))))
    return status, headers, payload


def _get_application(orig: Callable[..., Any], self: Any, environ: dict[str, Any]) -> Any:
    path = environ.get("PATH_INFO") or ""
    if isinstance(path, str) and not path.startswith(_PASS_PREFIXES):
        service = signing_service(environ)
        region = signing_region(environ)
        if service and region and service not in _GLOBAL_SERVICES and is_disabled(region):
            status, headers, body = _refusal(service, environ)

            def refuse(_: dict[str, Any], start_response: Any) -> list[bytes]:
                start_response(f"{status} {HTTPStatus(status).phrase}", headers)
                return [body]

            return refuse
    return orig(self, environ)


def _handle(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    if request.method == "DELETE":
        set_disabled([])
    elif request.method != "GET":
        try:
            body = _moto_api.read_json(request)
            if not isinstance(body, dict) or set(body) != {"disabled"}:
                raise ValueError('expected {"disabled": ["ap-east-1", ...]}')
            set_disabled(validate(body["disabled"]))
        except ValueError as exc:
            return _moto_api.json_response(400, {"Error": str(exc)})
    return _moto_api.json_response(200, {"disabled": disabled()})


def apply() -> None:
    global _configured
    _configured = frozenset(validate(os.environ.get(ENV_DISABLED, "")))
    _restore()
    wrap_method(EC2Response, "describe_regions", _describe_regions)
    wrap_method(DomainDispatcherApplication, "get_application", _get_application)
    _moto_api.add_route("regions", _handle)
    _moto_api.on_reset(_restore)
