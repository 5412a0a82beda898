"""Removing what a managed cloud's stack made: after a failed create, and on delete."""

from __future__ import annotations

from typing import Any

from cloudplane.aws.errors import error_code, error_message
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
                s3.delete_objects(
                    Bucket=bucket, Delete={"Objects": keys[start : start + 1000], "Quiet": True}
                )
        s3.delete_bucket(Bucket=bucket)
    except Exception as exc:
        if error_code(exc) == "NoSuchBucket":
            return False
        raise
    return True


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
        if _bucket_is_empty(aws, bucket):
            empty_and_delete_bucket(aws, bucket)
            console.info(f"Removed the empty bucket {bucket} that the rollback kept.")
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
