"""`cloudplane compute-config validate` end to end: a managed cloud in the sandbox, set up once for the
module, and compute configs checked against it (its zones, subnets and groups, and instance profiles in IAM)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloudplane.sandbox.server import SandboxServer
from tests.enforcement import acting_as
from tests.helpers import Run, cloudplane

REGION = "us-west-2"
Factory = Callable[..., Any]


@pytest.fixture
def zones(cloud: dict[str, Any], module_aws: Factory) -> dict[str, str]:
    """Subnet id -> zone of the cloud's subnets."""
    subnets = module_aws("ec2").describe_subnets(SubnetIds=cloud["resources"]["subnet_ids"])["Subnets"]
    return {s["SubnetId"]: s["AvailabilityZone"] for s in subnets}


def validate(tmp_path: Path, text: str, *args: str) -> Run:
    path = tmp_path / "compute.yaml"
    path.write_text(text)
    return cloudplane("compute-config", "validate", "-f", str(path), *args)


def errors(run: Run) -> list[str]:
    assert "Traceback" not in run.stderr
    return [line.removeprefix("error: ") for line in run.stderr.splitlines() if line.startswith("error: ")]


def make_profile(
    iam: Any, *, trust_ec2: bool = True, policy: dict[str, Any] | None = None
) -> tuple[str, str]:
    """A fresh role in an instance profile of the same name: (profile ARN, role ARN)."""
    name = "nodes-" + secrets.token_hex(4)
    service = "ec2.amazonaws.com" if trust_ec2 else "lambda.amazonaws.com"
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }
    role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    if policy is not None:
        iam.put_role_policy(RoleName=name, PolicyName="bucket", PolicyDocument=json.dumps(policy))
    profile = iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return profile["Arn"], role["Arn"]


def bucket_policy(bucket: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
            {"Effect": "Allow", "Action": "s3:*Object", "Resource": f"arn:aws:s3:::{bucket}/*"},
        ],
    }


def with_profile(arn: str) -> str:
    return f"head_node_type: {{name: head, instance_type: m5.xlarge}}\n---\naws:\n  IamInstanceProfile:\n    Arn: {arn}\n"


def test_a_valid_config_is_summed_up_in_one_line(
    cloud: dict[str, Any], zones: dict[str, str], tmp_path: Path
) -> None:
    first_zone = zones[cloud["resources"]["subnet_ids"][0]]
    text = f"""\
cloud: demo
allowed_azs:
  - {first_zone}
head_node_type:
  name: head_node_type
  instance_type: m5.8xlarge
worker_node_types:
  - name: cpu-workers
    instance_type: m5.2xlarge
    min_workers: 1
    max_workers: 4
"""
    run = validate(tmp_path, text)
    assert run.exit_code == 0, run.stderr
    assert run.stdout == (
        f"{tmp_path / 'compute.yaml'} is valid for cloud demo ({cloud['id']}): head m5.8xlarge in {first_zone}, "
        f"1 worker m5.2xlarge (cpu-workers, up to 4) in {first_zone}; instance profile "
        f"cloudplane-{cloud['id']}-instance\n"
    )

    as_json = validate(tmp_path, text, "--output", "json")
    assert as_json.exit_code == 0
    report = as_json.json()
    assert report["valid"] is True and report["complete"] is True
    assert report["cloud"] == {"id": cloud["id"], "name": "demo", "region": REGION}
    assert report["mistakes"] == [] and report["unchecked"] == []
    assert [(n["role"], n["instance_type"], n["zone"]) for n in report["nodes"]] == [
        ("head", "m5.8xlarge", first_zone),
        ("worker", "m5.2xlarge", first_zone),
    ]
    assert {tuple(n["security_group_ids"]) for n in report["nodes"]} == {
        tuple(cloud["resources"]["security_group_ids"])
    }


def test_a_zone_subnet_and_group_the_cloud_lacks_are_one_line_each(
    cloud: dict[str, Any], zones: dict[str, str], module_aws: Factory, tmp_path: Path
) -> None:
    ec2 = module_aws("ec2")
    other_vpc = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
    stray_subnet = ec2.create_subnet(VpcId=other_vpc, CidrBlock="10.99.1.0/24")["Subnet"]["SubnetId"]
    stray_group = ec2.create_security_group(VpcId=other_vpc, GroupName="stray", Description="stray")[
        "GroupId"
    ]
    text = f"""\
cloud: demo
allowed_azs: [{REGION}a, eu-west-1a]
head_node_type: {{name: head, instance_type: m5.xlarge}}
aws:
  SubnetId: {stray_subnet}
  SecurityGroupIds: [{cloud["resources"]["security_group_ids"][0]}, {stray_group}]
"""
    run = validate(tmp_path, text)
    assert run.exit_code == 2
    assert run.stdout == ""
    cloud_zones = ", ".join(dict.fromkeys(zones[s] for s in cloud["resources"]["subnet_ids"]))
    label = f"cloud demo ({cloud['id']})"
    source = tmp_path / "compute.yaml"
    assert errors(run) == [
        f"{source}: allowed_azs[1]: eu-west-1a is not a zone of {label}; its subnets are in {cloud_zones}",
        f"{source}: aws.SubnetId: {stray_subnet} is not a subnet of {label}; it has "
        + ", ".join(cloud["resources"]["subnet_ids"]),
        f"{source}: aws.SecurityGroupIds[1]: {stray_group} is not a security group of {label}; it has "
        + ", ".join(cloud["resources"]["security_group_ids"]),
    ]

    report = validate(tmp_path, text, "--output", "json")
    assert report.exit_code == 2
    assert report.json()["valid"] is False and len(report.json()["mistakes"]) == 3
    assert report.json()["nodes"] == []


def test_shape_mistakes_are_reported_before_any_cloud_is_looked_up(
    cloud: dict[str, Any], tmp_path: Path
) -> None:
    text = "cloud: no-such-cloud\nhead_node_type: {name: head, instance_type: xlarge}\nworker_node_types: [{name: w}]\n"
    run = validate(tmp_path, text)
    assert run.exit_code == 2
    source = tmp_path / "compute.yaml"
    assert errors(run) == [
        f"{source}: head_node_type.instance_type: 'xlarge' is not an EC2 instance type (like m5.xlarge)",
        f"{source}: worker_node_types[0].instance_type: required, but missing",
    ]
    report = validate(tmp_path, text, "-o", "json")
    assert report.exit_code == 2 and report.json()["cloud"] is None and len(report.json()["mistakes"]) == 2


def test_an_instance_profile_that_does_not_exist_is_named(cloud: dict[str, Any], tmp_path: Path) -> None:
    arn = "arn:aws:iam::123456789012:instance-profile/no-such-profile"
    run = validate(tmp_path, "cloud: demo\n" + with_profile(arn))
    assert run.exit_code == 2
    (line,) = errors(run)
    assert line.startswith(
        f"{tmp_path / 'compute.yaml'}: aws.IamInstanceProfile.Arn: instance profile {arn} does not exist"
    )

    foreign = "arn:aws:iam::999999999999:instance-profile/nodes"
    run = validate(tmp_path, "cloud: demo\n" + with_profile(foreign))
    assert run.exit_code == 2
    assert errors(run) == [
        f"{tmp_path / 'compute.yaml'}: aws.IamInstanceProfile.Arn: {foreign} is in account 999999999999, but cloud "
        "demo is in account 123456789012; instances take an instance profile of their own account"
    ]


def test_a_role_without_access_to_the_bucket_is_named_with_the_bucket(
    cloud: dict[str, Any], module_aws: Factory, tmp_path: Path
) -> None:
    bucket = cloud["resources"]["s3_bucket_id"]
    profile, role = make_profile(module_aws("iam"))
    run = validate(tmp_path, "cloud: demo\n" + with_profile(profile))
    assert run.exit_code == 2
    (line,) = errors(run)
    assert f"role {role} of instance profile {profile} may not use bucket {bucket}" in line
    assert (
        f"s3:ListBucket on arn:aws:s3:::{bucket}" in line
        and f"s3:PutObject on arn:aws:s3:::{bucket}/*" in line
    )

    allowed, _ = make_profile(module_aws("iam"), policy=bucket_policy(bucket))
    granted = validate(tmp_path, "cloud: demo\n" + with_profile(allowed))
    assert granted.exit_code == 0, granted.stderr
    assert f"instance profile {allowed}" in granted.stdout


def test_a_deny_in_the_bucket_policy_wins_over_the_roles_allow(
    cloud: dict[str, Any], module_aws: Factory, tmp_path: Path
) -> None:
    bucket = cloud["resources"]["s3_bucket_id"]
    profile, role = make_profile(module_aws("iam"), policy=bucket_policy(bucket))
    s3 = module_aws("s3")
    current = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    current["Statement"].append(
        {
            "Sid": "NoDeletes",
            "Effect": "Deny",
            "Principal": {"AWS": role},
            "Action": "s3:DeleteObject",
            "Resource": f"arn:aws:s3:::{bucket}/*",
        }
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(current))
    run = validate(tmp_path, "cloud: demo\n" + with_profile(profile))
    assert run.exit_code == 2
    (line,) = errors(run)
    assert f"is denied s3:DeleteObject on arn:aws:s3:::{bucket}/* on bucket {bucket} by bucket policy" in line


def test_a_profile_instances_cannot_use_is_a_mistake(
    cloud: dict[str, Any], module_aws: Factory, tmp_path: Path
) -> None:
    iam = module_aws("iam")
    empty = iam.create_instance_profile(InstanceProfileName="empty-" + secrets.token_hex(4))[
        "InstanceProfile"
    ]
    run = validate(tmp_path, "cloud: demo\n" + with_profile(empty["Arn"]))
    assert run.exit_code == 2
    assert "holds no role, so instances get no credentials" in errors(run)[0]

    untrusted, role = make_profile(
        iam, trust_ec2=False, policy=bucket_policy(cloud["resources"]["s3_bucket_id"])
    )
    run = validate(tmp_path, "cloud: demo\n" + with_profile(untrusted))
    assert run.exit_code == 2
    (line,) = errors(run)
    assert f"role {role} of instance profile {untrusted} does not let ec2.amazonaws.com assume it" in line

    unpassable, role = make_profile(iam, policy=bucket_policy(cloud["resources"]["s3_bucket_id"]))
    controlplane = cloud["resources"]["controlplane_role_arn"]
    deny = {"Effect": "Deny", "Action": "iam:PassRole", "Resource": role}
    iam.put_role_policy(
        RoleName=controlplane.rsplit("/", 1)[-1],
        PolicyName="NoPassing" + secrets.token_hex(2),
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [deny]}),
    )
    run = validate(tmp_path, "cloud: demo\n" + with_profile(unpassable))
    assert run.exit_code == 2
    (line,) = errors(run)
    assert f"the control-plane role {controlplane} is denied iam:PassRole on role {role}" in line


def test_the_default_cloud_is_used_when_the_file_names_none(cloud: dict[str, Any], tmp_path: Path) -> None:
    text = "head_node_type: {name: head, instance_type: m5.xlarge}\n"
    refused = validate(tmp_path, text)
    assert refused.exit_code == 2
    assert "names no cloud (cloud: or cloud_id:) and there is no default cloud" in refused.stderr
    assert "cloudplane cloud set-default NAME" in refused.stderr

    assert cloudplane("cloud", "set-default", "demo").exit_code == 0
    run = validate(tmp_path, text)
    assert run.exit_code == 0, run.stderr
    assert f"is valid for cloud demo ({cloud['id']}): head m5.xlarge in " in run.stdout

    by_flag = validate(tmp_path, f"cloud_id: {cloud['id']}\n" + text, "--cloud", "other")
    assert by_flag.exit_code == 2 and "no cloud named 'other'" in by_flag.stderr


def test_a_check_aws_refuses_is_not_checked_rather_than_a_mistake(
    cloud: dict[str, Any], sandbox: SandboxServer, module_aws: Factory, tmp_path: Path
) -> None:
    text = "cloud: demo\nhead_node_type: {name: head, instance_type: m5.xlarge}\n"
    with acting_as(
        sandbox,
        module_aws,
        allow=["sts:GetCallerIdentity", "ec2:DescribeSubnets"],
        deny=["iam:GetInstanceProfile"],
    ):
        run = validate(tmp_path, text)
    assert run.exit_code == 1, run.stderr
    assert errors(run) == []
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("not checked: ")]
    assert f"whether instance profile cloudplane-{cloud['id']}-instance" in line
    assert "iam:GetInstanceProfile failed: AccessDenied" in line
    assert "has no mistakes for cloud demo" in run.stdout and "1 check could not run" in run.stdout
