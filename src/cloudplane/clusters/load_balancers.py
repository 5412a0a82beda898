"""A cloud's load-balancer stacks and certificates: how they are tagged, found and removed.

Services reach their nodes through an internet-facing (or, in a private cloud, internal) load balancer
built as a CloudFormation stack, with a certificate in ACM. Both carry the cloud's tag, so that they are
found through the tagging API, without listing every stack or certificate of the account, and removed
before the cloud's own stack (whose subnets and groups they use).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudplane.aws.errors import AwsError, Fault
from cloudplane.aws.session import AwsClients
from cloudplane.naming import TAG_KEY

PURPOSE_TAG_KEY = "cloudplane-purpose"
LOAD_BALANCER_PURPOSE = "load-balancer"
STACK_PREFIX = "cloudplane-lb-"
_GONE = ("DELETE_COMPLETE",)
_BUSY = ("DELETE_IN_PROGRESS",)


def stack_name(cloud_id: str, name: str) -> str:
    """A load-balancer stack's name: the cloud's id and the service's (or run's) name."""
    return f"{STACK_PREFIX}{cloud_id.replace('_', '-')}-{name}"[:128]


def tags(cloud_id: str) -> list[dict[str, str]]:
    """The tags of every load-balancer stack and certificate of the cloud."""
    return [{"Key": TAG_KEY, "Value": cloud_id}, {"Key": PURPOSE_TAG_KEY, "Value": LOAD_BALANCER_PURPOSE}]


@dataclass
class Cleanup:
    """Where removing a cloud's load balancers stands after one pass."""

    stacks: list[dict[str, Any]] = field(default_factory=list)
    certificates: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, str]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return not self.failed and all(
            item["status"] == "deleted" for item in self.stacks + self.certificates
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "done": self.done,
            "stacks": self.stacks,
            "certificates": self.certificates,
            "failed": self.failed,
        }


def tagged(clients: AwsClients, cloud_id: str) -> tuple[list[str], list[str]]:
    """The ARNs of the cloud's load-balancer stacks and certificates, from the tagging API."""
    api = clients.client("resourcegroupstaggingapi")
    stacks: list[str] = []
    certificates: list[str] = []
    pages = api.get_paginator("get_resources").paginate(
        TagFilters=[
            {"Key": TAG_KEY, "Values": [cloud_id]},
            {"Key": PURPOSE_TAG_KEY, "Values": [LOAD_BALANCER_PURPOSE]},
        ],
        ResourceTypeFilters=["cloudformation:stack", "acm:certificate"],
    )
    for page in pages:
        for resource in page.get("ResourceTagMappingList", []):
            arn = resource["ResourceARN"]
            (stacks if ":cloudformation:" in arn else certificates).append(arn)
    return stacks, certificates


def clean_up(clients: AwsClients, cloud_id: str) -> Cleanup:
    """One pass: start deleting every stack, and delete every certificate no stack uses any more.

    Never waits: stacks still being deleted are listed as such; call again until `done`."""
    result = Cleanup()
    stack_arns, certificate_arns = tagged(clients, cloud_id)
    cfn = clients.client("cloudformation")
    for arn in stack_arns:
        result.stacks.append(_step_stack(cfn, arn, result))
    stacks_left = any(item["status"] != "deleted" for item in result.stacks)
    acm = clients.client("acm")
    for arn in certificate_arns:
        if stacks_left:
            # A listener still holds it until its stack is gone: ACM would refuse (ResourceInUse).
            result.certificates.append({"arn": arn, "status": "waiting for its stack"})
            continue
        result.certificates.append(_delete_certificate(acm, arn, result))
    return result


def _step_stack(cfn: Any, arn: str, result: Cleanup) -> dict[str, Any]:
    name = arn.split("/")[1] if arn.count("/") >= 2 else arn
    try:
        stacks = cfn.describe_stacks(StackName=arn).get("Stacks", [])
    except AwsError as exc:
        if exc.fault is Fault.NOT_FOUND or "does not exist" in exc.detail:
            return {"name": name, "id": arn, "status": "deleted"}
        raise
    status = stacks[0]["StackStatus"] if stacks else "DELETE_COMPLETE"
    if status in _GONE:
        return {"name": name, "id": arn, "status": "deleted"}
    if status == "DELETE_FAILED":
        reason = stacks[0].get("StackStatusReason") or "no reason given"
        result.failed.append(
            {
                "resource": f"stack {name}",
                "reason": f"CloudFormation could not delete it: {reason}",
            }
        )
        # Tried again on every pass: what blocked it may have been removed since.
        cfn.delete_stack(StackName=arn)
        return {"name": name, "id": arn, "status": "delete failed"}
    if status not in _BUSY:
        cfn.delete_stack(StackName=arn)
    return {"name": name, "id": arn, "status": "deleting"}


def _delete_certificate(acm: Any, arn: str, result: Cleanup) -> dict[str, Any]:
    try:
        acm.delete_certificate(CertificateArn=arn)
    except AwsError as exc:
        if exc.fault is Fault.NOT_FOUND or exc.code == "ResourceNotFoundException":
            return {"arn": arn, "status": "deleted"}
        if exc.code == "ResourceInUseException":
            result.failed.append(
                {"resource": f"certificate {arn}", "reason": f"still in use by a load balancer: {exc.detail}"}
            )
            return {"arn": arn, "status": "in use"}
        raise
    return {"arn": arn, "status": "deleted"}


def summary(cleanup: Mapping[str, Any]) -> str:
    """One line on what a pass left: for progress and for errors."""
    waiting = [item["name"] for item in cleanup.get("stacks", []) if item["status"] != "deleted"]
    certificates = [item["arn"] for item in cleanup.get("certificates", []) if item["status"] != "deleted"]
    parts = []
    if waiting:
        parts.append(f"stacks {', '.join(waiting)}")
    if certificates:
        parts.append(f"certificates {', '.join(certificates)}")
    return "; ".join(parts) or "nothing left"
