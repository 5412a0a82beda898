"""AWS limits the customer-defined template meets, and the sandbox enforcing them as AWS does:
the TemplateBody size, zones named by ID (never `Fn::GetAZs`), and stack names up to 128 characters."""

from __future__ import annotations

import itertools
import json
import shlex
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from cloudplane.aws.byo_template import (
    TEMPLATE_BODY_MAX_BYTES,
    CustomerDefinedOptions,
    body_size,
    customer_defined_template,
    template_json,
)
from cloudplane.sandbox.server import SandboxServer
from tests.byo.stacks import apply, outputs, print_template, stack_key
from tests.helpers import cloudplane

SIX_ZONES = tuple(f"use1-az{i}" for i in range(1, 7))
# The longest values a template can carry: a cloud name, an External ID AWS accepts and a role ARN
# with the longest path and name IAM allows.
LONGEST_NAME = "n" * 63
LONGEST_EXTERNAL_ID = "e" * 1224
LONGEST_PRINCIPAL = "arn:aws:iam::123456789012:role/" + "p/" * 255 + "r" * 64
BODY_TOO_LONG = (
    "at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to 51200"
)


def _physical_ids(aws: Callable[..., Any], stack_name: str, region: str) -> dict[str, str]:
    cfn = aws("cloudformation", region_name=region)
    return {
        r["LogicalResourceId"]: r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=stack_name)["StackResources"]
    }


def _zone_ids(body: str) -> list[str]:
    resources = json.loads(body)["Resources"]
    return [
        r["Properties"]["AvailabilityZoneId"] for r in resources.values() if r["Type"] == "AWS::EC2::Subnet"
    ]


def _padded(size: int) -> str:
    """A valid template of exactly `size` bytes (JSON allows trailing blanks)."""
    body = json.dumps(
        {"Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.9.0.0/16"}}}}
    )
    return body + " " * (size - len(body))


# --- size ---------------------------------------------------------------------------------------------


def test_every_variant_fits_in_a_template_body_even_with_the_longest_values() -> None:
    sizes = {}
    for private, efs, memorydb, cloud_id, zones in itertools.product(
        [False, True], [False, True], [False, True], [None, "cld_abcdefghij0123456789"], range(2, 7)
    ):
        options = CustomerDefinedOptions(
            LONGEST_EXTERNAL_ID,
            LONGEST_PRINCIPAL,
            "us-east-1",
            SIX_ZONES[:zones],
            cloud_id,
            cloud_name=LONGEST_NAME,
            private_network=private,
            efs=efs,
            head_node_fault_tolerance=memorydb,
        )
        sizes[(private, efs, memorydb, cloud_id, zones)] = body_size(
            template_json(customer_defined_template(options))
        )
    largest = max(sizes.values())
    assert largest == sizes[(True, True, True, "cld_abcdefghij0123456789", 6)]
    assert largest <= TEMPLATE_BODY_MAX_BYTES - 10_000, largest  # room to grow


def test_the_template_is_compact_and_pretty_only_on_request_with_a_warning_when_too_big(
    aws_env: SandboxServer,
) -> None:
    largest = (
        "--private-network",
        "--enable-head-node-fault-tolerance",
        "--region",
        "us-east-1",
        "--zone-count",
        "6",
    )
    # Room for the six NAT gateways' addresses, so that stderr holds only what this test is about.
    aws_env.set_quota("ec2", "L-0263D0A3", 6, region="us-east-1")
    compact = cloudplane("cloud", "template", "--customer-defined", *largest)
    assert compact.exit_code == 0 and compact.stderr == ""
    assert compact.stdout == json.dumps(json.loads(compact.stdout), separators=(",", ":")) + "\n"
    assert body_size(compact.stdout.strip()) <= TEMPLATE_BODY_MAX_BYTES

    pretty = cloudplane("cloud", "template", "--customer-defined", *largest, "--pretty")
    assert (
        pretty.exit_code == 0
        and json.loads(pretty.stdout)["Resources"].keys() == json.loads(compact.stdout)["Resources"].keys()
    )
    (line,) = pretty.stderr.strip().splitlines()
    assert "over the 51,200 that --template-body takes" in line and "--template-url" in line


# --- the sandbox refuses what AWS refuses -------------------------------------------------------------


def test_sandbox_refuses_a_template_body_over_51200_bytes(aws: Callable[..., Any]) -> None:
    cfn = aws("cloudformation")
    over = _padded(TEMPLATE_BODY_MAX_BYTES + 1)
    for call in (
        lambda: cfn.create_stack(StackName="big", TemplateBody=over),
        lambda: cfn.validate_template(TemplateBody=over),
        lambda: cfn.create_change_set(StackName="big", ChangeSetName="c1", TemplateBody=over),
    ):
        with pytest.raises(ClientError) as error:
            call()
        assert error.value.response["Error"]["Code"] == "ValidationError"
        assert error.value.response["Error"]["Message"].startswith("1 validation error detected: Value '{")
        assert BODY_TOO_LONG in error.value.response["Error"]["Message"]
    assert cfn.describe_stacks()["Stacks"] == []

    stack_id = cfn.create_stack(StackName="big", TemplateBody=_padded(TEMPLATE_BODY_MAX_BYTES))["StackId"]
    cfn.validate_template(TemplateBody=_padded(TEMPLATE_BODY_MAX_BYTES))
    with pytest.raises(ClientError, match="Member must have length less than or equal to 51200"):
        cfn.update_stack(StackName="big", TemplateBody=over)
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_sandbox_takes_a_bigger_template_from_s3_up_to_1_mb(aws: Callable[..., Any]) -> None:
    s3, cfn = aws("s3"), aws("cloudformation")
    s3.create_bucket(Bucket="templates", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    s3.put_object(Bucket="templates", Key="big.json", Body=_padded(200_000).encode())
    s3.put_object(Bucket="templates", Key="huge.json", Body=_padded(1_048_577).encode())
    url = "https://s3.amazonaws.com/templates/"
    stack_id = cfn.create_stack(StackName="from-s3", TemplateURL=url + "big.json")["StackId"]
    assert cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    with pytest.raises(ClientError, match="Template may not exceed 1048576 bytes in size."):
        cfn.create_stack(StackName="too-big", TemplateURL=url + "huge.json")


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("s" * 129, "Member must have length less than or equal to 128"),
        ("my_cloud", "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*"),
        ("1cloud", "Member must satisfy regular expression pattern"),
    ],
)
def test_sandbox_refuses_stack_names_aws_refuses(aws: Callable[..., Any], name: str, rule: str) -> None:
    with pytest.raises(ClientError) as error:
        aws("cloudformation").create_stack(StackName=name, TemplateBody=_padded(300))
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert f"Value '{name}' at 'stackName' failed to satisfy constraint: {rule}" in str(error.value)


# --- the largest variant, the way the README applies it ------------------------------------------------


def test_largest_variant_applies_registers_and_reapplies_through_template_body(
    aws_env: SandboxServer, aws: Callable[..., Any]
) -> None:
    region = "us-east-1"  # six zones in the sandbox, MemoryDB in three of them
    # A NAT gateway in each of six zones needs six Elastic IPs, one more than AWS's default quota.
    aws_env.set_quota("ec2", "L-0263D0A3", 6, region)
    body = print_template(
        "--private-network",
        "--enable-head-node-fault-tolerance",
        "--region",
        region,
        "--zone-count",
        "6",
        "--name",
        "largest",
    )
    assert body_size(body) <= TEMPLATE_BODY_MAX_BYTES < body_size(json.dumps(json.loads(body), indent=2))
    first = outputs(apply(aws, body, "largest", region=region))

    register = cloudplane(*shlex.split(first["RegisterCommand"])[1:], "--yes")
    assert register.exit_code == 0, register.stderr + register.stdout
    cloud = cloudplane("cloud", "get", "--name", "largest", "--output", "json").json()

    before = _physical_ids(aws, "largest", region)
    again = print_template("--cloud-id", cloud["id"])
    assert body_size(again) <= TEMPLATE_BODY_MAX_BYTES
    assert _zone_ids(again) == _zone_ids(body)
    second = outputs(apply(aws, again, "largest", update=True, region=region))
    assert _physical_ids(aws, "largest", region) == before  # no subnet, nothing at all, replaced
    assert second["CloudId"] == cloud["id"] and second["SubnetIds"] == first["SubnetIds"]


# --- zones --------------------------------------------------------------------------------------------


def test_a_region_with_two_zones_gets_both_with_a_note_and_the_stack_applies(aws: Callable[..., Any]) -> None:
    run = cloudplane("cloud", "template", "--customer-defined", "--region", "us-west-1")
    assert run.exit_code == 0
    (note,) = run.stderr.strip().splitlines()
    assert "region us-west-1 has 2 availability zones in this account (usw1-az1, usw1-az3)" in note
    assert _zone_ids(run.stdout) == ["usw1-az1", "usw1-az3"]
    found = outputs(apply(aws, run.stdout, region="us-west-1"))
    subnets = aws("ec2", region_name="us-west-1").describe_subnets(SubnetIds=found["SubnetIds"].split(","))
    assert sorted(s["AvailabilityZoneId"] for s in subnets["Subnets"]) == ["usw1-az1", "usw1-az3"]


def _get_azs(aws: Callable[..., Any], name: str) -> list[str]:
    body = {
        "Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.8.0.0/16"}}},
        "Outputs": {"Zones": {"Value": {"Fn::Join": [",", {"Fn::GetAZs": ""}]}}},
    }
    zones = outputs(apply(aws, json.dumps(body), name))["Zones"]
    return zones.split(",") if zones else []


def test_sandbox_getazs_lists_only_zones_with_a_default_subnet_or_all_when_none_has_one(
    aws: Callable[..., Any],
) -> None:
    ec2 = aws("ec2")
    everywhere = ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]
    assert _get_azs(aws, "all-defaults") == everywhere
    defaults = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    by_zone = {s["AvailabilityZone"]: s["SubnetId"] for s in defaults}
    for zone in ("us-west-2b", "us-west-2d"):
        ec2.delete_subnet(SubnetId=by_zone[zone])
    # What breaks `Fn::Select [2, Fn::GetAZs ""]` in a real account: two zones left.
    assert _get_azs(aws, "two-defaults") == ["us-west-2a", "us-west-2c"]

    for zone in ("us-west-2a", "us-west-2c"):
        ec2.delete_subnet(SubnetId=by_zone[zone])
    assert _get_azs(aws, "no-defaults") == everywhere  # as documented: none has one, so every zone


# --- stack names --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [None, "named-cloud"], ids=["default-name", "given-name"])
def test_a_128_character_stack_name_registers_with_the_printed_command(
    aws: Callable[..., Any], name: str | None
) -> None:
    stack_name = "byo-" + "x" * 124
    flags = ("--name", name) if name else ()
    stack = apply(aws, print_template(*flags), stack_name)
    found = outputs(stack)
    expected = name or f"cloud-{stack_key(stack)}"
    assert found["CloudName"] == expected

    register = cloudplane(*shlex.split(found["RegisterCommand"])[1:], "--yes")
    assert register.exit_code == 0, register.stderr + register.stdout
    cloud = cloudplane("cloud", "get", "--name", expected, "--output", "json").json()
    assert cloud["external_id"] == found["ExternalId"]
