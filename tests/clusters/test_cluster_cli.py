"""`cloudplane cluster launch / list / terminate` end to end, on a managed cloud set up with the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.clusters.conftest import Factory
from tests.helpers import cloudplane


def _instances(module_aws: Factory, ids: list[str]) -> list[dict[str, Any]]:
    reservations = module_aws("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return [instance for reservation in reservations for instance in reservation["Instances"]]


def test_a_cluster_from_a_compute_config_lives_and_ends(
    cloud: dict[str, Any], module_aws: Factory, tmp_path: Path
) -> None:
    subnets = module_aws("ec2").describe_subnets(SubnetIds=cloud["resources"]["subnet_ids"])["Subnets"]
    zones = sorted({subnet["AvailabilityZone"] for subnet in subnets})[:2]
    config = tmp_path / "compute.yaml"
    config.write_text(
        "cloud: demo\n"
        f"allowed_azs: [{', '.join(zones)}]\n"
        "head_node_type:\n  name: head\n  instance_type: m5.2xlarge\n"
        "worker_node_types:\n  - name: cpu\n    instance_type: m5.xlarge\n    min_workers: 2\n    max_workers: 4\n"
    )

    launched = cloudplane("cluster", "launch", "--name", "ray1", "-f", str(config), "--output", "json")

    assert launched.exit_code == 0, launched.stderr
    record = launched.json()
    assert record["cloud_name"] == "demo" and record["state"] in ("pending", "running")
    roles = sorted((node["role"], node["instance_type"]) for node in record["instances"])
    assert roles == [("head", "m5.2xlarge"), ("worker", "m5.xlarge"), ("worker", "m5.xlarge")]
    ids = [node["id"] for node in record["instances"]]
    running = _instances(module_aws, ids)
    assert {instance["Placement"]["AvailabilityZone"] for instance in running} <= set(zones)
    assert len({instance["Placement"]["AvailabilityZone"] for instance in running}) == 2  # spread

    listed = cloudplane("cluster", "list")
    assert listed.exit_code == 0, listed.stderr
    assert "ray1" in listed.stdout and "running" in listed.stdout and "demo" in listed.stdout

    # Without a terminal to ask, nothing is terminated without --yes.
    refused = cloudplane("cluster", "terminate", "ray1")
    assert refused.exit_code == 2 and "--yes" in refused.stderr
    assert all(i["State"]["Name"] == "running" for i in _instances(module_aws, ids))

    ended = cloudplane("cluster", "terminate", "ray1", "--yes")
    assert ended.exit_code == 0, ended.stderr
    assert "Cluster ray1 is terminated" in ended.stderr
    assert all(i["State"]["Name"] in ("shutting-down", "terminated") for i in _instances(module_aws, ids))
    assert "No live clusters" in cloudplane("cluster", "list").stderr
    every = cloudplane("cluster", "list", "--all", "--output", "json").json()
    assert [(c["name"], c["state"]) for c in every if c["id"] == record["id"]] == [("ray1", "terminated")]


def test_launch_refuses_a_compute_config_that_does_not_fit_the_cloud(
    cloud: dict[str, Any], module_aws: Factory, tmp_path: Path
) -> None:
    config = tmp_path / "compute.yaml"
    config.write_text(
        "cloud: demo\nallowed_azs: [us-west-2a]\nhead_node_type:\n  name: head\n  instance_type: m5.xlarge\n"
        "aws:\n  SecurityGroupIds: [sg-0123456789abcdef0]\n"
    )

    run = cloudplane("cluster", "launch", "--name", "nope", "-f", str(config))

    assert run.exit_code == 2
    assert "sg-0123456789abcdef0" in run.stderr and "Traceback" not in run.stderr
    every = cloudplane("cluster", "list", "--all", "--output", "json").json()
    assert all(c["name"] != "nope" for c in every)


def test_launch_without_a_cloud_uses_the_default_cloud(cloud: dict[str, Any]) -> None:
    """`--cloud` left out means the organisation's default cloud, as in the seed; with none, a clear refusal."""
    assert not cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()["is_default"]
    refused = cloudplane("cluster", "launch", "--name", "ws-default")
    assert refused.exit_code == 2 and "no default cloud" in refused.stderr
    assert cloudplane("cloud", "set-default", "demo").exit_code == 0

    run = cloudplane("cluster", "launch", "--name", "ws-default", "--output", "json")

    assert run.exit_code == 0, run.stderr
    assert run.json()["cloud_id"] == cloud["id"]
    assert cloudplane("cluster", "terminate", "ws-default", "--yes").exit_code == 0


def test_bad_input_is_refused_before_anything_is_asked(cloud: dict[str, Any], tmp_path: Path) -> None:
    bad_name = cloudplane("cluster", "launch", "--name", "Not_Valid", "--cloud", "demo")
    assert bad_name.exit_code == 2 and "cluster name" in bad_name.stderr
    missing = cloudplane("cluster", "launch", "--name", "ok", "-f", str(tmp_path / "absent.yaml"))
    assert missing.exit_code == 2 and "absent.yaml" in missing.stderr
    unknown = cloudplane("cluster", "terminate", "never-launched", "--yes")
    assert unknown.exit_code == 2 and "never-launched" in unknown.stderr
    no_cloud = cloudplane("cluster", "launch", "--name", "ok", "--cloud", "nosuchcloud")
    assert no_cloud.exit_code == 2 and "nosuchcloud" in no_cloud.stderr
