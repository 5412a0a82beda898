"""Intrinsic functions in YAML short form and JSON long form, conditions, AWS::LanguageExtensions, and
CloudFormation's ValidationError (HTTP 400, never a 500) for what the sandbox cannot run."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError

from .templates import events, outputs, stack

REGION = "us-west-2"

EXPORTER = json.dumps(
    {
        "Resources": {
            "Group": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "shared"}}
        },
        "Outputs": {"Shared": {"Value": {"Ref": "Group"}, "Export": {"Name": "shared-group"}}},
    }
)

SHORT_FORMS = """
AWSTemplateFormatVersion: 2010-09-09
Transform: AWS::LanguageExtensions
Parameters:
  Env: {Type: String, Default: prod}
  Cidr: {Type: String, Default: 10.40.0.0/16}
  Zones: {Type: CommaDelimitedList, Default: "a,b"}
  Index: {Type: Number, Default: 1}
  WithBucket: {Type: String, Default: "false"}
Mappings:
  Sizes:
    prod: {Bits: "8"}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  IsIndexOne: !Equals [!Ref Index, 1]
  MakeBucket: !Equals [!Ref WithBucket, true]
  ProdAndOne: !And [!Condition IsProd, !Condition IsIndexOne]
  BucketOrNotProd: !Or [!Condition MakeBucket, !Not [!Condition IsProd]]
  TwoZones: !Equals [{"Fn::Length": !Ref Zones}, 2]
Resources:
  Vpc:
    Type: AWS::EC2::VPC
    Properties:
      CidrBlock: !Ref Cidr
      Tags:
        - Key: Name
          Value: !Sub
            - "${Env}-${Kind}-${AWS::Region}"
            - Kind: !Select [!Ref Index, !Split [",", "x,vpc,y"]]
        - !If [IsProd, {Key: tier, Value: production}, !Ref AWS::NoValue]
        - !If [MakeBucket, {Key: never, Value: shown}, !Ref AWS::NoValue]
  Subnet:
    Type: AWS::EC2::Subnet
    Properties:
      VpcId: !Ref Vpc
      CidrBlock: !Select [1, !Cidr [!GetAtt Vpc.CidrBlock, 4, !FindInMap [Sizes, !Ref Env, Bits]]]
      AvailabilityZone: !Select [0, !GetAZs ""]
  Group:
    Type: AWS::EC2::SecurityGroup
    Properties:
      GroupDescription: !Join [" ", [group, of, !Ref Env]]
      VpcId: !GetAtt [Vpc, VpcId]
      SecurityGroupIngress:
        - !If [IsProd, {IpProtocol: tcp, FromPort: 443, ToPort: 443, CidrIp: 0.0.0.0/0}, !Ref AWS::NoValue]
        - {IpProtocol: tcp, FromPort: 22, ToPort: 22, CidrIp: !GetAtt Vpc.CidrBlock}
  Bucket:
    Type: AWS::S3::Bucket
    Condition: MakeBucket
Outputs:
  SubnetCidr: {Value: !GetAtt Subnet.CidrBlock}
  Zone: {Value: !GetAtt [Subnet, AvailabilityZone]}
  Encoded: {Value: !Base64 {"Fn::Sub": "${AWS::StackName}"}}
  Joined: {Value: !Join ["-", !Ref Zones]}
  ZoneCount: {Value: {"Fn::Length": !Ref Zones}}
  Json: {Value: !ToJsonString {env: !Ref Env, zones: !Ref Zones}}
  Literal: {Value: !Sub "${!NotAVariable}-${AWS::AccountId}"}
  Imported: {Value: !ImportValue shared-group}
  Defaulted: {Value: !FindInMap [Sizes, staging, Bits, {DefaultValue: "16"}]}
  BucketName: {Condition: MakeBucket, Value: !Ref Bucket}
  ProdAndOne: {Condition: ProdAndOne, Value: "yes"}
  BucketOrNotProd: {Condition: BucketOrNotProd, Value: "no"}
  TwoZones: {Condition: TwoZones, Value: "two"}
"""

LONG_FORMS = {
    "Parameters": {"Env": {"Type": "String", "Default": "dev"}},
    "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    "Resources": {
        "Vpc": {
            "Type": "AWS::EC2::VPC",
            "Properties": {
                "CidrBlock": "10.41.0.0/16",
                "Tags": [
                    {
                        "Key": "Name",
                        "Value": {"Fn::Join": ["-", [{"Ref": "Env"}, {"Ref": "AWS::StackName"}]]},
                    },
                    {"Fn::If": ["IsProd", {"Key": "tier", "Value": "production"}, {"Ref": "AWS::NoValue"}]},
                ],
            },
        },
        "Subnet": {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": {"Ref": "Vpc"},
                "CidrBlock": {"Fn::Select": ["0", {"Fn::Cidr": [{"Fn::GetAtt": "Vpc.CidrBlock"}, "2", "8"]}]},
                "AvailabilityZone": {"Fn::Select": [1, {"Fn::GetAZs": {"Ref": "AWS::Region"}}]},
            },
        },
    },
    "Outputs": {
        "Zone": {"Value": {"Fn::GetAtt": ["Subnet", "AvailabilityZone"]}},
        "Cidr": {"Value": {"Fn::GetAtt": "Subnet.CidrBlock"}},
        "Sub": {"Value": {"Fn::Sub": ["${Prefix}/${Vpc}/${Vpc.CidrBlock}", {"Prefix": {"Ref": "Env"}}]}},
        "Prod": {"Condition": "IsProd", "Value": "x"},
    },
}

FOR_EACH = """
Transform: AWS::LanguageExtensions
Parameters:
  Names: {Type: CommaDelimitedList, Default: "logs,data-set"}
  Keep: {Type: String, Default: "yes"}
Conditions:
  Keeping: !Equals [!Ref Keep, "yes"]
Resources:
  Fn::ForEach::Buckets:
    - Name
    - !Ref Names
    - Bucket&{Name}:
        Type: AWS::S3::Bucket
        DeletionPolicy: !If [Keeping, Retain, Delete]
        Properties:
          Tags: [{Key: purpose, Value: !Ref Name}]
Outputs:
  Fn::ForEach::Arns:
    - Name
    - !Ref Names
    - Bucket&{Name}Arn:
        Value: !GetAtt [!Sub "Bucket&{Name}", Arn]
"""


def _tags(resource: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in resource.get("Tags", [])}


def test_yaml_short_forms_resolve_as_on_aws(client: Callable[..., Any]) -> None:
    cfn, ec2 = client("cloudformation", REGION), client("ec2", REGION)
    cfn.create_stack(StackName="exporter", TemplateBody=EXPORTER)
    cfn.create_stack(StackName="functions", TemplateBody=SHORT_FORMS)

    assert stack(cfn, "functions")["StackStatus"] == "CREATE_COMPLETE"
    group_id = outputs(cfn, "exporter")["Shared"]
    assert outputs(cfn, "functions") == {
        "SubnetCidr": "10.40.1.0/24",
        "Zone": "us-west-2a",
        "Encoded": base64.b64encode(b"functions").decode(),
        "Joined": "a-b",
        "ZoneCount": "2",
        "Json": '{"env":"prod","zones":["a","b"]}',
        "Literal": "${NotAVariable}-123456789012",
        "Imported": group_id,
        "Defaulted": "16",
        "ProdAndOne": "yes",
        "TwoZones": "two",
    }
    resources = {
        r["LogicalResourceId"] for r in cfn.describe_stack_resources(StackName="functions")["StackResources"]
    }
    assert resources == {"Vpc", "Subnet", "Group"}
    vpc = [v for v in ec2.describe_vpcs()["Vpcs"] if v["CidrBlock"] == "10.40.0.0/16"][0]
    tags = _tags(vpc)
    assert tags["Name"] == "prod-vpc-us-west-2" and tags["tier"] == "production" and "never" not in tags
    group = [
        g for g in ec2.describe_security_groups()["SecurityGroups"] if g["Description"] == "group of prod"
    ][0]
    assert group["VpcId"] == vpc["VpcId"]
    ingress = {(rule["FromPort"], rule["IpRanges"][0]["CidrIp"]) for rule in group["IpPermissions"]}
    assert ingress == {(443, "0.0.0.0/0"), (22, "10.40.0.0/16")}


def test_json_long_forms_resolve_as_on_aws(client: Callable[..., Any]) -> None:
    cfn = client("cloudformation", REGION)
    cfn.create_stack(StackName="long", TemplateBody=json.dumps(LONG_FORMS))

    assert stack(cfn, "long")["StackStatus"] == "CREATE_COMPLETE"
    values = outputs(cfn, "long")
    vpc_id = cfn.describe_stack_resource(StackName="long", LogicalResourceId="Vpc")["StackResourceDetail"][
        "PhysicalResourceId"
    ]
    assert values == {"Zone": "us-west-2b", "Cidr": "10.41.0.0/24", "Sub": f"dev/{vpc_id}/10.41.0.0/16"}
    vpc = client("ec2", REGION).describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert {k: v for k, v in _tags(vpc).items() if not k.startswith("aws:")} == {"Name": "dev-long"}


def test_for_each_and_deletion_policy_as_a_function(client: Callable[..., Any]) -> None:
    cfn, s3 = client("cloudformation", REGION), client("s3", REGION)
    stack_id = cfn.create_stack(StackName="loops", TemplateBody=FOR_EACH)["StackId"]

    assert stack(cfn, "loops")["StackStatus"] == "CREATE_COMPLETE"
    resources = cfn.describe_stack_resources(StackName="loops")["StackResources"]
    buckets = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources}
    assert set(buckets) == {"Bucketlogs", "Bucketdataset"}
    assert outputs(cfn, "loops") == {f"{key}Arn": f"arn:aws:s3:::{name}" for key, name in buckets.items()}
    purposes = {
        name: _tags({"Tags": s3.get_bucket_tagging(Bucket=name)["TagSet"]}).get("purpose")
        for name in buckets.values()
    }
    assert sorted(purposes.values()) == ["data-set", "logs"]

    cfn.delete_stack(StackName="loops")
    assert stack(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    skipped = {
        e["LogicalResourceId"] for e in events(cfn, stack_id) if e["ResourceStatus"] == "DELETE_SKIPPED"
    }
    assert skipped == set(buckets)
    remaining = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert set(buckets.values()) <= remaining


REFUSED = [
    (
        "Transform: AWS::Serverless-2016-10-31\nResources:\n  F: {Type: AWS::Serverless::Function}\n",
        "Template format error: Unsupported transform AWS::Serverless-2016-10-31",
    ),
    (
        "Resources:\n  V:\n    Type: AWS::EC2::VPC\n    Properties: {CidrBlock: !Foo 10.0.0.0/16}\n",
        "Template error: Encountered unsupported function: Fn::Foo",
    ),
    (
        "Resources:\n  V: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n"
        "Outputs:\n  N: {Value: !Length [a, b]}\n",
        "Template error: Encountered unsupported function: Fn::Length",
    ),
    (
        "Resources:\n  V: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n"
        "Outputs:\n  N: {Value: !GetAtt V.NoSuchThing}\n",
        "Template error: resource V does not support attribute type NoSuchThing in Fn::GetAtt",
    ),
    ("Resources:\n  V: {Type: AWS::EC2::VPC\n", "Template format error: YAML not well-formed. (line 3"),
    ('{"Resources": {"V": }', "Template format error: JSON not well-formed. (line 1, column 21)"),
    (
        "Resources:\n  T: {Type: AWS::Example::Nothing}\n",
        "Unrecognized resource types: [AWS::Example::Nothing]",
    ),
    (
        "Parameters:\n  P: {Default: x}\nResources:\n  V: {Type: AWS::EC2::VPC, Properties: {CidrBlock: 10.0.0.0/16}}\n",
        "Template error: the sandbox could not process this template",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"), REFUSED, ids=[m.split(":")[-1].strip()[:40] for _, m in REFUSED]
)
def test_what_the_sandbox_cannot_run_is_a_validation_error(
    client: Callable[..., Any], body: str, message: str
) -> None:
    cfn = client("cloudformation", REGION)
    with pytest.raises(ClientError) as refused:
        cfn.create_stack(StackName="refused", TemplateBody=body)

    error = refused.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["Error"]["Code"] == "ValidationError"
    assert message in error["Error"]["Message"]
    assert cfn.list_stacks()["StackSummaries"] == []
