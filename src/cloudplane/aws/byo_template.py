"""The CloudFormation template of a customer-defined cloud: resources the customer applies themselves.

The stack meets every verification rule and outputs the `cloudplane cloud register` command for itself.
Applied first without a cloud id, then re-applied (a stack update) with the id the registration gave:
logical ids and names stay the same, so the update only adds tags and scopes the cross-account role's
instance permissions to the cloud's tag. Names come from the stack (its name, and a piece of its id
that is unique and never changes), so two stacks in one account never collide.

The template is for one region and names its zones by ID (see `byo_network`); with MemoryDB, whose subnet
group takes only the subnets of the zones where MemoryDB runs, those come first.

The cloud's name in the register command is given when the template is printed (the CloudName parameter's
default), or else `cloud-<stack key>`; never the stack's own name, which may be up to 128 characters while a
cloud name may have 63, and CloudFormation has no function that could shorten it.

Printed compact, the largest variant is about 32,000 bytes: well under the 51,200 bytes that CreateStack,
UpdateStack and ValidateTemplate take in `TemplateBody`.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from cloudplane import naming
from cloudplane.aws import byo_network, memorydb_zones, policies, template_parts
from cloudplane.aws.template_parts import CloudLabels, Resources, ref

NAT_MODES = ("per-az", "single")
EXTERNAL_ID_PREFIX = "cloudplane-byo-"
# A cloud name (naming.validate_cloud_name), or nothing: then cloud-<stack key>.
CLOUD_NAME_PATTERN = "^$|^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"
MIN_ZONES, MAX_ZONES = 2, 6
# CreateStack, UpdateStack and ValidateTemplate refuse a longer TemplateBody; a template in S3
# (TemplateURL) may have up to 1 MB.
TEMPLATE_BODY_MAX_BYTES = 51_200
_ZONE_ID = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*-az[0-9]+")

# The first group of the stack id's UUID: fixed for the stack's life, different for every stack.
STACK_KEY = {
    "Fn::Select": [0, {"Fn::Split": ["-", {"Fn::Select": [2, {"Fn::Split": ["/", ref("AWS::StackId")]}]}]}]
}
DEFAULT_CLOUD_NAME = {"Fn::Sub": ["cloud-${StackKey}", {"StackKey": STACK_KEY}]}
CLOUD_NAME = {"Fn::If": ["HasCloudName", ref("CloudName"), DEFAULT_CLOUD_NAME]}


def new_external_id() -> str:
    """An External ID for a cloud that has no id yet; the control plane keeps it when the cloud registers."""
    return EXTERNAL_ID_PREFIX + secrets.token_hex(16)


@dataclass(frozen=True)
class CustomerDefinedOptions:
    external_id: str
    controlplane_principal: str  # ARN the cross-account role trusts
    region: str  # the one region the stack may be made in
    zone_ids: tuple[str, ...]  # one subnet (and NAT subnet) per zone ID, in this order
    cloud_id: str | None = None  # known on a re-apply after registration
    cloud_name: str = ""  # default of the CloudName parameter; empty: cloud-<stack key>
    private_network: bool = False
    nat_gateways: str = "per-az"  # default of the NatGateways parameter (private networking)
    efs: bool = True
    head_node_fault_tolerance: bool = False
    memorydb_zone_ids: tuple[str, ...] | None = None  # zones whose subnets hold MemoryDB; None: every zone

    @property
    def zone_count(self) -> int:
        return len(self.zone_ids)

    def validate(self) -> None:
        if not naming.EXTERNAL_ID.fullmatch(self.external_id):
            raise ValueError(f"invalid External ID {self.external_id!r}")
        if self.cloud_id is not None:
            naming.validate_cloud_id(self.cloud_id)
        if self.cloud_name:
            naming.validate_cloud_name(self.cloud_name)
        if not self.region:
            raise ValueError("the template needs its region: it names that region's zones")
        if self.nat_gateways not in NAT_MODES:
            raise ValueError(f"unknown NAT gateway mode {self.nat_gateways!r}")
        if not MIN_ZONES <= self.zone_count <= MAX_ZONES:
            raise ValueError(f"{MIN_ZONES} to {MAX_ZONES} zone IDs are needed, not {self.zone_ids}")
        bad = [z for z in self.zone_ids if not _ZONE_ID.fullmatch(z)]
        if bad or len(set(self.zone_ids)) != self.zone_count:
            raise ValueError(f"zone IDs must be distinct and shaped like usw2-az1, not {self.zone_ids}")
        if self.head_node_fault_tolerance:
            self._validate_memorydb_zones()

    def _validate_memorydb_zones(self) -> None:
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
            "Description": "Name of the cloud in the register command; empty: cloud- and the first 8 "
            "characters of the stack id's UUID",
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
    """A cloud lives in one region, whose zones the template names: refuse to make the stack anywhere else."""
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
    zones = byo_network.placements(options.zone_ids)
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
        "Rules": _rules(options),
        "Resources": resources,
        "Outputs": _outputs(options, resources, subnets),
    }
    return template


def template_json(template: dict[str, Any], indent: int | None = None) -> str:
    """The template as printed: compact by default, so that it fits in a request's TemplateBody."""
    if indent is None:
        return json.dumps(template, separators=(",", ":"))
    return json.dumps(template, indent=indent)


def body_size(body: str) -> int:
    """Bytes, as CloudFormation counts a TemplateBody."""
    return len(body.encode("utf-8"))
