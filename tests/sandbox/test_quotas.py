"""Service Quotas answer as AWS does (applied values, else NoSuchResourceException; defaults for every
known quota), the limits are enforced through the API and CloudFormation, and a reset forgets it all."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudplane.sandbox import quotas
from cloudplane.sandbox.server import SandboxServer

from .conftest import REGION
from .templates import template

ON_DEMAND_VCPUS = {
    "L-1216C47A": "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
    "L-DB2E81BA": "Running On-Demand G and VT instances",
    "L-417A185B": "Running On-Demand P instances",
    "L-74FC7D96": "Running On-Demand F instances",
    "L-7295265B": "Running On-Demand X instances",
    "L-1945791B": "Running On-Demand Inf instances",
    "L-2C3B7624": "Running On-Demand Trn instances",
    "L-6E869C2A": "Running On-Demand DL instances",
    "L-F7808C92": "Running On-Demand HPC instances",
    "L-43DA4232": "Running On-Demand High Memory instances",
}
SPOT_VCPUS = {
    "L-34B43A08": "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests",
    "L-3819A6DF": "All G and VT Spot Instance Requests",
    "L-7212CCBC": "All P Spot Instance Requests",
    "L-88CF9481": "All F Spot Instance Requests",
    "L-E3A00192": "All X Spot Instance Requests",
    "L-B5D1601B": "All Inf Spot Instance Requests",
    "L-6B0D517C": "All Trn Spot Instance Requests",
    "L-85EED4F7": "All DL Spot Instance Requests",
}
NETWORK = [
    ("vpc", "L-F678F1CE", "VPCs per Region", 5.0),
    ("vpc", "L-A4707A72", "Internet gateways per Region", 5.0),
    ("vpc", "L-FE5A380F", "NAT gateways per Availability Zone", 5.0),
    ("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs", 5.0),
]


def _value(client: Any, service: str, code: str, region: str = REGION) -> float:
    return client("service-quotas", region_name=region).get_service_quota(
        ServiceCode=service, QuotaCode=code
    )["Quota"]["Value"]


def _default(client: Any, service: str, code: str) -> dict[str, Any]:
    return client("service-quotas").get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)[
        "Quota"
    ]


def _error(call: Any, **params: Any) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return caught.value.response["Error"]


@pytest.mark.parametrize(("service", "code", "name", "value"), NETWORK, ids=[n[2] for n in NETWORK])
def test_an_unapplied_quota_has_no_value_but_a_default(
    client: Any, service: str, code: str, name: str, value: float
) -> None:
    sq = client("service-quotas")
    error = _error(sq.get_service_quota, ServiceCode=service, QuotaCode=code)
    assert error["Code"] == "NoSuchResourceException" and error["Message"] == ""
    default = _default(client, service, code)
    assert (default["QuotaName"], default["Value"]) == (name, value)
    assert default["QuotaArn"] == f"arn:aws:servicequotas:{REGION}:123456789012:{service}/{code}"


@pytest.mark.parametrize("code", [*ON_DEMAND_VCPUS, *SPOT_VCPUS])
def test_every_vcpu_quota_has_a_default(client: Any, code: str) -> None:
    default = _default(client, "ec2", code)
    assert default["QuotaName"] == {**ON_DEMAND_VCPUS, **SPOT_VCPUS}[code]
    assert default["Value"] == 64.0 and default["Adjustable"] is True
    assert _error(client("service-quotas").get_service_quota, ServiceCode="ec2", QuotaCode=code)["Code"] == (
        "NoSuchResourceException"
    )


def test_lists_hold_the_applied_values_and_every_default(client: Any, sandbox: SandboxServer) -> None:
    sq = client("service-quotas")
    assert sq.list_service_quotas(ServiceCode="ec2")["Quotas"] == []
    defaults = {q["QuotaCode"] for q in sq.list_aws_default_service_quotas(ServiceCode="ec2")["Quotas"]}
    assert {*ON_DEMAND_VCPUS, *SPOT_VCPUS, "L-0263D0A3"} <= defaults
    sandbox.set_quota("ec2", "L-1216C47A", 128)
    assert [(q["QuotaCode"], q["Value"]) for q in sq.list_service_quotas(ServiceCode="ec2")["Quotas"]] == [
        ("L-1216C47A", 128.0)
    ]
    assert _error(sq.list_service_quotas, ServiceCode="no-such-service")["Code"] == "NoSuchResourceException"
    assert _error(sq.get_aws_default_service_quota, ServiceCode="ec2", QuotaCode="L-00000000")["Code"] == (
        "NoSuchResourceException"
    )


def test_set_quota_applies_a_value_until_reset(client: Any, sandbox: SandboxServer, moto_api: Any) -> None:
    sandbox.set_quota("ec2", "L-1216C47A", 128)
    sandbox.set_quota("vpc", "L-F678F1CE", 2, region="eu-west-1")
    moto_api(
        "POST", "cloudplane/service-quotas", [{"ServiceCode": "vpc", "QuotaCode": "L-A4707A72", "Value": 7}]
    )
    assert _value(client, "ec2", "L-1216C47A") == 128.0
    assert _value(client, "vpc", "L-F678F1CE", "eu-west-1") == 2.0
    assert _value(client, "vpc", "L-A4707A72") == 7.0
    # Another region has nothing applied: AWS's default holds there.
    sq = client("service-quotas")
    assert _error(sq.get_service_quota, ServiceCode="vpc", QuotaCode="L-F678F1CE")["Code"] == (
        "NoSuchResourceException"
    )
    assert _default(client, "ec2", "L-1216C47A")["Value"] == 64.0  # the default is not the applied value

    sandbox.reset()
    for service, code in (("ec2", "L-1216C47A"), ("vpc", "L-A4707A72")):
        assert _error(sq.get_service_quota, ServiceCode=service, QuotaCode=code)["Code"] == (
            "NoSuchResourceException"
        )


def test_a_quota_increase_request_applies_the_value_in_its_region(
    client: Any, sandbox: SandboxServer
) -> None:
    sq = client("service-quotas")
    requested = sq.request_service_quota_increase(ServiceCode="ec2", QuotaCode="L-0263D0A3", DesiredValue=8)
    assert requested["RequestedQuota"]["Status"] == "APPROVED"
    assert requested["RequestedQuota"]["QuotaName"] == "EC2-VPC Elastic IPs"
    assert _value(client, "ec2", "L-0263D0A3") == 8.0
    assert _error(
        client("service-quotas", region_name="eu-west-1").get_service_quota,
        ServiceCode="ec2",
        QuotaCode="L-0263D0A3",
    )["Code"] == ("NoSuchResourceException")

    error = _error(
        sq.request_service_quota_increase, ServiceCode="ec2", QuotaCode="L-0263D0A3", DesiredValue=6
    )
    assert (
        error["Code"] == "IllegalArgumentException" and "greater than the current value 8" in error["Message"]
    )
    # Lower than the default (5) is no increase either.
    error = _error(
        sq.request_service_quota_increase, ServiceCode="vpc", QuotaCode="L-F678F1CE", DesiredValue=4
    )
    assert error["Code"] == "IllegalArgumentException"

    sandbox.reset()
    assert _error(sq.get_service_quota, ServiceCode="ec2", QuotaCode="L-0263D0A3")["Code"] == (
        "NoSuchResourceException"
    )


def test_vpc_and_gateway_limits_are_enforced(client: Any, sandbox: SandboxServer) -> None:
    ec2 = client("ec2")
    sandbox.set_quota("vpc", "L-F678F1CE", 3)  # the default VPC counts
    sandbox.set_quota("vpc", "L-A4707A72", 1)
    ec2.create_vpc(CidrBlock="10.1.0.0/16")
    ec2.create_vpc(CidrBlock="10.2.0.0/16")
    assert _error(ec2.create_vpc, CidrBlock="10.3.0.0/16")["Code"] == "VpcLimitExceeded"
    ec2.create_internet_gateway()
    assert _error(ec2.create_internet_gateway)["Code"] == "InternetGatewayLimitExceeded"


def test_the_elastic_ip_limit_is_the_default_until_raised(client: Any, sandbox: SandboxServer) -> None:
    ec2 = client("ec2")
    allocations = [ec2.allocate_address(Domain="vpc")["AllocationId"] for _ in range(5)]
    error = _error(ec2.allocate_address, Domain="vpc")
    assert error == {
        "Code": "AddressLimitExceeded",
        "Message": "The maximum number of addresses has been reached.",
    }
    # Other regions have their own five.
    client("ec2", region_name="eu-west-1").allocate_address(Domain="vpc")
    ec2.release_address(AllocationId=allocations[0])
    ec2.allocate_address(Domain="vpc")
    client("service-quotas").request_service_quota_increase(
        ServiceCode="ec2", QuotaCode="L-0263D0A3", DesiredValue=6
    )
    ec2.allocate_address(Domain="vpc")
    assert _error(ec2.allocate_address, Domain="vpc")["Code"] == "AddressLimitExceeded"


def test_nat_gateways_are_limited_per_zone(client: Any, sandbox: SandboxServer) -> None:
    ec2 = client("ec2")
    sandbox.set_quota("vpc", "L-FE5A380F", 2)
    vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]["VpcId"]
    zone_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.0.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]
    other_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]
    zone_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.2.0/24", AvailabilityZone=f"{REGION}b")["Subnet"]

    def nat(subnet: dict[str, Any]) -> str:
        # Private NAT gateways need no Elastic IP and count against the same quota.
        answer = ec2.create_nat_gateway(SubnetId=subnet["SubnetId"], ConnectivityType="private")
        return str(answer["NatGateway"]["NatGatewayId"])

    first = nat(zone_a)
    nat(other_a)  # the quota is per zone, not per subnet
    error = _error(ec2.create_nat_gateway, SubnetId=zone_a["SubnetId"], ConnectivityType="private")
    assert error == {
        "Code": "NatGatewayLimitExceeded",
        "Message": "The maximum number of NAT Gateways has been reached.",
    }
    nat(zone_b)
    ec2.delete_nat_gateway(NatGatewayId=first)  # a deleted gateway no longer counts
    nat(zone_a)
    assert _error(ec2.create_nat_gateway, SubnetId="subnet-00000000", ConnectivityType="private")["Code"] == (
        "InvalidSubnetID.NotFound"
    )


def test_a_stack_with_more_addresses_than_the_quota_rolls_back(client: Any, sandbox: SandboxServer) -> None:
    ec2, cfn = client("ec2"), client("cloudformation")
    held = [ec2.allocate_address(Domain="vpc")["AllocationId"] for _ in range(3)]
    resources = {f"Address{i}": {"Type": "AWS::EC2::EIP", "Properties": {"Domain": "vpc"}} for i in range(3)}
    cfn.create_stack(StackName="addresses", TemplateBody=template(resources))
    stack = cfn.describe_stacks(StackName="addresses")["Stacks"][0]
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    failed = [
        e
        for e in cfn.describe_stack_events(StackName="addresses")["StackEvents"]
        if e["ResourceStatus"] == "CREATE_FAILED" and e["ResourceType"] == "AWS::EC2::EIP"
    ]
    assert len(failed) == 1
    assert "The maximum number of addresses has been reached." in failed[0]["ResourceStatusReason"]
    assert "AddressLimitExceeded" in failed[0]["ResourceStatusReason"]
    # The rollback released the stack's two addresses; the account's own are kept.
    assert sorted(a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]) == sorted(held)


def test_startup_layer_is_applied_and_survives_reset(client: Any, sandbox: SandboxServer) -> None:
    quotas.load_config('[{"ServiceCode": "ec2", "QuotaCode": "L-1216C47A", "Value": 256}]')
    try:
        sandbox.reset()
        assert _value(client, "ec2", "L-1216C47A") == 256.0
        sandbox.set_quota("ec2", "L-1216C47A", 8)  # runtime overrides win over the start-up layer
        assert _value(client, "ec2", "L-1216C47A") == 8.0
    finally:
        quotas.load_config(os.environ.get(quotas.ENV_QUOTAS))
