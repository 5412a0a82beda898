"""Resource builders shared by the managed cloud's template and the customer-defined one.

Both templates hold the same security group, bucket, roles, EFS and MemoryDB; they differ in how they
name, tag and describe them, which `CloudLabels` captures (a value may be a CloudFormation expression).
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloudplane.aws import policies
from cloudplane.naming import TAG_KEY

MEMORYDB_NODE_TYPE = "db.t4g.small"
MEMORYDB_PORT = 6379
# Engine, version and parameter-group family go together: AWS refuses a parameter group of another family
# (InvalidParameterCombination), and the engine and version it picks when they are left out change over time.
MEMORYDB_ENGINE = "redis"
MEMORYDB_ENGINE_VERSION = "7.1"
MEMORYDB_PARAMETER_GROUP_FAMILY = "memorydb_redis7"
ECR_READ_ONLY = "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
CORS_EXPOSED_HEADERS = ["Accept-Ranges", "Content-Range", "Content-Length"]

Resources = dict[str, Any]
VPC_CIDR = "10.0.0.0/16"


@dataclass(frozen=True)
class CloudLabels:
    """How one template names, tags and describes its resources."""

    cloud_id: str | None  # value of the cloudplane-cloud-id tag; None: not known yet, no such tag
    # suffix -> a Name tag or group name: "-public" -> "cloudplane-cld_x-public"
    name: Callable[[str], Any]
    describe: Callable[[str], Any]  # "Ray clusters of cloud" -> "Ray clusters of cloud cld_x"
    bucket_name: Any
    controlplane_role_name: Any
    instance_role_name: Any
    memorydb_name: Any
    external_id: str
    controlplane_principal: str  # ARN the cross-account role trusts
    controlplane_policies: dict[str, dict[str, Any]]  # inline policies of the cross-account role, by name

    def tags(self, name: Any = None) -> list[dict[str, Any]]:
        tags: list[dict[str, Any]] = [{"Key": TAG_KEY, "Value": self.cloud_id}] if self.cloud_id else []
        if name:
            tags.insert(0, {"Key": "Name", "Value": name})
        return tags


def subnet_cidrs(count: int, vpc_cidr: str = VPC_CIDR) -> list[str]:
    """Split the VPC into equal subnets, at least four slots (/18 of a /16) so a later AZ fits."""
    if count < 1:
        raise ValueError("a cloud needs at least one subnet")
    network = ipaddress.ip_network(vpc_cidr)
    extra_bits = max(2, math.ceil(math.log2(count)))
    return [str(s) for s in list(network.subnets(prefixlen_diff=extra_bits))[:count]]


def vpc_and_gateway(labels: CloudLabels, resources: Resources) -> None:
    """VPC with DNS, an attached internet gateway and a public route table whose default route uses it."""
    resources["Vpc"] = {
        "Type": "AWS::EC2::VPC",
        "Properties": {
            "CidrBlock": VPC_CIDR,
            "EnableDnsSupport": True,
            "EnableDnsHostnames": True,
            "Tags": labels.tags(labels.name("")),
        },
    }
    resources["InternetGateway"] = {
        "Type": "AWS::EC2::InternetGateway",
        "Properties": {"Tags": labels.tags(labels.name(""))},
    }
    resources["InternetGatewayAttachment"] = {
        "Type": "AWS::EC2::VPCGatewayAttachment",
        "Properties": {"VpcId": ref("Vpc"), "InternetGatewayId": ref("InternetGateway")},
    }
    resources["PublicRouteTable"] = {
        "Type": "AWS::EC2::RouteTable",
        "Properties": {"VpcId": ref("Vpc"), "Tags": labels.tags(labels.name("-public"))},
    }
    resources["DefaultRoute"] = {
        "Type": "AWS::EC2::Route",
        "DependsOn": "InternetGatewayAttachment",
        "Properties": {
            "RouteTableId": ref("PublicRouteTable"),
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": ref("InternetGateway"),
        },
    }


def ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _with_tags(properties: dict[str, Any], tags: list[dict[str, Any]], key: str = "Tags") -> dict[str, Any]:
    """An empty tag list is left out rather than written as []."""
    if tags:
        properties[key] = tags
    return properties


def group_id() -> dict[str, Any]:
    return {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}


def s3_gateway_endpoint(resources: Resources, route_tables: list[str]) -> None:
    resources["S3GatewayEndpoint"] = {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {
            "VpcId": ref("Vpc"),
            "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"},
            "VpcEndpointType": "Gateway",
            "RouteTableIds": [ref(table) for table in route_tables],
        },
    }


def security_group(labels: CloudLabels, resources: Resources) -> None:
    anywhere = "0.0.0.0/0"
    resources["SecurityGroup"] = {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": _with_tags(
            {
                "GroupName": labels.name(""),
                "GroupDescription": labels.describe("Ray clusters of cloud"),
                "VpcId": ref("Vpc"),
                "SecurityGroupIngress": [
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 443,
                        "ToPort": 443,
                        "CidrIp": anywhere,
                        "Description": "HTTPS",
                    },
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 22,
                        "ToPort": 22,
                        "CidrIp": anywhere,
                        "Description": "SSH",
                    },
                ],
                "SecurityGroupEgress": [
                    {"IpProtocol": "-1", "CidrIp": anywhere, "Description": "All outbound"}
                ],
            },
            labels.tags(labels.name("")),
        ),
    }
    resources["SecurityGroupSelfIngress"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {
            "GroupId": group_id(),
            "IpProtocol": "-1",
            "SourceSecurityGroupId": group_id(),
            "Description": "All traffic within the cloud",
        },
    }
    resources["SecurityGroupSelfEgress"] = {
        "Type": "AWS::EC2::SecurityGroupEgress",
        "Properties": {
            "GroupId": group_id(),
            "IpProtocol": "-1",
            "DestinationSecurityGroupId": group_id(),
            "Description": "All protocols within the cloud (EFA)",
        },
    }


def bucket(labels: CloudLabels, resources: Resources) -> None:
    resources["Bucket"] = {
        "Type": "AWS::S3::Bucket",
        # The data outlives the cloud: deleting the stack keeps the bucket.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": _with_tags(
            {
                "BucketName": labels.bucket_name,
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
                # Versioning guards against lost data; old versions expire so storage does not grow unseen.
                "LifecycleConfiguration": {
                    "Rules": [
                        {
                            "Id": "ExpireOldVersions",
                            "Status": "Enabled",
                            "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                        }
                    ]
                },
                "CorsConfiguration": {
                    "CorsRules": [
                        {
                            "Id": "CloudplaneConsole",
                            "AllowedHeaders": ["*"],
                            "AllowedMethods": list(policies.CORS_METHODS),
                            "AllowedOrigins": [policies.CONSOLE_ORIGIN],
                            "ExposedHeaders": CORS_EXPOSED_HEADERS,
                            "MaxAge": 3600,
                        }
                    ]
                },
            },
            labels.tags(),
        ),
    }
    bucket_arn = {"Fn::GetAtt": ["Bucket", "Arn"]}
    resources["BucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": ref("Bucket"),
            "PolicyDocument": policies.document(
                [
                    {
                        "Sid": "CloudRolesReadWrite",
                        "Effect": "Allow",
                        "Principal": {
                            "AWS": [
                                {"Fn::GetAtt": ["ControlPlaneRole", "Arn"]},
                                {"Fn::GetAtt": ["InstanceRole", "Arn"]},
                            ]
                        },
                        "Action": ["s3:ListBucket", *policies.BUCKET_OBJECT_ACTIONS],
                        "Resource": [bucket_arn, {"Fn::Sub": ["${Arn}/*", {"Arn": bucket_arn}]}],
                    }
                ]
            ),
        },
    }


def roles(labels: CloudLabels, resources: Resources) -> None:
    resources["ControlPlaneRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": _with_tags(
            {
                "RoleName": labels.controlplane_role_name,
                "Description": labels.describe("Lets the cloudplane control plane operate cloud"),
                "AssumeRolePolicyDocument": policies.controlplane_trust_policy(
                    labels.controlplane_principal, labels.external_id
                ),
                "Policies": [
                    {"PolicyName": name, "PolicyDocument": doc}
                    for name, doc in labels.controlplane_policies.items()
                ],
            },
            labels.tags(),
        ),
    }
    resources["InstanceRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": _with_tags(
            {
                "RoleName": labels.instance_role_name,
                "Description": labels.describe("Default role of the Ray cluster nodes of cloud"),
                "AssumeRolePolicyDocument": policies.instance_trust_policy(),
                "ManagedPolicyArns": [{"Fn::Sub": ECR_READ_ONLY}],
                "Policies": [
                    {
                        "PolicyName": policies.INSTANCE_BUCKET_POLICY_NAME,
                        "PolicyDocument": policies.document(
                            policies.instance_bucket_statements({"Fn::GetAtt": ["Bucket", "Arn"]})
                        ),
                    }
                ],
            },
            labels.tags(),
        ),
    }
    resources["InstanceProfile"] = {
        "Type": "AWS::IAM::InstanceProfile",
        "Properties": {"InstanceProfileName": ref("InstanceRole"), "Roles": [ref("InstanceRole")]},
    }


def efs(labels: CloudLabels, resources: Resources, subnets: list[str]) -> None:
    resources["FileSystem"] = {
        "Type": "AWS::EFS::FileSystem",
        "Properties": _with_tags(
            {
                "Encrypted": True,
                "PerformanceMode": "generalPurpose",
                "BackupPolicy": {"Status": "ENABLED"},
                "LifecyclePolicies": [{"TransitionToIA": "AFTER_30_DAYS"}],
            },
            labels.tags(labels.name("")),
            key="FileSystemTags",
        ),
    }
    for index, subnet in enumerate(subnets):
        resources[f"MountTarget{index}"] = {
            "Type": "AWS::EFS::MountTarget",
            "Properties": {
                "FileSystemId": ref("FileSystem"),
                "SubnetId": ref(subnet),
                "SecurityGroups": [group_id()],
            },
        }


def memorydb(labels: CloudLabels, resources: Resources, subnets: list[str]) -> None:
    resources["MemoryDbParameterGroup"] = {
        "Type": "AWS::MemoryDB::ParameterGroup",
        "Properties": _with_tags(
            {
                "ParameterGroupName": labels.memorydb_name,
                "Family": MEMORYDB_PARAMETER_GROUP_FAMILY,
                "Description": labels.describe("Head-node fault tolerance of cloud"),
                "Parameters": {"maxmemory-policy": "allkeys-lru"},
            },
            labels.tags(),
        ),
    }
    resources["MemoryDbSubnetGroup"] = {
        "Type": "AWS::MemoryDB::SubnetGroup",
        "Properties": _with_tags(
            {
                "SubnetGroupName": labels.memorydb_name,
                "Description": labels.describe("Subnets of cloud"),
                "SubnetIds": [ref(s) for s in subnets],
            },
            labels.tags(),
        ),
    }
    resources["MemoryDbCluster"] = {
        "Type": "AWS::MemoryDB::Cluster",
        "Properties": _with_tags(
            {
                "ClusterName": labels.memorydb_name,
                "NodeType": MEMORYDB_NODE_TYPE,
                "Engine": MEMORYDB_ENGINE,
                "EngineVersion": MEMORYDB_ENGINE_VERSION,
                "ACLName": "open-access",
                "TLSEnabled": True,
                "NumShards": 1,
                "NumReplicasPerShard": 1,
                "Port": MEMORYDB_PORT,
                "ParameterGroupName": ref("MemoryDbParameterGroup"),
                "SubnetGroupName": ref("MemoryDbSubnetGroup"),
                "SecurityGroupIds": [group_id()],
            },
            labels.tags(),
        ),
    }


def resource_outputs(resources: Resources, subnets: list[str]) -> dict[str, Any]:
    """The outputs both templates share; `clouds.outputs` reads them back into a cloud's resources."""
    outputs: dict[str, Any] = {
        "VpcId": {"Value": ref("Vpc")},
        "SubnetIds": {"Value": {"Fn::Join": [",", [ref(s) for s in subnets]]}},
        "SecurityGroupId": {"Value": group_id()},
        "BucketName": {"Value": ref("Bucket")},
        "ControlPlaneRoleArn": {"Value": {"Fn::GetAtt": ["ControlPlaneRole", "Arn"]}},
        "InstanceRoleArn": {"Value": {"Fn::GetAtt": ["InstanceRole", "Arn"]}},
        "InstanceProfileArn": {"Value": {"Fn::GetAtt": ["InstanceProfile", "Arn"]}},
    }
    if "FileSystem" in resources:
        outputs["FileSystemId"] = {"Value": ref("FileSystem")}
        mount_targets = [{"Fn::GetAtt": [f"MountTarget{i}", "IpAddress"]} for i in range(len(subnets))]
        outputs["MountTargetIps"] = {"Value": {"Fn::Join": [",", mount_targets]}}
    if "MemoryDbCluster" in resources:
        outputs["MemoryDbClusterName"] = {"Value": ref("MemoryDbCluster")}
        outputs["MemoryDbEndpoint"] = {
            "Value": {"Fn::GetAtt": ["MemoryDbCluster", "ClusterEndpoint.Address"]}
        }
    return outputs
