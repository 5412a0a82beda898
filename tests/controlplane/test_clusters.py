"""Clusters through both transports: launched, listed and terminated in the cloud's account, only through
the cloud's cross-account role (assumed with its External ID), on real sandbox EC2."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.cloud import CUSTOMER_DEFINED
from cloudplane.errors import Conflict, InputError, NotFound, OperationFailed
from cloudplane.naming import CLUSTER_ID_TAG_KEY, CLUSTER_TAG_KEY, TAG_KEY
from tests.verify.builders import BuiltCloud, build_cloud, record_in


@pytest.fixture
def database_url(tmp_path: Any) -> str:
    """Both transports on SQLite here: each case costs a cloud built in the sandbox. PostgreSQL keeps the
    cluster records too: see test_clusters_on_postgres."""
    return f"sqlite:///{tmp_path / 'cloudplane.db'}"


@pytest.fixture
def built(aws: Callable[..., Any]) -> BuiltCloud:
    return build_cloud(aws, deployment=CUSTOMER_DEFINED, efs=False, azs=2)


def _tags(instance: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in instance.get("Tags", [])}


def _instances(aws: Callable[..., Any], ids: list[str]) -> list[dict[str, Any]]:
    pages = aws("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return [instance for reservation in pages for instance in reservation["Instances"]]


def test_launch_runs_tagged_instances_in_the_clouds_network(
    client: ControlPlaneClient, built: BuiltCloud, aws: Callable[..., Any]
) -> None:
    cloud = record_in(client, built)

    cluster = client.launch_cluster("ws1", cloud_id=cloud["id"])

    assert cluster["name"] == "ws1" and cluster["kind"] == "workspace"
    assert cluster["cloud_id"] == cloud["id"] and cluster["cloud_name"] == "demo"
    assert cluster["state"] in ("pending", "running")
    [node] = cluster["instances"]
    assert node["role"] == "head"
    [instance] = _instances(aws, [node["id"]])
    assert instance["SubnetId"] in built.subnet_ids
    assert [group["GroupId"] for group in instance["SecurityGroups"]] == [built.sg_id]
    assert instance["IamInstanceProfile"]["Arn"].endswith(
        f"instance-profile/{built.instance_role.split('/')[-1]}"
    )
    tags = _tags(instance)
    assert tags[TAG_KEY] == cloud["id"]
    assert tags[CLUSTER_TAG_KEY] == "ws1"
    assert tags[CLUSTER_ID_TAG_KEY] == cluster["id"]


def test_list_refreshes_states_and_terminate_ends_the_cluster(
    client: ControlPlaneClient, built: BuiltCloud, aws: Callable[..., Any]
) -> None:
    cloud = record_in(client, built)
    launched = client.launch_cluster("ws1", cloud_id=cloud["id"])

    [listed] = client.list_clusters()
    assert listed["id"] == launched["id"] and listed["state"] == "running"
    assert client.list_clusters(cloud_id=cloud["id"])[0]["id"] == launched["id"]

    ended = client.terminate_cluster("ws1")

    assert ended["state"] in ("terminating", "terminated")
    [instance] = _instances(aws, [launched["instances"][0]["id"]])
    assert instance["State"]["Name"] in ("shutting-down", "terminated")
    assert client.list_clusters() == []
    assert [c["name"] for c in client.list_clusters(include_terminated=True)] == ["ws1"]
    # The name is free again once the cluster is gone.
    assert client.launch_cluster("ws1", cloud_id=cloud["id"])["id"] != launched["id"]


def test_a_live_name_cannot_be_launched_twice(client: ControlPlaneClient, built: BuiltCloud) -> None:
    cloud = record_in(client, built)
    client.launch_cluster("ws1", cloud_id=cloud["id"])

    with pytest.raises(Conflict, match="ws1"):
        client.launch_cluster("ws1", cloud_id=cloud["id"])


def test_launch_without_a_cloud_uses_the_default_cloud(client: ControlPlaneClient, built: BuiltCloud) -> None:
    cloud = record_in(client, built)
    with pytest.raises(InputError, match="no default cloud"):
        client.launch_cluster("ws1")
    client.set_default(cloud["id"])

    assert client.launch_cluster("ws1")["cloud_id"] == cloud["id"]


def test_cloud_instances_lists_live_instances_by_cluster(
    client: ControlPlaneClient, built: BuiltCloud
) -> None:
    cloud = record_in(client, built)
    launched = client.launch_cluster("ws1", cloud_id=cloud["id"])

    [instance] = client.cloud_instances(cloud["id"])
    assert instance["id"] == launched["instances"][0]["id"] and instance["cluster"] == "ws1"

    client.terminate_cloud_instances(cloud["id"])
    assert client.cloud_instances(cloud["id"]) == []
    assert client.list_clusters() == []


def test_bad_cluster_names_are_refused_before_anything_runs(
    client: ControlPlaneClient, built: BuiltCloud, aws: Callable[..., Any]
) -> None:
    cloud = record_in(client, built)

    for name in ["", "WS1", "-ws", "ws_1", "a" * 41]:
        with pytest.raises(InputError, match="cluster name"):
            client.launch_cluster(name, cloud_id=cloud["id"])

    assert aws("ec2").describe_instances()["Reservations"] == []


def test_launch_in_a_cloud_that_is_not_active_is_refused(
    client: ControlPlaneClient, built: BuiltCloud
) -> None:
    cloud = record_in(client, built)
    client.update_cloud(cloud["id"], state="deleting")

    with pytest.raises(Conflict, match="deleting"):
        client.launch_cluster("ws1", cloud_id=cloud["id"])


def test_unknown_cluster_is_not_found(client: ControlPlaneClient) -> None:
    with pytest.raises(NotFound, match="nope"):
        client.terminate_cluster("nope")


def test_nothing_runs_when_the_role_refuses_the_external_id(
    client: ControlPlaneClient, built: BuiltCloud, aws: Callable[..., Any]
) -> None:
    """The trust policy decides: a role that requires another External ID cannot be used at all."""
    cloud = record_in(client, built)
    role_name = built.cp_role.split("/")[-1]
    trust = aws("iam").get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Condition"]["StringEquals"]["sts:ExternalId"] = "someone-else"
    aws("iam").update_assume_role_policy(RoleName=role_name, PolicyDocument=json.dumps(trust))

    revoked = f"access to cloud demo is revoked: its cross-account role {built.cp_role} cannot be assumed"
    with pytest.raises(OperationFailed, match=revoked):
        client.launch_cluster("ws1", cloud_id=cloud["id"])

    assert aws("ec2").describe_instances()["Reservations"] == []


def _tagged_stack(aws: Callable[..., Any], name: str, cloud_id: str | None, resources: dict[str, Any]) -> str:
    from cloudplane.clusters.load_balancers import tags

    return aws("cloudformation").create_stack(
        StackName=name,
        TemplateBody=json.dumps({"Resources": resources}),
        Tags=tags(cloud_id) if cloud_id else [],
    )["StackId"]


def _clean_up(client: ControlPlaneClient, cloud_id: str, passes: int = 20) -> dict[str, Any]:
    for _ in range(passes):
        result = client.clean_up_load_balancers(cloud_id)
        if result["done"] or result["failed"]:
            return result
    return result


def test_load_balancer_clean_up_removes_only_the_clouds_tagged_stacks_and_certificates(
    client: ControlPlaneClient, built: BuiltCloud, aws: Callable[..., Any]
) -> None:
    from cloudplane.clusters.load_balancers import tags

    cloud = record_in(client, built)
    group = {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {"GroupDescription": "lb", "VpcId": built.vpc_id},
    }
    ours = _tagged_stack(aws, "lb-of-demo", cloud["id"], {"Group": group})
    other = _tagged_stack(aws, "someone-elses", None, {"Group": group})
    certificate = aws("acm").request_certificate(DomainName="demo.example.com", Tags=tags(cloud["id"]))[
        "CertificateArn"
    ]
    kept_certificate = aws("acm").request_certificate(DomainName="other.example.com")["CertificateArn"]

    result = _clean_up(client, cloud["id"])

    assert result["done"], result
    # A deleted stack is no longer tagged anywhere: the last pass sees only what it removed then.
    assert all(stack["status"] == "deleted" for stack in result["stacks"])
    assert [item["arn"] for item in result["certificates"]] == [certificate]
    statuses = {s["StackId"]: s["StackStatus"] for s in aws("cloudformation").list_stacks()["StackSummaries"]}
    assert statuses[ours] == "DELETE_COMPLETE" and statuses[other] == "CREATE_COMPLETE"
    remaining = [c["CertificateArn"] for c in aws("acm").list_certificates()["CertificateSummaryList"]]
    assert remaining == [kept_certificate]


def test_load_balancer_clean_up_names_a_stack_that_cannot_be_deleted(
    client: ControlPlaneClient, built: BuiltCloud, aws: Callable[..., Any]
) -> None:
    cloud = record_in(client, built)
    stack = _tagged_stack(aws, "lb-with-data", cloud["id"], {"Logs": {"Type": "AWS::S3::Bucket"}})
    bucket = aws("cloudformation").describe_stack_resources(StackName=stack)["StackResources"][0][
        "PhysicalResourceId"
    ]
    aws("s3").put_object(Bucket=bucket, Key="access.log", Body=b"GET /")

    result = _clean_up(client, cloud["id"])

    assert not result["done"]
    [failure] = result["failed"]
    assert failure["resource"] == "stack lb-with-data"
    assert "BucketNotEmpty" in failure["reason"] or "not empty" in failure["reason"]


@pytest.mark.postgres
def test_clusters_on_postgres(
    request: pytest.FixtureRequest, built: BuiltCloud, aws: Callable[..., Any]
) -> None:
    url = request.getfixturevalue("postgres_session_url")
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        if conn.execute(text("SELECT to_regclass('clouds') IS NOT NULL")).scalar():
            conn.execute(text("DELETE FROM clouds"))
    engine.dispose()
    with ControlPlaneClient.embedded(url) as client:
        cloud = record_in(client, built)
        launched = client.launch_cluster("ws1", cloud_id=cloud["id"])
        with pytest.raises(Conflict):
            client.launch_cluster("ws1", cloud_id=cloud["id"])
        assert [c["id"] for c in client.list_clusters()] == [launched["id"]]
        assert client.terminate_cluster("ws1")["state"] in ("terminating", "terminated")
        assert client.list_clusters() == []
        client.delete_cloud(cloud["id"])  # its cluster records go with it
        assert client.list_clusters(include_terminated=True) == []
