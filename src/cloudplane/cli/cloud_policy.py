"""`cloudplane cloud policy`: the IAM policies cloudplane's roles are given, and the least policy each command
needs of whoever runs it, printed from the same data the templates, the verifier and the docs use."""

from __future__ import annotations

import json

import click

from cloudplane.aws.command_policies import COMMANDS
from cloudplane.cli.cloud import OUTPUT
from cloudplane.errors import InputError


@click.command()
@click.option(
    "--role",
    type=click.Choice(["controlplane", "instance"]),
    help="controlplane: the cross-account role's three inline policies; instance: the nodes' bucket access.",
)
@click.option(
    "--for",
    "command",
    metavar="COMMAND",
    help=f"The least policy the identity running `cloudplane cloud COMMAND` needs ({'|'.join(COMMANDS)}).",
)
@click.option(
    "--cloud-id",
    metavar="CLOUD_ID",
    help="With --role controlplane: limit starting, stopping and tagging instances to this cloud's.",
)
@click.option("--bucket", metavar="NAME", help="With --role instance: the cloud's bucket (required).")
@OUTPUT
def policy(
    role: str | None, command: str | None, cloud_id: str | None, bucket: str | None, output: str
) -> int:
    """Print the inline policies of a cloud's role (--role), ready for `aws iam put-role-policy`, or the policy
    a command needs (--for), ready for `aws iam put-user-policy` or `create-policy`."""
    if role and command:
        raise InputError("give either --role or --for, not both")
    if command is not None:
        return _command_policy(command, cloud_id, bucket, output)
    if role is None:
        raise InputError(f"say which policy: --role controlplane|instance or --for {'|'.join(COMMANDS)}")
    return _role_policies(role, cloud_id, bucket, output)


def _command_policy(command: str, cloud_id: str | None, bucket: str | None, output: str) -> int:
    if cloud_id is not None or bucket is not None:
        raise InputError("--cloud-id and --bucket go with --role; --for takes no other option")
    if command not in COMMANDS:
        raise InputError(f"--for: no policy for {command!r}; one of {', '.join(COMMANDS)}")
    from cloudplane.aws.command_policies import command_policy, command_policy_parts

    document = command_policy(command)
    parts = command_policy_parts(command)
    if output == "json":
        click.echo(json.dumps({"command": command, "policy": document, "parts": parts}, indent=2))
    elif len(parts) == 1:
        click.echo(json.dumps(document, indent=2))
    else:
        # Too long for one managed policy: each part is one, all attached to the same identity.
        for index, part in enumerate(parts, 1):
            click.echo(
                f"# cloudplane-{command}-{index} ({index} of {len(parts)}): a managed policy of its own"
            )
            click.echo(json.dumps(part, indent=2))
    return 0


def _role_policies(role: str, cloud_id: str | None, bucket: str | None, output: str) -> int:
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
