"""IAM-11 right after the trust policy changed: AWS may refuse AssumeRole for a few seconds.

A flow that has just changed the trust policy says so (`TRUST_JUST_CHANGED`), and only then is a refusal
retried for a short, bounded time; a normal verification takes the first answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse

from cloudplane.aws.session import AwsClients
from cloudplane.verify import verify_cloud
from cloudplane.verify.checks import iam
from cloudplane.verify.report import Severity
from tests.verify.asserts import assert_fails, assert_passes
from tests.verify.builders import REGION, BuiltCloud

Make = Callable[..., BuiltCloud]


class RefusedAtFirst:
    """AwsClients whose first `times` AssumeRole calls are refused with AccessDenied, as AWS does while a
    new trust policy propagates."""

    def __init__(self, times: int) -> None:
        self.times = times
        self.calls = 0
        session = boto3.session.Session()
        session.events.register("before-call.sts.AssumeRole", self._refuse)
        self.aws = AwsClients(REGION, session=session)

    def _refuse(self, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        self.calls += 1
        if self.calls > self.times:
            return None  # let the call through
        body = {
            "Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }
        return AWSResponse(url="", status_code=403, headers={}, raw=None), body


def test_a_refusal_right_after_a_trust_change_is_retried(make_cloud: Make) -> None:
    built = make_cloud(efs=False)
    refused = RefusedAtFirst(times=2)
    spec = built.with_spec(options={**built.spec.options, iam.TRUST_JUST_CHANGED: True})
    assert_passes(verify_cloud(spec, refused.aws), "IAM-11")
    assert refused.calls == 3


def test_a_normal_verification_takes_the_first_refusal(make_cloud: Make) -> None:
    built = make_cloud(efs=False)
    refused = RefusedAtFirst(times=2)
    report = verify_cloud(built.spec, refused.aws)
    assert_fails(report, "IAM-11", Severity.ERROR, built.cp_role, "AccessDenied")
    assert refused.calls == 1


def test_the_retry_is_bounded(make_cloud: Make, monkeypatch: pytest.MonkeyPatch) -> None:
    built = make_cloud(efs=False)
    monkeypatch.setattr(iam, "ASSUME_RETRY_SECONDS", 0.6)
    refused = RefusedAtFirst(times=1_000)
    spec = built.with_spec(options={iam.TRUST_JUST_CHANGED: True})
    report = verify_cloud(spec, refused.aws)
    (finding,) = assert_fails(report, "IAM-11", Severity.ERROR, built.cp_role, "AccessDenied")
    assert "after the trust policy was changed" in finding.message
    assert 2 <= refused.calls <= 4
