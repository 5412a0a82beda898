"""A failed stack update rolls back as on AWS, through UpdateStack and ExecuteChangeSet alike (cfn_update_rollback)."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudplane.aws.template import ManagedCloudOptions, managed_cloud_template, stack_parameters
from cloudplane.sandbox.server import SandboxServer
from tests.sandbox.templates import events, outputs, ref, stack, subnet, tags, template, vpc

ZONES = ["us-east-1a", "us-east-1c"]  # zones where the sandbox's MemoryDB runs


def _stack_statuses(cfn: Any, name: str, since: int = 0) -> list[str]:
    return [
        e["ResourceStatus"]
        for e in events(cfn, name)[since:]
        if e["ResourceType"] == "AWS::CloudFormation::Stack"
    ]


def _resource_events(cfn: Any, name: str, since: int = 0) -> list[tuple[str, str]]:
    return [
        (e["LogicalResourceId"], e["ResourceStatus"])
        for e in events(cfn, name)[since:]
        if e["ResourceType"] != "AWS::CloudFormation::Stack"
    ]


def _physical_ids(cfn: Any, name: str) -> dict[str, str]:
    resources = cfn.describe_stack_resources(StackName=name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def _template(cfn: Any, name: str) -> Any:
    body = cfn.get_template(StackName=name)["TemplateBody"]  # botocore decodes a JSON body
    return json.loads(body) if isinstance(body, str) else json.loads(json.dumps(body))


def _vpc_tags(ec2: Any, vpc_id: str) -> dict[str, str]:
    vpc_ = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    return {t["Key"]: t["Value"] for t in vpc_.get("Tags", [])}


def _network(name_tag: str, *extra: str) -> dict[str, Any]:
    """A VPC named by a parameter, a security group in it, and the `extra` resources."""
    network = vpc("c1")
    network["Properties"]["Tags"] = [*tags("c1"), {"Key": "Name", "Value": {"Ref": "VpcName"}}]
    resources: dict[str, Any] = {
        "Vpc": network,
        "Group": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "nodes", "VpcId": ref("Vpc"), "Tags": tags("c1", name_tag)},
        },
    }
    if "Gateway" in extra:
        resources["Gateway"] = {"Type": "AWS::EC2::InternetGateway", "Properties": {"Tags": tags("c1")}}
    if "Subnet" in extra:
        resources["Subnet"] = subnet("c1", "10.0.0.0/24", "us-east-1a")
    body = json.loads(template(resources, {"VpcId": ref("Vpc"), "GroupId": ref("Group")}))
    body["Parameters"] = {"VpcName": {"Type": "String"}}
    return body


def _update(cfn: Any, name: str, body: dict[str, Any], vpc_name: str) -> None:
    cfn.update_stack(
        StackName=name,
        TemplateBody=json.dumps(body),
        Parameters=[{"ParameterKey": "VpcName", "ParameterValue": vpc_name}],
    )


def test_a_failed_update_restores_the_stack_and_a_later_update_and_delete_work(
    client: Any, sandbox: SandboxServer
) -> None:
    cfn, ec2 = client("cloudformation"), client("ec2")
    before = _network("group-v1", "Gateway")
    cfn.create_stack(
        StackName="net",
        TemplateBody=json.dumps(before),
        Parameters=[{"ParameterKey": "VpcName", "ParameterValue": "blue"}],
        Tags=[{"Key": "owner", "Value": "c1"}],
    )
    ids, outs, seen = _physical_ids(cfn, "net"), outputs(cfn, "net"), len(events(cfn, "net"))

    # The new template renames the VPC (parameter) and the group (tags), drops the gateway and adds a
    # subnet, which fails.
    sandbox.fail_next("AWS::EC2::Subnet", "Subnet quota reached")
    _update(cfn, "net", _network("group-v2", "Subnet"), "green")

    assert stack(cfn, "net")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert _stack_statuses(cfn, "net", seen) == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    rollback = next(e for e in events(cfn, "net") if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS")
    assert rollback["ResourceStatusReason"] == "The following resource(s) failed to create: [Subnet]."
    failed = [e for e in events(cfn, "net")[seen:] if e["ResourceStatus"].endswith("_FAILED")]
    assert [(e["LogicalResourceId"], e["ResourceStatus"], e["ResourceStatusReason"]) for e in failed] == [
        ("Subnet", "CREATE_FAILED", "Subnet quota reached")
    ]
    # Updated, then put back; the gateway was never touched (its removal waits for the cleanup phase).
    assert _resource_events(cfn, "net", seen).count(("Vpc", "UPDATE_COMPLETE")) == 2
    assert not [e for e in _resource_events(cfn, "net", seen) if e[0] == "Gateway"]
    assert _vpc_tags(ec2, ids["Vpc"])["Name"] == "blue"
    group = ec2.describe_security_groups(GroupIds=[ids["Group"]])["SecurityGroups"][0]
    assert {"Key": "Name", "Value": "group-v1"} in group["Tags"]
    assert ec2.describe_internet_gateways(InternetGatewayIds=[ids["Gateway"]])["InternetGateways"]
    assert not [s for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == ids["Vpc"]]
    # The stack is what it was: resources, template, parameters, tags, outputs.
    assert _physical_ids(cfn, "net") == ids
    assert _template(cfn, "net") == before
    described = stack(cfn, "net")
    assert described["Parameters"] == [{"ParameterKey": "VpcName", "ParameterValue": "blue"}]
    assert described["Tags"] == [{"Key": "owner", "Value": "c1"}]
    assert outputs(cfn, "net") == outs

    # Retried once the cause is gone: the subnet is added, the gateway removed in the cleanup phase.
    seen = len(events(cfn, "net"))
    _update(cfn, "net", _network("group-v2", "Subnet"), "green")
    assert _stack_statuses(cfn, "net", seen) == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_COMPLETE",
    ]
    assert ("Gateway", "DELETE_COMPLETE") in _resource_events(cfn, "net", seen)
    assert set(_physical_ids(cfn, "net")) == {"Vpc", "Group", "Subnet"}
    assert not ec2.describe_internet_gateways(
        Filters=[{"Name": "internet-gateway-id", "Values": [ids["Gateway"]]}]
    )["InternetGateways"]
    assert _vpc_tags(ec2, ids["Vpc"])["Name"] == "green"

    cfn.delete_stack(StackName="net")
    assert not [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]]


def test_an_update_of_an_existing_resource_that_fails_puts_back_what_was_already_changed(
    client: Any, moto_api: Any
) -> None:
    cfn, ec2 = client("cloudformation"), client("ec2")
    cfn.create_stack(
        StackName="net",
        TemplateBody=json.dumps(_network("group-v1")),
        Parameters=[{"ParameterKey": "VpcName", "ParameterValue": "blue"}],
    )
    ids, seen = _physical_ids(cfn, "net"), len(events(cfn, "net"))
    rule = {"ResourceType": "AWS::EC2::SecurityGroup", "Reason": "Group is locked", "Operation": "update"}
    moto_api("POST", "cloudplane/fail-next", rule)
    assert moto_api("GET", "cloudplane/fail-next") == [rule]

    _update(cfn, "net", _network("group-v2"), "green")

    assert stack(cfn, "net")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    reason = next(e for e in events(cfn, "net") if e["ResourceStatus"] == "UPDATE_ROLLBACK_IN_PROGRESS")
    assert reason["ResourceStatusReason"] == "The following resource(s) failed to update: [Group]."
    assert _resource_events(cfn, "net", seen) == [
        ("Vpc", "UPDATE_IN_PROGRESS"),
        ("Vpc", "UPDATE_COMPLETE"),
        ("Group", "UPDATE_IN_PROGRESS"),
        ("Group", "UPDATE_FAILED"),
        ("Vpc", "UPDATE_IN_PROGRESS"),
        ("Vpc", "UPDATE_COMPLETE"),
        ("Group", "UPDATE_IN_PROGRESS"),
        ("Group", "UPDATE_COMPLETE"),
    ]
    failed = next(e for e in events(cfn, "net") if e["ResourceStatus"] == "UPDATE_FAILED")
    assert failed["ResourceStatusReason"] == "Group is locked"
    assert _vpc_tags(ec2, ids["Vpc"])["Name"] == "blue"
    assert stack(cfn, "net")["Parameters"] == [{"ParameterKey": "VpcName", "ParameterValue": "blue"}]
    assert moto_api("GET", "cloudplane/fail-next") == []


def test_updates_refused_before_anything_changes(client: Any, sandbox: SandboxServer) -> None:
    cfn = client("cloudformation")
    cfn.create_stack(
        StackName="net",
        TemplateBody=json.dumps(_network("group-v1")),
        Parameters=[{"ParameterKey": "VpcName", "ParameterValue": "blue"}],
    )
    seen = len(events(cfn, "net"))
    # A new parameter without a value, and a reference to nothing: ValidationError, the stack untouched.
    needs_owner = _network("group-v2")
    needs_owner["Parameters"]["Owner"] = {"Type": "String"}
    with pytest.raises(ClientError) as missing:
        _update(cfn, "net", needs_owner, "green")
    assert missing.value.response["Error"]["Code"] == "ValidationError"
    assert "Owner" in missing.value.response["Error"]["Message"]
    broken = _network("group-v2")
    broken["Resources"]["Group"]["Properties"]["VpcId"] = ref("NoSuchVpc")
    with pytest.raises(ClientError) as unresolved:
        _update(cfn, "net", broken, "green")
    assert "NoSuchVpc" in unresolved.value.response["Error"]["Message"]
    assert stack(cfn, "net")["StackStatus"] == "CREATE_COMPLETE"
    assert len(events(cfn, "net")) == seen

    # Rolled back, it can be updated again (above); a rolled-back create cannot.
    sandbox.fail_next("AWS::EC2::VPC", "no VPC")
    cfn.create_stack(
        StackName="dead",
        TemplateBody=json.dumps(_network("group-v1")),
        Parameters=[{"ParameterKey": "VpcName", "ParameterValue": "blue"}],
    )
    with pytest.raises(ClientError) as refused:
        _update(cfn, "dead", _network("group-v2"), "green")
    assert "ROLLBACK_COMPLETE state and can not be updated" in refused.value.response["Error"]["Message"]


def test_managed_cloud_gaining_memorydb_by_change_set_rolls_back_whole(
    client: Any, sandbox: SandboxServer
) -> None:
    cfn, mdb = client("cloudformation"), client("memorydb")
    options = ManagedCloudOptions(
        cloud_id="cld_rollback1",
        external_id="cld_rollback1-ext",
        controlplane_principal="arn:aws:iam::123456789012:root",
        availability_zones=tuple(ZONES),
    )
    first = json.dumps(managed_cloud_template(options))
    parameters = stack_parameters(options)
    stack_id = cfn.create_stack(
        StackName="cloud",
        TemplateBody=first,
        Parameters=parameters,
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Tags=[{"Key": "cloudplane-cloud-id", "Value": options.cloud_id}],
    )["StackId"]
    ids, outs = _physical_ids(cfn, "cloud"), outputs(cfn, "cloud")
    with_memorydb = json.dumps(
        managed_cloud_template(dataclasses.replace(options, head_node_fault_tolerance=True))
    )

    def change_set(name: str) -> str:
        created = cfn.create_change_set(
            StackName=stack_id,
            ChangeSetName=name,
            ChangeSetType="UPDATE",
            TemplateBody=with_memorydb,
            Parameters=parameters,
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )
        cfn.get_waiter("change_set_create_complete").wait(
            ChangeSetName=created["Id"], WaiterConfig={"Delay": 1, "MaxAttempts": 5}
        )
        return str(created["Id"])

    first_try = change_set("add-memorydb")
    changes = cfn.describe_change_set(ChangeSetName=first_try)["Changes"]
    assert {(c["ResourceChange"]["Action"], c["ResourceChange"]["LogicalResourceId"]) for c in changes} == {
        ("Add", "MemoryDbParameterGroup"),
        ("Add", "MemoryDbSubnetGroup"),
        ("Add", "MemoryDbCluster"),
    }
    sandbox.fail_next("AWS::MemoryDB::Cluster", "Cannot create cluster: node quota reached")
    cfn.execute_change_set(ChangeSetName=first_try)

    described = stack(cfn, "cloud")
    assert described["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert cfn.describe_change_set(ChangeSetName=first_try)["ExecutionStatus"] == "EXECUTE_FAILED"
    failed = [e for e in events(cfn, "cloud") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert [(e["LogicalResourceId"], e["ResourceStatusReason"]) for e in failed] == [
        ("MemoryDbCluster", "Cannot create cluster: node quota reached")
    ]
    deleted = {lid for lid, status in _resource_events(cfn, "cloud") if status == "DELETE_COMPLETE"}
    assert deleted == {"MemoryDbParameterGroup", "MemoryDbSubnetGroup"}
    assert mdb.describe_clusters()["Clusters"] == []
    assert options.memorydb_name not in {g["Name"] for g in mdb.describe_subnet_groups()["SubnetGroups"]}
    assert _physical_ids(cfn, "cloud") == ids
    assert outputs(cfn, "cloud") == outs
    assert _template(cfn, stack_id) == json.loads(first)
    assert described["Tags"] == [{"Key": "cloudplane-cloud-id", "Value": options.cloud_id}]

    # The same change, asked again, goes through.
    cfn.execute_change_set(ChangeSetName=change_set("add-memorydb-again"))
    assert stack(cfn, "cloud")["StackStatus"] == "UPDATE_COMPLETE"
    assert [c["Name"] for c in mdb.describe_clusters()["Clusters"]] == [options.memorydb_name]
    assert outputs(cfn, "cloud").items() >= outs.items()

    cfn.delete_stack(StackName=stack_id)
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    assert mdb.describe_clusters()["Clusters"] == []
