"""The CloudFormation template of a managed cloud, built as data.

Subnet CIDRs are computed here rather than with Fn::Cidr, and the zones come in as parameters chosen
from the account's own view of the region (standard zones only, no Local or Wavelength zones).
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from typing import Any

from cloudplane import naming
from cloudplane.aws import policies
from cloudplane.naming import TAG_KEY

VPC_CIDR = "10.0.0.0/16"
MEMORYDB_NODE_TYPE = "db.t4g.small"
MEMORYDB_PORT = 6379
ECR_READ_ONLY = "arn:${AWS::Partition}:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
CORS_EXPOSED_HEADERS = ["Accept-Ranges", "Content-Range", "Content-Length"]


@dataclass(frozen=True)
class ManagedCloudOptions:
    cloud_id: str
    external_id: str
    controlplane_principal: str  # ARN the cross-account role trusts
    availability_zones: tuple[str, ...]
    shared_storage: str = "nfs"  # "nfs" (EFS) or "object-storage"
    head_node_fault_tolerance: bool = False

    @property
    def slug(self) -> str:
        """The cloud id in the characters every AWS name accepts."""
        return self.cloud_id.replace("_", "-")

    @property
    def bucket_name(self) -> str:
        return naming.bucket_name(self.cloud_id)

    @property
    def controlplane_role_name(self) -> str:
        return f"cloudplane-{self.cloud_id}-controlplane"

    @property
    def instance_role_name(self) -> str:
        return f"cloudplane-{self.cloud_id}-instance"

    @property
    def memorydb_name(self) -> str:
        # MemoryDB names: lowercase letters, digits and hyphens, at most 40 characters.
        return f"cp-{self.slug.removeprefix('cld-')}"


def subnet_cidrs(count: int, vpc_cidr: str = VPC_CIDR) -> list[str]:
    """Split the VPC into equal subnets, at least four slots (/18 of a /16) so a later AZ fits."""
    if count < 1:
        raise ValueError("a cloud needs at least one subnet")
    network = ipaddress.ip_network(vpc_cidr)
    extra_bits = max(2, math.ceil(math.log2(count)))
    return [str(s) for s in list(network.subnets(prefixlen_diff=extra_bits))[:count]]


def _tags(options: ManagedCloudOptions, name: str | None = None) -> list[dict[str, str]]:
    tags = [{"Key": TAG_KEY, "Value": options.cloud_id}]
    if name:
        tags.insert(0, {"Key": "Name", "Value": name})
    return tags


def _ref(logical_id: str) -> dict[str, str]:
    return {"Ref": logical_id}


def _network(options: ManagedCloudOptions, resources: dict[str, Any]) -> list[str]:
    """VPC, IGW, public route table, one public subnet per AZ, S3 endpoint. Returns subnet logical ids."""
    resources["Vpc"] = {
        "Type": "AWS::EC2::VPC",
        "Properties": {
            "CidrBlock": VPC_CIDR,
            "EnableDnsSupport": True,
            "EnableDnsHostnames": True,
            "Tags": _tags(options, f"cloudplane-{options.cloud_id}"),
        },
    }
    resources["InternetGateway"] = {
        "Type": "AWS::EC2::InternetGateway",
        "Properties": {"Tags": _tags(options, f"cloudplane-{options.cloud_id}")},
    }
    resources["InternetGatewayAttachment"] = {
        "Type": "AWS::EC2::VPCGatewayAttachment",
        "Properties": {"VpcId": _ref("Vpc"), "InternetGatewayId": _ref("InternetGateway")},
    }
    resources["PublicRouteTable"] = {
        "Type": "AWS::EC2::RouteTable",
        "Properties": {"VpcId": _ref("Vpc"), "Tags": _tags(options, f"cloudplane-{options.cloud_id}-public")},
    }
    resources["DefaultRoute"] = {
        "Type": "AWS::EC2::Route",
        "DependsOn": "InternetGatewayAttachment",
        "Properties": {
            "RouteTableId": _ref("PublicRouteTable"),
            "DestinationCidrBlock": "0.0.0.0/0",
            "GatewayId": _ref("InternetGateway"),
        },
    }
    subnet_ids = []
    for index, (zone, cidr) in enumerate(
        zip(options.availability_zones, subnet_cidrs(len(options.availability_zones)), strict=True)
    ):
        subnet = f"Subnet{index}"
        subnet_ids.append(subnet)
        resources[subnet] = {
            "Type": "AWS::EC2::Subnet",
            "Properties": {
                "VpcId": _ref("Vpc"),
                "AvailabilityZone": _ref(f"AvailabilityZone{index}"),
                "CidrBlock": cidr,
                "MapPublicIpOnLaunch": True,
                "Tags": _tags(options, f"cloudplane-{options.cloud_id}-{zone}"),
            },
        }
        resources[f"{subnet}RouteTableAssociation"] = {
            "Type": "AWS::EC2::SubnetRouteTableAssociation",
            "Properties": {"SubnetId": _ref(subnet), "RouteTableId": _ref("PublicRouteTable")},
        }
    resources["S3GatewayEndpoint"] = {
        "Type": "AWS::EC2::VPCEndpoint",
        "Properties": {
            "VpcId": _ref("Vpc"),
            "ServiceName": {"Fn::Sub": "com.amazonaws.${AWS::Region}.s3"},
            "VpcEndpointType": "Gateway",
            "RouteTableIds": [_ref("PublicRouteTable")],
        },
    }
    return subnet_ids


def _security_group(options: ManagedCloudOptions, resources: dict[str, Any]) -> None:
    anywhere = "0.0.0.0/0"
    resources["SecurityGroup"] = {
        "Type": "AWS::EC2::SecurityGroup",
        "Properties": {
            "GroupName": f"cloudplane-{options.cloud_id}",
            "GroupDescription": f"Ray clusters of cloud {options.cloud_id}",
            "VpcId": _ref("Vpc"),
            "SecurityGroupIngress": [
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "CidrIp": anywhere, "Description": "HTTPS"},
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIp": anywhere, "Description": "SSH"},
            ],
            "SecurityGroupEgress": [{"IpProtocol": "-1", "CidrIp": anywhere, "Description": "All outbound"}],
            "Tags": _tags(options, f"cloudplane-{options.cloud_id}"),
        },
    }
    group_id = {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}
    resources["SecurityGroupSelfIngress"] = {
        "Type": "AWS::EC2::SecurityGroupIngress",
        "Properties": {
            "GroupId": group_id,
            "IpProtocol": "-1",
            "SourceSecurityGroupId": group_id,
            "Description": "All traffic within the cloud",
        },
    }
    resources["SecurityGroupSelfEgress"] = {
        "Type": "AWS::EC2::SecurityGroupEgress",
        "Properties": {
            "GroupId": group_id,
            "IpProtocol": "-1",
            "DestinationSecurityGroupId": group_id,
            "Description": "All protocols within the cloud (EFA)",
        },
    }


def _bucket(options: ManagedCloudOptions, resources: dict[str, Any]) -> None:
    resources["Bucket"] = {
        "Type": "AWS::S3::Bucket",
        # The data outlives the cloud: deleting the stack keeps the bucket.
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": options.bucket_name,
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
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
            "Tags": _tags(options),
        },
    }
    bucket_arn = {"Fn::GetAtt": ["Bucket", "Arn"]}
    resources["BucketPolicy"] = {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": _ref("Bucket"),
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


def _roles(options: ManagedCloudOptions, resources: dict[str, Any]) -> None:
    resources["ControlPlaneRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": options.controlplane_role_name,
            "Description": f"Lets the cloudplane control plane operate cloud {options.cloud_id}",
            "AssumeRolePolicyDocument": policies.controlplane_trust_policy(
                options.controlplane_principal, options.external_id
            ),
            "Policies": [
                {"PolicyName": name, "PolicyDocument": doc}
                for name, doc in policies.controlplane_inline_policies().items()
            ],
            "Tags": _tags(options),
        },
    }
    resources["InstanceRole"] = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "RoleName": options.instance_role_name,
            "Description": f"Default role of the Ray cluster nodes of cloud {options.cloud_id}",
            "AssumeRolePolicyDocument": policies.instance_trust_policy(),
            "ManagedPolicyArns": [{"Fn::Sub": ECR_READ_ONLY}],
            "Policies": [
                {
                    "PolicyName": "Cloudplane_Bucket_Access",
                    "PolicyDocument": policies.document(
                        policies.instance_bucket_statements({"Fn::GetAtt": ["Bucket", "Arn"]})
                    ),
                }
            ],
            "Tags": _tags(options),
        },
    }
    resources["InstanceProfile"] = {
        "Type": "AWS::IAM::InstanceProfile",
        "Properties": {"InstanceProfileName": _ref("InstanceRole"), "Roles": [_ref("InstanceRole")]},
    }


def _efs(options: ManagedCloudOptions, resources: dict[str, Any], subnets: list[str]) -> None:
    resources["FileSystem"] = {
        "Type": "AWS::EFS::FileSystem",
        "Properties": {
            "Encrypted": True,
            "PerformanceMode": "generalPurpose",
            "BackupPolicy": {"Status": "ENABLED"},
            "LifecyclePolicies": [{"TransitionToIA": "AFTER_30_DAYS"}],
            "FileSystemTags": _tags(options, f"cloudplane-{options.cloud_id}"),
        },
    }
    for index, subnet in enumerate(subnets):
        resources[f"MountTarget{index}"] = {
            "Type": "AWS::EFS::MountTarget",
            "Properties": {
                "FileSystemId": _ref("FileSystem"),
                "SubnetId": _ref(subnet),
                "SecurityGroups": [{"Fn::GetAtt": ["SecurityGroup", "GroupId"]}],
            },
        }


def _memorydb(options: ManagedCloudOptions, resources: dict[str, Any], subnets: list[str]) -> None:
    resources["MemoryDbParameterGroup"] = {
        "Type": "AWS::MemoryDB::ParameterGroup",
        "Properties": {
            "ParameterGroupName": options.memorydb_name,
            "Family": "memorydb_redis7",
            "Description": f"Head-node fault tolerance of cloud {options.cloud_id}",
            "Parameters": {"maxmemory-policy": "allkeys-lru"},
            "Tags": _tags(options),
        },
    }
    resources["MemoryDbSubnetGroup"] = {
        "Type": "AWS::MemoryDB::SubnetGroup",
        "Properties": {
            "SubnetGroupName": options.memorydb_name,
            "Description": f"Subnets of cloud {options.cloud_id}",
            "SubnetIds": [_ref(s) for s in subnets],
            "Tags": _tags(options),
        },
    }
    resources["MemoryDbCluster"] = {
        "Type": "AWS::MemoryDB::Cluster",
        "Properties": {
            "ClusterName": options.memorydb_name,
            "NodeType": MEMORYDB_NODE_TYPE,
            "ACLName": "open-access",
            "TLSEnabled": True,
            "NumShards": 1,
            "NumReplicasPerShard": 1,
            "Port": MEMORYDB_PORT,
            "ParameterGroupName": _ref("MemoryDbParameterGroup"),
            "SubnetGroupName": _ref("MemoryDbSubnetGroup"),
            "SecurityGroupIds": [{"Fn::GetAtt": ["SecurityGroup", "GroupId"]}],
            "Tags": _tags(options),
        },
    }


def _outputs(options: ManagedCloudOptions, resources: dict[str, Any], subnets: list[str]) -> dict[str, Any]:
    outputs: dict[str, Any] = {
        "VpcId": {"Value": _ref("Vpc")},
        "SubnetIds": {"Value": {"Fn::Join": [",", [_ref(s) for s in subnets]]}},
        "SecurityGroupId": {"Value": {"Fn::GetAtt": ["SecurityGroup", "GroupId"]}},
        "BucketName": {"Value": _ref("Bucket")},
        "ControlPlaneRoleArn": {"Value": {"Fn::GetAtt": ["ControlPlaneRole", "Arn"]}},
        "InstanceRoleArn": {"Value": {"Fn::GetAtt": ["InstanceRole", "Arn"]}},
        "InstanceProfileArn": {"Value": {"Fn::GetAtt": ["InstanceProfile", "Arn"]}},
    }
    if "FileSystem" in resources:
        outputs["FileSystemId"] = {"Value": _ref("FileSystem")}
        mount_targets = [{"Fn::GetAtt": [f"MountTarget{i}", "IpAddress"]} for i in range(len(subnets))]
        outputs["MountTargetIps"] = {"Value": {"Fn::Join": [",", mount_targets]}}
    if "MemoryDbCluster" in resources:
        outputs["MemoryDbClusterName"] = {"Value": _ref("MemoryDbCluster")}
        outputs["MemoryDbEndpoint"] = {"Value": {"Fn::GetAtt": ["MemoryDbCluster", "ClusterEndpoint.Address"]}}
    return outputs


def stack_parameters(options: ManagedCloudOptions) -> list[dict[str, str]]:
    """Values of the template's parameters: the zones, chosen from the account's view of the region."""
    return [
        {"ParameterKey": f"AvailabilityZone{index}", "ParameterValue": zone}
        for index, zone in enumerate(options.availability_zones)
    ]


def managed_cloud_template(options: ManagedCloudOptions) -> dict[str, Any]:
    if options.shared_storage not in ("nfs", "object-storage"):
        raise ValueError(f"unknown shared storage {options.shared_storage!r}")
    resources: dict[str, Any] = {}
    subnets = _network(options, resources)
    _security_group(options, resources)
    _bucket(options, resources)
    _roles(options, resources)
    if options.shared_storage == "nfs":
        _efs(options, resources, subnets)
    if options.head_node_fault_tolerance:
        _memorydb(options, resources, subnets)
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"cloudplane managed cloud {options.cloud_id}",
        "Parameters": {
            f"AvailabilityZone{index}": {
                "Type": "AWS::EC2::AvailabilityZone::Name",
                "Description": f"Availability zone of public subnet {index}",
            }
            for index in range(len(options.availability_zones))
        },
        "Resources": resources,
        "Outputs": _outputs(options, resources, subnets),
    }
