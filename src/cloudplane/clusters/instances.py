"""A cluster's EC2 instances: launching, reading and terminating them with a cloud's role clients.

Every instance (and its volumes) carries the cloud's id, the cluster's name and the cluster's id as tags:
the cross-account role may only launch and stop instances tagged with its cloud, and the tags are how a
cluster's instances are found again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

from cloudplane.aws.session import AwsClients
from cloudplane.errors import OperationFailed
from cloudplane.naming import CLUSTER_ID_TAG_KEY, CLUSTER_TAG_KEY, TAG_KEY

# Nodes run the newest Amazon Linux 2023 image AWS publishes in the region (no image ids to keep up to date).
IMAGE_OWNER = "amazon"
IMAGE_NAME = "al2023-ami-2023.*-x86_64"
LIVE_INSTANCE_STATES = ("pending", "running", "shutting-down", "stopping", "stopped")
# EC2 instance state -> the state the product shows.
_STATE = {
    "pending": "pending",
    "running": "running",
    "shutting-down": "terminating",
    "terminated": "terminated",
    "stopping": "stopped",
    "stopped": "stopped",
}


class NodeSpec(Protocol):
    role: str
    node_type: str
    instance_type: str
    subnet_id: str
    security_group_ids: Sequence[str]
    instance_profile: str


def default_image(clients: AwsClients) -> str:
    answer = clients.client("ec2").describe_images(
        Owners=[IMAGE_OWNER],
        Filters=[
            {"Name": "name", "Values": [IMAGE_NAME]},
            {"Name": "state", "Values": ["available"]},
            {"Name": "architecture", "Values": ["x86_64"]},
        ],
    )
    images = sorted(
        answer.get("Images", []), key=lambda image: (image.get("CreationDate", ""), image["Name"])
    )
    if not images:
        raise OperationFailed(f"AWS lists no Amazon Linux 2023 image ({IMAGE_NAME}) in {clients.region}")
    return str(images[-1]["ImageId"])


def launch(
    clients: AwsClients,
    *,
    cloud_id: str,
    cluster_id: str,
    cluster_name: str,
    nodes: Sequence[NodeSpec],
    image_id: str,
    user_data: str | None = None,
) -> list[dict[str, Any]]:
    """Run one instance per node; each request carries a client token, so a retried launch adds nothing."""
    ec2 = clients.client("ec2")
    launched = []
    for index, node in enumerate(nodes):
        label = node.role if node.role == "head" else f"{node.role}-{index}"
        tags = [
            {"Key": TAG_KEY, "Value": cloud_id},
            {"Key": CLUSTER_TAG_KEY, "Value": cluster_name},
            {"Key": CLUSTER_ID_TAG_KEY, "Value": cluster_id},
            {"Key": "Name", "Value": f"{cluster_name}-{label}"},
        ]
        params: dict[str, Any] = {
            "ImageId": image_id,
            "InstanceType": node.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "SubnetId": node.subnet_id,
            "SecurityGroupIds": list(node.security_group_ids),
            "IamInstanceProfile": _profile(node.instance_profile),
            "TagSpecifications": [
                {"ResourceType": "instance", "Tags": tags},
                {"ResourceType": "volume", "Tags": tags},
            ],
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
            "ClientToken": f"{cluster_id}-{index}",
        }
        if user_data:
            params["UserData"] = user_data  # botocore base64-encodes it, as RunInstances wants
        instance = ec2.run_instances(**params)["Instances"][0]
        launched.append(_instance(instance, node.role, node.node_type))
    return launched


def cluster_instances(clients: AwsClients, cloud_id: str) -> dict[str, list[dict[str, Any]]]:
    """The cloud's instances that EC2 still knows, by cluster id ("" for instances of no cluster)."""
    ec2 = clients.client("ec2")
    found: dict[str, list[dict[str, Any]]] = {}
    filters = [{"Name": f"tag:{TAG_KEY}", "Values": [cloud_id]}]
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                tags = _tags(instance)
                found.setdefault(tags.get(CLUSTER_ID_TAG_KEY, ""), []).append(
                    {**_instance(instance), "cluster": tags.get(CLUSTER_TAG_KEY)}
                )
    return found


def live_instances(clients: AwsClients, cloud_id: str) -> list[dict[str, Any]]:
    """The cloud's instances that are not terminated (of any cluster, or of none)."""
    return [
        instance
        for instances in cluster_instances(clients, cloud_id).values()
        for instance in instances
        if instance["ec2_state"] in LIVE_INSTANCE_STATES
    ]


def terminate(clients: AwsClients, instance_ids: Iterable[str]) -> None:
    ids = sorted(set(instance_ids))
    if ids:
        clients.client("ec2").terminate_instances(InstanceIds=ids)


def refreshed(
    recorded: Sequence[Mapping[str, Any]], current: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The recorded instances with EC2's current view; one EC2 no longer lists is terminated."""
    by_id = {instance["id"]: instance for instance in current}
    merged = []
    for instance in recorded:
        now = by_id.get(instance["id"])
        update = (
            {"ec2_state": now["ec2_state"], "state": now["state"], "private_ip": now.get("private_ip")}
            if now
            else {"ec2_state": "terminated", "state": "terminated"}
        )
        merged.append({**instance, **update})
    return merged


def cluster_state(instances: Sequence[Mapping[str, Any]]) -> str:
    """One state for the cluster from its instances' states."""
    states = {instance["state"] for instance in instances}
    for state in ("terminating", "pending", "running", "stopped"):
        if state in states:
            return state
    return "terminated"


def _instance(
    instance: Mapping[str, Any], role: str | None = None, node_type: str | None = None
) -> dict[str, Any]:
    ec2_state = instance.get("State", {}).get("Name", "pending")
    record: dict[str, Any] = {
        "id": instance["InstanceId"],
        "instance_type": instance.get("InstanceType"),
        "subnet_id": instance.get("SubnetId"),
        "zone": instance.get("Placement", {}).get("AvailabilityZone"),
        "private_ip": instance.get("PrivateIpAddress"),
        "ec2_state": ec2_state,
        "state": _STATE.get(ec2_state, ec2_state),
    }
    if role is not None:
        record["role"] = role
        record["node_type"] = node_type
    return record


def _tags(instance: Mapping[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}


def _profile(profile: str) -> dict[str, str]:
    return {"Arn": profile} if profile.startswith("arn:") else {"Name": profile}
