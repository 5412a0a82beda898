"""AWS::EC2::DHCPOptions and AWS::EC2::VPCDHCPOptionsAssociation, which moto's CloudFormation lacks.

Common in VPC templates written elsewhere (AWS's own Quick Start VPC declares both). A DHCP options set is
created through EC2 (DomainName, DomainNameServers, NtpServers, NetbiosNameServers, NetbiosNodeType, Tags;
Ref and GetAtt DhcpOptionsId give its `dopt-` id); the association sets the VPC's options (its physical id is
"<dopt id>|<vpc id>", as CloudFormation forms ids of two parts) and its delete puts the VPC back on the
default options. An options set cannot be deleted while a VPC uses it (DependencyViolation, as on AWS), so a
stack delete removes the association first.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.ec2.models import ec2_backends

from .cfn_types import _SandboxModel

_LISTS = {
    "DomainNameServers": "domain_name_servers",
    "NtpServers": "ntp_servers",
    "NetbiosNameServers": "netbios_name_servers",
}


def _ec2(account_id: str, region: str) -> Any:
    return ec2_backends[account_id][region]


class CfnDHCPOptions(_SandboxModel, CloudFormationModel):
    TYPE = "AWS::EC2::DHCPOptions"
    ATTRIBUTES = {"DhcpOptionsId": "physical_resource_id"}

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json.get("Properties") or {}
        arguments: dict[str, Any] = {field: props.get(name) for name, field in _LISTS.items()}
        # moto keeps every option as the list of values its EC2 API receives.
        domain_name, node_type = props.get("DomainName"), props.get("NetbiosNodeType")
        arguments["domain_name"] = [domain_name] if domain_name else None
        arguments["netbios_node_type"] = [str(node_type)] if node_type is not None else None
        ec2 = _ec2(account_id, region_name)
        options = ec2.create_dhcp_options(**arguments)
        tags = {tag["Key"]: tag["Value"] for tag in props.get("Tags") or []}
        if tags:
            ec2.create_tags([options.id], tags)
        return cls(options.id, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        _ec2(account_id, region_name).delete_dhcp_options_set(self.physical_resource_id)


class CfnVPCDHCPOptionsAssociation(_SandboxModel, CloudFormationModel):
    TYPE = "AWS::EC2::VPCDHCPOptionsAssociation"

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json["Properties"]
        ec2 = _ec2(account_id, region_name)
        vpc = ec2.get_vpc(props["VpcId"])
        options_id = props["DhcpOptionsId"]
        if options_id == "default":
            ec2.disassociate_dhcp_options(vpc)
        else:
            ec2.associate_dhcp_options(ec2.describe_dhcp_options([options_id])[0], vpc)
        return cls(f"{options_id}|{vpc.id}", account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        vpc_id = self.physical_resource_id.split("|", 1)[1]
        ec2 = _ec2(account_id, region_name)
        if vpc_id in ec2.vpcs:
            ec2.disassociate_dhcp_options(ec2.vpcs[vpc_id])


DHCP_TYPES = (CfnDHCPOptions, CfnVPCDHCPOptionsAssociation)


def apply() -> None:
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    model_map = parsing.get_model_map()
    for cls in DHCP_TYPES:
        if model_map.get(cls.cloudformation_type()) is not cls:
            raise RuntimeError(f"{cls.cloudformation_type()} is not served by {cls.__name__}")
