"""Disabled opt-in regions: DescribeRegions reports them as AWS does, and their endpoints refuse credentials."""

from __future__ import annotations

import urllib.error
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudplane.sandbox.server import SandboxServer

Client = Callable[..., Any]
DISABLED = "ap-east-1"


def _statuses(client: Client, **kwargs: Any) -> dict[str, str]:
    return {r["RegionName"]: r["OptInStatus"] for r in client("ec2").describe_regions(**kwargs)["Regions"]}


def test_opt_in_regions_are_enabled_until_disabled(sandbox: SandboxServer, client: Client) -> None:
    statuses = _statuses(client, AllRegions=True)
    assert statuses["us-west-2"] == "opt-in-not-required"
    assert statuses[DISABLED] == statuses["af-south-1"] == "opted-in"
    assert not [r for r in statuses if r.startswith(("cn-", "us-gov-"))]  # one partition, as on AWS

    sandbox.set_disabled_regions([DISABLED])
    assert _statuses(client, AllRegions=True)[DISABLED] == "not-opted-in"
    assert DISABLED not in _statuses(client)
    assert DISABLED not in _statuses(client, RegionNames=[DISABLED])
    assert _statuses(client, AllRegions=True, RegionNames=[DISABLED]) == {DISABLED: "not-opted-in"}

    sandbox.reset()
    assert _statuses(client)[DISABLED] == "opted-in"


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("ec2", lambda c: c.describe_vpcs(), "AuthFailure", 401),
        ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId", 403),
        ("cloudformation", lambda c: c.list_stacks(), "InvalidClientTokenId", 403),
        ("memorydb", lambda c: c.describe_clusters(), "UnrecognizedClientException", 400),
    ],
)
def test_a_disabled_regions_endpoints_refuse_every_credential(
    sandbox: SandboxServer, client: Client, service: str, call: Callable[[Any], Any], code: str, status: int
) -> None:
    sandbox.set_disabled_regions([DISABLED])
    with pytest.raises(ClientError) as refused:
        call(client(service, region_name=DISABLED))
    assert refused.value.response["Error"]["Code"] == code
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == status
    call(client(service, region_name="us-east-1"))  # other regions answer


def test_global_services_still_answer(sandbox: SandboxServer, client: Client) -> None:
    sandbox.set_disabled_regions([DISABLED])
    assert client("iam", region_name=DISABLED).list_roles()["Roles"] == []


@pytest.mark.parametrize("region", ["us-west-2", "cn-north-1"])
def test_only_opt_in_regions_can_be_disabled(sandbox: SandboxServer, region: str) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        sandbox.set_disabled_regions([region])
    assert refused.value.code == 400
    assert region.encode() in refused.value.read()
