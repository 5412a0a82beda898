"""Commands killed half-way (SIGKILL: no clean-up code runs) are finished or put right by a rerun."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.sandbox.server import SandboxServer
from tests.e2e.test_customer_defined import customer_cloud, register_args, trust_of
from tests.helpers import cloudplane, spawn
from tests.leftovers import tagged_resources

SETUP = ("cloud", "setup", "--name", "crashy", "--region", "us-west-2", "--yes")


def kill_when(args: tuple[str, ...] | list[str], marker: str) -> str:
    """Run the real command in a process of its own and SIGKILL it when its progress shows `marker`."""
    process = spawn(*args)
    seen: list[str] = []
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line)
        if marker in line:
            process.send_signal(signal.SIGKILL)
            break
    process.wait(timeout=60)  # reaped: the process is gone, as after a real kill
    assert process.returncode == -signal.SIGKILL, "".join(seen)
    return "".join(seen)


def only_the_bucket_is_left(aws: Callable[..., Any], cloud_id: str) -> bool:
    return set(tagged_resources(aws, cloud_id)) <= {"bucket"}


@pytest.mark.parametrize(
    "marker",
    [
        "Created cloud",  # the record exists, no stack yet
        "Track the stack",  # the stack exists, not yet followed to the end
        "Verifying VPC",  # the final verification is running
    ],
)
def test_setup_killed_is_finished_by_running_it_again(
    aws_env: SandboxServer, aws: Callable[..., Any], marker: str
) -> None:
    kill_when(SETUP, marker)
    (cloud,) = cloudplane("cloud", "list", "--output", "json").json()["clouds"]
    rerun = cloudplane(*SETUP, "--output", "json")
    assert rerun.exit_code == 0, rerun.stderr
    finished = rerun.json()["cloud"]
    assert finished["id"] == cloud["id"] and finished["state"] == "active"
    assert finished["last_verification"]["passed"] is True and finished["operation"] is None
    assert len(aws("cloudformation").list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]) == 1
    deleted = cloudplane("cloud", "delete", "--name", "crashy", "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert only_the_bucket_is_left(aws, cloud["id"])


def test_a_running_setup_is_not_taken_over(aws_env: SandboxServer) -> None:
    """A claim held by a live process on this machine is respected: the second command says so."""
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        from cloudplane.client import ControlPlaneClient
        from cloudplane.clouds.claims import new_owner

        host, _, token = new_owner().split(":")
        with ControlPlaneClient.from_env() as client:
            client.create_cloud(
                "crashy", "aws", "us-west-2", "managed", "public",
                options={"shared_storage": "nfs", "head_node_fault_tolerance": False},
                claim={"operation": "setup", "owner": f"{host}:{holder.pid}:{token}", "seconds": 60},
            )  # fmt: skip
        run = cloudplane(*SETUP)
        assert run.exit_code == 2
        assert "busy: another `setup` is running" in run.stderr
        assert len(run.stderr.strip().splitlines()[-1:]) == 1
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("then", ["rerun", "delete"])
def test_register_killed_after_changing_the_trust_policy_is_put_right(
    aws_env: SandboxServer, aws: Callable[..., Any], then: str
) -> None:
    built = customer_cloud(aws)
    before = trust_of(aws, built.cp_role)
    args = [*register_args(built, "killed"), "--yes"]
    kill_when(args, "now requires this cloud's External ID")
    (stuck,) = cloudplane("cloud", "list", "--output", "json").json()["clouds"]
    assert stuck["state"] == "creating"
    assert trust_of(aws, built.cp_role) != before

    if then == "rerun":
        run = cloudplane(*args)
        assert run.exit_code == 0, run.stderr
        assert "was interrupted" in run.stderr
        cloud = cloudplane("cloud", "get", "--name", "killed", "--output", "json").json()
        assert cloud["state"] == "active" and cloud["id"] != stuck["id"]
        (statement,) = trust_of(aws, built.cp_role)["Statement"]
        assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == cloud["external_id"]
        assert "trust_policy_before_register" not in cloud["options"]
    else:
        run = cloudplane("cloud", "delete", "--name", "killed", "--yes")
        assert run.exit_code == 0, run.stderr
        assert trust_of(aws, built.cp_role) == before
        assert cloudplane("cloud", "list", "--output", "json").json()["clouds"] == []


def test_register_again_after_delete_replaces_the_deleted_clouds_external_id(
    aws_env: SandboxServer, aws: Callable[..., Any]
) -> None:
    built = customer_cloud(aws)
    first = cloudplane(*register_args(built, "first"), "--yes", "--output", "json")
    assert first.exit_code == 0, first.stderr
    assert cloudplane("cloud", "delete", "--name", "first", "--yes").exit_code == 0
    second = cloudplane(*register_args(built, "second"), "--yes", "--output", "json")
    assert second.exit_code == 0, second.stderr
    external_id = second.json()["cloud"]["external_id"]
    (statement,) = trust_of(aws, built.cp_role)["Statement"]
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == external_id
    # A role whose External ID belongs to a cloud that still exists is refused, naming that cloud.
    third = cloudplane(*register_args(built, "third"), "--yes")
    assert third.exit_code == 2
    assert "of cloud second" in third.stderr


def test_delete_killed_is_finished_by_running_it_again(
    aws_env: SandboxServer, aws: Callable[..., Any]
) -> None:
    setup = cloudplane(*SETUP, "--output", "json")
    assert setup.exit_code == 0, setup.stderr
    cloud_id = setup.json()["cloud"]["id"]
    kill_when(("cloud", "delete", "--name", "crashy", "--yes"), "Deleting cloud resources")
    (stuck,) = cloudplane("cloud", "list", "--output", "json").json()["clouds"]
    assert stuck["state"] == "deleting"
    rerun = cloudplane("cloud", "delete", "--name", "crashy", "--yes")
    assert rerun.exit_code == 0, rerun.stderr
    assert cloudplane("cloud", "list", "--output", "json").json()["clouds"] == []
    assert only_the_bucket_is_left(aws, cloud_id)
