"""CFN-1..2: a managed cloud's stack is complete, tagged, and still holds all its resources."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator

from cloudplane.aws.errors import NOT_FOUND_CODES, AwsError, error_code
from cloudplane.cloud import MANAGED
from cloudplane.naming import TAG_KEY
from cloudplane.verify.context import Item, VerifyContext, role_name
from cloudplane.verify.outcome import Outcome, fail, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "cloudformation stack"
ROLLED_BACK_UPDATE = "UPDATE_ROLLBACK_COMPLETE"
# A stack in these states holds the resources of its current template: a failed update was rolled back whole.
USABLE_STATES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE", ROLLED_BACK_UPDATE}


@check("CFN-1", GROUP, Severity.ERROR, deployments=(MANAGED,), reads=(VerifyContext.stack,))
def stack_complete(ctx: VerifyContext) -> Iterator[Outcome]:
    stack_id = ctx.res.cloudformation_stack_id
    if not stack_id:
        yield fail(
            "The managed cloud has no CloudFormation stack recorded.",
            remediation="Run `cloudplane cloud setup` again to resume or recreate the cloud's stack.",
        )
        return
    stack = ctx.stack()
    if stack is None:
        yield fail(
            f"CloudFormation stack {stack_id} does not exist in region {ctx.aws.region}.",
            stack_id,
            "The stack was deleted: delete the cloud (`cloudplane cloud delete`) and set it up again.",
        )
        return
    status = str(stack.get("StackStatus", ""))
    name = stack.get("StackName", stack_id)
    usable = status in USABLE_STATES
    if not usable:
        yield fail(
            f"CloudFormation stack {name} is {status}, not in a completed create or update state.",
            stack_id,
            "Read the stack's events in the CloudFormation console, fix the cause, and run "
            "`cloudplane cloud update` (or delete and set up the cloud again after a rollback).",
        )
    tags = {t.get("Key"): t.get("Value") for t in stack.get("Tags", [])}
    if tags.get(TAG_KEY) != ctx.spec.id:
        found = f"{TAG_KEY}={tags[TAG_KEY]}" if TAG_KEY in tags else f"no {TAG_KEY} tag"
        yield fail(
            f"CloudFormation stack {name} has {found}, expected {TAG_KEY}={ctx.spec.id}; it may belong to "
            "another cloud.",
            stack_id,
            f"Check that the cloud points at its own stack; tag it with aws cloudformation update-stack "
            f"--stack-name {name} --use-previous-template --tags Key={TAG_KEY},Value={ctx.spec.id} "
            "(plus its parameters and capabilities).",
        )
    elif status == ROLLED_BACK_UPDATE:
        yield ok(
            f"CloudFormation stack {name} is {status} and tagged {TAG_KEY}={ctx.spec.id}: its last update failed "
            "and was rolled back, so the cloud runs on its previous configuration. Read the stack's events for "
            "the cause; `cloudplane cloud update` can be retried.",
            stack_id,
        )
    elif usable:
        yield ok(f"CloudFormation stack {name} is {status} and tagged {TAG_KEY}={ctx.spec.id}.", stack_id)


def _present_ec2(
    ctx: VerifyContext, kind: str, known: Callable[[], dict[str, Item]]
) -> Callable[[set[str]], set[str]]:
    """Ids among `ids` that exist: from data the other checks fetch anyway, one more call for the rest."""

    def present(ids: set[str]) -> set[str]:
        found = ids & set(known())
        rest = ids - found
        return found | (rest & set(ctx.ec2_by_ids(kind, rest)))

    return present


def _by_id(items: list[Item], field: str) -> dict[str, Item]:
    return {i[field]: i for i in items}


def _present_each(ctx: VerifyContext, exists: Callable[[str], bool]) -> Callable[[set[str]], set[str]]:
    """For resources asked one by one: all of them at once."""

    def present(ids: set[str]) -> set[str]:
        ordered = sorted(ids)
        return {i for i, found in zip(ordered, ctx.each(exists, ordered), strict=True) if found}

    return present


def _bucket_exists(ctx: VerifyContext, name: str) -> bool:
    if name == ctx.res.s3_bucket_id:
        return ctx.bucket_region() is not None
    try:
        ctx.aws.client("s3").head_bucket(Bucket=name)
    except AwsError as exc:
        if error_code(exc) in NOT_FOUND_CODES:
            return False
        raise
    return True


def _file_system_exists(ctx: VerifyContext, fs_id: str) -> bool:
    if fs_id == ctx.res.efs_id:
        return ctx.file_system() is not None
    try:
        return bool(ctx.aws.client("efs").describe_file_systems(FileSystemId=fs_id)["FileSystems"])
    except AwsError as exc:
        if error_code(exc) in NOT_FOUND_CODES:
            return False
        raise


def _role_exists(ctx: VerifyContext, name: str) -> bool:
    # Reuse the lookups IAM checks make by ARN when the name is one of the cloud's roles.
    for arn in (ctx.res.controlplane_role_arn, ctx.res.instance_role_arn):
        if arn and role_name(arn) == name:
            return ctx.role(arn) is not None
    return ctx.role(name) is not None


def _checkers(ctx: VerifyContext, resources: list[Item]) -> dict[str, Callable[[set[str]], set[str]]]:
    file_systems = {
        r["PhysicalResourceId"] for r in resources if r.get("ResourceType") == "AWS::EFS::FileSystem"
    } | ({ctx.res.efs_id} if ctx.res.efs_id else set())

    def mount_targets(ids: set[str]) -> set[str]:
        existing = {
            t["MountTargetId"] for targets in ctx.each(ctx.mount_targets, file_systems) for t in targets
        }
        return ids & existing

    return {
        "AWS::EC2::VPC": _present_ec2(ctx, "vpc", lambda: {v["VpcId"]: v for v in [ctx.vpc()] if v}),
        "AWS::EC2::Subnet": _present_ec2(ctx, "subnet", ctx.subnets),
        "AWS::EC2::SecurityGroup": _present_ec2(ctx, "security-group", ctx.security_groups),
        "AWS::EC2::InternetGateway": _present_ec2(
            ctx, "internet-gateway", lambda: _by_id(ctx.internet_gateways(), "InternetGatewayId")
        ),
        "AWS::EC2::RouteTable": _present_ec2(
            ctx, "route-table", lambda: _by_id(ctx.route_tables(), "RouteTableId")
        ),
        "AWS::EC2::VPCEndpoint": _present_ec2(
            ctx, "vpc-endpoint", lambda: _by_id(ctx.vpc_endpoints(), "VpcEndpointId")
        ),
        "AWS::S3::Bucket": _present_each(ctx, lambda name: _bucket_exists(ctx, name)),
        "AWS::EFS::FileSystem": _present_each(ctx, lambda fs: _file_system_exists(ctx, fs)),
        "AWS::EFS::MountTarget": mount_targets,
        "AWS::IAM::Role": _present_each(ctx, lambda name: _role_exists(ctx, name)),
        "AWS::IAM::InstanceProfile": _present_each(ctx, lambda name: ctx.instance_profile(name) is not None),
        "AWS::MemoryDB::Cluster": _present_each(ctx, lambda name: ctx.memorydb_cluster(name) is not None),
    }


def missing_resources(ctx: VerifyContext) -> tuple[list[Item], int]:
    """The stack's resources deleted outside CloudFormation, and how many resources were checked."""
    resources = [
        r
        for r in ctx.stack_resources()
        if r.get("PhysicalResourceId")
        and r.get("ResourceType")
        and r.get("ResourceStatus") != "DELETE_COMPLETE"
    ]
    checkers = _checkers(ctx, resources)
    by_type: dict[str, list[Item]] = defaultdict(list)
    for resource in resources:
        by_type[resource["ResourceType"]].append(resource)
    # Routes, associations, attachments ... have no checker: they are judged through the resources they tie.
    judged = [(checkers[t], members) for t, members in by_type.items() if t in checkers]

    def present(entry: tuple[Callable[[set[str]], set[str]], list[Item]]) -> set[str]:
        checker, members = entry
        return checker({r["PhysicalResourceId"] for r in members})

    missing: list[Item] = []
    for (_, members), found in zip(judged, ctx.each(present, judged), strict=True):
        missing.extend(r for r in members if r["PhysicalResourceId"] not in found)
    return missing, sum(len(members) for _, members in judged)


@check(
    "CFN-2",
    GROUP,
    Severity.WARNING,
    deployments=(MANAGED,),
    reads=(VerifyContext.stack, VerifyContext.stack_resources),
)
def stack_drift(ctx: VerifyContext) -> Iterator[Outcome]:
    stack = require(ctx.stack())
    name = stack.get("StackName", ctx.res.cloudformation_stack_id)
    missing, checked = missing_resources(ctx)
    for resource in missing:
        physical = resource["PhysicalResourceId"]
        yield fail(
            f"{resource['ResourceType']} {physical} (logical id {resource.get('LogicalResourceId')}) of stack "
            f"{name} no longer exists; it was deleted outside CloudFormation.",
            physical,
            "Restore it by updating the stack (`cloudplane cloud update`), or, if the stack cannot recover, "
            "delete the cloud and set it up again.",
        )
    if not missing:
        yield ok(
            f"All {checked} checked resources of stack {name} still exist.", ctx.res.cloudformation_stack_id
        )
