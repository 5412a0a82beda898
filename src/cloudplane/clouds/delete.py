"""`cloud delete`: remove a managed cloud's stack (the bucket stays unless asked) and forget the cloud.

A customer-defined cloud's resources stay the customer's; only the trust statement `cloud register
--add-trust` added to its role goes, when the user agrees (added_trust).

`cloud delete-bucket`: remove a bucket a deleted managed cloud kept, and nothing else.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from cloudplane import naming
from cloudplane.aws.errors import error_message
from cloudplane.aws.session import AwsClients
from cloudplane.aws.stacks import find_stack
from cloudplane.cloud import MANAGED
from cloudplane.clouds import cleanup, dependents
from cloudplane.clouds.added_trust import remove_added_statement
from cloudplane.clouds.claims import CloudClaim
from cloudplane.clouds.dependents import DeleteHalted, LiveInstances
from cloudplane.clouds.identity import caller_identity
from cloudplane.clouds.trust import ADDED_TRUST_OPTION, undo_interrupted_change
from cloudplane.console import Console
from cloudplane.errors import CloudplaneError, Conflict, InputError, NotFound, OperationFailed

# S3's rules for bucket names (besides no '..', checked apart): 3-63 characters, lowercase letters, digits,
# '.' and '-', starting and ending with a letter or digit.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")


def check_bucket_name(bucket: str) -> str:
    if not _BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise InputError(
            f"{naming.shown(bucket)} is not an S3 bucket name: use 3-63 lowercase letters, digits, '.' or '-', "
            "starting and ending with a letter or digit, without '..'"
        )
    return bucket


def stack_of(cloud: dict[str, Any]) -> str:
    """The managed cloud's stack: its recorded id, or the name setup gives it."""
    return (cloud.get("resources") or {}).get("cloudformation_stack_id") or naming.stack_name(cloud["id"])


def stack_name_of(cloud: dict[str, Any]) -> str:
    ref = stack_of(cloud)
    # A stack id is an ARN: arn:aws:cloudformation:<region>:<account>:stack/<name>/<uuid>.
    return ref.split("/")[1] if ref.startswith("arn:") and ref.count("/") >= 2 else ref


def bucket_of(cloud: dict[str, Any]) -> str | None:
    """The cloud's bucket: the recorded one, or for a managed cloud the name setup gives it."""
    recorded = (cloud.get("resources") or {}).get("s3_bucket_id")
    if recorded:
        return _bare_bucket(recorded)
    return naming.bucket_name(cloud["id"]) if cloud.get("deployment") == MANAGED else None


def _bare_bucket(value: str) -> str:
    return value.removeprefix("s3://").removeprefix("arn:aws:s3:::").rstrip("/")


def added_trust_statement(cloud: dict[str, Any]) -> str | None:
    """The Sid of the trust statement `register --add-trust` added to a registered cloud's role, if any
    (a killed registration's edit is undone whole instead)."""
    if cloud["deployment"] == MANAGED or cloud["state"] == "creating":
        return None
    return (cloud.get("options") or {}).get(ADDED_TRUST_OPTION)


def added_trust_question(cloud: dict[str, Any]) -> str:
    role_arn = cloud["resources"]["controlplane_role_arn"]
    return (
        f"Remove the statement {added_trust_statement(cloud)} that cloudplane added to the trust policy of "
        f"{role_arn} (the role's other statements stay)? Kept, it still lets the control plane assume the role."
    )


def delete_question(
    cloud: dict[str, Any],
    *,
    delete_bucket: bool,
    outside_policies: Sequence[cleanup.OutsidePolicy] | None = (),
    terminating: LiveInstances | None = None,
    remove_trust: bool | None = None,
) -> str:
    """What `cloud delete` will remove, as the question asked before doing it.

    `outside_policies`: policies added to the stack's roles outside it, which go first; None: not known.
    `terminating`: the live instances `--terminate-clusters` terminates first.
    `remove_trust`: whether the trust statement cloudplane added goes (None: asked next)."""
    first = f" First terminates the cloud's instances: {terminating.describe()}." if terminating else ""
    if cloud["deployment"] != MANAGED:
        if delete_bucket:
            raise _customer_bucket_refusal(cloud)
        sid = added_trust_statement(cloud)
        touched = "none of your AWS resources are touched"
        trust = ""
        if sid and remove_trust:
            touched = f"of your AWS resources only the trust statement {sid} cloudplane added is removed"
        elif sid:
            trust = f" The trust statement {sid} cloudplane added to the cloud's role " + (
                "stays." if remove_trust is False else "is asked about next."
            )
        return (
            f"Delete cloud {cloud['name']} ({cloud['id']}): the record only; {touched} (load balancers "
            f"cloudplane made for the cloud are deleted).{trust}{first} Clusters of this cloud become "
            "unreachable. Continue?"
        )
    bucket = bucket_of(cloud)
    if delete_bucket:
        data = f", and the bucket {bucket} with all its data (every object version)"
    else:
        data = f"; the bucket {bucket} and its data are kept"
    extra = ""
    if outside_policies is None:
        extra = " Any policy added to the stack's roles outside it is removed first."
    elif outside_policies:
        listed = "; ".join(str(policy) for policy in outside_policies)
        extra = f" Policies added to the stack's roles outside it are removed first: {listed}."
    return (
        f"Delete cloud {cloud['name']} ({cloud['id']}): the CloudFormation stack {stack_name_of(cloud)} in "
        f"{cloud['region']} with every resource in it{data}.{first}{extra} Clusters of this cloud become "
        "unreachable. Continue?"
    )


def outside_policies_of(cloud: dict[str, Any]) -> list[cleanup.OutsidePolicy] | None:
    """For the question: policies on a managed cloud's stack roles that the delete removes first.

    None when they could not be looked up: the delete itself looks again, and an AWS error there is
    reported and marks the cloud failed, as any other."""
    if cloud.get("deployment") != MANAGED:
        return []
    try:
        aws = AwsClients(cloud["region"])
        stack = find_stack(aws.client("cloudformation"), stack_of(cloud))
        return cleanup.policies_added_outside(aws, stack) if stack is not None else []
    except Exception:
        return None


def _customer_bucket_refusal(cloud: dict[str, Any]) -> InputError:
    return InputError(
        f"cloud {cloud['name']} is customer-defined: its bucket is yours and cloudplane never deletes it"
    )


def rerun_command(cloud: dict[str, Any], *, delete_bucket: bool, terminate_clusters: bool) -> str:
    return (
        f"cloudplane cloud delete --name {cloud['name']} --yes"
        + (" --delete-bucket" if delete_bucket else "")
        + (" --terminate-clusters" if terminate_clusters else "")
    )


def delete_managed_resources(
    cloud: dict[str, Any],
    *,
    client: Any,
    console: Console,
    delete_bucket: bool,
    live: LiveInstances | None = None,
    terminate_clusters: bool = False,
    wait_seconds: float | None = None,
) -> None:
    """The cloud's instances (`live`, when the delete may terminate them) and load balancers, then its
    stack and (if asked) its bucket."""
    aws = AwsClients(cloud["region"])
    caller_identity(aws)
    client.update_cloud(cloud["id"], state="deleting")
    rerun = rerun_command(cloud, delete_bucket=delete_bucket, terminate_clusters=terminate_clusters)
    try:
        _remove_dependents(cloud, live, client=client, console=console, wait_seconds=wait_seconds)
        _delete_stack_and_bucket(aws, cloud, console=console, delete_bucket=delete_bucket)
    except DeleteHalted as exc:
        # Nothing of the cloud's own was deleted yet: it stays `deleting` (no new clusters), and a rerun
        # continues from there.
        raise DeleteHalted(
            f"{str(exc).rstrip('.')}. Cloud {cloud['name']} stays deleting; `{rerun}` continues the delete."
        ) from exc
    except BaseException as exc:
        # Failed, with the reason, is what a re-run continues from.
        if isinstance(exc, KeyboardInterrupt):
            _mark_failed(client, cloud, "delete failed: interrupted; the stack's delete may still run in AWS")
            raise
        reason = str(exc) if isinstance(exc, CloudplaneError) else error_message(exc)
        _mark_failed(client, cloud, f"delete failed: {reason}")
        raise OperationFailed(
            f"{reason.rstrip('.')}. Cloud {cloud['name']} is marked failed; `{rerun}` continues the delete."
        ) from exc


def _remove_dependents(
    cloud: dict[str, Any],
    live: LiveInstances | None,
    *,
    client: Any,
    console: Console,
    wait_seconds: float | None,
) -> None:
    """What must go before the cloud's own resources: its instances, then its load balancers."""
    timeout = dependents.wait_seconds(wait_seconds)
    if live:
        dependents.terminate_and_wait(cloud, live, client=client, console=console, timeout=timeout)
    dependents.remove_load_balancers(cloud, client=client, console=console, timeout=timeout)


def _mark_failed(client: Any, cloud: dict[str, Any], reason: str) -> None:
    # The delete's own error is the one to report; a re-run works from `deleting` too.
    with contextlib.suppress(Exception):
        client.update_cloud(cloud["id"], state="failed", failure_reason=reason)


def _delete_stack_and_bucket(
    aws: AwsClients, cloud: dict[str, Any], *, console: Console, delete_bucket: bool
) -> None:
    stack_ref = stack_of(cloud)
    stack = find_stack(aws.client("cloudformation"), stack_ref)
    if stack is None:
        console.info("The cloud has no stack left in AWS.")
    else:
        if stack["StackStatus"] == "DELETE_FAILED":
            console.info(f"Deleting the stack {stack['StackId']} again after an earlier attempt failed.")
        # CloudFormation removes only the policies its template gives a role; with any other one left the
        # role's deletion fails (DeleteConflict) and with it the stack's.
        cleanup.remove_outside_policies(aws, console, cleanup.policies_added_outside(aws, stack))
        cleanup.delete_stack(aws, console, stack["StackId"])
        console.info(f"Deleted stack {stack['StackId']}.")

    bucket = bucket_of(cloud) or naming.bucket_name(cloud["id"])
    if delete_bucket:
        removed = cleanup.empty_and_delete_bucket(aws, bucket)
        if removed:
            console.info(f"Deleted bucket {bucket} and every object version in it.")
        return
    try:
        kept = cleanup.bucket_exists(aws, bucket)
    except Exception:  # only decides whether to print the hint below; no reason to fail the delete
        kept = True
    if kept:
        console.warn(
            f"The bucket {bucket} and its data were kept on purpose. When you no longer need them, remove the "
            f"bucket with every object version in it: "
            f"cloudplane cloud delete-bucket {bucket} --region {cloud['region']}"
        )


def explain_what_stays(cloud: dict[str, Any], console: Console, *, access_ended: bool = False) -> None:
    """A customer-defined cloud's resources are the customer's: say which stay and how to end our access
    (`access_ended`: the trust statement cloudplane added was removed)."""
    resources = {k: v for k, v in (cloud.get("resources") or {}).items() if v}
    went = "cloudplane's trust statement, " if access_ended else ""
    console.info(
        f"Your own AWS resources were not touched (only {went}instances and load balancers cloudplane made "
        "went); these stay:"
    )
    for key, value in resources.items():
        console.info(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
    role_arn = resources.get("controlplane_role_arn")
    if role_arn and not access_ended:
        role = role_arn.rsplit("/", 1)[-1]
        principal = (cloud.get("options") or {}).get(
            "controlplane_principal", "the control plane's principal"
        )
        sid = added_trust_statement(cloud)
        console.warn(
            f"The control plane can still assume {role_arn} until you revoke it: remove the statement "
            + (f"{sid} " if sid else "")
            + "trusting "
            f"{principal} (External ID {cloud['external_id']}) from the role's trust relationship "
            f"(IAM console > Roles > {role} > Trust relationships), or delete the role "
            f"(aws iam delete-role --role-name {role}, after removing its policies)."
        )


def delete_cloud(
    cloud: dict[str, Any],
    *,
    client: Any,
    console: Console,
    delete_bucket: bool = False,
    terminate_clusters: bool = False,
    confirm: Callable[[LiveInstances], None] | None = None,
    wait_seconds: float | None = None,
    remove_added_trust: Callable[[dict[str, Any]], bool] | None = None,
) -> None:
    """Delete the cloud: refused (ClustersRunning, nothing touched) while it has live instances, unless
    `terminate_clusters`. `confirm` is asked, with the live instances, once the delete may go on.
    `wait_seconds`: how long to wait for instances and load balancers to go (default: WAIT_ENV, 10 min).
    `remove_added_trust`: asked, after `confirm`, whether the trust statement `register --add-trust` added
    goes too (without it, the statement stays)."""
    managed = cloud["deployment"] == MANAGED
    if not managed and delete_bucket:
        raise _customer_bucket_refusal(cloud)
    timeout = dependents.wait_seconds(wait_seconds)
    with CloudClaim(client, "delete") as claim:
        cloud = claim.take(cloud["id"])
        live = dependents.find_live_instances(cloud, client)
        notice = dependents.role_notice(live)
        if notice:
            console.warn(notice)
        dependents.check_may_go_on(cloud, live, terminate_clusters=terminate_clusters)
        if confirm is not None:
            confirm(live)
        remove_trust = bool(added_trust_statement(cloud) and remove_added_trust and remove_added_trust(cloud))
        if managed:
            delete_managed_resources(
                cloud,
                client=client,
                console=console,
                delete_bucket=delete_bucket,
                live=live,
                terminate_clusters=terminate_clusters,
                wait_seconds=timeout,
            )
        else:
            _clear_customer_defined(
                cloud,
                live,
                client=client,
                console=console,
                terminate_clusters=terminate_clusters,
                timeout=timeout,
            )
            if cloud["state"] == "creating":
                # A registration that was killed: its trust-policy edit is put back before the record goes.
                done = undo_interrupted_change(AwsClients(cloud["region"]), cloud)
                if done:
                    console.info(f"The registration of {cloud['name']} was interrupted: {done}.")
            if remove_trust:
                remove_trust = _remove_added_trust(cloud, console, terminate_clusters=terminate_clusters)
        client.delete_cloud(cloud["id"])
    if not managed:
        explain_what_stays(cloud, console, access_ended=remove_trust)
    console.success(f"Deleted cloud {cloud['name']} ({cloud['id']}).")


def _remove_added_trust(cloud: dict[str, Any], console: Console, *, terminate_clusters: bool) -> bool:
    """Remove the statement `register --add-trust` added; True when it went. A failure stops the delete
    with the cloud still `deleting`, for a rerun."""
    try:
        removed, done = remove_added_statement(AwsClients(cloud["region"]), cloud, console.info)
    except CloudplaneError as exc:
        rerun = rerun_command(cloud, delete_bucket=False, terminate_clusters=terminate_clusters)
        raise OperationFailed(
            f"{str(exc).rstrip('.')}. Cloud {cloud['name']} stays deleting; `{rerun}` continues the delete "
            "(add --keep-trust to leave the statement)."
        ) from exc
    console.info(done[0].upper() + done[1:] + ".")
    return removed


def _clear_customer_defined(
    cloud: dict[str, Any],
    live: LiveInstances,
    *,
    client: Any,
    console: Console,
    terminate_clusters: bool,
    timeout: float,
) -> None:
    """A customer-defined cloud's instances and load balancers are cloudplane's: they go before the record.

    While they do, the cloud is `deleting` (no new clusters), except a killed registration (`creating`),
    which must stay so for its rerun to put the trust policy back."""
    if cloud["state"] != "creating":
        client.update_cloud(cloud["id"], state="deleting")
    try:
        _remove_dependents(cloud, live, client=client, console=console, wait_seconds=timeout)
    except DeleteHalted as exc:
        rerun = rerun_command(cloud, delete_bucket=False, terminate_clusters=terminate_clusters)
        state = "stays creating" if cloud["state"] == "creating" else "stays deleting"
        raise DeleteHalted(
            f"{str(exc).rstrip('.')}. Cloud {cloud['name']} {state}; `{rerun}` continues the delete."
        ) from exc


# --- delete-bucket ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeptBucket:
    """A bucket that `delete-bucket` may remove: tagged by cloudplane, of a cloud no longer known."""

    name: str
    region: str
    cloud_id: str
    versions: int
    delete_markers: int

    def contents(self) -> str:
        held = f"{self.versions} object version{'s' if self.versions != 1 else ''}"
        if self.delete_markers:
            held += f" and {self.delete_markers} delete marker{'s' if self.delete_markers != 1 else ''}"
        return held

    def question(self) -> str:
        return (
            f"Delete bucket {self.name} in {self.region}, kept from deleted cloud {self.cloud_id}, with the "
            f"{self.contents()} it holds? This cannot be undone. Continue?"
        )


def cloud_using_bucket(
    clouds: Iterable[dict[str, Any]], bucket: str, tagged_cloud_id: str | None
) -> dict[str, Any] | None:
    """The known cloud (in any state) whose record names the bucket, or whose id the bucket's tag carries."""
    for cloud in clouds:
        recorded = (cloud.get("resources") or {}).get("s3_bucket_id")
        if (recorded and _bare_bucket(recorded) == bucket) or cloud["id"] == tagged_cloud_id:
            return cloud
    return None


def _in_use(cloud: dict[str, Any], bucket: str) -> Conflict:
    which = f"{cloud['name']} ({cloud['id']}, {cloud['state']})"
    if cloud["deployment"] == MANAGED:
        return Conflict(
            f"bucket {bucket} belongs to cloud {which}, which the control plane still knows; deleting it "
            f"would lose the cloud's data and break the cloud. To remove the cloud and its data together: "
            f"cloudplane cloud delete --name {cloud['name']} --delete-bucket"
        )
    return Conflict(
        f"bucket {bucket} is used by customer-defined cloud {which}; it is your bucket and cloudplane never "
        f"deletes it (`cloudplane cloud delete --name {cloud['name']}` forgets the cloud and leaves the bucket)"
    )


def inspect_kept_bucket(bucket: str, region: str, *, client: Any) -> KeptBucket:
    """Everything `delete-bucket` checks before asking; refuses any bucket it must not delete."""
    check_bucket_name(bucket)
    aws = AwsClients(region)
    caller_identity(aws)
    if not cleanup.bucket_exists(aws, bucket):
        raise NotFound(f"no bucket named {bucket!r} in this account")
    owner = cleanup.bucket_cloud_id(aws, bucket)
    user = cloud_using_bucket(client.list_clouds(), bucket, owner)
    if user is not None:
        raise _in_use(user, bucket)
    if owner is None:
        raise InputError(
            f"bucket {bucket} carries no {naming.TAG_KEY} tag; cloudplane only deletes its own buckets"
        )
    if bucket != naming.bucket_name(owner):
        # Customer-defined clouds' buckets can carry the tag too (from cloudplane's template), under
        # another name; only a managed cloud's bucket is named after its cloud id.
        raise InputError(
            f"bucket {bucket} is tagged with cloud {owner} but is not that cloud's managed bucket "
            f"({naming.bucket_name(owner)}); cloudplane never deletes a customer-defined cloud's bucket"
        )
    versions, markers = cleanup.count_object_versions(aws, bucket)
    return KeptBucket(bucket, region, owner, versions, markers)


def delete_kept_bucket(kept: KeptBucket, *, client: Any, console: Console) -> None:
    """Empty (every object version) and delete a bucket `inspect_kept_bucket` accepted."""
    # Checked again: a cloud may have been registered with this bucket while the question waited.
    user = cloud_using_bucket(client.list_clouds(), kept.name, kept.cloud_id)
    if user is not None:
        raise _in_use(user, kept.name)
    removed = cleanup.empty_and_delete_bucket(AwsClients(kept.region), kept.name)
    if not removed:
        raise NotFound(f"no bucket named {kept.name!r} in this account")
    console.success(
        f"Deleted bucket {kept.name} of deleted cloud {kept.cloud_id} with the {kept.contents()} it held."
    )
