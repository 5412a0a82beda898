"""S3-1..5: the cloud's bucket exists, is near, serves the console, is private and versioned."""

from __future__ import annotations

import json
from collections.abc import Iterator

from cloudplane.aws import policies
from cloudplane.aws.errors import AwsError, error_message, is_access_denied
from cloudplane.verify.context import VerifyContext
from cloudplane.verify.outcome import Outcome, Skip, fail, note, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "s3"
_PAB_FLAGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def _bucket(ctx: VerifyContext) -> str:
    """The bucket name when it exists and can be read; S3-1 reports the other cases."""
    bucket = require(ctx.res.s3_bucket_id)
    try:
        require(ctx.bucket_region())
    except AwsError as exc:
        if is_access_denied(exc):
            raise Skip from exc
        raise
    return bucket


@check("S3-1", GROUP, Severity.ERROR, reads=(VerifyContext.bucket_region,))
def bucket_exists(ctx: VerifyContext) -> Iterator[Outcome]:
    bucket = ctx.res.s3_bucket_id
    if not bucket:
        yield fail(
            "The cloud has no S3 bucket recorded.",
            remediation="Add the bucket name to the cloud's resources.",
        )
        return
    try:
        region = ctx.bucket_region()
    except AwsError as exc:
        if not is_access_denied(exc):
            raise
        yield fail(
            f"Bucket {bucket} cannot be read with your credentials ({error_message(exc)}).",
            bucket,
            "Use credentials of the bucket's account, or allow them s3:GetBucketLocation and the other "
            "bucket reads on it.",
        )
        return
    if region is None:
        yield fail(
            f"Bucket {bucket} does not exist.",
            bucket,
            f"Create it (aws s3api create-bucket --bucket {bucket} --create-bucket-configuration "
            f"LocationConstraint={ctx.spec.region}) or point the cloud at an existing bucket.",
        )
    else:
        yield ok(f"Bucket {bucket} exists and is readable.", bucket)


@check("S3-2", GROUP, Severity.WARNING, reads=(VerifyContext.bucket_region,))
def bucket_region(ctx: VerifyContext) -> Iterator[Outcome]:
    bucket = _bucket(ctx)
    region = ctx.bucket_region()
    if region != ctx.spec.region:
        yield fail(
            f"Bucket {bucket} is in {region}, but the cloud is in {ctx.spec.region}: slower logs and "
            "image pulls, and cross-region transfer charges.",
            bucket,
            f"Use a bucket in {ctx.spec.region}.",
        )
    else:
        yield ok(f"Bucket {bucket} is in the cloud's region {region}.", bucket)


def _cors_ok(rule: dict[str, object]) -> bool:
    origins = set(rule.get("AllowedOrigins", []))  # type: ignore[call-overload]
    methods = {str(m).upper() for m in rule.get("AllowedMethods", [])}  # type: ignore[attr-defined]
    headers = set(rule.get("AllowedHeaders", []))  # type: ignore[call-overload]
    return (
        bool(origins & {policies.CONSOLE_ORIGIN, "*"})
        and set(policies.CORS_METHODS) <= methods
        and "*" in headers
    )


@check("S3-3", GROUP, Severity.WARNING, reads=(VerifyContext.bucket_region, VerifyContext.bucket_cors_rules))
def bucket_cors(ctx: VerifyContext) -> Iterator[Outcome]:
    bucket = _bucket(ctx)
    rules = ctx.bucket_cors_rules()
    if any(_cors_ok(r) for r in rules):
        yield ok(f"Bucket {bucket} has a CORS rule for {policies.CONSOLE_ORIGIN}.", bucket)
        return
    wanted = json.dumps(
        {
            "AllowedOrigins": [policies.CONSOLE_ORIGIN],
            "AllowedMethods": list(policies.CORS_METHODS),
            "AllowedHeaders": ["*"],
        }
    )
    yield fail(
        f"Bucket {bucket} has {'no CORS configuration' if not rules else 'no CORS rule'} allowing "
        f"{policies.CONSOLE_ORIGIN} with {', '.join(policies.CORS_METHODS)} and all headers; the console "
        "cannot show logs from it.",
        bucket,
        f"Add this CORS rule (S3 console > bucket > Permissions > CORS, or aws s3api put-bucket-cors): {wanted}",
    )


@check(
    "S3-4",
    GROUP,
    Severity.WARNING,
    reads=(VerifyContext.bucket_region, VerifyContext.bucket_public_access_block),
)
def bucket_public_access(ctx: VerifyContext) -> Iterator[Outcome]:
    bucket = _bucket(ctx)
    block = ctx.bucket_public_access_block() or {}
    open_flags = [flag for flag in _PAB_FLAGS if not block.get(flag)]
    unread = ""
    if open_flags:
        # The account-wide setting may block what the bucket's own does not.
        try:
            account = ctx.account_public_access_block() or {}
            open_flags = [flag for flag in open_flags if not account.get(flag)]
        except AwsError as exc:
            unread = f" (the account-wide setting could not be read: {error_message(exc)})"
    if open_flags:
        yield fail(
            f"Bucket {bucket} does not fully block public access ({', '.join(open_flags)} off){unread}.",
            bucket,
            f"aws s3api put-public-access-block --bucket {bucket} --public-access-block-configuration "
            + ",".join(f"{flag}=true" for flag in _PAB_FLAGS),
        )
    else:
        yield ok(f"Public access to bucket {bucket} is fully blocked.", bucket)


@check("S3-5", GROUP, Severity.INFO, reads=(VerifyContext.bucket_region, VerifyContext.bucket_versioning))
def bucket_versioning(ctx: VerifyContext) -> Iterator[Outcome]:
    bucket = _bucket(ctx)
    status = ctx.bucket_versioning()
    if status == "Enabled":
        yield ok(f"Versioning is enabled on bucket {bucket}.", bucket)
    else:
        yield note(
            f"Versioning is {status.lower() if status else 'not enabled'} on bucket {bucket}; deleted or "
            "overwritten objects cannot be recovered.",
            bucket,
            f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled",
        )
