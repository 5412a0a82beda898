"""`cloudplane cloud update`: bring a managed cloud's stack and cross-account role up to date."""

from __future__ import annotations

import click

from cloudplane.cli.cloud import OUTPUT


@click.command()
@click.argument("cloud_name", required=False, metavar="[NAME]")
@click.option(
    "--name", "-n", "name_option", metavar="NAME", help="The cloud's name (or give it as argument)."
)
@click.option("--id", "--cloud-id", "cloud_id", metavar="CLOUD_ID", help="The cloud's id (cld_...).")
@click.option(
    "--enable-head-node-fault-tolerance",
    is_flag=True,
    help="Also add a MemoryDB cluster for head-node fault tolerance (adds about 20 minutes).",
)
@click.option("--yes", "-y", is_flag=True, help="Apply the changes without asking.")
@OUTPUT
def update(
    cloud_name: str | None,
    name_option: str | None,
    cloud_id: str | None,
    enable_head_node_fault_tolerance: bool,
    yes: bool,
    output: str,
) -> int:
    """Update a managed cloud's stack and its role's policies to this cloudplane version.

    The stack changes through a change set that is shown first; statements you added to the role's
    cloudplane policies are kept in its inline policy Customer_Drifts_Policy. An up-to-date cloud is left
    alone. Exit 1 when the update fails (CloudFormation then rolls it back).
    """
    from cloudplane import naming
    from cloudplane.errors import InputError

    for given in (cloud_name, name_option):
        if given is not None:
            naming.validate_cloud_name(given)
    if cloud_name and name_option and cloud_name != name_option:
        raise InputError(f"two names given: {cloud_name!r} and --name {name_option!r}")

    from cloudplane.cli.cloud import open_client, select_cloud
    from cloudplane.clouds.update import UpdateRequest, refuse_unless_updatable, update_managed_cloud
    from cloudplane.clouds.verification import render_report, run_verification
    from cloudplane.console import Console, confirm

    console = Console(quiet=output == "json")
    with open_client() as client:
        cloud = select_cloud(client, cloud_name or name_option, cloud_id)
        refuse_unless_updatable(cloud)
        result = update_managed_cloud(
            cloud,
            UpdateRequest(enable_head_node_fault_tolerance),
            client=client,
            console=console,
            confirm=lambda question: confirm(question, yes),
            verify=lambda record, aws: run_verification(record, console=console, aws=aws),
        )
    if output == "json":
        console.json(result.to_dict())
    elif result.report is not None:
        render_report(result.report, console)
        console.result(f"Cloud {result.cloud['name']} ({result.cloud['id']}) is updated.")
    return 0 if result.report is None or result.report.passed else 1
