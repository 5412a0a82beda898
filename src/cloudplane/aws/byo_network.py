"""The network of a customer-defined cloud: a VPC with public subnets, or private ones behind NAT gateways.

Zones are picked with `Fn::Select` over `Fn::GetAZs ""`, so the template applies in any region with
enough zones and names none of them. Logical ids never depend on options a re-apply could change.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from cloudplane.aws import template_parts
from cloudplane.aws.template_parts import CloudLabels, Resources, ref, subnet_cidrs

PER_AZ_NAT = "PerAzNatGateways"  # the condition that adds a NAT gateway in every zone but the first
NAT_SUBNET_PREFIX = 26  # NAT gateways need a handful of addresses, not a cluster's worth


def zone(index: int) -> dict[str, Any]:
    return {"Fn::Select": [index, {"Fn::GetAZs": ""}]}


def private_plan(count: int) -> tuple[list[str], list[str]]:
    """(cluster subnets, NAT subnets): equal cluster subnets, the NAT ones carved from one spare slot."""
    slots = subnet_cidrs(count + 1)
    spare = ipaddress.ip_network(slots[-1])
    nat = [str(s) for s in list(spare.subnets(new_prefix=NAT_SUBNET_PREFIX))[:count]]
    return slots[:count], nat


def _subnet(
    labels: CloudLabels,
    resources: Resources,
    logical_id: str,
    index: int,
    cidr: str,
    public_ips: bool,
    name: str,
) -> None:
    resources[logical_id] = {
        "Type": "AWS::EC2::Subnet",
        "Properties": {
            "VpcId": ref("Vpc"),
            "AvailabilityZone": zone(index),
            "CidrBlock": cidr,
            "MapPublicIpOnLaunch": public_ips,
            "Tags": labels.tags(labels.name(name)),
        },
    }


def _associate(resources: Resources, subnet: str, route_table: str) -> None:
    resources[f"{subnet}RouteTableAssociation"] = {
        "Type": "AWS::EC2::SubnetRouteTableAssociation",
        "Properties": {"SubnetId": ref(subnet), "RouteTableId": ref(route_table)},
    }


def public_network(labels: CloudLabels, resources: Resources, count: int) -> list[str]:
    """Public cluster subnets, one per zone, routed to the internet gateway. Returns their logical ids."""
    template_parts.vpc_and_gateway(labels, resources)
    subnets = []
    for index, cidr in enumerate(subnet_cidrs(count)):
        subnet = f"Subnet{index}"
        subnets.append(subnet)
        _subnet(labels, resources, subnet, index, cidr, True, f"-public-{index}")
        _associate(resources, subnet, "PublicRouteTable")
    template_parts.s3_gateway_endpoint(resources, ["PublicRouteTable"])
    return subnets


def _nat_gateway(labels: CloudLabels, resources: Resources, index: int) -> None:
    condition = {"Condition": PER_AZ_NAT} if index else {}
    resources[f"NatAddress{index}"] = {
        "Type": "AWS::EC2::EIP",
        **condition,
        "DependsOn": "InternetGatewayAttachment",
        "Properties": {"Domain": "vpc", "Tags": labels.tags(labels.name(f"-nat-{index}"))},
    }
    resources[f"NatGateway{index}"] = {
        "Type": "AWS::EC2::NatGateway",
        **condition,
        "Properties": {
            "AllocationId": {"Fn::GetAtt": [f"NatAddress{index}", "AllocationId"]},
            "SubnetId": ref(f"NatSubnet{index}"),
            "Tags": labels.tags(labels.name(f"-nat-{index}")),
        },
    }


def private_network(labels: CloudLabels, resources: Resources, count: int) -> list[str]:
    """Private cluster subnets whose default route goes to a NAT gateway in a small public subnet.

    Every zone gets a NAT subnet; whether every zone also gets its own NAT gateway (no cross-zone
    traffic, no single point of failure) or all share the first one is the PerAzNatGateways condition.
    """
    template_parts.vpc_and_gateway(labels, resources)
    cluster_cidrs, nat_cidrs = private_plan(count)
    subnets = []
    route_tables = ["PublicRouteTable"]
    for index, (cidr, nat_cidr) in enumerate(zip(cluster_cidrs, nat_cidrs, strict=True)):
        nat_subnet = f"NatSubnet{index}"
        _subnet(labels, resources, nat_subnet, index, nat_cidr, False, f"-nat-{index}")
        _associate(resources, nat_subnet, "PublicRouteTable")
        _nat_gateway(labels, resources, index)

        subnet, table = f"Subnet{index}", f"PrivateRouteTable{index}"
        subnets.append(subnet)
        route_tables.append(table)
        _subnet(labels, resources, subnet, index, cidr, False, f"-private-{index}")
        resources[table] = {
            "Type": "AWS::EC2::RouteTable",
            "Properties": {"VpcId": ref("Vpc"), "Tags": labels.tags(labels.name(f"-private-{index}"))},
        }
        nat = (
            ref(f"NatGateway{index}")
            if index == 0
            else {"Fn::If": [PER_AZ_NAT, ref(f"NatGateway{index}"), ref("NatGateway0")]}
        )
        resources[f"PrivateDefaultRoute{index}"] = {
            "Type": "AWS::EC2::Route",
            "Properties": {
                "RouteTableId": ref(table),
                "DestinationCidrBlock": "0.0.0.0/0",
                "NatGatewayId": nat,
            },
        }
        _associate(resources, subnet, table)
    template_parts.s3_gateway_endpoint(resources, route_tables)
    return subnets
