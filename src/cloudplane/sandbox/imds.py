"""The instance metadata service (IMDSv2) of each instance, at `/moto-api/cloudplane/imds/<instance-id>/`.

Start-up scripts find it through `AWS_EC2_METADATA_SERVICE_ENDPOINT` (see instance_startup), as every AWS SDK
does. As on EC2, `PUT latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds` (1-21600) returns a
token, and every GET needs it in `X-aws-ec2-metadata-token` (401 otherwise). Served under `latest/`:
- meta-data/: instance-id, ami-id, instance-type, local-ipv4, local-hostname, hostname, mac,
  placement/availability-zone, placement/region, network/interfaces/macs/<mac>/{vpc-id, subnet-id,
  security-group-ids, local-ipv4s}, iam/info, iam/security-credentials/ and
  iam/security-credentials/<role-name>;
- dynamic/instance-identity/document and user-data.
The credentials are real temporary credentials of the instance profile's role (session name: the instance
id), issued by the sandbox's STS, so IAM enforcement and bucket policies judge the script's calls by that
role. An instance without a profile has no `iam/` (404). A role whose trust policy does not let
ec2.amazonaws.com assume it gets IMDS's `AssumeRoleUnauthorizedAccess` answer instead of credentials.
"""

from __future__ import annotations

import base64
import datetime
import fnmatch
import json
import secrets
import threading
import time
from typing import Any
from urllib.parse import unquote, urlparse

from moto.iam.models import iam_backends
from moto.sts.models import sts_backends
from moto.utilities.utils import get_partition

from . import _moto_api
from .instance_startup import IMDS_PATH, instance_of

CREDENTIAL_SECONDS = 6 * 3600
_REFRESH_BEFORE = datetime.timedelta(minutes=15)
_TEXT = {"Content-Type": "text/plain"}

_lock = threading.Lock()
# token -> (instance id, monotonic expiry)
_tokens: dict[str, tuple[str, float]] = {}
# instance id -> (role arn, assumed role)
_credentials: dict[str, tuple[str, Any]] = {}


def _reset() -> None:
    with _lock:
        _tokens.clear()
        _credentials.clear()


def _iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def _profile(instance: Any) -> Any:
    association = instance.ec2_backend.iam_instance_profile_associations.get(instance.id)
    return association.iam_instance_profile if association is not None else None


def _role(profile: Any, account_id: str, region: str) -> Any:
    """The profile's role as IAM has it now (a profile holds at most one role)."""
    if not profile.roles:
        return None
    iam = iam_backends[account_id][get_partition(region)]
    try:
        return iam.get_role(profile.roles[0].name)
    except Exception:  # the role was deleted since
        return None


def _matches(patterns: Any, value: str) -> bool:
    values = patterns if isinstance(patterns, list) else [patterns]
    return any(fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in values)


def _names_ec2(principal: Any) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    services = principal.get("Service", [])
    aws = principal.get("AWS", [])
    return _matches(services, "ec2.amazonaws.com") or aws == "*" or aws == ["*"]


def ec2_may_assume(role: Any) -> bool:
    """Whether the role's trust policy lets the EC2 service assume it (Conditions are taken to hold)."""
    document = role.assume_role_policy_document
    try:
        policy = json.loads(unquote(document) if isinstance(document, str) else json.dumps(document))
    except ValueError:
        return False
    statements = policy.get("Statement", [])
    allowed = False
    for statement in statements if isinstance(statements, list) else [statements]:
        if not _matches(statement.get("Action", []), "sts:AssumeRole"):
            continue
        if not _names_ec2(statement.get("Principal")):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def _assumed(instance: Any, role: Any, account_id: str, region: str) -> Any:
    with _lock:
        cached = _credentials.get(instance.id)
        if cached and cached[0] == role.arn and cached[1].expiration - _now() > _REFRESH_BEFORE:
            return cached[1]
    sts = sts_backends[account_id][get_partition(region)]
    assumed = sts.assume_role(
        region_name=region,
        role_session_name=instance.id,
        role_arn=role.arn,
        policy=None,
        duration=CREDENTIAL_SECONDS,
        external_id=None,
    )
    with _lock:
        _credentials[instance.id] = (role.arn, assumed)
    return assumed


def _security_credentials(instance: Any, role: Any, account_id: str, region: str) -> dict[str, str]:
    if not ec2_may_assume(role):
        return {
            "Code": "AssumeRoleUnauthorizedAccess",
            "Message": f"EC2 cannot assume the role {role.name}.  Please see documentation at "
            "https://docs.aws.amazon.com/IAM/latest/UserGuide/RolesTroubleshooting.html.",
            "LastUpdated": _iso(_now()),
        }
    assumed = _assumed(instance, role, account_id, region)
    return {
        "Code": "Success",
        "LastUpdated": _iso(assumed.expiration - datetime.timedelta(seconds=CREDENTIAL_SECONDS)),
        "Type": "AWS-HMAC",
        "AccessKeyId": assumed.access_key_id,
        "SecretAccessKey": assumed.secret_access_key,
        "Token": assumed.session_token,
        "Expiration": _iso(assumed.expiration),
    }


def _identity_document(instance: Any, account_id: str, region: str) -> dict[str, Any]:
    return {
        "accountId": account_id,
        "architecture": instance.architecture,
        "availabilityZone": instance.placement.zone,
        "imageId": instance.image_id,
        "instanceId": instance.id,
        "instanceType": instance.instance_type,
        "pendingTime": _iso(instance.launch_time),
        "privateIp": instance.private_ip,
        "region": region,
        "version": "2017-09-30",
    }


def _network(instance: Any) -> dict[str, Any]:
    nic = instance.nics[0]
    return {
        "vpc-id": getattr(nic.subnet, "vpc_id", ""),
        "subnet-id": getattr(nic.subnet, "id", ""),
        "security-group-ids": "\n".join(group.id for group in nic.group_set),
        "local-ipv4s": nic.private_ip_address or "",
    }


def _answer(value: Any) -> _moto_api.Response:
    if value is None:
        return 404, _TEXT, "Not Found"
    if isinstance(value, dict):
        return 200, _TEXT, json.dumps(value, indent=2)
    return 200, _TEXT, str(value)


def _meta_data(instance: Any, account_id: str, region: str, path: str) -> Any:
    nic = instance.nics[0]
    mac = nic.mac_address
    fixed: dict[str, Any] = {
        "": "ami-id\nhostname\niam/\ninstance-id\ninstance-type\nlocal-hostname\nlocal-ipv4\nmac\n"
        "network/\nplacement/",
        "ami-id": instance.image_id,
        "instance-id": instance.id,
        "instance-type": instance.instance_type,
        "local-ipv4": instance.private_ip,
        "local-hostname": instance.private_dns_name,
        "hostname": instance.private_dns_name,
        "mac": mac,
        "placement": "availability-zone\nregion",
        "placement/availability-zone": instance.placement.zone,
        "placement/region": region,
        "network": "interfaces/",
        "network/interfaces": "macs/",
        "network/interfaces/macs": f"{mac}/",
        f"network/interfaces/macs/{mac}": "\n".join(_network(instance)),
    }
    for key, value in _network(instance).items():
        fixed[f"network/interfaces/macs/{mac}/{key}"] = value
    if path in fixed:
        return fixed[path]
    if not path.startswith("iam"):
        return None
    profile = _profile(instance)
    if profile is None:
        return None
    role = _role(profile, account_id, region)
    if path == "iam":
        return "info\nsecurity-credentials/"
    if path == "iam/info":
        return {
            "Code": "Success",
            "LastUpdated": _iso(_now()),
            "InstanceProfileArn": profile.arn,
            "InstanceProfileId": profile.id,
        }
    if role is None:
        return None
    if path == "iam/security-credentials":
        return role.name
    if path == f"iam/security-credentials/{role.name}":
        return _security_credentials(instance, role, account_id, region)
    return None


def _authorized(instance_id: str, headers: Any) -> bool:
    token = headers.get("X-aws-ec2-metadata-token")
    with _lock:
        known = _tokens.get(token or "")
    return known is not None and known[0] == instance_id and known[1] > time.monotonic()


def _new_token(instance_id: str, headers: Any) -> _moto_api.Response:
    try:
        ttl = int(headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
    except ValueError:
        ttl = 0
    if not 1 <= ttl <= 21600:
        return 400, _TEXT, "Bad Request"
    token = base64.urlsafe_b64encode(secrets.token_bytes(42)).decode()
    with _lock:
        _tokens[token] = (instance_id, time.monotonic() + ttl)
    return 200, {**_TEXT, "X-aws-ec2-metadata-token-ttl-seconds": str(ttl)}, token


def _handle(request: Any, full_url: str, headers: Any) -> _moto_api.Response:
    path = urlparse(full_url).path
    instance_id, _, rest = path[path.index(IMDS_PATH) + len(IMDS_PATH) :].partition("/")
    found = instance_of(instance_id)
    if found is None or found[0].state in ("terminated", "stopped"):
        return 404, _TEXT, "Not Found"
    instance, account_id, region = found
    rest = rest.rstrip("/")
    if rest == "latest/api/token":
        if request.method != "PUT":
            return 405, _TEXT, "Method Not Allowed"
        return _new_token(instance_id, request.headers)
    if request.method not in ("GET", "HEAD"):
        return 405, _TEXT, "Method Not Allowed"
    if not _authorized(instance_id, request.headers):
        return 401, _TEXT, "Unauthorized"
    if rest == "latest/user-data":
        data = instance.user_data
        return _answer(base64.b64decode(str(data)).decode(errors="replace") if data is not None else None)
    if rest == "latest/dynamic/instance-identity/document":
        return _answer(_identity_document(instance, account_id, region))
    if rest == "latest/meta-data" or rest.startswith("latest/meta-data/"):
        return _answer(_meta_data(instance, account_id, region, rest[len("latest/meta-data/") :]))
    return 404, _TEXT, "Not Found"


def apply() -> None:
    _moto_api.add_route("imds/(?P<instance_id>[^/]+)/(?P<path>.*)", _handle)
    _moto_api.on_reset(_reset)
