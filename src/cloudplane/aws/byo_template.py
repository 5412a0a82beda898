"""The CloudFormation template of a customer-defined cloud: resources the customer applies themselves.

The stack meets every verification rule and outputs the `cloudplane cloud register` command for itself.
Applied first without a cloud id, then re-applied (a stack update) with the id the registration gave:
logical ids and names stay the same, so the update only adds tags and scopes the cross-account role's
instance permissions to the cloud's tag. Names come from the stack (its name, and a piece of its id
that is unique and never changes), so two stacks in one account never collide.

With MemoryDB the template is for one region and names its zones by ID: MemoryDB runs only in some zones,
which `Fn::GetAZs` cannot tell apart, and its subnet group takes only the subnets of those zones.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from cloudplane import naming
from cloudplane.aws import byo_network, memorydb_zones, policies, template_parts
from cloudplane.aws.template_parts import CloudLabels, Resources, ref

NAT_MODES = ("per-az", "single")
EXTERNAL_ID_PREFIX = "cloudplane-byo-"
# AWS's rule for sts:ExternalId, and a cloud name or nothing (then the stack's name is used).
CLOUD_NAME_PATTERN = "^$|^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"
MIN_ZONES, MAX_ZONES = 2, 6

# The first group of the stack id's UUID: fixed for the stack's life, different for every stack.
STACK_KEY = {
    "Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", ref("AWS::StackId")]}]}]}]
}
CLOUD_NAME = {"Fn::If": ["HasCloudName", ref("CloudName"), ref("AWS::StackName")]}


def new_external_id() -> str:
    """An External ID for a cloud that has no id yet; the control plane keeps it when the cloud registers."""
    return EXTERNAL_ID_PREFIX + secrets.token_hex(16)


@dataclass(frozen=True)
class CustomerDefinedOptions:
    external_id: str
    controlplane_principal: str  # ARN the cross-account role trusts
    cloud_id: str | None = None  # known on a re-apply after registration
    cloud_name: str = ""  # default of the CloudName parameter; empty: the stack's name
    region: str | None = None  # the one region the stack may be made in; None: any
    private_network: bool = False
    nat_gateways: str = "per-az"  # default of the NatGateways parameter (private networking)
    zone_count: int = 3
    efs: bool = True
    head_node_fault_tolerance: bool = False
    zone_ids: tuple[str, ...] = ()  # one per subnet, in order; empty: the region's first zones (Fn::GetAZs)
    memorydb_zone_ids: tuple[str, ...] | None = None  # zones whose subnets hold MemoryDB; None: every zone

    def validate(self) -> None:
        if not naming.EXTERNAL_ID.fullmatch(self.external_id):
            raise ValueError(f"invalid External ID {self.external_id!r}")
        if self.cloud_id is not None:
            naming.validate_cloud_id(self.cloud_id)
        if self.cloud_name:
            naming.validate_cloud_name(self.cloud_name)
        if self.nat_gateways not in NAT_MODES:
            raise ValueError(f"unknown NAT gateway mode {self.nat_gateways!r}")
        if not MIN_ZONES <= self.zone_count <= MAX_ZONES:
            raise ValueError(f"zone count must be {MIN_ZONES} to {MAX_ZONES}, not {self.zone_count}")
        if self.zone_ids and len(self.zone_ids) != self.zone_count:
            raise ValueError(f"{self.zone_count} zones need {self.zone_count} zone IDs, not {self.zone_ids}")
        if self.head_node_fault_tolerance:
            self._validate_memorydb_zones()

    def _validate_memorydb_zones(self) -> None:
        if not (self.region and self.zone_ids):
            raise ValueError("MemoryDB needs the region and its zone IDs: it runs only in some zones")
        if len(self.memorydb_subnet_indexes()) < memorydb_zones.MIN_ZONES:
            raise ValueError(f"MemoryDB needs two of the zones {self.zone_ids}, not {self.memorydb_zone_ids}")

    def memorydb_subnet_indexes(self) -> list[int]:
        """Which subnets (by index) go into the MemoryDB subnet group."""
        wanted = self.memorydb_zone_ids
        return [i for i in range(self.zone_count) if wanted is None or self.zone_ids[i] in wanted]


def _named(pattern: str) -> dict[str, Any]:
    return {"Fn::Sub": [pattern, {"StackKey": STACK_KEY}]}


def labels(options: CustomerDefinedOptions) -> CloudLabels:
    return CloudLabels(
        cloud_id=options.cloud_id,
        name=lambda suffix: {"Fn::Sub": "cloudplane-${AWS::StackName}" + suffix},
        # Only the stack name, never the cloud id: some descriptions cannot change without replacement.
        describe=lambda text: {"Fn::Sub": text + " ${AWS::StackName}"},
        bucket_name=_named("cloudplane-data-${StackKey}-${AWS::AccountId}"),
        controlplane_role_name=_named("cloudplane-${StackKey}-controlplane"),
        instance_role_name=_named("cloudplane-${StackKey}-instance"),
        memorydb_name=_named("cloudplane-${StackKey}"),
        external_id=options.external_id,
        controlplane_principal=options.controlplane_principal,
        controlplane_policies=policies.controlplane_inline_policies(options.cloud_id),
    )


def _parameters(options: CustomerDefinedOptions) -> dict[str, Any]:
    parameters: dict[str, Any] = {
        "CloudName": {
            "Type": "String",
            "Default": options.cloud_name,
            "AllowedPattern": CLOUD_NAME_PATTERN,
            "ConstraintDescription": "1-63 letters, digits, '-' or '_', starting with a letter or digit",
            "Description": "Name of the cloud in the register command; empty: the stack's name",
        }
    }
    if options.private_network:
        parameters["NatGateways"] = {
            "Type": "String",
            "Default": options.nat_gateways,
            "AllowedValues": list(NAT_MODES),
            "Description": "per-az: a NAT gateway in every zone; single: one NAT gateway shared by all zones",
        }
    return parameters


def _conditions(options: CustomerDefinedOptions) -> dict[str, Any]:
    conditions: dict[str, Any] = {"HasCloudName": {"Fn::Not": [{"Fn::Equals": [ref("CloudName"), ""]}]}}
    if options.private_network:
        conditions[byo_network.PER_AZ_NAT] = {"Fn::Equals": [ref("NatGateways"), "per-az"]}
    return conditions


def register_command(
    options: CustomerDefinedOptions, resources: Resources, subnets: list[str]
) -> dict[str, Any]:
    """`cloudplane cloud register ...` for this stack's resources, resolved in the stack's outputs."""
    words = [
        "cloudplane cloud register --provider aws --name ${Name} --region ${AWS::Region}",
        "--vpc-id ${Vpc} --subnet-ids ${SubnetIds} --security-group-ids ${SecurityGroup.GroupId}",
        "--s3-bucket-id ${Bucket}",
    ]
    if "FileSystem" in resources:
        words.append("--efs-id ${FileSystem}")
    words.append(
        "--controlplane-iam-role-id ${ControlPlaneRole.Arn} --instance-iam-role-id ${InstanceRole.Arn}"
    )
    if "MemoryDbCluster" in resources:
        words.append("--memorydb-cluster-id ${MemoryDbCluster}")
    if options.private_network:
        words.append("--private-network")
    words.append(f"--external-id {options.external_id}")
    variables = {"Name": CLOUD_NAME, "SubnetIds": {"Fn::Join": [",", [ref(s) for s in subnets]]}}
    return {"Fn::Sub": [" ".join(words), variables]}


def _outputs(options: CustomerDefinedOptions, resources: Resources, subnets: list[str]) -> dict[str, Any]:
    outputs = template_parts.resource_outputs(resources, subnets)
    outputs["CloudName"] = {"Value": CLOUD_NAME}
    outputs["ExternalId"] = {"Value": options.external_id}
    if options.private_network:
        every = {"Fn::Join": [",", [ref(f"NatGateway{i}") for i in range(options.zone_count)]]}
        outputs["NatGatewayIds"] = {"Value": {"Fn::If": [byo_network.PER_AZ_NAT, every, ref("NatGateway0")]}}
    outputs["RegisterCommand"] = {
        "Description": "Run this to register the cloud with cloudplane",
        "Value": register_command(options, resources, subnets),
    }
    if options.cloud_id:
        outputs["CloudId"] = {"Value": options.cloud_id}
        outputs["VerifyCommand"] = {"Value": f"cloudplane cloud verify --id {options.cloud_id}"}
    return outputs


def _rules(options: CustomerDefinedOptions) -> dict[str, Any]:
    """A cloud lives in one region: with a region given, refuse to make the stack anywhere else."""
    if not options.region:
        return {}
    which = f"cloud {options.cloud_id}" if options.cloud_id else "this cloud"
    return {
        "CloudRegion": {
            "Assertions": [
                {
                    "Assert": {"Fn::Equals": [ref("AWS::Region"), options.region]},
                    "AssertDescription": f"The stack of {which} must be made in {options.region}",
                }
            ]
        }
    }


def customer_defined_template(options: CustomerDefinedOptions) -> dict[str, Any]:
    options.validate()
    cloud_labels = labels(options)
    resources: Resources = {}
    zones = byo_network.placements(options.zone_count, options.zone_ids)
    if options.private_network:
        subnets = byo_network.private_network(cloud_labels, resources, zones)
    else:
        subnets = byo_network.public_network(cloud_labels, resources, zones)
    template_parts.security_group(cloud_labels, resources)
    template_parts.bucket(cloud_labels, resources)
    template_parts.roles(cloud_labels, resources)
    if options.efs:
        template_parts.efs(cloud_labels, resources, subnets)
    if options.head_node_fault_tolerance:
        memorydb_subnets = [subnets[i] for i in options.memorydb_subnet_indexes()]
        template_parts.memorydb(cloud_labels, resources, memorydb_subnets)
    networking = "private" if options.private_network else "public"
    which = f" {options.cloud_id}" if options.cloud_id else ""
    template: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"cloudplane customer-defined cloud{which} ({networking} networking)",
        "Parameters": _parameters(options),
        "Conditions": _conditions(options),
    }
    rules = _rules(options)
    if rules:
        template["Rules"] = rules
    template["Resources"] = resources
    template["Outputs"] = _outputs(options, resources, subnets)
    return template
