"""`--functional-verify` through the real CLI on sandbox clouds: verify, setup, register and edit run it after
their own work, ask first (or take --yes), show each target's steps and end with each target's outcome;
bad targets exit 2 before anything is made; Ctrl-C aborts and cleans up."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.clouds import functional_verification
from cloudplane.clusters.functional import DEADLINES_ENV
from tests.e2e.test_customer_defined import customer_cloud, register_args
from tests.helpers import Run, cloudplane
from tests.verify.builders import _bucket

Aws = Callable[..., Any]
WORKSPACE_DONE = "Workspace verification succeeded!"
SERVICE_DONE = "Service verification succeeded!"


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DEADLINES_ENV, "*=30,target-healthy=3")
    monkeypatch.setattr(functional_verification, "POLL_SECONDS", 0.2)


def setup_cloud(name: str = "demo") -> dict[str, Any]:
    run = cloudplane("cloud", "setup", "--name", name, "--region", "us-west-2", "--yes")
    assert run.exit_code == 0, run.stderr + run.stdout
    return cloudplane("cloud", "get", "--name", name, "--output", "json").json()


def assert_nothing_left(aws: Aws) -> None:
    """No live instance, load balancer, load-balancer stack or certificate in the account."""
    reservations = aws("ec2").describe_instances()["Reservations"]
    states = {i["State"]["Name"] for r in reservations for i in r["Instances"]}
    assert states <= {"terminated"}, states
    assert aws("elbv2").describe_load_balancers()["LoadBalancers"] == []
    stacks = aws("cloudformation").list_stacks()["StackSummaries"]
    left = [s["StackName"] for s in stacks if s["StackName"].startswith("cloudplane-lb-")]
    assert all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if s["StackName"] in left), stacks
    assert aws("acm").list_certificates()["CertificateSummaryList"] == []


def no_instances(aws: Aws) -> bool:
    return aws("ec2").describe_instances()["Reservations"] == []


def test_verify_runs_both_targets_and_ends_with_each_outcome(aws: Aws) -> None:
    setup_cloud()

    run = cloudplane("cloud", "verify", "--name", "demo", "--functional-verify", "workspace,service", "--yes")

    assert "Functional verification of WORKSPACE and SERVICE is about to begin." in run.stderr
    assert "one m5.xlarge instance per target (2 in all)" in run.stderr
    assert "Verdict: PASSED" in run.stdout
    # Plain lines off a terminal: each step of each target as it starts and ends.
    assert "workspace: Launch an m5.xlarge node: passed" in run.stderr
    assert "service: Import a certificate into ACM: passed" in run.stderr
    assert "workspace: Terminate the node: passed" in run.stderr
    final = run.stdout.strip().splitlines()[-2:]
    assert final[0].endswith(WORKSPACE_DONE), run.stdout
    assert_nothing_left(aws)
    got = cloudplane("cloud", "get", "--name", "demo")
    assert "last functional verification: " in got.stdout
    assert final[1].endswith(SERVICE_DONE), run.stdout
    assert run.exit_code == 0, run.stderr
    assert "last functional verification: PASSED (workspace passed, service passed)" in got.stdout


def test_verify_json_carries_the_run_and_the_lines_go_to_stderr(aws: Aws) -> None:
    cloud = setup_cloud()

    run = cloudplane(
        "cloud", "verify", "--name", "demo", "--functional-verify", "workspace", "--yes", "--output", "json"
    )

    assert run.exit_code == 0, run.stderr
    report = run.json()
    assert report["passed"] is True
    functional = report["functional_verification"]
    assert functional["state"] == "passed" and functional["cloud_id"] == cloud["id"]
    assert [t["name"] for t in functional["targets"]] == ["workspace"]
    assert "workspace: Node checks: passed" in run.stderr
    assert WORKSPACE_DONE in run.stderr
    stored = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert stored["last_functional_verification"]["id"] == functional["id"]


@pytest.mark.parametrize("command", ["setup", "verify", "register", "edit"])
def test_an_unknown_target_exits_2_before_anything_is_made(aws: Aws, command: str) -> None:
    args = {
        "setup": ["cloud", "setup", "--name", "demo", "--yes"],
        "verify": ["cloud", "verify", "--name", "demo", "--yes"],
        "register": ["cloud", "register", "--name", "acme", "--vpc-id", "vpc-0123456789abcdef0",
                     "--subnet-ids", "subnet-0123456789abcdef0", "--security-group-ids", "sg-0123456789abcdef0",
                     "--s3-bucket-id", "bucket", "--controlplane-iam-role-id", "arn:aws:iam::123456789012:role/a",
                     "--instance-iam-role-id", "arn:aws:iam::123456789012:role/b", "--yes"],
        "edit": ["cloud", "edit", "demo", "--aws-s3-id", "other-bucket", "--yes"],
    }[command]  # fmt: skip

    run = cloudplane(*args, "--functional-verify", "workspace,gpu")

    assert run.exit_code == 2, run.stderr
    assert "unknown functional verification target 'gpu'" in run.stderr
    assert "Traceback" not in run.stderr
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert aws("cloudformation").list_stacks()["StackSummaries"] == []
    assert no_instances(aws)


def test_without_a_terminal_it_wants_yes_before_it_verifies(aws: Aws) -> None:
    setup_cloud()

    run = cloudplane("cloud", "verify", "--name", "demo", "--functional-verify", "workspace")

    assert run.exit_code == 2
    assert "pass --yes to confirm" in run.stderr
    assert "Verifying" not in run.stderr
    assert no_instances(aws)


def test_a_cloud_that_fails_its_verification_gets_no_nodes(aws: Aws) -> None:
    cloud = setup_cloud()
    ec2 = aws("ec2")
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [cloud["resources"]["vpc_id"]]}])
    for table in tables["RouteTables"]:
        if any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in table["Routes"]):
            ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")

    run = cloudplane("cloud", "verify", "--name", "demo", "--functional-verify", "workspace", "--yes")

    assert run.exit_code == 1
    assert "Functional verification skipped: the cloud did not pass its verification" in run.stderr
    assert no_instances(aws)


def test_ctrl_c_aborts_cleans_up_and_exits_130(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    setup_cloud()
    polls: list[int] = []

    def pause() -> None:
        polls.append(1)
        if len(polls) == 1:
            raise KeyboardInterrupt  # the user presses Ctrl-C while the nodes start

    monkeypatch.setattr(functional_verification, "_pause", pause)

    run = cloudplane("cloud", "verify", "--name", "demo", "--functional-verify", "workspace,service", "--yes")

    assert run.exit_code == 130, run.stderr
    assert "Interrupted: stopping the functional verification and removing what it made" in run.stderr
    cleaned = next(line for line in run.stderr.splitlines() if "Functional verification aborted." in line)
    assert cleaned.count(" terminated") == 2
    assert_nothing_left(aws)
    stored = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert stored["last_functional_verification"]["state"] == "aborted"


def test_register_verifies_a_workspace_after_registering(aws: Aws) -> None:
    built = customer_cloud(aws)

    run = cloudplane(*register_args(built), "--functional-verify", "workspace", "--yes")

    assert run.exit_code == 0, run.stderr + run.stdout
    assert "Registered cloud acme" in run.stdout
    assert run.stdout.strip().splitlines()[-1].endswith(WORKSPACE_DONE)
    assert_nothing_left(aws)


def test_edit_verifies_the_cloud_as_edited(aws: Aws) -> None:
    built = customer_cloud(aws)
    assert cloudplane(*register_args(built), "--yes").exit_code == 0
    _bucket(aws("s3"), "acme-data-v2", built.instance_role)

    run: Run = cloudplane(
        "cloud", "edit", "acme", "--aws-s3-id", "acme-data-v2", "--functional-verify", "workspace", "--yes"
    )

    assert run.exit_code == 0, run.stderr + run.stdout
    assert run.stdout.strip().splitlines()[-1].endswith(WORKSPACE_DONE)
    keys = [o["Key"] for o in aws("s3").list_objects_v2(Bucket="acme-data-v2").get("Contents", [])]
    assert any(key.startswith("cloudplane/functional-verification/") for key in keys), keys
    result = json.loads(aws("s3").get_object(Bucket="acme-data-v2", Key=keys[0])["Body"].read())
    assert result["passed"] is True and result["target"] == "workspace"
