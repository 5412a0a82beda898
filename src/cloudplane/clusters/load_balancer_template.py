"""The CloudFormation template of a service's load balancer: an application load balancer in the cloud's
subnets (one per zone, as a load balancer takes at most one subnet of each zone) with the cloud's security
groups, a target group with the node as target and an HTTP health check, and an HTTPS listener on 443.
Internet-facing in a public cloud, internal in a private one."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

HTTPS_PORT = 443
# Current TLS 1.3 policy with TLS 1.2 fallback.
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


def one_subnet_per_zone(subnet_ids: Sequence[str], subnet_zones: Mapping[str, str]) -> list[str]:
    """The first of the cloud's subnets in each zone, in the cloud's order."""
    chosen: dict[str, str] = {}
    for subnet in subnet_ids:
        zone = subnet_zones.get(subnet)
        if zone is not None and zone not in chosen:
            chosen[zone] = subnet
    return list(chosen.values())


def template(
    *,
    description: str,
    internal: bool,
    subnet_ids: Sequence[str],
    security_group_ids: Sequence[str],
    vpc_id: str,
    instance_id: str,
    port: int,
    certificate_arn: str,
) -> dict[str, Any]:
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": description,
        "Resources": {
            "LoadBalancer": {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {
                    "Type": "application",
                    "Scheme": "internal" if internal else "internet-facing",
                    "Subnets": list(subnet_ids),
                    "SecurityGroups": list(security_group_ids),
                },
            },
            "TargetGroup": {
                "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
                "Properties": {
                    "TargetType": "instance",
                    "Protocol": "HTTP",
                    "Port": port,
                    "VpcId": vpc_id,
                    "Targets": [{"Id": instance_id, "Port": port}],
                    "HealthCheckProtocol": "HTTP",
                    "HealthCheckPath": "/",
                    "HealthCheckIntervalSeconds": 10,
                    "HealthCheckTimeoutSeconds": 5,
                    "HealthyThresholdCount": 2,
                    "UnhealthyThresholdCount": 2,
                    "Matcher": {"HttpCode": "200"},
                },
            },
            "Listener": {
                "Type": "AWS::ElasticLoadBalancingV2::Listener",
                "Properties": {
                    "LoadBalancerArn": {"Ref": "LoadBalancer"},
                    "Protocol": "HTTPS",
                    "Port": HTTPS_PORT,
                    "SslPolicy": SSL_POLICY,
                    "Certificates": [{"CertificateArn": certificate_arn}],
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": {"Ref": "TargetGroup"}}],
                },
            },
        },
        "Outputs": {
            "LoadBalancerArn": {"Value": {"Ref": "LoadBalancer"}},
            "LoadBalancerDNSName": {"Value": {"Fn::GetAtt": ["LoadBalancer", "DNSName"]}},
            "TargetGroupArn": {"Value": {"Ref": "TargetGroup"}},
        },
    }


def body(document: Mapping[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))
