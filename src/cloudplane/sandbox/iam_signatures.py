"""Under IAM enforcement, requests without a body (EFS's GETs, for one) are signed as AWS signs them.

To check a signature moto rebuilds the request with `data=body or parameters`: a GET with query
parameters (or none) and an empty body is re-signed as if its parameters had been sent as a form body, so
every such call of a REST/JSON service (elasticfilesystem:DescribeFileSystems, DescribeMountTargets,
DescribeBackupPolicy ...) failed with SignatureDoesNotMatch whatever the caller's rights. Here a request that
uses no body (GET, HEAD, DELETE) and came without one is rebuilt without one. S3 requests keep moto's own handling (their payload hash is a
header).
"""

from __future__ import annotations

from typing import Any

from moto.iam.access_control import IAMRequest

from ._patching import wrap_method

BODILESS_METHODS = frozenset({"GET", "HEAD", "DELETE"})


def _create_aws_request(orig: Any, self: IAMRequest) -> Any:
    # A form POST (the query protocol) reaches moto with its body already parsed into the parameters.
    if self._body or self._method.upper() not in BODILESS_METHODS:
        return orig(self)
    parameters = self._data
    self._data = {}  # type: ignore[assignment]
    try:
        return orig(self)
    finally:
        self._data = parameters


def apply() -> None:
    wrap_method(IAMRequest, "_create_aws_request", _create_aws_request)
