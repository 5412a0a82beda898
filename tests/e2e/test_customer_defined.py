"""Customer-defined clouds through the real CLI: register, verify, edit, delete — resources stay theirs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.helpers import Run, cloudplane
from tests.verify.builders import BuiltCloud, _bucket, build_cloud

Factory = Callable[..., Any]


def trust_of(aws: Factory, role_arn: str) -> dict[str, Any]:
    return aws("iam").get_role(RoleName=role_arn.rsplit("/", 1)[-1])["Role"]["AssumeRolePolicyDocument"]


def customer_cloud(aws: Factory, **options: Any) -> BuiltCloud:
    """Correct resources as a customer would make them: the role's trust has no External ID yet."""
    built = build_cloud(aws, stack=False, **options)
    trust = trust_of(aws, built.cp_role)
    for statement in trust["Statement"]:
        statement.pop("Condition", None)
    aws("iam").update_assume_role_policy(
        RoleName=built.cp_role.rsplit("/", 1)[-1], PolicyDocument=json.dumps(trust)
    )
    return built


def register_args(built: BuiltCloud, name: str = "acme", **overrides: str) -> list[str]:
    values = {
        "--vpc-id": built.vpc_id,
        "--subnet-ids": ",".join(built.subnet_ids),
        "--security-group-ids": built.sg_id,
        "--s3-bucket-id": built.bucket,
        "--controlplane-iam-role-id": built.cp_role,
        "--instance-iam-role-id": built.instance_role,
    }
    if built.fs_id:
        values["--efs-id"] = built.fs_id
    if built.cluster:
        values["--memorydb-cluster-id"] = built.cluster
    values.update(overrides)
    args = ["cloud", "register", "--provider", "aws", "--name", name, "--region", "us-west-2"]
    for flag, value in values.items():
        args += [flag, value]
    return args


def register(built: BuiltCloud, *extra: str, name: str = "acme", **overrides: str) -> Run:
    return cloudplane(*register_args(built, name, **overrides), *extra)


def get(name: str = "acme") -> dict[str, Any]:
    return cloudplane("cloud", "get", "--name", name, "--output", "json").json()


def clouds() -> list[dict[str, Any]]:
    return cloudplane("cloud", "list", "--output", "json").json()["clouds"]


def test_register_adds_the_external_id_verifies_and_records_the_cloud(aws: Factory) -> None:
    built = customer_cloud(aws)
    run = register(built, "--yes")
    assert run.exit_code == 0, run.stderr + run.stdout
    assert "now requires this cloud's External ID" in run.stderr
    cloud = get()
    assert cloud["deployment"] == "customer_defined" and cloud["state"] == "active"
    assert cloud["networking"] == "public"
    (statement,) = trust_of(aws, built.cp_role)["Statement"]
    assert statement["Condition"] == {"StringEquals": {"sts:ExternalId": cloud["external_id"]}}
    resources = cloud["resources"]
    assert resources["subnet_ids"] == built.subnet_ids and resources["efs_id"] == built.fs_id
    assert len(resources["efs_mount_target_ips"]) == len(built.mount_target_ids)
    assert resources["cloudformation_stack_id"] is None
    assert cloud["last_verification"]["passed"] is True

    verify = cloudplane("cloud", "verify", "--name", "acme", "--output", "json")
    assert verify.exit_code == 0
    assert not any(f["check"].startswith("CFN-") for f in verify.json()["findings"])


def test_register_with_a_given_external_id_leaves_the_trust_policy_alone(aws: Factory) -> None:
    built = build_cloud(aws, stack=False)  # its trust already requires the External ID
    before = trust_of(aws, built.cp_role)
    run = register(built, "--yes", "--external-id", built.spec.external_id or "")
    assert run.exit_code == 0, run.stderr
    assert trust_of(aws, built.cp_role) == before
    assert get()["external_id"] == built.spec.external_id


def test_register_accepts_the_peer_flag_name_for_the_role(aws: Factory) -> None:
    built = customer_cloud(aws, efs=False)
    args = register_args(built)
    args[args.index("--controlplane-iam-role-id")] = "--anyscale-iam-role-id"
    run = cloudplane(*args, "--yes")
    assert run.exit_code == 0, run.stderr
    assert "workspaces will not be available" in run.stderr
    assert get()["resources"]["efs_id"] is None


def test_failed_verification_registers_nothing_and_restores_the_trust(aws: Factory) -> None:
    built = customer_cloud(aws)
    before = trust_of(aws, built.cp_role)
    aws("ec2").revoke_security_group_ingress(
        GroupId=built.sg_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    run = register(built, "--yes")
    assert run.exit_code == 1
    assert "SG-2" in run.stdout and built.sg_id in run.stdout
    assert "nothing was registered" in run.stderr and "put back as it was" in run.stderr
    assert clouds() == []
    assert trust_of(aws, built.cp_role) == before


def test_warnings_need_a_confirmation(aws: Factory) -> None:
    built = customer_cloud(aws)
    before = trust_of(aws, built.cp_role)
    aws("s3").delete_bucket_cors(Bucket=built.bucket)  # S3-3 is a warning
    refused = register(built)
    assert refused.exit_code == 2
    assert "pass --yes" in refused.stderr
    assert clouds() == [] and trust_of(aws, built.cp_role) == before
    accepted = register(built, "--yes")
    assert accepted.exit_code == 0, accepted.stderr
    assert [f["check"] for f in get()["last_verification"]["findings"] if not f["passed"]] == ["S3-3"]


def test_private_network_cloud_registers(aws: Factory) -> None:
    built = customer_cloud(aws, private=True)
    run = register(built, "--yes", "--private-network")
    assert run.exit_code == 0, run.stderr + run.stdout
    cloud = get()
    assert cloud["networking"] == "private"
    checks = {f["check"] for f in cloud["last_verification"]["findings"]}
    assert "SUB-8" in checks and "SUB-6" not in checks


def test_public_subnets_registered_as_private_fail(aws: Factory) -> None:
    built = customer_cloud(aws)
    run = register(built, "--yes", "--private-network")
    assert run.exit_code == 1
    assert "SUB-8" in run.stdout
    assert clouds() == []


@pytest.mark.parametrize(
    ("overrides", "lines"),
    [
        ({"--vpc-id": "vpc-xyz"}, ["--vpc-id: 'vpc-xyz' is not a vpc id"]),
        ({"--subnet-ids": "subnet-0a1b2c3d"}, ["--subnet-ids: give at least 2 subnet ids"]),
        (
            {"--subnet-ids": "subnet-0a1b2c3d,subnet-0a1b2c3d,,sg-0a1b2c3d"},
            [
                "--subnet-ids: empty item",
                "subnet-0a1b2c3d given more than once",
                "'sg-0a1b2c3d' is not a subnet id",
            ],
        ),
        ({"--security-group-ids": "default"}, ["'default' is not a security group id"]),
        ({"--s3-bucket-id": "Bad_Bucket"}, ["--s3-bucket-id: 'Bad_Bucket' is not an S3 bucket name"]),
        ({"--efs-id": "efs-1"}, ["--efs-id: 'efs-1' is not a EFS id"]),
        (
            {"--controlplane-iam-role-id": "my-role"},
            ["--controlplane-iam-role-id: 'my-role' is not an IAM role ARN"],
        ),
        (
            {"--instance-iam-role-id": "arn:aws:iam::999999999999:role/nodes"},
            ["the two roles are in different accounts"],
        ),
        (
            {"--memorydb-cluster-id": "Cluster_1"},
            ["--memorydb-cluster-id: 'Cluster_1' is not a MemoryDB cluster name"],
        ),
        ({"--region": "cn-north-1"}, ["aws-cn partition"]),
    ],
)
def test_bad_register_input_is_refused_before_any_call(
    aws: Factory, aws_env: Any, overrides: dict[str, str], lines: list[str]
) -> None:
    # Fake but well-formed resources: nothing may be looked up before the input is refused.
    built = BuiltCloud.__new__(BuiltCloud)
    built.vpc_id, built.subnet_ids, built.sg_id = (
        "vpc-0a1b2c3d",
        ["subnet-0a1b2c3d", "subnet-1a1b2c3d"],
        "sg-0a1b2c3d",
    )
    built.bucket, built.fs_id, built.cluster = "acme-data", "fs-0a1b2c3d", None
    built.cp_role = "arn:aws:iam::123456789012:role/cp"
    built.instance_role = "arn:aws:iam::123456789012:role/nodes"
    run = register(built, "--yes", **overrides)
    assert run.exit_code == 2
    for line in lines:
        assert line in run.stderr
    assert clouds() == []


def test_register_with_a_role_of_another_account_needs_the_external_id(aws: Factory) -> None:
    built = customer_cloud(aws)
    run = register(
        built,
        "--yes",
        **{
            "--controlplane-iam-role-id": "arn:aws:iam::999999999999:role/cp",
            "--instance-iam-role-id": "arn:aws:iam::999999999999:role/nodes",
        },
    )
    assert run.exit_code == 2
    assert "account 999999999999" in run.stderr and "--external-id" in run.stderr
    assert clouds() == []


def test_register_refuses_a_taken_name_and_a_role_of_another_cloud(aws: Factory) -> None:
    built = customer_cloud(aws)
    assert register(built, "--yes").exit_code == 0
    again = register(built, "--yes")
    assert again.exit_code == 2 and "already exists" in again.stderr
    other = register(built, "--yes", name="other")
    assert other.exit_code == 2 and "already requires External ID" in other.stderr
    assert [c["name"] for c in clouds()] == ["acme"]


def test_edit_swaps_the_bucket_after_verifying_and_prints_the_way_back(aws: Factory) -> None:
    built = customer_cloud(aws)
    assert register(built, "--yes").exit_code == 0
    _bucket(aws("s3"), "acme-data-v2", built.instance_role)
    run = cloudplane("cloud", "edit", "acme", "--aws-s3-id", "s3://acme-data-v2", "--yes")
    assert run.exit_code == 0, run.stderr + run.stdout
    assert f"s3_bucket_id: {built.bucket} -> acme-data-v2" in run.stderr
    assert "left as they are" in run.stderr
    cloud = get()
    assert cloud["resources"]["s3_bucket_id"] == "acme-data-v2"
    assert built.bucket in [b["Name"] for b in aws("s3").list_buckets()["Buckets"]]

    undo = next(line for line in run.stderr.splitlines() if "To undo the edit:" in line).split(": ", 1)[1]
    assert undo == f"cloudplane cloud edit --cloud-id {cloud['id']} --aws-s3-id {built.bucket} --yes"
    assert cloudplane(*undo.split()[1:]).exit_code == 0
    assert get()["resources"]["s3_bucket_id"] == built.bucket

    same = cloudplane("cloud", "edit", "acme", "--aws-s3-id", built.bucket, "--yes")
    assert same.exit_code == 2 and "nothing changes" in same.stderr


def test_edit_refuses_what_would_fail_and_foreign_mount_targets(aws: Factory) -> None:
    built = customer_cloud(aws)
    assert register(built, "--yes").exit_code == 0
    missing = cloudplane("cloud", "edit", "acme", "--aws-s3-id", "no-such-bucket-anywhere", "--yes")
    assert missing.exit_code == 1
    assert "S3-1" in missing.stdout and "nothing was changed" in missing.stderr
    assert get()["resources"]["s3_bucket_id"] == built.bucket

    foreign = cloudplane("cloud", "edit", "acme", "--aws-efs-mount-target-ip", "10.9.9.9", "--yes")
    assert foreign.exit_code == 2
    assert f"not a mount target of {built.fs_id}" in foreign.stderr
    assert get()["resources"]["efs_mount_target_ips"][0] in foreign.stderr

    one_ip = get()["resources"]["efs_mount_target_ips"][1]
    narrowed = cloudplane("cloud", "edit", "acme", "--aws-efs-mount-target-ip", one_ip, "--yes")
    assert narrowed.exit_code == 0, narrowed.stderr + narrowed.stdout
    assert get()["resources"]["efs_mount_target_ips"] == [one_ip]
    assert f"--aws-efs-id {built.fs_id} --yes" in narrowed.stderr


def test_edit_input_mistakes_and_managed_clouds(aws: Factory) -> None:
    nothing = cloudplane("cloud", "edit", "acme", "--yes")
    assert nothing.exit_code == 2 and "nothing to edit" in nothing.stderr
    bad_ip = cloudplane("cloud", "edit", "acme", "--aws-efs-mount-target-ip", "10.0.0", "--yes")
    assert bad_ip.exit_code == 2 and "is not an IPv4 address" in bad_ip.stderr
    assert (
        cloudplane(
            "cloud", "setup", "--name", "managed", "--shared-storage", "object-storage", "--yes"
        ).exit_code
        == 0
    )
    refused = cloudplane("cloud", "edit", "managed", "--aws-s3-id", "other-bucket", "--yes")
    assert refused.exit_code == 2
    assert "cloudplane cloud update" in refused.stderr


def test_delete_forgets_the_cloud_and_touches_nothing_in_the_account(aws: Factory) -> None:
    built = customer_cloud(aws, memorydb=True)
    assert register(built, "--yes").exit_code == 0
    cloud = get()
    refused = cloudplane("cloud", "delete", "--name", "acme", "--yes", "--delete-bucket")
    assert refused.exit_code == 2 and "never deletes it" in refused.stderr

    run = cloudplane("cloud", "delete", "--name", "acme", "--yes")
    assert run.exit_code == 0, run.stderr
    assert "Your own AWS resources were not touched" in run.stderr
    assert built.cp_role in run.stderr and "Trust relationships" in run.stderr
    assert clouds() == []

    ec2, iam = aws("ec2"), aws("iam")
    assert ec2.describe_vpcs(VpcIds=[built.vpc_id])["Vpcs"]
    assert len(ec2.describe_subnets(SubnetIds=built.subnet_ids)["Subnets"]) == len(built.subnet_ids)
    assert ec2.describe_security_groups(GroupIds=[built.sg_id])["SecurityGroups"]
    assert aws("s3").head_bucket(Bucket=built.bucket)
    assert aws("efs").describe_file_systems(FileSystemId=built.fs_id)["FileSystems"]
    assert aws("memorydb").describe_clusters(ClusterName=built.cluster)["Clusters"]
    for role in (built.cp_role, built.instance_role):
        assert iam.get_role(RoleName=role.rsplit("/", 1)[-1])["Role"]
    (statement,) = trust_of(aws, built.cp_role)["Statement"]
    assert statement["Condition"]["StringEquals"]["sts:ExternalId"] == cloud["external_id"]


def test_the_peer_flag_is_hidden_and_the_role_is_still_required(aws: Factory) -> None:
    assert "anyscale" not in cloudplane("cloud", "register", "--help").stdout
    built = customer_cloud(aws)
    args = register_args(built)
    at = args.index("--controlplane-iam-role-id")
    del args[at : at + 2]
    run = cloudplane(*args, "--yes")
    assert run.exit_code == 2 and "missing --controlplane-iam-role-id" in run.stderr
    assert clouds() == []


def test_register_json_output_carries_the_findings_either_way(aws: Factory) -> None:
    built = customer_cloud(aws)
    aws("ec2").revoke_security_group_ingress(
        GroupId=built.sg_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
        ],
    )
    refused = register(built, "--yes", "--output", "json")
    assert refused.exit_code == 1
    body = refused.json()
    assert body["cloud"] is None and body["verification"]["passed"] is False
    assert any(f["check"] == "SG-2" and not f["passed"] for f in body["verification"]["findings"])

    aws("ec2").authorize_security_group_ingress(
        GroupId=built.sg_id, IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="0.0.0.0/0"
    )
    accepted = register(built, "--yes", "--output", "json")
    assert accepted.exit_code == 0, accepted.stderr
    assert accepted.json()["cloud"]["name"] == "acme" and accepted.json()["verification"]["passed"] is True
