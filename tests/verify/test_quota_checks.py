"""QUOTA-1 (before setup through quota_precheck, and before a template is applied through
template_precheck), QUOTA-2 and QUOTA-3 (part of verify).

The sandbox answers GetServiceQuota only for quotas given a value (as AWS does for quotas nobody
raised); the checks then read AWS's default."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from cloudplane.aws import regions
from cloudplane.aws.byo_template import CustomerDefinedOptions, customer_defined_template
from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CUSTOMER_DEFINED
from cloudplane.verify import quota_precheck, verify_cloud
from cloudplane.verify.checks.quotas import template_precheck
from cloudplane.verify.report import Finding, Report, Severity
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


def _only(report: Report, check: str) -> Finding:
    (finding,) = [f for f in report.findings if f.check == check]
    return finding


# -- QUOTA-1 before setup ---------------------------------------------------------------------


def test_quota1_room_for_one_more_at_the_aws_defaults(quotas: Any) -> None:
    findings = quota_precheck(AwsClients(REGION))
    assert {f.check for f in findings} == {"QUOTA-1"}
    assert len(findings) == 2 and all(f.passed for f in findings)
    # Nothing was applied to the account: the checks say the defaults are what they compared with.
    assert all("of 5 (the AWS default)" in f.message for f in findings), [f.message for f in findings]


def test_quota1_full_at_the_default_refuses_setup(quotas: Any, aws: Callable[..., Any]) -> None:
    ec2 = aws("ec2")
    for n in range(4):  # with the default VPC: five, the default quota
        ec2.create_vpc(CidrBlock=f"10.{n}.0.0/16")
    findings = quota_precheck(AwsClients(REGION))
    (finding,) = assert_fails(_report(findings), "QUOTA-1", Severity.ERROR, "vpc/L-F678F1CE")
    assert "5 in use of a quota of 5 (the AWS default)" in finding.message
    assert "--desired-value 6" in str(finding.remediation)


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
    assert "(the AWS default)" not in finding.message  # an applied value


def test_quota1_unreadable_quota_is_information(quotas: Any) -> None:
    findings = quota_precheck(refusing_clients("service-quotas.GetServiceQuota"))
    assert len(findings) == 2
    assert all(not f.passed and f.severity is Severity.INFO for f in findings)
    assert all("AccessDenied" in f.message for f in findings)
    assert all("Allow servicequotas:GetServiceQuota" in str(f.remediation) for f in findings)
    assert _report(findings).passed


def test_quota1_unapplied_quota_whose_default_is_refused_is_information(quotas: Any) -> None:
    findings = quota_precheck(refusing_clients("service-quotas.GetAWSDefaultServiceQuota"))
    assert len(findings) == 2 and all(f.severity is Severity.INFO and not f.passed for f in findings)
    assert all("Allow servicequotas:GetAWSDefaultServiceQuota" in str(f.remediation) for f in findings)
    assert _report(findings).passed


# -- QUOTA-1 before a customer-defined template is applied ---------------------------------------


def _options(
    aws: Callable[..., Any], zones: int, *, private: bool = True, nats: str = "per-az", **more: Any
) -> Any:
    ids = tuple(z["id"] for z in regions.availability_zones(aws("ec2")))
    return CustomerDefinedOptions(
        external_id="cloudplane-byo-" + "a" * 32,
        controlplane_principal="arn:aws:iam::123456789012:root",
        region=REGION,
        zone_ids=ids[:zones],
        private_network=private,
        nat_gateways=nats,
        **more,
    )


def _precheck(aws: Callable[..., Any], zones: int, **options: Any) -> list[Finding]:
    return template_precheck(AwsClients(REGION), _options(aws, zones, **options))


def test_template_with_room_has_nothing_to_say(quotas: Any, aws: Callable[..., Any]) -> None:
    assert _precheck(aws, 3) == []
    assert _precheck(aws, 3, private=False) == []


def test_template_with_more_nat_gateways_than_the_elastic_ip_quota(
    quotas: Any, aws: Callable[..., Any]
) -> None:
    # us-west-2 has four zones in the sandbox; the Elastic IP quota is lowered to three instead of six zones.
    quotas.set_quota("ec2", "L-0263D0A3", 3)
    (finding,) = _precheck(aws, 4)
    assert (finding.check, finding.severity, finding.resource_id) == (
        "QUOTA-1",
        Severity.ERROR,
        "ec2/L-0263D0A3",
    )
    assert "0 in use of a quota of 3" in finding.message and "4 NAT gateways need 4 more" in finding.message
    assert "AddressLimitExceeded" in finding.message
    assert "fewer zones or --nat-gateways single" in str(finding.remediation)
    assert "--desired-value 4" in str(finding.remediation)
    assert _precheck(aws, 4, nats="single") == []


def test_template_in_an_account_already_holding_addresses(quotas: Any, aws: Callable[..., Any]) -> None:
    ec2 = aws("ec2")
    for _ in range(3):
        ec2.allocate_address(Domain="vpc")
    (finding,) = _precheck(aws, 3)
    assert finding.resource_id == "ec2/L-0263D0A3" and finding.fails(strict=False)
    assert "3 in use of a quota of 5 (the AWS default)" in finding.message
    assert "release unused Elastic IPs" in str(finding.remediation) and "--desired-value 6" in str(
        finding.remediation
    )
    assert _precheck(aws, 3, nats="single") == []


def test_template_names_the_zone_without_room_for_a_nat_gateway(quotas: Any, aws: Callable[..., Any]) -> None:
    ec2 = aws("ec2")
    quotas.set_quota("vpc", "L-FE5A380F", 1)
    options = _options(aws, 3)
    zones = {z["id"]: z["name"] for z in regions.availability_zones(ec2)}
    second = zones[options.zone_ids[1]]
    subnet = ec2.describe_subnets(Filters=[{"Name": "availability-zone", "Values": [second]}])["Subnets"][0]
    ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], ConnectivityType="private")
    (finding,) = _precheck(aws, 3)
    assert (finding.resource_id, finding.severity) == ("vpc/L-FE5A380F", Severity.ERROR)
    assert (
        f"1 in {second} of a quota of 1" in finding.message and "NatGatewayLimitExceeded" in finding.message
    )
    # One shared NAT gateway goes into the first zone, which has room.
    assert _precheck(aws, 3, nats="single") == []


def test_template_of_a_registered_cloud_is_not_checked(quotas: Any, aws: Callable[..., Any]) -> None:
    quotas.set_quota("ec2", "L-0263D0A3", 1)
    assert _precheck(aws, 3, cloud_id="cld_" + "a" * 20) == []


def test_template_precheck_predicts_the_stack_failure(quotas: Any, aws: Callable[..., Any]) -> None:
    for _ in range(3):
        aws("ec2").allocate_address(Domain="vpc")
    options = _options(aws, 3)
    assert [f.resource_id for f in _precheck(aws, 3)] == ["ec2/L-0263D0A3"]
    cfn = aws("cloudformation")
    stack_id = cfn.create_stack(
        StackName="too-many-addresses",
        TemplateBody=json.dumps(customer_defined_template(options)),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )["StackId"]
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE"
    reasons = [
        e.get("ResourceStatusReason", "")
        for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
        if e["ResourceStatus"] == "CREATE_FAILED"
    ]
    assert any("AddressLimitExceeded" in r for r in reasons), reasons


# -- QUOTA-2 ------------------------------------------------------------------------------------


def test_quota2_vcpu_quota_too_low(quotas: Any, make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    quotas.set_quota("ec2", "L-1216C47A", 4)
    report = verify(built.spec)
    (finding,) = assert_fails(report, "QUOTA-2", Severity.WARNING, "ec2/L-1216C47A")
    assert "4" in finding.message and "8" in finding.message
    assert report.passed and failed_checks(report) == {"QUOTA-2"}
    assert not verify(built.spec, strict=True).passed


def test_quota2_unapplied_quota_is_read_as_the_aws_default(quotas: Any, make_cloud: Make) -> None:
    built = make_cloud(efs=False)
    # What AWS answers for a quota nobody raised: NoSuchResourceException, and nothing else.
    clients = refusing_clients("service-quotas.GetServiceQuota", code="NoSuchResourceException", status=400)
    report = verify_cloud(built.spec, clients)
    assert_passes(report, "QUOTA-2")
    assert "is 64 (the AWS default)" in _only(report, "QUOTA-2").message


def test_quota2_unreadable_is_information(quotas: Any, make_cloud: Make) -> None:
    built = make_cloud(efs=False)
    report = verify_cloud(
        built.spec,
        refusing_clients(
            "service-quotas.GetServiceQuota",
            "service-quotas.GetAWSDefaultServiceQuota",
            code="NoSuchResourceException",
            status=400,
        ),
    )
    quota = [f for f in report.findings if f.check == "QUOTA-2"]
    assert [f.severity for f in quota] == [Severity.INFO] and not quota[0].passed
    assert quota[0].remediation == "Look it up in the Service Quotas console."
    assert_passes(report, "VPC-1")


# -- QUOTA-3 ------------------------------------------------------------------------------------


def test_quota3_private_cloud_in_a_region_without_an_elastic_ip_left(
    quotas: Any, make_cloud: Make, verify: Verify, aws: Callable[..., Any]
) -> None:
    built = make_cloud(deployment=CUSTOMER_DEFINED, private=True, nat_per_zone=True)
    held = len(aws("ec2").describe_addresses()["Addresses"])
    assert held == 3
    quotas.set_quota("ec2", "L-0263D0A3", held + 1)
    room = _only(verify(built.spec), "QUOTA-3")
    assert room.passed and f"{held} in use of {held + 1}" in room.message

    quotas.set_quota("ec2", "L-0263D0A3", held)
    report = verify(built.spec, strict=True)
    full = _only(report, "QUOTA-3")
    assert (full.passed, full.severity, full.resource_id) == (False, Severity.INFO, "ec2/L-0263D0A3")
    assert "none left" in full.message and "AddressLimitExceeded" in full.message
    assert "--desired-value 4" in str(full.remediation)
    assert report.passed  # a note: the cloud itself is fine, even strictly


def test_quota3_is_for_private_customer_defined_clouds_only(
    quotas: Any, make_cloud: Make, verify: Verify
) -> None:
    public = make_cloud(deployment=CUSTOMER_DEFINED, efs=False)
    assert "QUOTA-3" not in {f.check for f in verify(public.spec).findings}
