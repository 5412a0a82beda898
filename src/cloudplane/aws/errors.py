"""AWS errors as cloudplane sees them: one type that names the call, the resource and what to do.

The client facade (`cloudplane.aws.facade`) turns every botocore error into an `AwsError`, so flows and
checks never handle a `ClientError`; the CLI prints `str(error)` as one line.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)

from cloudplane.errors import CloudplaneError

NOT_FOUND_CODES = frozenset(
    {
        "NoSuchEntity",
        "NoSuchBucket",
        "404",
        "NotFound",
        "FileSystemNotFound",
        "MountTargetNotFound",
        "ClusterNotFoundFault",
        "ParameterGroupNotFoundFault",
        "SubnetGroupNotFoundFault",
        "InvalidVpcID.NotFound",
        "InvalidSubnetID.NotFound",
        "InvalidGroup.NotFound",
        "InvalidRouteTableID.NotFound",
        "ValidationError",
    }
)
ACCESS_DENIED_CODES = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "AuthorizationError"}
)
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "ExpiredToken",
        "ExpiredTokenException",
        "RequestExpired",
        "InvalidAccessKeyId",
        "AuthFailure",
    }
)

# Parameters that name what a call is about, most specific first.
_RESOURCE_PARAMS = (
    "StackName",
    "RoleName",
    "InstanceProfileName",
    "PolicyArn",
    "RoleArn",
    "Bucket",
    "FileSystemId",
    "MountTargetId",
    "ClusterName",
    "SubnetGroupName",
    "ParameterGroupName",
    "VpcId",
    "SubnetId",
    "GroupId",
    "VpcIds",
    "SubnetIds",
    "GroupIds",
    "RouteTableIds",
    "NetworkAclIds",
    "PolicySourceArn",
    "ResourceArn",
    "QuotaCode",
    "KeyId",
)


class Fault(StrEnum):
    """Why an AWS call failed, as far as what the user should do goes."""

    DENIED = "denied"
    THROTTLED = "throttled"
    SERVER = "server error"
    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    CREDENTIALS = "credentials"
    NOT_FOUND = "not found"
    REJECTED = "rejected"  # any other client error: AWS said no to this request


# Faults that say nothing about the resource: the call may well succeed when tried again.
TRANSIENT = frozenset({Fault.THROTTLED, Fault.SERVER, Fault.UNREACHABLE, Fault.TIMEOUT})


class AwsError(CloudplaneError):
    """An AWS call that failed. `str()` is one line: the call, the resource, what AWS said, what to do."""

    exit_code = 1

    def __init__(
        self,
        *,
        service: str,
        operation: str,
        fault: Fault,
        code: str = "",
        detail: str = "",
        resource: str | None = None,
        region: str | None = None,
        endpoint: str | None = None,
        status: int | None = None,
        permission: str | None = None,
    ) -> None:
        self.service = service
        self.permission = permission
        self.operation = operation
        self.fault = fault
        self.code = code
        self.detail = detail
        self.resource = resource
        self.region = region
        self.endpoint = endpoint
        self.status = status
        super().__init__(self._line())

    @property
    def action(self) -> str:
        """The IAM permission the call needs, e.g. `ec2:DescribeVpcs`, `s3:GetBucketCORS` (GetBucketCors)."""
        return self.permission or iam_permission(self.service, self.operation)

    @property
    def transient(self) -> bool:
        return self.fault in TRANSIENT

    def _line(self) -> str:
        on = f" on {self.resource}" if self.resource else ""
        where = f" in {self.region}" if self.region else ""
        said = f": {self.code}" if self.code else ""
        if self.detail:
            said += f" ({self.detail})" if self.code else f": {self.detail}"
        return f"AWS call {self.action}{on}{where} failed{said}. {self.advice()}"

    def advice(self) -> str:
        if self.fault is Fault.DENIED:
            return (
                f"Your AWS identity lacks the permission {self.action}: add it to the identity's IAM policy "
                "(`cloudplane cloud policy --for COMMAND` prints all that a command needs), then run the same "
                "command again."
            )
        if self.fault is Fault.THROTTLED:
            return (
                "AWS kept throttling the request after every retry; nothing was lost: wait a minute and "
                "run the same command again, it continues where it stopped."
            )
        if self.fault is Fault.SERVER:
            return (
                "AWS answered with a server error after every retry; nothing was lost: run the same "
                "command again, it continues where it stopped."
            )
        if self.fault is Fault.UNREACHABLE:
            return (
                f"The AWS endpoint {self.endpoint or ''} cannot be reached: check the network, a proxy, "
                "or AWS_ENDPOINT_URL, then run the same command again."
            )
        if self.fault is Fault.TIMEOUT:
            return (
                f"The AWS endpoint {self.endpoint or ''} did not answer in time: check the network or "
                "AWS_ENDPOINT_URL, then run the same command again."
            )
        if self.fault is Fault.CREDENTIALS:
            from cloudplane.aws.regions import ENABLED_BY_DEFAULT

            opt_in = (
                f" (or {self.region} is an opt-in region no longer enabled for the account: see Account > "
                "AWS Regions in the AWS console)"
                if self.region
                and self.region not in ENABLED_BY_DEFAULT
                and self.operation != "GetCallerIdentity"
                else ""
            )
            return (
                f"Your AWS credentials are missing, wrong or expired{opt_in}: configure them as for the AWS CLI "
                "(environment, `aws configure`, a profile or SSO) and try again."
            )
        if self.fault is Fault.NOT_FOUND:
            return "It does not exist, or these credentials cannot see it: check the id and the region."
        return "Fix what AWS names above and run the same command again."


# botocore's service name -> the IAM service prefix, where they differ.
_IAM_PREFIXES = {
    "service-quotas": "servicequotas",
    "elbv2": "elasticloadbalancing",
    "efs": "elasticfilesystem",
    "s3control": "s3",
    "resourcegroupstaggingapi": "tag",
}
# (service, operation) -> the IAM action AWS authorizes it as, where the names differ.
_IAM_ACTIONS = {
    ("s3", "HeadBucket"): "ListBucket",
    ("s3", "ListObjects"): "ListBucket",
    ("s3", "ListObjectsV2"): "ListBucket",
    ("s3", "ListObjectVersions"): "ListBucketVersions",
    ("s3", "HeadObject"): "GetObject",
    ("s3", "GetBucketCors"): "GetBucketCORS",
    ("s3", "PutBucketCors"): "PutBucketCORS",
    ("s3", "DeleteBucketCors"): "PutBucketCORS",
    ("s3", "GetPublicAccessBlock"): "GetBucketPublicAccessBlock",
    ("s3", "PutPublicAccessBlock"): "PutBucketPublicAccessBlock",
    ("s3", "DeletePublicAccessBlock"): "PutBucketPublicAccessBlock",
    ("s3", "GetBucketEncryption"): "GetEncryptionConfiguration",
    ("s3", "PutBucketEncryption"): "PutEncryptionConfiguration",
    ("s3", "GetBucketLifecycleConfiguration"): "GetLifecycleConfiguration",
    ("s3", "PutBucketLifecycleConfiguration"): "PutLifecycleConfiguration",
    ("s3", "DeleteObjects"): "DeleteObject",
    ("s3control", "GetPublicAccessBlock"): "GetAccountPublicAccessBlock",
    ("s3control", "PutPublicAccessBlock"): "PutAccountPublicAccessBlock",
}


def _iam_prefix(service: str) -> str:
    return _IAM_PREFIXES.get(service, service)


def iam_permission(service: str, operation: str, params: dict[str, Any] | None = None) -> str:
    """The IAM action an API call is authorized as: `efs` DescribeMountTargets is
    elasticfilesystem:DescribeMountTargets, S3's HeadBucket is s3:ListBucket."""
    action = _IAM_ACTIONS.get((service, operation), operation)
    if (service, operation) == ("s3", "DeleteObjects"):
        objects = ((params or {}).get("Delete") or {}).get("Objects") or []
        if any(o.get("VersionId") for o in objects):
            action = "DeleteObjectVersion"  # deleting versions needs a permission of its own
    return f"{_iam_prefix(service)}:{action}"


def classify_code(code: str, status: int | None) -> Fault:
    if code in ACCESS_DENIED_CODES:
        return Fault.DENIED
    if code in THROTTLING_CODES:
        return Fault.THROTTLED
    if code in CREDENTIAL_CODES:
        return Fault.CREDENTIALS
    if code in NOT_FOUND_CODES and code != "ValidationError":
        return Fault.NOT_FOUND
    if (status or 0) >= 500 or code in ("InternalError", "InternalFailure", "ServiceUnavailable"):
        return Fault.SERVER
    return Fault.REJECTED


def describe_resource(params: dict[str, Any]) -> str | None:
    """What a call was about, from its parameters: the first naming parameter, or an id filter."""
    for key in _RESOURCE_PARAMS:
        value = params.get(key)
        if value:
            return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
    for item in params.get("Filters") or []:
        values = item.get("Values") or []
        if values:
            return ", ".join(map(str, values))
    return None


def from_botocore(
    exc: BaseException,
    *,
    service: str,
    operation: str,
    params: dict[str, Any] | None = None,
    region: str | None = None,
    endpoint: str | None = None,
) -> AwsError:
    """The AwsError for a botocore exception raised by the call `service:operation`."""
    common: dict[str, Any] = {
        "service": service,
        "operation": operation,
        "resource": describe_resource(params or {}),
        "region": region,
        "endpoint": endpoint,
        "permission": iam_permission(service, operation, params),
    }
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        detail = _first_line(str(err.get("Message", "")))
        return AwsError(fault=classify_code(code, status), code=code, detail=detail, status=status, **common)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return AwsError(fault=Fault.CREDENTIALS, detail=_first_line(str(exc)), **common)
    if isinstance(exc, ConnectTimeoutError | ReadTimeoutError):
        return AwsError(fault=Fault.TIMEOUT, detail=_first_line(str(exc)), **common)
    if isinstance(exc, EndpointConnectionError):
        return AwsError(fault=Fault.UNREACHABLE, detail=_first_line(str(exc)), **common)
    if isinstance(exc, NoRegionError):
        return AwsError(fault=Fault.REJECTED, detail="no region given", **common)
    if isinstance(exc, BotoCoreError):
        # Connection resets, proxy and SSL errors: the endpoint could not be talked to.
        return AwsError(fault=Fault.UNREACHABLE, detail=_first_line(str(exc)), **common)
    return AwsError(fault=Fault.REJECTED, detail=f"{type(exc).__name__}: {_first_line(str(exc))}", **common)


def _first_line(text: str) -> str:
    line = (text.strip().splitlines() or [""])[0]
    if line.startswith("<"):  # an XML or HTML body where a message was expected says nothing useful
        return ""
    return line if len(line) <= 300 else line[:297] + "..."


def error_code(exc: BaseException) -> str:
    if isinstance(exc, AwsError):
        return exc.code
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return ""


def error_message(exc: BaseException) -> str:
    """What AWS said, short: `Code: message` (without the advice)."""
    if isinstance(exc, AwsError):
        if exc.code:
            return f"{exc.code}: {exc.detail}".strip().rstrip(":")
        return exc.detail or str(exc.fault)
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        return f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
    if isinstance(exc, BotoCoreError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def is_access_denied(exc: BaseException) -> bool:
    if isinstance(exc, AwsError):
        return exc.fault is Fault.DENIED
    return error_code(exc) in ACCESS_DENIED_CODES


def is_transient(exc: BaseException) -> bool:
    """Throttling, a server error, a timeout or an unreachable endpoint: nothing about the resource."""
    return isinstance(exc, AwsError) and exc.transient
