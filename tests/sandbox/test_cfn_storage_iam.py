"""Buckets, bucket policies, roles and EFS created through CloudFormation behave as on AWS."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .templates import TAG_KEY, bucket, getatt, outputs, ref, stack, tags, template

BUCKET = "cloudplane-data-c1"


def _bucket_resources() -> dict[str, Any]:
    bucket_arn = getatt("Bucket", "Arn")
    return {
        "Bucket": bucket(BUCKET, "c1"),
        "BucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("Bucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, {"Fn::Sub": ["${Arn}/*", {"Arn": bucket_arn}]}],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        }
                    ],
                },
            },
        },
    }


def test_bucket_settings_and_policy(client: Any) -> None:
    cfn, s3 = client("cloudformation"), client("s3")
    cfn.create_stack(
        StackName="b",
        TemplateBody=template(_bucket_resources(), {"Name": ref("Bucket"), "Arn": getatt("Bucket", "Arn")}),
    )
    assert outputs(cfn, "b") == {"Name": BUCKET, "Arn": f"arn:aws:s3:::{BUCKET}"}

    rule = s3.get_bucket_cors(Bucket=BUCKET)["CORSRules"][0]
    assert rule["AllowedMethods"] == ["GET", "PUT"] and rule["MaxAgeSeconds"] == 3600
    assert rule["AllowedOrigins"] == ["https://console.example.com"]
    assert all(s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"].values())
    assert s3.get_bucket_versioning(Bucket=BUCKET)["Status"] == "Enabled"
    sse = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert sse["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert {"Key": TAG_KEY, "Value": "c1"} in s3.get_bucket_tagging(Bucket=BUCKET)["TagSet"]
    policy = json.loads(s3.get_bucket_policy(Bucket=BUCKET)["Policy"])
    assert policy["Statement"][0]["Sid"] == "TlsOnly"

    # The TLS-only Deny must not block requests (moto alone would 403 every object call).
    s3.put_object(Bucket=BUCKET, Key="k", Body=b"data")
    assert s3.get_object(Bucket=BUCKET, Key="k")["Body"].read() == b"data"

    # Deleting the stack keeps the retained bucket (and its content) but removes the policy resource.
    cfn.delete_stack(StackName="b")
    assert s3.head_bucket(Bucket=BUCKET)["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as error:
        s3.get_bucket_policy(Bucket=BUCKET)
    assert error.value.response["Error"]["Code"] == "NoSuchBucketPolicy"


def test_unconditional_deny_in_a_bucket_policy_still_applies(client: Any) -> None:
    s3 = client("s3")
    s3.create_bucket(Bucket="deny-test")
    statement = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::deny-test/*",
    }
    s3.put_bucket_policy(
        Bucket="deny-test", Policy=json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    )
    s3.put_object(Bucket="deny-test", Key="k", Body=b"x")
    with pytest.raises(ClientError):
        s3.get_object(Bucket="deny-test", Key="k")


def test_non_empty_bucket_fails_the_stack_delete(client: Any) -> None:
    cfn, s3 = client("cloudformation"), client("s3")
    resources = {"Bucket": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "plain-bucket"}}}
    cfn.create_stack(StackName="b", TemplateBody=template(resources))
    s3.put_object(Bucket="plain-bucket", Key="k", Body=b"x")

    cfn.delete_stack(StackName="b")
    described = stack(cfn, "b")
    assert described["StackStatus"] == "DELETE_FAILED"
    assert "[Bucket]" in described["StackStatusReason"] and "BucketNotEmpty" in described["StackStatusReason"]

    s3.delete_object(Bucket="plain-bucket", Key="k")
    cfn.delete_stack(StackName="b")
    assert (
        cfn.describe_stacks(StackName=described["StackId"])["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"
    )


def _role_resources() -> dict[str, Any]:
    return {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": "c1-instance",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ec2.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "ManagedPolicyArns": [
                    {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"}
                ],
                "Policies": [
                    {
                        "PolicyName": "bucket",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}],
                        },
                    }
                ],
                "Tags": tags("c1"),
            },
        },
        "Profile": {"Type": "AWS::IAM::InstanceProfile", "Properties": {"Roles": [ref("Role")]}},
    }


def test_role_policies_and_instance_profile(client: Any) -> None:
    cfn, iam = client("cloudformation"), client("iam")
    cfn.create_stack(
        StackName="r",
        TemplateBody=template(
            _role_resources(), {"Role": getatt("Role", "Arn"), "Profile": getatt("Profile", "Arn")}
        ),
    )
    out = outputs(cfn, "r")
    assert out["Role"] == "arn:aws:iam::123456789012:role/c1-instance"
    assert out["Profile"].startswith("arn:aws:iam::123456789012:instance-profile/")

    document = iam.get_role_policy(RoleName="c1-instance", PolicyName="bucket")["PolicyDocument"]
    assert isinstance(document, dict) and document["Statement"][0]["Action"] == "s3:*"
    attached = iam.list_attached_role_policies(RoleName="c1-instance")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["AmazonEC2ContainerRegistryReadOnly"]
    assert {"Key": TAG_KEY, "Value": "c1"} in iam.list_role_tags(RoleName="c1-instance")["Tags"]
    profiles = iam.list_instance_profiles_for_role(RoleName="c1-instance")["InstanceProfiles"]
    assert [p["Arn"] for p in profiles] == [out["Profile"]]

    cfn.delete_stack(StackName="r")
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"] == "c1-instance"]
    assert not iam.list_instance_profiles()["InstanceProfiles"]


def test_malformed_inline_policy_fails_the_role(client: Any) -> None:
    cfn, iam = client("cloudformation"), client("iam")
    resources = _role_resources()
    resources["Role"]["Properties"]["Policies"][0]["PolicyDocument"] = {"Statement": [{"Effect": "Maybe"}]}
    cfn.create_stack(StackName="r", TemplateBody=template(resources))
    assert stack(cfn, "r")["StackStatus"] == "ROLLBACK_COMPLETE"
    assert not [r for r in iam.list_roles()["Roles"] if r["RoleName"] == "c1-instance"]


def test_efs_backup_policy_tags_and_mount_target_ip(client: Any) -> None:
    cfn, efs = client("cloudformation"), client("efs")
    resources = {
        "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
        "Subnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {"VpcId": ref("Vpc"), "CidrBlock": "10.0.0.0/20", "AvailabilityZone": "us-east-1a"},
        },
        "FileSystem": {
            "Type": "AWS::EFS::FileSystem",
            "Properties": {
                "Encrypted": True,
                "BackupPolicy": {"Status": "ENABLED"},
                "FileSystemTags": tags("c1"),
            },
        },
        "MountTarget": {
            "Type": "AWS::EFS::MountTarget",
            "Properties": {"FileSystemId": ref("FileSystem"), "SubnetId": ref("Subnet")},
        },
    }
    body = template(
        resources,
        {
            "Id": ref("FileSystem"),
            "FsId": getatt("FileSystem", "FileSystemId"),
            "FsArn": getatt("FileSystem", "Arn"),
            "Ip": getatt("MountTarget", "IpAddress"),
        },
    )
    cfn.create_stack(StackName="fs", TemplateBody=body)
    out = outputs(cfn, "fs")
    assert out["FsId"] == out["Id"] and out["FsArn"].endswith(f"file-system/{out['Id']}")
    assert out["Ip"].startswith("10.0.")
    assert efs.describe_backup_policy(FileSystemId=out["Id"])["BackupPolicy"]["Status"] == "ENABLED"
    assert {"Key": TAG_KEY, "Value": "c1"} in efs.describe_file_systems(FileSystemId=out["Id"])[
        "FileSystems"
    ][0]["Tags"]
