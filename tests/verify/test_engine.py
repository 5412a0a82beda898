"""The engine: verdicts and --strict, progress events, concurrency, batching, and errors turned into findings."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CloudSpec
from cloudplane.verify import ProgressEvent, verify_cloud
from cloudplane.verify.engine import run
from cloudplane.verify.registry import all_checks
from cloudplane.verify.report import GROUPS, Report
from tests.verify.asserts import failed_checks
from tests.verify.builders import REGION, BuiltCloud
from tests.verify.call_trace import CallTrace
from tests.verify.faults import refusing_clients

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]

# Upper bound of API calls of one verification of the baseline cloud (about 40 are made).
CALL_BUDGET = 48


def test_rule_ids_are_unique_and_cover_the_rules_table() -> None:
    ids = [c.id for c in all_checks()]
    assert len(ids) == len(set(ids))
    expected = {
        f"{p}-{n}"
        for p, count in {
            "VPC": 5,
            "SUB": 9,
            "SG": 6,
            "IAM": 11,
            "S3": 5,
            "EFS": 6,
            "MDB": 6,
            "CFN": 2,
            "QUOTA": 3,
        }.items()
        for n in range(1, count + 1)
    }
    assert set(ids) == expected
    assert all(c.group in GROUPS for c in all_checks())


def test_strict_fails_a_warning_only_cloud(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    shared_aws("ec2").modify_vpc_attribute(VpcId=built.vpc_id, EnableDnsHostnames={"Value": False})
    relaxed = verify(built.spec)
    strict = verify(built.spec, strict=True)
    assert failed_checks(relaxed) == {"VPC-3"}
    assert relaxed.passed and relaxed.groups()["vpc"]
    assert not strict.passed and not strict.groups()["vpc"] and strict.strict
    assert strict.groups()["subnets"]


def test_progress_events_frame_every_group(make_cloud: Make, clients: AwsClients, shared_aws: Any) -> None:
    built = make_cloud(memorydb=True)
    shared_aws("ec2").delete_route(RouteTableId=built.route_table_id, DestinationCidrBlock="0.0.0.0/0")
    events: list[ProgressEvent] = []
    report = verify_cloud(built.spec, clients, on_progress=events.append)
    by_group: dict[str, list[str]] = {}
    for event in events:
        by_group.setdefault(event.group, []).append(event.status)
    assert set(by_group) == set(report.groups())
    for group, statuses in by_group.items():
        assert statuses == ["started", "passed" if report.groups()[group] else "failed"], group
    assert by_group["subnets"][-1] == "failed"
    subnets = [e for e in events if e.group == "subnets"]
    assert subnets[0].resource_ids == built.subnet_ids
    with pytest.raises(AttributeError):
        subnets[0].status = "passed"  # type: ignore[misc]


def test_concurrency_does_not_change_the_report(
    make_cloud: Make, clients: AwsClients, shared_aws: Any
) -> None:
    built = make_cloud(memorydb=True)
    shared_aws("ec2").revoke_security_group_ingress(
        GroupId=built.sg_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    serial = run(built.spec, clients, serial=True).to_dict()
    for _ in range(2):
        assert run(built.spec, clients).to_dict() == serial


@pytest.mark.parametrize("memorydb", [False, True], ids=["no-memorydb", "memorydb"])
def test_api_calls_do_not_grow_with_subnets(make_cloud: Make, memorydb: bool) -> None:
    clients = AwsClients(REGION)
    clients.account_id()  # asked once per AwsClients; keep it out of both counts
    counts = []
    for per_zone in (1, 2):
        built = make_cloud(memorydb=memorydb, subnets_per_az=per_zone)
        before = clients.calls()
        verify_cloud(built.spec, clients)
        calls = {k: v - before.get(k, 0) for k, v in clients.calls().items() if v - before.get(k, 0)}
        counts.append(sum(calls.values()))
        assert calls["ec2:DescribeSubnets"] == 1 and calls["ec2:DescribeSecurityGroups"] <= 2
        assert calls["ec2:DescribeRouteTables"] == 1 and calls["ec2:DescribeNetworkAcls"] == 1
        assert calls["efs:DescribeMountTargets"] == 1 and calls["ec2:DescribeNetworkInterfaces"] == 1
    assert counts[0] == counts[1] <= CALL_BUDGET


def test_a_verification_makes_each_api_call_once(make_cloud: Make) -> None:
    """Every read is shared by the checks that need it, however many run at once: no call is repeated with
    the same parameters, the caller's identity included (asked first, as `cloud verify` does)."""
    built = make_cloud(memorydb=True)
    trace = CallTrace(REGION)
    clients = trace.clients()
    clients.caller_identity()
    report = verify_cloud(built.spec, clients)
    assert report.passed and report.complete
    made = Counter(call.name for call in trace.calls)
    assert trace.repeated() == {}, trace.repeated()
    assert made["sts:GetCallerIdentity"] == 1 and made["sts:AssumeRole"] == 1
    assert made["iam:GetRole"] == 3  # the two roles and the stack's own role (CFN-2)
    assert sum(made.values()) == clients.call_count <= CALL_BUDGET


def test_a_server_error_leaves_the_rule_not_checked_and_the_run_incomplete(make_cloud: Make) -> None:
    built = make_cloud(efs=False)
    clients = refusing_clients("ec2.DescribeVpcAttribute", code="InternalError", status=500)
    report = verify_cloud(built.spec, clients)
    (finding,) = [f for f in report.findings if f.check == "VPC-3"]
    assert not finding.checked and not finding.fails(strict=True)
    assert "ec2:DescribeVpcAttribute" in finding.message and "InternalError" in finding.message
    assert finding.remediation and "run the verification again" in finding.remediation
    assert failed_checks(report) == set()  # no rule failed ...
    assert not report.complete and not report.passed  # ... yet the run cannot pass
    assert report.group_statuses()["vpc"] == "NOT CHECKED"
    assert report.to_dict()["complete"] is False


def test_throttling_is_not_mistaken_for_a_missing_permission(make_cloud: Make) -> None:
    built = make_cloud(efs=False)
    report = verify_cloud(built.spec, refusing_clients("ec2.DescribeSubnets", code="Throttling", status=400))
    unchecked = {f.check for f in report.not_checked()}
    assert {"SUB-2", "SUB-6"} <= unchecked
    assert failed_checks(report) == set()
    assert all("permission" not in (f.remediation or "").lower() for f in report.not_checked())
    assert all("throttled the request" in (f.remediation or "") for f in report.not_checked())


def test_denied_describe_leaves_the_checks_that_need_it_not_checked(make_cloud: Make) -> None:
    built = make_cloud(efs=False)
    report = verify_cloud(built.spec, refusing_clients("ec2.DescribeSubnets", code="UnauthorizedOperation"))
    unchecked = {f.check for f in report.not_checked()}
    assert {"SUB-2", "SUB-6"} <= unchecked and not any(c.startswith(("IAM", "S3")) for c in unchecked)
    sub2 = [f for f in report.findings if f.check == "SUB-2"]
    assert all("UnauthorizedOperation" in f.message for f in sub2)
    assert all("Allow ec2:DescribeSubnets" in (f.remediation or "") for f in sub2)
    assert not report.passed


def test_a_cloud_with_nothing_recorded_reports_instead_of_crashing(clients: AwsClients) -> None:
    spec = CloudSpec(id="cld_00000000000000000000", name="empty", region=REGION)
    report = verify_cloud(spec, clients)
    assert {"VPC-1", "SUB-1", "SG-1", "IAM-1", "S3-1", "CFN-1"} <= failed_checks(report)
    assert not report.passed
    assert report.complete


def test_importing_the_package_does_not_load_boto3() -> None:
    code = "import sys, cloudplane.verify; print('boto3' in sys.modules or 'botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
