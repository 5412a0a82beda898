"""S3-1..5: one scenario per rule, each breaking one thing of the cloud's bucket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import policies
from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, failed_checks
from tests.verify.builders import BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


def test_s3_1_bucket_missing(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    ghost = f"{built.bucket}-gone"
    report = verify(built.with_resources(s3_bucket_id=ghost))
    assert_fails(report, "S3-1", Severity.ERROR, ghost)
    assert [f.check for f in report.findings if f.resource == "s3"] == ["S3-1"]


def test_s3_2_bucket_in_another_region(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    elsewhere = f"{built.bucket}-eu"
    shared_aws("s3", "eu-west-1").create_bucket(
        Bucket=elsewhere, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    (finding,) = assert_fails(
        verify(built.with_resources(s3_bucket_id=elsewhere)), "S3-2", Severity.WARNING, elsewhere
    )
    assert "eu-west-1" in finding.message


@pytest.mark.parametrize("breakage", ["deleted", "wrong-origin", "missing-method"])
def test_s3_3_cors(make_cloud: Make, verify: Verify, shared_aws: Any, breakage: str) -> None:
    built = make_cloud(efs=False)
    s3 = shared_aws("s3")
    if breakage == "deleted":
        s3.delete_bucket_cors(Bucket=built.bucket)
    else:
        rule = {
            "AllowedOrigins": [
                "https://example.com" if breakage == "wrong-origin" else policies.CONSOLE_ORIGIN
            ],
            "AllowedMethods": ["GET", "PUT", "POST", "HEAD"]
            + ([] if breakage == "missing-method" else ["DELETE"]),
            "AllowedHeaders": ["*"],
        }
        s3.put_bucket_cors(Bucket=built.bucket, CORSConfiguration={"CORSRules": [rule]})
    report = verify(built.spec)
    (finding,) = assert_fails(report, "S3-3", Severity.WARNING, built.bucket)
    assert policies.CONSOLE_ORIGIN in str(finding.remediation)
    assert report.passed and failed_checks(report) == {"S3-3"}


@pytest.mark.parametrize("breakage", ["removed", "one-flag-off"])
def test_s3_4_public_access_not_blocked(
    make_cloud: Make, verify: Verify, shared_aws: Any, breakage: str
) -> None:
    built = make_cloud(efs=False)
    s3 = shared_aws("s3")
    if breakage == "removed":
        s3.delete_public_access_block(Bucket=built.bucket)
    else:
        s3.put_public_access_block(
            Bucket=built.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": False,
                "RestrictPublicBuckets": True,
            },
        )
    (finding,) = assert_fails(verify(built.spec), "S3-4", Severity.WARNING, built.bucket)
    assert "BlockPublicPolicy" in finding.message


def test_s3_5_versioning_suspended(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    shared_aws("s3").put_bucket_versioning(
        Bucket=built.bucket, VersioningConfiguration={"Status": "Suspended"}
    )
    report = verify(built.spec, strict=True)
    (finding,) = assert_fails(report, "S3-5", Severity.INFO, built.bucket)
    assert "suspended" in finding.message
    assert report.passed  # information never fails the verdict, not even in strict mode
