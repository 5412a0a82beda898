"""Setup's unhappy paths: bad input, full quotas, a failing resource, and an interrupted run resumed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.clouds import setup as setup_flow
from tests.helpers import cloudplane
from tests.leftovers import tagged_resources

SETUP = ("cloud", "setup", "--provider", "aws", "--region", "us-west-2", "--yes")


def stacks(aws: Callable[..., Any]) -> list[dict[str, Any]]:
    summaries = aws("cloudformation").list_stacks()["StackSummaries"]
    return [s for s in summaries if s["StackStatus"] != "DELETE_COMPLETE"]


def user_vpcs(aws: Callable[..., Any]) -> list[str]:
    return [v["VpcId"] for v in aws("ec2").describe_vpcs()["Vpcs"] if not v.get("IsDefault")]


def nothing_created(aws: Callable[..., Any]) -> bool:
    clouds = cloudplane("cloud", "list", "--output", "json").json()["clouds"]
    return clouds == [] and stacks(aws) == [] and user_vpcs(aws) == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--name", "bad name!"), "invalid cloud name"),
        (("--name", "-leading-dash"), "invalid cloud name"),
        (("--name", "x" * 64), "invalid cloud name"),
        (("--name", "ok", "--region", "cn-north-1"), "aws-cn partition"),
        (("--name", "ok", "--region", "us-gov-west-1"), "aws-us-gov partition"),
        (("--name", "ok", "--region", "us-wset-2"), "did you mean us-west-2"),
    ],
)
def test_bad_setup_input_is_refused_before_anything_is_created(
    aws: Callable[..., Any], args: tuple[str, ...], words: str
) -> None:
    run = cloudplane("cloud", "setup", "--yes", *args)
    assert run.exit_code == 2
    assert words in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert nothing_created(aws)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("cloud", "get"), "--name NAME or --id"),
        (("cloud", "get", "--name", "a", "--id", "cld_aaaaaaaaaaaaaaaaaaaa"), "not both"),
        (("cloud", "get", "--name", "ghost"), "no cloud named 'ghost'"),
        (("cloud", "get", "--id", "cld_12"), "invalid cloud id"),
        (("cloud", "get", "--id", "cld_aaaaaaaaaaaaaaaaaaaa"), "no cloud with id"),
        (("cloud", "verify", "--name", "ghost"), "no cloud named 'ghost'"),
        (("cloud", "delete", "--name", "ghost", "--yes"), "no cloud named 'ghost'"),
        (("cloud", "delete", "--yes"), "--name NAME or --id"),
        (("cloud", "set-default", "ghost"), "no cloud named 'ghost'"),
        (
            ("cloud", "setup", "--name", "x", "--shared-storage", "disk", "--yes"),
            "Invalid value for '--shared-storage'",
        ),
    ],
)
def test_bad_cloud_references_exit_2_with_one_clear_line(
    aws: Callable[..., Any], args: tuple[str, ...], words: str
) -> None:
    run = cloudplane(*args)
    assert run.exit_code == 2
    assert words in run.stderr
    assert nothing_created(aws)


def test_a_second_cloud_with_the_same_name_is_refused(aws: Callable[..., Any]) -> None:
    assert cloudplane(*SETUP, "--name", "demo").exit_code == 0
    run = cloudplane(*SETUP, "--name", "demo")
    assert run.exit_code == 2
    assert "already exists" in run.stderr
    assert len(stacks(aws)) == 1


@pytest.mark.parametrize(("quota_code", "what"), [("L-F678F1CE", "VPC"), ("L-A4707A72", "internet gateway")])
def test_full_network_quota_refuses_setup_before_creating_anything(
    aws: Callable[..., Any], aws_env: Any, quota_code: str, what: str
) -> None:
    ec2 = aws("ec2")
    in_use = {
        "L-F678F1CE": len(ec2.describe_vpcs()["Vpcs"]),
        "L-A4707A72": len(ec2.describe_internet_gateways()["InternetGateways"]),
    }[quota_code]
    aws_env.set_quota("vpc", quota_code, float(in_use), region="us-west-2")
    run = cloudplane(*SETUP, "--name", "demo")
    assert run.exit_code == 1
    assert "nothing was created" in run.stderr
    assert what.lower() in run.stderr.lower() and "quota" in run.stderr.lower()
    assert nothing_created(aws)


def interrupted_setup(monkeypatch: pytest.MonkeyPatch, step: str) -> Any:
    """Run setup as if the user pressed Ctrl-C during `step` of the setup flow."""

    def interrupt(*_: Any, **__: Any) -> Any:
        raise KeyboardInterrupt

    with monkeypatch.context() as patch:
        patch.setattr(setup_flow, step, interrupt)
        run = cloudplane(*SETUP, "--name", "demo")
    assert run.exit_code == 130
    return run


def test_a_failing_resource_rolls_back_and_leaves_nothing(aws: Callable[..., Any], aws_env: Any) -> None:
    aws_env.fail_next("AWS::EFS::FileSystem", "Mount of disbelief: throughput quota reached")
    run = cloudplane(*SETUP, "--name", "demo")
    assert run.exit_code == 1
    assert "FileSystem (AWS::EFS::FileSystem): Mount of disbelief: throughput quota reached" in run.stderr
    assert "cancelled" not in run.stderr.lower()
    assert "Nothing is left in AWS" in run.stderr

    cloud = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert cloud["state"] == "failed"
    assert tagged_resources(aws, cloud["id"]) == {}
    assert stacks(aws) == []

    # The same command again makes the same cloud, this time successfully.
    retry = cloudplane(*SETUP, "--name", "demo")
    assert retry.exit_code == 0, retry.stderr
    again = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert again["id"] == cloud["id"] and again["state"] == "active"


def test_interrupted_while_the_stack_builds_resumes_with_the_same_cloud_and_stack(
    aws: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = interrupted_setup(monkeypatch, "wait_until_settled")
    assert "Re-run the same command" in first.stderr
    cloud = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert cloud["state"] == "creating"
    assert len(stacks(aws)) == 1

    second = cloudplane(*SETUP, "--name", "demo")
    assert second.exit_code == 0, second.stderr
    assert "Resuming the setup" in second.stderr and "Continuing with stack" in second.stderr
    resumed = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert resumed["id"] == cloud["id"] and resumed["state"] == "active"
    assert len(stacks(aws)) == 1 and len(user_vpcs(aws)) == 1


def test_interrupted_before_the_stack_exists_resumes_with_the_same_cloud(
    aws: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupted_setup(monkeypatch, "_create_or_attach_stack")
    assert stacks(aws) == []
    cloud = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert cloudplane(*SETUP, "--name", "demo").exit_code == 0
    resumed = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert resumed["id"] == cloud["id"] and resumed["state"] == "active"


def test_resuming_with_other_options_is_refused(
    aws: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupted_setup(monkeypatch, "_create_or_attach_stack")
    run = cloudplane(*SETUP, "--name", "demo", "--shared-storage", "object-storage")
    assert run.exit_code == 2
    assert "unfinished setup" in run.stderr


def test_delete_of_a_failed_cloud_cleans_up_and_forgets_it(
    aws: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    interrupted_setup(monkeypatch, "wait_until_settled")
    cloud = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    run = cloudplane("cloud", "delete", "--name", "demo", "--yes", "--delete-bucket")
    assert run.exit_code == 0, run.stderr
    assert tagged_resources(aws, cloud["id"]) == {}
    assert stacks(aws) == []
