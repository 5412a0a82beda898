"""`cloud register`: record a cloud made of the customer's own resources, after verifying them.

Nothing stays changed unless registration succeeds: on any failure (verification errors, a declined
confirmation, Ctrl-C) the trust-policy edit is reverted and the cloud record removed.

The edit: the cloud's External ID required in the statements trusting the control plane's principal, or,
for a role that trusts another tool's principal (`--add-trust`), a statement of cloudplane's own added
beside the others (added_trust). With `--add-trust --external-id ID`, the added statement requires ID.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudplane import naming
from cloudplane.aws import regions
from cloudplane.aws.errors import error_code
from cloudplane.aws.session import AwsClients
from cloudplane.cloud import CUSTOMER_DEFINED, PRIVATE, PUBLIC
from cloudplane.clouds import added_trust
from cloudplane.clouds import byo_input as shapes
from cloudplane.clouds.claims import CloudClaim
from cloudplane.clouds.identity import caller_identity
from cloudplane.clouds.principal import trusted_principal
from cloudplane.clouds.trust import (
    ADDED_TRUST_OPTION,
    ORIGINAL_TRUST_OPTION,
    TrustChange,
    cloud_id_of_external_id,
    require_external_id,
    undo_interrupted_change,
)
from cloudplane.clouds.verification import why_not_passed
from cloudplane.console import Console
from cloudplane.errors import Conflict, InputError, NotFound, OperationFailed
from cloudplane.verify.checks.iam import TRUST_JUST_CHANGED
from cloudplane.verify.report import Report, Severity


@dataclass
class RegisterRequest:
    name: str
    region: str
    vpc_id: str
    subnet_ids: str
    security_group_ids: str
    s3_bucket_id: str
    controlplane_role_arn: str
    instance_role_arn: str
    efs_id: str | None = None
    memorydb_cluster_id: str | None = None
    private_network: bool = False
    external_id: str | None = None
    add_trust: bool = False
    # Filled by validate():
    subnets: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    bucket: str = ""
    role_account: str | None = None

    def validate(self) -> None:
        """Every shape mistake at once, one line each, before any AWS call."""
        mistakes = shapes.Mistakes()
        for flag, check, value in (
            ("--name", naming.validate_cloud_name, self.name),
            ("--region", regions.check_region_name, self.region),
        ):
            try:
                check(value)
            except InputError as exc:
                mistakes.add(f"{flag}: {exc}")
        shapes.check_id("vpc", "--vpc-id", self.vpc_id, mistakes)
        self.subnets = shapes.split_list("subnet", "--subnet-ids", self.subnet_ids, mistakes, minimum=2)
        self.groups = shapes.split_list(
            "security group", "--security-group-ids", self.security_group_ids, mistakes
        )
        self.bucket = shapes.normalise_bucket("--s3-bucket-id", self.s3_bucket_id, mistakes)
        if self.efs_id is not None:
            shapes.check_id("EFS", "--efs-id", self.efs_id, mistakes)
        cp_account = shapes.check_role_arn("--controlplane-iam-role-id", self.controlplane_role_arn, mistakes)
        node_account = shapes.check_role_arn("--instance-iam-role-id", self.instance_role_arn, mistakes)
        shapes.same_account([cp_account, node_account], mistakes)
        if self.memorydb_cluster_id is not None:
            shapes.check_memorydb_name("--memorydb-cluster-id", self.memorydb_cluster_id, mistakes)
        if self.external_id is not None:
            shapes.check_external_id("--external-id", self.external_id, mistakes)
        mistakes.raise_if_any()
        self.role_account = cp_account

    @property
    def networking(self) -> str:
        return PRIVATE if self.private_network else PUBLIC


def mount_target_ips(aws: AwsClients, efs_id: str | None) -> list[str]:
    """Every mount target's address; none when the file system is missing (verification reports it)."""
    if not efs_id:
        return []
    try:
        targets = aws.client("efs").describe_mount_targets(FileSystemId=efs_id)["MountTargets"]
    except Exception as exc:
        if error_code(exc) in ("FileSystemNotFound", "BadRequest"):
            return []
        raise
    return [t["IpAddress"] for t in targets if t.get("IpAddress")]


def _interrupted_or_free(client: Any, name: str) -> dict[str, Any] | None:
    """A registration of this name that was interrupted (its record still `creating`), or None when the
    name is free; any other cloud of that name is a conflict."""
    try:
        existing = client.find_cloud(name=name)
    except NotFound:
        return None
    if existing["deployment"] == CUSTOMER_DEFINED and existing["state"] == "creating":
        return existing
    raise Conflict(f"a cloud named {name!r} already exists ({existing['id']}, state {existing['state']})")


def undo_interrupted_registration(
    client: Any, console: Console, aws: AwsClients, cloud: dict[str, Any]
) -> None:
    """Put right what a killed `cloud register` left: the trust-policy edit and the `creating` record.
    Refused (Conflict) while that registration is still running."""
    with CloudClaim(client, "register") as claim:
        cloud = claim.take(cloud["id"])
        done = undo_interrupted_change(aws, cloud, console.info)
        if done:
            console.info(f"An earlier registration of {cloud['name']} was interrupted: {done}.")
        client.delete_cloud(cloud["id"])


def _external_id_owner(client: Any) -> Callable[[str], str | None]:
    def owner(external_id: str) -> str | None:
        cloud_id = cloud_id_of_external_id(external_id)
        if cloud_id is None:
            return "an External ID cloudplane did not generate"
        try:
            cloud = client.get_cloud(cloud_id)
        except NotFound:
            return None  # its cloud was deleted: the ID protects nothing any more
        return f"cloud {cloud['name']} ({cloud['id']}, state {cloud['state']})"

    return owner


def open_warnings(report: Report) -> list[str]:
    return [f.check for f in report.findings if not f.passed and f.severity is Severity.WARNING]


def register_cloud(
    request: RegisterRequest,
    *,
    client: Any,
    console: Console,
    verify: Callable[[dict[str, Any], AwsClients], Report],
    confirm_warnings: Callable[[Report], None],
) -> tuple[dict[str, Any], Report]:
    request.validate()
    interrupted = _interrupted_or_free(client, request.name)
    aws = AwsClients(request.region)
    identity = caller_identity(aws)
    account = identity["Account"]
    console.info(f"Using AWS account {account} as {identity['Arn']}.")
    regions.check_region_enabled(aws, request.region)
    if request.external_id is None and request.role_account != account:
        raise InputError(
            f"the control-plane role is in account {request.role_account} but your credentials are for {account}; "
            "use credentials of the role's account so its trust policy can require the cloud's External ID, "
            "or pass --external-id with the ID the trust policy already requires"
        )
    if request.add_trust and request.role_account != account:
        raise InputError(
            f"--add-trust edits the trust policy of the control-plane role in account {request.role_account}, "
            f"but your credentials are for {account}; use credentials of the role's account"
        )
    if interrupted is not None:
        undo_interrupted_registration(client, console, aws, interrupted)
    resources = {
        "vpc_id": request.vpc_id,
        "subnet_ids": request.subnets,
        "security_group_ids": request.groups,
        "s3_bucket_id": request.bucket,
        "efs_id": request.efs_id,
        "efs_mount_target_ips": mount_target_ips(aws, request.efs_id) or None,
        "controlplane_role_arn": request.controlplane_role_arn,
        "instance_role_arn": request.instance_role_arn,
        "memorydb_cluster_id": request.memorydb_cluster_id,
    }
    principal = trusted_principal(client, lambda: account)
    console.info(
        f"The control plane acts as {principal}: the role must trust it with the cloud's External ID."
    )
    # A role of another account cannot be read with these credentials: verification judges its trust.
    add_statement = request.role_account == account and added_trust.needs_statement(
        aws, request.controlplane_role_arn, principal, add_trust=request.add_trust, say=console.info
    )
    options = {"controlplane_principal": principal, "account_id": account}
    with CloudClaim(client, "register") as claim:
        cloud = client.create_cloud(
            request.name,
            "aws",
            request.region,
            CUSTOMER_DEFINED,
            request.networking,
            options=options,
            external_id=request.external_id,
            resources=resources,
            claim=claim.body(),
        )
        claim.started(cloud["id"])
        trust = _TrustEdit(principal, add_statement)
        report = _verify_and_keep(
            client,
            console,
            cloud,
            edit_trust=lambda: _edit_trust(request, client, console, aws, cloud, trust),
            verify=lambda record: verify(record, aws),
            confirm_warnings=confirm_warnings,
        )
    return client.get_cloud(cloud["id"]), report


@dataclass(frozen=True)
class _TrustEdit:
    """How register edits the role's trust: for `principal`, by adding a statement or by requiring the
    External ID in the statements that trust it."""

    principal: str
    add_statement: bool


def _edit_trust(
    request: RegisterRequest,
    client: Any,
    console: Console,
    aws: AwsClients,
    cloud: dict[str, Any],
    trust: _TrustEdit,
) -> TrustChange | None:
    """The trust-policy edit, made; None when none was needed. The policy as it was is kept on the record
    before anything changes."""
    role_arn = request.controlplane_role_arn
    if trust.add_statement:
        statement = added_trust.our_statement(cloud["id"], trust.principal, cloud["external_id"])

        def keep_original_and_sid(document: dict[str, Any]) -> None:
            client.update_cloud(
                cloud["id"],
                options={ORIGINAL_TRUST_OPTION: json.dumps(document), ADDED_TRUST_OPTION: statement["Sid"]},
            )

        change = added_trust.add_statement(aws, role_arn, statement, before_change=keep_original_and_sid)
        if change:
            console.info(
                f"Added the statement {statement['Sid']} to the trust policy of {role_arn}: it lets "
                f"{trust.principal} assume the role with this cloud's External ID; its other statements stay."
            )
        return change
    if request.external_id is not None:
        return None

    def keep_original(document: dict[str, Any]) -> None:
        client.update_cloud(cloud["id"], options={ORIGINAL_TRUST_OPTION: json.dumps(document)})

    change = require_external_id(
        aws,
        role_arn,
        cloud["external_id"],
        owner_of=_external_id_owner(client),
        before_change=keep_original,
        principal=trust.principal,
    )
    if change:
        console.info(f"The trust policy of {role_arn} now requires this cloud's External ID.")
    return change


def _verify_and_keep(
    client: Any,
    console: Console,
    cloud: dict[str, Any],
    *,
    edit_trust: Callable[[], TrustChange | None],
    verify: Callable[[dict[str, Any]], Report],
    confirm_warnings: Callable[[Report], None],
) -> Report:
    """Edit the role's trust, verify, and keep the cloud; on any failure put everything back."""
    trust_change = None
    try:
        trust_change = edit_trust()
        if trust_change:
            # IAM reads lag behind writes: verifying before the change shows would fail IAM-3.
            trust_change.wait_until_visible(console.info)
        report = verify(_trust_just_changed(cloud) if trust_change else cloud)
        if not report.passed:
            reason = why_not_passed(report, "the resources fail verification (see the findings above)")
            raise OperationFailed(
                f"{reason}; nothing was registered"
                + (" and the trust policy was put back as it was" if trust_change else "")
            )
        if open_warnings(report):
            confirm_warnings(report)
        client.update_cloud(cloud["id"], state="active", options={ORIGINAL_TRUST_OPTION: None})
        client.store_verification(cloud["id"], report.to_dict())
    except BaseException:
        _undo(client, console, cloud, trust_change)
        raise
    return report


def _trust_just_changed(cloud: dict[str, Any]) -> dict[str, Any]:
    """The cloud as verification sees it right after its role's trust policy changed: IAM-11 then gives
    AssumeRole the few seconds AWS may take to honour the new policy."""
    return {**cloud, "options": {**(cloud.get("options") or {}), TRUST_JUST_CHANGED: True}}


def _undo(client: Any, console: Console, cloud: dict[str, Any], trust_change: Any) -> None:
    """Put everything back; a step that cannot be undone is reported, never hidden."""
    if trust_change is not None:
        try:
            if trust_change.revert(console.info):
                console.info(f"Put the trust policy of {trust_change.role_arn} back as it was.")
            else:
                console.warn(
                    f"Put the trust policy of {trust_change.role_arn} back as it was; IAM does not show it yet."
                )
        except Exception as exc:
            console.error(
                f"Could not put the trust policy of {trust_change.role_arn} back ({exc}); "
                f"{trust_change.by_hand()} by hand."
            )
    try:
        client.delete_cloud(cloud["id"])
    except Exception as exc:
        console.error(
            f"Could not remove the cloud record {cloud['id']} ({exc}); run `cloudplane cloud delete --id {cloud['id']} --yes`."
        )
