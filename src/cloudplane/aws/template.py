"""The CloudFormation template of a managed cloud, built as data.

Subnet CIDRs are computed here rather than with Fn::Cidr, and the zones come in as parameters chosen
from the account's own view of the region (standard zones only, no Local or Wavelength zones). The
MemoryDB subnet group takes only the subnets of zones where MemoryDB runs (`memorydb_zones`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from cloudplane import naming
from cloudplane.aws import memorydb_zones, policies, template_parts
from cloudplane.aws.template_parts import CloudLabels, ref, subnet_cidrs


@dataclass(frozen=True)
class ManagedCloudOptions:
    cloud_id: str
    external_id: str
    controlplane_principal: str  # ARN the cross-account role trusts
    availability_zones: tuple[str, ...]
    shared_storage: str = "nfs"  # "nfs" (EFS) or "object-storage"
    head_node_fault_tolerance: bool = False
    # Names of the zones whose subnets may hold MemoryDB nodes; None: every zone.
    memorydb_zones: tuple[str, ...] | None = None

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


def _network(options: ManagedCloudOptions, labels: CloudLabels, resources: dict[str, Any]) -> list[str]:
    """VPC, IGW, public route table, one public subnet per AZ, S3 endpoint. Returns subnet logical ids."""
    template_parts.vpc_and_gateway(labels, resources)
    subnet_ids = []
    for index, (zone, cidr) in enumerate(
        zip(options.availability_zones, subnet_cidrs(len(options.availability_zones)), strict=True)
    ):
        subnet = f"Subnet{index}"
        subnet_ids.append(subnet)
        resources[subnet] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": ref("Vpc"),
                "AvailabilityZone": ref(f"AvailabilityZone{index}"),
                "CidrBlock": cidr,
                "MapPublicIpOnLaunch": True,
                "Tags": labels.tags(labels.name(f"-{zone}")),
            },
        }
        resources[f"{subnet}RouteTableAssociation"] = {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            "Properties": {"SubnetId": ref(subnet), "RouteTableId": ref("PublicRouteTable")},
        }
    template_parts.s3_gateway_endpoint(resources, ["PublicRouteTable"])
    return subnet_ids


def memorydb_zone_names(
    region: str, zones: Iterable[memorydb_zones.Zone], warn: Callable[[str], None] | None = None
) -> tuple[str, ...]:
    """`ManagedCloudOptions.memorydb_zones` for a cloud in these zones; InputError when fewer than two."""
    return tuple(zone["name"] for zone in memorydb_zones.require_capable_zones(region, zones, warn))


def _memorydb_subnets(options: ManagedCloudOptions, subnets: list[str]) -> list[str]:
    """The subnets (logical ids, one per zone in order) in zones where MemoryDB runs."""
    if options.memorydb_zones is None:
        return subnets
    chosen = [
        s
        for s, zone in zip(subnets, options.availability_zones, strict=True)
        if zone in options.memorydb_zones
    ]
    if len(chosen) < memorydb_zones.MIN_ZONES:
        raise ValueError(
            f"MemoryDB needs two of the cloud's zones, not {len(chosen)}: {options.memorydb_zones}"
        )
    return chosen


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
    subnets = _network(options, labels, resources)
    template_parts.security_group(labels, resources)
    template_parts.bucket(labels, resources)
    template_parts.roles(labels, resources)
    if options.shared_storage == "nfs":
        template_parts.efs(labels, resources, subnets)
    if options.head_node_fault_tolerance:
        template_parts.memorydb(labels, resources, _memorydb_subnets(options, subnets))
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
