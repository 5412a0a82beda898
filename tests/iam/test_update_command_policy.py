"""Least privilege, proven for `cloud update`: an IAM user holding exactly `cloud policy --for update` brings an
older managed cloud up to date (the role's policies through a change set, the user's own statements kept)
and adds MemoryDB to it under the sandbox's IAM enforcement; without one of the calls update makes itself it
fails naming it; a handler action refused fails the update, which CloudFormation rolls back.

Not every action of the policy is asked for here: CloudFormation's update, create and delete handlers of every
resource type of a managed cloud are in it because a later cloudplane's template may change any of them (or
bring back one deleted outside the stack), while these runs change the cross-account role and add MemoryDB.
What the runs do ask for must all be in the policy, and the refusals show each call of update's own is needed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import command_policies, policies
from cloudplane.sandbox.server import SandboxServer
from tests.e2e.test_cloud_update import make_older
from tests.helpers import cloudplane
from tests.iam.proof import FREE, assert_one_line_naming, run_holding, without
from tests.verify.builders import REGION

Factory = Callable[..., Any]
UPDATE = ("cloud", "update", "demo", "--yes")
SERVICE = policies.SERVICE_STEADY_STATE_POLICY_NAME


@pytest.fixture(scope="module")
def cloud(aws: Factory) -> dict[str, Any]:
    """A managed cloud as an earlier cloudplane left it (a services policy without the load balancer's
    service-linked role statement), with a statement its owner added to the steady-state policy."""
    setup = cloudplane(
        "cloud", "setup", "--name", "demo", "--region", REGION, "--shared-storage", "object-storage", "--yes"
    )
    assert setup.exit_code == 0, setup.stderr
    record = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    make_older(aws, record)
    iam = aws("iam")
    role = record["resources"]["controlplane_role_arn"].rsplit("/", 1)[-1]
    steady = iam.get_role_policy(RoleName=role, PolicyName=policies.STEADY_STATE_POLICY_NAME)[
        "PolicyDocument"
    ]
    steady["Statement"].append(
        {"Sid": "Mine", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    )
    iam.put_role_policy(
        RoleName=role, PolicyName=policies.STEADY_STATE_POLICY_NAME, PolicyDocument=json.dumps(steady)
    )
    return record


def _policy() -> dict[str, Any]:
    return command_policies.command_policy("update")


# update's own calls, in the order it makes them; each refused leaves the cloud as it was (a change set made
# is removed again), so the next run starts from the same older cloud.
OWN_CALLS = [
    "cloudformation:DescribeStacks",
    "cloudformation:GetTemplate",
    "iam:ListRolePolicies",
    "iam:GetRolePolicy",
    "cloudformation:ListStackResources",
    "cloudformation:CreateChangeSet",
    "cloudformation:DescribeChangeSet",
    "iam:PutRolePolicy",
    "cloudformation:ExecuteChangeSet",
]


@pytest.mark.parametrize("action", OWN_CALLS)
def test_update_refused_a_call_of_its_own_fails_naming_it(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any], action: str
) -> None:
    proof = run_holding(sandbox, aws, without(_policy(), action), *UPDATE)
    assert action in proof.denied
    assert_one_line_naming(proof.run, action)
    stack = aws("cloudformation").describe_stacks(StackName=cloud["resources"]["cloudformation_stack_id"])
    assert stack["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"  # as the older cloud was left
    assert aws("cloudformation").list_change_sets(StackName=stack["Stacks"][0]["StackId"])["Summaries"] == []


def test_holding_its_policy_update_brings_the_cloud_up_to_date(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any]
) -> None:
    proof = run_holding(sandbox, aws, _policy(), *UPDATE)
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set()
    asked = proof.allowed - FREE
    assert asked <= set(command_policies.command_actions("update"))
    assert {*OWN_CALLS, "cloudformation:DescribeStackEvents"} <= asked
    role = cloud["resources"]["controlplane_role_arn"].rsplit("/", 1)[-1]
    kept = aws("iam").get_role_policy(RoleName=role, PolicyName="Customer_Drifts_Policy")["PolicyDocument"]
    assert [s["Sid"] for s in kept["Statement"]] == ["MineDrifted"]
    assert (
        aws("iam").get_role_policy(RoleName=role, PolicyName=SERVICE)["PolicyDocument"]
        == (policies.controlplane_inline_policies()[SERVICE])
    )


def test_a_refused_handler_action_fails_the_update_which_rolls_back_then_memorydb_is_added(
    sandbox: SandboxServer, aws: Factory, cloud: dict[str, Any]
) -> None:
    """Adding MemoryDB: without memorydb:CreateCluster the cluster fails, CloudFormation removes the subnet
    and parameter groups it had made (with the user's delete permissions) and update names the permission.
    Holding the whole policy, the same command then adds MemoryDB."""
    flags = (*UPDATE, "--enable-head-node-fault-tolerance")
    refused = run_holding(sandbox, aws, without(_policy(), "memorydb:CreateCluster"), *flags)
    assert refused.denied == {"memorydb:CreateCluster"}
    assert_one_line_naming(refused.run, "memorydb:CreateCluster")
    assert "rolled the stack back" in refused.run.stderr
    groups = aws("memorydb").describe_subnet_groups()["SubnetGroups"]
    assert [g["Name"] for g in groups if g["Name"] != "default"] == []  # the update's own are gone

    proof = run_holding(sandbox, aws, _policy(), *flags)
    assert proof.run.exit_code == 0, proof.output
    assert proof.denied == set()
    assert "ec2:DescribeAvailabilityZones" in proof.allowed
    assert (proof.allowed - FREE) <= set(command_policies.command_actions("update"))
    record = cloudplane("cloud", "get", "--name", "demo", "--output", "json").json()
    assert record["resources"]["memorydb_cluster_id"]
