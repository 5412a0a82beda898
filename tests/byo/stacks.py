"""Applying a customer-defined template in the sandbox the way a customer would: plain CloudFormation calls."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cloudplane.cloud import CUSTOMER_DEFINED, CloudResources, CloudSpec
from cloudplane.clouds.outputs import resources_from_outputs
from tests.helpers import cloudplane

PRINCIPAL = "arn:aws:iam::123456789012:root"


def print_template(*flags: str) -> str:
    run = cloudplane("cloud", "template", "--customer-defined", *flags)
    assert run.exit_code == 0, run.stderr
    return run.stdout


def wait(cfn: Any, stack_id: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        if not stack["StackStatus"].endswith("_IN_PROGRESS") or time.monotonic() > deadline:
            return stack
        time.sleep(0.1)


def failures(cfn: Any, stack_id: str) -> list[str]:
    events = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason')}"
        for e in events
        if "FAILED" in e["ResourceStatus"]
    ]


def apply(
    aws: Callable[..., Any],
    body: str,
    stack_name: str = "byo",
    *,
    update: bool = False,
    parameters: dict[str, str] | None = None,
    region: str = "us-west-2",
) -> dict[str, Any]:
    """create_stack (or update_stack) with the template in TemplateBody, as `aws cloudformation create-stack
    --template-body file://...` sends it, and wait; the finished stack, asserted *_COMPLETE."""
    cfn = aws("cloudformation", region_name=region)
    call = cfn.update_stack if update else cfn.create_stack
    stack_id = call(
        StackName=stack_name,
        TemplateBody=body,
        Capabilities=["CAPABILITY_NAMED_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in (parameters or {}).items()],
    )["StackId"]
    stack = wait(cfn, stack_id)
    expected = "UPDATE_COMPLETE" if update else "CREATE_COMPLETE"
    assert stack["StackStatus"] == expected, failures(cfn, stack_id)
    return stack


def stack_key(stack: dict[str, Any]) -> str:
    """The first group of the stack id's UUID, which the template names things after."""
    return stack["StackId"].rsplit("/", 1)[1].split("-")[0]


def outputs(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def spec_from_stack(stack: dict[str, Any], networking: str) -> CloudSpec:
    """The cloud as `cloud register` would record it from the stack's outputs."""
    found = outputs(stack)
    resources = resources_from_outputs(found, stack["StackId"])
    resources["cloudformation_stack_id"] = None  # a customer-defined cloud has no stack of cloudplane's
    return CloudSpec(
        id="cld_byoaaaaaaaaaaaaaaaaa",
        name=found["CloudName"],
        region="us-west-2",
        deployment=CUSTOMER_DEFINED,
        networking=networking,
        external_id=found["ExternalId"],
        resources=CloudResources.from_dict(resources),
        controlplane_principal=PRINCIPAL,
    )
