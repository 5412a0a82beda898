"""Service Quotas as AWS answers them, with configurable values that the sandbox enforces.

A quota has an applied value once someone set it for the account; AWS enforces that value, else its
default. The applied values come in two layers, highest first:
  1. runtime: `POST /moto-api/cloudplane/service-quotas` with
     `[{"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE", "Value": 3, "Region": "us-east-1"?}]`
     (GET lists them, DELETE drops them; `POST /moto-api/reset` clears them), and RequestServiceQuotaIncrease
     (approved at once, for the region it is sent to);
  2. the `CLOUDPLANE_SANDBOX_QUOTAS` environment variable, read at install time: the same JSON list, inline
     or as a path to a file; it survives resets.
An entry without "Region" applies to every region. The defaults are moto's `vpc` table plus the EC2 quotas
below.

As on AWS, GetServiceQuota answers NoSuchResourceException (with an empty message) for a quota that has no
applied value, ListServiceQuotas lists only the applied ones, and GetAWSDefaultServiceQuota /
ListAWSDefaultServiceQuotas answer the default of every known quota.

Enforced (the default VPC counts, as on AWS), unless `CLOUDPLANE_SANDBOX_ENFORCE_QUOTAS=false`:
- CreateVpc: VpcLimitExceeded once the region holds as many VPCs as `vpc/L-F678F1CE`;
- CreateInternetGateway: InternetGatewayLimitExceeded at `vpc/L-A4707A72`;
- AllocateAddress, and so `AWS::EC2::EIP`: AddressLimitExceeded at `ec2/L-0263D0A3` Elastic IPs;
- CreateNatGateway, and so `AWS::EC2::NatGateway`: NatGatewayLimitExceeded once the subnet's zone holds
  `vpc/L-FE5A380F` NAT gateways that are not deleted or failed.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.core.utils import utcnow
from moto.ec2.exceptions import InvalidSubnetIdError
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
NAT_GATEWAYS_PER_ZONE = ("vpc", "L-FE5A380F")
ELASTIC_IPS = ("ec2", "L-0263D0A3")

_EC2_NAME = "Amazon Elastic Compute Cloud (Amazon EC2)"
# vCPUs per instance family. AWS's own defaults are lower (5 standard vCPUs, few or none for the
# accelerated families); the sandbox's leave room for a few clusters of each family.
_VCPUS = 64.0
_EC2_DEFAULTS = {
    "L-1216C47A": ("Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances", _VCPUS),
    "L-DB2E81BA": ("Running On-Demand G and VT instances", _VCPUS),
    "L-417A185B": ("Running On-Demand P instances", _VCPUS),
    "L-74FC7D96": ("Running On-Demand F instances", _VCPUS),
    "L-7295265B": ("Running On-Demand X instances", _VCPUS),
    "L-1945791B": ("Running On-Demand Inf instances", _VCPUS),
    "L-2C3B7624": ("Running On-Demand Trn instances", _VCPUS),
    "L-6E869C2A": ("Running On-Demand DL instances", _VCPUS),
    "L-F7808C92": ("Running On-Demand HPC instances", _VCPUS),
    "L-43DA4232": ("Running On-Demand High Memory instances", _VCPUS),
    "L-34B43A08": ("All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests", _VCPUS),
    "L-3819A6DF": ("All G and VT Spot Instance Requests", _VCPUS),
    "L-7212CCBC": ("All P Spot Instance Requests", _VCPUS),
    "L-88CF9481": ("All F Spot Instance Requests", _VCPUS),
    "L-E3A00192": ("All X Spot Instance Requests", _VCPUS),
    "L-B5D1601B": ("All Inf Spot Instance Requests", _VCPUS),
    "L-6B0D517C": ("All Trn Spot Instance Requests", _VCPUS),
    "L-85EED4F7": ("All DL Spot Instance Requests", _VCPUS),
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


def applied_value(service_code: str, quota_code: str, region: str) -> float | None:
    """The value applied to the account in `region`, or None when AWS's default holds."""
    with _lock:
        for layer in (_runtime, _configured):
            for key in ((service_code, quota_code, region), (service_code, quota_code, None)):
                if key in layer:
                    return layer[key]
    return None


def quota_value(service_code: str, quota_code: str, region: str) -> float | None:
    """The value in force: the applied one, else the default (None for an unknown quota)."""
    value = applied_value(service_code, quota_code, region)
    if value is not None:
        return value
    default = _default(service_code, quota_code)
    return None if default is None else float(default["Value"])


def _render(quota: dict[str, Any], region: str, account_id: str, value: float) -> dict[str, Any]:
    rendered = dict(quota, Value=value)
    rendered["QuotaArn"] = (
        f"arn:aws:servicequotas:{region}:{account_id}:{quota['ServiceCode']}/{quota['QuotaCode']}"
    )
    return rendered


def _not_applied() -> JsonRESTError:
    # What AWS answers for a quota without an applied value: the code and no message at all.
    return JsonRESTError("NoSuchResourceException", "")


def _known(service_code: str, quota_code: str) -> dict[str, Any]:
    if service_code not in DEFAULT_QUOTAS:
        raise NoSuchResource
    default = _default(service_code, quota_code)
    if default is None:
        raise _not_applied()
    return default


# --- backend / response methods ----------------------------------------------------------------------


def _get_service_quota(self: ServiceQuotasBackend, service_code: str, quota_code: str) -> dict[str, Any]:
    default = _known(service_code, quota_code)
    value = applied_value(service_code, quota_code, self.region_name)
    if value is None:
        raise _not_applied()
    return _render(default, self.region_name, self.account_id, value)


def _get_default_quota(self: ServiceQuotasBackend, service_code: str, quota_code: str) -> dict[str, Any]:
    default = _known(service_code, quota_code)
    return _render(default, self.region_name, self.account_id, default["Value"])


def _list_quotas(self: ServiceQuotasBackend, service_code: str, applied: bool) -> list[dict[str, Any]]:
    if service_code not in DEFAULT_QUOTAS:
        raise NoSuchResource
    codes = [q["QuotaCode"] for q in DEFAULT_QUOTAS[service_code]]
    if not applied:
        return [_get_default_quota(self, service_code, code) for code in codes]
    return [
        _get_service_quota(self, service_code, code)
        for code in codes
        if applied_value(service_code, code, self.region_name) is not None
    ]


def _request_increase(
    self: ServiceQuotasBackend, service_code: str, quota_code: str, desired: float
) -> dict[str, Any]:
    """Approved at once: the desired value becomes the quota's applied value in this region."""
    default = _known(service_code, quota_code)
    current = quota_value(service_code, quota_code, self.region_name)
    if not default.get("Adjustable", True):
        raise JsonRESTError("IllegalArgumentException", f"The quota {quota_code} is not adjustable.")
    if current is not None and desired <= current:
        raise JsonRESTError(
            "IllegalArgumentException",
            f"The desired value {desired:g} must be greater than the current value {current:g}.",
        )
    set_quota(service_code, quota_code, desired, self.region_name)
    now = utcnow().timestamp()
    rendered = _render(default, self.region_name, self.account_id, desired)
    return {
        "Id": uuid.uuid4().hex,
        "ServiceCode": service_code,
        "ServiceName": rendered["ServiceName"],
        "QuotaCode": quota_code,
        "QuotaName": rendered["QuotaName"],
        "DesiredValue": desired,
        "Status": "APPROVED",
        "Created": now,
        "LastUpdated": now,
        "Requester": f"arn:aws:iam::{self.account_id}:root",
        "QuotaArn": rendered["QuotaArn"],
        "GlobalQuota": rendered.get("GlobalQuota", False),
        "Unit": rendered.get("Unit", "None"),
        "QuotaRequestedAtLevel": "ACCOUNT",
    }


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


def request_service_quota_increase_action(self: ServiceQuotasResponse) -> str:
    p = _params(self)
    requested = _request_increase(
        self.backend, str(p.get("ServiceCode")), str(p.get("QuotaCode")), float(p.get("DesiredValue", 0))
    )
    return json.dumps({"RequestedQuota": requested})


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


def _allocate_address(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    # Every address of the region counts (EC2-Classic is gone), associated or not.
    limit = _limit(self, ELASTIC_IPS)
    if limit is not None and len(self.addresses) >= limit:
        raise SandboxServiceError("AddressLimitExceeded", "The maximum number of addresses has been reached.")
    return orig(self, *args, **kwargs)


def _zone_of(backend: Any, subnet_id: str) -> str | None:
    try:
        return str(backend.get_subnet(subnet_id).availability_zone)
    except InvalidSubnetIdError:  # a subnet already gone: its NAT gateways are deleted too
        return None


def _create_nat_gateway(orig: Any, self: Any, *args: Any, **kwargs: Any) -> Any:
    limit = _limit(self, NAT_GATEWAYS_PER_ZONE)
    subnet_id = kwargs["subnet_id"] if "subnet_id" in kwargs else args[0]
    # An unknown subnet fails in moto's own call, with AWS's error.
    zone = _zone_of(self, subnet_id)
    if limit is not None and zone is not None:
        # Pending, available and deleting gateways count; deleted and failed ones do not.
        in_zone = sum(
            1
            for nat in self.nat_gateways.values()
            if nat.state not in ("deleted", "failed") and _zone_of(self, nat.subnet_id) == zone
        )
        if in_zone >= limit:
            raise SandboxServiceError(
                "NatGatewayLimitExceeded", "The maximum number of NAT Gateways has been reached."
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
    patch_attr(ServiceQuotasResponse, "request_service_quota_increase", request_service_quota_increase_action)
    wrap_method(EC2Backend, "create_vpc", _create_vpc)
    wrap_method(EC2Backend, "create_internet_gateway", _create_internet_gateway)
    wrap_method(EC2Backend, "allocate_address", _allocate_address)
    wrap_method(EC2Backend, "create_nat_gateway", _create_nat_gateway)
    _moto_api.add_route("service-quotas", _handle)
    _moto_api.on_reset(clear_runtime)
