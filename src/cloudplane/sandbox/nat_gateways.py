"""NAT gateways and Elastic IPs as AWS makes and deletes them, through the API and CloudFormation.

moto gives a NAT gateway's interface an address outside its subnet, keeps that interface and the Elastic
IP's association after DeleteNatGateway (so the subnet can never be deleted), and never deletes a stack's
NatGateway or EIP.

- a NAT gateway's interface gets an address of its own subnet;
- delete_nat_gateway marks the gateway deleted, disassociates its Elastic IP and removes its interface;
  an unknown id fails with NatGatewayNotFound;
- deleting a stack deletes its NatGateway and releases its EIP (which fails while the address is still
  associated, so the delete passes take the gateway first, as CloudFormation's dependency order does);
- a stack update that changes an `AWS::EC2::Route`'s target (e.g. NatGatewayId) replaces the route's
  target instead of keeping the old one.
"""

from __future__ import annotations

from typing import Any

from moto.ec2.models import EC2Backend, ec2_backends
from moto.ec2.models import nat_gateways as moto_nat_gateways
from moto.ec2.models.route_tables import Route

from ._patching import SandboxServiceError, deleter, patch_attr, wrap_method


def _ec2(account_id: str, region: str) -> Any:
    return ec2_backends[account_id][region]


def _no_fixed_address(*_: Any) -> str:
    # An empty address makes moto's network interface pick one inside its subnet.
    return ""


def _delete_nat_gateway(orig: Any, self: Any, nat_gateway_id: str) -> Any:
    nat = self.nat_gateways.get(nat_gateway_id)
    if nat is None:
        raise SandboxServiceError("NatGatewayNotFound", f"The Nat Gateway {nat_gateway_id} was not found")
    if nat.state == "deleted":
        return nat
    nat = orig(self, nat_gateway_id)
    eni = getattr(nat, "_eni", None)
    if eni is not None:
        for address in list(self.addresses):
            if address.eni is eni:
                self.disassociate_address(association_id=address.association_id)
        self.enis.pop(eni.id, None)
        if eni.subnet is not None and eni.private_ip_address:
            eni.subnet.del_subnet_ip(eni.private_ip_address)
    return nat


@deleter("AWS::EC2::NatGateway")
def _delete_stack_nat_gateway(nat: Any, account_id: str, region: str) -> None:
    _ec2(account_id, region).delete_nat_gateway(nat.id)


@deleter("AWS::EC2::EIP")
def _release_stack_address(eip: Any, account_id: str, region: str) -> None:
    ec2 = _ec2(account_id, region)
    if eip not in ec2.addresses:
        return
    if eip.association_id:
        raise SandboxServiceError(
            "InvalidIPAddress.InUse", f"Address {eip.public_ip} is in use ({eip.association_id})"
        )
    if eip.allocation_id:
        ec2.release_address(allocation_id=eip.allocation_id)
    else:
        ec2.release_address(address=eip.public_ip)


def _update_route(
    cls: Any,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    """The same table and destination: point the route at the template's target; else a new route."""
    props = cloudformation_json["Properties"]
    ec2 = _ec2(account_id, region_name)
    table_id = props["RouteTableId"]
    destination = props.get("DestinationCidrBlock")
    old = original_resource
    if table_id == old.route_table.id and destination == old.destination_cidr_block:
        return ec2.replace_route(
            table_id,
            destination,
            gateway_id=props.get("GatewayId"),
            nat_gateway_id=props.get("NatGatewayId"),
            transit_gateway_id=props.get("TransitGatewayId"),
            vpc_peering_connection_id=props.get("VpcPeeringConnectionId"),
            interface_id=props.get("NetworkInterfaceId"),
        )
    ec2.delete_route(old.route_table.id, old.destination_cidr_block, old.destination_ipv6_cidr_block)
    return Route.create_from_cloudformation_json(
        new_resource_name, cloudformation_json, account_id, region_name
    )


def apply() -> None:
    patch_attr(moto_nat_gateways, "random_private_ip", _no_fixed_address)
    wrap_method(EC2Backend, "delete_nat_gateway", _delete_nat_gateway)
    patch_attr(Route, "update_from_cloudformation_json", classmethod(_update_route))
