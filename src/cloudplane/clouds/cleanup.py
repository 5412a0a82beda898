"""Removing what a managed cloud's stack made: after a failed create, and on delete."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from cloudplane.aws.errors import AwsError, Fault, classify_code, error_code, error_message, iam_permission
from cloudplane.aws.session import AwsClients
from cloudplane.aws.stacks import StackState, StackWatcher, console_url, wait_until_settled
from cloudplane.console import Console
from cloudplane.errors import OperationFailed
from cloudplane.naming import TAG_KEY

DELETE_TIMEOUT = 60 * 60.0


def delete_stack(
    aws: AwsClients, console: Console, stack_id: str, *, timeout: float = DELETE_TIMEOUT
) -> StackState:
    """Delete the stack and follow it to the end. Returns the final state (DELETE_COMPLETE on success)."""
    return _delete_stack(aws, console, stack_id, timeout)


def _delete_stack(aws: AwsClients, console: Console, stack_id: str, timeout: float) -> StackState:
    cfn = aws.client("cloudformation")
    resources = cfn.list_stack_resources(StackName=stack_id).get("StackResourceSummaries", [])
    live = [r for r in resources if r.get("ResourceStatus") != "DELETE_COMPLETE"]
    watcher = StackWatcher(cfn, stack_id, len(live), ("DELETE_COMPLETE", "DELETE_SKIPPED"))
    # A stack whose earlier delete failed half-way still lists that attempt's events; they are not progress.
    watcher.ignore_earlier_events()
    cfn.delete_stack(StackName=stack_id)
    with console.status(f"Deleting cloud resources: 0/{watcher.total} done") as line:

        def show(state: StackState) -> None:
            line.update(f"Deleting cloud resources: {state.done}/{state.total} done ({state.status})")

        state = wait_until_settled(watcher, on_progress=show, timeout=timeout)
    if state.status != "DELETE_COMPLETE":
        reasons = "; ".join(f"{f.logical_id} ({f.resource_type}): {f.reason}" for f in watcher.failures())
        raise OperationFailed(
            f"stack {stack_id} could not be deleted ({state.status}): {reasons or state.reason or 'no reason given'}. "
            f"Fix the cause and re-run the command; the stack: {console_url(aws.region, stack_id)}"
        )
    return state


# --- policies added to the stack's roles outside the stack ------------------------------------------------

ROLE_TYPE = "AWS::IAM::Role"


@dataclass(frozen=True)
class OutsidePolicy:
    """A policy on one of a stack's roles that the stack's template does not declare."""

    role: str
    policy: str  # the inline policy's name, or the managed policy's ARN
    managed: bool

    def __str__(self) -> str:
        return f"{'managed policy' if self.managed else 'inline policy'} {self.policy} on role {self.role}"


@dataclass
class _Declared:
    """What the template puts on one role; `*_unknown`: a name or ARN the template computes in a way not
    resolved here, so nothing of that kind on the role counts as added outside."""

    inline: set[str] = field(default_factory=set)
    managed: set[str] = field(default_factory=set)
    inline_unknown: bool = False
    managed_unknown: bool = False


def policies_added_outside(aws: AwsClients, stack: dict[str, Any]) -> list[OutsidePolicy]:
    """Inline policies put on, and managed policies attached to, the stack's roles outside the stack.

    Deleting a role, CloudFormation removes only the policies its template declares; DeleteRole then fails
    with DeleteConflict while any other is left, and the stack ends in DELETE_FAILED.
    """
    cfn = aws.client("cloudformation")
    stack_id = stack["StackId"]
    resources = [
        r
        for page in cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
        for r in page.get("StackResourceSummaries", [])
        if r.get("ResourceStatus") != "DELETE_COMPLETE" and r.get("PhysicalResourceId")
    ]
    roles = {
        r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if r["ResourceType"] == ROLE_TYPE
    }
    if not roles:
        return []
    body = cfn.get_template(StackName=stack_id)["TemplateBody"]
    template = body if isinstance(body, dict) else _json_object(body)
    if template is None:  # not JSON: claim nothing, CloudFormation's own error will name what is left
        return []
    known = {
        **_pseudo_parameters(stack_id),
        **{p["ParameterKey"]: p.get("ParameterValue", "") for p in stack.get("Parameters") or []},
        **{r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources},
    }
    declared = _declared_policies(template.get("Resources") or {}, roles, known)
    iam = aws.client("iam")
    found: list[OutsidePolicy] = []
    for logical_id, role in roles.items():
        try:
            inline = [
                name
                for page in iam.get_paginator("list_role_policies").paginate(RoleName=role)
                for name in page.get("PolicyNames", [])
            ]
            attached = [
                policy["PolicyArn"]
                for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
                for policy in page.get("AttachedPolicies", [])
            ]
        except AwsError as exc:
            if exc.fault is Fault.NOT_FOUND:  # the role is gone already
                continue
            raise
        mine = declared[logical_id]
        if not mine.inline_unknown:
            found += [OutsidePolicy(role, name, False) for name in inline if name not in mine.inline]
        if not mine.managed_unknown:
            found += [OutsidePolicy(role, arn, True) for arn in attached if arn not in mine.managed]
    return found


def remove_outside_policies(aws: AwsClients, console: Console, policies: list[OutsidePolicy]) -> None:
    """Detach / delete the policies so that the stack can delete its roles (the managed policies stay)."""
    iam = aws.client("iam")
    for policy in policies:
        try:
            if policy.managed:
                iam.detach_role_policy(RoleName=policy.role, PolicyArn=policy.policy)
            else:
                iam.delete_role_policy(RoleName=policy.role, PolicyName=policy.policy)
        except AwsError as exc:
            if exc.fault is not Fault.NOT_FOUND:
                raise
        console.info(f"Removed the {policy}, which was added outside the stack.")


def _json_object(text: Any) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _pseudo_parameters(stack_id: str) -> dict[str, str]:
    # arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid>
    parts = stack_id.split(":")
    if len(parts) < 6:
        return {}
    partition, region, account = parts[1], parts[3], parts[4]
    suffix = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    return {
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::URLSuffix": suffix,
        "AWS::StackId": stack_id,
    }


def _resolve(value: Any, known: dict[str, str]) -> str | None:
    """A template value as a string: literals, Ref, Fn::Sub and Fn::Join over what `known` holds; else None."""
    if isinstance(value, str):
        return value
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ((function, argument),) = value.items()
    if function == "Ref":
        return known.get(argument) if isinstance(argument, str) else None
    if function == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
        parts = [_resolve(item, known) for item in argument[1] or []]
        return None if None in parts else str(argument[0]).join(p for p in parts if p is not None)
    if function == "Fn::Sub":
        if isinstance(argument, str):
            text, names = argument, {}
        elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
            text, names = argument
        else:
            return None
        if not isinstance(text, str):
            return None
        values = {**known, **{k: _resolve(v, known) for k, v in names.items()}}
        missing: list[str] = []

        def put(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            found = values.get(name)
            if found is None:
                missing.append(name)
                return ""
            return found

        resolved = re.sub(r"\$\{([^}]*)\}", put, text)
        return None if missing else resolved
    return None


def _declared_policies(
    resources: dict[str, Any], roles: dict[str, str], known: dict[str, str]
) -> dict[str, _Declared]:
    """Per role (logical id): the policies the template gives it, in the role and in policy resources."""
    declared = {logical_id: _Declared() for logical_id in roles}
    by_name = {name: logical_id for logical_id, name in roles.items()}

    def role_of(value: Any) -> str | None:
        if isinstance(value, dict) and isinstance(value.get("Ref"), str) and value["Ref"] in roles:
            return str(value["Ref"])
        return by_name.get(value) if isinstance(value, str) else None

    def add_inline(logical_id: str | None, name: Any) -> None:
        if logical_id is None:
            return
        resolved = _resolve(name, known)
        if resolved is None:
            declared[logical_id].inline_unknown = True
        else:
            declared[logical_id].inline.add(resolved)

    def add_managed(logical_id: str | None, arn: Any) -> None:
        if logical_id is None:
            return
        resolved = _resolve(arn, known)
        if resolved is None:
            declared[logical_id].managed_unknown = True
        else:
            declared[logical_id].managed.add(resolved)

    for logical_id, resource in resources.items():
        if not isinstance(resource, dict):
            continue
        kind, props = resource.get("Type"), resource.get("Properties") or {}
        if kind == ROLE_TYPE and logical_id in roles:
            for policy in props.get("Policies") or []:
                add_inline(logical_id, policy.get("PolicyName") if isinstance(policy, dict) else None)
            for arn in props.get("ManagedPolicyArns") or []:
                add_managed(logical_id, arn)
        elif kind == "AWS::IAM::Policy":
            for role in props.get("Roles") or []:
                add_inline(role_of(role), props.get("PolicyName"))
        elif kind == "AWS::IAM::RolePolicy":
            add_inline(role_of(props.get("RoleName")), props.get("PolicyName"))
        elif kind == "AWS::IAM::ManagedPolicy":
            for role in props.get("Roles") or []:
                add_managed(role_of(role), {"Ref": logical_id})  # its physical id is its ARN
    return declared


def empty_and_delete_bucket(aws: AwsClients, bucket: str) -> bool:
    """Remove every object version and the bucket. Returns False when the bucket does not exist."""
    s3 = aws.client("s3")
    try:
        paginator = s3.get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket):
            keys = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            for start in range(0, len(keys), 1000):
                chunk = {"Objects": keys[start : start + 1000], "Quiet": True}
                answer = s3.delete_objects(Bucket=bucket, Delete=chunk)
                _raise_for_kept_objects(answer, bucket, chunk, aws.region)
        s3.delete_bucket(Bucket=bucket)
    except Exception as exc:
        if error_code(exc) == "NoSuchBucket":
            return False
        raise
    return True


def _raise_for_kept_objects(answer: dict[str, Any], bucket: str, chunk: dict[str, Any], region: str) -> None:
    """DeleteObjects answers 200 and lists the objects it could not delete (AccessDenied, object lock ...)
    under Errors: one of them becomes the error, instead of the bucket's delete failing later as not empty."""
    kept = answer.get("Errors") or []
    if not kept:
        return
    first = kept[0]
    code = str(first.get("Code", ""))
    more = f" and {len(kept) - 1} more" if len(kept) > 1 else ""
    raise AwsError(
        service="s3",
        operation="DeleteObjects",
        fault=classify_code(code, None),
        code=code,
        detail=f"{first.get('Key')}{more} not deleted: {first.get('Message', '')}".strip(),
        resource=bucket,
        region=region,
        permission=iam_permission("s3", "DeleteObjects", {"Delete": chunk}),
    )


def bucket_cloud_id(aws: AwsClients, bucket: str) -> str | None:
    """The cloud id the bucket is tagged with, or None when it carries no cloudplane tag."""
    try:
        tags = aws.client("s3").get_bucket_tagging(Bucket=bucket).get("TagSet", [])
    except Exception as exc:
        if error_code(exc) == "NoSuchTagSet":
            return None
        raise
    return next((t["Value"] for t in tags if t["Key"] == TAG_KEY), None)


def count_object_versions(aws: AwsClients, bucket: str) -> tuple[int, int]:
    """How many object versions and delete markers the bucket holds."""
    versions = markers = 0
    for page in aws.client("s3").get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions += len(page.get("Versions", []))
        markers += len(page.get("DeleteMarkers", []))
    return versions, markers


def bucket_exists(aws: AwsClients, bucket: str) -> bool:
    try:
        aws.client("s3").head_bucket(Bucket=bucket)
    except Exception as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise
    return True


def _bucket_is_empty(aws: AwsClients, bucket: str) -> bool | None:
    """True/False, or None when the bucket does not exist."""
    try:
        listing = aws.client("s3").list_object_versions(Bucket=bucket, MaxKeys=1)
    except Exception as exc:
        if error_code(exc) == "NoSuchBucket":
            return None
        raise
    return not (listing.get("Versions") or listing.get("DeleteMarkers"))


def remove_kept_bucket(aws: AwsClients, console: Console, cloud: dict[str, Any], bucket: str) -> None:
    """Remove the bucket that a rolled-back stack of this cloud kept (DeletionPolicy Retain).

    Its name is fixed by the cloud id, so while it exists the next CreateStack fails on it ("already
    exists"). Only an empty bucket tagged with this cloud's id goes; any other bucket of that name stops
    the setup with one line saying what to do.
    """
    empty = _bucket_is_empty(aws, bucket)
    if empty is None:
        return
    owner = bucket_cloud_id(aws, bucket)
    if owner != cloud["id"]:
        raise OperationFailed(
            f"a bucket named {bucket}, the name cloud {cloud['name']}'s stack gives its bucket, exists without "
            f"the tag {TAG_KEY}={cloud['id']}, so cloudplane leaves it alone and cannot make the stack: if that "
            f"bucket is yours to remove, remove it and re-run this setup; otherwise run `cloudplane cloud delete "
            f"--name {cloud['name']} --yes` and set up a new cloud"
        )
    versions = 0 if empty else count_object_versions(aws, bucket)[0]
    if versions:  # delete markers alone hold no data
        raise OperationFailed(
            f"bucket {bucket}, kept by an earlier attempt's rolled-back stack, now holds data ({versions} object "
            f"version{'s' if versions != 1 else ''}), so setup does not remove it and cannot make the cloud's "
            f"bucket again: copy what you need, then empty the bucket and re-run this setup, or run `cloudplane "
            f"cloud delete --name {cloud['name']} --yes --delete-bucket` and set up a new cloud"
        )
    empty_and_delete_bucket(aws, bucket)
    console.info(f"Removed the empty bucket {bucket} that the rolled-back stack kept.")


def after_failed_create(
    aws: AwsClients,
    console: Console,
    client: Any,
    cloud: dict[str, Any],
    watcher: StackWatcher,
    state: StackState,
    *,
    bucket: str,
) -> None:
    """Report why, remove the rolled-back stack and the fresh (empty) bucket it retained, mark the cloud failed."""
    failures = watcher.failures()
    console.error(f"Creating the cloud resources failed: the stack ended in {state.status}.")
    for failure in failures:
        console.error(f"  {failure.logical_id} ({failure.resource_type}): {failure.reason}")
    reason = "; ".join(f"{f.logical_id}: {f.reason}" for f in failures) or state.reason or state.status
    client.update_cloud(cloud["id"], state="failed", failure_reason=reason)

    leftovers: list[str] = []
    try:
        delete_stack(aws, console, watcher.stack_id)
        console.info(f"The stack {watcher.stack_id} was rolled back and deleted.")
    except OperationFailed as exc:
        leftovers.append(str(exc))
    try:
        remove_kept_bucket(aws, console, cloud, bucket)
    except OperationFailed as exc:
        leftovers.append(str(exc))
    except Exception as exc:  # the bucket is a leftover to report, not a reason to hide the failure
        leftovers.append(f"bucket {bucket} could not be removed: {error_message(exc)}")
    where = f"`cloudplane cloud setup --name {cloud['name']} --region {cloud['region']} ...`"
    if leftovers:
        raise OperationFailed(
            f"setup of cloud {cloud['name']} failed ({reason}) and cleaning up was incomplete: "
            + " | ".join(leftovers)
            + f". Re-run `cloudplane cloud delete --name {cloud['name']} --yes` to finish the clean-up."
        )
    raise OperationFailed(
        f"setup of cloud {cloud['name']} failed: {reason}. Nothing is left in AWS. Fix the cause and re-run {where} "
        f"to try again with the same cloud, or `cloudplane cloud delete --name {cloud['name']} --yes` to forget it."
    )
