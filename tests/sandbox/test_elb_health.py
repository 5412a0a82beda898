"""DescribeTargetHealth answers for instance targets as the load balancer's health checks would find them:
healthy only when the groups let the check through and the instance's start-up script answers it."""

from __future__ import annotations

from typing import Any

import pytest

from .node_scripts import node_script
from .nodes import Cloud, build_cloud, launch, result

PORT = 8080

SERVE = """
import http.server

class Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200 if self.path == "/health" else 404)
        self.end_headers()

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("", LISTEN_PORT), Health)
report(BUCKET, {"listening": server.server_address[1]})
server.serve_forever()
"""


def _balanced(client: Any, cloud: Cloud) -> tuple[str, str]:
    """A load balancer with its own group forwarding to an HTTP target group on PORT: (group ARN, LB group)."""
    ec2, elb = client("ec2"), client("elbv2")
    lb_group = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=cloud.vpc_id)["GroupId"]
    balancer = elb.create_load_balancer(Name="nodes", Subnets=cloud.subnet_ids, SecurityGroups=[lb_group])
    target_group = elb.create_target_group(
        Name="nodes", Protocol="HTTP", Port=PORT, VpcId=cloud.vpc_id, HealthCheckPath="/health"
    )["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(
        LoadBalancerArn=balancer["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    return target_group, lb_group


def _admit(client: Any, cloud: Cloud, lb_group: str) -> None:
    client("ec2").authorize_security_group_ingress(
        GroupId=cloud.node_group,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": PORT,
                "ToPort": PORT,
                "UserIdGroupPairs": [{"GroupId": lb_group}],
            }
        ],
    )


def _health(client: Any, target_group: str, instance_id: str) -> dict[str, Any]:
    descriptions = client("elbv2").describe_target_health(
        TargetGroupArn=target_group, Targets=[{"Id": instance_id}]
    )["TargetHealthDescriptions"]
    assert descriptions[0]["Target"]["Id"] == instance_id
    return descriptions[0]["TargetHealth"]


@pytest.mark.parametrize(
    ("admitted", "listen_port", "expected"),
    [
        (True, PORT, {"State": "healthy"}),
        (False, PORT, {"State": "unhealthy", "Reason": "Target.Timeout", "Description": "Request timed out"}),
        (
            True,
            PORT + 1,
            {
                "State": "unhealthy",
                "Reason": "Target.FailedHealthChecks",
                "Description": "Health checks failed",
            },
        ),
    ],
    ids=["healthy", "group-blocks-check", "nothing-listens"],
)
def test_target_health_follows_groups_and_the_scripts_listener(
    client: Any, admitted: bool, listen_port: int, expected: dict[str, str]
) -> None:
    cloud = build_cloud(client)
    target_group, lb_group = _balanced(client, cloud)
    if admitted:
        _admit(client, cloud, lb_group)
    instance_id = launch(client, cloud, node_script(SERVE, BUCKET=cloud.bucket, LISTEN_PORT=listen_port))
    assert result(client, cloud.bucket, instance_id) == {"listening": listen_port}

    client("elbv2").register_targets(TargetGroupArn=target_group, Targets=[{"Id": instance_id}])

    assert _health(client, target_group, instance_id) == expected


def test_a_wrong_health_check_path_is_a_response_code_mismatch(client: Any) -> None:
    cloud = build_cloud(client)
    target_group, lb_group = _balanced(client, cloud)
    _admit(client, cloud, lb_group)
    client("elbv2").modify_target_group(TargetGroupArn=target_group, HealthCheckPath="/missing")
    instance_id = launch(client, cloud, node_script(SERVE, BUCKET=cloud.bucket, LISTEN_PORT=PORT))
    result(client, cloud.bucket, instance_id)
    client("elbv2").register_targets(TargetGroupArn=target_group, Targets=[{"Id": instance_id}])

    assert _health(client, target_group, instance_id) == {
        "State": "unhealthy",
        "Reason": "Target.ResponseCodeMismatch",
        "Description": "Health checks failed with these codes: [404]",
    }


def test_unregistered_and_stopped_targets(client: Any) -> None:
    cloud = build_cloud(client)
    target_group, lb_group = _balanced(client, cloud)
    _admit(client, cloud, lb_group)
    instance_id = launch(client, cloud, node_script(SERVE, BUCKET=cloud.bucket, LISTEN_PORT=PORT))
    result(client, cloud.bucket, instance_id)

    assert _health(client, target_group, instance_id)["Reason"] == "Target.NotRegistered"

    client("elbv2").register_targets(TargetGroupArn=target_group, Targets=[{"Id": instance_id}])
    client("ec2").stop_instances(InstanceIds=[instance_id])

    assert _health(client, target_group, instance_id) == {
        "State": "unused",
        "Reason": "Target.InvalidState",
        "Description": "Target is in the stopped state",
    }


def test_a_target_group_no_load_balancer_uses_is_not_in_use(client: Any) -> None:
    cloud = build_cloud(client)
    elb = client("elbv2")
    target_group = elb.create_target_group(Name="idle", Protocol="HTTP", Port=PORT, VpcId=cloud.vpc_id)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    instance_id = launch(client, cloud, "")
    elb.register_targets(TargetGroupArn=target_group, Targets=[{"Id": instance_id}])

    assert _health(client, target_group, instance_id)["Reason"] == "Target.NotInUse"
