"""`cloud update` through the real CLI against the sandbox: an older cloud brought up to date through a
change set, the customer's own statements kept, MemoryDB added, a failing update rolled back, refusals."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from cloudplane.aws import policies
from cloudplane.client import ControlPlaneClient
from cloudplane.cloud import CUSTOMER_DEFINED, PUBLIC
from tests.e2e.test_managed_lifecycle import setup_cloud
from tests.helpers import cloudplane
from tests.leftovers import tagged_resources

DRIFTS = "Customer_Drifts_Policy"
SERVICE = policies.SERVICE_STEADY_STATE_POLICY_NAME
STEADY = policies.STEADY_STATE_POLICY_NAME


def _cloud(name: str = "demo") -> dict[str, Any]:
    return cloudplane("cloud", "get", "--name", name, "--output", "json").json()


def _role(cloud: dict[str, Any]) -> str:
    return cloud["resources"]["controlplane_role_arn"].rsplit("/", 1)[-1]


def _stack(aws: Callable[..., Any], cloud: dict[str, Any]) -> dict[str, Any]:
    return aws("cloudformation").describe_stacks(StackName=cloud["resources"]["cloudformation_stack_id"])[
        "Stacks"
    ][0]


def _policy(aws: Callable[..., Any], role: str, name: str) -> dict[str, Any]:
    return aws("iam").get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]


def make_older(aws: Callable[..., Any], cloud: dict[str, Any]) -> None:
    """What an earlier cloudplane deployed: a services policy without the load balancer's service-linked
    role statement, and an instance role described differently."""
    cfn = aws("cloudformation")
    stack = _stack(aws, cloud)
    template = json.loads(json.dumps(cfn.get_template(StackName=stack["StackId"])["TemplateBody"]))
    role = template["Resources"]["ControlPlaneRole"]["Properties"]
    for entry in role["Policies"]:
        if entry["PolicyName"] == SERVICE:
            entry["PolicyDocument"]["Statement"] = [
                s
                for s in entry["PolicyDocument"]["Statement"]
                if s.get("Sid") != "LoadBalancingServiceLinkedRolePolicies"
            ]
    cfn.update_stack(
        StackName=stack["StackId"],
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": p["ParameterKey"], "UsePreviousValue": True} for p in stack["Parameters"]
        ],
        Capabilities=["CAPABILITY_NAMED_IAM"],
    )
    assert _stack(aws, cloud)["StackStatus"] == "UPDATE_COMPLETE"
    sids = [s.get("Sid") for s in _policy(aws, _role(cloud), SERVICE)["Statement"]]
    assert "LoadBalancingServiceLinkedRolePolicies" not in sids


def test_an_up_to_date_cloud_is_left_alone(aws: Callable[..., Any]) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage")
    before = _stack(aws, _cloud())

    run = cloudplane("cloud", "update", "demo", "--yes")

    assert run.exit_code == 0, run.stderr
    assert "Cloud demo is up to date" in run.stderr and "Nothing was changed" in run.stderr
    after = _stack(aws, _cloud())
    assert after["StackStatus"] == before["StackStatus"] == "CREATE_COMPLETE"
    assert aws("cloudformation").list_change_sets(StackName=after["StackId"])["Summaries"] == []


def test_an_older_cloud_is_updated_through_a_change_set_that_is_shown_and_confirmed(
    aws: Callable[..., Any],
) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage")
    cloud = _cloud()
    make_older(aws, cloud)

    # Without a terminal to ask and without --yes, nothing changes.
    refused = cloudplane("cloud", "update", "--name", "demo")
    assert refused.exit_code == 2
    assert "pass --yes" in refused.stderr
    assert "modify" in refused.stderr and "ControlPlaneRole" in refused.stderr
    stack = _stack(aws, cloud)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert aws("cloudformation").list_change_sets(StackName=stack["StackId"])["Summaries"] == []

    run = cloudplane("cloud", "update", "--id", cloud["id"], "--yes", "--output", "json")

    assert run.exit_code == 0, run.stderr
    result = run.json()
    assert result["status"] == "updated" and result["verification"]["passed"]
    changed = {(c["action"], c["logical_id"]) for c in result["stack_changes"]}
    assert ("Modify", "ControlPlaneRole") in changed
    assert _policy(aws, _role(cloud), SERVICE) == policies.controlplane_inline_policies()[SERVICE]
    assert _stack(aws, cloud)["StackStatus"] == "UPDATE_COMPLETE"
    assert "Cloud demo is up to date" in cloudplane("cloud", "update", "demo", "--yes").stderr


def test_statements_the_customer_added_are_kept_and_the_cloud_still_deletes(
    aws: Callable[..., Any],
) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage")
    cloud = _cloud()
    role, iam = _role(cloud), aws("iam")
    edited = _policy(aws, role, STEADY)
    statements = edited["Statement"]
    widened, narrowed = statements[0], statements[1]
    widened["Action"] = [*widened["Action"], "sns:Publish"]
    narrowed["Action"] = narrowed["Action"][:1]
    statements.append({"Sid": "MyQueue", "Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"})
    iam.put_role_policy(RoleName=role, PolicyName=STEADY, PolicyDocument=json.dumps(edited))

    run = cloudplane("cloud", "update", "demo", "--yes")

    assert run.exit_code == 0, run.stderr
    assert f"2 statement(s) you added to the managed policies of role {role}" in run.stderr
    assert f"statement {narrowed['Sid']} differs from what cloudplane wrote" in run.stderr
    kept = {s["Sid"]: s for s in _policy(aws, role, DRIFTS)["Statement"]}
    assert kept["MyQueueDrifted"]["Action"] == "sqs:SendMessage"
    assert "sns:Publish" in kept[f"{widened['Sid']}Drifted"]["Action"]
    assert _policy(aws, role, STEADY) == policies.controlplane_inline_policies()[STEADY]
    # Kept once: a second run finds nothing to do.
    assert "Cloud demo is up to date" in cloudplane("cloud", "update", "demo", "--yes").stderr
    assert len(_policy(aws, role, DRIFTS)["Statement"]) == 2

    deleted = cloudplane("cloud", "delete", "--name", "demo", "--yes", "--delete-bucket")
    assert deleted.exit_code == 0, deleted.stderr
    assert f"Removed the inline policy {DRIFTS} on role {role}" in deleted.stderr
    assert not any(tagged_resources(aws, cloud["id"]).values())


def test_head_node_fault_tolerance_adds_memorydb_to_an_existing_cloud(aws: Callable[..., Any]) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage")

    run = cloudplane(
        "cloud", "update", "demo", "--enable-head-node-fault-tolerance", "--yes", "--output", "json"
    )

    assert run.exit_code == 0, run.stderr
    result = run.json()
    added = {c["logical_id"] for c in result["stack_changes"] if c["action"] == "Add"}
    assert added == {"MemoryDbCluster", "MemoryDbSubnetGroup", "MemoryDbParameterGroup"}
    cloud = result["cloud"]
    name = cloud["resources"]["memorydb_cluster_id"]
    assert name and cloud["options"]["head_node_fault_tolerance"] is True
    assert aws("memorydb").describe_clusters(ClusterName=name)["Clusters"][0]["TLSEnabled"]
    checks = {f["check"] for f in result["verification"]["findings"]}
    assert any(check.startswith("MDB-") for check in checks)
    again = cloudplane("cloud", "update", "demo", "--enable-head-node-fault-tolerance", "--yes")
    assert "already has a MemoryDB cluster" in again.stderr and "is up to date" in again.stderr


def test_a_failing_update_rolls_back_and_names_the_resource_and_the_reason(
    aws: Callable[..., Any], aws_env: Any
) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage")
    aws_env.fail_next("AWS::MemoryDB::Cluster", "Cannot create cluster: node quota of the account reached")

    run = cloudplane("cloud", "update", "demo", "--enable-head-node-fault-tolerance", "--yes")

    assert run.exit_code == 1
    [line] = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert "MemoryDbCluster (AWS::MemoryDB::Cluster)" in line
    assert "node quota of the account reached" in line and "rolled the stack back" in line
    cloud = _cloud()
    assert _stack(aws, cloud)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert aws("memorydb").describe_clusters()["Clusters"] == []
    assert cloud["options"]["head_node_fault_tolerance"] is False
    assert cloud["resources"]["memorydb_cluster_id"] is None
    verified = cloudplane("cloud", "verify", "--name", "demo", "--output", "json")
    assert verified.exit_code == 0, verified.stdout
    [cfn1] = [f for f in verified.json()["findings"] if f["check"] == "CFN-1"]
    assert cfn1["passed"]


def test_a_customer_defined_cloud_is_refused_with_the_command_to_apply_by_hand(
    aws: Callable[..., Any],
) -> None:
    with ControlPlaneClient.embedded() as client:
        cloud = client.create_cloud("byo", "aws", "us-west-2", CUSTOMER_DEFINED, PUBLIC)

    run = cloudplane("cloud", "update", "byo", "--yes")

    assert run.exit_code == 2
    assert "customer-defined" in run.stderr
    assert f"cloudplane cloud policy --role controlplane --cloud-id {cloud['id']}" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ((), "say which cloud"),
        (("--id", "cld_nope"), "cloud id"),
        (("a", "--name", "b"), "two names given"),
        (("nosuch",), "nosuch"),
    ],
    ids=["no-cloud", "bad-id", "two-names", "unknown"],
)
def test_bad_input_is_one_line_and_a_usage_exit(args: tuple[str, ...], words: str, aws: Any) -> None:
    run = cloudplane("cloud", "update", *args, "--yes")
    assert run.exit_code == 2 if words != "nosuch" else run.exit_code != 0
    assert words in run.stderr and "Traceback" not in run.stderr
    assert len([line for line in run.stderr.splitlines() if line.strip()]) == 1


def test_a_stack_deleted_outside_cloudplane_is_said_in_one_line(aws: Callable[..., Any]) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage")
    stack_id = _cloud()["resources"]["cloudformation_stack_id"]
    aws("cloudformation").delete_stack(StackName=stack_id)
    assert _stack(aws, _cloud())["StackStatus"] == "DELETE_COMPLETE"

    run = cloudplane("cloud", "update", "demo", "--yes")

    assert run.exit_code == 1
    assert "no longer exists" in run.stderr and "cloudplane cloud delete --name demo" in run.stderr
    assert len([line for line in run.stderr.splitlines() if line.strip()]) == 1


def test_a_resource_deleted_outside_cloudformation_is_brought_back(aws: Callable[..., Any]) -> None:
    setup_cloud("demo", "--shared-storage", "object-storage", "--enable-head-node-fault-tolerance")
    name = _cloud()["resources"]["memorydb_cluster_id"]
    aws("memorydb").delete_cluster(ClusterName=name)
    assert cloudplane("cloud", "verify", "--name", "demo").exit_code == 1

    run = cloudplane("cloud", "update", "demo", "--yes")

    assert run.exit_code == 0, run.stderr + run.stdout
    assert "Deleted outside CloudFormation: MemoryDbCluster" in run.stderr
    assert "Verdict: PASSED" in run.stdout
    assert aws("memorydb").describe_clusters(ClusterName=name)["Clusters"][0]["Status"] == "available"
    assert _stack(aws, _cloud())["StackStatus"] == "UPDATE_COMPLETE"
