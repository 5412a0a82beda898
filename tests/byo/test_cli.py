"""`cloud template --customer-defined` flags: what they put in the template, and bad input (exit 2)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cloudplane.client import ControlPlaneClient
from cloudplane.sandbox.server import SandboxServer
from tests.helpers import cloudplane

PRINCIPAL = "arn:aws:iam::123456789012:root"


def template(*flags: str) -> dict[str, Any]:
    run = cloudplane("cloud", "template", "--customer-defined", *flags)
    assert run.exit_code == 0, run.stderr
    return json.loads(run.stdout)


def trust(body: dict[str, Any]) -> dict[str, Any]:
    return body["Resources"]["ControlPlaneRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]


def registered(deployment: str = "customer_defined", networking: str = "private", **resources: Any) -> str:
    with ControlPlaneClient.from_env() as client:
        cloud = client.create_cloud(
            "registered",
            "aws",
            "eu-west-1",
            deployment,
            networking,
            options={"controlplane_principal": "arn:aws:iam::210987654321:root"},
            external_id="cloudplane-byo-feedc0de",
            resources={"subnet_ids": ["subnet-a", "subnet-b"], **resources},
        )
    return cloud["id"]


def test_defaults_trust_the_callers_account_with_a_fresh_external_id(aws_env: SandboxServer) -> None:
    first, second = template(), template()
    assert trust(first)["Principal"] == {"AWS": PRINCIPAL}
    external_ids = {trust(t)["Condition"]["StringEquals"]["sts:ExternalId"] for t in (first, second)}
    assert len(external_ids) == 2 and all(e.startswith("cloudplane-byo-") for e in external_ids)
    assert "FileSystem" in first["Resources"] and "MemoryDbCluster" not in first["Resources"]
    assert "Rules" not in first and first["Parameters"]["CloudName"]["Default"] == ""


def test_flags_shape_the_template(aws_env: SandboxServer) -> None:
    body = template(
        "--private-network",
        "--nat-gateways",
        "single",
        "--no-efs",
        "--enable-head-node-fault-tolerance",
        "--name",
        "research",
        "--region",
        "eu-west-1",
        "--zone-count",
        "2",
        "--controlplane-principal",
        "arn:aws:iam::210987654321:root",
    )
    resources = body["Resources"]
    assert body["Parameters"]["NatGateways"]["Default"] == "single"
    assert body["Parameters"]["CloudName"]["Default"] == "research"
    assert "FileSystem" not in resources and "MemoryDbCluster" in resources
    assert sorted(k for k in resources if k.startswith("Subnet") and k[6:].isdigit()) == [
        "Subnet0",
        "Subnet1",
    ]
    assert body["Rules"]["CloudRegion"]["Assertions"][0]["Assert"]["Fn::Equals"][1] == "eu-west-1"
    assert trust(body)["Principal"] == {"AWS": "arn:aws:iam::210987654321:root"}


def test_a_cloud_id_brings_the_registered_clouds_shape_and_external_id(aws_env: SandboxServer) -> None:
    cloud_id = registered(efs_id="fs-1", memorydb_cluster_id="cloudplane-x")
    body = template("--cloud-id", cloud_id)
    assert trust(body)["Condition"] == {"StringEquals": {"sts:ExternalId": "cloudplane-byo-feedc0de"}}
    assert trust(body)["Principal"] == {"AWS": "arn:aws:iam::210987654321:root"}
    assert "NatGateways" in body["Parameters"] and body["Parameters"]["CloudName"]["Default"] == "registered"
    assert {"FileSystem", "MemoryDbCluster", "Subnet1"} <= set(body["Resources"]) and "Subnet2" not in body[
        "Resources"
    ]
    assert body["Outputs"]["CloudId"]["Value"] == cloud_id
    assert body["Rules"]["CloudRegion"]["Assertions"][0]["Assert"]["Fn::Equals"][1] == "eu-west-1"


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ((), "managed clouds are made by `cloudplane cloud setup`"),
        (("--customer-defined", "--nat-gateways", "single"), "add --private-network"),
        (("--customer-defined", "--cloud-id", "cld_short"), "invalid cloud id"),
        (("--customer-defined", "--cloud-id", "cld_abcdefghij0123456789"), "no cloud"),
        (("--customer-defined", "--zone-count", "7"), "--zone-count must be 2 to 6"),
        (("--customer-defined", "--name", "bad name"), "invalid cloud name"),
        (("--customer-defined", "--region", "cn-north-1"), "partition"),
        (("--customer-defined", "--controlplane-principal", "root"), "invalid --controlplane-principal"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    aws_env: SandboxServer, flags: tuple[str, ...], message: str
) -> None:
    run = cloudplane("cloud", "template", *flags)
    assert run.exit_code == 2 and run.stdout == ""
    assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("cloud", "flags", "message"),
    [
        ({"deployment": "managed", "networking": "public"}, (), "is a managed cloud"),
        ({"networking": "public"}, ("--private-network",), "uses public networking"),
        ({"networking": "public"}, ("--nat-gateways", "single"), "no NAT gateways"),
        ({"efs_id": "fs-1"}, ("--no-efs",), "which --no-efs would delete"),
        ({}, ("--enable-head-node-fault-tolerance",), "has no MemoryDB cluster"),
        ({}, ("--name", "other"), "is named 'registered'"),
        ({}, ("--region", "us-west-2"), "is in eu-west-1"),
        ({}, ("--zone-count", "3"), "has 2 subnets"),
    ],
)
def test_flags_that_contradict_the_registered_cloud_are_refused(
    aws_env: SandboxServer, cloud: dict[str, Any], flags: tuple[str, ...], message: str
) -> None:
    cloud_id = registered(**cloud)
    run = cloudplane("cloud", "template", "--customer-defined", "--cloud-id", cloud_id, *flags)
    assert run.exit_code == 2 and run.stdout == ""
    assert message in run.stderr
