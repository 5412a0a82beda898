"""SG-1..6: one scenario per rule, on the rules of all the cloud's groups taken together."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks, failures
from tests.verify.builders import BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]

SELF_ALL = "self-all"


def _permission(kind: str, sg_id: str) -> dict[str, Any]:
    if kind == SELF_ALL:
        return {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg_id}]}
    if kind == "all-out":
        return {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    port = int(kind)
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


@pytest.mark.parametrize(
    ("check", "severity", "egress", "rule"),
    [
        ("SG-2", Severity.ERROR, False, "443"),
        ("SG-3", Severity.INFO, False, "22"),
        ("SG-4", Severity.ERROR, False, SELF_ALL),
        ("SG-5", Severity.ERROR, True, "all-out"),
        ("SG-6", Severity.WARNING, True, SELF_ALL),
    ],
    ids=["sg2-https", "sg3-ssh", "sg4-self-in", "sg5-all-out", "sg6-self-out"],
)
def test_revoked_rule_fails_its_check(
    make_cloud: Make, verify: Verify, shared_aws: Any, check: str, severity: Severity, egress: bool, rule: str
) -> None:
    built = make_cloud(efs=False)
    ec2 = shared_aws("ec2")
    revoke = ec2.revoke_security_group_egress if egress else ec2.revoke_security_group_ingress
    revoke(GroupId=built.sg_id, IpPermissions=[_permission(rule, built.sg_id)])
    report = verify(built.spec)
    (finding,) = assert_fails(report, check, severity, built.sg_id)
    assert finding.remediation and built.sg_id in finding.remediation
    assert failed_checks(report) == ({check} if severity is not Severity.INFO else set())
    assert report.passed is (severity is not Severity.ERROR)


def test_sg1_group_of_another_vpc_and_missing_group(
    make_cloud: Make, verify: Verify, shared_aws: Any
) -> None:
    built = make_cloud(efs=False)
    ec2 = shared_aws("ec2")
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    foreign = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [default_vpc]}])[
        "SecurityGroups"
    ][0]
    ghost = "sg-0123456789abcdef0"
    report = verify(built.with_resources(security_group_ids=[built.sg_id, foreign["GroupId"], ghost]))
    found = assert_fails(report, "SG-1", Severity.ERROR, foreign["GroupId"], ghost)
    assert {f.resource_id for f in found} == {foreign["GroupId"], ghost}


def test_rules_are_judged_across_all_groups(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    """443 on a second group of the cloud, and a self rule naming that other group, both count."""
    built = make_cloud(efs=False)
    ec2 = shared_aws("ec2")
    other = ec2.create_security_group(GroupName="second", Description="second", VpcId=built.vpc_id)["GroupId"]
    ec2.revoke_security_group_ingress(GroupId=built.sg_id, IpPermissions=[_permission("443", built.sg_id)])
    ec2.revoke_security_group_ingress(GroupId=built.sg_id, IpPermissions=[_permission(SELF_ALL, built.sg_id)])
    ec2.authorize_security_group_ingress(
        GroupId=other, IpPermissions=[_permission("443", other), _permission(SELF_ALL, built.sg_id)]
    )
    report = verify(built.with_resources(security_group_ids=[built.sg_id, other]))
    for check in ("SG-1", "SG-2", "SG-4", "SG-5", "SG-6"):
        assert_passes(report, check)
    # The same rules on a group outside the cloud do not count.
    alone = verify(built.spec)
    assert failures(alone, "SG-2") and failures(alone, "SG-4")
