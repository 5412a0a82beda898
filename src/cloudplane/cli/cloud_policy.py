"""`cloudplane cloud policy`: the IAM policies cloudplane's roles are given, printed from the same data the
templates and the verifier use."""

from __future__ import annotations

import json

import click

from cloudplane.cli.cloud import OUTPUT
from cloudplane.errors import InputError


@click.command()
@click.option(
    "--role",
    type=click.Choice(["controlplane", "instance"]),
    required=True,
    help="controlplane: the cross-account role's three inline policies; instance: the nodes' bucket access.",
)
@click.option(
    "--cloud-id",
    metavar="CLOUD_ID",
    help="With --role controlplane: limit starting, stopping and tagging instances to this cloud's.",
)
@click.option("--bucket", metavar="NAME", help="With --role instance: the cloud's bucket (required).")
@OUTPUT
def policy(role: str, cloud_id: str | None, bucket: str | None, output: str) -> int:
    """Print the inline policies of a cloud's role, ready for `aws iam put-role-policy`."""
    from cloudplane import naming
    from cloudplane.aws import policies
    from cloudplane.clouds.delete import check_bucket_name

    if role == "controlplane":
        if bucket is not None:
            raise InputError("--bucket goes with --role instance")
        if cloud_id is not None:
            naming.validate_cloud_id(cloud_id)
        documents = policies.controlplane_inline_policies(cloud_id)
    else:
        if cloud_id is not None:
            raise InputError("--cloud-id goes with --role controlplane")
        if not bucket:
            raise InputError("--role instance needs --bucket NAME: the cloud's bucket")
        documents = policies.instance_policies(check_bucket_name(_bare(bucket)))
    if output == "json":
        click.echo(json.dumps({"role": role, "cloud_id": cloud_id, "policies": documents}, indent=2))
        return 0
    for name, document in documents.items():
        click.echo(f"# {name}")
        click.echo(json.dumps(document, indent=2))
    return 0


def _bare(bucket: str) -> str:
    return bucket.removeprefix("s3://").removeprefix("arn:aws:s3:::").rstrip("/")
