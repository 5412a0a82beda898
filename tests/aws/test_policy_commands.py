"""`cloud policy` and docs/iam-policies.md print exactly the documents the templates apply and verify checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from cloudplane.aws import policies
from cloudplane.aws.policy_docs import render
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
