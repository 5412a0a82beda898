"""`cloud delete` of a cloud that still runs something, through the real CLI against the sandbox: refused
while instances live, `--terminate-clusters`, load balancers deleted before the main stack, a load balancer
that cannot be deleted stops the delete resumably, and a broken role never means deleting blind."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from cloudplane.clusters.load_balancers import stack_name, tags
from cloudplane.naming import TAG_KEY
from cloudplane.sandbox.server import SandboxServer
from tests.e2e.test_customer_defined import customer_cloud, register
from tests.e2e.test_delete_safety import acting_as_user_denied, get, managed_cloud
from tests.helpers import Run, cloudplane

Factory = Callable[..., Any]


@pytest.fixture(autouse=True)
def short_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLOUDPLANE_DELETE_WAIT_SECONDS", "20")


def launch(cluster: str, cloud: str = "demo") -> dict[str, Any]:
    run = cloudplane("cluster", "launch", "--cloud", cloud, "--name", cluster, "--output", "json")
    assert run.exit_code == 0, run.stderr
    return run.json()


def delete(*flags: str, name: str = "demo") -> Run:
    return cloudplane("cloud", "delete", "--name", name, *flags)


def stack_status(aws: Factory, stack_id: str) -> str:
    return aws("cloudformation").describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]


def instance_state(aws: Factory, instance_id: str) -> str:
    [reservation] = aws("ec2").describe_instances(InstanceIds=[instance_id])["Reservations"]
    return reservation["Instances"][0]["State"]["Name"]


def line_with(run: Run, fragment: str) -> str:
    [line] = [line for line in run.stderr.splitlines() if fragment in line]
    return line


def assert_nothing_left(aws: Factory, cloud_id: str) -> None:
    """No instance, stack or certificate of the cloud is left in the account."""
    tagged = [{"Name": f"tag:{TAG_KEY}", "Values": [cloud_id]}]
    instances = [
        (i["InstanceId"], i["State"]["Name"])
        for r in aws("ec2").describe_instances(Filters=tagged)["Reservations"]
        for i in r["Instances"]
        if i["State"]["Name"] != "terminated"
    ]
    assert instances == []
    stacks = [
        (s["StackName"], s["StackStatus"])
        for s in aws("cloudformation").describe_stacks()["Stacks"]
        if cloud_id.replace("_", "-") in s["StackName"] or {"Key": TAG_KEY, "Value": cloud_id} in s["Tags"]
    ]
    assert stacks == []
    acm = aws("acm")
    certificates = [
        c["CertificateArn"]
        for c in acm.list_certificates()["CertificateSummaryList"]
        if {"Key": TAG_KEY, "Value": cloud_id}
        in acm.list_tags_for_certificate(CertificateArn=c["CertificateArn"])["Tags"]
    ]
    assert certificates == []


def outside_instance(aws: Factory, cloud: dict[str, Any]) -> str:
    """An instance someone ran in the cloud's network with its tag, not through the control plane."""
    ec2 = aws("ec2")
    images = ec2.describe_images(
        Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-2023.*"]}]
    )
    return ec2.run_instances(
        ImageId=images["Images"][0]["ImageId"],
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        SubnetId=cloud["resources"]["subnet_ids"][0],
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": TAG_KEY, "Value": cloud["id"]}]}],
    )["Instances"][0]["InstanceId"]


def load_balancer_stack(aws: Factory, cloud: dict[str, Any], service: str, resources: dict[str, Any]) -> str:
    return aws("cloudformation").create_stack(
        StackName=stack_name(cloud["id"], service),
        TemplateBody=json.dumps({"Resources": resources}),
        Tags=tags(cloud["id"]),
    )["StackId"]


# --- refused while instances live ---------------------------------------------------------------------


def test_delete_is_refused_while_a_cluster_runs_and_completes_once_it_is_terminated(aws: Factory) -> None:
    cloud = managed_cloud()
    [node] = launch("ws1")["instances"]

    refused = delete("--yes")

    assert refused.exit_code == 2, refused.stderr
    assert "Traceback" not in refused.stderr
    line = line_with(refused, "cluster ws1:")
    assert node["id"] in line and "running" in line and "cloudplane cluster terminate ws1" in line
    assert "--terminate-clusters" in refused.stderr and "nothing was deleted" in refused.stderr
    stack = cloud["resources"]["cloudformation_stack_id"]
    assert stack_status(aws, stack) == "CREATE_COMPLETE"
    assert get()["state"] == "active"
    assert instance_state(aws, node["id"]) == "running"

    assert cloudplane("cluster", "terminate", "ws1", "--yes").exit_code == 0
    deleted = delete("--yes")

    assert deleted.exit_code == 0, deleted.stderr
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert_nothing_left(aws, cloud["id"])


def test_terminate_clusters_asks_naming_them_terminates_every_instance_and_deletes(aws: Factory) -> None:
    cloud = managed_cloud()
    [node] = launch("ws1")["instances"]
    stranger = outside_instance(aws, cloud)

    refused = delete("--yes")
    assert refused.exit_code == 2, refused.stderr
    assert node["id"] in line_with(refused, "cluster ws1:")
    unknown = line_with(refused, "no known cluster")
    assert stranger in unknown and "aws ec2 terminate-instances" in unknown

    asked = delete("--terminate-clusters")  # no terminal to answer
    assert asked.exit_code == 2
    question = line_with(asked, "First terminates the cloud's instances")
    assert f"cluster ws1 ({node['id']} running)" in question and stranger in question and "--yes" in question
    assert instance_state(aws, node["id"]) == "running" and instance_state(aws, stranger) == "running"
    assert get()["state"] == "active"

    deleted = delete("--yes", "--terminate-clusters")

    assert deleted.exit_code == 0, deleted.stderr
    assert "Terminated 2 instances" in deleted.stderr
    assert deleted.stderr.index("Terminated 2 instances") < deleted.stderr.index("Deleting cloud resources")
    assert instance_state(aws, node["id"]) == "terminated" and instance_state(aws, stranger) == "terminated"
    listed = cloudplane("cluster", "list", "--all", "--output", "json").json()
    assert [(c["name"], c["state"]) for c in listed] == [("ws1", "terminated")] or listed == []
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert_nothing_left(aws, cloud["id"])


# --- load balancers go first ----------------------------------------------------------------------------


def test_load_balancer_stacks_and_certificates_are_deleted_before_the_main_stack(aws: Factory) -> None:
    cloud = managed_cloud()
    group = {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "service lb", "VpcId": cloud["resources"]["vpc_id"]},
    }
    lb_stack = load_balancer_stack(aws, cloud, "svc", {"Group": group})
    certificate = aws("acm").request_certificate(DomainName="svc.example.com", Tags=tags(cloud["id"]))[
        "CertificateArn"
    ]

    deleted = delete("--yes")

    # The stack's group lives in the cloud's VPC: the main stack's delete would fail while it is there.
    assert deleted.exit_code == 0, deleted.stderr
    done = line_with(deleted, "Deleted the cloud's load balancers")
    assert stack_name(cloud["id"], "svc") in done and certificate in done
    assert deleted.stderr.index("Deleted the cloud's load balancers") < deleted.stderr.index(
        "Deleting cloud resources"
    )
    assert stack_status(aws, lb_stack) == "DELETE_COMPLETE"
    assert_nothing_left(aws, cloud["id"])


def test_a_load_balancer_that_cannot_be_deleted_stops_the_delete_and_a_rerun_finishes(aws: Factory) -> None:
    cloud = managed_cloud()
    lb_stack = load_balancer_stack(aws, cloud, "logs", {"Logs": {"Type": "AWS::S3::Bucket"}})
    [logs] = aws("cloudformation").describe_stack_resources(StackName=lb_stack)["StackResources"]
    aws("s3").put_object(Bucket=logs["PhysicalResourceId"], Key="access.log", Body=b"GET /")

    stopped = delete("--yes")

    assert stopped.exit_code == 1, stopped.stderr
    error = line_with(stopped, "error: ")
    assert f"stack {stack_name(cloud['id'], 'logs')} cannot be deleted" in error
    assert "BucketNotEmpty" in error or "not empty" in error
    assert "stays deleting" in error and "cloudplane cloud delete --name demo --yes" in error
    assert get()["state"] == "deleting"
    assert stack_status(aws, cloud["resources"]["cloudformation_stack_id"]) == "CREATE_COMPLETE"

    aws("s3").delete_object(Bucket=logs["PhysicalResourceId"], Key="access.log")
    rerun = delete("--yes")

    assert rerun.exit_code == 0, rerun.stderr
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert_nothing_left(aws, cloud["id"])


# --- a role that cannot be used ------------------------------------------------------------------------


@contextmanager
def trust_broken(aws: Factory, role_arn: str) -> Iterator[None]:
    """The cloud's role requires another External ID: the control plane cannot assume it."""
    iam = aws("iam")
    role = role_arn.rsplit("/", 1)[-1]
    before = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    broken = json.loads(json.dumps(before))
    for statement in broken["Statement"]:
        statement["Condition"]["StringEquals"]["sts:ExternalId"] = "someone-else"
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(broken))
    try:
        yield
    finally:
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(before))


def test_a_broken_role_falls_back_to_your_credentials_and_never_deletes_blind(
    aws_env: SandboxServer, aws: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    cloud = managed_cloud()
    [node] = launch("ws1")["instances"]
    stack = cloud["resources"]["cloudformation_stack_id"]

    with trust_broken(aws, cloud["resources"]["controlplane_role_arn"]):
        found = delete("--yes")
        assert found.exit_code == 2, found.stderr
        assert "could not use the cloud's role" in found.stderr and "own AWS credentials" in found.stderr
        assert node["id"] in line_with(found, "cluster ws1:")

        cannot = delete("--yes", "--terminate-clusters")
        assert cannot.exit_code == 2, cannot.stderr
        assert "cannot terminate them" in cannot.stderr
        assert f"aws ec2 terminate-instances --region us-west-2 --instance-ids {node['id']}" in cannot.stderr
        assert instance_state(aws, node["id"]) == "running"

        with acting_as_user_denied(aws_env, aws, monkeypatch, "ec2:DescribeInstances"):
            blind = delete("--yes", "--terminate-clusters")
        assert blind.exit_code == 1, blind.stderr
        error = line_with(blind, "error: ")
        assert "nothing was deleted" in error and "Through the control plane" in error
        assert "With your own AWS credentials" in error and "ec2:DescribeInstances" in error

    assert stack_status(aws, stack) == "CREATE_COMPLETE"
    assert get()["state"] == "active"
    assert instance_state(aws, node["id"]) == "running"

    deleted = delete("--yes", "--terminate-clusters")
    assert deleted.exit_code == 0, deleted.stderr
    assert_nothing_left(aws, cloud["id"])


# --- customer-defined clouds ------------------------------------------------------------------------------


def test_a_customer_defined_cloud_with_a_running_cluster_is_refused_too(aws: Factory) -> None:
    built = customer_cloud(aws, efs=False)
    assert register(built, "--yes").exit_code == 0
    cloud = get("acme")
    [node] = launch("ws1", cloud="acme")["instances"]

    refused = delete("--yes", name="acme")

    assert refused.exit_code == 2, refused.stderr
    assert node["id"] in line_with(refused, "cluster ws1:")
    assert get("acme")["state"] == "active"
    assert instance_state(aws, node["id"]) == "running"

    deleted = delete("--yes", "--terminate-clusters", name="acme")

    assert deleted.exit_code == 0, deleted.stderr
    assert "Your own AWS resources were not touched" in deleted.stderr
    assert instance_state(aws, node["id"]) == "terminated"
    assert aws("ec2").describe_vpcs(VpcIds=[built.vpc_id])["Vpcs"]
    assert cloudplane("cloud", "list", "--output", "json").json() == {"clouds": []}
    assert_nothing_left(aws, cloud["id"])
