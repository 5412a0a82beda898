"""`cloudplane cloud edit`: change the resources of a customer-defined cloud."""

from __future__ import annotations

from typing import Any

import click

from cloudplane.cli.cloud import FUNCTIONAL_VERIFY


@click.command()
@click.argument("cloud_name", required=False, metavar="[NAME]")
@click.option(
    "--name", "-n", "name_option", metavar="NAME", help="The cloud's name (or give it as argument)."
)
@click.option("--id", "--cloud-id", "cloud_id", metavar="CLOUD_ID", help="The cloud's id (cld_...).")
@click.option("--aws-s3-id", help="The new bucket.")
@click.option("--aws-efs-id", help="The new EFS file system, or 'none' to go without one.")
@click.option(
    "--aws-efs-mount-target-ip", help="The mount target address to use (it must belong to the EFS)."
)
@click.option("--memorydb-cluster-id", help="The new MemoryDB cluster, or 'none' to go without one.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@FUNCTIONAL_VERIFY
def edit(
    cloud_name: str | None,
    name_option: str | None,
    cloud_id: str | None,
    aws_s3_id: str | None,
    aws_efs_id: str | None,
    aws_efs_mount_target_ip: str | None,
    memorydb_cluster_id: str | None,
    yes: bool,
    functional_verify: str | None,
) -> int:
    """Point a customer-defined cloud at other resources, verified before it changes."""
    from cloudplane import naming
    from cloudplane.clouds import functional_verification as functional
    from cloudplane.clouds.edit import EditRequest
    from cloudplane.errors import InputError

    # A name given empty is refused as a name, not taken for no name at all.
    for given in (cloud_name, name_option):
        if given is not None:
            naming.validate_cloud_name(given)
    if cloud_name and name_option and cloud_name != name_option:
        raise InputError(f"two names given: {cloud_name!r} and --name {name_option!r}")
    targets = functional.parse_flag(functional_verify)
    request = EditRequest(aws_s3_id, aws_efs_id, aws_efs_mount_target_ip, memorydb_cluster_id)
    request.validate()
    functional.preflight(targets, yes)

    from cloudplane.cli.cloud import open_client, select_cloud
    from cloudplane.clouds.edit import edit_cloud
    from cloudplane.clouds.verification import render_report, run_verification
    from cloudplane.console import Console, confirm

    console = Console()

    def verify(cloud: dict[str, Any], aws: Any) -> Any:
        report = run_verification(cloud, console=console, aws=aws)
        render_report(report, console)
        return report

    with open_client() as client:
        cloud = select_cloud(client, cloud_name or name_option, cloud_id)
        edited, _ = edit_cloud(
            cloud,
            request,
            client=client,
            console=console,
            verify=verify,
            confirm_edit=lambda question: confirm(question, yes),
        )
        if targets:
            return functional.run_functional_verification(client, edited, targets, yes=yes)[0]
    return 0
