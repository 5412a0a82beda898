"""The CloudFormation template of a managed cloud, built as data.

Subnet CIDRs are computed here rather than with Fn::Cidr, and the zones come in as parameters chosen
from the account's own view of the region (standard zones only, no Local or Wavelength zones).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Any

from cloudplane import naming
from cloudplane.aws import policies, template_parts
from cloudplane.aws.template_parts import CloudLabels
from cloudplane.naming import TAG_KEY

VPC_CIDR = "10.0.0.0/16"


@dataclass(frozen=True)
class ManagedCloudOptions:
    cloud_id: str
    external_id: str
    controlplane_principal: str  # ARN the cross-account role trusts
    availability_zones: tuple[str, ...]
    shared_storage: str = "nfs"  # "nfs" (EFS) or "object-storage"
    head_node_fault_tolerance: bool = False

    @property
    def slug(self) -> str:
        """The cloud id in the characters every AWS name accepts."""
        return self.cloud_id.replace("_", "-")

    @property
    def bucket_name(self) -> str:
        return naming.bucket_name(self.cloud_id)

    @property
    def controlplane_role_name(self) -> str:
        return f"cloudplane-{self.cloud_id}-controlplane"

    @property
    def instance_role_name(self) -> str:
        return f"cloudplane-{self.cloud_id}-instance"

    @property
    def memorydb_name(self) -> str:
        # MemoryDB names: lowercase letters, digits and hyphens, at most 40 characters.
        return f"cp-{self.slug.removeprefix('cld-')}"


def subnet_cidrs(count: int, vpc_cidr: str = VPC_CIDR) -> list[str]:
    """Split the VPC into equal subnets, at least four slots (/18 of a /16) so a later AZ fits."""
    if count < 1:
        raise ValueError("a cloud needs at least one subnet")
    network = ipaddress.ip_network(vpc_cidr)
    extra_bits = max(2, math.ceil(math.log2(count)))
    return [str(s) for s in list(network.subnets(prefixlen_diff=extra_bits))[:count]]


def _tags(options: ManagedCloudOptions, name: str | None = None) -> list[dict[str, str]]:
    tags = [{"Key": TAG_KEY, "Value": options.cloud_id}]
    if name:
        tags.insert(0, {"Key": "Name", "Value": name})
    return tags


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _network(options: ManagedCloudOptions, resources: dict[str, Any]) -> list[str]:
    """VPC, IGW, public route table, one public subnet per AZ, S3 endpoint. Returns subnet logical ids."""
    resources["Vpc"] = {
        "Type": "AWS::EC2::VPC",
        "Properties": {
            "CidrBlock": VPC_CIDR,
            "EnableDnsSupport": True,
            "EnableDnsHostnames": True,
            "Tags": _tags(options, f"cloudplane-{options.cloud_id}"),
        },
    }
    resources["InternetGateway"] = {
        "Type": "AWS::EC2::InternetGateway",
        "Properties": {"Tags": _tags(options, f"cloudplane-{options.cloud_id}")},
    }
    resources["InternetGatewayAttachment"] = {
        "Type": "AWS::EC2::VPCGatewayAttachment",
        "Properties": {"VpcId": _ref("Vpc"), "InternetGatewayId": _ref("InternetGateway")},
    }
    resources["PublicRouteTable"] = {
        "Type": "AWS::EC2::RouteTable",
        "Properties": {"VpcId": _ref("Vpc"), "Tags": _tags(options, f"cloudplane-{options.cloud_id}-public")},
    }
    resources["DefaultRoute"] = {
        "Type": "AWS::EC2::Route",
        "DependsOn": "InternetGatewayAttachment",
        "Properties": {
            "RouteTableId": _ref("PublicRouteTable"),
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": _ref("InternetGateway"),
        },
    }
    subnet_ids = []
    for index, (zone, cidr) in enumerate(
        zip(options.availability_zones, subnet_cidrs(len(options.availability_zones)), strict=True)
    ):
        subnet = f"Subnet{index}"
        subnet_ids.append(subnet)
        resources[subnet] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": _ref("Vpc"),
                "AvailabilityZone": _ref(f"AvailabilityZone{index}"),
                "CidrBlock": cidr,
                "MapPublicIpOnLaunch": True,
                "Tags": _tags(options, f"cloudplane-{options.cloud_id}-{zone}"),
            },
        }
        resources[f"{subnet}RouteTableAssociation"] = {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            "Properties": {"SubnetId": _ref(subnet), "RouteTableId": _ref("PublicRouteTable")},
        }
    template_parts.s3_gateway_endpoint(resources, ["PublicRouteTable"])
    return subnet_ids


def _labels(options: ManagedCloudOptions) -> CloudLabels:
    return CloudLabels(
        cloud_id=options.cloud_id,
        name=lambda suffix: f"cloudplane-{options.cloud_id}{suffix}",
        describe=lambda text: f"{text} {options.cloud_id}",
        bucket_name=options.bucket_name,
        controlplane_role_name=options.controlplane_role_name,
        instance_role_name=options.instance_role_name,
        memorydb_name=options.memorydb_name,
        external_id=options.external_id,
        controlplane_principal=options.controlplane_principal,
        controlplane_policies=policies.controlplane_inline_policies(),
    )


def stack_parameters(options: ManagedCloudOptions) -> list[dict[str, str]]:
    """Values of the template's parameters: the zones, chosen from the account's view of the region."""
    return [
        {"ParameterKey": f"AvailabilityZone{index}", "ParameterValue": zone}
        for index, zone in enumerate(options.availability_zones)
    ]


def managed_cloud_template(options: ManagedCloudOptions) -> dict[str, Any]:
    if options.shared_storage not in ("nfs", "object-storage"):
        raise ValueError(f"unknown shared storage {options.shared_storage!r}")
    labels = _labels(options)
    resources: dict[str, Any] = {}
    subnets = _network(options, resources)
    template_parts.security_group(labels, resources)
    template_parts.bucket(labels, resources)
    template_parts.roles(labels, resources)
    if options.shared_storage == "nfs":
        template_parts.efs(labels, resources, subnets)
    if options.head_node_fault_tolerance:
        template_parts.memorydb(labels, resources, subnets)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"cloudplane managed cloud {options.cloud_id}",
        "Parameters": {
            f"AvailabilityZone{index}": {
                "Type": "AWS::EC2::AvailabilityZone::Name",
                "Description": f"Availability zone of public subnet {index}",
            }
            for index in range(len(options.availability_zones))
        },
        "Resources": resources,
        "Outputs": template_parts.resource_outputs(resources, subnets),
    }
