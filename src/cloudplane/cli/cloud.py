"""`cloudplane cloud ...`. Heavy modules (boto3, the control plane) are imported inside the commands."""

from __future__ import annotations

import importlib
import importlib.util
from typing import Any

import click

from cloudplane.errors import InputError

OUTPUT = click.option(
    "--output",
    "-o",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
FUNCTIONAL_VERIFY = click.option(
    "--functional-verify",
    "functional_verify",
    metavar="TARGETS",
    help="Then launch a workspace and/or a service in the cloud to prove it works (workspace, service or "
    "workspace,service); one m5.xlarge instance per target for a few minutes, removed at the end.",
)


def open_client() -> Any:
    from cloudplane.client import ControlPlaneClient

    return ControlPlaneClient.from_env()


def select_cloud(client: Any, name: str | None, cloud_id: str | None) -> dict[str, Any]:
    """Exactly one of a name or an id, each checked for shape before asking the control plane."""
    from cloudplane import naming

    if name and cloud_id:
        raise InputError("give either --name or --id, not both")
    if not name and not cloud_id:
        raise InputError("say which cloud: --name NAME or --id cld_...")
    if cloud_id:
        return client.find_cloud(cloud_id=naming.validate_cloud_id(cloud_id))
    return client.find_cloud(name=naming.validate_cloud_name(name or ""))


def _cloud_options(func: Any) -> Any:
    func = click.option(
        "--id", "--cloud-id", "cloud_id", metavar="CLOUD_ID", help="The cloud's id (cld_...)."
    )(func)
    return click.option("--name", "-n", metavar="NAME", help="The cloud's name.")(func)


# Commands that live in modules of their own, imported only when run (or when help lists them).
_COMMAND_MODULES = {
    "register": "cloudplane.cli.cloud_register",
    "edit": "cloudplane.cli.cloud_edit",
    "template": "cloudplane.cli.cloud_template",
    "policy": "cloudplane.cli.cloud_policy",
    "update": "cloudplane.cli.cloud_update",
}


class _CloudGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        present = [name for name, module in _COMMAND_MODULES.items() if importlib.util.find_spec(module)]
        return sorted([*super().list_commands(ctx), *present])

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        module = _COMMAND_MODULES.get(name)
        if module and importlib.util.find_spec(module):
            return getattr(importlib.import_module(module), name)
        return super().get_command(ctx, name)


@click.group(cls=_CloudGroup)
def cloud() -> None:
    """Set up, register, verify and manage clouds."""


@cloud.command()
@click.option("--name", "-n", required=True, help="Name of the new cloud.")
@click.option(
    "--provider", type=click.Choice(["aws"]), default="aws", show_default=True, help="Cloud provider."
)
@click.option(
    "--region", default="us-west-2", show_default=True, help="AWS region (commercial regions only)."
)
@click.option(
    "--shared-storage",
    type=click.Choice(["nfs", "object-storage"]),
    default="nfs",
    show_default=True,
    help="nfs creates an EFS file system (needed by workspaces); object-storage uses only the bucket.",
)
@click.option(
    "--enable-head-node-fault-tolerance",
    is_flag=True,
    help="Also create a MemoryDB cluster for head-node fault tolerance (adds about 20 minutes).",
)
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@FUNCTIONAL_VERIFY
@OUTPUT
def setup(
    name: str,
    provider: str,
    region: str,
    shared_storage: str,
    enable_head_node_fault_tolerance: bool,
    yes: bool,
    functional_verify: str | None,
    output: str,
) -> int:
    """Create a managed cloud: one CloudFormation stack in your account, then verify it.

    Re-running the same command after an interruption continues with the same cloud and stack.
    """
    from cloudplane.clouds import functional_verification as functional
    from cloudplane.clouds.setup import SetupRequest

    targets = functional.parse_flag(functional_verify)
    request = SetupRequest(name, region, shared_storage, enable_head_node_fault_tolerance)
    request.validate()
    functional.preflight(targets, yes)
    from cloudplane.clouds.setup import setup_managed_cloud
    from cloudplane.clouds.verification import render_report, run_verification
    from cloudplane.console import Console, confirm

    console = Console(quiet=output == "json")
    what = "EFS, " if shared_storage == "nfs" else ""
    extra = " and a MemoryDB cluster" if enable_head_node_fault_tolerance else ""
    confirm(
        f"Create cloud {name!r} in {region}: a VPC with public subnets, a security group, an S3 bucket, {what}"
        f"two IAM roles{extra}. Continue?",
        yes,
    )
    with open_client() as client:
        try:
            record, report = setup_managed_cloud(
                request,
                client=client,
                console=console,
                verify=lambda cloud: run_verification(cloud, console=console),
            )
        except KeyboardInterrupt:
            console.error(
                f"Interrupted. Whatever was started keeps going in AWS. Re-run the same command to continue "
                f"with the same cloud, or `cloudplane cloud delete --name {name} --yes` to remove it."
            )
            return 130
        if output == "text":
            render_report(report, console)
            console.result(f"Cloud {record['name']} ({record['id']}) is {record['state']}.")
        code, run = 0 if report.passed else 1, None
        if targets and report.passed:
            code, run = functional.run_functional_verification(
                client, record, targets, yes=yes, output=output
            )
            record = client.get_cloud(record["id"])
        else:
            functional.skipped_because_verification_failed(targets)
        if output == "json":
            extra = {"functional_verification": run} if targets else {}
            console.json({"cloud": record, "verification": report.to_dict(), **extra})
        return code


@cloud.command()
@_cloud_options
@click.option("--strict", is_flag=True, help="Warnings fail the verification too.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask before a functional verification.")
@FUNCTIONAL_VERIFY
@OUTPUT
def verify(
    name: str | None,
    cloud_id: str | None,
    strict: bool,
    yes: bool,
    functional_verify: str | None,
    output: str,
) -> int:
    """Check the cloud's resources against every rule; exit 1 when it fails.

    With --functional-verify, a cloud that passes then gets a workspace and/or a service launched in it.
    """
    from cloudplane.clouds import functional_verification as functional
    from cloudplane.clouds.verification import render_report, run_verification
    from cloudplane.console import Console

    targets = functional.parse_flag(functional_verify)
    functional.preflight(targets, yes)
    console = Console(quiet=output == "json")
    with open_client() as client:
        record = select_cloud(client, name, cloud_id)
        report = run_verification(record, console=console, strict=strict)
        client.store_verification(record["id"], report.to_dict())
        if output == "text":
            render_report(report, console)
        code, run = 0 if report.passed else 1, None
        if targets and report.passed:
            code, run = functional.run_functional_verification(
                client, record, targets, yes=yes, output=output
            )
        else:
            functional.skipped_because_verification_failed(targets)
    if output == "json":
        extra = {"functional_verification": run} if targets else {}
        console.json({**report.to_dict(), **extra})
    return code


@cloud.command(name="list")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=None,
    help="Show at most this many clouds (one page), and how to ask for the next ones.  [default: all]",
)
@click.option("--cursor", default=None, metavar="CURSOR", help="Start after the page that printed this cursor.")
@OUTPUT
def list_clouds(limit: int | None, cursor: str | None, output: str) -> int:
    """List the clouds the control plane knows, in creation order."""
    from cloudplane.console import Console

    console = Console()
    paged = limit is not None or cursor is not None
    next_cursor = None
    with open_client() as client:
        if paged:
            page = client.list_clouds_page(limit=limit or 100, cursor=cursor)
            clouds, next_cursor = page["clouds"], page["next_cursor"]
        else:
            clouds = client.list_clouds()
    if output == "json":
        console.json({"clouds": clouds, "next_cursor": next_cursor} if paged else {"clouds": clouds})
        return 0
    if not clouds and cursor is None:
        console.result("No clouds yet. Create one with `cloudplane cloud setup --name NAME`.")
        return 0
    columns = ("NAME", "ID", "REGION", "DEPLOYMENT", "STATE", "DEFAULT", "CREATED")
    rows = [
        (
            c["name"],
            c["id"],
            c["region"],
            c["deployment"],
            c["state"],
            "*" if c["is_default"] else "",
            c["created_at"],
        )
        for c in clouds
    ]
    if rows:
        console.table(columns, rows)
    if next_cursor:
        console.result(
            f"More clouds: cloudplane cloud list --limit {limit or 100} --cursor {next_cursor}"
        )
    return 0


@cloud.command()
@_cloud_options
@OUTPUT
def get(name: str | None, cloud_id: str | None, output: str) -> int:
    """Show one cloud with its resources."""
    from cloudplane.console import Console

    console = Console()
    with open_client() as client:
        record = select_cloud(client, name, cloud_id)
    if output == "json":
        console.json(record)
        return 0
    lines = [
        f"{k}: {record.get(k)}" for k in ("name", "id", "provider", "region", "deployment", "networking")
    ]
    lines += [f"{k}: {record.get(k)}" for k in ("state", "is_default", "external_id", "created_at")]
    lines.append("resources:")
    lines += [f"  {k}: {v}" for k, v in (record.get("resources") or {}).items()]
    last = record.get("last_verification")
    if last:
        lines.append(
            f"last verification: {'PASSED' if last.get('passed') else 'FAILED'} at {record.get('last_verified_at')}"
        )
    functional = record.get("last_functional_verification")
    if functional:
        targets = ", ".join(f"{t['name']} {t['state']}" for t in functional.get("targets", []))
        lines.append(
            f"last functional verification: {str(functional.get('state')).upper()} ({targets}) at "
            f"{record.get('last_functional_verified_at')}"
        )
    console.result("\n".join(lines))
    return 0


@cloud.command(name="set-default")
@click.argument("cloud_ref", metavar="NAME_OR_ID")
def set_default(cloud_ref: str) -> int:
    """Make a cloud the default one for new clusters."""
    from cloudplane.console import Console

    with open_client() as client:
        from cloudplane import naming

        if cloud_ref.startswith("cld_"):
            record = client.find_cloud(cloud_id=naming.validate_cloud_id(cloud_ref))
        else:
            record = client.find_cloud(name=naming.validate_cloud_name(cloud_ref))
        record = client.set_default(record["id"])
    Console().result(f"Cloud {record['name']} ({record['id']}) is now the default.")
    return 0


@cloud.command()
@_cloud_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--delete-bucket", is_flag=True, help="Also empty and delete the cloud's bucket (its data is lost)."
)
@click.option(
    "--terminate-clusters",
    is_flag=True,
    help="Terminate the cloud's live instances (every cluster's) first, instead of refusing.",
)
@click.option(
    "--remove-trust/--keep-trust",
    default=None,
    help="For a cloud registered with --add-trust: remove the statement cloudplane added to its role's trust "
    "policy (only while unchanged; the other statements stay), or keep it. Without either you are asked, "
    "and --yes removes it.",
)
def delete(
    name: str | None,
    cloud_id: str | None,
    yes: bool,
    delete_bucket: bool,
    terminate_clusters: bool,
    remove_trust: bool | None,
) -> int:
    """Delete a cloud: its stack for a managed cloud; the bucket and its data are kept unless asked.

    Refused while the cloud has live instances, unless --terminate-clusters. The cloud's load balancers go
    first. A delete that failed leaves the cloud `failed` (`deleting` when it stopped before the stack);
    running the same command again continues it.
    """
    from cloudplane.clouds.delete import (
        added_trust_question,
        delete_cloud,
        delete_question,
        outside_policies_of,
        rerun_command,
    )
    from cloudplane.console import Console, confirm

    console = Console()
    # --yes answers the trust question too: remove the statement cloudplane added.
    remove_trust = True if remove_trust is None and yes else remove_trust
    with open_client() as client:
        record = select_cloud(client, name, cloud_id)

        def ask(live: Any) -> None:
            extra = [] if yes else outside_policies_of(record)  # looked up only when someone is asked
            question = delete_question(
                record,
                delete_bucket=delete_bucket,
                outside_policies=extra,
                terminating=live,
                remove_trust=remove_trust,
            )
            confirm(question, yes)

        def remove_added_trust(cloud: dict[str, Any]) -> bool:
            if remove_trust is not None:
                return remove_trust
            return click.confirm(added_trust_question(cloud), default=False)  # declined: kept

        try:
            delete_cloud(
                record,
                client=client,
                console=console,
                delete_bucket=delete_bucket,
                terminate_clusters=terminate_clusters,
                confirm=ask,
                remove_added_trust=remove_added_trust,
            )
        except KeyboardInterrupt:
            rerun = rerun_command(record, delete_bucket=delete_bucket, terminate_clusters=terminate_clusters)
            console.error(
                f"Interrupted. A stack delete or an instance termination that was started keeps going in AWS. "
                f"Run `{rerun}` again to follow it and finish."
            )
            return 130
    return 0


@cloud.command(name="delete-bucket")
@click.argument("bucket")
@click.option("--region", default="us-west-2", show_default=True, help="Region of the bucket.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def delete_bucket(bucket: str, region: str, yes: bool) -> int:
    """Empty (every object version) and delete a bucket a deleted managed cloud kept.

    Refuses a bucket without cloudplane's tag, and the bucket of any cloud the control plane still knows.
    """
    from cloudplane.aws.regions import check_region_name
    from cloudplane.clouds.delete import check_bucket_name, delete_kept_bucket, inspect_kept_bucket
    from cloudplane.console import Console, confirm

    check_bucket_name(bucket)
    check_region_name(region)
    with open_client() as client:
        kept = inspect_kept_bucket(bucket, region, client=client)
        confirm(kept.question(), yes)
        delete_kept_bucket(kept, client=client, console=Console())
    return 0
