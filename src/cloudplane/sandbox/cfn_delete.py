"""Deleting CloudFormation resources the way AWS does.

moto cannot delete a stack's internet gateway, gateway attachment, route table, route or VPC endpoint,
deletes a VPC that still has an attached gateway or an endpoint, and "deletes" a non-empty bucket by doing
nothing. Here every delete either removes the resource or raises while something still depends on it (see
ec2_rules for the EC2 checks), so the retry-in-passes delete loop (cfn_lifecycle) converges in any order, as
CloudFormation does.

A role loses only the policies its template declared (moto removed every policy): one that also has an inline
policy put, or a managed policy attached, outside the stack fails with DeleteConflict and the stack ends in
DELETE_FAILED, as on AWS.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.ec2.models import ec2_backends
from moto.iam.models import iam_backends
from moto.s3.exceptions import BucketNotEmpty
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from ._patching import DELETERS, deleter, is_not_found


def delete_resource(
    resource: Any, resource_type: str, account_id: str, region: str, resource_json: Any = None
) -> None:
    """Delete one stack resource; a resource that is already gone counts as deleted."""
    try:
        custom = DELETERS.get(resource_type)
        if custom is not None:
            custom(resource, account_id, region)
        elif getattr(type(resource), "sandbox_model", False):
            resource.delete(account_id, region)
        else:
            _moto_delete(resource, resource_type, account_id, region, resource_json)
    except Exception as exc:
        if not is_not_found(exc):
            raise


def _moto_delete(resource: Any, resource_type: str, account_id: str, region: str, resource_json: Any) -> None:
    # Same fallback order as moto's ResourceMap._delete_resource.
    try:
        resource.delete(account_id, region)
    except (TypeError, AttributeError):
        name = getattr(resource, "physical_resource_id", None)
        parsing.parse_and_delete_resource(
            name, resource_json or {"Type": resource_type, "Properties": {}}, account_id, region
        )


def _ec2(account_id: str, region: str) -> Any:
    return ec2_backends[account_id][region]


@deleter("AWS::EC2::VPC")
def _delete_vpc(vpc: Any, account_id: str, region: str) -> None:
    _ec2(account_id, region).delete_vpc(vpc.id)


@deleter("AWS::EC2::Subnet")
def _delete_subnet(subnet: Any, account_id: str, region: str) -> None:
    _ec2(account_id, region).delete_subnet(subnet.id)


@deleter("AWS::EC2::SecurityGroup")
def _delete_security_group(group: Any, account_id: str, region: str) -> None:
    _ec2(account_id, region).delete_security_group(group_id=group.id)


@deleter("AWS::EC2::InternetGateway")
def _delete_internet_gateway(igw: Any, account_id: str, region: str) -> None:
    _ec2(account_id, region).delete_internet_gateway(igw.id)


@deleter("AWS::EC2::VPCGatewayAttachment")
def _delete_gateway_attachment(attachment: Any, account_id: str, region: str) -> None:
    ec2 = _ec2(account_id, region)
    if attachment.gateway_id and attachment.gateway_id.startswith("igw-"):
        igw = ec2.get_internet_gateway(attachment.gateway_id)
        if igw.vpc is not None and igw.vpc.id == attachment.vpc_id:
            ec2.detach_internet_gateway(attachment.gateway_id, attachment.vpc_id)
        return
    for vgw in list(ec2.vpn_gateways.values()):
        if vgw.attachments.get(attachment.vpc_id) is attachment and attachment.state == "attached":
            ec2.detach_vpn_gateway(vgw.id, attachment.vpc_id)


@deleter("AWS::EC2::RouteTable")
def _delete_route_table(route_table: Any, account_id: str, region: str) -> None:
    _ec2(account_id, region).delete_route_table(route_table.id)


@deleter("AWS::EC2::Route")
def _delete_route(route: Any, account_id: str, region: str) -> None:
    _ec2(account_id, region).delete_route(
        route.route_table.id,
        route.destination_cidr_block,
        route.destination_ipv6_cidr_block,
        route.destination_prefix_list.id if route.destination_prefix_list else None,
    )


@deleter("AWS::EC2::VPCEndpoint")
def _delete_vpc_endpoint(endpoint: Any, account_id: str, region: str) -> None:
    ec2 = _ec2(account_id, region)
    if endpoint.destination_prefix_list_id:
        for route_table_id in endpoint.route_table_ids or []:
            try:
                ec2.delete_route(
                    route_table_id, None, destination_prefix_list_id=endpoint.destination_prefix_list_id
                )
            except Exception as exc:
                if not is_not_found(exc):
                    raise
    for eni_id in endpoint.network_interface_ids:
        ec2.enis.pop(eni_id, None)
    endpoint.state = "deleted"
    ec2.vpc_end_points.pop(endpoint.id, None)


@deleter("AWS::S3::Bucket")
def _delete_bucket(bucket: Any, account_id: str, region: str) -> None:
    backend = s3_backends[account_id][get_partition(region)]
    if backend.get_bucket(bucket.name).keys:
        raise BucketNotEmpty(bucket.name)
    backend.delete_bucket(bucket.name)


@deleter("AWS::IAM::Role")
def _delete_role(role: Any, account_id: str, region: str) -> None:
    """Remove the policies the stack declared, then the role: DeleteConflict while others remain, as on AWS."""
    iam = iam_backends[account_id][get_partition(region)]
    declared = getattr(role, "cf_properties", None)
    if declared is None:
        # A role whose own create failed half-way is being undone: everything on it came from the stack.
        inline, managed = set(role.policies), set(role.managed_policies)
    else:
        inline = {str(p.get("PolicyName")) for p in declared.get("Policies") or [] if isinstance(p, dict)}
        managed = {str(arn) for arn in declared.get("ManagedPolicyArns") or []}
    for policy_arn in list(role.managed_policies):
        if policy_arn in managed:
            iam.detach_role_policy(policy_arn, role.name)
    for policy_name in list(role.policies):
        if policy_name in inline:
            iam.delete_role_policy(role.name, policy_name)
    # moto's delete_role refuses with AWS's DeleteConflict messages while the role is in an instance profile
    # or still has a managed ("must detach all policies first") or inline ("must delete policies first") policy.
    iam.delete_role(role.name)


def apply() -> None:
    """Nothing to patch: the deleters above register themselves on import; cfn_lifecycle calls them."""
