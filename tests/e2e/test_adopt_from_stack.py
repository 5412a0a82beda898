"""`cloud register --from-stack`: stacks that cloudplane, the peer and a person made, adopted through the real CLI.

One sandbox state for the module: the stacks are made once, and the tests run in file order (the last one
deletes the adopted cloud).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudplane.aws import policies
from cloudplane.sandbox.server import SandboxServer
from tests.byo.stacks import apply, outputs, print_template, wait
from tests.e2e.adopting import cloud_names, equivalent_flags, parse_flags
from tests.helpers import Run, cloudplane
from tests.iam import conftest as iam_fixtures

Factory = Callable[..., Any]
aws = iam_fixtures.aws  # boto3 clients on one sandbox state for the whole module
ACCOUNT = "123456789012"
PEER_ACCOUNT = "525325868955"
FOREIGN = Path(__file__).parents[1] / "sandbox" / "foreign_templates"


def physical_ids(aws: Factory, stack: str) -> dict[str, tuple[str, str]]:
    resources = aws("cloudformation").describe_stack_resources(StackName=stack)["StackResources"]
    return {r["LogicalResourceId"]: (r["PhysicalResourceId"], r["ResourceStatus"]) for r in resources}


def trust_of(aws: Factory, role_arn: str) -> dict[str, Any]:
    return aws("iam").get_role(RoleName=role_arn.rsplit("/", 1)[1])["Role"]["AssumeRolePolicyDocument"]


def _peer_stack(aws: Factory) -> dict[str, Any]:
    """The peer's managed-cloud template as its `cloud setup` deploys it, for a control plane in another account."""
    saved = json.loads((FOREIGN / "peer-managed-cloud.parameters.json").read_text())
    parameters = {**saved["Parameters"], "AnyscaleAWSAccountID": PEER_ACCOUNT}
    cfn = aws("cloudformation")
    stack_id = cfn.create_stack(
        StackName=saved["StackName"],
        TemplateBody=(FOREIGN / "peer-managed-cloud.yaml").read_text(),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )["StackId"]
    stack = wait(cfn, stack_id)
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    return {**stack, "Parameters": parameters}


def _role(trust: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": trust}}


def _subnet(vpc: str, cidr: str, zone: str) -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::Subnet",
        "Properties": {"VpcId": {"Ref": vpc}, "CidrBlock": cidr, "AvailabilityZone": zone},
    }


# A stack written by hand: two VPCs (only the first routed to the internet), a group in each, two buckets, two
# roles that an account may assume (each with its External ID) and a node role in an instance profile.
HAND_MADE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Resources": {
        "MainVpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.1.0.0/16"}},
        "SpareVpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.2.0.0/16"}},
        "MainA": _subnet("MainVpc", "10.1.0.0/24", "us-west-2a"),
        "MainB": _subnet("MainVpc", "10.1.1.0/24", "us-west-2b"),
        "SpareA": _subnet("SpareVpc", "10.2.0.0/24", "us-west-2a"),
        "SpareB": _subnet("SpareVpc", "10.2.1.0/24", "us-west-2b"),
        "Gateway": {"Type": "AWS::EC2::InternetGateway"},
        "Attachment": {
            "Type": "AWS::EC2::VPCGatewayAttachment",
            "Properties": {"VpcId": {"Ref": "MainVpc"}, "InternetGatewayId": {"Ref": "Gateway"}},
        },
        "Routes": {"Type": "AWS::EC2::RouteTable", "Properties": {"VpcId": {"Ref": "MainVpc"}}},
        "Default": {
            "Type": "AWS::EC2::Route",
            "DependsOn": "Attachment",
            "Properties": {
                "RouteTableId": {"Ref": "Routes"},
                "DestinationCidrBlock": "0.0.0.0/0",
                "GatewayId": {"Ref": "Gateway"},
            },
        },
        **{
            f"{subnet}Routes": {
                "Type": "AWS::EC2::SubnetRouteTableAssociation",
                "Properties": {"RouteTableId": {"Ref": "Routes"}, "SubnetId": {"Ref": subnet}},
            }
            for subnet in ("MainA", "MainB")
        },
        "MainGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "nodes", "VpcId": {"Ref": "MainVpc"}},
        },
        "SpareGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "spare", "VpcId": {"Ref": "SpareVpc"}},
        },
        "Data": {"Type": "AWS::S3::Bucket"},
        "Logs": {"Type": "AWS::S3::Bucket"},
        "Operator": _role(policies.controlplane_trust_policy(f"arn:aws:iam::{ACCOUNT}:root", "operator-id")),
        "Deployer": _role(policies.controlplane_trust_policy(ACCOUNT, "deployer-id")),
        "Nodes": _role(policies.instance_trust_policy()),
        "NodesProfile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [{"Ref": "Nodes"}]}},
    },
}


@pytest.fixture(scope="module")
def stacks(aws: Factory, sandbox: SandboxServer) -> dict[str, Any]:
    sandbox.set_quota("vpc", "L-F678F1CE", 10)  # the default VPC, 4 here and one made by `cloud setup`
    own = apply(aws, print_template("--private-network", "--name", "adopted"), "own-private")
    hand_made = apply(aws, json.dumps(HAND_MADE), "hand-made")
    return {"own": own, "peer": _peer_stack(aws), "hand-made": hand_made}


@pytest.fixture(scope="module")
def adopted(aws: Factory, stacks: dict[str, Any]) -> Run:
    """The stack of cloudplane's own customer-defined template, private networking, adopted by name."""
    cp_role = outputs(stacks["own"])["ControlPlaneRoleArn"]
    before = trust_of(aws, cp_role)
    run = cloudplane("cloud", "register", "--from-stack", "own-private", "--name", "adopted", "--yes")
    assert run.exit_code == 0, run.stderr + run.stdout
    assert trust_of(aws, cp_role) == before  # the External ID found was passed on: no trust edit
    return run


def test_own_template_stack_registers_with_the_flags_its_outputs_name(
    stacks: dict[str, Any], adopted: Run
) -> None:
    declared = parse_flags(outputs(stacks["own"])["RegisterCommand"])
    found = equivalent_flags(adopted)
    assert found.pop("--subnet-ids").split(",") == declared.pop("--subnet-ids").split(",")
    assert found == declared  # --private-network and --external-id included
    assert "Subnet0 (AWS::EC2::Subnet)" in adopted.stderr and "routed to a NAT gateway" in adopted.stderr
    cloud = cloudplane("cloud", "get", "--name", "adopted", "--output", "json").json()
    assert cloud["state"] == "active" and cloud["deployment"] == "customer_defined"
    assert cloud["networking"] == "private"
    assert cloud["external_id"] == outputs(stacks["own"])["ExternalId"]
    assert cloud["resources"]["vpc_id"] == declared["--vpc-id"]


def test_a_stack_already_registered_is_not_registered_again(adopted: Run) -> None:
    run = cloudplane("cloud", "register", "--from-stack", "own-private", "--name", "twice", "--yes")
    assert run.exit_code == 2
    assert "stack own-private is already registered here as cloud adopted" in run.stderr
    assert cloud_names() == ["adopted"]


def test_a_managed_clouds_own_stack_is_already_registered(adopted: Run) -> None:
    setup = cloudplane("cloud", "setup", "--name", "managed", "--shared-storage", "object-storage", "--yes")
    assert setup.exit_code == 0, setup.stderr
    managed = cloudplane("cloud", "get", "--name", "managed", "--output", "json").json()
    stack_id = managed["resources"]["cloudformation_stack_id"]
    run = cloudplane("cloud", "register", "--from-stack", stack_id, "--name", "copy", "--yes")
    assert run.exit_code == 2
    assert f"is already registered here as cloud managed ({managed['id']}, managed)" in run.stderr
    assert cloudplane("cloud", "delete", "--name", "managed", "--yes").exit_code == 0
    assert cloud_names() == ["adopted"]


def test_peer_stack_moves_over_with_a_trust_statement_of_its_own(
    aws: Factory, stacks: dict[str, Any]
) -> None:
    """The peer-built cloud, as a user moves it: discovered, refused while its role trusts only the peer,
    registered with --add-trust once the role holds cloudplane's policies, and let go again by delete; the
    peer's trust statement and the stack stay as they were throughout."""
    peer = stacks["peer"]
    values = {o["OutputKey"]: o["OutputValue"] for o in peer["Outputs"]}
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/anyscale-iam-role-example0"
    peer_trust = trust_of(aws, role_arn)
    resources_before = physical_ids(aws, peer["StackName"])
    run = cloudplane("cloud", "register", "--from-stack", peer["StackName"], "--name", "from-peer", "--yes")
    found = equivalent_flags(run)
    assert found == {
        "--provider": "aws",
        "--name": "from-peer",
        "--region": "us-west-2",
        "--vpc-id": values["VPC"],
        "--subnet-ids": ",".join(
            resources_before[f"Subnet{i}"][0] for i in range(4)
        ),  # public: the gateway's
        "--security-group-ids": values["AnyscaleSecurityGroup"],
        "--s3-bucket-id": values["S3Bucket"],
        "--efs-id": values["EFS"],
        "--controlplane-iam-role-id": role_arn,
        "--instance-iam-role-id": f"arn:aws:iam::{ACCOUNT}:role/{peer['Parameters']['ClusterNodeIAMRoleName']}",
        # No --external-id: the one in the role's trust is the peer's, in the statement trusting the peer.
    }
    assert f"customerRole (AWS::IAM::Role), trusts {PEER_ACCOUNT}" in run.stderr
    # The role trusts the peer's account, not this control plane: register stops before anything is made.
    assert run.exit_code == 2 and "--add-trust" in run.stderr.splitlines()[-1]
    assert cloud_names() == ["adopted"] and trust_of(aws, role_arn) == peer_trust

    # The peer's role lacks some of what cloudplane's verification asks of a control-plane role (IAM-4):
    # the user adds cloudplane's documented policies, as the finding says, then adopts with --add-trust.
    documented = json.loads(
        cloudplane("cloud", "policy", "--role", "controlplane", "--output", "json").stdout
    )
    for policy_name, document in documented["policies"].items():
        aws("iam").put_role_policy(
            RoleName="anyscale-iam-role-example0", PolicyName=policy_name, PolicyDocument=json.dumps(document)
        )
    run = cloudplane(
        "cloud", "register", "--from-stack", peer["StackName"], "--name", "from-peer", "--add-trust", "--yes"
    )
    assert run.exit_code == 0, run.stderr + run.stdout
    cloud = json.loads(cloudplane("cloud", "get", "--name", "from-peer", "--output", "json").stdout)
    trust = trust_of(aws, role_arn)
    assert (
        trust["Statement"][: len(peer_trust["Statement"])] == peer_trust["Statement"]
    )  # the peer's, as it was
    (ours,) = trust["Statement"][len(peer_trust["Statement"]) :]
    assert ours["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert ours["Condition"] == {"StringEquals": {"sts:ExternalId": cloud["external_id"]}}
    assert cloud["external_id"] != peer["Parameters"]["CloudID"]
    assert cloud["last_verification"]["passed"]

    run = cloudplane("cloud", "delete", "--name", "from-peer", "--yes")
    assert run.exit_code == 0, run.stderr
    assert trust_of(aws, role_arn) == peer_trust  # exactly the statement cloudplane added is gone
    assert physical_ids(aws, peer["StackName"]) == resources_before
    assert cloud_names() == ["adopted"]


def test_hand_made_stack_lists_each_ambiguity_with_the_flag_that_settles_it(
    aws: Factory,
    stacks: dict[str, Any],
) -> None:
    run = cloudplane("cloud", "register", "--from-stack", "hand-made", "--name", "by-hand", "--yes")
    assert run.exit_code == 2
    lines = run.stderr.splitlines()
    for flag, logical_id in [
        ("--vpc-id", "MainVpc"),
        ("--vpc-id", "SpareVpc"),
        ("--s3-bucket-id", "Data"),
        ("--s3-bucket-id", "Logs"),
        ("--controlplane-iam-role-id", "Operator"),
        ("--controlplane-iam-role-id", "Deployer"),
    ]:
        assert any(line.strip().startswith(f"{flag} ") and logical_id in line for line in lines), (
            flag,
            logical_id,
        )
    assert "cloudplane cloud register" not in run.stderr
    assert cloud_names() == ["adopted"]


def test_explicit_flags_settle_the_ambiguities_and_what_depends_on_them(
    aws: Factory,
    stacks: dict[str, Any],
) -> None:
    ids = {logical: physical for logical, (physical, _) in physical_ids(aws, "hand-made").items()}
    operator = aws("iam").get_role(RoleName=ids["Operator"])["Role"]["Arn"]
    run = cloudplane(
        "cloud", "register", "--from-stack", "hand-made", "--name", "by-hand", "--yes", "--output", "json",
        "--vpc-id", ids["MainVpc"], "--s3-bucket-id", ids["Data"], "--controlplane-iam-role-id", operator,
    )  # fmt: skip
    # The hand-made resources miss much that verification asks for: what counts here is what was chosen.
    assert run.exit_code == 1, run.stderr
    command = parse_flags(run.json()["equivalent_command"])
    assert command["--vpc-id"] == ids["MainVpc"]
    assert command["--subnet-ids"] == f"{ids['MainA']},{ids['MainB']}"
    assert command["--security-group-ids"] == ids["MainGroup"]
    assert command["--s3-bucket-id"] == ids["Data"]
    assert command["--controlplane-iam-role-id"] == operator
    assert command["--external-id"] == "operator-id"
    assert command["--instance-iam-role-id"].endswith(f":role/{ids['Nodes']}")
    assert "--private-network" not in command and "--efs-id" not in command
    assert cloud_names() == ["adopted"]


def test_bad_sources_are_refused_in_one_line_before_anything_is_made(
    aws: Factory,
    sandbox: SandboxServer,
    tmp_path: Path,
    stacks: dict[str, Any],
) -> None:
    sandbox.fail_next("AWS::S3::Bucket", "bucket quota reached")
    cfn = aws("cloudformation")
    failed = cfn.create_stack(
        StackName="failed", TemplateBody=json.dumps({"Resources": {"B": {"Type": "AWS::S3::Bucket"}}})
    )
    assert wait(cfn, failed["StackId"])["StackStatus"] == "ROLLBACK_COMPLETE"
    state = tmp_path / "terraform.tfstate"
    state.write_text(json.dumps({"version": 4, "resources": []}))
    cases = {
        ("--from-stack", "missing"): "no stack 'missing' in us-west-2",
        ("--from-stack", "failed"): "stack failed is ROLLBACK_COMPLETE",
        (
            "--from-stack",
            stacks["own"]["StackId"].replace("us-west-2", "eu-west-1"),
        ): "give --region eu-west-1",
        ("--from-stack", "own-private", "--from-terraform-state", str(state)): "not both",
    }
    for args, message in cases.items():
        run = cloudplane("cloud", "register", *args, "--name", "bad", "--yes")
        assert run.exit_code == 2, (args, run.stderr)
        assert message in run.stderr
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    # Without a source the resource flags are required, as they always were.
    plain = cloudplane(
        "cloud", "register", "--name", "bad", "--controlplane-iam-role-id", "arn:aws:iam::1:role/x"
    )
    assert plain.exit_code == 2 and "Error: Missing option '--vpc-id'." in plain.stderr
    assert cloud_names() == ["adopted"]


def test_deleting_the_adopted_cloud_leaves_the_stack_as_it_was(aws: Factory, adopted: Run) -> None:
    before = physical_ids(aws, "own-private")
    run = cloudplane("cloud", "delete", "--name", "adopted", "--yes")
    assert run.exit_code == 0, run.stderr
    assert cloud_names() == []
    stack = aws("cloudformation").describe_stacks(StackName="own-private")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert physical_ids(aws, "own-private") == before
    assert all(status == "CREATE_COMPLETE" for _, status in before.values())
