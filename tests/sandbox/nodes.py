"""Building a small cloud in the sandbox with boto3 (VPC, groups, role and instance profile, bucket) and
launching instances whose start-up scripts report into the bucket."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from .conftest import REGION

TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}
AMI = "ami-12345678"


@dataclass
class Cloud:
    vpc_id: str
    subnet_ids: list[str]
    node_group: str
    bucket: str
    role_name: str
    role_arn: str
    profile_name: str


def s3_policy(bucket: str, actions: list[str], prefix: str = "*") -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": f"arn:aws:s3:::{bucket}/{prefix}"}],
    }


def build_cloud(
    client: Callable[..., Any],
    *,
    trust: dict[str, Any] = TRUST_EC2,
    role_policy: dict[str, Any] | None = None,
    name: str = "node",
) -> Cloud:
    ec2, iam, s3 = client("ec2"), client("iam"), client("s3")
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet_ids = [
        ec2.create_subnet(VpcId=vpc_id, CidrBlock=f"10.20.{i}.0/24", AvailabilityZone=f"{REGION}{zone}")[
            "Subnet"
        ]["SubnetId"]
        for i, zone in enumerate("ab", start=1)
    ]
    node_group = ec2.create_security_group(GroupName=f"{name}-nodes", Description="nodes", VpcId=vpc_id)[
        "GroupId"
    ]
    bucket = f"{name}-data-bucket"
    s3.create_bucket(Bucket=bucket)
    role = iam.create_role(RoleName=f"{name}-role", AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    iam.put_role_policy(
        RoleName=role["RoleName"],
        PolicyName="data",
        PolicyDocument=json.dumps(role_policy or s3_policy(bucket, ["s3:GetObject", "s3:PutObject"])),
    )
    iam.create_instance_profile(InstanceProfileName=f"{name}-profile")
    iam.add_role_to_instance_profile(InstanceProfileName=f"{name}-profile", RoleName=role["RoleName"])
    return Cloud(vpc_id, subnet_ids, node_group, bucket, role["RoleName"], role["Arn"], f"{name}-profile")


def launch(
    client: Callable[..., Any],
    cloud: Cloud,
    script: str,
    *,
    subnet: int = 0,
    groups: list[str] | None = None,
    profile: bool = True,
) -> str:
    params: dict[str, Any] = {
        "ImageId": AMI,
        "MinCount": 1,
        "MaxCount": 1,
        "InstanceType": "t3.micro",
        "SubnetId": cloud.subnet_ids[subnet],
        "SecurityGroupIds": groups or [cloud.node_group],
        "UserData": script,
    }
    if profile:
        params["IamInstanceProfile"] = {"Name": cloud.profile_name}
    return client("ec2").run_instances(**params)["Instances"][0]["InstanceId"]


def wait_for(check: Callable[[], Any], timeout: float = 15.0, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def console(client: Callable[..., Any], instance_id: str) -> str:
    """The instance's console output (AWS sends it base64-encoded; botocore decodes it)."""
    return str(client("ec2").get_console_output(InstanceId=instance_id).get("Output", ""))


def result(
    client: Callable[..., Any], bucket: str, instance_id: str, timeout: float = 15.0
) -> dict[str, Any]:
    """The JSON the instance's script wrote to results/<instance id>.json (its console output on timeout)."""
    s3 = client("s3")

    def read() -> dict[str, Any] | None:
        try:
            body = s3.get_object(Bucket=bucket, Key=f"results/{instance_id}.json")["Body"].read()
        except ClientError:
            return None
        return json.loads(body)

    try:
        return wait_for(read, timeout, f"the result of {instance_id}")
    except AssertionError:
        raise AssertionError(
            f"no result from {instance_id}; console:\n{console(client, instance_id)}"
        ) from None
