"""The seed's "apply, register, re-apply with the cloud id" flow, through the real CLI and CloudFormation."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import policies
from cloudplane.naming import TAG_KEY
from tests.byo.stacks import apply, outputs, print_template
from tests.helpers import cloudplane


def _physical_ids(aws: Callable[..., Any], stack_name: str) -> dict[str, str]:
    resources = aws("cloudformation").describe_stack_resources(StackName=stack_name)["StackResources"]
    return {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}


def _steady_state_sids(aws: Callable[..., Any], role_arn: str) -> list[str]:
    role_name = role_arn.rsplit("/", 1)[1]
    document = aws("iam").get_role_policy(RoleName=role_name, PolicyName=policies.STEADY_STATE_POLICY_NAME)[
        "PolicyDocument"
    ]
    document = json.loads(document) if isinstance(document, str) else document
    return [statement["Sid"] for statement in document["Statement"]]


def _zone_ids(body: str) -> list[str]:
    resources = json.loads(body)["Resources"]
    return [
        r["Properties"]["AvailabilityZoneId"] for r in resources.values() if r["Type"] == "AWS::EC2::Subnet"
    ]


@pytest.mark.parametrize(
    "flags",
    [(), ("--private-network",), ("--enable-head-node-fault-tolerance", "--region", "us-west-2")],
    ids=["public", "private", "memorydb"],
)
def test_apply_register_reapply_with_the_cloud_id(aws: Callable[..., Any], flags: tuple[str, ...]) -> None:
    body = print_template(*flags, "--name", "my-cloud")
    stack = apply(aws, body, "my-cloud")
    first = outputs(stack)

    register = cloudplane(*shlex.split(first["RegisterCommand"])[1:], "--yes")
    assert register.exit_code == 0, register.stderr + register.stdout
    cloud = cloudplane("cloud", "get", "--name", "my-cloud", "--output", "json").json()
    assert cloud["external_id"] == first["ExternalId"]
    assert cloud["networking"] == ("private" if "--private-network" in flags else "public")
    assert cloudplane("cloud", "verify", "--id", cloud["id"]).exit_code == 0

    # Re-apply: the same stack, updated with the template that knows the cloud id.
    assert "StartInstances" in _steady_state_sids(aws, first["ControlPlaneRoleArn"])
    before = _physical_ids(aws, "my-cloud")
    again = print_template("--cloud-id", cloud["id"])
    assert _zone_ids(again) == _zone_ids(body)  # the same zones, subnet by subnet
    stack = apply(aws, again, "my-cloud", update=True)
    assert _physical_ids(aws, "my-cloud") == before  # nothing was replaced
    second = outputs(stack)
    assert second["ExternalId"] == first["ExternalId"] and second["CloudId"] == cloud["id"]

    sids = _steady_state_sids(aws, first["ControlPlaneRoleArn"])
    assert "StartInstances" not in sids and "StopInstances" not in sids
    assert {"DenyTaggingOnOtherInstances", "RestrictedInstanceStart", "RestrictedInstanceStop"} <= set(sids)
    tagged = aws("ec2").describe_vpcs(Filters=[{"Name": f"tag:{TAG_KEY}", "Values": [cloud["id"]]}])["Vpcs"]
    assert [v["VpcId"] for v in tagged] == [first["VpcId"]]

    verify = cloudplane("cloud", "verify", "--id", cloud["id"], "--output", "json")
    assert verify.exit_code == 0, verify.stdout
    assert verify.json()["passed"] is True
