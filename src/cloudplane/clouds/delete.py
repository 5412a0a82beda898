"""`cloud delete`: remove a managed cloud's stack (the bucket stays unless asked) and forget the cloud."""

from __future__ import annotations

from typing import Any

from cloudplane import naming
from cloudplane.aws.session import AwsClients
from cloudplane.aws.stacks import find_stack
from cloudplane.cloud import MANAGED
from cloudplane.clouds import cleanup
from cloudplane.clouds.identity import caller_identity
from cloudplane.console import Console
from cloudplane.errors import InputError, NotFound


def delete_managed_resources(
    cloud: dict[str, Any], *, client: Any, console: Console, delete_bucket: bool
) -> None:
    aws = AwsClients(cloud["region"])
    caller_identity(aws)
    cfn = aws.client("cloudformation")
    resources = cloud.get("resources") or {}
    stack_ref = resources.get("cloudformation_stack_id") or naming.stack_name(cloud["id"])
    client.update_cloud(cloud["id"], state="deleting")
    stack = find_stack(cfn, stack_ref)
    if stack is None:
        console.info("The cloud has no stack left in AWS.")
    else:
        try:
            cleanup.delete_stack(aws, console, stack["StackId"])
        except Exception as exc:
            client.update_cloud(cloud["id"], state="failed", failure_reason=f"delete failed: {exc}")
            raise
        console.info(f"Deleted stack {stack['StackId']}.")

    bucket = resources.get("s3_bucket_id") or naming.bucket_name(cloud["id"])
    if delete_bucket:
        if cleanup.empty_and_delete_bucket(aws, bucket):
            console.info(f"Deleted bucket {bucket} and every object version in it.")
    elif cleanup.bucket_exists(aws, bucket):
        console.warn(
            f"The bucket {bucket} and its data were kept on purpose. When you no longer need them, remove the "
            f"bucket with every object version in it: "
            f"cloudplane cloud delete-bucket {bucket} --region {cloud['region']}"
        )


def explain_what_stays(cloud: dict[str, Any], console: Console) -> None:
    """A customer-defined cloud's resources are the customer's: say which stay and how to end our access."""
    resources = {k: v for k, v in (cloud.get("resources") or {}).items() if v}
    console.info("None of your AWS resources were touched; these stay in your account:")
    for key, value in resources.items():
        console.info(f"  {key}: {', '.join(value) if isinstance(value, list) else value}")
    role_arn = resources.get("controlplane_role_arn")
    if role_arn:
        role = role_arn.rsplit("/", 1)[-1]
        principal = (cloud.get("options") or {}).get("controlplane_principal", "the control plane's principal")
        console.warn(
            f"The control plane can still assume {role_arn} until you revoke it: remove the statement trusting "
            f"{principal} (External ID {cloud['external_id']}) from the role's trust relationship "
            f"(IAM console > Roles > {role} > Trust relationships), or delete the role "
            f"(aws iam delete-role --role-name {role}, after removing its policies)."
        )


def delete_cloud(
    cloud: dict[str, Any], *, client: Any, console: Console, delete_bucket: bool = False
) -> None:
    managed = cloud["deployment"] == MANAGED
    if not managed and delete_bucket:
        raise InputError(
            f"cloud {cloud['name']} is customer-defined: its bucket is yours and cloudplane never deletes it"
        )
    if managed:
        delete_managed_resources(cloud, client=client, console=console, delete_bucket=delete_bucket)
    client.delete_cloud(cloud["id"])
    if not managed:
        explain_what_stays(cloud, console)
    console.success(f"Deleted cloud {cloud['name']} ({cloud['id']}).")


def delete_cloud_bucket(bucket: str, region: str, *, console: Console) -> None:
    """Remove a bucket a managed cloud left behind; refuses buckets cloudplane did not make."""
    aws = AwsClients(region)
    caller_identity(aws)
    if not cleanup.bucket_exists(aws, bucket):
        raise NotFound(f"no bucket named {bucket!r} in this account")
    owner = cleanup.bucket_cloud_id(aws, bucket)
    if owner is None:
        raise InputError(
            f"bucket {bucket} carries no {naming.TAG_KEY} tag; cloudplane only deletes its own buckets"
        )
    cleanup.empty_and_delete_bucket(aws, bucket)
    console.success(f"Deleted bucket {bucket} of cloud {owner} and every object version in it.")
