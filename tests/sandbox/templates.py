"""Templates and helpers for the sandbox tests, built as plain dicts."""

from __future__ import annotations

import json
from typing import Any

TAG_KEY = "cloudplane-cloud-id"


def tags(cloud_id: str, name: str | None = None) -> list[dict[str, str]]:
    result = [{"Key": TAG_KEY, "Value": cloud_id}]
    if name:
        result.append({"Key": "Name", "Value": name})
    return result


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def getatt(logical_id: str, attribute: str) -> dict[str, list[str]]:
    return {"Fn::GetAtt": [logical_id, attribute]}


def template(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if outputs:
        body["Outputs"] = {key: {"Value": value} for key, value in outputs.items()}
    return json.dumps(body)


def vpc(cloud_id: str, cidr: str = "10.0.0.0/16") -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::VPC",
        "Properties": {
            "CidrBlock": cidr,
            "EnableDnsSupport": True,
            "EnableDnsHostnames": True,
            "Tags": tags(cloud_id, "vpc"),
        },
    }


def subnet(cloud_id: str, cidr: str, zone: Any, vpc_id: str = "Vpc") -> dict[str, Any]:
    return {
        "Type": "AWS::EC2::Subnet",
        "Properties": {
            "VpcId": ref(vpc_id),
            "CidrBlock": cidr,
            "AvailabilityZone": zone,
            "MapPublicIpOnLaunch": True,
            "Tags": tags(cloud_id),
        },
    }


def bucket(name: str, cloud_id: str) -> dict[str, Any]:
    """A bucket with every setting the managed template gives it, retained on delete."""
    return {
        "Type": "AWS::S3::Bucket",
        "DeletionPolicy": "Retain",
        "Properties": {
            "BucketName": name,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "VersioningConfiguration": {"Status": "Enabled"},
            "CorsConfiguration": {
                "CorsRules": [
                    {
                        "AllowedHeaders": ["*"],
                        "AllowedMethods": ["GET", "PUT"],
                        "AllowedOrigins": ["https://console.example.com"],
                        "ExposedHeaders": ["Content-Range"],
                        "MaxAge": 3600,
                    }
                ]
            },
            "Tags": tags(cloud_id),
        },
    }


def managed_cloud(cloud_id: str, zones: list[str], memorydb: bool = True) -> dict[str, Any]:
    """One stack with every resource type a managed cloud uses, and outputs on all of them."""
    anywhere = "0.0.0.0/0"
    sg_id = getatt("SecurityGroup", "GroupId")
    bucket_arn = getatt("Bucket", "Arn")
    resources: dict[str, Any] = {
        "Vpc": vpc(cloud_id),
        "InternetGateway": {"Type": "AWS::EC2::InternetGateway", "Properties": {"Tags": tags(cloud_id)}},
        "GatewayAttachment": {
            "Type": "AWS::EC2::VPCGatewayAttachment",
            "Properties": {"VpcId": ref("Vpc"), "InternetGatewayId": ref("InternetGateway")},
        },
        "RouteTable": {
            "Type": "AWS::EC2::RouteTable",
            "Properties": {"VpcId": ref("Vpc"), "Tags": tags(cloud_id)},
        },
        "DefaultRoute": {
            "Type": "AWS::EC2::Route",
            "DependsOn": "GatewayAttachment",
            "Properties": {
                "RouteTableId": ref("RouteTable"),
                "DestinationCidrBlock": anywhere,
                "GatewayId": ref("InternetGateway"),
            },
        },
        "S3Endpoint": {
            "Type": "AWS::EC2::VPCEndpoint",
            "Properties": {
                "VpcId": ref("Vpc"),
                "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"},
                "VpcEndpointType": "Gateway",
                "RouteTableIds": [ref("RouteTable")],
            },
        },
        "SecurityGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {
                "GroupDescription": "cloud nodes",
                "VpcId": ref("Vpc"),
                "SecurityGroupIngress": [
                    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": anywhere},
                    {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": anywhere},
                ],
                "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": anywhere}],
                "Tags": tags(cloud_id),
            },
        },
        "SelfIngress": {
            "Type": "AWS::EC2::SecurityGroupIngress",
            "Properties": {"GroupId": sg_id, "IpProtocol": "-1", "SourceSecurityGroupId": sg_id},
        },
        "SelfEgress": {
            "Type": "AWS::EC2::SecurityGroupEgress",
            "Properties": {"GroupId": sg_id, "IpProtocol": "-1", "DestinationSecurityGroupId": sg_id},
        },
        "Bucket": bucket(f"cloudplane-{cloud_id}", cloud_id),
        "BucketPolicy": {
            "Type": "AWS::S3::BucketPolicy",
            "Properties": {
                "Bucket": ref("Bucket"),
                "PolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "RolesReadWrite",
                            "Effect": "Allow",
                            "Principal": {"AWS": [getatt("InstanceRole", "Arn")]},
                            "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                            "Resource": [bucket_arn, {"Fn::Sub": ["${Arn}/*", {"Arn": bucket_arn}]}],
                        },
                        {
                            "Sid": "TlsOnly",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Action": "s3:*",
                            "Resource": [bucket_arn, {"Fn::Sub": ["${Arn}/*", {"Arn": bucket_arn}]}],
                            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                        },
                    ],
                },
            },
        },
        "ControlPlaneRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": f"cloudplane-{cloud_id}-controlplane",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": "ext-123"}},
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "ec2",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
                        },
                    }
                ],
                "Tags": tags(cloud_id),
            },
        },
        "InstanceRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": f"cloudplane-{cloud_id}-instance",
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
                            "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": [bucket_arn]}],
                        },
                    }
                ],
                "Tags": tags(cloud_id),
            },
        },
        "InstanceProfile": {
            "Type": "AWS::IAM::InstanceProfile",
            "Properties": {"InstanceProfileName": ref("InstanceRole"), "Roles": [ref("InstanceRole")]},
        },
        "FileSystem": {
            "Type": "AWS::EFS::FileSystem",
            "Properties": {
                "Encrypted": True,
                "BackupPolicy": {"Status": "ENABLED"},
                "FileSystemTags": tags(cloud_id),
            },
        },
    }
    outputs: dict[str, Any] = {
        "VpcId": ref("Vpc"),
        "RouteTableId": ref("RouteTable"),
        "InternetGatewayId": ref("InternetGateway"),
        "EndpointId": ref("S3Endpoint"),
        "SecurityGroupId": sg_id,
        "BucketName": ref("Bucket"),
        "BucketArn": bucket_arn,
        "FileSystemRef": ref("FileSystem"),
        "FileSystemId": getatt("FileSystem", "FileSystemId"),
        "ControlPlaneRoleArn": getatt("ControlPlaneRole", "Arn"),
        "InstanceRoleArn": getatt("InstanceRole", "Arn"),
        "InstanceProfileArn": getatt("InstanceProfile", "Arn"),
    }
    for index, zone in enumerate(zones):
        resources[f"Subnet{index}"] = subnet(cloud_id, f"10.0.{index * 16}.0/20", zone)
        resources[f"Subnet{index}Association"] = {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            "Properties": {"SubnetId": ref(f"Subnet{index}"), "RouteTableId": ref("RouteTable")},
        }
        resources[f"MountTarget{index}"] = {
            "Type": "AWS::EFS::MountTarget",
            "Properties": {
                "FileSystemId": ref("FileSystem"),
                "SubnetId": ref(f"Subnet{index}"),
                "SecurityGroups": [sg_id],
            },
        }
        outputs[f"Subnet{index}Id"] = ref(f"Subnet{index}")
        outputs[f"Subnet{index}Zone"] = getatt(f"Subnet{index}", "AvailabilityZone")
        outputs[f"MountTarget{index}Ip"] = getatt(f"MountTarget{index}", "IpAddress")
    if memorydb:
        name = f"cp-{cloud_id}"
        resources["MemoryDbParameterGroup"] = {
            "Type": "AWS::MemoryDB::ParameterGroup",
            "Properties": {
                "ParameterGroupName": name,
                "Family": "memorydb_redis7",
                "Parameters": [{"Name": "maxmemory-policy", "Value": "allkeys-lru"}],
                "Tags": tags(cloud_id),
            },
        }
        resources["MemoryDbSubnetGroup"] = {
            "Type": "AWS::MemoryDB::SubnetGroup",
            "Properties": {
                "SubnetGroupName": name,
                "SubnetIds": [ref(f"Subnet{index}") for index in range(len(zones))],
                "Tags": tags(cloud_id),
            },
        }
        resources["MemoryDbCluster"] = {
            "Type": "AWS::MemoryDB::Cluster",
            "Properties": {
                "ClusterName": name,
                "NodeType": "db.t4g.small",
                "TLSEnabled": True,
                "NumReplicasPerShard": 1,
                "ACLName": "open-access",
                "SecurityGroupIds": [sg_id],
                "ParameterGroupName": ref("MemoryDbParameterGroup"),
                "SubnetGroupName": ref("MemoryDbSubnetGroup"),
                "Tags": tags(cloud_id),
            },
        }
        outputs["MemoryDbName"] = ref("MemoryDbCluster")
        outputs["MemoryDbArn"] = getatt("MemoryDbCluster", "ARN")
        outputs["MemoryDbEndpoint"] = getatt("MemoryDbCluster", "ClusterEndpoint.Address")
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Resources": resources,
        "Outputs": {key: {"Value": value} for key, value in outputs.items()},
    }


def stack(cfn: Any, name: str) -> dict[str, Any]:
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def outputs(cfn: Any, name: str) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack(cfn, name).get("Outputs", [])}


def events(cfn: Any, name: str) -> list[dict[str, Any]]:
    """Stack events, oldest first."""
    return list(reversed(cfn.describe_stack_events(StackName=name)["StackEvents"]))
