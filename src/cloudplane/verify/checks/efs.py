"""EFS-1..6: the shared file system, its mount targets, NFS reachability and backups."""

from __future__ import annotations

from collections.abc import Iterator

from cloudplane.cloud import CloudSpec
from cloudplane.verify.context import Item, VerifyContext
from cloudplane.verify.network import TCP, cidr_covers, cidr_sources, group_sources, rule_covers_port
from cloudplane.verify.outcome import Outcome, fail, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "efs"
NFS_PORT = 2049


def _has_efs(spec: CloudSpec) -> bool:
    return bool(spec.resources.efs_id)


def _fs_id(ctx: VerifyContext) -> str:
    file_system = require(ctx.file_system())
    return str(file_system["FileSystemId"])


def _targets(ctx: VerifyContext) -> list[Item]:
    _fs_id(ctx)
    return require(ctx.mount_targets() or None)


@check("EFS-1", GROUP, Severity.ERROR, when=_has_efs, reads=(VerifyContext.file_system,))
def file_system_available(ctx: VerifyContext) -> Iterator[Outcome]:
    fs_id = str(ctx.res.efs_id)
    file_system = ctx.file_system()
    if file_system is None:
        yield fail(
            f"EFS file system {fs_id} does not exist in region {ctx.aws.region}.",
            fs_id,
            "Check the file system id, or create one in the cloud's VPC and update the cloud's resources.",
        )
    elif file_system.get("LifeCycleState") != "available":
        yield fail(
            f"EFS file system {fs_id} is {file_system.get('LifeCycleState')}, not available.",
            fs_id,
            "Wait for it to become available; if it is being deleted, replace it in the cloud's resources.",
        )
    else:
        yield ok(f"EFS file system {fs_id} is available.", fs_id)


@check(
    "EFS-2",
    GROUP,
    Severity.ERROR,
    when=_has_efs,
    reads=(VerifyContext.file_system, VerifyContext.mount_targets),
)
def has_mount_targets(ctx: VerifyContext) -> Iterator[Outcome]:
    fs_id = _fs_id(ctx)
    targets = ctx.mount_targets()
    if targets:
        yield ok(f"EFS file system {fs_id} has {len(targets)} mount target(s).", fs_id)
    else:
        yield fail(
            f"EFS file system {fs_id} has no mount targets; nodes cannot mount it.",
            fs_id,
            f"aws efs create-mount-target --file-system-id {fs_id} --subnet-id <cloud subnet> "
            f"--security-groups {' '.join(ctx.res.security_group_ids) or '<sg-id>'} (one per availability zone)",
        )


@check(
    "EFS-3",
    GROUP,
    Severity.WARNING,
    when=_has_efs,
    reads=(VerifyContext.file_system, VerifyContext.mount_targets, VerifyContext.subnets),
)
def mount_target_per_zone(ctx: VerifyContext) -> Iterator[Outcome]:
    fs_id = _fs_id(ctx)
    targets = _targets(ctx)
    zones = {t.get("AvailabilityZoneName") for t in targets}
    target_subnets = {t["SubnetId"] for t in targets}
    bad = False
    for subnet in (ctx.subnets().get(i) for i in ctx.res.subnet_ids):
        if subnet is None or subnet["AvailabilityZone"] in zones or subnet["SubnetId"] in target_subnets:
            continue
        bad = True
        yield fail(
            f"EFS file system {fs_id} has no mount target in zone {subnet['AvailabilityZone']} of subnet "
            f"{subnet['SubnetId']}; nodes there mount across zones (extra latency and transfer cost).",
            subnet["SubnetId"],
            f"aws efs create-mount-target --file-system-id {fs_id} --subnet-id {subnet['SubnetId']} "
            f"--security-groups {' '.join(ctx.res.security_group_ids) or '<sg-id>'}",
        )
    if not bad:
        yield ok(f"EFS file system {fs_id} has a mount target in every subnet's zone.", fs_id)


def _lets_in_nfs(group: Item, cloud_groups: set[str], vpc_cidr: str | None) -> bool:
    for permission in group.get("IpPermissions", []):
        if not rule_covers_port(permission, TCP, NFS_PORT):
            continue
        if cloud_groups & set(group_sources(permission)):
            return True
        if vpc_cidr and any(cidr_covers(c, vpc_cidr) for c in cidr_sources(permission)):
            return True
    return False


@check(
    "EFS-4",
    GROUP,
    Severity.ERROR,
    when=_has_efs,
    reads=(
        VerifyContext.file_system,
        VerifyContext.mount_targets,
        VerifyContext.mount_target_groups,
        VerifyContext.security_groups,
        VerifyContext.vpc,
    ),
)
def mount_target_nfs(ctx: VerifyContext) -> Iterator[Outcome]:
    fs_id = _fs_id(ctx)
    targets = _targets(ctx)
    cloud_groups = set(ctx.res.security_group_ids)
    groups_of = ctx.mount_target_groups()
    groups = ctx.groups_by_ids({g for ids in groups_of.values() for g in ids})
    vpc_cidr = (ctx.vpc() or {}).get("CidrBlock")
    bad = False
    for target in targets:
        target_id = target["MountTargetId"]
        ids = groups_of.get(target_id, [])
        if any(_lets_in_nfs(groups[g], cloud_groups, vpc_cidr) for g in ids if g in groups):
            continue
        bad = True
        first = ids[0] if ids else "<sg-id>"
        source = ctx.res.security_group_ids[0] if ctx.res.security_group_ids else "<cloud sg>"
        yield fail(
            f"Mount target {target_id} of {fs_id} (groups {', '.join(ids) or 'none'}) does not let the "
            f"cloud's group {source} reach NFS (TCP {NFS_PORT}).",
            target_id,
            f"aws ec2 authorize-security-group-ingress --group-id {first} --protocol tcp --port {NFS_PORT} "
            f"--source-group {source}, or give the mount target the cloud's group: aws efs "
            f"modify-mount-target-security-groups --mount-target-id {target_id} --security-groups {source}",
        )
    if not bad:
        yield ok(f"Every mount target of {fs_id} accepts NFS from the cloud's group.", fs_id)


@check(
    "EFS-5",
    GROUP,
    Severity.ERROR,
    when=_has_efs,
    reads=(VerifyContext.file_system, VerifyContext.mount_targets),
)
def registered_mount_target_ips(ctx: VerifyContext) -> Iterator[Outcome]:
    fs_id = _fs_id(ctx)
    registered = ctx.res.efs_mount_target_ips
    if not registered:
        yield ok(f"No mount-target IP is registered for {fs_id}; nodes use its DNS name.", fs_id)
        return
    valid = sorted(t["IpAddress"] for t in ctx.mount_targets() if t.get("IpAddress"))
    stale = [ip for ip in registered if ip not in valid]
    for ip in stale:
        yield fail(
            f"Registered mount-target IP {ip} of {fs_id} no longer exists; valid IPs: {', '.join(valid) or 'none'}.",
            ip,
            "Update the cloud's efs_mount_target_ips to one of the valid IPs (or drop it to use DNS).",
        )
    if not stale:
        yield ok(f"Registered mount-target IPs {', '.join(registered)} of {fs_id} exist.", fs_id)


@check(
    "EFS-6",
    GROUP,
    Severity.WARNING,
    when=_has_efs,
    reads=(VerifyContext.file_system, VerifyContext.backup_status),
)
def backups_enabled(ctx: VerifyContext) -> Iterator[Outcome]:
    fs_id = _fs_id(ctx)
    status = ctx.backup_status()
    if status == "ENABLED":
        yield ok(f"Automatic backups are enabled on {fs_id}.", fs_id)
    else:
        yield fail(
            f"Automatic backups are {status.lower() if status else 'not configured'} on {fs_id}.",
            fs_id,
            f"aws efs put-backup-policy --file-system-id {fs_id} --backup-policy Status=ENABLED",
        )
