"""Least privilege, proven for the commands of a managed cloud: `cloud setup`, `cloud verify` and `cloud delete`
each run as an IAM user holding exactly `cloud policy --for COMMAND` under the sandbox's IAM enforcement,
CloudFormation's resource handlers included (they act with the caller's permissions, as on AWS). Each
succeeds and asks for every action of its policy; without one action it fails (verify: reports the checks it
could not run) naming that action, never with a traceback.

The module's runs share one sandbox state, in order: the setups (one that succeeds, with EFS and MemoryDB,
and one per resource type that is refused), then verify on that cloud, then its deletes. Setup's and delete's
sets of asked actions are gathered over their runs, since a failed create's rollback is what asks for the
delete handlers' actions during setup.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import command_policies
from cloudplane.aws.handler_permissions import handler_actions, managed_resource_types
from cloudplane.sandbox.server import SandboxServer
from tests.helpers import cloudplane
from tests.iam.proof import (
    FREE,
    Proof,
    assert_one_line_naming,
    assert_reported_not_checked,
    run_holding,
    without,
)
from tests.verify.builders import REGION

Factory = Callable[..., Any]
SETUP = ("cloud", "setup", "--region", REGION, "--enable-head-node-fault-tolerance", "--yes")
# A refused setup builds only what its resource type needs, to stay quick.
LEAN_SETUP = ("cloud", "setup", "--region", REGION, "--shared-storage", "object-storage", "--yes")

# Actions of a policy that no run here asks for, each on a path these runs do not take.
NOT_TAKEN = {
    "setup": {
        "ec2:DescribeRegions": "only for an opt-in region (these clouds are in us-west-2)",
        "memorydb:DeleteCluster": "the cluster is the template's last resource, so no refused create here rolls "
        "it back; the delete runs below prove its handler asks for it",
    },
    "verify": {
        "kms:GetKeyPolicy": "only for a bucket encrypted with a customer's KMS key",
        **{
            action: "only for a resource changed by hand since the template made it"
            for action in command_policies.AFTER_CHANGES
        },
        **{
            action: "private networks: proven in test_customer_command_policies.py"
            for action in command_policies.PRIVATE_NETWORK_READS
        },
    },
    "delete": {
        "s3:ListBucket": "only without --delete-bucket, to say whether the kept bucket is still there (the "
        "bucket's own delete handler never runs: the stack keeps it, DeletionPolicy Retain)",
        "acm:DeleteCertificate": "only for a service's certificate left behind when the role cannot be used",
        "iam:UpdateAssumeRolePolicy": "only for a customer-defined cloud registered with --add-trust: proven "
        "in test_customer_command_policies.py",
    },
}
# Per resource type of the managed template, the action its create handler calls first.
FIRST_CREATE_ACTION = {
    "AWS::EC2::InternetGateway": "ec2:CreateInternetGateway",
    "AWS::EC2::Route": "ec2:CreateRoute",
    "AWS::EC2::RouteTable": "ec2:CreateRouteTable",
    "AWS::EC2::SecurityGroup": "ec2:CreateSecurityGroup",
    # The group's own create authorizes its rules too, so refusing these fails it (same as the group's).
    "AWS::EC2::SecurityGroupEgress": "ec2:AuthorizeSecurityGroupEgress",
    "AWS::EC2::SecurityGroupIngress": "ec2:AuthorizeSecurityGroupIngress",
    "AWS::EC2::Subnet": "ec2:CreateSubnet",
    "AWS::EC2::SubnetRouteTableAssociation": "ec2:AssociateRouteTable",
    "AWS::EC2::VPC": "ec2:CreateVpc",
    "AWS::EC2::VPCEndpoint": "ec2:CreateVpcEndpoint",
    "AWS::EC2::VPCGatewayAttachment": "ec2:AttachInternetGateway",
    "AWS::EFS::FileSystem": "elasticfilesystem:CreateFileSystem",
    "AWS::EFS::MountTarget": "elasticfilesystem:CreateMountTarget",
    "AWS::IAM::InstanceProfile": "iam:CreateInstanceProfile",
    "AWS::IAM::Role": "iam:CreateRole",
    "AWS::MemoryDB::Cluster": "memorydb:CreateCluster",
    "AWS::MemoryDB::ParameterGroup": "memorydb:CreateParameterGroup",
    "AWS::MemoryDB::SubnetGroup": "memorydb:CreateSubnetGroup",
    "AWS::S3::Bucket": "s3:CreateBucket",
    "AWS::S3::BucketPolicy": "s3:PutBucketPolicy",
}


def taken(command: str) -> set[str]:
    return set(command_policies.command_actions(command)) - set(NOT_TAKEN[command])


# Every action the setup runs were allowed, over the module (the success, and the refusals' rollbacks).
_setup_asked: set[str] = set()
_delete_asked: set[str] = set()


def holding(sandbox: SandboxServer, aws: Factory, command: str, policy: dict[str, Any], *args: str) -> Proof:
    proof = run_holding(sandbox, aws, policy, *args)
    {"setup": _setup_asked, "delete": _delete_asked}[command].update(proof.allowed - FREE)
    return proof


# --- cloud setup ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cloud(sandbox: SandboxServer, aws: Factory) -> dict[str, Any]:
    """The managed cloud `demo`, set up by a user holding exactly setup's policy."""
    proof = holding(sandbox, aws, "setup", command_policies.command_policy("setup"), *SETUP, "--name", "demo")
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set() and "Verdict: PASSED" in proof.run.stdout
    return cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()


def test_the_template_types_are_the_ones_proven_here() -> None:
    assert set(FIRST_CREATE_ACTION) == set(managed_resource_types())
    for resource_type, action in FIRST_CREATE_ACTION.items():
        assert action in handler_actions(resource_type, "create")


# SecurityGroupIngress / Egress: their first actions are the SecurityGroup's too, which fails first.
REFUSED_TYPES = sorted(
    set(FIRST_CREATE_ACTION) - {"AWS::EC2::SecurityGroupEgress", "AWS::EC2::SecurityGroupIngress"}
)


def _setup_for(resource_type: str) -> tuple[str, ...]:
    if resource_type.startswith("AWS::MemoryDB::"):
        return SETUP
    if resource_type.startswith("AWS::EFS::"):
        return ("cloud", "setup", "--region", REGION, "--yes")
    return LEAN_SETUP


@pytest.mark.parametrize("resource_type", REFUSED_TYPES)
def test_setup_refused_one_handler_action_fails_naming_it(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any], resource_type: str
) -> None:
    """One run per resource type: its handler's first action taken away fails that resource, the stack rolls
    back (with the delete handlers' actions, also setup's) and setup says which permission was missing. The
    other actions of each handler are proven asked for by the audit (test_setup_asks_for_every_action)."""
    action = FIRST_CREATE_ACTION[resource_type]
    name = "refused-" + resource_type.split("::")[-1].lower()
    proof = holding(
        sandbox,
        aws,
        "setup",
        without(command_policies.command_policy("setup"), action),
        *SETUP,
        "--name",
        name,
    )
    assert proof.denied == {action}
    assert_one_line_naming(proof.run, action)
    assert "Nothing is left in AWS" in proof.run.stderr


def test_setup_refused_a_call_of_its_own_fails_naming_it(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any]
) -> None:
    action = "cloudformation:CreateStack"
    proof = holding(
        sandbox,
        aws,
        "setup",
        without(command_policies.command_policy("setup"), action),
        *SETUP,
        "--name",
        "nostack",
    )
    assert proof.denied == {action}
    assert_one_line_naming(proof.run, action)


def test_setup_asks_for_every_action(cloud: dict[str, Any]) -> None:
    """Over the module's setups: the one that succeeded and those refused one action (whose rollbacks and
    clean-up of the kept bucket ask for the rest)."""
    assert _setup_asked == taken("setup")


# --- cloud verify on the managed cloud ---------------------------------------------------------------------


def verify(sandbox: SandboxServer, aws: Factory, policy: dict[str, Any]) -> Proof:
    return run_holding(sandbox, aws, policy, "cloud", "verify", "--name", "demo")


def test_verify_holding_its_policy_passes_and_asks_for_every_action(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any]
) -> None:
    """Everything but a private network's reads (proven on a customer-defined cloud in
    test_customer_command_policies.py) and the reads of hand-made changes (`AFTER_CHANGES`, and a customer's
    KMS key)."""
    proof = verify(sandbox, aws, command_policies.command_policy("verify"))
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set()
    assert proof.allowed - FREE == taken("verify")


# Refusals that are a rule's verdict rather than a check left undone: a role the caller may not assume is
# access the control plane may not have either (IAM-11), and a bucket whose region cannot be read may belong
# to another account (S3-1). The failed rule names the action.
RULES_OF_THEIR_OWN = {"sts:AssumeRole": "IAM-11", "s3:GetBucketLocation": "S3-1"}


# Reads whose refusal hides another's: a check stops at the first read refused, and some checks of one
# group read another group's data (the roles' checks read the bucket's region and policy; the mount targets'
# groups are read from their network interfaces). Such pairs never share a batch.
MASKING = [
    ({"s3:GetBucketLocation", "s3:GetBucketPolicy"}, {"iam:"}),
    (
        {"elasticfilesystem:DescribeMountTargets", "elasticfilesystem:DescribeFileSystems"},
        {"ec2:DescribeNetworkInterfaces"},
    ),
    ({"cloudformation:DescribeStacks"}, {"cloudformation:ListStackResources"}),
]


def _masks(one: str, other: str) -> bool:
    def matches(action: str, names: set[str]) -> bool:
        return any(action == n or (n.endswith(":") and action.startswith(n)) for n in names)

    return any(
        (matches(one, a) and matches(other, b)) or (matches(one, b) and matches(other, a)) for a, b in MASKING
    )


def _batches() -> list[list[str]]:
    """verify's reads in as few runs as their checks allow: at most one action per service in a run (a check
    reads one service), and no pair of which one could hide the other. Each refusal is then reported as if it
    were the only one, which the test asserts for every action of the batch."""
    batches: list[list[str]] = []
    for action in sorted(taken("verify") - set(RULES_OF_THEIR_OWN)):
        service = action.split(":")[0]
        for batch in batches:
            if all(a.split(":")[0] != service and not _masks(a, action) for a in batch):
                batch.append(action)
                break
        else:
            batches.append([action])
    return batches


@pytest.mark.parametrize("actions", _batches(), ids=lambda actions: "+".join(actions))
def test_verify_without_a_read_reports_it_not_checked(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any], actions: list[str]
) -> None:
    policy = command_policies.command_policy("verify")
    for action in actions:
        policy = without(policy, action)
    proof = verify(sandbox, aws, policy)
    assert proof.denied == set(actions)
    for action in actions:
        assert_reported_not_checked(proof.run, action)


@pytest.mark.parametrize("action", sorted(RULES_OF_THEIR_OWN))
def test_verify_without_an_action_that_is_a_rule_fails_the_rule_naming_it(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any], action: str
) -> None:
    proof = verify(sandbox, aws, without(command_policies.command_policy("verify"), action))
    assert proof.run.exit_code == 1 and proof.denied == {action}
    rule = RULES_OF_THEIR_OWN[action]
    failed = [line for line in proof.run.stdout.splitlines() if f"[error] {rule}" in line]
    assert len(failed) == 1, proof.run.stdout
    fix = proof.run.stdout.split(failed[0], 1)[1].splitlines()[1]  # the finding's "fix:" line
    assert action in failed[0] or (fix.strip().startswith("fix:") and action in fix), proof.run.stdout


# --- cloud delete -----------------------------------------------------------------------------------------

DELETE = ("cloud", "delete", "--name", "demo", "--delete-bucket", "--yes")


@pytest.fixture(scope="module")
def outside_additions(aws: Factory, cloud: dict[str, Any]) -> None:
    """What the delete must remove besides the stack: a policy put on the instance role and one attached
    to it outside the stack, and an object in the bucket (--delete-bucket)."""
    role = cloud["resources"]["instance_role_arn"].rsplit("/", 1)[-1]
    iam = aws("iam")
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}],
    }
    iam.put_role_policy(RoleName=role, PolicyName="added-by-hand", PolicyDocument=json.dumps(document))
    arn = iam.create_policy(PolicyName="attached-by-hand", PolicyDocument=json.dumps(document))["Policy"][
        "Arn"
    ]
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    aws("s3").put_object(Bucket=cloud["resources"]["s3_bucket_id"], Key="logs/run.txt", Body=b"data")


@pytest.mark.parametrize(
    "action",
    [
        "cloudformation:DescribeStacks",
        "cloudformation:ListStackResources",
        "cloudformation:GetTemplate",
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:DetachRolePolicy",
        "cloudformation:DeleteStack",
    ],
)
def test_delete_refused_a_call_of_its_own_fails_naming_it(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any], outside_additions: None, action: str
) -> None:
    """Each of these is called before the stack's delete starts, so the cloud stays whole for the next run.
    (iam:DeleteRolePolicy, the stack events, the bucket's actions and the handlers' are proven asked for
    by the audit; the next test shows a refused handler action.)"""
    proof = holding(
        sandbox, aws, "delete", without(command_policies.command_policy("delete"), action), *DELETE
    )
    assert proof.denied == {action}
    assert_one_line_naming(proof.run, action)


def test_delete_refused_a_handler_action_or_a_version_fails_naming_it_and_holding_the_policy_finishes(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any], outside_additions: None
) -> None:
    """CloudFormation deletes with the caller's permissions: the VPC's delete refused leaves the stack
    DELETE_FAILED, named. Then, the stack gone, emptying the bucket without s3:DeleteObjectVersion names it.
    The same command holding the whole policy then finishes, bucket and all. (The cloud's role went with the
    stack: these runs look for its instances with the caller's credentials, as they must.)"""
    for action in ("ec2:DeleteVpc", "s3:DeleteObjectVersion"):
        refused = holding(
            sandbox, aws, "delete", without(command_policies.command_policy("delete"), action), *DELETE
        )
        assert refused.denied == {action}
        assert_one_line_naming(refused.run, action)

    proof = holding(sandbox, aws, "delete", command_policies.command_policy("delete"), *DELETE)
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set()
    assert _delete_asked == taken("delete")
    assert cloud["resources"]["s3_bucket_id"] not in {b["Name"] for b in aws("s3").list_buckets()["Buckets"]}
