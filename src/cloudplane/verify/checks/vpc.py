"""VPC-1..5: the VPC exists, is large enough, resolves names, reaches the internet and S3."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

from cloudplane.cloud import PUBLIC
from cloudplane.verify.context import VerifyContext
from cloudplane.verify.outcome import Outcome, fail, ok, require
from cloudplane.verify.registry import check
from cloudplane.verify.report import Severity

GROUP = "vpc"


@check("VPC-1", GROUP, Severity.ERROR, reads=(VerifyContext.vpc, VerifyContext.account_id))
def vpc_exists(ctx: VerifyContext) -> Iterator[Outcome]:
    vpc_id = ctx.res.vpc_id
    if not vpc_id:
        yield fail(
            "The cloud has no VPC id recorded.",
            remediation="Register the cloud again with --vpc-id, or update its resources with the VPC id.",
        )
        return
    vpc = ctx.vpc()
    if vpc is None:
        yield fail(
            f"VPC {vpc_id} does not exist in region {ctx.aws.region} of account {ctx.account_id()}.",
            vpc_id,
            "Check that your AWS credentials and region point at the cloud's account and region, "
            "and that the VPC id is right.",
        )
        return
    owner = vpc.get("OwnerId")
    account = ctx.account_id()
    if owner and owner != account:
        yield fail(
            f"VPC {vpc_id} belongs to account {owner}, not to account {account} of your credentials.",
            vpc_id,
            "Use credentials of the account that owns the VPC (shared VPCs are not supported).",
        )
        return
    yield ok(f"VPC {vpc_id} exists in region {ctx.aws.region} of account {account}.", vpc_id)


@check("VPC-2", GROUP, Severity.ERROR, reads=(VerifyContext.vpc,))
def vpc_size(ctx: VerifyContext) -> Iterator[Outcome]:
    vpc = require(ctx.vpc())
    vpc_id, cidr = vpc["VpcId"], vpc["CidrBlock"]
    prefix = ipaddress.ip_network(cidr).prefixlen
    if prefix > 24:
        yield fail(
            f"VPC {vpc_id} has CIDR {cidr} (/{prefix}); at least /24 (256 addresses) is required.",
            vpc_id,
            "Use a VPC with a /24 or larger CIDR block, ideally /20 or larger (e.g. 10.0.0.0/16).",
        )
    elif prefix > 20:
        yield fail(
            f"VPC {vpc_id} has CIDR {cidr} (/{prefix}); /20 or larger is recommended for room to grow.",
            vpc_id,
            "Use a VPC with a /20 or larger CIDR block (e.g. 10.0.0.0/16) to fit larger clusters.",
            Severity.WARNING,
        )
    else:
        yield ok(f"VPC {vpc_id} CIDR {cidr} is large enough.", vpc_id)


@check("VPC-3", GROUP, Severity.WARNING, reads=(VerifyContext.vpc, VerifyContext.vpc_dns))
def vpc_dns(ctx: VerifyContext) -> Iterator[Outcome]:
    vpc_id = require(ctx.vpc())["VpcId"]
    missing = [
        (label, flag)
        for attribute, label, flag in (
            ("enableDnsSupport", "DNS resolution", "--enable-dns-support"),
            ("enableDnsHostnames", "DNS hostnames", "--enable-dns-hostnames"),
        )
        if not ctx.vpc_attribute(attribute)
    ]
    if missing:
        commands = "; ".join(
            f"aws ec2 modify-vpc-attribute --vpc-id {vpc_id} {flag} '{{\"Value\":true}}'"
            for _, flag in missing
        )
        yield fail(
            f"VPC {vpc_id} has {' and '.join(label for label, _ in missing)} turned off; EFS mounts and "
            "VPC endpoints resolve by DNS name.",
            vpc_id,
            f"Turn on: {commands} (console: VPC > Actions > Edit VPC settings).",
        )
    else:
        yield ok(f"VPC {vpc_id} has DNS resolution and DNS hostnames enabled.", vpc_id)


@check(
    "VPC-4",
    GROUP,
    Severity.ERROR,
    networking=(PUBLIC,),
    reads=(VerifyContext.vpc, VerifyContext.internet_gateways),
)
def vpc_internet_gateway(ctx: VerifyContext) -> Iterator[Outcome]:
    vpc_id = require(ctx.vpc())["VpcId"]
    attached = [
        igw["InternetGatewayId"]
        for igw in ctx.internet_gateways()
        if any(
            a.get("VpcId") == vpc_id and a.get("State") in ("available", "attached")
            for a in igw.get("Attachments", [])
        )
    ]
    if attached:
        yield ok(f"Internet gateway {', '.join(attached)} is attached to VPC {vpc_id}.", vpc_id)
    else:
        yield fail(
            f"No internet gateway is attached to VPC {vpc_id}; public subnets cannot reach the internet.",
            vpc_id,
            "Create and attach one: aws ec2 create-internet-gateway, then aws ec2 attach-internet-gateway "
            f"--internet-gateway-id <igw-id> --vpc-id {vpc_id}.",
        )


def is_s3_gateway_endpoint(endpoint: dict[str, object], region: str) -> bool:
    return (
        endpoint.get("VpcEndpointType") == "Gateway"
        and endpoint.get("ServiceName") == f"com.amazonaws.{region}.s3"
        and str(endpoint.get("State", "available")).lower() == "available"
    )


@check(
    "VPC-5",
    GROUP,
    Severity.WARNING,
    reads=(VerifyContext.vpc, VerifyContext.vpc_endpoints, VerifyContext.subnets, VerifyContext.route_tables),
)
def vpc_s3_endpoint(ctx: VerifyContext) -> Iterator[Outcome]:
    vpc_id = require(ctx.vpc())["VpcId"]
    endpoints = [e for e in ctx.vpc_endpoints() if is_s3_gateway_endpoint(e, ctx.aws.region)]
    served = {table for e in endpoints for table in e.get("RouteTableIds", [])}
    tables = {}
    for subnet in ctx.subnets().values():
        if subnet["VpcId"] != vpc_id:
            continue  # strays are SUB-2's business
        table, _ = ctx.route_table_for(subnet)
        if table is not None:
            tables.setdefault(table["RouteTableId"], []).append(subnet["SubnetId"])
    unserved = {t: s for t, s in tables.items() if t not in served}
    if not endpoints:
        yield fail(
            f"VPC {vpc_id} has no S3 gateway endpoint; S3 traffic (image pulls, logs) goes through "
            "the internet or NAT, slower and billed.",
            vpc_id,
            f"aws ec2 create-vpc-endpoint --vpc-id {vpc_id} --vpc-endpoint-type Gateway --service-name "
            f"com.amazonaws.{ctx.aws.region}.s3 --route-table-ids {' '.join(sorted(tables)) or '<rtb-id>'}",
        )
    elif unserved:
        ids = [e["VpcEndpointId"] for e in endpoints]
        for table, subnets in sorted(unserved.items()):
            yield fail(
                f"S3 gateway endpoint {', '.join(ids)} does not serve route table {table} "
                f"(subnets {', '.join(sorted(subnets))}).",
                table,
                f"aws ec2 modify-vpc-endpoint --vpc-endpoint-id {ids[0]} --add-route-table-ids {table}",
            )
    else:
        ids = ", ".join(e["VpcEndpointId"] for e in endpoints)
        yield ok(f"S3 gateway endpoint {ids} serves every subnet's route table in VPC {vpc_id}.", vpc_id)
