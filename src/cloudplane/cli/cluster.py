"""`cloudplane cluster ...`: clusters the control plane launches in a cloud through the cloud's role."""

from __future__ import annotations

from typing import Any

import click

from cloudplane.cli.cloud import OUTPUT, open_client
from cloudplane.errors import InputError


@click.group()
def cluster() -> None:
    """Launch, list and terminate clusters in your clouds."""


@cluster.command()
@click.option("--name", "-n", required=True, help="Name of the new cluster (lowercase, digits, '-').")
@click.option("--cloud", "cloud_name", metavar="NAME", help="The cloud [default: the default cloud].")
@click.option(
    "--compute-config",
    "-f",
    "compute_config",
    type=click.Path(dir_okay=False),
    help="A compute config (YAML): node types, zones, instance profile, subnet, groups.",
)
@click.option("--kind", type=click.Choice(["workspace", "service"]), default="workspace", show_default=True)
@OUTPUT
def launch(name: str, cloud_name: str | None, compute_config: str | None, kind: str, output: str) -> int:
    """Launch a cluster's instances in the cloud, through the cloud's cross-account role."""
    from cloudplane.console import Console
    from cloudplane.naming import validate_cloud_name, validate_cluster_name

    validate_cluster_name(name)
    if cloud_name is not None:
        validate_cloud_name(cloud_name)
    config = _load_config(compute_config)
    console = Console(quiet=output == "json")
    with open_client() as client:
        cloud_id = _cloud_id(client, cloud_name, config)
        with console.status(f"Launching cluster {name} ..."):
            record = client.launch_cluster(
                name, cloud_id=cloud_id, kind=kind, compute_config=config.to_dict() if config else None
            )
    if output == "json":
        console.json(record)
        return 0
    count = len(record["instances"])
    console.success(
        f"Cluster {record['name']} ({record['id']}) is {record['state']} in cloud {record['cloud_name']}: "
        f"{count} instance{'s' if count != 1 else ''} ({_instance_summary(record)})."
    )
    console.info(
        f"Follow it with `cloudplane cluster list`; stop it with `cloudplane cluster terminate {name}`."
    )
    return 0


@cluster.command(name="list")
@click.option("--cloud", "cloud_name", metavar="NAME", help="Only the clusters of this cloud.")
@click.option("--all", "include_terminated", is_flag=True, help="Include terminated clusters.")
@OUTPUT
def list_(cloud_name: str | None, include_terminated: bool, output: str) -> int:
    """Clusters and their states, refreshed from EC2."""
    from cloudplane.console import Console
    from cloudplane.naming import validate_cloud_name

    console = Console()
    with open_client() as client:
        cloud_id = client.find_cloud(name=validate_cloud_name(cloud_name))["id"] if cloud_name else None
        records = client.list_clusters(cloud_id=cloud_id, include_terminated=include_terminated)
    if output == "json":
        console.json(records)
        return 0
    if not records:
        console.info(
            "No clusters." if include_terminated else "No live clusters (--all shows terminated ones)."
        )
        return 0
    console.table(
        ("NAME", "KIND", "STATE", "CLOUD", "INSTANCES", "CREATED"),
        [
            (r["name"], r["kind"], r["state"], r["cloud_name"], _instance_summary(r), r["created_at"][:19])
            for r in records
        ],
    )
    for record in records:
        if record.get("stale"):
            console.warn(f"{record['name']}: state as last seen; refreshing it failed: {record['stale']}")
        if record.get("failure_reason"):
            console.warn(f"{record['name']}: {record['failure_reason']}")
    return 0


@cluster.command()
@click.argument("name")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@OUTPUT
def terminate(name: str, yes: bool, output: str) -> int:
    """Terminate a cluster's instances."""
    from cloudplane.console import Console, confirm
    from cloudplane.naming import validate_cluster_name

    validate_cluster_name(name)
    console = Console(quiet=output == "json")
    with open_client() as client:
        current = client.get_cluster(name)
        if current["state"] in ("terminated", "failed"):
            if output == "json":
                console.json(current)
            else:
                console.info(f"Cluster {name} is already {current['state']}.")
            return 0
        confirm(
            f"Terminate cluster {name} in cloud {current['cloud_name']} ({_instance_summary(current)})?", yes
        )
        record = client.terminate_cluster(name)
    if output == "json":
        console.json(record)
        return 0
    console.success(f"Cluster {name} is {record['state']}.")
    return 0


def _load_config(path: str | None) -> Any:
    if path is None:
        return None
    from cloudplane.clusters.compute_config import load_compute_config

    return load_compute_config(path)


def _cloud_id(client: Any, cloud_name: str | None, config: Any) -> str | None:
    """The cloud named by --cloud, else by the compute config, else None (the default cloud)."""
    if cloud_name:
        cloud = client.find_cloud(name=cloud_name)
        if config is not None and config.cloud_id and config.cloud_id != cloud["id"]:
            raise InputError(
                f"--cloud {cloud_name} is {cloud['id']}, but the compute config names cloud_id {config.cloud_id}"
            )
        return str(cloud["id"])
    if config is not None and (config.cloud or config.cloud_id):
        return str(client.find_cloud(name=config.cloud, cloud_id=config.cloud_id)["id"])
    return None


def _instance_summary(record: dict[str, Any]) -> str:
    instances = record.get("instances") or []
    if not instances:
        return "none"
    ids = ", ".join(f"{i['id']} {i.get('instance_type') or ''}".strip() for i in instances[:3])
    more = f" and {len(instances) - 3} more" if len(instances) > 3 else ""
    return ids + more
