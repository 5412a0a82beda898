"""`Fn::GetAtt` attributes moto lacks for the types a managed cloud uses.

In stock moto one unknown attribute in Outputs drops every output (or fails the request), so each type
gets the attributes CloudFormation documents for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.ec2.models.internet_gateways import InternetGateway
from moto.ec2.models.route_tables import RouteTable
from moto.ec2.models.security_groups import SecurityGroup
from moto.ec2.models.subnets import Subnet
from moto.ec2.models.vpcs import VPC, VPCEndPoint
from moto.efs.models import FileSystem, MountTarget

from ._patching import original, patch_attr

Getter = Callable[[Any], Any]

ATTRIBUTES: dict[type, dict[str, Getter]] = {
    VPC: {
        "VpcId": lambda vpc: vpc.id,
        "CidrBlock": lambda vpc: vpc.cidr_block,
        "CidrBlockAssociations": lambda vpc: [a["association_id"] for a in vpc.cidr_block_association_set],
        "DefaultSecurityGroup": lambda vpc: vpc.ec2_backend.get_default_security_group(vpc.id).id,
        "Ipv6CidrBlocks": lambda vpc: [
            a["cidr_block"] for a in vpc.get_cidr_block_association_set(ipv6=True)
        ],
    },
    Subnet: {
        "AvailabilityZone": lambda subnet: subnet.availability_zone,
        "AvailabilityZoneId": lambda subnet: subnet.availability_zone_id,
        "CidrBlock": lambda subnet: subnet.cidr_block,
        "SubnetId": lambda subnet: subnet.id,
        "VpcId": lambda subnet: subnet.vpc_id,
        "Ipv6CidrBlocks": lambda subnet: [],
    },
    SecurityGroup: {"GroupId": lambda sg: sg.id, "VpcId": lambda sg: sg.vpc_id},
    InternetGateway: {"InternetGatewayId": lambda igw: igw.id},
    RouteTable: {"RouteTableId": lambda rtb: rtb.id},
    VPCEndPoint: {
        "Id": lambda vpce: vpce.id,
        "CreationTimestamp": lambda vpce: vpce.creation_timestamp.isoformat(),
        "DnsEntries": lambda vpce: [
            f"{e.get('hosted_zone_id', '')}:{e.get('dns_name', '')}" for e in vpce.dns_entries or []
        ],
        "NetworkInterfaceIds": lambda vpce: list(vpce.network_interface_ids),
    },
    FileSystem: {"FileSystemId": lambda fs: fs.file_system_id, "Arn": lambda fs: fs.file_system_arn},
    MountTarget: {"Id": lambda mt: mt.mount_target_id, "IpAddress": lambda mt: mt.ip_address},
}


def add_attributes(cls: type, getters: dict[str, Getter]) -> None:
    # Only trust moto's has_cfn_attr when the class overrides it; the base class answers True for anything.
    saved = cls.__dict__.get("_cloudplane_originals", {})
    own_has = saved["has_cfn_attr"] is not None if "has_cfn_attr" in saved else "has_cfn_attr" in cls.__dict__
    orig_has = original(cls, "has_cfn_attr").__func__ if own_has else None
    try:
        orig_get = original(cls, "get_cfn_attribute")
    except AttributeError:
        orig_get = None

    def has_cfn_attr(klass: type, attr: str) -> bool:
        return attr in getters or (orig_has is not None and orig_has(klass, attr))

    def get_cfn_attribute(self: Any, attribute_name: str) -> Any:
        if attribute_name in getters:
            return getters[attribute_name](self)
        if orig_get is None:
            from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

            raise UnformattedGetAttTemplateException()
        return orig_get(self, attribute_name)

    patch_attr(cls, "has_cfn_attr", classmethod(has_cfn_attr))
    patch_attr(cls, "get_cfn_attribute", get_cfn_attribute)


def apply() -> None:
    for cls, getters in ATTRIBUTES.items():
        add_attributes(cls, getters)
