"""Turning a managed cloud's stack outputs into the cloud's resource record."""

from __future__ import annotations

from typing import Any

from cloudplane.cloud import CloudResources


def _split(value: str | None) -> list[str]:
    return [part for part in (value or "").split(",") if part]


def resources_from_outputs(outputs: dict[str, str], stack_id: str) -> dict[str, Any]:
    """Every resource key, absent ones (and empty lists) as null."""
    found = {
        "vpc_id": outputs.get("VpcId"),
        "subnet_ids": _split(outputs.get("SubnetIds")),
        "security_group_ids": _split(outputs.get("SecurityGroupId")),
        "s3_bucket_id": outputs.get("BucketName"),
        "efs_id": outputs.get("FileSystemId"),
        "efs_mount_target_ips": _split(outputs.get("MountTargetIps")),
        "controlplane_role_arn": outputs.get("ControlPlaneRoleArn"),
        "instance_role_arn": outputs.get("InstanceRoleArn"),
        "memorydb_cluster_id": outputs.get("MemoryDbClusterName"),
        "cloudformation_stack_id": stack_id,
    }
    return CloudResources.from_dict(found).to_dict()
