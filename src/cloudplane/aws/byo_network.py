"""The network of a customer-defined cloud: a VPC with public subnets, or private ones behind NAT gateways.

Every subnet names its zone by ID (`AvailabilityZoneId`), chosen when the template is printed. Not
`Fn::GetAZs`: it lists only zones that have a default subnet, its order may change, and a re-apply that
picked other zones would replace the subnets. A zone ID means the same physical zone in every account.
Logical ids never depend on options a re-apply could change.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Any

from cloudplane.aws import template_parts
from cloudplane.aws.template_parts import CloudLabels, Resources, ref, subnet_cidrs

PER_AZ_NAT = "PerAzNatGateways"  # the condition that adds a NAT gateway in every zone but the first
NAT_SUBNET_PREFIX = 26  # NAT gateways need a handful of addresses, not a cluster's worth


def placements(zone_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The zone property of each subnet, one per zone ID, in order."""
    if not zone_ids:
        raise ValueError("subnets need zone IDs")
    return [{"AvailabilityZoneId": zone_id} for zone_id in zone_ids]


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
    placement: dict[str, Any],
    cidr: str,
    public_ips: bool,
    name: str,
) -> None:
    resources[logical_id] = {
        "Type": "AWS::EC2::Subnet",
        "Properties": {
            "VpcId": ref("Vpc"),
            **placement,
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


def public_network(labels: CloudLabels, resources: Resources, zones: list[dict[str, Any]]) -> list[str]:
    """Public cluster subnets, one per zone (see `placements`), routed to the internet gateway.
    Returns their logical ids."""
    template_parts.vpc_and_gateway(labels, resources)
    subnets = []
    for index, (placement, cidr) in enumerate(zip(zones, subnet_cidrs(len(zones)), strict=True)):
        subnet = f"Subnet{index}"
        subnets.append(subnet)
        _subnet(labels, resources, subnet, placement, cidr, True, f"-public-{index}")
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


def private_network(labels: CloudLabels, resources: Resources, zones: list[dict[str, Any]]) -> list[str]:
    """Private cluster subnets, one per zone (see `placements`), whose default route goes to a NAT gateway
    in a small public subnet.

    Every zone gets a NAT subnet; whether every zone also gets its own NAT gateway (no cross-zone
    traffic, no single point of failure) or all share the first one is the PerAzNatGateways condition.
    """
    template_parts.vpc_and_gateway(labels, resources)
    cluster_cidrs, nat_cidrs = private_plan(len(zones))
    subnets = []
    route_tables = ["PublicRouteTable"]
    for index, (placement, cidr, nat_cidr) in enumerate(zip(zones, cluster_cidrs, nat_cidrs, strict=True)):
        nat_subnet = f"NatSubnet{index}"
        _subnet(labels, resources, nat_subnet, placement, nat_cidr, False, f"-nat-{index}")
        _associate(resources, nat_subnet, "PublicRouteTable")
        _nat_gateway(labels, resources, index)

        subnet, table = f"Subnet{index}", f"PrivateRouteTable{index}"
        subnets.append(subnet)
        route_tables.append(table)
        _subnet(labels, resources, subnet, placement, cidr, False, f"-private-{index}")
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
