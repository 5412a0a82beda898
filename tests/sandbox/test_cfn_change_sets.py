"""UPDATE change sets list, refuse and run changes as CloudFormation does (cfn_change_sets, cfn_change_diff)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sandbox.templates import events, getatt, ref, stack, subnet, tags, vpc

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to create a change set."
)


def _cloud() -> dict[str, Any]:
    """A VPC with a subnet in the zone of a parameter, a group, a mount target, a bucket and a role."""
    resources: dict[str, Any] = {
        "Vpc": vpc("c1"),
        "Subnet": subnet("c1", "10.0.0.0/24", ref("Zone")),
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "nodes", "VpcId": ref("Vpc"), "Tags": tags("c1")},
        },
        "FileSystem": {"Type": "AWS::EFS::FileSystem", "Properties": {"Encrypted": True}},
        "MountTarget": {
            "Type": "AWS::EFS::MountTarget",
            "Properties": {
                "FileSystemId": ref("FileSystem"),
                "SubnetId": ref("Subnet"),
                "SecurityGroups": [getatt("Group", "GroupId")],
            },
        },
        "Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "cs-bucket-c1"}},
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "cs-role-c1",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
            },
        },
    }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {"Zone": {"Type": "String"}},
        "Resources": resources,
        "Outputs": {"VpcId": {"Value": ref("Vpc")}},
    }


def _zone(zone: str) -> list[dict[str, str]]:
    return [{"ParameterKey": "Zone", "ParameterValue": zone}]


@pytest.fixture
def cfn(client: Any) -> Any:
    cfn = client("cloudformation")
    cfn.create_stack(
        StackName="cs",
        TemplateBody=json.dumps(_cloud()),
        Parameters=_zone("us-east-1a"),
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Tags=[{"Key": "cloudplane-cloud-id", "Value": "c1"}],
    )
    return cfn


def _change_set(
    cfn: Any, body: dict[str, Any] | str, zone: str = "us-east-1a", name: str = "next"
) -> dict[str, Any]:
    created = cfn.create_change_set(
        StackName="cs",
        ChangeSetName=name,
        ChangeSetType="UPDATE",
        TemplateBody=body if isinstance(body, str) else json.dumps(body),
        Parameters=_zone(zone),
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    return dict(cfn.describe_change_set(ChangeSetName=name, StackName="cs"), Id=created["Id"])


def _summary(described: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    return {
        c["ResourceChange"]["LogicalResourceId"]: (
            c["ResourceChange"]["Action"],
            c["ResourceChange"].get("Replacement"),
        )
        for c in described["Changes"]
    }


def _change(described: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return next(
        c["ResourceChange"]
        for c in described["Changes"]
        if c["ResourceChange"]["LogicalResourceId"] == logical_id
    )


def test_changes_say_what_is_added_modified_replaced_and_removed(cfn: Any) -> None:
    body = _cloud()
    resources = body["Resources"]
    resources["Vpc"]["Properties"]["Tags"] = tags("c1", "renamed")  # in place
    resources["Group"]["Properties"]["GroupDescription"] = "cloud nodes"  # replaces the group
    resources["Gateway"] = {"Type": "AWS::EC2::InternetGateway", "Properties": {}}
    del resources["Role"]
    body["Description"] = "outputs and description alone are no resource change"

    described = _change_set(cfn, body, zone="us-east-1b")  # the subnet's zone moves: replaced

    assert described["Status"] == "CREATE_COMPLETE" and described["ExecutionStatus"] == "AVAILABLE"
    assert _summary(described) == {
        "Vpc": ("Modify", "False"),
        "Subnet": ("Modify", "True"),
        "Group": ("Modify", "True"),
        "Gateway": ("Add", None),
        "Role": ("Remove", None),
        # Refers to the replaced subnet (Ref, in a replacing property) and group (GetAtt): may be replaced.
        "MountTarget": ("Modify", "Conditional"),
    }  # the bucket and the file system did not change
    vpc_change = _change(described, "Vpc")
    assert vpc_change["Scope"] == ["Tags"]
    assert vpc_change["Details"][0]["Target"]["RequiresRecreation"] == "Never"
    subnet_change = _change(described, "Subnet")
    assert subnet_change["PhysicalResourceId"].startswith("subnet-")
    assert subnet_change["Scope"] == ["Properties"]
    assert subnet_change["Details"] == [
        {
            "Target": {
                "Attribute": "Properties",
                "Name": "AvailabilityZone",
                "RequiresRecreation": "Always",
                "AttributeChangeType": "Modify",
            },
            "Evaluation": "Static",
            "ChangeSource": "ParameterReference",
            "CausingEntity": "Zone",
        }
    ]
    group_detail = _change(described, "Group")["Details"][0]
    assert group_detail["Target"]["Name"] == "GroupDescription"
    assert group_detail["ChangeSource"] == "DirectModification"
    mount = _change(described, "MountTarget")
    assert {(d["Target"]["Name"], d["Evaluation"], d["CausingEntity"]) for d in mount["Details"]} == {
        ("SubnetId", "Dynamic", "Subnet"),
        ("SecurityGroups", "Dynamic", "Group"),
    }
    assert _change(described, "Role")["PolicyAction"] == "Delete"


def test_no_change_ends_failed_with_cloudformations_reason(cfn: Any) -> None:
    # Same content written otherwise, same parameters: nothing to change.
    described = _change_set(cfn, json.dumps(_cloud(), indent=4, sort_keys=True))
    assert (described["Status"], described["ExecutionStatus"]) == ("FAILED", "UNAVAILABLE")
    assert described["StatusReason"] == NO_CHANGES
    assert described["Changes"] == []
    with pytest.raises(ClientError) as refused:
        cfn.execute_change_set(ChangeSetName=described["Id"])
    assert refused.value.response["Error"]["Code"] == "InvalidChangeSetStatus"
    # UpdateStack still refuses the same request outright, as AWS does.
    with pytest.raises(ClientError) as same:
        cfn.update_stack(StackName="cs", TemplateBody=json.dumps(_cloud()), Parameters=_zone("us-east-1a"))
    assert same.value.response["Error"]["Message"] == "No updates are to be performed."

    # Only a parameter's value moves: the resources using it change.
    moved = _change_set(cfn, _cloud(), zone="us-east-1b", name="zone")
    assert moved["Status"] == "CREATE_COMPLETE"
    assert _summary(moved) == {"Subnet": ("Modify", "True"), "MountTarget": ("Modify", "Conditional")}

    assert {s["ChangeSetName"] for s in cfn.list_change_sets(StackName="cs")["Summaries"]} == {"next", "zone"}
    cfn.delete_change_set(ChangeSetName="next", StackName="cs")
    assert [s["ChangeSetName"] for s in cfn.list_change_sets(StackName="cs")["Summaries"]] == ["zone"]
    with pytest.raises(ClientError) as gone:
        cfn.describe_change_set(ChangeSetName="next", StackName="cs")
    assert gone.value.response["Error"]["Code"] == "ChangeSetNotFound"


def test_executing_runs_the_update_and_drops_the_other_change_sets(client: Any, cfn: Any) -> None:
    ec2 = client("ec2")
    other = copy.deepcopy(_cloud())
    other["Resources"]["Bucket"]["Properties"]["BucketName"] = "cs-bucket-other"
    other["Resources"]["Role"]["Properties"]["RoleName"] = "cs-role-other"
    cfn.create_stack(StackName="other", TemplateBody=json.dumps(other), Parameters=_zone("us-east-1a"))
    cfn.create_change_set(
        StackName="other", ChangeSetName="next", ChangeSetType="UPDATE",
        UsePreviousTemplate=True, Parameters=_zone("us-east-1b"),
    )  # fmt: skip
    body = _cloud()
    body["Resources"]["Vpc"]["Properties"]["Tags"] = tags("c1", "renamed")
    body["Resources"]["Gateway"] = {"Type": "AWS::EC2::InternetGateway", "Properties": {}}
    _change_set(cfn, body, name="spare")
    described = _change_set(cfn, body)
    seen = len(events(cfn, "cs"))

    cfn.execute_change_set(ChangeSetName="next", StackName="cs")

    assert stack(cfn, "cs")["StackStatus"] == "UPDATE_COMPLETE"
    assert cfn.describe_change_set(ChangeSetName=described["Id"])["ExecutionStatus"] == "EXECUTE_COMPLETE"
    updates = [(e["LogicalResourceId"], e["ResourceStatus"]) for e in events(cfn, "cs")[seen:]]
    assert ("Vpc", "UPDATE_COMPLETE") in updates and ("Gateway", "CREATE_COMPLETE") in updates
    assert ("cs", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS") in updates
    vpc_id = stack(cfn, "cs")["Outputs"][0]["OutputValue"]
    assert {"Key": "Name", "Value": "renamed"} in ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["Tags"]
    # The stack keeps its tags; its other change set is gone, another stack's of the same name is not.
    assert stack(cfn, "cs")["Tags"] == [{"Key": "cloudplane-cloud-id", "Value": "c1"}]
    assert [s["ChangeSetName"] for s in cfn.list_change_sets(StackName="cs")["Summaries"]] == ["next"]
    other_set = cfn.describe_change_set(ChangeSetName="next", StackName="other")
    assert other_set["ExecutionStatus"] == "AVAILABLE"
    assert _summary(other_set) == {"Subnet": ("Modify", "True"), "MountTarget": ("Modify", "Conditional")}


def test_a_stack_that_cannot_be_updated_gets_no_change_set(client: Any, sandbox: Any) -> None:
    cfn = client("cloudformation")
    sandbox.fail_next("AWS::S3::Bucket", "no bucket")
    cfn.create_stack(StackName="cs", TemplateBody=json.dumps(_cloud()), Parameters=_zone("us-east-1a"))
    assert stack(cfn, "cs")["StackStatus"] == "ROLLBACK_COMPLETE"
    with pytest.raises(ClientError) as refused:
        _change_set(cfn, _cloud(), zone="us-east-1b")
    assert "ROLLBACK_COMPLETE state and can not be updated" in refused.value.response["Error"]["Message"]
