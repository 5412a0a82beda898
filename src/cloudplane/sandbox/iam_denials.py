"""Under IAM enforcement, services that speak JSON refuse in JSON, as AWS does.

moto answers every refusal in IAM's XML, which botocore cannot read for a JSON-protocol service (MemoryDB,
Service Quotas, EFS, ACM, the tagging API ...): the error code became the HTTP status ("403") and AWS's
message was lost. AWS answers those services with `AccessDeniedException` and a message naming the caller
and the action; so does the sandbox now. Query and XML services (EC2, IAM, STS, CloudFormation, S3) keep
moto's `AccessDenied`.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.iam.access_control import IAMRequest

from ._patching import wrap_method

# IAM service prefixes (as checked, see iam_actions) of the JSON and REST-JSON services cloudplane calls.
JSON_SERVICES = frozenset(
    {"memorydb", "servicequotas", "elasticfilesystem", "acm", "tag", "kms", "logs", "ecr", "ssm"}
)


class _Denied(JsonRESTError):
    code = 403


def _raise_access_denied(orig: Any, self: IAMRequest) -> None:
    service = self._action.partition(":")[0]
    if service in JSON_SERVICES:
        raise _Denied(
            "AccessDeniedException",
            f"User: {self._access_key.arn} is not authorized to perform: {self._action}",
        )
    orig(self)


def apply() -> None:
    wrap_method(IAMRequest, "_raise_access_denied", _raise_access_denied)
