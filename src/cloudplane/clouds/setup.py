"""`cloud setup`: a managed cloud as one CloudFormation stack, resumable, rolled back on failure."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudplane import naming
from cloudplane.aws import regions
from cloudplane.aws.errors import AwsError
from cloudplane.aws.session import AwsClients
from cloudplane.aws.stacks import (
    StackState,
    StackWatcher,
    console_url,
    find_stack,
    outputs_of,
    wait_until_settled,
)
from cloudplane.aws.template import (
    ManagedCloudOptions,
    managed_cloud_template,
    memorydb_zone_names,
    stack_parameters,
)
from cloudplane.cloud import MANAGED, PUBLIC
from cloudplane.clouds import cleanup
from cloudplane.clouds.claims import CloudClaim
from cloudplane.clouds.identity import caller_identity
from cloudplane.clouds.outputs import resources_from_outputs
from cloudplane.clouds.principal import trusted_principal
from cloudplane.console import Console
from cloudplane.errors import Conflict, InputError, NotFound, OperationFailed
from cloudplane.verify.checks.iam import TRUST_JUST_CHANGED
from cloudplane.verify.report import Report

CREATE_TIMEOUT = 30 * 60.0
CREATE_TIMEOUT_WITH_MEMORYDB = 60 * 60.0
UNFINISHED_STATES = ("creating", "failed")


@dataclass(frozen=True)
class SetupRequest:
    name: str
    region: str
    shared_storage: str = "nfs"
    head_node_fault_tolerance: bool = False

    def validate(self) -> None:
        """Everything that can be refused without calling AWS."""
        naming.validate_cloud_name(self.name)
        regions.check_region_name(self.region)
        if self.shared_storage not in ("nfs", "object-storage"):
            raise InputError(f"unknown shared storage {self.shared_storage!r}: use nfs or object-storage")

    def options(self) -> dict[str, Any]:
        return {
            "shared_storage": self.shared_storage,
            "head_node_fault_tolerance": self.head_node_fault_tolerance,
        }


def _existing_cloud(client: Any, request: SetupRequest) -> dict[str, Any] | None:
    """An unfinished setup of the same cloud is resumed; anything else with that name is a conflict."""
    try:
        cloud = client.find_cloud(name=request.name)
    except NotFound:
        return None
    unverified = cloud["state"] == "active" and not cloud.get("last_verification")
    if cloud["deployment"] != MANAGED or (cloud["state"] not in UNFINISHED_STATES and not unverified):
        raise Conflict(
            f"a cloud named {request.name!r} already exists ({cloud['id']}, state {cloud['state']})"
        )
    options = cloud.get("options") or {}
    same = cloud["region"] == request.region and all(
        options.get(k) == v for k, v in request.options().items()
    )
    if not same:
        raise Conflict(
            f"cloud {request.name!r} ({cloud['id']}) is an unfinished setup in {cloud['region']} with other "
            f"options; re-run it with the same options, or remove it with "
            f"`cloudplane cloud delete --name {request.name} --yes`"
        )
    return cloud


def _quota_precheck(aws: AwsClients, console: Console) -> None:
    from cloudplane.verify import quota_precheck

    findings = quota_precheck(aws)
    for finding in findings:
        if not finding.passed and not finding.fails(strict=False):
            console.warn(finding.message)
    blocking = [f for f in findings if f.fails(strict=False)]
    if blocking:
        details = "; ".join(f"{f.message} {f.remediation or ''}".strip() for f in blocking)
        raise OperationFailed(f"no room for a new cloud in {aws.region}, nothing was created: {details}")


def _follow(console: Console, watcher: StackWatcher, verb: str, timeout: float) -> StackState:
    with console.status(f"{verb} cloud resources: 0/{watcher.total} done") as line:

        def show(state: StackState) -> None:
            line.update(f"{verb} cloud resources: {state.done}/{state.total} done ({state.status})")

        return wait_until_settled(watcher, on_progress=show, timeout=timeout)


def _create_or_attach_stack(
    aws: AwsClients,
    console: Console,
    cloud: dict[str, Any],
    template: dict[str, Any],
    params: list[Any],
    *,
    earlier_attempt: bool = False,
) -> str:
    """The stack id of this cloud's stack, creating it unless a usable one already exists.

    `earlier_attempt`: an earlier run of this setup got as far as the stack, which may have come and gone.
    """
    cfn = aws.client("cloudformation")
    name = naming.stack_name(cloud["id"])
    existing = find_stack(cfn, name)
    if existing is not None and existing["StackStatus"] in (
        "ROLLBACK_COMPLETE",
        "ROLLBACK_FAILED",
        "CREATE_FAILED",
    ):
        console.info(f"Removing the failed stack {existing['StackId']} of an earlier attempt ...")
        cleanup.delete_stack(aws, console, existing["StackId"], timeout=CREATE_TIMEOUT)
        existing, earlier_attempt = None, True
    if existing is not None:
        console.info(f"Continuing with stack {existing['StackId']} ({existing['StackStatus']}).")
        return existing["StackId"]
    if earlier_attempt:
        # A stack that rolled back while no setup watched it (an interrupted run) kept its bucket, whose
        # fixed name would fail this stack's bucket with "already exists".
        cleanup.remove_kept_bucket(aws, console, cloud, naming.bucket_name(cloud["id"]))
    try:
        response = cfn.create_stack(
            StackName=name,
            TemplateBody=json.dumps(template),
            Parameters=params,
            Capabilities=["CAPABILITY_NAMED_IAM"],
            OnFailure="ROLLBACK",
            Tags=[{"Key": naming.TAG_KEY, "Value": cloud["id"]}],
            # The same token on every retry of this request: a retry after a lost answer is not a second
            # stack request.
            ClientRequestToken=f"cloudplane-create-{uuid.uuid4().hex}",
        )
    except AwsError as exc:
        if exc.code != "AlreadyExistsException":
            raise
        # Made by an earlier attempt whose answer never arrived: follow that stack.
        existing = find_stack(cfn, name)
        if existing is None:
            raise
        return existing["StackId"]
    return response["StackId"]


def setup_managed_cloud(
    request: SetupRequest,
    *,
    client: Any,
    console: Console,
    verify: Callable[[dict[str, Any]], Report],
) -> tuple[dict[str, Any], Report]:
    """Create (or resume) the cloud and its stack, then verify it and store the report.

    The whole run holds the cloud's claim, so a second setup of the same cloud is refused while this
    one lives, and takes over once it was killed.
    """
    request.validate()
    cloud = _existing_cloud(client, request)
    aws = AwsClients(request.region)
    identity = caller_identity(aws)
    console.info(f"Using AWS account {identity['Account']} as {identity['Arn']}.")
    ec2 = aws.client("ec2")
    regions.check_region_enabled(aws, request.region)
    stack_exists = cloud is not None and find_stack(
        aws.client("cloudformation"), naming.stack_name(cloud["id"])
    )
    if not stack_exists:
        _quota_precheck(aws, console)
    available = regions.availability_zones(ec2)
    zones = [z["name"] for z in available]
    if len(zones) < 2:
        raise OperationFailed(
            f"region {request.region} offers {len(zones)} availability zone(s); a cloud needs two"
        )
    memorydb_zones = (
        memorydb_zone_names(request.region, available, console.warn)
        if request.head_node_fault_tolerance
        else None
    )

    principal = trusted_principal(client, lambda: identity["Account"])
    with CloudClaim(client, "setup") as claim:
        if cloud is None:
            options = {
                **request.options(),
                "controlplane_principal": principal,
                "account_id": identity["Account"],
            }
            try:
                cloud = client.create_cloud(
                    request.name, "aws", request.region, MANAGED, PUBLIC, options=options, claim=claim.body()
                )
            except Conflict as exc:
                raise Conflict(f"{exc} (another command created it first); nothing was created") from None
            claim.started(cloud["id"])
            console.info(f"Created cloud {cloud['name']} ({cloud['id']}).")
        else:
            cloud = claim.take(cloud["id"])
            console.info(f"Resuming the setup of cloud {cloud['name']} ({cloud['id']}).")
        if cloud["state"] != "active":
            cloud = _build(request, client, console, aws, cloud, zones, memorydb_zones, principal)
        console.info("Verifying the new cloud ...")
        # The roles were made moments ago: AssumeRole may be refused for a few seconds while IAM settles.
        report = verify({**cloud, "options": {**(cloud.get("options") or {}), TRUST_JUST_CHANGED: True}})
        client.store_verification(cloud["id"], report.to_dict())
    return client.get_cloud(cloud["id"]), report


def _build(
    request: SetupRequest,
    client: Any,
    console: Console,
    aws: AwsClients,
    cloud: dict[str, Any],
    zones: list[str],
    memorydb_zones: Any,
    principal: str,
) -> dict[str, Any]:
    """The stack: created or followed to the end; the cloud record made active with its resources."""
    if cloud["state"] != "creating":
        cloud = client.update_cloud(cloud["id"], state="creating", failure_reason="")

    # Zones are stored just before the stack is made: with them on the record, an earlier run got that far.
    earlier_zones = (cloud.get("options") or {}).get("availability_zones")
    stored_zones = earlier_zones or zones
    template_options = ManagedCloudOptions(
        cloud_id=cloud["id"],
        external_id=cloud["external_id"],
        controlplane_principal=(cloud.get("options") or {}).get("controlplane_principal", principal),
        availability_zones=tuple(stored_zones),
        shared_storage=request.shared_storage,
        head_node_fault_tolerance=request.head_node_fault_tolerance,
        memorydb_zones=memorydb_zones,
    )
    template = managed_cloud_template(template_options)
    client.update_cloud(cloud["id"], options={"availability_zones": list(stored_zones)})

    stack_id = _create_or_attach_stack(
        aws, console, cloud, template, stack_parameters(template_options), earlier_attempt=bool(earlier_zones)
    )
    client.update_cloud(cloud["id"], resources={"cloudformation_stack_id": stack_id})
    console.info(f"Track the stack in the AWS console: {console_url(request.region, stack_id)}")

    timeout = CREATE_TIMEOUT_WITH_MEMORYDB if request.head_node_fault_tolerance else CREATE_TIMEOUT
    watcher = StackWatcher(
        aws.client("cloudformation"), stack_id, len(template["Resources"]), ("CREATE_COMPLETE",)
    )
    state = _follow(console, watcher, "Creating", timeout)
    if state.status not in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
        cleanup.after_failed_create(
            aws, console, client, cloud, watcher, state, bucket=template_options.bucket_name
        )
    stack = aws.client("cloudformation").describe_stacks(StackName=stack_id)["Stacks"][0]
    resources = resources_from_outputs(outputs_of(stack), stack_id)
    cloud = client.update_cloud(cloud["id"], state="active", resources=resources)
    console.success(f"Cloud resources are ready ({state.done}/{state.total}).")
    return cloud
