"""QUOTA-1 (before setup, through quota_precheck) and QUOTA-2 (part of verify)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloudplane.aws.session import AwsClients
from cloudplane.verify import quota_precheck
from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks
from tests.verify.builders import REGION, BuiltCloud
from tests.verify.faults import refusing_clients

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


@pytest.fixture
def quotas(aws_env: Any) -> Iterator[Any]:
    """A clean sandbox whose quota overrides are dropped again afterwards."""
    yield aws_env
    aws_env.reset()


def _report(findings: list[Any]) -> Report:
    return Report(cloud={}, findings=findings)


def test_quota1_room_for_one_more(quotas: Any) -> None:
    findings = quota_precheck(AwsClients(REGION))
    assert {f.check for f in findings} == {"QUOTA-1"}
    assert len(findings) == 2 and all(f.passed for f in findings)


@pytest.mark.parametrize(
    ("code", "resource"), [("L-F678F1CE", "VPCs"), ("L-A4707A72", "Internet gateways")], ids=["vpcs", "igws"]
)
def test_quota1_region_is_full(quotas: Any, aws: Callable[..., Any], code: str, resource: str) -> None:
    ec2 = aws("ec2")
    ec2.create_internet_gateway()
    # One in use of each kind (the default VPC, the gateway above) and a quota of one: no room left.
    quotas.set_quota("vpc", code, 1)
    findings = quota_precheck(AwsClients(REGION))
    (finding,) = assert_fails(_report(findings), "QUOTA-1", Severity.ERROR, f"vpc/{code}")
    assert resource in finding.message and "request-service-quota-increase" in str(finding.remediation)


def test_quota1_unreadable_quota_is_information(quotas: Any) -> None:
    findings = quota_precheck(refusing_clients("service-quotas.GetServiceQuota"))
    assert len(findings) == 2
    assert all(not f.passed and f.severity is Severity.INFO for f in findings)
    assert all("AccessDenied" in f.message for f in findings)
    assert _report(findings).passed


def test_quota2_vcpu_quota_too_low(quotas: Any, make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    quotas.set_quota("ec2", "L-1216C47A", 4)
    report = verify(built.spec)
    (finding,) = assert_fails(report, "QUOTA-2", Severity.WARNING, "ec2/L-1216C47A")
    assert "4" in finding.message and "8" in finding.message
    assert report.passed and failed_checks(report) == {"QUOTA-2"}
    assert not verify(built.spec, strict=True).passed


def test_quota2_unreadable_is_information(quotas: Any, make_cloud: Make) -> None:
    from cloudplane.verify import verify_cloud

    built = make_cloud(efs=False)
    report = verify_cloud(
        built.spec,
        refusing_clients("service-quotas.GetServiceQuota", code="NoSuchResourceException", status=400),
    )
    quota = [f for f in report.findings if f.check == "QUOTA-2"]
    assert [f.severity for f in quota] == [Severity.INFO] and not quota[0].passed
    assert_passes(report, "VPC-1")
