"""`cloudplane compute-config ...`: check a compute config against a cloud before launching with it.

The cloud comes from the control plane; its subnets' zones and the instance profile are read from AWS
with the caller's own credentials. Heavy modules (boto3, the control plane) load inside the command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from cloudplane.cli.cloud import OUTPUT
from cloudplane.errors import InputError, NotFound

if TYPE_CHECKING:
    from cloudplane.aws.session import AwsClients
    from cloudplane.client import ControlPlaneClient
    from cloudplane.clusters.compute_config import ComputeConfig, NodeLaunch


@dataclass
class Validation:
    """A compute config checked against one cloud: `mistakes` refuse it; `unchecked` could not be checked."""

    cloud: dict[str, Any] | None
    mistakes: list[str] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    nodes: list[NodeLaunch] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.mistakes

    @property
    def exit_code(self) -> int:
        """2 for mistakes, 1 when something could not be checked, else 0."""
        return 2 if self.mistakes else 1 if self.unchecked else 0

    def to_dict(self) -> dict[str, Any]:
        cloud = self.cloud
        return {
            "valid": self.valid,
            "complete": not self.unchecked,
            "cloud": {k: cloud[k] for k in ("id", "name", "region")} if cloud else None,
            "mistakes": self.mistakes,
            "unchecked": self.unchecked,
            "nodes": [node.to_dict() for node in self.nodes],
        }


def subnet_zones(cloud: dict[str, Any], aws: AwsClients) -> dict[str, str]:
    """Subnet id -> zone name of the cloud's subnets that exist in AWS (one DescribeSubnets call)."""
    from cloudplane.cloud import CloudSpec
    from cloudplane.verify.context import VerifyContext

    subnets = VerifyContext(CloudSpec.from_record(cloud), aws).subnets()
    return {subnet_id: item["AvailabilityZone"] for subnet_id, item in subnets.items()}


def check_compute_config(config: ComputeConfig, cloud: dict[str, Any], aws: AwsClients) -> Validation:
    """Every check of `config` against `cloud`: its zones, subnet and groups, then the instance profile."""
    from cloudplane.clusters.compute_config import cloud_mistakes, plan_nodes
    from cloudplane.clusters.profile_access import instance_profile_mistakes

    zones = subnet_zones(cloud, aws)
    result = Validation(cloud, mistakes=cloud_mistakes(config, cloud, zones))
    access = instance_profile_mistakes(aws, config, cloud)
    result.mistakes += access.mistakes
    result.unchecked += access.unchecked
    if result.valid:
        try:
            result.nodes = plan_nodes(config, cloud, zones)
        except InputError as exc:
            result.mistakes += str(exc).splitlines()
    return result


def select_cloud(client: ControlPlaneClient, config: ComputeConfig, cloud_ref: str | None) -> dict[str, Any]:
    """--cloud (a name or an id), else the config's cloud_id or cloud, else the organisation's default."""
    from cloudplane import naming

    if cloud_ref:
        if cloud_ref.startswith(naming.CLOUD_ID_PREFIX):
            return client.find_cloud(cloud_id=naming.validate_cloud_id(cloud_ref))
        return client.find_cloud(name=naming.validate_cloud_name(cloud_ref))
    try:
        if config.cloud_id:
            return client.get_cloud(config.cloud_id)
        if config.cloud:
            return client.find_cloud(name=config.cloud)
    except NotFound as exc:
        key = "cloud_id" if config.cloud_id else "cloud"
        raise NotFound(f"{config.source}: {key}: {exc}") from None
    default = next((c for c in client.list_clouds() if c.get("is_default")), None)
    if default is None:
        raise InputError(
            f"{config.source} names no cloud (cloud: or cloud_id:) and there is no default cloud; give "
            "--cloud NAME, or make a cloud the default with `cloudplane cloud set-default NAME`"
        )
    return default


def summary(config: ComputeConfig, nodes: list[NodeLaunch]) -> str:
    """ "head m5.8xlarge in us-west-2a, 2 workers m5.2xlarge (cpu, up to 4) in us-west-2b, us-west-2c"."""
    head = nodes[0]
    parts = [f"head {head.instance_type} in {head.zone}"]
    for worker in config.worker_node_types:
        started = [n for n in nodes[1:] if n.node_type == worker.name]
        noun = "worker" if worker.min_workers == 1 else "workers"
        limit = f", up to {worker.max_workers}" if worker.max_workers > worker.min_workers else ""
        zones = ", ".join(dict.fromkeys(n.zone for n in started))
        parts.append(
            f"{worker.min_workers} {noun} {worker.instance_type} ({worker.name}{limit})"
            + (f" in {zones}" if zones else "")
        )
    return ", ".join(parts) + f"; instance profile {head.instance_profile}"


def _show(result: Validation, config: ComputeConfig | None, source: str) -> None:
    for line in result.mistakes:
        click.echo(click.style("error: ", fg="red", bold=True) + line, err=True)
    for line in result.unchecked:
        click.echo(click.style("not checked: ", fg="yellow", bold=True) + line, err=True)
    if result.mistakes or config is None or result.cloud is None:
        return
    cloud = f"cloud {result.cloud['name']} ({result.cloud['id']})"
    if result.unchecked:
        count = len(result.unchecked)
        click.echo(
            f"{source} has no mistakes for {cloud}, but {count} check{'s' if count > 1 else ''} could not run "
            f"(above): {summary(config, result.nodes)}"
        )
    else:
        click.echo(f"{source} is valid for {cloud}: {summary(config, result.nodes)}")


@click.group(name="compute-config")
def compute_config() -> None:
    """Check compute configs against a cloud."""


@compute_config.command()
@click.option("--file", "-f", "path", required=True, metavar="FILE", help="The compute config (YAML).")
@click.option(
    "--cloud",
    "cloud_ref",
    metavar="NAME",
    help="The cloud, by name or id [default: the file's cloud or cloud_id, else the default cloud].",
)
@OUTPUT
def validate(path: str, cloud_ref: str | None, output: str) -> int:
    """Check a compute config: its shape, then against the cloud (zones, subnet, security groups) and the
    instance profile in AWS (exists, holds a role that may use the cloud's bucket).

    Exit 0 when valid, 2 for mistakes (each on its own line), 1 when a check could not run.
    """
    from cloudplane.clusters.compute_config import load_compute_config
    from cloudplane.console import Console

    config: ComputeConfig | None = None
    try:
        config = load_compute_config(path)
    except InputError as exc:
        result = Validation(None, mistakes=str(exc).splitlines())
    else:
        from cloudplane.aws.session import AwsClients
        from cloudplane.cli.cloud import open_client
        from cloudplane.clouds.identity import caller_identity

        with open_client() as client:
            cloud = select_cloud(client, config, cloud_ref)
        aws = AwsClients(cloud["region"])
        caller_identity(aws)
        result = check_compute_config(config, cloud, aws)
    if output == "json":
        Console().json(result.to_dict())
    else:
        _show(result, config, path)
    return result.exit_code
