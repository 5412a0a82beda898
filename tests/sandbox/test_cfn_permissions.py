"""Under IAM enforcement, a stack's resources need their CloudFormation handlers' permissions from the
principal that made the stack request, and the sandbox records every permission it checked."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from cloudplane.aws.byo_template import CustomerDefinedOptions, customer_defined_template
from cloudplane.aws.template import ManagedCloudOptions, managed_cloud_template, stack_parameters
from cloudplane.clusters import load_balancer_template
from cloudplane.sandbox.cfn_permissions import handler_permissions
from cloudplane.sandbox.server import SandboxServer
from tests.enforcement import acting_as, checked_permissions, clear_checked_permissions, enforce_iam

from .templates import events, stack, subnet, template, vpc

REGION = "us-east-1"
ZONES = ("us-east-1a", "us-east-1c")  # zones where MemoryDB runs
VPC_ONLY = template({"Vpc": vpc("cld_perm")})
READ_STACKS = ["cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents"]


@contextmanager
def as_user(
    sandbox: SandboxServer, aws: Callable[..., Any], allow: Sequence[str], deny: Sequence[str] = ()
) -> Iterator[tuple[str, Any]]:
    """A new user allowed `allow`, with IAM enforced: (its ARN, its CloudFormation client)."""
    with acting_as(sandbox, aws, allow=allow, deny=deny) as arn:
        # A new session reads the user's keys that acting_as put in the environment.
        yield (
            arn,
            boto3.session.Session().client(
                "cloudformation", region_name=REGION, config=Config(retries={"max_attempts": 1})
            ),
        )


def failures(cfn: Any, name: str, status: str) -> dict[str, str]:
    return {
        e["LogicalResourceId"]: e.get("ResourceStatusReason", "")
        for e in events(cfn, name)
        if e["ResourceStatus"] == status and e["ResourceType"] != "AWS::CloudFormation::Stack"
    }


def test_a_caller_allowed_only_cloudformation_cannot_make_a_vpc(sandbox: SandboxServer, aws: Any) -> None:
    with as_user(sandbox, aws, allow=["cloudformation:*"]) as (arn, cfn):
        cfn.create_stack(StackName="net", TemplateBody=VPC_ONLY)
        status = stack(cfn, "net")["StackStatus"]
        failed = failures(cfn, "net", "CREATE_FAILED")

    assert status == "ROLLBACK_COMPLETE"
    assert failed["Vpc"].startswith(
        f'Resource handler returned message: "User: {arn} is not authorized to perform: ec2:CreateVpc '
        "because no identity-based policy allows the ec2:CreateVpc action (Service: Ec2, Status Code: 403"
    )
    assert failed["Vpc"].endswith('" (HandlerErrorCode: AccessDenied)')
    assert (
        aws("ec2", region_name=REGION).describe_vpcs(Filters=[{"Name": "is-default", "Values": ["false"]}])[
            "Vpcs"
        ]
        == []
    )


def test_the_handler_permissions_create_and_only_the_delete_permissions_delete(
    sandbox: SandboxServer, aws: Any
) -> None:
    allow = ["cloudformation:*", *handler_permissions("AWS::EC2::VPC", "create")]
    with as_user(sandbox, aws, allow=allow) as (arn, cfn):
        clear_checked_permissions(sandbox)
        cfn.create_stack(StackName="net", TemplateBody=VPC_ONLY)
        created = stack(cfn, "net")["StackStatus"]
        checks = checked_permissions(sandbox)
        cfn.delete_stack(StackName="net")
        deleted = stack(cfn, "net")
        delete_failed = failures(cfn, "net", "DELETE_FAILED")

    assert created == "CREATE_COMPLETE"
    # The request first, then every handler action, in order, all as the caller.
    handler = [(c["action"], c["allowed"]) for c in checks if c["source"] == "cloudformation:Vpc"]
    assert checks[0] == {
        "principal": arn,
        "action": "cloudformation:CreateStack",
        "allowed": True,
        "source": "request",
    }
    assert checks[1 : 1 + len(handler)] == [
        {"principal": arn, "action": action, "allowed": True, "source": "cloudformation:Vpc"}
        for action in handler_permissions("AWS::EC2::VPC", "create")
    ]
    assert handler[0] == ("ec2:CreateVpc", True)
    assert deleted["StackStatus"] == "DELETE_FAILED"
    assert "is not authorized to perform: ec2:DeleteVpc" in delete_failed["Vpc"]
    assert "is not authorized to perform: ec2:DeleteVpc" in deleted["StackStatusReason"]
    assert aws("ec2", region_name=REGION).describe_vpcs(
        Filters=[{"Name": "is-default", "Values": ["false"]}]
    )["Vpcs"]


def test_a_stack_with_a_service_role_acts_with_the_roles_permissions(
    sandbox: SandboxServer, aws: Any, client: Any
) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudformation.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam = client("iam")
    role = iam.create_role(RoleName="stacks", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    network = {
        "Effect": "Allow",
        "Action": list(handler_permissions("AWS::EC2::VPC", "create")),
        "Resource": "*",
    }
    iam.put_role_policy(
        RoleName="stacks",
        PolicyName="network",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [network]}),
    )
    with as_user(sandbox, aws, allow=["cloudformation:*"]) as (_, cfn):
        cfn.create_stack(StackName="net", TemplateBody=VPC_ONLY, RoleARN=role["Arn"])
        status = stack(cfn, "net")["StackStatus"]
        principals = {
            c["principal"] for c in checked_permissions(sandbox) if c["source"] == "cloudformation:Vpc"
        }

    assert status == "CREATE_COMPLETE"
    assert principals == {role["Arn"]}


def test_a_rollback_needs_the_delete_permissions(sandbox: SandboxServer, aws: Any) -> None:
    body = template({"Vpc": vpc("cld_perm"), "Subnet": subnet("cld_perm", "10.99.0.0/24", ZONES[0])})
    allow = [
        "cloudformation:*",
        *handler_permissions("AWS::EC2::VPC", "create"),
        *handler_permissions("AWS::EC2::Subnet", "create"),
    ]
    with as_user(sandbox, aws, allow=allow) as (_, cfn):
        cfn.create_stack(StackName="net", TemplateBody=body)  # the subnet lies outside the VPC
        status = stack(cfn, "net")
        delete_failed = failures(cfn, "net", "DELETE_FAILED")

    assert status["StackStatus"] == "ROLLBACK_FAILED"
    assert "is not authorized to perform: ec2:DeleteVpc" in delete_failed["Vpc"]


def _role_stack(policies: list[dict[str, Any]]) -> str:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    return json.dumps(
        {
            "Resources": {
                "Role": {
                    "Type": "AWS::IAM::Role",
                    "Properties": {"AssumeRolePolicyDocument": trust, "Policies": policies},
                }
            }
        }
    )


def test_an_update_needing_put_role_policy_fails_without_it(
    sandbox: SandboxServer, aws: Any, client: Any
) -> None:
    inline = {
        "PolicyName": "read",
        "PolicyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        },
    }
    client("cloudformation").create_stack(StackName="roles", TemplateBody=_role_stack([]))
    allow = [
        "cloudformation:*",
        *(a for a in handler_permissions("AWS::IAM::Role", "update") if a != "iam:PutRolePolicy"),
    ]
    with as_user(sandbox, aws, allow=allow) as (arn, cfn):
        try:
            cfn.update_stack(StackName="roles", TemplateBody=_role_stack([inline]))
        except ClientError as error:  # where the sandbox does not roll updates back, the request fails
            assert error.response["Error"]["Code"] == "AccessDenied"
        update_failed = failures(cfn, "roles", "UPDATE_FAILED")

    assert update_failed["Role"].startswith(
        f'Resource handler returned message: "User: {arn} is not authorized to perform: iam:PutRolePolicy '
    )
    assert update_failed["Role"].endswith("(HandlerErrorCode: AccessDenied)")
    assert client("iam").list_role_policies(RoleName=_role_name(client))["PolicyNames"] == []


def _role_name(client: Any) -> str:
    resources = client("cloudformation").describe_stack_resources(StackName="roles")["StackResources"]
    return str(resources[0]["PhysicalResourceId"])


def test_without_enforcement_nothing_is_checked(sandbox: SandboxServer, aws: Any) -> None:
    with as_user(sandbox, aws, allow=["cloudformation:*"]) as (_, cfn):
        enforce_iam(sandbox, False)
        stack_id = cfn.create_stack(StackName="net", TemplateBody=VPC_ONLY)["StackId"]
        cfn.delete_stack(StackName=stack_id)
        vpc_events = [e["ResourceStatus"] for e in events(cfn, stack_id) if e["LogicalResourceId"] == "Vpc"]

    assert vpc_events == ["CREATE_IN_PROGRESS", "CREATE_COMPLETE", "DELETE_IN_PROGRESS", "DELETE_COMPLETE"]
    assert checked_permissions(sandbox) == []


def test_get_caller_identity_needs_no_permission_and_the_record_clears(
    sandbox: SandboxServer, aws: Any
) -> None:
    with acting_as(sandbox, aws, allow=["s3:ListAllMyBuckets"], deny=["sts:GetCallerIdentity"]) as arn:
        sts = boto3.session.Session().client("sts", region_name=REGION)
        identity = sts.get_caller_identity()
        with pytest.raises(ClientError):
            sts.get_session_token()

    assert identity["Arn"] == arn
    assert [(c["action"], c["allowed"]) for c in checked_permissions(sandbox)] == [
        ("sts:GetSessionToken", False)
    ]
    sandbox.reset()
    assert checked_permissions(sandbox) == []


def test_the_managed_template_needs_exactly_the_handler_permissions(sandbox: SandboxServer, aws: Any) -> None:
    """The union of the create (then delete) permissions of its types is enough: the table covers it."""
    options = ManagedCloudOptions(
        "cld_permissions0000000001",
        "cld_permissions0000000001-secret",
        "arn:aws:iam::123456789012:root",
        ZONES,
        shared_storage="nfs",
        head_node_fault_tolerance=True,
    )
    document = managed_cloud_template(options)
    types = sorted({r["Type"] for r in document["Resources"].values()})

    def needed(operation: str) -> list[str]:
        return sorted({a for t in types for a in handler_permissions(t, operation)})

    assert {"AWS::EFS::FileSystem", "AWS::MemoryDB::Cluster", "AWS::IAM::Role"} <= set(types)
    assert all(handler_permissions(t, "create") and handler_permissions(t, "delete") for t in types)
    with as_user(sandbox, aws, allow=["cloudformation:CreateStack", *READ_STACKS, *needed("create")]) as (
        _,
        cfn,
    ):
        stack_id = cfn.create_stack(
            StackName="cloud",
            TemplateBody=json.dumps(document),
            Parameters=stack_parameters(options),
            Capabilities=["CAPABILITY_NAMED_IAM"],
        )["StackId"]
        created = stack(cfn, stack_id)["StackStatus"], failures(cfn, stack_id, "CREATE_FAILED")
    with as_user(sandbox, aws, allow=["cloudformation:DeleteStack", *READ_STACKS, *needed("delete")]) as (
        _,
        cfn,
    ):
        cfn.delete_stack(StackName=stack_id)
        deleted = stack(cfn, stack_id)["StackStatus"], failures(cfn, stack_id, "DELETE_FAILED")

    assert created == ("CREATE_COMPLETE", {})
    assert deleted == ("DELETE_COMPLETE", {})


def test_every_type_of_cloudplanes_templates_has_its_handler_permissions() -> None:
    documents = [
        managed_cloud_template(
            ManagedCloudOptions(
                "cld_x", "cld_x-secret", "arn:aws:iam::123456789012:root", ZONES, storage, hft
            )
        )
        for storage in ("nfs", "object-storage")
        for hft in (False, True)
    ]
    documents += [
        customer_defined_template(
            CustomerDefinedOptions(
                "cloudplane-byo-" + "a" * 32,
                "arn:aws:iam::123456789012:root",
                REGION,
                ("use1-az6", "use1-az2"),
                private_network=private,
                efs=True,
                head_node_fault_tolerance=True,
            )
        )
        for private in (False, True)
    ]
    documents.append(
        load_balancer_template.template(
            description="service",
            internal=False,
            subnet_ids=["subnet-1"],
            security_group_ids=["sg-1"],
            vpc_id="vpc-1",
            instance_id="i-1",
            port=8000,
            certificate_arn="arn:aws:acm:::certificate/x",
        )  # fmt: skip
    )
    types = {r["Type"] for document in documents for r in document["Resources"].values()}

    assert {"AWS::EC2::NatGateway", "AWS::EC2::EIP", "AWS::ElasticLoadBalancingV2::Listener"} <= types
    assert [t for t in sorted(types) if not handler_permissions(t, "create")] == []
    assert [t for t in sorted(types) if not handler_permissions(t, "delete")] == []
