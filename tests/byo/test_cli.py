"""`cloud template --customer-defined` flags: what they put in the template, and bad input (exit 2)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import boto3
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


def subnets_in(region: str, zone_ids: Sequence[str]) -> list[str]:
    """Subnets of a new VPC in `region`, one in each zone (by ID), in that order."""
    ec2 = boto3.client("ec2", region_name=region)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    return [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{index}.0/24", AvailabilityZoneId=zone)["Subnet"][
            "SubnetId"
        ]
        for index, zone in enumerate(zone_ids)
    ]


def registered(
    deployment: str = "customer_defined",
    networking: str = "private",
    zones: Sequence[str] = ("euw1-az2", "euw1-az3"),
    **resources: Any,
) -> str:
    """A cloud in the control plane, in eu-west-1, whose subnets exist in the sandbox (in `zones`)."""
    with ControlPlaneClient.from_env() as client:
        cloud = client.create_cloud(
            "registered",
            "aws",
            "eu-west-1",
            deployment,
            networking,
            options={"controlplane_principal": "arn:aws:iam::210987654321:root"},
            external_id="cloudplane-byo-feedc0de",
            resources={"subnet_ids": subnets_in("eu-west-1", zones), **resources},
        )
    return cloud["id"]


def test_defaults_trust_the_callers_account_with_a_fresh_external_id(aws_env: SandboxServer) -> None:
    first, second = template(), template()
    assert trust(first)["Principal"] == {"AWS": PRINCIPAL}
    external_ids = {trust(t)["Condition"]["StringEquals"]["sts:ExternalId"] for t in (first, second)}
    assert len(external_ids) == 2 and all(e.startswith("cloudplane-byo-") for e in external_ids)
    assert "FileSystem" in first["Resources"] and "MemoryDbCluster" not in first["Resources"]
    assert first["Parameters"]["CloudName"]["Default"] == ""


def test_without_region_the_template_is_for_the_aws_configurations_region(
    aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = template()  # AWS_DEFAULT_REGION=us-west-2: its first three zones by ID, not by name
    assert body["Rules"]["CloudRegion"]["Assertions"][0]["Assert"]["Fn::Equals"][1] == "us-west-2"
    assert subnet_zones(body) == ["usw2-az1", "usw2-az2", "usw2-az3"]
    monkeypatch.setenv("AWS_REGION", "eu-west-1")  # the AWS CLI v2 takes it before AWS_DEFAULT_REGION
    assert subnet_zones(template()) == ["euw1-az1", "euw1-az2", "euw1-az3"]


def test_without_any_region_the_template_is_refused(
    aws_env: SandboxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION", raising=False)
    run = cloudplane("cloud", "template", "--customer-defined")
    assert run.exit_code == 2 and run.stdout == ""
    assert "pass --region" in run.stderr and len(run.stderr.strip().splitlines()) == 1


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
    cloud_id = registered(efs_id="fs-0a1b2c3d", memorydb_cluster_id="cloudplane-x")
    body = template("--cloud-id", cloud_id)
    assert subnet_zones(body) == ["euw1-az2", "euw1-az3"]  # where its subnets are, in their order
    assert memorydb_subnets(body) == ["Subnet0", "Subnet1"]
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
        ({"efs_id": "fs-0a1b2c3d"}, ("--no-efs",), "which --no-efs would delete"),
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


def subnet_zones(body: dict[str, Any]) -> list[str]:
    resources = body["Resources"]
    return [resources[f"Subnet{i}"]["Properties"]["AvailabilityZoneId"] for i in range(len(subnets_of(body)))]


def subnets_of(body: dict[str, Any]) -> list[str]:
    return sorted(k for k in body["Resources"] if k.startswith("Subnet") and k[6:].isdigit())


def memorydb_subnets(body: dict[str, Any]) -> list[str]:
    return [s["Ref"] for s in body["Resources"]["MemoryDbSubnetGroup"]["Properties"]["SubnetIds"]]


def test_a_cloud_id_names_the_zones_of_the_clouds_subnets_whatever_the_first_choice_would_be(
    aws_env: SandboxServer,
) -> None:
    cloud_id = registered(networking="public", zones=("euw1-az3", "euw1-az1", "euw1-az2"))
    assert subnet_zones(template("--cloud-id", cloud_id)) == ["euw1-az3", "euw1-az1", "euw1-az2"]


def test_a_cloud_id_whose_subnets_are_gone_is_refused(aws_env: SandboxServer) -> None:
    cloud_id = registered()
    with ControlPlaneClient.from_env() as client:
        gone = client.find_cloud(cloud_id=cloud_id)["resources"]["subnet_ids"][1]
    boto3.client("ec2", region_name="eu-west-1").delete_subnet(SubnetId=gone)
    run = cloudplane("cloud", "template", "--customer-defined", "--cloud-id", cloud_id)
    assert run.exit_code == 2 and run.stdout == ""
    assert (
        f"subnet(s) {gone} not found in eu-west-1" in run.stderr and len(run.stderr.strip().splitlines()) == 1
    )


# The sandbox's zones: us-west-2 a..d = usw2-az2, az1, az3, az4; us-east-1 a..f = use1-az6, az1, az2, az4, az3, az5.
@pytest.mark.parametrize(
    ("flags", "zones", "memorydb"),
    [
        (
            ("--region", "us-east-1"),
            ["use1-az2", "use1-az4", "use1-az6"],  # MemoryDB's three zones, not use1-az1
            ["Subnet0", "Subnet1", "Subnet2"],
        ),
        (
            ("--region", "us-east-1", "--zone-count", "5"),
            ["use1-az2", "use1-az4", "use1-az6", "use1-az1", "use1-az3"],  # MemoryDB's first, then by ID
            ["Subnet0", "Subnet1", "Subnet2"],
        ),
        (
            ("--region", "us-west-2", "--zone-count", "4"),
            ["usw2-az1", "usw2-az2", "usw2-az3", "usw2-az4"],
            ["Subnet0", "Subnet1", "Subnet2"],  # not usw2-az4 (us-west-2d)
        ),
        (("--region", "us-west-2", "--zone-count", "2"), ["usw2-az1", "usw2-az2"], ["Subnet0", "Subnet1"]),
    ],
)
def test_memorydb_template_names_the_regions_zones_memorydb_first(
    aws_env: SandboxServer, flags: tuple[str, ...], zones: list[str], memorydb: list[str]
) -> None:
    body = template("--enable-head-node-fault-tolerance", *flags)
    assert subnet_zones(body) == zones
    assert memorydb_subnets(body) == memorydb
    assert body["Rules"]["CloudRegion"]["Assertions"][0]["Assert"]["Fn::Equals"][1] == flags[1]


def test_memorydb_in_a_region_cloudplane_does_not_know_takes_every_zone_with_a_warning(
    aws_env: SandboxServer,
) -> None:
    run = cloudplane(
        "cloud",
        "template",
        "--customer-defined",
        "--enable-head-node-fault-tolerance",
        "--region",
        "af-south-1",
    )
    assert run.exit_code == 0, run.stderr
    body = json.loads(run.stdout)
    assert subnet_zones(body) == ["afs1-az1", "afs1-az2", "afs1-az3"]
    assert memorydb_subnets(body) == ["Subnet0", "Subnet1", "Subnet2"]
    assert "does not know which availability zones MemoryDB supports in af-south-1" in run.stderr


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (
            ("--enable-head-node-fault-tolerance", "--region", "us-west-2", "--zone-count", "5"),
            "5 zones asked for (--zone-count), but region us-west-2 has 4 availability zones in this account "
            "(usw2-az1, usw2-az2, usw2-az3, usw2-az4)",
        ),
        (
            ("--region", "us-west-1", "--zone-count", "3"),
            "3 zones asked for (--zone-count), but region us-west-1 has 2 availability zones in this account "
            "(usw1-az1, usw1-az3): ask for 2 or fewer",
        ),
    ],
)
def test_zone_count_input_mistakes(aws_env: SandboxServer, flags: tuple[str, ...], message: str) -> None:
    run = cloudplane("cloud", "template", "--customer-defined", *flags)
    assert run.exit_code == 2 and run.stdout == ""
    assert message in run.stderr and len(run.stderr.strip().splitlines()) == 1
