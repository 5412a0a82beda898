"""Configurable Service Quotas, enforced for VPCs and internet gateways.

Values are looked up in three layers, highest first:
  1. runtime overrides: `POST /moto-api/cloudplane/service-quotas` with
     `[{"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE", "Value": 3, "Region": "us-east-1"?}]`
     (GET lists them, DELETE drops them; `POST /moto-api/reset` clears them);
  2. the `CLOUDPLANE_SANDBOX_QUOTAS` environment variable, read at install time: the same JSON list, inline
     or as a path to a file; it survives resets;
  3. defaults: moto's `vpc` table plus the EC2 vCPU quotas below.
An entry without "Region" applies to every region.

`create_vpc` / `create_internet_gateway` fail with VpcLimitExceeded / InternetGatewayLimitExceeded once the
region holds as many as the quota (the default VPC counts, as on AWS). Set
`CLOUDPLANE_SANDBOX_ENFORCE_QUOTAS=false` to switch that off.
"""

from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path
from typing import Any

from moto.ec2.models import EC2Backend
from moto.servicequotas.exceptions import NoSuchResource
from moto.servicequotas.models import ServiceQuotasBackend
from moto.servicequotas.resources.default_quotas.vpc import VPC_DEFAULT_QUOTAS
from moto.servicequotas.responses import ServiceQuotasResponse

from . import _moto_api
from ._patching import SandboxServiceError, patch_attr, wrap_method

ENV_QUOTAS = "CLOUDPLANE_SANDBOX_QUOTAS"
ENV_ENFORCE = "CLOUDPLANE_SANDBOX_ENFORCE_QUOTAS"

VPCS_PER_REGION = ("vpc", "L-F678F1CE")
IGWS_PER_REGION = ("vpc", "L-A4707A72")

_EC2_NAME = "Amazon Elastic Compute Cloud (Amazon EC2)"
_EC2_DEFAULTS = {
    "L-1216C47A": ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", 64.0),
    "L-DB2E81BA": ("Running On-Demand G and VT instances", 64.0),
    "L-417A185B": ("Running On-Demand P instances", 64.0),
    "L-34B43A08": ("All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", 64.0),
    "L-3819A6DF": ("All G and VT Spot Instance Requests", 64.0),
    "L-0263D0A3": ("EC2-VPC Elastic IPs", 5.0),
}

DEFAULT_QUOTAS: dict[str, list[dict[str, Any]]] = {
    "vpc": copy.deepcopy(VPC_DEFAULT_QUOTAS),
    "ec2": [
        {
            "Adjustable": True,
            "GlobalQuota": False,
            "QuotaCode": code,
            "QuotaName": name,
            "ServiceCode": "ec2",
            "ServiceName": _EC2_NAME,
            "Unit": "None",
            "Value": value,
        }
        for code, (name, value) in _EC2_DEFAULTS.items()
    ],
}

_lock = threading.Lock()
# (service, quota, region or None) -> value
_runtime: dict[tuple[str, str, str | None], float] = {}
_configured: dict[tuple[str, str, str | None], float] = {}


def _parse_entries(entries: Any) -> dict[tuple[str, str, str | None], float]:
    if isinstance(entries, dict):
        entries = [entries]
    if not isinstance(entries, list):
        raise ValueError("expected a JSON list of {ServiceCode, QuotaCode, Value, Region?}")
    parsed = {}
    for entry in entries:
        key = (str(entry["ServiceCode"]), str(entry["QuotaCode"]), entry.get("Region") or None)
        parsed[key] = float(entry["Value"])
    return parsed


def load_config(raw: str | None) -> None:
    """(Re)load the start-up layer from a JSON string or a path to a JSON file."""
    parsed: dict[tuple[str, str, str | None], float] = {}
    if raw and raw.strip():
        text = raw if raw.lstrip().startswith(("[", "{")) else Path(raw).read_text()
        parsed = _parse_entries(json.loads(text))
    with _lock:
        _configured.clear()
        _configured.update(parsed)


def set_quota(service_code: str, quota_code: str, value: float, region: str | None = None) -> None:
    with _lock:
        _runtime[(service_code, quota_code, region or None)] = float(value)


def clear_runtime() -> None:
    with _lock:
        _runtime.clear()


def _default(service_code: str, quota_code: str) -> dict[str, Any] | None:
    for quota in DEFAULT_QUOTAS.get(service_code, []):
        if quota["QuotaCode"] == quota_code:
            return quota
    return None


def quota_value(service_code: str, quota_code: str, region: str) -> float | None:
    with _lock:
        for layer in (_runtime, _configured):
            for key in ((service_code, quota_code, region), (service_code, quota_code, None)):
                if key in layer:
                    return layer[key]
    default = _default(service_code, quota_code)
    return None if default is None else float(default["Value"])


def _render(quota: dict[str, Any], region: str, account_id: str, value: float) -> dict[str, Any]:
    rendered = dict(quota, Value=value)
    rendered["QuotaArn"] = (
        f"arn:aws:servicequotas:{region}:{account_id}:{quota['ServiceCode']}/{quota['QuotaCode']}"
    )
    return rendered


# --- backend / response methods ----------------------------------------------------------------------


def _get_service_quota(self: ServiceQuotasBackend, service_code: str, quota_code: str) -> dict[str, Any]:
    default = _default(service_code, quota_code)
    if default is None:
        raise NoSuchResource
    value = quota_value(service_code, quota_code, self.region_name)
    return _render(
        default, self.region_name, self.account_id, value if value is not None else default["Value"]
    )


def _get_default_quota(self: ServiceQuotasBackend, service_code: str, quota_code: str) -> dict[str, Any]:
    default = _default(service_code, quota_code)
    if default is None:
        raise NoSuchResource
    return _render(default, self.region_name, self.account_id, default["Value"])


def _list_quotas(self: ServiceQuotasBackend, service_code: str, applied: bool) -> list[dict[str, Any]]:
    if service_code not in DEFAULT_QUOTAS:
        raise NoSuchResource
    getter = _get_service_quota if applied else _get_default_quota
    return [getter(self, service_code, q["QuotaCode"]) for q in DEFAULT_QUOTAS[service_code]]


def _params(self: ServiceQuotasResponse) -> dict[str, Any]:
    return json.loads(self.body or "{}")


def get_service_quota_action(self: ServiceQuotasResponse) -> str:
    p = _params(self)
    return json.dumps(
        {"Quota": _get_service_quota(self.backend, str(p.get("ServiceCode")), str(p.get("QuotaCode")))}
    )


def get_aws_default_service_quota_action(self: ServiceQuotasResponse) -> str:
    p = _params(self)
    return json.dumps(
        {"Quota": _get_default_quota(self.backend, str(p.get("ServiceCode")), str(p.get("QuotaCode")))}
    )


def list_service_quotas_action(self: ServiceQuotasResponse) -> str:
    return json.dumps(
        {"Quotas": _list_quotas(self.backend, str(_params(self).get("ServiceCode")), applied=True)}
    )


def list_aws_default_service_quotas_action(self: ServiceQuotasResponse) -> str:
    return json.dumps(
        {"Quotas": _list_quotas(self.backend, str(_params(self).get("ServiceCode")), applied=False)}
    )


# --- enforcement -------------------------------------------------------------------------------------


def _enforced() -> bool:
    return os.environ.get(ENV_ENFORCE, "true").strip().lower() not in ("0", "false", "no", "off")


def _limit(backend: Any, key: tuple[str, str]) -> float | None:
    return quota_value(key[0], key[1], backend.region_name) if _enforced() else None


def _create_vpc(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    limit = _limit(self, VPCS_PER_REGION)
    if limit is not None and not kwargs.get("is_default") and len(self.vpcs) >= limit:
        raise SandboxServiceError("VpcLimitExceeded", "The maximum number of VPCs has been reached.")
    return orig(self, *args, **kwargs)


def _create_internet_gateway(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    limit = _limit(self, IGWS_PER_REGION)
    if limit is not None and len(self.internet_gateways) >= limit:
        raise SandboxServiceError(
            "InternetGatewayLimitExceeded", "The maximum number of internet gateways has been reached."
        )
    return orig(self, *args, **kwargs)


# --- moto-api route ------------------------------------------------------------------------------------


def _handle(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    if request.method == "GET":
        with _lock:
            listed = [
                {"ServiceCode": s, "QuotaCode": q, "Value": v, **({"Region": r} if r else {})}
                for (s, q, r), v in _runtime.items()
            ]
        return _moto_api.json_response(200, listed)
    if request.method == "DELETE":
        clear_runtime()
        return _moto_api.json_response(200, {"status": "ok"})
    try:
        entries = _parse_entries(_moto_api.read_json(request))
    except (ValueError, TypeError, KeyError) as exc:
        return _moto_api.json_response(400, {"Error": str(exc)})
    with _lock:
        _runtime.update(entries)
    return _moto_api.json_response(200, {"status": "ok"})


def apply() -> None:
    load_config(os.environ.get(ENV_QUOTAS))
    patch_attr(ServiceQuotasBackend, "get_service_quota", _get_service_quota)
    patch_attr(ServiceQuotasResponse, "get_service_quota", get_service_quota_action)
    patch_attr(ServiceQuotasResponse, "get_aws_default_service_quota", get_aws_default_service_quota_action)
    patch_attr(ServiceQuotasResponse, "list_service_quotas", list_service_quotas_action)
    patch_attr(
        ServiceQuotasResponse, "list_aws_default_service_quotas", list_aws_default_service_quotas_action
    )
    wrap_method(EC2Backend, "create_vpc", _create_vpc)
    wrap_method(EC2Backend, "create_internet_gateway", _create_internet_gateway)
    _moto_api.add_route("service-quotas", _handle)
    _moto_api.on_reset(clear_runtime)
