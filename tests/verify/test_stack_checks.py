"""CFN-1..2: the managed cloud's stack, its state and tag, and drift by out-of-band deletion."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.naming import TAG_KEY
from cloudplane.verify.report import Report, Severity
from tests.verify.asserts import assert_fails, assert_passes, failed_checks
from tests.verify.builders import STACK_TEMPLATE, BuiltCloud

Make = Callable[..., BuiltCloud]
Verify = Callable[..., Report]


def _create(cfn: Any, built: BuiltCloud, name: str, tags: list[dict[str, str]]) -> str:
    return str(
        cfn.create_stack(
            StackName=name,
            TemplateBody=json.dumps(STACK_TEMPLATE),
            Parameters=[{"ParameterKey": "VpcId", "ParameterValue": built.vpc_id}],
            Tags=tags,
        )["StackId"]
    )


def test_cfn1_stack_missing(make_cloud: Make, verify: Verify) -> None:
    built = make_cloud(efs=False)
    ghost = "cloudplane-no-such-stack"
    report = verify(built.with_resources(cloudformation_stack_id=ghost))
    assert_fails(report, "CFN-1", Severity.ERROR, ghost)
    assert [f.check for f in report.findings if f.resource == "cloudformation stack"] == ["CFN-1"]


def test_cfn1_stack_of_another_cloud(make_cloud: Make, verify: Verify, shared_aws: Any) -> None:
    built = make_cloud(efs=False)
    other = _create(
        shared_aws("cloudformation"),
        built,
        f"{built.cloud_id.replace('_', '-')}-other",
        [{"Key": TAG_KEY, "Value": "cld_someoneelse000000000"}],
    )
    report = verify(built.with_resources(cloudformation_stack_id=other))
    (finding,) = assert_fails(report, "CFN-1", Severity.ERROR, other, "cld_someoneelse000000000")
    assert built.cloud_id in finding.message


def test_cfn1_rolled_back_stack(make_cloud: Make, verify: Verify, shared_aws: Any, sandbox: Any) -> None:
    built = make_cloud(efs=False)
    cfn = shared_aws("cloudformation")
    sandbox.fail_next("AWS::S3::Bucket", "bucket refused")
    name = f"{built.cloud_id.replace('_', '-')}-failed"
    try:
        stack = _create(cfn, built, name, [{"Key": TAG_KEY, "Value": built.cloud_id}])
    except cfn.exceptions.ClientError:
        stack = name
    status = cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]
    report = verify(built.with_resources(cloudformation_stack_id=stack))
    assert_fails(report, "CFN-1", Severity.ERROR, stack, status)


def test_cfn1_update_rolled_back_stack_is_usable(
    make_cloud: Make, verify: Verify, shared_aws: Any, sandbox: Any
) -> None:
    built = make_cloud(efs=False)
    cfn = shared_aws("cloudformation")
    grown = copy.deepcopy(STACK_TEMPLATE)
    grown["Resources"]["SecondGroup"] = copy.deepcopy(grown["Resources"]["ExtraGroup"])
    sandbox.fail_next("AWS::EC2::SecurityGroup", "security group limit reached", logical_id="SecondGroup")
    cfn.update_stack(
        StackName=built.stack_id,
        TemplateBody=json.dumps(grown),
        Parameters=[{"ParameterKey": "VpcId", "UsePreviousValue": True}],
        Capabilities=["CAPABILITY_IAM"],
    )
    assert (
        cfn.describe_stacks(StackName=built.stack_id)["Stacks"][0]["StackStatus"]
        == "UPDATE_ROLLBACK_COMPLETE"
    )

    report = verify(built.spec)

    assert_passes(report, "CFN-1")
    (finding,) = [f for f in report.findings if f.check == "CFN-1"]
    assert "UPDATE_ROLLBACK_COMPLETE" in finding.message and "rolled back" in finding.message
    assert "previous configuration" in finding.message and "`cloudplane cloud update`" in finding.message
    assert not {"CFN-1", "CFN-2"} & failed_checks(report)


@pytest.mark.parametrize("logical_id", ["ExtraGroup", "ExtraRole", "ExtraBucket"])
def test_cfn2_resource_deleted_out_of_band(
    make_cloud: Make, verify: Verify, shared_aws: Any, logical_id: str
) -> None:
    built = make_cloud(efs=False)
    physical = built.stack_resources[logical_id]
    if logical_id == "ExtraGroup":
        shared_aws("ec2").delete_security_group(GroupId=physical)
    elif logical_id == "ExtraRole":
        shared_aws("iam").delete_role(RoleName=physical)
    else:
        shared_aws("s3").delete_bucket(Bucket=physical)
    report = verify(built.spec)
    (finding,) = assert_fails(report, "CFN-2", Severity.WARNING, physical, logical_id)
    assert finding.resource_id == physical
    assert report.passed and failed_checks(report) == {"CFN-2"}
