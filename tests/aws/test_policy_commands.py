"""`cloud policy` and docs/iam-policies.md print exactly the documents the templates apply and verify checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudplane.aws import command_policies, policies
from cloudplane.aws.policy_docs import MANAGED_POLICY_LIMIT, policy_size, render
from tests.helpers import cloudplane

CLOUD_ID = "cld_abcdefghij0123456789"


def test_the_docs_page_is_the_code() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "iam-policies.md"
    assert page.read_text() == render(), (
        "docs/iam-policies.md is out of date: python -m cloudplane.aws.policy_docs > docs/iam-policies.md"
    )


def test_controlplane_policies_as_json_are_the_templates() -> None:
    run = cloudplane("cloud", "policy", "--role", "controlplane", "--output", "json")
    assert run.exit_code == 0, run.stderr
    assert run.json()["policies"] == policies.controlplane_inline_policies()


def test_a_cloud_id_scopes_instance_actions_to_the_clouds_tag() -> None:
    run = cloudplane("cloud", "policy", "--role", "controlplane", "--cloud-id", CLOUD_ID, "--output", "json")
    assert run.exit_code == 0, run.stderr
    steady = run.json()["policies"][policies.STEADY_STATE_POLICY_NAME]
    sids = [statement["Sid"] for statement in steady["Statement"]]
    assert "StartInstances" not in sids and "RestrictedInstanceStart" in sids
    assert CLOUD_ID in str(steady)


def test_text_output_names_each_policy_before_its_document() -> None:
    run = cloudplane("cloud", "policy", "--role", "controlplane")
    assert run.exit_code == 0
    headers = [line for line in run.stdout.splitlines() if line.startswith("# ")]
    assert headers == [f"# {name}" for name in policies.controlplane_inline_policies()]


def test_the_instance_policy_is_for_the_given_bucket() -> None:
    run = cloudplane(
        "cloud", "policy", "--role", "instance", "--bucket", "s3://team-data", "--output", "json"
    )
    assert run.exit_code == 0, run.stderr
    (document,) = run.json()["policies"].values()
    resources = [statement["Resource"] for statement in document["Statement"]]
    assert resources == ["arn:aws:s3:::team-data", "arn:aws:s3:::team-data/*"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--role", "instance"], "--bucket"),
        (["--role", "instance", "--bucket", "Not_A_Bucket"], "bucket name"),
        (["--role", "controlplane", "--cloud-id", "cld_short"], "cloud id"),
        (["--role", "controlplane", "--bucket", "b-1"], "--role instance"),
        (["--role", "instance", "--bucket", "b-1", "--cloud-id", CLOUD_ID], "--role controlplane"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    run = cloudplane("cloud", "policy", *args)
    assert run.exit_code == 2
    assert says in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_services_policy_builds_load_balancers_only_through_cloudformation() -> None:
    statements = {s["Sid"]: s for s in policies.service_steady_state_statements()}
    writes = statements["ManageLoadBalancers"]
    assert writes["Condition"] == {"StringEquals": {"aws:CalledViaFirst": "cloudformation.amazonaws.com"}}
    linked = statements["LoadBalancingServiceLinkedRolePolicies"]
    assert linked["Resource"] == policies.LOAD_BALANCING_SERVICE_LINKED_ROLE
    assert "iam:DeleteServiceLinkedRole" in linked["Action"]


# --- each command's own policy (`--for`) ---------------------------------------------------------------


@pytest.mark.parametrize("command", command_policies.COMMANDS)
def test_for_a_command_prints_its_policy_ready_for_iam(command: str) -> None:
    run = cloudplane("cloud", "policy", "--for", command)
    assert run.exit_code == 0, run.stderr
    parts = command_policies.command_policy_parts(command)
    if len(parts) == 1:
        assert json.loads(run.stdout) == command_policies.command_policy(command)
    else:  # one managed policy each, every part a document of its own after its name
        printed = run.stdout.split("# cloudplane-")[1:]
        assert [json.loads(text.split("\n", 1)[1]) for text in printed] == parts
    as_json = cloudplane("cloud", "policy", "--for", command, "--output", "json")
    assert as_json.json() == {
        "command": command,
        "policy": command_policies.command_policy(command),
        "parts": parts,
    }


def test_a_policy_too_long_for_one_managed_policy_is_split_into_parts_that_fit() -> None:
    """Parts hold the whole policy's statements, in order, no action lost or repeated."""
    for command in command_policies.COMMANDS:
        parts = command_policies.command_policy_parts(command)
        assert all(policy_size(part) <= MANAGED_POLICY_LIMIT for part in parts), command
        split = [a for part in parts for s in part["Statement"] for a in s["Action"]]
        assert split == [
            a for s in command_policies.command_policy(command)["Statement"] for a in s["Action"]
        ]
    assert len(command_policies.command_policy_parts("update")) == 2
    small = command_policies.command_policy_parts("verify", limit=600)
    assert len(small) > 2 and all(policy_size(part) <= 600 for part in small)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--for", "update-everything"], "no policy for 'update-everything'"),
        (["--for", "verify", "--role", "instance"], "either --role or --for"),
        (["--for", "verify", "--cloud-id", CLOUD_ID], "--for takes no other option"),
        ([], "--role controlplane|instance or --for"),
    ],
)
def test_bad_for_usage_is_one_line_and_exit_2(args: list[str], says: str) -> None:
    run = cloudplane("cloud", "policy", *args)
    assert run.exit_code == 2
    assert says in run.stderr and len(run.stderr.strip().splitlines()) == 1


def test_policies_are_least_by_construction() -> None:
    """No wildcard action, every statement named, no action twice on the same resources (the docs say which
    fit a user's inline policy, and which need more than one managed policy)."""
    for command in command_policies.COMMANDS:
        document = command_policies.command_policy(command)
        sids = [s["Sid"] for s in document["Statement"]]
        assert len(sids) == len(set(sids)) and all(sid.isalnum() for sid in sids)
        actions = [a for s in document["Statement"] for a in s["Action"]]
        assert not any("*" in a for a in actions), command
        assert len(actions) == len(set(actions)), command
        assert "sts:GetCallerIdentity" not in actions  # needs no permission on AWS


def test_setup_and_delete_hold_every_handler_action_of_the_template() -> None:
    """CloudFormation acts with the caller's permissions: what the template's types' handlers list is in the
    policies (create and, for a failed create's rollback, delete in setup's; delete in delete's)."""
    from cloudplane.aws.handler_permissions import handler_actions, managed_resource_types

    setup = set(command_policies.command_actions("setup"))
    delete = set(command_policies.command_actions("delete"))
    for resource_type in managed_resource_types():
        assert set(handler_actions(resource_type, "create")) <= setup, resource_type
        assert set(handler_actions(resource_type, "delete")) <= setup & delete, resource_type
    assert "AWS::EFS::FileSystem" in managed_resource_types()
    assert "AWS::MemoryDB::Cluster" in managed_resource_types()
