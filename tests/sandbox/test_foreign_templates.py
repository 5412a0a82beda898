"""Templates nobody here wrote deploy in the sandbox as on AWS: CREATE_COMPLETE with every resource and output
they declare, then DELETE_COMPLETE.

The corpus (tests/sandbox/foreign_templates/, provenance and licences in its README.md): the peer's
managed-cloud template with and without MemoryDB, rendered by the peer's own code; AWS's Quick Start VPC
(over 51,200 bytes, so deployed from S3 as a user must) and IAM baseline; cfn-lint's Fn::ForEach sample.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from .templates import outputs, stack

FIXTURES = Path(__file__).parent / "foreign_templates"
REGION = "us-west-2"
BODY_LIMIT = 51_200


class _Loader(yaml.SafeLoader):
    """Reads the fixtures' short-form tags as opaque values: the test only needs the declared structure."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: f"!{suffix}")


@dataclass(frozen=True)
class Case:
    file: str
    stack_name: str
    parameters: dict[str, str] = field(default_factory=dict)
    resources: int = 0  # how many resources CloudFormation creates with these parameters
    output_keys: frozenset[str] | None = None  # when the declared Outputs are loops (Fn::ForEach)
    outputs: int = 0


def _peer(file: str, resources: int, outputs: int) -> Case:
    saved = json.loads((FIXTURES / f"{file}.parameters.json").read_text())
    return Case(f"{file}.yaml", saved["StackName"], saved["Parameters"], resources, outputs=outputs)


CASES = [
    _peer("peer-managed-cloud-memorydb", resources=33, outputs=9),
    _peer("peer-managed-cloud", resources=30, outputs=8),
    Case(
        "aws-quickstart-vpc.json",
        "quickstart-vpc",
        {"AvailabilityZones": "us-west-2a,us-west-2b", "KeyPairName": "operators"},
        resources=24,
        outputs=16,
    ),
    Case("aws-quickstart-iam.json", "quickstart-iam", resources=18, outputs=5),
    Case(
        "cfn-lint-foreach.yaml",
        "foreach-buckets",
        {"Environment": "Production"},
        resources=3,
        output_keys=frozenset(
            f"S3Bucket{bucket}{attribute}"
            for bucket in "ABC"
            for attribute in ("Arn", "DomainName", "WebsiteURL")
        ),
    ),
]


def _declared(case: Case) -> dict[str, Any]:
    text = (FIXTURES / case.file).read_text()
    return json.loads(text) if case.file.endswith(".json") else yaml.load(text, Loader=_Loader)


def _create(client: Callable[..., Any], case: Case) -> str:
    """CreateStack as a user would: the body inline, or from S3 when it is over CloudFormation's 51,200 bytes."""
    body = (FIXTURES / case.file).read_text()
    source: dict[str, str] = {"TemplateBody": body}
    if len(body.encode()) > BODY_LIMIT:
        s3 = client("s3", REGION)
        s3.create_bucket(Bucket="templates", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_object(Bucket="templates", Key=case.file, Body=body.encode())
        source = {"TemplateURL": f"https://templates.s3.{REGION}.amazonaws.com/{case.file}"}
    parameters = [{"ParameterKey": key, "ParameterValue": value} for key, value in case.parameters.items()]
    created = client("cloudformation", REGION).create_stack(
        StackName=case.stack_name,
        Parameters=parameters,
        Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        **source,
    )
    return str(created["StackId"])


def _check_deployed(client: Callable[..., Any], case: Case, stack_id: str) -> dict[str, str]:
    cfn = client("cloudformation", REGION)
    described = stack(cfn, stack_id)
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    declared = _declared(case)
    resources = cfn.describe_stack_resources(StackName=stack_id)["StackResources"]
    assert len(resources) == case.resources
    for resource in resources:
        assert resource["ResourceStatus"] == "CREATE_COMPLETE"
        assert resource["PhysicalResourceId"]
    found = {r["LogicalResourceId"]: r["ResourceType"] for r in resources}
    for logical_id, body in declared["Resources"].items():
        if logical_id.startswith("Fn::ForEach::"):
            continue
        if "Condition" not in body:
            assert found.get(logical_id) == body["Type"], logical_id
        elif logical_id in found:
            assert found[logical_id] == body["Type"]
    values = outputs(cfn, stack_id)
    if case.output_keys is not None:
        assert set(values) == case.output_keys
    else:
        assert len(values) == case.outputs
        unconditional = {key for key, body in declared["Outputs"].items() if "Condition" not in body}
        assert unconditional <= set(values)
    assert all(values.values())
    return values


def _check_deleted(client: Callable[..., Any], stack_id: str) -> None:
    cfn = client("cloudformation", REGION)
    cfn.delete_stack(StackName=stack_id)
    described = stack(cfn, stack_id)
    assert described["StackStatus"] == "DELETE_COMPLETE", described.get("StackStatusReason")


def _check_peer(client: Callable[..., Any], case: Case, values: dict[str, str]) -> None:
    """The values the peer's code reads back from its stack resolve to the real resources."""
    ec2, s3 = client("ec2", REGION), client("s3", REGION)
    zones = json.loads(values["SubnetsWithAvailabilityZones"])
    subnets = ec2.describe_subnets(SubnetIds=[z["subnet_id"] for z in zones])["Subnets"]
    assert {s["SubnetId"]: s["AvailabilityZone"] for s in subnets} == {
        z["subnet_id"]: z["availability_zone"] for z in zones
    }
    assert all(s["VpcId"] == values["VPC"] for s in subnets)
    policy = json.loads(s3.get_bucket_policy(Bucket=values["S3Bucket"])["Policy"])
    assert set(policy["Statement"][0]["Principal"]["AWS"]) == {
        values["NodeIamRole"],
        values["AnyscaleIAMRole"],
    }
    role_name = case.parameters["AnyscaleCrossAccountIAMRoleName"]
    trust = client("iam", REGION).get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
    assert trust["Version"] == "2012-10-17"
    assert trust["Statement"][0]["Condition"] == {
        "StringEquals": {"sts:ExternalId": case.parameters["CloudID"]}
    }
    if "MemoryDB" in values:
        memorydb = json.loads(values["MemoryDB"])
        cluster = client("memorydb", REGION).describe_clusters(ClusterName=case.stack_name)["Clusters"][0]
        assert memorydb == {
            "arn": cluster["ARN"],
            "ClusterEndpointAddress": cluster["ClusterEndpoint"]["Address"],
        }


def _check_quickstart_vpc(client: Callable[..., Any], values: dict[str, str]) -> None:
    ec2 = client("ec2", REGION)
    vpc = ec2.describe_vpcs(VpcIds=[values["VPCID"]])["Vpcs"][0]
    options = ec2.describe_dhcp_options(DhcpOptionsIds=[vpc["DhcpOptionsId"]])["DhcpOptions"][0]
    settings = {c["Key"]: [v["Value"] for v in c["Values"]] for c in options["DhcpConfigurations"]}
    assert settings["domain-name"] == [f"{REGION}.compute.internal"]
    public = [values["PublicSubnet1ID"], values["PublicSubnet2ID"]]
    zones = [s["AvailabilityZone"] for s in ec2.describe_subnets(SubnetIds=public)["Subnets"]]
    assert sorted(zones) == ["us-west-2a", "us-west-2b"]
    gateways = ec2.describe_nat_gateways(Filters=[{"Name": "vpc-id", "Values": [values["VPCID"]]}])[
        "NatGateways"
    ]
    assert sorted(g["SubnetId"] for g in gateways) == sorted(public)


def _check_quickstart_iam(client: Callable[..., Any], values: dict[str, str]) -> None:
    iam = client("iam", REGION)
    for group in values.values():
        attached = iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]
        assert len(attached) == 1


@pytest.mark.parametrize("case", CASES, ids=[case.file for case in CASES])
def test_foreign_template_creates_and_deletes(client: Callable[..., Any], case: Case) -> None:
    if case.file == "aws-quickstart-vpc.json":
        client("ec2", REGION).create_key_pair(KeyName="operators")
    stack_id = _create(client, case)
    values = _check_deployed(client, case, stack_id)
    if case.file.startswith("peer-"):
        _check_peer(client, case, values)
    elif case.file == "aws-quickstart-vpc.json":
        _check_quickstart_vpc(client, values)
    elif case.file == "aws-quickstart-iam.json":
        _check_quickstart_iam(client, values)
    _check_deleted(client, stack_id)
    if case.file == "aws-quickstart-vpc.json":
        assert [v for v in client("ec2", REGION).describe_vpcs()["Vpcs"] if not v["IsDefault"]] == []
    if case.file == "aws-quickstart-iam.json":
        iam = client("iam", REGION)
        assert iam.list_groups()["Groups"] == []
        assert iam.list_policies(Scope="Local")["Policies"] == []
