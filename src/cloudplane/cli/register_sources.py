"""`cloud register --from-stack / --from-terraform-state`: the resource flags found in a source, shown as the
equivalent explicit command, then the registration as usual. Without a source the flags stay required."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import click

# The register command's parameters that a source fills, by flag.
PARAMETERS = {
    "--vpc-id": "vpc_id",
    "--subnet-ids": "subnet_ids",
    "--security-group-ids": "security_group_ids",
    "--s3-bucket-id": "s3_bucket_id",
    "--efs-id": "efs_id",
    "--controlplane-iam-role-id": "controlplane_role",
    "--instance-iam-role-id": "instance_role",
    "--memorydb-cluster-id": "memorydb_cluster_id",
    "--private-network": "private_network",
    "--external-id": "external_id",
}
# Required when no source is given, in the order the command declares them.
REQUIRED = ("vpc_id", "subnet_ids", "security_group_ids", "s3_bucket_id", "instance_role")


def adopt_sources(command: Callable[..., Any]) -> Callable[..., Any]:
    """Adds --from-stack and --from-terraform-state to the register command; with one of them, the command
    receives the flags found (explicit flags kept) and `equivalent_command`."""

    @click.option(
        "--from-terraform-state",
        metavar="FILE",
        help="Find the resources in this local Terraform state file (format version 4); flags given too win.",
    )
    @click.option(
        "--from-stack",
        metavar="NAME|ARN",
        help="Find the resources in this CloudFormation stack (left as it is); flags given too win.",
    )
    @functools.wraps(command)
    def run(from_stack: str | None, from_terraform_state: str | None, **params: Any) -> Any:
        if from_stack or from_terraform_state:
            params["equivalent_command"] = _adopt(from_stack, from_terraform_state, params)
        else:
            _require_flags(params)
        return command(**params)

    return run


def _require_flags(params: dict[str, Any]) -> None:
    """Click's own "Missing option" error, as when these flags were declared required."""
    ctx = click.get_current_context()
    for param in ctx.command.params:
        if param.name in REQUIRED and params.get(param.name) is None:
            raise click.MissingParameter(ctx=ctx, param=param)


def _adopt(stack: str | None, state_path: str | None, params: dict[str, Any]) -> str:
    from cloudplane.client import ControlPlaneClient
    from cloudplane.clouds.adopt.discover import discover, refuse_if_registered
    from cloudplane.clouds.principal import trusted_principal
    from cloudplane.console import Console

    given = {flag: params.get(name) for flag, name in PARAMETERS.items()}
    given["--controlplane-iam-role-id"] = params.get("controlplane_role") or params.get(
        "peer_controlplane_role"
    )
    with ControlPlaneClient.from_env(announce=False) as client:
        adoption = discover(
            stack=stack,
            state_path=state_path,
            name=params["name"],
            region=params["region"],
            given=given,
            principal=lambda aws: trusted_principal(client, aws.account_id),
        )
        refuse_if_registered(client, adoption, params["name"])
    for flag, name in PARAMETERS.items():
        if flag in adoption.choice.flags:
            params[name] = adoption.choice.flags[flag]
    console = Console(quiet=params.get("output") == "json")
    console.info(f"Found in {adoption.found.source}:")
    for line in adoption.lines():
        console.info(f"  {line}")
    if not console.quiet:
        console.info("The same registration with every flag spelt out:")
        click.echo(adoption.command, err=True)
    return adoption.command
