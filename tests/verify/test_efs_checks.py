"""EFS-1..6: one scenario per rule, each breaking one thing of the cloud's file system."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks
from tests.verify.builders import BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


def test_efs1_file_system_missing(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud()
    report = verify(built.with_resources(efs_id="fs-00000000"))
    assert_fails(report, "EFS-1", Severity.ERROR, "fs-00000000")
    assert [f.check for f in report.findings if f.resource == "efs"] == ["EFS-1"]


def test_efs2_no_mount_targets(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud()
    for target in built.mount_target_ids:
        shared_aws("efs").delete_mount_target(MountTargetId=target)
    report = verify(built.with_resources(efs_mount_target_ips=[]))
    assert_fails(report, "EFS-2", Severity.ERROR, str(built.fs_id))
    assert failed_checks(report) == {"EFS-2"}


def test_efs3_zone_without_mount_target(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud()
    shared_aws("efs").delete_mount_target(MountTargetId=built.mount_target_ids[1])
    report = verify(built.with_resources(efs_mount_target_ips=[]))
    (finding,) = assert_fails(report, "EFS-3", Severity.WARNING, built.subnet_ids[1])
    assert finding.resource_id == built.subnet_ids[1]
    assert failed_checks(report) == {"EFS-3"}


def _group(ec2: Any, built: BuiltCloud, name: str, permissions: list[dict[str, Any]]) -> str:
    group = ec2.create_security_group(GroupName=name, Description=name, VpcId=built.vpc_id)["GroupId"]
    if permissions:
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=permissions)
    return str(group)


def test_efs4_mount_target_group_without_nfs(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud()
    ec2 = shared_aws("ec2")
    https_only = [
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "UserIdGroupPairs": [{"GroupId": built.sg_id}]}
    ]
    group = _group(ec2, built, "mount-target", https_only)
    target = built.mount_target_ids[2]
    shared_aws("efs").modify_mount_target_security_groups(MountTargetId=target, SecurityGroups=[group])
    report = verify(built.spec)
    (finding,) = assert_fails(report, "EFS-4", Severity.ERROR, target, group)
    assert "2049" in finding.message and finding.resource_id == target
    assert failed_checks(report) == {"EFS-4"}


@pytest.mark.parametrize("source", ["group", "vpc-cidr"])
def test_efs4_nfs_rule_from_the_group_or_the_vpc_passes(
    make_cloud: Make, verify: Verify, shared_aws: Any, source: str
) -> None:
    built = make_cloud()
    nfs = {"IpProtocol": "tcp", "FromPort": 2049, "ToPort": 2049}
    if source == "group":
        nfs["UserIdGroupPairs"] = [{"GroupId": built.sg_id}]
    else:
        nfs["IpRanges"] = [{"CidrIp": "10.0.0.0/8"}]
    group = _group(shared_aws("ec2"), built, "nfs", [nfs])
    for target in built.mount_target_ids:
        shared_aws("efs").modify_mount_target_security_groups(MountTargetId=target, SecurityGroups=[group])
    assert_passes(verify(built.spec), "EFS-4")


def test_efs5_registered_ip_is_gone(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud()
    stale = "10.0.7.77"
    report = verify(
        built.with_resources(efs_mount_target_ips=[*built.spec.resources.efs_mount_target_ips, stale])
    )
    (finding,) = assert_fails(report, "EFS-5", Severity.ERROR, stale)
    assert all(ip in finding.message for ip in built.spec.resources.efs_mount_target_ips)


def test_efs6_backups_off(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs_backup=False)
    report = verify(built.spec)
    assert_fails(report, "EFS-6", Severity.WARNING, str(built.fs_id))
    assert report.passed and failed_checks(report) == {"EFS-6"}
