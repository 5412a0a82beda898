"""Service Quotas answer configurable values, limits are enforced, and a reset restores the defaults."""

from __future__ import annotations

import os
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudplane.sandbox import quotas
from cloudplane.sandbox.server import SandboxServer

from .conftest import REGION


def _value(client: Any, service: str, code: str, region: str = REGION) -> float:
    return client("service-quotas", region_name=region).get_service_quota(
        ServiceCode=service, QuotaCode=code
    )["Quota"]["Value"]


def test_defaults(client: Any) -> None:
    assert _value(client, "vpc", "L-F678F1CE") == 5.0
    assert _value(client, "vpc", "L-A4707A72") == 5.0
    assert _value(client, "ec2", "L-1216C47A") == 64.0
    quota = client("service-quotas").get_service_quota(ServiceCode="ec2", QuotaCode="L-1216C47A")["Quota"]
    assert quota["QuotaArn"] == f"arn:aws:servicequotas:{REGION}:123456789012:ec2/L-1216C47A"
    listed = client("service-quotas").list_service_quotas(ServiceCode="ec2")["Quotas"]
    assert "L-1216C47A" in {q["QuotaCode"] for q in listed}


def test_set_quota_and_reset(client: Any, sandbox: SandboxServer, moto_api: Any) -> None:
    sandbox.set_quota("ec2", "L-1216C47A", 128)
    sandbox.set_quota("vpc", "L-F678F1CE", 2, region="eu-west-1")
    moto_api(
        "POST", "cloudplane/service-quotas", [{"ServiceCode": "vpc", "QuotaCode": "L-A4707A72", "Value": 7}]
    )
    assert _value(client, "ec2", "L-1216C47A") == 128.0
    assert _value(client, "vpc", "L-F678F1CE", "eu-west-1") == 2.0
    assert _value(client, "vpc", "L-F678F1CE") == 5.0  # other regions keep the default
    assert _value(client, "vpc", "L-A4707A72") == 7.0
    default = client("service-quotas").get_aws_default_service_quota(
        ServiceCode="ec2", QuotaCode="L-1216C47A"
    )
    assert default["Quota"]["Value"] == 64.0

    sandbox.reset()
    assert _value(client, "ec2", "L-1216C47A") == 64.0
    assert _value(client, "vpc", "L-A4707A72") == 5.0


def test_vpc_and_gateway_limits_are_enforced(client: Any, sandbox: SandboxServer) -> None:
    ec2 = client("ec2")
    sandbox.set_quota("vpc", "L-F678F1CE", 3)  # the default VPC counts
    sandbox.set_quota("vpc", "L-A4707A72", 1)
    ec2.create_vpc(CidrBlock="10.1.0.0/16")
    ec2.create_vpc(CidrBlock="10.2.0.0/16")
    with pytest.raises(ClientError) as error:
        ec2.create_vpc(CidrBlock="10.3.0.0/16")
    assert error.value.response["Error"]["Code"] == "VpcLimitExceeded"
    ec2.create_internet_gateway()
    with pytest.raises(ClientError) as error:
        ec2.create_internet_gateway()
    assert error.value.response["Error"]["Code"] == "InternetGatewayLimitExceeded"


def test_startup_layer_survives_reset(client: Any, sandbox: SandboxServer) -> None:
    quotas.load_config('[{"ServiceCode": "ec2", "QuotaCode": "L-1216C47A", "Value": 256}]')
    try:
        sandbox.reset()
        assert _value(client, "ec2", "L-1216C47A") == 256.0
        sandbox.set_quota("ec2", "L-1216C47A", 8)  # runtime overrides win over the start-up layer
        assert _value(client, "ec2", "L-1216C47A") == 8.0
    finally:
        quotas.load_config(os.environ.get(quotas.ENV_QUOTAS))
