"""Everything in the (sandbox) account that carries a cloud's tag, found through the ordinary describe APIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cloudplane.naming import TAG_KEY


def _tagged(tags: list[dict[str, str]] | None, cloud_id: str) -> bool:
    return any(t.get("Key") == TAG_KEY and t.get("Value") == cloud_id for t in tags or [])


def tagged_resources(aws: Callable[..., Any], cloud_id: str) -> dict[str, list[str]]:
    ec2, efs, iam, s3, mdb = aws("ec2"), aws("efs"), aws("iam"), aws("s3"), aws("memorydb")
    tag_filter = [{"Name": f"tag:{TAG_KEY}", "Values": [cloud_id]}]
    found: dict[str, list[str]] = {
        "vpc": [v["VpcId"] for v in ec2.describe_vpcs(Filters=tag_filter)["Vpcs"]],
        "subnet": [s["SubnetId"] for s in ec2.describe_subnets(Filters=tag_filter)["Subnets"]],
        "security_group": [
            g["GroupId"] for g in ec2.describe_security_groups(Filters=tag_filter)["SecurityGroups"]
        ],
        "internet_gateway": [
            g["InternetGatewayId"]
            for g in ec2.describe_internet_gateways(Filters=tag_filter)["InternetGateways"]
        ],
        "route_table": [
            t["RouteTableId"] for t in ec2.describe_route_tables(Filters=tag_filter)["RouteTables"]
        ],
        "file_system": [
            f["FileSystemId"]
            for f in efs.describe_file_systems()["FileSystems"]
            if _tagged(f.get("Tags"), cloud_id)
        ],
        "role": [
            r["RoleName"]
            for r in iam.list_roles()["Roles"]
            if _tagged(iam.list_role_tags(RoleName=r["RoleName"]).get("Tags"), cloud_id)
        ],
        "instance_profile": [
            p["InstanceProfileName"]
            for p in iam.list_instance_profiles()["InstanceProfiles"]
            if cloud_id in p["InstanceProfileName"]
        ],
        "memorydb_cluster": [
            c["Name"]
            for c in mdb.describe_clusters()["Clusters"]
            if _tagged(mdb.list_tags(ResourceArn=c["ARN"]).get("TagList"), cloud_id)
        ],
        "bucket": [
            b["Name"] for b in s3.list_buckets()["Buckets"] if cloud_id.replace("_", "-") in b["Name"]
        ],
    }
    # Endpoints in a VPC that is gone, or still there, both count.
    endpoints = ec2.describe_vpc_endpoints()["VpcEndpoints"]
    vpcs = set(found["vpc"])
    found["vpc_endpoint"] = [
        e["VpcEndpointId"] for e in endpoints if e["VpcId"] in vpcs or _tagged(e.get("Tags"), cloud_id)
    ]
    return {kind: ids for kind, ids in found.items() if ids}
