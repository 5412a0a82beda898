"""Build a fully correct cloud in the sandbox with direct API calls, and its CloudSpec.

Managed (with a small stack standing in for ours) or customer-defined (no stack), public or private
(NAT gateways in small public subnets, shared or one per zone).

Direct calls are what the emulator reproduces faithfully, so every check starts from a cloud that
passes and a scenario test breaks exactly one thing. Every cloud gets its own id and names, so many
can live side by side in one sandbox without a reset between them.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cloudplane.aws import policies
from cloudplane.cloud import MANAGED, PRIVATE, PUBLIC, CloudResources, CloudSpec
from cloudplane.naming import TAG_KEY, new_cloud_id, new_external_id

REGION = "us-west-2"
ACCOUNT = "123456789012"
PRINCIPAL = f"arn:aws:iam::{ACCOUNT}:root"

Factory = Callable[..., Any]


@dataclass
class BuiltCloud:
    spec: CloudSpec
    cloud_id: str
    vpc_id: str
    igw_id: str
    route_table_id: str
    endpoint_id: str
    subnet_ids: list[str]
    sg_id: str
    bucket: str
    fs_id: str | None
    mount_target_ids: list[str]
    cp_role: str
    instance_role: str
    cluster: str | None
    parameter_group: str | None
    stack_id: str | None
    stack_resources: dict[str, str] = field(default_factory=dict)  # logical id -> physical id
    # Route tables of the cloud's subnets (one per NAT gateway in a private cloud); route_table_id is the first.
    route_table_ids: list[str] = field(default_factory=list)
    # Private clouds: the NAT gateways, the small public subnets holding them and those subnets' table.
    nat_gateway_ids: list[str] = field(default_factory=list)
    public_subnet_ids: list[str] = field(default_factory=list)
    public_route_table_id: str | None = None

    def with_resources(self, **changes: Any) -> CloudSpec:
        return dataclasses.replace(self.spec, resources=dataclasses.replace(self.spec.resources, **changes))

    def with_spec(self, **changes: Any) -> CloudSpec:
        return dataclasses.replace(self.spec, **changes)


def _nat_egress(
    ec2: Any, vpc_id: str, igw_id: str, block: str, zones: list[str], per_zone: bool
) -> dict[str, Any]:
    """Small public subnets routed to the internet gateway, each holding a NAT gateway; one route table
    per NAT gateway sends the private subnets' 0.0.0.0/0 to it. Returns zone -> private route table."""
    count = len(zones) if per_zone else 1
    pieces = [str(b) for b in ipaddress.ip_network(block).subnets(new_prefix=28)][:count]
    public_table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    public_subnets, nats, tables = [], [], {}
    for zone, cidr in zip(zones, pieces, strict=False):
        subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]
        ec2.associate_route_table(RouteTableId=public_table, SubnetId=subnet)
        allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=allocation)["NatGateway"]["NatGatewayId"]
        table = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
        public_subnets.append(subnet)
        nats.append(nat)
        tables[zone] = table
    return {
        "public_subnet_ids": public_subnets,
        "public_route_table_id": public_table,
        "nat_gateway_ids": nats,
        "tables": {zone: tables.get(zone, tables[zones[0]]) for zone in zones},
    }


def _network(
    ec2: Any,
    cloud_id: str,
    *,
    azs: int,
    subnets_per_az: int,
    private: bool,
    nat_per_zone: bool,
    vpc_cidr: str,
    subnet_prefix: int,
) -> dict[str, Any]:
    blocks = [str(b) for b in ipaddress.ip_network(vpc_cidr).subnets(new_prefix=subnet_prefix)]
    vpc_id = ec2.create_vpc(
        CidrBlock=vpc_cidr,
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": TAG_KEY, "Value": cloud_id}]}],
    )["Vpc"]["VpcId"]
    for attribute in ("EnableDnsSupport", "EnableDnsHostnames"):
        ec2.modify_vpc_attribute(VpcId=vpc_id, **{attribute: {"Value": True}})
    igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]][:azs]
    egress: dict[str, Any] = {"public_subnet_ids": [], "public_route_table_id": None, "nat_gateway_ids": []}
    if private:
        # Egress through NAT gateways that live in small public subnets of their own (the last block).
        egress = _nat_egress(ec2, vpc_id, igw_id, blocks[-1], zones, nat_per_zone)
        table_of_zone = egress.pop("tables")
    else:
        table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
        table_of_zone = dict.fromkeys(zones, table_id)
    subnet_ids = []
    for index in range(azs * subnets_per_az):
        zone = zones[index % azs]
        subnet_id = ec2.create_subnet(VpcId=vpc_id, CidrBlock=blocks[index], AvailabilityZone=zone)["Subnet"][
            "SubnetId"
        ]
        if not private:
            ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
        ec2.associate_route_table(RouteTableId=table_of_zone[zone], SubnetId=subnet_id)
        subnet_ids.append(subnet_id)
    tables = list(dict.fromkeys(table_of_zone.values()))
    endpoint_id = ec2.create_vpc_endpoint(
        VpcId=vpc_id,
        ServiceName=f"com.amazonaws.{REGION}.s3",
        VpcEndpointType="Gateway",
        RouteTableIds=tables,
    )["VpcEndpoint"]["VpcEndpointId"]
    sg_id = ec2.create_security_group(GroupName="cloudplane", Description="cloud nodes", VpcId=vpc_id)[
        "GroupId"
    ]
    ec2.authorize_security_group_ingress(
        GroupId=sg_id,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
            for port in (443, 22)
        ]
        + [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg_id}]}],
    )
    # A new group already allows all outbound to 0.0.0.0/0; add all outbound to itself.
    ec2.authorize_security_group_egress(
        GroupId=sg_id, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": sg_id}]}]
    )
    return {
        "vpc_id": vpc_id,
        "igw_id": igw_id,
        "route_table_id": tables[0],
        "route_table_ids": tables,
        "endpoint_id": endpoint_id,
        "subnet_ids": subnet_ids,
        "sg_id": sg_id,
        **egress,
    }


def _roles(iam: Any, cloud_id: str, external_id: str, bucket: str) -> tuple[str, str]:
    cp = iam.create_role(
        RoleName=f"cloudplane-{cloud_id}-controlplane",
        AssumeRolePolicyDocument=json.dumps(policies.controlplane_trust_policy(PRINCIPAL, external_id)),
    )["Role"]
    for name, document in policies.controlplane_inline_policies().items():
        iam.put_role_policy(RoleName=cp["RoleName"], PolicyName=name, PolicyDocument=json.dumps(document))
    instance = iam.create_role(
        RoleName=f"cloudplane-{cloud_id}-instance",
        AssumeRolePolicyDocument=json.dumps(policies.instance_trust_policy()),
    )["Role"]
    iam.put_role_policy(
        RoleName=instance["RoleName"],
        PolicyName="CloudBucket",
        PolicyDocument=json.dumps(
            policies.document(policies.instance_bucket_statements(f"arn:aws:s3:::{bucket}"))
        ),
    )
    iam.create_instance_profile(InstanceProfileName=instance["RoleName"])
    iam.add_role_to_instance_profile(InstanceProfileName=instance["RoleName"], RoleName=instance["RoleName"])
    return cp["Arn"], instance["Arn"]


def _bucket(s3: Any, bucket: str, instance_role: str, region: str = REGION) -> None:
    """The cloud's bucket: console CORS, public access blocked, versioned, the instance role let in."""
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": [policies.CONSOLE_ORIGIN],
                    "AllowedMethods": list(policies.CORS_METHODS),
                    "AllowedHeaders": ["*"],
                }
            ]
        },
    )
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    statements = policies.instance_bucket_statements(f"arn:aws:s3:::{bucket}")
    for statement in statements:
        statement["Principal"] = {"AWS": instance_role}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policies.document(statements)))


def _efs(
    efs: Any, cloud_id: str, subnet_ids: list[str], sg_id: str, backup: bool
) -> tuple[str, list[dict[str, Any]]]:
    fs_id = efs.create_file_system(
        CreationToken=f"{cloud_id}-efs",
        Encrypted=True,
        Backup=backup,
        Tags=[{"Key": TAG_KEY, "Value": cloud_id}],
    )["FileSystemId"]
    targets = [
        efs.create_mount_target(FileSystemId=fs_id, SubnetId=subnet_id, SecurityGroups=[sg_id])
        for subnet_id in subnet_ids
    ]
    return fs_id, targets


def _memorydb(mdb: Any, cloud_id: str, subnet_ids: list[str], sg_id: str, tls: bool) -> tuple[str, str]:
    prefix = cloud_id.replace("_", "-")
    mdb.create_subnet_group(SubnetGroupName=f"{prefix}-subnets", SubnetIds=subnet_ids)
    group = f"{prefix}-params"
    mdb.create_parameter_group(ParameterGroupName=group, Family="memorydb_redis7")
    mdb.update_parameter_group(
        ParameterGroupName=group,
        ParameterNameValues=[{"ParameterName": "maxmemory-policy", "ParameterValue": "allkeys-lru"}],
    )
    name = f"{prefix}-ha"
    mdb.create_cluster(
        ClusterName=name,
        NodeType="db.t4g.small",
        ACLName="open-access",
        SubnetGroupName=f"{prefix}-subnets",
        SecurityGroupIds=[sg_id],
        TLSEnabled=tls,
        NumShards=1,
        NumReplicasPerShard=1,
        ParameterGroupName=group,
    )
    return name, group


STACK_TEMPLATE = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"VpcId": {"Type": "String"}},
    "Resources": {
        "ExtraGroup": {
            "Type": "AWS::EC2::SecurityGroup",
            "Properties": {"GroupDescription": "stack-owned group", "VpcId": {"Ref": "VpcId"}},
        },
        "ExtraRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {"AssumeRolePolicyDocument": policies.instance_trust_policy()},
        },
        "ExtraBucket": {"Type": "AWS::S3::Bucket"},
    },
}


def _stack(cfn: Any, cloud_id: str, vpc_id: str) -> tuple[str, dict[str, str]]:
    """A small stack tagged with the cloud id, standing in for the cloud's own stack in CFN checks."""
    stack_id = cfn.create_stack(
        StackName=f"cloudplane-{cloud_id.replace('_', '-')}",
        TemplateBody=json.dumps(STACK_TEMPLATE),
        Parameters=[{"ParameterKey": "VpcId", "ParameterValue": vpc_id}],
        Capabilities=["CAPABILITY_IAM"],
        Tags=[{"Key": TAG_KEY, "Value": cloud_id}],
    )["StackId"]
    resources = cfn.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
    return stack_id, {
        r["LogicalResourceId"]: r["PhysicalResourceId"] for r in resources if "LogicalResourceId" in r
    }


def build_cloud(
    aws: Factory,
    *,
    memorydb: bool = False,
    efs: bool = True,
    stack: bool | None = None,
    private: bool = False,
    deployment: str = MANAGED,
    nat_per_zone: bool = False,
    azs: int = 3,
    subnets_per_az: int = 1,
    efs_backup: bool = True,
    memorydb_tls: bool = True,
    vpc_cidr: str = "10.0.0.0/16",
    subnet_prefix: int = 24,
) -> BuiltCloud:
    """deployment: MANAGED gets a stack unless stack=False; CUSTOMER_DEFINED never has one.
    nat_per_zone: a private cloud gets one NAT gateway per zone instead of one shared by all subnets."""
    if stack is None:
        stack = deployment == MANAGED
    elif stack and deployment != MANAGED:
        raise ValueError("a customer-defined cloud has no stack of ours")
    cloud_id = new_cloud_id()
    external_id = new_external_id(cloud_id)
    net = _network(
        aws("ec2"),
        cloud_id,
        azs=azs,
        subnets_per_az=subnets_per_az,
        private=private,
        nat_per_zone=nat_per_zone,
        vpc_cidr=vpc_cidr,
        subnet_prefix=subnet_prefix,
    )
    bucket = f"cloudplane-{cloud_id.replace('_', '-')}"
    cp_role, instance_role = _roles(aws("iam"), cloud_id, external_id, bucket)
    _bucket(aws("s3"), bucket, instance_role)
    fs_id: str | None = None
    targets: list[dict[str, Any]] = []
    if efs:
        fs_id, targets = _efs(aws("efs"), cloud_id, net["subnet_ids"][:azs], net["sg_id"], efs_backup)
    cluster = group = None
    if memorydb:
        cluster, group = _memorydb(aws("memorydb"), cloud_id, net["subnet_ids"], net["sg_id"], memorydb_tls)
    stack_id, stack_resources = (
        _stack(aws("cloudformation"), cloud_id, net["vpc_id"]) if stack else (None, {})
    )
    resources = CloudResources(
        vpc_id=net["vpc_id"],
        subnet_ids=list(net["subnet_ids"]),
        security_group_ids=[net["sg_id"]],
        s3_bucket_id=bucket,
        efs_id=fs_id,
        efs_mount_target_ips=[t["IpAddress"] for t in targets],
        controlplane_role_arn=cp_role,
        instance_role_arn=instance_role,
        memorydb_cluster_id=cluster,
        cloudformation_stack_id=stack_id,
    )
    spec = CloudSpec(
        id=cloud_id,
        name="verify-test",
        region=REGION,
        deployment=deployment,
        networking=PRIVATE if private else PUBLIC,
        external_id=external_id,
        resources=resources,
        controlplane_principal=PRINCIPAL,
    )
    return BuiltCloud(
        spec=spec,
        cloud_id=cloud_id,
        bucket=bucket,
        fs_id=fs_id,
        mount_target_ids=[t["MountTargetId"] for t in targets],
        cp_role=cp_role,
        instance_role=instance_role,
        cluster=cluster,
        parameter_group=group,
        stack_id=stack_id,
        stack_resources=stack_resources,
        **net,
    )


def record_in(
    client: Any,
    built: BuiltCloud,
    name: str = "demo",
    *,
    state: str = "active",
    options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The built (customer-defined) cloud recorded in a control-plane client, as `cloud register` leaves it."""
    cloud = client.create_cloud(
        name,
        "aws",
        built.spec.region,
        "customer_defined",
        built.spec.networking,
        options=options,
        external_id=built.spec.external_id,
        resources=built.spec.resources.to_dict(),
    )
    return client.update_cloud(cloud["id"], state=state)
