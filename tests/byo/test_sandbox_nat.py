"""The sandbox's NAT gateways behave as AWS's: an address in their subnet, and a delete that frees the subnet."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def test_nat_gateway_lives_in_its_subnet_and_its_delete_frees_it(aws: Callable[..., Any]) -> None:
    ec2 = aws("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.2.0/26")["Subnet"]["SubnetId"]
    allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
    (address,) = ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["NatGatewayAddresses"]
    assert ipaddress.ip_address(address["PrivateIp"]) in ipaddress.ip_network("10.1.2.0/26")
    with pytest.raises(ClientError, match="DependencyViolation"):
        ec2.delete_subnet(SubnetId=subnet)

    ec2.delete_nat_gateway(NatGatewayId=nat)
    assert ec2.describe_nat_gateways(NatGatewayIds=[nat])["NatGateways"][0]["State"] == "deleted"
    assert "AssociationId" not in ec2.describe_addresses(AllocationIds=[allocation])["Addresses"][0]
    ec2.delete_subnet(SubnetId=subnet)
    ec2.release_address(AllocationId=allocation)
    with pytest.raises(ClientError, match="NatGatewayNotFound"):
        ec2.delete_nat_gateway(NatGatewayId="nat-0123456789abcdef0")
