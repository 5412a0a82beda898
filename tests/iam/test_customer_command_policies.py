"""Least privilege, proven for the commands of customer-defined clouds: `cloud register`, `cloud edit`,
`cloud template`, `cloud verify` of a private network and `cloud delete` of a cloud whose role is gone. Each
runs as an IAM user holding exactly `cloud policy --for COMMAND` under the sandbox's IAM enforcement, succeeds,
and asks for every action of the policy that its path takes; without one action it fails (verify: reports
the check it could not run) naming that action, never with a traceback. The managed cloud's commands, and
verify's other reads, are proven in test_managed_command_policies.py.

One sandbox state for the module: a private customer-defined cloud (NAT gateways, EFS) built with direct API
calls and recorded in the control plane, and a customer's resources that `cloud register` takes in.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import command_policies
from cloudplane.client import ControlPlaneClient
from cloudplane.cloud import CUSTOMER_DEFINED
from cloudplane.clouds.added_trust import our_statement
from cloudplane.clouds.trust import ADDED_TRUST_OPTION
from cloudplane.sandbox.server import SandboxServer
from tests.byo.stacks import apply, print_template
from tests.e2e.test_customer_defined import customer_cloud, register_args, trust_of
from tests.iam.proof import (
    FREE,
    Proof,
    assert_one_line_naming,
    assert_reported_not_checked,
    run_holding,
    without,
)
from tests.verify.builders import ACCOUNT, REGION, BuiltCloud, _efs, build_cloud, record_in

Factory = Callable[..., Any]

# Actions of a policy that the runs here do not ask for, each on a path they do not take.
NOT_TAKEN = {
    "kms:GetKeyPolicy": "only for a bucket encrypted with a customer's KMS key (S3-6)",
    "s3:GetAccountPublicAccessBlock": "only when the bucket's own public access block leaves a flag open",
    "elasticfilesystem:DescribeMountTargetSecurityGroups": "only for a mount target whose interface EC2 hides",
    "ec2:DescribeRegions": "only for an opt-in region (these clouds are in us-west-2)",
    # These roles carry no managed policy; the managed cloud's roles do (test_managed_command_policies.py).
    "iam:GetPolicy": "only for a role with an attached managed policy",
    "iam:GetPolicyVersion": "only for a role with an attached managed policy",
}


def taken(command: str) -> set[str]:
    return set(command_policies.command_actions(command)) - set(NOT_TAKEN)


@pytest.fixture(scope="module")
def clouds(aws: Factory) -> dict[str, BuiltCloud]:
    """`private`: a customer-defined cloud with NAT gateways and EFS, recorded in the control plane."""
    private = build_cloud(aws, private=True, deployment=CUSTOMER_DEFINED, vpc_cidr="10.1.0.0/16")
    with ControlPlaneClient.from_env(announce=False) as client:
        record_in(client, private, "private")
    return {"private": private}


def verify(sandbox: SandboxServer, aws: Factory, policy: dict[str, Any], name: str) -> Proof:
    return run_holding(sandbox, aws, policy, "cloud", "verify", "--name", name)


# --- cloud verify of a private network ------------------------------------------------------------------


def test_verify_of_a_private_cloud_asks_for_the_private_networks_reads(
    sandbox: SandboxServer, aws: Factory, clouds: dict[str, BuiltCloud]
) -> None:
    """A private network's reads (NAT gateways, Elastic IPs) are asked for here; verify's others on the
    managed cloud. Everything asked for is in the policy and nothing is refused."""
    proof = verify(sandbox, aws, command_policies.command_policy("verify"), "private")
    assert proof.run.exit_code == 0, proof.output
    assert "Verdict: PASSED" in proof.run.stdout and proof.denied == set()
    assert set(command_policies.PRIVATE_NETWORK_READS) <= proof.allowed
    assert proof.allowed - FREE <= taken("verify")


@pytest.mark.parametrize("action", command_policies.PRIVATE_NETWORK_READS)
def test_verify_without_a_private_networks_read_reports_it_not_checked(
    sandbox: SandboxServer, aws: Factory, clouds: dict[str, BuiltCloud], action: str
) -> None:
    proof = verify(sandbox, aws, without(command_policies.command_policy("verify"), action), "private")
    assert proof.denied == {action}
    assert_reported_not_checked(proof.run, action)


# --- cloud edit --------------------------------------------------------------------------------------------


def _second_file_system(aws: Factory, built: BuiltCloud) -> str:
    fs_id, _ = _efs(aws("efs"), f"{built.cloud_id}-second", built.subnet_ids, built.sg_id, backup=True)
    return fs_id


@pytest.fixture(scope="module")
def new_file_system(aws: Factory, clouds: dict[str, BuiltCloud]) -> str:
    return _second_file_system(aws, clouds["private"])


# Edit's cloud is private and without MemoryDB: these reads of its policy (the verification's statements,
# the same for register) are asked for by register's run below, on a public network with MemoryDB.
NOT_TAKEN_BY_EDIT = {
    "ec2:DescribeInternetGateways",
    "memorydb:DescribeClusters",
    "memorydb:DescribeSubnetGroups",
    "memorydb:DescribeParameters",
}


def test_edit_holding_its_policy_succeeds_and_asks_for_every_action(
    sandbox: SandboxServer, aws: Factory, clouds: dict[str, BuiltCloud], new_file_system: str
) -> None:
    """Edit verifies the customer-defined cloud as it will be: the private cloud with another file system."""
    policy = command_policies.command_policy("edit")
    try:
        proof = run_holding(
            sandbox, aws, policy, "cloud", "edit", "private", "--aws-efs-id", new_file_system, "--yes"
        )
    finally:  # put back, for the tests after this one
        back = run_holding(
            sandbox,
            aws,
            policy,
            "cloud",
            "edit",
            "private",
            "--aws-efs-id",
            clouds["private"].fs_id or "",
            "--yes",
        )
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set()
    assert proof.allowed - FREE == taken("edit") - NOT_TAKEN_BY_EDIT
    assert back.run.exit_code == 0, back.output


def test_edit_without_the_mount_target_read_fails_naming_it(
    sandbox: SandboxServer, aws: Factory, clouds: dict[str, BuiltCloud], new_file_system: str
) -> None:
    """Edit's only call of its own: the new file system's mount targets. Its other actions are the
    verification's reads (the same statements as verify's, each proven in the verify tests); a refused one
    stops the edit with a line naming it, as the next test shows for one of them."""
    action = "elasticfilesystem:DescribeMountTargets"
    policy = without(command_policies.command_policy("edit"), action)
    proof = run_holding(
        sandbox, aws, policy, "cloud", "edit", "private", "--aws-efs-id", new_file_system, "--yes"
    )
    assert proof.denied == {action}
    assert_one_line_naming(proof.run, action)


def test_edit_without_a_verification_read_stops_naming_it(
    sandbox: SandboxServer, aws: Factory, clouds: dict[str, BuiltCloud], new_file_system: str
) -> None:
    action = "ec2:DescribeNatGateways"
    policy = without(command_policies.command_policy("edit"), action)
    proof = run_holding(
        sandbox, aws, policy, "cloud", "edit", "private", "--aws-efs-id", new_file_system, "--yes"
    )
    assert proof.denied == {action}, proof.output
    assert_one_line_naming(proof.run, action)
    assert "nothing was changed" in proof.run.stderr


# --- cloud register ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resources(aws: Factory, clouds: dict[str, BuiltCloud]) -> BuiltCloud:
    """A customer's own resources, with EFS and MemoryDB, whose role does not require an External ID yet."""
    return customer_cloud(aws, memorydb=True, vpc_cidr="10.2.0.0/16")


@pytest.mark.parametrize("action", ["iam:UpdateAssumeRolePolicy", "elasticfilesystem:DescribeMountTargets"])
def test_register_without_one_of_its_own_actions_fails_naming_it(
    sandbox: SandboxServer, aws: Factory, resources: BuiltCloud, action: str
) -> None:
    """Register's calls of its own: the mount targets' addresses, the trust policy's External ID. Its other
    actions are the verification's reads, proven on verify."""
    policy = without(command_policies.command_policy("register"), action)
    proof = run_holding(sandbox, aws, policy, *register_args(resources, "refused"), "--yes")
    assert proof.denied == {action}
    assert_one_line_naming(proof.run, action)


def test_register_holding_its_policy_succeeds_and_asks_for_every_action(
    sandbox: SandboxServer, aws: Factory, resources: BuiltCloud
) -> None:
    proof = run_holding(
        sandbox, aws, command_policies.command_policy("register"), *register_args(resources), "--yes"
    )
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set()
    # A public network: a private one's reads are not asked for here (they are by edit and verify above);
    # nor the source stack's, which --from-stack reads (below).
    assert proof.allowed - FREE == taken("register") - set(
        command_policies.PRIVATE_NETWORK_READS + command_policies.STACK_READS
    )
    assert proof.allowed >= NOT_TAKEN_BY_EDIT


@pytest.fixture(scope="module")
def source_stack(aws: Factory, resources: BuiltCloud) -> str:
    """A customer-defined cloud deployed from cloudplane's own template, to be adopted with --from-stack."""
    apply(aws, print_template("--name", "from-stack"), "source-stack")
    return "source-stack"


def test_register_from_a_stack_holding_its_policy_succeeds(
    sandbox: SandboxServer, aws: Factory, source_stack: str
) -> None:
    args = ("cloud", "register", "--from-stack", source_stack, "--name", "from-stack", "--yes")
    proof = run_holding(sandbox, aws, command_policies.command_policy("register"), *args)
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set()
    assert set(command_policies.STACK_READS) <= proof.allowed
    for action in command_policies.STACK_READS:
        refused = run_holding(
            sandbox, aws, without(command_policies.command_policy("register"), action), *args[:5], "again"
        )
        assert refused.denied == {action}, refused.output
        assert_one_line_naming(refused.run, action)


# --- cloud template ----------------------------------------------------------------------------------------


def template(sandbox: SandboxServer, aws: Factory, policy: dict[str, Any], *args: str) -> Proof:
    return run_holding(sandbox, aws, policy, "cloud", "template", "--customer-defined", *args)


PRIVATE_TEMPLATE = ("--name", "acme", "--region", REGION, "--private-network")


def test_template_holding_its_policy_asks_for_every_action(
    sandbox: SandboxServer, aws: Factory, clouds: dict[str, BuiltCloud]
) -> None:
    """A private network's template reads zones and quotas; re-applied to a cloud, the cloud's subnets."""
    policy = command_policies.command_policy("template")
    fresh = template(sandbox, aws, policy, *PRIVATE_TEMPLATE)
    with ControlPlaneClient.from_env(announce=False) as client:
        cloud_id = client.find_cloud(name="private")["id"]
    again = template(sandbox, aws, policy, "--cloud-id", cloud_id)
    for proof in (fresh, again):
        assert proof.run.exit_code == 0, proof.output
        assert json.loads(proof.run.stdout)["Resources"] and proof.denied == set()
        assert proof.run.stderr.strip() == "" or "warning" not in proof.run.stderr.lower(), proof.run.stderr
    assert (fresh.allowed | again.allowed) - FREE == taken("template")


@pytest.mark.parametrize("action", ["ec2:DescribeAvailabilityZones"])
def test_template_without_the_zones_fails_naming_it(
    sandbox: SandboxServer, aws: Factory, action: str
) -> None:
    proof = template(
        sandbox, aws, without(command_policies.command_policy("template"), action), *PRIVATE_TEMPLATE
    )
    assert proof.denied == {action}
    assert_one_line_naming(proof.run, action)


@pytest.mark.parametrize(
    "action", sorted(taken("template") - {"ec2:DescribeAvailabilityZones", "ec2:DescribeSubnets"})
)
def test_template_without_a_quota_read_warns_naming_it(
    sandbox: SandboxServer, aws: Factory, action: str
) -> None:
    """Room in the region is advice: a quota that cannot be read is a warning naming the permission, and the
    template is still printed."""
    proof = template(
        sandbox, aws, without(command_policies.command_policy("template"), action), *PRIVATE_TEMPLATE
    )
    assert proof.denied == {action}
    assert proof.run.exit_code == 0 and json.loads(proof.run.stdout)["Resources"]
    warnings = [line for line in proof.run.stderr.splitlines() if action in line]
    assert warnings and all("not checked" in line.lower() for line in warnings), proof.run.stderr
    assert "Traceback" not in proof.run.stderr


def test_template_for_a_cloud_without_its_subnets_fails_naming_it(
    sandbox: SandboxServer, aws: Factory, clouds: dict[str, BuiltCloud]
) -> None:
    action = "ec2:DescribeSubnets"
    with ControlPlaneClient.from_env(announce=False) as client:
        cloud_id = client.find_cloud(name="private")["id"]
    proof = template(
        sandbox, aws, without(command_policies.command_policy("template"), action), "--cloud-id", cloud_id
    )
    assert proof.denied == {action}
    assert_one_line_naming(proof.run, action)


# --- cloud delete of a customer-defined cloud whose role is gone ------------------------------------------


def test_delete_without_the_role_looks_with_the_callers_credentials_holding_its_policy(
    sandbox: SandboxServer, aws: Factory, resources: BuiltCloud
) -> None:
    """The registered cloud's role deleted: delete finds no instances through it and looks with the caller's
    credentials (ec2:DescribeInstances, tag:GetResources), which delete's policy allows; nothing else of the
    customer's is touched. (The stack and bucket actions are proven on a managed cloud.)"""
    iam = aws("iam")
    role = resources.cp_role.rsplit("/", 1)[-1]
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName=name)
    iam.delete_role(RoleName=role)
    proof = run_holding(
        sandbox, aws, command_policies.command_policy("delete"), "cloud", "delete", "--name", "acme", "--yes"
    )
    assert proof.run.exit_code == 0, proof.output
    assert "your own AWS credentials" in proof.run.stderr
    assert proof.allowed - FREE == {"sts:AssumeRole", "ec2:DescribeInstances", "tag:GetResources"}
    assert proof.denied == set()


# --- cloud delete of a customer-defined cloud registered with --add-trust ----------------------------------


def test_delete_removes_the_added_trust_statement_holding_its_policy(
    sandbox: SandboxServer, aws: Factory, clouds: dict[str, BuiltCloud]
) -> None:
    """The private cloud as `register --add-trust` leaves it: a statement of cloudplane's own in its role's
    trust, its Sid on the record. Without iam:UpdateAssumeRolePolicy the delete stops naming it; holding
    delete's policy it removes exactly that statement (iam:GetRole, iam:UpdateAssumeRolePolicy)."""
    role = clouds["private"].cp_role
    principal = f"arn:aws:iam::{ACCOUNT}:root"
    with ControlPlaneClient.from_env(announce=False) as client:
        cloud = client.find_cloud(name="private")
        statement = our_statement(cloud["id"], principal, cloud["external_id"])
        options = {ADDED_TRUST_OPTION: statement["Sid"], "controlplane_principal": principal}
        client.update_cloud(cloud["id"], options=options)
    before = trust_of(aws, role)
    aws("iam").update_assume_role_policy(
        RoleName=role.rsplit("/", 1)[-1],
        PolicyDocument=json.dumps({**before, "Statement": [*before["Statement"], statement]}),
    )
    delete = ("cloud", "delete", "--name", "private", "--yes")
    action = "iam:UpdateAssumeRolePolicy"
    refused = run_holding(sandbox, aws, without(command_policies.command_policy("delete"), action), *delete)
    assert refused.denied == {action}
    assert_one_line_naming(refused.run, action)

    proof = run_holding(sandbox, aws, command_policies.command_policy("delete"), *delete)
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set()
    assert {"iam:GetRole", action} <= proof.allowed
    assert trust_of(aws, role) == before
