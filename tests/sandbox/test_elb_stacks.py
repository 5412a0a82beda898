"""Load-balancer stacks as AWS runs them: a TargetGroup registers its Targets (the node then turns healthy),
deleting the stack removes every ELBv2 resource it made, and ACM keeps a certificate a listener holds."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudplane.clusters.certificates import self_signed

from .node_scripts import node_script
from .nodes import Cloud, build_cloud, launch, result
from .templates import events, ref, stack, template
from .test_elb_health import SERVE

PORT = 8000


def _certificate(client: Any) -> str:
    made = self_signed("verify.example.com")
    return client("acm").import_certificate(
        Certificate=made.certificate_pem, PrivateKey=made.private_key_pem
    )["CertificateArn"]


def _lb_group(client: Any, cloud: Cloud) -> str:
    """The load balancer's own group, admitted by the node's group on PORT."""
    ec2 = client("ec2")
    group = ec2.create_security_group(GroupName="lb", Description="lb", VpcId=cloud.vpc_id)["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=cloud.node_group,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT, "UserIdGroupPairs": [{"GroupId": group}]}
        ],
    )
    return group


def _node(client: Any, cloud: Cloud) -> str:
    instance_id = launch(client, cloud, node_script(SERVE, BUCKET=cloud.bucket, LISTEN_PORT=PORT))
    assert result(client, cloud.bucket, instance_id) == {"listening": PORT}
    return instance_id


def _lb_stack(
    cloud: Cloud, lb_group: str, targets: list[str], certificate_arn: str, *, rule: bool = False
) -> str:
    """What functional verification builds: an ALB, a target group holding `targets`, an HTTPS listener."""
    resources: dict[str, Any] = {
        "LoadBalancer": {
            "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
            "Properties": {"Type": "application", "Subnets": cloud.subnet_ids, "SecurityGroups": [lb_group]},
        },
        "TargetGroup": {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "TargetType": "instance",
                "Protocol": "HTTP",
                "Port": PORT,
                "VpcId": cloud.vpc_id,
                "Targets": [{"Id": target, "Port": PORT} for target in targets],
                "HealthCheckProtocol": "HTTP",
                "HealthCheckPath": "/health",
                "Matcher": {"HttpCode": "200"},
            },
        },
        "Listener": {
            "Type": "AWS::ElasticLoadBalancingV2::Listener",
            "Properties": {
                "LoadBalancerArn": ref("LoadBalancer"),
                "Protocol": "HTTPS",
                "Port": 443,
                "Certificates": [{"CertificateArn": certificate_arn}],
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}],
            },
        },
    }
    if rule:
        resources["Rule"] = {
            "Type": "AWS::ElasticLoadBalancingV2::ListenerRule",
            "Properties": {
                "ListenerArn": ref("Listener"),
                "Priority": 10,
                "Conditions": [{"Field": "path-pattern", "Values": ["/api/*"]}],
                "Actions": [{"Type": "forward", "TargetGroupArn": ref("TargetGroup")}],
            },
        }
    return template(resources, {"TargetGroupArn": ref("TargetGroup"), "LoadBalancerArn": ref("LoadBalancer")})


def _physical(cfn: Any, name: str, logical_id: str) -> str:
    return cfn.describe_stack_resource(StackName=name, LogicalResourceId=logical_id)["StackResourceDetail"][
        "PhysicalResourceId"
    ]


def _health(client: Any, target_group: str, **kwargs: Any) -> dict[str, dict[str, Any]]:
    """Target id -> {Port, State, Reason?} as DescribeTargetHealth answers."""
    answer = client("elbv2").describe_target_health(TargetGroupArn=target_group, **kwargs)
    return {
        d["Target"]["Id"]: {"Port": d["Target"]["Port"], **d["TargetHealth"]}
        for d in answer["TargetHealthDescriptions"]
    }


# --- Targets -----------------------------------------------------------------------------------------


def test_a_stacks_target_group_registers_its_targets_and_the_node_turns_healthy(client: Any) -> None:
    cloud = build_cloud(client)
    lb_group = _lb_group(client, cloud)
    node = _node(client, cloud)
    cfn = client("cloudformation")

    cfn.create_stack(StackName="lb", TemplateBody=_lb_stack(cloud, lb_group, [node], _certificate(client)))

    assert stack(cfn, "lb")["StackStatus"] == "CREATE_COMPLETE"
    target_group = _physical(cfn, "lb", "TargetGroup")
    assert _health(client, target_group) == {node: {"Port": PORT, "State": "healthy"}}
    [group] = client("elbv2").describe_target_groups(TargetGroupArns=[target_group])["TargetGroups"]
    assert group["LoadBalancerArns"] == [_physical(cfn, "lb", "LoadBalancer")]


def test_a_stack_update_registers_new_targets_and_deregisters_dropped_ones(client: Any) -> None:
    cloud = build_cloud(client)
    lb_group = _lb_group(client, cloud)
    first, second = _node(client, cloud), _node(client, cloud)
    certificate = _certificate(client)
    cfn = client("cloudformation")
    cfn.create_stack(StackName="lb", TemplateBody=_lb_stack(cloud, lb_group, [first], certificate))
    target_group = _physical(cfn, "lb", "TargetGroup")

    cfn.update_stack(StackName="lb", TemplateBody=_lb_stack(cloud, lb_group, [second], certificate))

    assert stack(cfn, "lb")["StackStatus"] == "UPDATE_COMPLETE"
    assert _physical(cfn, "lb", "TargetGroup") == target_group
    assert _health(client, target_group) == {second: {"Port": PORT, "State": "healthy"}}
    assert _health(client, target_group, Targets=[{"Id": first}])[first]["Reason"] == "Target.NotRegistered"


def test_a_target_that_is_not_running_fails_the_target_group_and_the_stack_rolls_back(client: Any) -> None:
    cloud = build_cloud(client)
    lb_group = _lb_group(client, cloud)
    node = launch(client, cloud, "")
    client("ec2").stop_instances(InstanceIds=[node])
    cfn = client("cloudformation")

    cfn.create_stack(StackName="lb", TemplateBody=_lb_stack(cloud, lb_group, [node], _certificate(client)))

    assert stack(cfn, "lb")["StackStatus"] == "ROLLBACK_COMPLETE"
    [failed] = [e for e in events(cfn, "lb") if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed["LogicalResourceId"] == "TargetGroup"
    assert "not in a running state and cannot be registered" in failed["ResourceStatusReason"]
    assert "(ErrorCode: InvalidTarget)" in failed["ResourceStatusReason"]
    elb = client("elbv2")
    assert elb.describe_target_groups()["TargetGroups"] == []
    assert elb.describe_load_balancers()["LoadBalancers"] == []


# --- delete ------------------------------------------------------------------------------------------


def test_deleting_the_stack_removes_its_rules_listeners_target_group_and_load_balancer(client: Any) -> None:
    cloud = build_cloud(client)
    lb_group = _lb_group(client, cloud)
    node = _node(client, cloud)
    cfn, elb = client("cloudformation"), client("elbv2")
    body = _lb_stack(cloud, lb_group, [node], _certificate(client), rule=True)
    cfn.create_stack(StackName="lb", TemplateBody=body)
    balancer = _physical(cfn, "lb", "LoadBalancer")
    assert len(elb.describe_rules(ListenerArn=_physical(cfn, "lb", "Listener"))["Rules"]) == 2

    cfn.delete_stack(StackName="lb")

    [deleted] = cfn.describe_stacks(StackName=cfn.list_stacks()["StackSummaries"][0]["StackId"])["Stacks"]
    assert deleted["StackStatus"] == "DELETE_COMPLETE"
    assert elb.describe_load_balancers()["LoadBalancers"] == []
    assert elb.describe_target_groups()["TargetGroups"] == []
    with pytest.raises(ClientError) as gone:
        elb.describe_listeners(LoadBalancerArn=balancer)
    assert gone.value.response["Error"]["Code"] == "LoadBalancerNotFound"
    completed = [
        e["LogicalResourceId"]
        for e in events(cfn, deleted["StackId"])
        if e["ResourceStatus"] == "DELETE_COMPLETE" and e["LogicalResourceId"] != "lb"
    ]
    assert sorted(completed) == ["Listener", "LoadBalancer", "Rule", "TargetGroup"]
    # Dependents first: the rule before its listener, the listener before what it refers to.
    assert completed.index("Rule") < completed.index("Listener")
    assert completed.index("Listener") < min(completed.index("TargetGroup"), completed.index("LoadBalancer"))


def test_a_target_group_another_load_balancer_forwards_to_fails_the_stack_delete(client: Any) -> None:
    cloud = build_cloud(client)
    lb_group = _lb_group(client, cloud)
    cfn, elb = client("cloudformation"), client("elbv2")
    cfn.create_stack(StackName="lb", TemplateBody=_lb_stack(cloud, lb_group, [], _certificate(client)))
    target_group = _physical(cfn, "lb", "TargetGroup")
    other = elb.create_load_balancer(Name="other", Subnets=cloud.subnet_ids, SecurityGroups=[lb_group])
    elb.create_listener(
        LoadBalancerArn=other["LoadBalancers"][0]["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )

    cfn.delete_stack(StackName="lb")

    described = stack(cfn, "lb")
    assert described["StackStatus"] == "DELETE_FAILED"
    assert described["StackStatusReason"].startswith(
        "The following resource(s) failed to delete: [TargetGroup]."
    )
    assert "(ErrorCode: ResourceInUse)" in described["StackStatusReason"]
    assert [g["TargetGroupArn"] for g in elb.describe_target_groups()["TargetGroups"]] == [target_group]
    assert [b["LoadBalancerName"] for b in elb.describe_load_balancers()["LoadBalancers"]] == ["other"]


def test_a_deleted_listener_leaves_its_targets_not_in_use(client: Any) -> None:
    cloud = build_cloud(client)
    lb_group = _lb_group(client, cloud)
    node = _node(client, cloud)
    cfn, elb = client("cloudformation"), client("elbv2")
    cfn.create_stack(StackName="lb", TemplateBody=_lb_stack(cloud, lb_group, [node], _certificate(client)))
    target_group = _physical(cfn, "lb", "TargetGroup")

    elb.delete_listener(ListenerArn=_physical(cfn, "lb", "Listener"))

    [group] = elb.describe_target_groups(TargetGroupArns=[target_group])["TargetGroups"]
    assert group["LoadBalancerArns"] == []
    assert _health(client, target_group)[node]["Reason"] == "Target.NotInUse"


# --- certificates ------------------------------------------------------------------------------------


def _delete_certificate_error(client: Any, arn: str) -> dict[str, str]:
    with pytest.raises(ClientError) as refused:
        client("acm").delete_certificate(CertificateArn=arn)
    return refused.value.response["Error"]


def test_a_certificate_a_listener_holds_is_in_use_until_the_stack_is_gone(client: Any) -> None:
    cloud = build_cloud(client)
    lb_group = _lb_group(client, cloud)
    certificate = _certificate(client)
    cfn, acm = client("cloudformation"), client("acm")
    cfn.create_stack(StackName="lb", TemplateBody=_lb_stack(cloud, lb_group, [], certificate))
    balancer = _physical(cfn, "lb", "LoadBalancer")
    account = client("sts").get_caller_identity()["Account"]

    assert _delete_certificate_error(client, certificate) == {
        "Code": "ResourceInUseException",
        "Message": f"Certificate {certificate} in account {account} is in use.",
    }
    assert acm.describe_certificate(CertificateArn=certificate)["Certificate"]["InUseBy"] == [balancer]
    [summary] = acm.list_certificates()["CertificateSummaryList"]
    assert summary["InUse"] is True

    cfn.delete_stack(StackName="lb")
    assert acm.describe_certificate(CertificateArn=certificate)["Certificate"]["InUseBy"] == []
    acm.delete_certificate(CertificateArn=certificate)

    assert acm.list_certificates()["CertificateSummaryList"] == []


def test_a_listener_certificate_beside_the_default_one_is_in_use_too(client: Any) -> None:
    cloud = build_cloud(client)
    lb_group = _lb_group(client, cloud)
    default, extra = _certificate(client), _certificate(client)
    cfn, elb, acm = client("cloudformation"), client("elbv2"), client("acm")
    cfn.create_stack(StackName="lb", TemplateBody=_lb_stack(cloud, lb_group, [], default))
    listener = _physical(cfn, "lb", "Listener")
    elb.add_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": extra}])

    assert _delete_certificate_error(client, extra)["Code"] == "ResourceInUseException"

    elb.remove_listener_certificates(ListenerArn=listener, Certificates=[{"CertificateArn": extra}])
    acm.delete_certificate(CertificateArn=extra)
    assert _delete_certificate_error(client, default)["Code"] == "ResourceInUseException"
    assert [c["CertificateArn"] for c in acm.list_certificates()["CertificateSummaryList"]] == [default]


def test_a_certificate_nothing_uses_is_deleted_and_an_unknown_one_is_not_found(client: Any) -> None:
    acm = client("acm")
    certificate = _certificate(client)

    acm.delete_certificate(CertificateArn=certificate)

    assert _delete_certificate_error(client, certificate)["Code"] == "ResourceNotFoundException"
    assert acm.list_certificates()["CertificateSummaryList"] == []
