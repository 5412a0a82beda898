"""A managed cloud through the real CLI against the sandbox: setup, verify, list, get, default, delete."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.cloud import RESOURCE_KEYS
from tests.helpers import cloudplane
from tests.leftovers import tagged_resources

EXPECTED_KEYS = {
    "id",
    "name",
    "provider",
    "region",
    "deployment",
    "networking",
    "state",
    "is_default",
    "external_id",
}


def setup_cloud(name: str = "demo", *extra: str) -> Any:
    run = cloudplane(
        "cloud", "setup", "--name", name, "--provider", "aws", "--region", "us-west-2", "--yes", *extra
    )
    assert run.exit_code == 0, run.stderr + run.stdout
    return run


@pytest.mark.parametrize(
    "flags",
    [(), ("--enable-head-node-fault-tolerance",), ("--shared-storage", "object-storage")],
    ids=["nfs", "nfs+memorydb", "object-storage"],
)
def test_setup_verify_delete_leaves_only_the_bucket(aws: Callable[..., Any], flags: tuple[str, ...]) -> None:
    setup = setup_cloud("demo", *flags)
    assert "Using AWS account 123456789012" in setup.stderr
    assert "console.aws.amazon.com/cloudformation" in setup.stderr
    assert "Verdict: PASSED" in setup.stdout

    got = cloudplane("cloud", "get", "--name", "demo", "--output", "json")
    assert got.exit_code == 0
    cloud = got.json()
    assert set(cloud) >= EXPECTED_KEYS
    assert set(cloud["resources"]) == set(RESOURCE_KEYS)
    assert cloud["state"] == "active" and cloud["deployment"] == "managed" and cloud["networking"] == "public"
    resources = cloud["resources"]
    assert resources["vpc_id"].startswith("vpc-")
    assert len(resources["subnet_ids"]) == len(aws("ec2").describe_availability_zones()["AvailabilityZones"])
    assert resources["controlplane_role_arn"].endswith(f"role/cloudplane-{cloud['id']}-controlplane")
    if "object-storage" in flags:
        assert resources["efs_id"] is None and resources["efs_mount_target_ips"] is None
    else:
        assert resources["efs_id"].startswith("fs-")
        assert len(resources["efs_mount_target_ips"]) == len(resources["subnet_ids"])
    if "--enable-head-node-fault-tolerance" in flags:
        assert resources["memorydb_cluster_id"]
    else:
        assert resources["memorydb_cluster_id"] is None
    assert cloud["last_verification"]["passed"] is True

    verify = cloudplane("cloud", "verify", "--name", "demo", "--output", "json")
    assert verify.exit_code == 0, verify.stdout
    report = verify.json()
    assert report["passed"] is True and report["cloud"]["id"] == cloud["id"]
    assert {"check", "resource", "resource_id", "severity", "passed", "message", "remediation", "checked"} == set(
        report["findings"][0]
    )
    checks = {f["check"] for f in report["findings"]}
    assert {"VPC-1", "SUB-6", "SG-2", "IAM-3", "S3-1", "CFN-1"} <= checks
    assert ("MDB-6" in checks) == ("--enable-head-node-fault-tolerance" in flags)

    before = tagged_resources(aws, cloud["id"])
    assert before["vpc"] == [resources["vpc_id"]]

    deleted = cloudplane("cloud", "delete", "--name", "demo", "--yes")
    assert deleted.exit_code == 0, deleted.stderr
    assert resources["s3_bucket_id"] in deleted.stderr and "kept" in deleted.stderr
    assert f"cloudplane cloud delete-bucket {resources['s3_bucket_id']}" in deleted.stderr
    assert tagged_resources(aws, cloud["id"]) == {"bucket": [resources["s3_bucket_id"]]}
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}


def test_verify_text_output_shows_progress_and_summary(aws: Callable[..., Any]) -> None:
    setup_cloud()
    run = cloudplane("cloud", "verify", "--name", "demo")
    assert run.exit_code == 0
    assert "Verifying VPC ..." in run.stderr
    assert "(cloudplane +" in run.stderr
    for line in ("vpc: PASSED", "subnets: PASSED", "iam roles: PASSED", "cloudformation stack: PASSED"):
        assert line in run.stdout


def test_list_get_and_default(aws: Callable[..., Any]) -> None:
    setup_cloud("first")
    setup_cloud("second", "--shared-storage", "object-storage")
    listing = cloudplane("cloud", "list")
    assert listing.exit_code == 0
    assert "first" in listing.stdout and "second" in listing.stdout

    second = cloudplane("cloud", "get", "--name", "second", "--output", "json").json()
    assert cloudplane("cloud", "set-default", "second").exit_code == 0
    by_id = cloudplane("cloud", "set-default", second["id"])
    assert by_id.exit_code == 0
    clouds = {c["name"]: c for c in cloudplane("cloud", "list", "--output", "json").json()["clouds"]}
    assert clouds["second"]["is_default"] is True and clouds["first"]["is_default"] is False
    assert cloudplane("cloud", "set-default", "first").exit_code == 0
    clouds = {c["name"]: c for c in cloudplane("cloud", "list", "--output", "json").json()["clouds"]}
    assert clouds["first"]["is_default"] is True and clouds["second"]["is_default"] is False
    assert cloudplane("cloud", "get", "--id", second["id"], "--output", "json").json()["name"] == "second"


def test_verify_fails_with_exit_1_and_stores_the_report_when_a_route_is_gone(aws: Callable[..., Any]) -> None:
    setup_cloud()
    cloud = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    ec2 = aws("ec2")
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [cloud["resources"]["vpc_id"]]}])
    for table in tables["RouteTables"]:
        if any(r.get("DestinationCidrBlock") == "0.0.0.0/0" for r in table["Routes"]):
            ec2.delete_route(RouteTableId=table["RouteTableId"], DestinationCidrBlock="0.0.0.0/0")
    run = cloudplane("cloud", "verify", "--name", "demo", "--output", "json")
    assert run.exit_code == 1
    failed = [f for f in run.json()["findings"] if not f["passed"] and f["severity"] == "error"]
    assert {f["check"] for f in failed} == {"SUB-6"}
    assert {f["resource_id"] for f in failed} == set(cloud["resources"]["subnet_ids"])
    stored = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert stored["last_verification"]["passed"] is False


def test_kept_bucket_is_removed_later_with_every_version(aws: Callable[..., Any]) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage")
    cloud = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    bucket = cloud["resources"]["s3_bucket_id"]
    s3 = aws("s3")
    for body in (b"v1", b"v2"):
        s3.put_object(Bucket=bucket, Key="checkpoints/model.pt", Body=body)
    assert cloudplane("cloud", "delete", "--name", "demo", "--yes").exit_code == 0
    assert len(s3.list_object_versions(Bucket=bucket)["Versions"]) == 2

    removed = cloudplane("cloud", "delete-bucket", bucket, "--region", "us-west-2", "--yes")
    assert removed.exit_code == 0, removed.stderr
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert tagged_resources(aws, cloud["id"]) == {}


def test_delete_bucket_refuses_buckets_cloudplane_did_not_make(aws: Callable[..., Any]) -> None:
    s3 = aws("s3")
    s3.create_bucket(
        Bucket="someone-elses-data", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    refused = cloudplane("cloud", "delete-bucket", "someone-elses-data", "--region", "us-west-2", "--yes")
    assert refused.exit_code == 2
    assert "cloudplane only deletes its own buckets" in refused.stderr
    assert "someone-elses-data" in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    missing = cloudplane("cloud", "delete-bucket", "no-such-bucket-here", "--region", "us-west-2", "--yes")
    assert missing.exit_code == 2 and "no bucket named" in missing.stderr


def test_delete_with_delete_bucket_removes_the_data_too(aws: Callable[..., Any]) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage")
    cloud = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    aws("s3").put_object(Bucket=cloud["resources"]["s3_bucket_id"], Key="logs/a.txt", Body=b"x")
    run = cloudplane("cloud", "delete", "--name", "demo", "--yes", "--delete-bucket")
    assert run.exit_code == 0, run.stderr
    assert tagged_resources(aws, cloud["id"]) == {}
