"""Setup's quota precheck in an account where nobody ever raised a quota: GetServiceQuota has no value to
give (NoSuchResourceException), so AWS's default is what the region is held to, and what setup checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.helpers import cloudplane

SETUP = ("cloud", "setup", "--provider", "aws", "--region", "us-west-2", "--yes", "--name", "demo")


def test_setup_is_refused_at_the_default_vpc_quota_and_goes_through_once_it_is_raised(
    aws: Callable[..., Any], aws_env: Any
) -> None:
    ec2, quotas = aws("ec2"), aws("service-quotas")
    for n in range(4):  # with the default VPC: five, AWS's default quota
        ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")

    refused = cloudplane(*SETUP)
    assert refused.exit_code == 1, refused.stderr
    assert "nothing was created" in refused.stderr
    assert "VPCs per Region: 5 in use of a quota of 5 (the AWS default)" in refused.stderr
    assert cloudplane("cloud", "list", "--output", "json").json()["clouds"] == []
    assert aws("cloudformation").list_stacks()["StackSummaries"] == []

    quotas.request_service_quota_increase(ServiceCode="vpc", QuotaCode="L-F678F1CE", DesiredValue=6)
    done = cloudplane(*SETUP)
    assert done.exit_code == 0, done.stderr
