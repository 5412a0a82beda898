"""The AWS reads discovery needs whatever the source: routes of subnets, a VPC's subnets, the groups of a
file system's mount targets, a role's trust policy. Reads only; nothing is changed."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from cloudplane.aws.session import AwsClients
from cloudplane.clouds.trust import read_trust_policy


class Egress(StrEnum):
    NAT = "nat"  # 0.0.0.0/0 to a NAT gateway: a private subnet
    INTERNET = "internet"  # 0.0.0.0/0 to an internet gateway: a public subnet
    NONE = "none"


def _default_route_egress(table: dict[str, Any]) -> Egress:
    for route in table.get("Routes", []):
        if route.get("DestinationCidrBlock") != "0.0.0.0/0" or route.get("State") == "blackhole":
            continue
        if route.get("NatGatewayId"):
            return Egress.NAT
        if str(route.get("GatewayId", "")).startswith("igw-"):
            return Egress.INTERNET
    return Egress.NONE


class AwsLookups:
    def __init__(self, aws: AwsClients) -> None:
        self.aws = aws

    def egress(self, vpc_id: str, subnet_ids: list[str]) -> dict[str, Egress]:
        """Where each subnet's 0.0.0.0/0 goes: its own route table's route, else the VPC's main table's."""
        tables = self.aws.client("ec2").describe_route_tables(
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
        )
        main = Egress.NONE
        explicit: dict[str, Egress] = {}
        for table in tables["RouteTables"]:
            egress = _default_route_egress(table)
            for association in table.get("Associations", []):
                if association.get("Main"):
                    main = egress
                elif association.get("SubnetId"):
                    explicit[association["SubnetId"]] = egress
        return {subnet: explicit.get(subnet, main) for subnet in subnet_ids}

    def subnets_of(self, vpc_id: str) -> list[str]:
        pages = (
            self.aws.client("ec2")
            .get_paginator("describe_subnets")
            .paginate(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
        )
        return [subnet["SubnetId"] for page in pages for subnet in page["Subnets"]]

    def mount_target_groups(self, file_system_id: str) -> set[str]:
        efs = self.aws.client("efs")
        targets = efs.describe_mount_targets(FileSystemId=file_system_id)["MountTargets"]
        groups: set[str] = set()
        for target in targets:
            found = efs.describe_mount_target_security_groups(MountTargetId=target["MountTargetId"])
            groups.update(found["SecurityGroups"])
        return groups

    def trust_of(self, role_arn: str) -> dict[str, Any]:
        return read_trust_policy(self.aws, role_arn)
