"""`cloud edit`: swap a customer-defined cloud's bucket, EFS, mount target or MemoryDB cluster.

The cloud is verified as it would be after the edit before anything changes; old resources are left
as they are, and the command that undoes the edit is printed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudplane.aws.session import AwsClients
from cloudplane.cloud import MANAGED
from cloudplane.clouds import byo_input as shapes
from cloudplane.clouds.identity import caller_identity
from cloudplane.clouds.register import mount_target_ips
from cloudplane.clouds.verification import why_not_passed
from cloudplane.console import Console
from cloudplane.errors import InputError, OperationFailed
from cloudplane.verify.report import Report

UNSET = "none"  # `--aws-efs-id none` / `--memorydb-cluster-id none` remove the resource from the cloud

# CLI flag of each editable resource key.
FLAGS = {
    "s3_bucket_id": "--aws-s3-id",
    "efs_id": "--aws-efs-id",
    "efs_mount_target_ips": "--aws-efs-mount-target-ip",
    "memorydb_cluster_id": "--memorydb-cluster-id",
}


@dataclass(frozen=True)
class EditRequest:
    s3_bucket_id: str | None = None
    efs_id: str | None = None
    efs_mount_target_ip: str | None = None
    memorydb_cluster_id: str | None = None

    def validate(self) -> None:
        # None is a flag left out; an empty value is a mistake, never taken for no value.
        given = (self.s3_bucket_id, self.efs_id, self.efs_mount_target_ip, self.memorydb_cluster_id)
        if all(value is None for value in given):
            raise InputError("nothing to edit: give at least one of " + ", ".join(FLAGS.values()))
        mistakes = shapes.Mistakes()
        if self.s3_bucket_id is not None:
            shapes.normalise_bucket("--aws-s3-id", self.s3_bucket_id, mistakes)
        if self.efs_id is not None and self.efs_id != UNSET:
            shapes.check_id("EFS", "--aws-efs-id", self.efs_id, mistakes)
        if self.efs_mount_target_ip is not None:
            shapes.check_ipv4("--aws-efs-mount-target-ip", self.efs_mount_target_ip, mistakes)
            if self.efs_id == UNSET:
                mistakes.add("--aws-efs-mount-target-ip makes no sense with --aws-efs-id none")
        if self.memorydb_cluster_id is not None and self.memorydb_cluster_id != UNSET:
            shapes.check_memorydb_name("--memorydb-cluster-id", self.memorydb_cluster_id, mistakes)
        mistakes.raise_if_any()


def _new_resources(request: EditRequest, current: dict[str, Any], aws: AwsClients) -> dict[str, Any]:
    """The edited fields only, with the mount-target address checked against the (new) file system."""
    changes: dict[str, Any] = {}
    if request.s3_bucket_id:
        changes["s3_bucket_id"] = shapes.normalise_bucket(
            "--aws-s3-id", request.s3_bucket_id, shapes.Mistakes()
        )
    if request.efs_id == UNSET:
        changes["efs_id"] = None
        changes["efs_mount_target_ips"] = None
    elif request.efs_id or request.efs_mount_target_ip:
        efs_id = request.efs_id or current.get("efs_id")
        if not efs_id:
            raise InputError(
                "the cloud has no EFS; give --aws-efs-id together with --aws-efs-mount-target-ip"
            )
        addresses = mount_target_ips(aws, efs_id)
        if request.efs_mount_target_ip:
            if request.efs_mount_target_ip not in addresses:
                valid = ", ".join(addresses) or "none: the file system has no mount targets"
                raise InputError(
                    f"{request.efs_mount_target_ip} is not a mount target of {efs_id}; its mount targets: {valid}"
                )
            addresses = [request.efs_mount_target_ip]
        if request.efs_id:
            changes["efs_id"] = efs_id
        changes["efs_mount_target_ips"] = addresses or None
    if request.memorydb_cluster_id:
        changes["memorydb_cluster_id"] = (
            None if request.memorydb_cluster_id == UNSET else request.memorydb_cluster_id
        )
    return {key: value for key, value in changes.items() if value != current.get(key)}


def rollback_command(cloud: dict[str, Any], old: dict[str, Any], changes: dict[str, Any]) -> str:
    """The edit command that puts the changed fields back."""
    flags = []
    if "s3_bucket_id" in changes:
        flags.append(f"--aws-s3-id {old.get('s3_bucket_id')}")
    if "efs_id" in changes:  # the mount targets follow the file system
        flags.append(f"--aws-efs-id {old.get('efs_id') or UNSET}")
    elif "efs_mount_target_ips" in changes:
        before = old.get("efs_mount_target_ips") or []
        if len(before) == 1:
            flags.append(f"--aws-efs-mount-target-ip {before[0]}")
        else:  # it used every mount target of its file system
            flags.append(f"--aws-efs-id {old.get('efs_id')}")
    if "memorydb_cluster_id" in changes:
        flags.append(f"--memorydb-cluster-id {old.get('memorydb_cluster_id') or UNSET}")
    return f"cloudplane cloud edit --cloud-id {cloud['id']} {' '.join(flags)} --yes"


def edit_cloud(
    cloud: dict[str, Any],
    request: EditRequest,
    *,
    client: Any,
    console: Console,
    verify: Callable[[dict[str, Any], AwsClients], Report],
    confirm_edit: Callable[[str], None],
) -> tuple[dict[str, Any], Report]:
    request.validate()
    if cloud["deployment"] == MANAGED:
        raise InputError(
            f"cloud {cloud['name']} is managed: its resources belong to its CloudFormation stack and change with "
            f"`cloudplane cloud update`; edit is for customer-defined clouds"
        )
    aws = AwsClients(cloud["region"])
    caller_identity(aws)
    current = dict(cloud.get("resources") or {})
    changes = _new_resources(request, current, aws)
    if not changes:
        raise InputError("nothing changes: the cloud already uses those resources")
    console.info(f"Editing cloud {cloud['name']} ({cloud['id']}):")
    for key, new in changes.items():
        console.info(f"  {key}: {current.get(key)} -> {new}")

    console.info("Verifying the cloud as it will be after the edit ...")
    report = verify({**cloud, "resources": {**current, **changes}}, aws)
    if not report.passed:
        reason = why_not_passed(report, "the cloud would fail verification after this edit (see above)")
        raise OperationFailed(f"{reason}; nothing was changed")
    confirm_edit("Apply the edit?")
    updated = client.update_cloud(cloud["id"], resources=changes)
    updated = client.store_verification(cloud["id"], report.to_dict())
    console.success(f"Edited cloud {cloud['name']} ({cloud['id']}).")
    console.info(
        "The resources it used before are left as they are; delete them yourself when nothing needs them."
    )
    console.info(f"To undo the edit: {rollback_command(cloud, current, changes)}")
    return updated, report
