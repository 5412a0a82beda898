"""Deleting through the real CLI against the sandbox: what is refused, what is asked, what a failed delete
leaves behind, and how a second attempt reports its progress."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.naming import TAG_KEY
from cloudplane.sandbox.server import SandboxServer
from tests.e2e.test_customer_defined import customer_cloud, register
from tests.helpers import Run, cloudplane
from tests.leftovers import tagged_resources

Factory = Callable[..., Any]
PROGRESS = re.compile(r"Deleting cloud resources: (\d+)/(\d+) done")


def managed_cloud(name: str = "demo") -> dict[str, Any]:
    run = cloudplane(
        "cloud",
        "setup",
        "--name",
        name,
        "--region",
        "us-west-2",
        "--shared-storage",
        "object-storage",
        "--yes",
    )
    assert run.exit_code == 0, run.stderr + run.stdout
    return get(name)


def get(name: str = "demo") -> dict[str, Any]:
    run = cloudplane("cloud", "get", "--name", name, "--output", "json")
    assert run.exit_code == 0, run.stderr
    return run.json()


def buckets(aws: Factory) -> list[str]:
    return [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]


def error_lines(run: Run) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith("error: ")]


def assert_one_line_refusal(run: Run, exit_code: int, *fragments: str) -> None:
    assert run.exit_code == exit_code, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    (line,) = error_lines(run)
    for fragment in fragments:
        assert fragment in line, line


# --- delete-bucket: never the bucket of a cloud that is still known ----------------------------------


@pytest.mark.parametrize("state", ["active", "creating", "failed", "deleting"])
def test_delete_bucket_refuses_the_bucket_of_a_known_managed_cloud(aws: Factory, state: str) -> None:
    cloud = managed_cloud()
    bucket = cloud["resources"]["s3_bucket_id"]
    aws("s3").put_object(Bucket=bucket, Key="checkpoints/model.pt", Body=b"weights")
    if state != "active":
        with ControlPlaneClient.from_env() as client:
            client.update_cloud(cloud["id"], state=state)

    run = cloudplane("cloud", "delete-bucket", bucket, "--region", "us-west-2", "--yes")
    assert_one_line_refusal(
        run,
        2,
        bucket,
        f"demo ({cloud['id']}, {state})",
        "cloudplane cloud delete --name demo --delete-bucket",
    )
    assert bucket in buckets(aws)
    assert len(aws("s3").list_object_versions(Bucket=bucket)["Versions"]) == 1
    if state == "active":
        assert cloudplane("cloud", "verify", "--name", "demo").exit_code == 0


def test_delete_bucket_matches_the_record_as_well_as_the_tag(aws: Factory) -> None:
    """A bucket whose tag was lost is still refused while a cloud's record names it."""
    cloud = managed_cloud()
    bucket = cloud["resources"]["s3_bucket_id"]
    aws("s3").delete_bucket_tagging(Bucket=bucket)
    run = cloudplane("cloud", "delete-bucket", bucket, "--region", "us-west-2", "--yes")
    assert_one_line_refusal(run, 2, bucket, cloud["id"], "active")
    assert bucket in buckets(aws)


def test_delete_bucket_never_deletes_a_customer_defined_clouds_bucket(aws: Factory) -> None:
    built = customer_cloud(aws)
    assert register(built, "--yes").exit_code == 0
    cloud = get("acme")
    # Tagged as cloudplane's own template tags a customer's bucket.
    aws("s3").put_bucket_tagging(
        Bucket=built.bucket, Tagging={"TagSet": [{"Key": TAG_KEY, "Value": cloud["id"]}]}
    )

    while_known = cloudplane("cloud", "delete-bucket", built.bucket, "--region", "us-west-2", "--yes")
    assert_one_line_refusal(while_known, 2, built.bucket, "customer-defined", f"acme ({cloud['id']}, active)")

    assert cloudplane("cloud", "delete", "--name", "acme", "--yes").exit_code == 0
    forgotten = cloudplane("cloud", "delete-bucket", built.bucket, "--region", "us-west-2", "--yes")
    assert_one_line_refusal(forgotten, 2, built.bucket, "never deletes a customer-defined cloud's bucket")
    assert built.bucket in buckets(aws)


# --- every destructive command says what it deletes before asking ------------------------------------


def test_delete_bucket_names_the_bucket_its_cloud_and_its_versions_before_asking(aws: Factory) -> None:
    cloud = managed_cloud()
    bucket = cloud["resources"]["s3_bucket_id"]
    s3 = aws("s3")
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=bucket, Key="checkpoints/model.pt", Body=body)
    s3.delete_object(Bucket=bucket, Key="checkpoints/model.pt")
    assert cloudplane("cloud", "delete", "--name", "demo", "--yes").exit_code == 0

    asked = cloudplane("cloud", "delete-bucket", bucket, "--region", "us-west-2")  # no terminal to answer
    assert_one_line_refusal(
        asked, 2, f"Delete bucket {bucket}", cloud["id"], "2 object versions and 1 delete marker", "--yes"
    )
    assert bucket in buckets(aws)

    removed = cloudplane("cloud", "delete-bucket", bucket, "--region", "us-west-2", "--yes")
    assert removed.exit_code == 0, removed.stderr
    assert f"Deleted bucket {bucket}" in removed.stderr and "2 object versions" in removed.stderr
    assert bucket not in buckets(aws)


@pytest.mark.parametrize("delete_bucket", [False, True], ids=["bucket-kept", "delete-bucket"])
def test_cloud_delete_asks_naming_the_stack_and_the_bucket(aws: Factory, delete_bucket: bool) -> None:
    cloud = managed_cloud()
    bucket = cloud["resources"]["s3_bucket_id"]
    stack_name = cloud["resources"]["cloudformation_stack_id"].split("/")[1]
    flags = ["--delete-bucket"] if delete_bucket else []
    asked = cloudplane("cloud", "delete", "--name", "demo", *flags)  # no terminal to answer
    expected = "with all its data" if delete_bucket else "its data are kept"
    assert_one_line_refusal(asked, 2, f"stack {stack_name}", f"bucket {bucket}", expected, "--yes")
    assert get()["state"] == "active"
    assert bucket in buckets(aws)


# --- bad input is refused before any AWS call --------------------------------------------------------


@pytest.mark.parametrize(
    "bucket",
    ["Invalid_Bucket!", "", "ab", "a" * 64, "-starts-with-dash", "ends-with-dot.", "two..dots", "name\n"],
)
def test_bad_bucket_names_are_refused_before_any_aws_call(
    aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch, bucket: str
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail differently
    run = cloudplane("cloud", "delete-bucket", "--region", "us-west-2", "--yes", "--", bucket)
    assert_one_line_refusal(run, 2, "is not an S3 bucket name")
    assert len(run.stderr.strip().splitlines()) == 1


def test_a_missing_bucket_is_one_line(aws: Factory) -> None:
    run = cloudplane("cloud", "delete-bucket", "no-such-bucket-here", "--region", "us-west-2", "--yes")
    assert_one_line_refusal(run, 2, "no bucket named 'no-such-bucket-here'")
    assert len(run.stderr.strip().splitlines()) == 1


# --- a failed delete stays resumable -------------------------------------------------------------------


@contextmanager
def acting_as_user_denied(
    sandbox: SandboxServer, aws: Factory, monkeypatch: pytest.MonkeyPatch, action: str
) -> Iterator[None]:
    """The CLI runs as an IAM user that may do anything but `action`, with the sandbox enforcing IAM."""
    iam = aws("iam")
    iam.create_user(UserName="operator")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": action, "Resource": "*"},
        ],
    }
    iam.put_user_policy(UserName="operator", PolicyName="all-but-one", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName="operator")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    _enforce_iam(sandbox, True)
    try:
        yield
    finally:
        _enforce_iam(sandbox, False)
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def _enforce_iam(sandbox: SandboxServer, on: bool) -> None:
    # The number of requests left unchecked: 0 enforces from the next request on, inf switches it off.
    body = b"0" if on else b"inf"
    request = urllib.request.Request(
        sandbox.url + "/moto-api/reset-auth", data=body, method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


@pytest.mark.parametrize(
    "action",
    ["cloudformation:DescribeStacks", "cloudformation:ListStackResources", "cloudformation:DeleteStack"],
)
def test_a_delete_refused_by_aws_leaves_the_cloud_failed_and_a_rerun_finishes(
    aws_env: SandboxServer, aws: Factory, monkeypatch: pytest.MonkeyPatch, action: str
) -> None:
    cloud = managed_cloud()
    with acting_as_user_denied(aws_env, aws, monkeypatch, action):
        refused = cloudplane("cloud", "delete", "--name", "demo", "--yes")
    assert_one_line_refusal(
        refused, 1, action, "AccessDenied", "marked failed", "cloudplane cloud delete --name demo --yes"
    )
    record = get()
    assert record["state"] == "failed"
    assert record["failure_reason"].startswith("delete failed: ") and action in record["failure_reason"]
    assert cloudplane("cloud", "list", "--output", "json").json()["clouds"][0]["state"] == "failed"

    rerun = cloudplane("cloud", "delete", "--name", "demo", "--yes")
    assert rerun.exit_code == 0, rerun.stderr
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert tagged_resources(aws, cloud["id"]) == {"bucket": [cloud["resources"]["s3_bucket_id"]]}


def test_a_stack_that_fails_to_delete_leaves_the_cloud_failed_and_the_rerun_counts_only_its_own_work(
    aws: Factory,
) -> None:
    cloud = managed_cloud()
    ec2 = aws("ec2")
    # Something made outside the stack keeps its VPC from being deleted: DependencyViolation, DELETE_FAILED.
    extra = ec2.create_security_group(
        GroupName="someone-elses", Description="not the stack's", VpcId=cloud["resources"]["vpc_id"]
    )["GroupId"]

    first = cloudplane("cloud", "delete", "--name", "demo", "--yes")
    assert_one_line_refusal(
        first, 1, "DELETE_FAILED", "Vpc", "marked failed", "cloudplane cloud delete --name demo"
    )
    record = get()
    assert record["state"] == "failed" and record["failure_reason"].startswith("delete failed: ")
    for done, total in PROGRESS.findall(first.stderr):
        assert int(done) <= int(total), first.stderr

    ec2.delete_security_group(GroupId=extra)
    rerun = cloudplane("cloud", "delete", "--name", "demo", "--yes")
    assert rerun.exit_code == 0, rerun.stderr
    progress = [(int(done), int(total)) for done, total in PROGRESS.findall(rerun.stderr)]
    assert progress, rerun.stderr
    assert all(done <= total for done, total in progress), rerun.stderr
    assert progress[-1][0] == progress[-1][1] > 0
    assert "after an earlier attempt failed" in rerun.stderr
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert tagged_resources(aws, cloud["id"]) == {"bucket": [cloud["resources"]["s3_bucket_id"]]}
