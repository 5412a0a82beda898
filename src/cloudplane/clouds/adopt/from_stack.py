"""What a CloudFormation stack holds: its resources by type, and what AWS says of them (a subnet's VPC, a
role's trust policy, the roles in an instance profile)."""

from __future__ import annotations

import json
from typing import Any

from cloudplane.aws.errors import AwsError
from cloudplane.aws.session import AwsClients
from cloudplane.clouds.adopt.found import Found, FoundProfile, FoundRole, Piece
from cloudplane.errors import InputError
from cloudplane.naming import TAG_KEY, shown

# Stable states in which the stack's resources exist as its template says. ROLLBACK_COMPLETE is a failed
# creation whose resources are gone.
USABLE_STATES = frozenset(
    {
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "IMPORT_COMPLETE",
        "IMPORT_ROLLBACK_COMPLETE",
    }
)
_PLAIN = {
    "AWS::EC2::VPC": "vpcs",
    "AWS::S3::Bucket": "buckets",
    "AWS::EFS::FileSystem": "file_systems",
    "AWS::MemoryDB::Cluster": "memorydb_clusters",
}


def describe(aws: AwsClients, name_or_arn: str, region: str) -> dict[str, Any]:
    """The stack, refused (one line) when it is missing, in another region or not in a usable state."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        if len(parts) > 3 and parts[3] != region:
            raise InputError(
                f"--from-stack: stack {name_or_arn} is in {parts[3]}, not in --region {region}; "
                f"give --region {parts[3]}"
            )
    try:
        (stack,) = aws.client("cloudformation").describe_stacks(StackName=name_or_arn)["Stacks"]
    except AwsError as exc:
        # CloudFormation says "Stack with id X does not exist" as a ValidationError.
        if exc.code == "ValidationError" and "does not exist" in exc.detail:
            raise InputError(
                f"--from-stack: no stack {shown(name_or_arn)} in {region}; check the name and --region"
            ) from exc
        raise
    status = stack["StackStatus"]
    if status not in USABLE_STATES:
        raise InputError(
            f"--from-stack: stack {stack['StackName']} is {status}; only a stack whose resources were made "
            f"({', '.join(sorted(USABLE_STATES))}) can be registered"
        )
    return stack


def _resources(aws: AwsClients, stack_id: str) -> list[dict[str, Any]]:
    pages = aws.client("cloudformation").get_paginator("list_stack_resources").paginate(StackName=stack_id)
    return [
        r
        for page in pages
        for r in page["StackResourceSummaries"]
        if r.get("PhysicalResourceId") and not r["ResourceStatus"].startswith("DELETE")
    ]


def _origin(resource: dict[str, Any]) -> str:
    return f"{resource['LogicalResourceId']} ({resource['ResourceType']})"


def _add_network(aws: AwsClients, found: Found, resources: list[dict[str, Any]]) -> None:
    ec2 = aws.client("ec2")
    subnets = [r for r in resources if r["ResourceType"] == "AWS::EC2::Subnet"]
    if subnets:
        described = ec2.describe_subnets(SubnetIds=[r["PhysicalResourceId"] for r in subnets])["Subnets"]
        vpc_of = {s["SubnetId"]: s["VpcId"] for s in described}
        found.subnets += [
            Piece(r["PhysicalResourceId"], _origin(r), vpc_of.get(r["PhysicalResourceId"])) for r in subnets
        ]
    groups = [r for r in resources if r["ResourceType"] == "AWS::EC2::SecurityGroup"]
    if groups:
        described = ec2.describe_security_groups(GroupIds=[r["PhysicalResourceId"] for r in groups])
        vpc_of = {g["GroupId"]: g.get("VpcId") for g in described["SecurityGroups"]}
        found.security_groups += [
            Piece(r["PhysicalResourceId"], _origin(r), vpc_of.get(r["PhysicalResourceId"])) for r in groups
        ]


def _document(value: Any) -> dict[str, Any]:
    """A policy document as IAM returned it: parsed already, or its JSON text."""
    return json.loads(value) if isinstance(value, str) else (value or {})


def _add_roles(aws: AwsClients, found: Found, resources: list[dict[str, Any]]) -> None:
    iam = aws.client("iam")
    for resource in resources:
        if resource["ResourceType"] == "AWS::IAM::Role":
            role = iam.get_role(RoleName=resource["PhysicalResourceId"])["Role"]
            found.add_role(
                FoundRole(
                    role["Arn"],
                    role["RoleName"],
                    _document(role["AssumeRolePolicyDocument"]),
                    _origin(resource),
                )
            )
    for resource in resources:
        if resource["ResourceType"] != "AWS::IAM::InstanceProfile":
            continue
        profile = iam.get_instance_profile(InstanceProfileName=resource["PhysicalResourceId"])[
            "InstanceProfile"
        ]
        found.profiles.append(FoundProfile(tuple(r["RoleName"] for r in profile["Roles"]), _origin(resource)))
        for role in profile["Roles"]:  # a role made outside the stack
            origin = f"role of {_origin(resource)}"
            found.add_role(
                FoundRole(
                    role["Arn"], role["RoleName"], _document(role.get("AssumeRolePolicyDocument")), origin
                )
            )


def read_stack(aws: AwsClients, name_or_arn: str, region: str) -> Found:
    stack = describe(aws, name_or_arn, region)
    found = Found(source=f"stack {stack['StackName']}", stack_id=stack["StackId"])
    found.tagged_cloud_id = next((t["Value"] for t in stack.get("Tags", []) if t["Key"] == TAG_KEY), None)
    resources = _resources(aws, stack["StackId"])
    for resource in resources:
        kind = _PLAIN.get(resource["ResourceType"])
        if kind:
            getattr(found, kind).append(Piece(resource["PhysicalResourceId"], _origin(resource)))
    _add_network(aws, found, resources)
    _add_roles(aws, found, resources)
    return found
