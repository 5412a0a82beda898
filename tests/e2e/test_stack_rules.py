"""AWS behaviours a managed cloud's stack runs into, through the real CLI against the sandbox: a bucket kept
by a rollback, policies added to the stack's roles outside it, and MemoryDB's moving default engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane import naming
from cloudplane.sandbox import cfn_types
from cloudplane.sandbox.server import SandboxServer
from tests.e2e.test_delete_safety import assert_one_line_refusal, buckets, error_lines, get, managed_cloud
from tests.e2e.test_setup_failures import SETUP, interrupted_setup, stacks
from tests.helpers import cloudplane
from tests.leftovers import tagged_resources

Factory = Callable[..., Any]
DOCUMENT = json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]}
)


# --- a setup interrupted while its stack rolled back ------------------------------------------------------


def rolled_back_while_interrupted(
    aws: Factory, sandbox: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A setup whose stack fails and rolls back while the run is interrupted; returns the kept bucket."""
    sandbox.fail_next("AWS::EFS::FileSystem", "Mount of disbelief: throughput quota reached")
    interrupted_setup(monkeypatch, "wait_until_settled")
    cloud = get()
    assert cloud["state"] == "creating"
    assert [s["StackStatus"] for s in stacks(aws)] == ["ROLLBACK_COMPLETE"]
    bucket = naming.bucket_name(cloud["id"])
    assert bucket in buckets(aws)  # DeletionPolicy Retain keeps it through the rollback
    return bucket


def test_setup_interrupted_while_its_stack_rolled_back_succeeds_in_one_rerun(
    aws: Factory, aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = rolled_back_while_interrupted(aws, aws_env, monkeypatch)
    rerun = cloudplane(*SETUP, "--name", "demo")
    assert rerun.exit_code == 0, rerun.stderr
    assert "Removing the failed stack" in rerun.stderr
    assert f"Removed the empty bucket {bucket}" in rerun.stderr
    cloud = get()
    assert cloud["state"] == "active" and cloud["resources"]["s3_bucket_id"] == bucket
    assert [s["StackStatus"] for s in stacks(aws)] == ["CREATE_COMPLETE"]


def test_a_kept_bucket_with_data_stops_the_resume_with_one_line_and_is_kept(
    aws: Factory, aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = rolled_back_while_interrupted(aws, aws_env, monkeypatch)
    s3 = aws("s3")
    version = s3.put_object(Bucket=bucket, Key="results.parquet", Body=b"precious")["VersionId"]

    refused = cloudplane(*SETUP, "--name", "demo")
    assert_one_line_refusal(refused, 1, bucket, "holds data (1 object version)", "--delete-bucket")
    assert s3.get_object(Bucket=bucket, Key="results.parquet")["Body"].read() == b"precious"
    assert stacks(aws) == []  # the failed stack is gone; only the bucket stands in the way

    # What the line says: empty the bucket, then the same command goes on with the same cloud.
    s3.delete_object(Bucket=bucket, Key="results.parquet", VersionId=version)
    rerun = cloudplane(*SETUP, "--name", "demo")
    assert rerun.exit_code == 0, rerun.stderr
    assert get()["state"] == "active"


def test_a_bucket_of_that_name_not_tagged_for_the_cloud_is_never_removed(
    aws: Factory, aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = rolled_back_while_interrupted(aws, aws_env, monkeypatch)
    s3 = aws("s3")
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "owner", "Value": "someone-else"}]})
    refused = cloudplane(*SETUP, "--name", "demo")
    assert_one_line_refusal(refused, 1, bucket, "exists without the tag", "leaves it alone")
    assert bucket in buckets(aws)


# --- policies added to the stack's roles outside the stack --------------------------------------------------


def add_outside_policies(aws: Factory, cloud: dict[str, Any]) -> tuple[str, str]:
    """What customers do to the cross-account role: an inline policy and an attached managed one."""
    iam = aws("iam")
    role = f"cloudplane-{cloud['id']}-controlplane"
    iam.put_role_policy(RoleName=role, PolicyName="Customer_Drifts_Policy", PolicyDocument=DOCUMENT)
    arn = iam.create_policy(PolicyName="CustomerAudit", PolicyDocument=DOCUMENT)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    return role, arn


def test_delete_names_and_removes_policies_added_to_the_stacks_roles_outside_it(aws: Factory) -> None:
    cloud = managed_cloud()
    role, arn = add_outside_policies(aws, cloud)

    asked = cloudplane("cloud", "delete", "--name", "demo")  # no terminal to answer
    assert_one_line_refusal(
        asked,
        2,
        f"inline policy Customer_Drifts_Policy on role {role}",
        f"managed policy {arn} on role {role}",
        "removed first",
    )
    # The stack's own policies are not named.
    assert "AmazonEC2ContainerRegistryReadOnly" not in error_lines(asked)[0]
    assert "Cloudplane_Bucket_Access" not in error_lines(asked)[0]

    run = cloudplane("cloud", "delete", "--name", "demo", "--yes")
    assert run.exit_code == 0, run.stderr
    assert f"Removed the inline policy Customer_Drifts_Policy on role {role}" in run.stderr
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert tagged_resources(aws, cloud["id"]) == {"bucket": [cloud["resources"]["s3_bucket_id"]]}
    assert aws("iam").get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 0  # detached, not deleted


def test_delete_after_a_stack_delete_that_failed_on_such_a_policy(aws: Factory) -> None:
    cloud = managed_cloud()
    add_outside_policies(aws, cloud)
    cfn = aws("cloudformation")
    stack_id = cloud["resources"]["cloudformation_stack_id"]
    cfn.delete_stack(StackName=stack_id)  # e.g. from the AWS console
    failed = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert failed["StackStatus"] == "DELETE_FAILED" and "DeleteConflict" in failed["StackStatusReason"]

    run = cloudplane("cloud", "delete", "--name", "demo", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "after an earlier attempt failed" in run.stderr and "Customer_Drifts_Policy" in run.stderr
    assert tagged_resources(aws, cloud["id"]) == {"bucket": [cloud["resources"]["s3_bucket_id"]]}


# --- MemoryDB --------------------------------------------------------------------------------------------------


def test_setup_with_memorydb_does_not_rely_on_awss_default_engine(
    aws: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The engine AWS picks when a cluster names none moves to one the redis7 parameter group does not fit.
    monkeypatch.setenv(cfn_types.ENV_MEMORYDB_DEFAULT_ENGINE, "valkey 7.2")
    run = cloudplane(*SETUP, "--name", "ha", "--enable-head-node-fault-tolerance", "--output", "json")
    assert run.exit_code == 0, run.stderr
    cluster_name = run.json()["cloud"]["resources"]["memorydb_cluster_id"]
    (cluster,) = aws("memorydb").describe_clusters(ClusterName=cluster_name)["Clusters"]
    assert cluster["EngineVersion"] == "7.1"
