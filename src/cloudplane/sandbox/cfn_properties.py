"""Resource properties moto's CloudFormation ignores, applied through the same backend calls the AWS API uses.

Covered: VPC EnableDnsSupport/EnableDnsHostnames, Subnet MapPublicIpOnLaunch, `Tags` on every EC2 resource,
SecurityGroup inline ingress (full fidelity) and inline SecurityGroupEgress (replaces the default rule, as on
AWS), VPCEndpoint PolicyDocument given as an object, Bucket CorsConfiguration / PublicAccessBlockConfiguration /
VersioningConfiguration (also on update), Role inline Policies stored as JSON and ManagedPolicyArns attached.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.models.security_groups import SecurityGroup
from moto.iam.models import Role, iam_backends
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from ._patching import as_bool, post_create, wrap_classmethod
from .cfn_delete import delete_resource


@post_create("*")
def _ec2_tags(resource: Any, props: dict[str, Any], account_id: str, region: str) -> None:
    tags = props.get("Tags")
    if isinstance(resource, TaggedEC2Resource) and isinstance(tags, list) and tags:
        tag_map = {tag["Key"]: tag["Value"] for tag in tags}
        # Tags are filed under the resource's id, which for an EIP is its allocation id, not its physical id.
        resource_id = getattr(resource, "id", None) or resource.physical_resource_id
        ec2_backends[account_id][region].create_tags([resource_id], tag_map)


@post_create("AWS::EC2::VPC")
def _vpc_dns(vpc: Any, props: dict[str, Any], account_id: str, region: str) -> None:
    ec2 = ec2_backends[account_id][region]
    for prop, attr in (
        ("EnableDnsSupport", "enable_dns_support"),
        ("EnableDnsHostnames", "enable_dns_hostnames"),
    ):
        if prop in props:
            ec2.modify_vpc_attribute(vpc.id, attr, as_bool(props[prop]))


@post_create("AWS::EC2::Subnet")
def _subnet_public_ip(subnet: Any, props: dict[str, Any], account_id: str, region: str) -> None:
    if "MapPublicIpOnLaunch" in props:
        ec2_backends[account_id][region].modify_subnet_attribute(
            subnet.id, "map_public_ip_on_launch", as_bool(props["MapPublicIpOnLaunch"])
        )


@post_create("AWS::EC2::VPCEndpoint")
def _vpce_policy(endpoint: Any, props: dict[str, Any], account_id: str, region: str) -> None:
    if isinstance(props.get("PolicyDocument"), dict):
        endpoint.policy_document = json.dumps(props["PolicyDocument"])


# --- Security groups ---------------------------------------------------------------------------------


def rule_arguments(rule: dict[str, Any], egress: bool) -> dict[str, Any]:
    """Translate one CloudFormation ingress/egress rule into moto's authorize_security_group_* arguments."""
    protocol = str(rule.get("IpProtocol", "-1"))
    ip_ranges: list[dict[str, str]] = []
    description = rule.get("Description")
    for key in ("CidrIp", "CidrIpv6"):
        if rule.get(key):
            entry = {key: rule[key]}
            if description:
                entry["Description"] = description
            ip_ranges.append(entry)
    peer = rule.get("DestinationSecurityGroupId" if egress else "SourceSecurityGroupId")
    source_groups = [{"GroupId": peer}] if peer else []
    if not egress and rule.get("SourceSecurityGroupName"):
        source_groups.append({"GroupName": rule["SourceSecurityGroupName"]})
    prefix = rule.get("DestinationPrefixListId" if egress else "SourcePrefixListId")
    all_ports = protocol in ("-1", "all")
    return {
        "ip_protocol": protocol,
        "from_port": None if all_ports else rule.get("FromPort"),
        "to_port": None if all_ports else rule.get("ToPort"),
        "ip_ranges": ip_ranges,
        "source_groups": source_groups,
        "prefix_list_ids": [{"PrefixListId": prefix}] if prefix else [],
    }


def _create_security_group(
    orig: Callable[..., Any], cls: type, name: str, cfn_json: Any, account_id: str, region: str, **kw: Any
) -> Any:
    props = cfn_json.get("Properties", {})
    bare = dict(cfn_json, Properties={k: v for k, v in props.items() if k != "SecurityGroupIngress"})
    group = orig(name, bare, account_id, region, **kw)
    ec2 = ec2_backends[account_id][region]
    try:
        for rule in props.get("SecurityGroupIngress") or []:
            ec2.authorize_security_group_ingress(
                group.id, vpc_id=group.vpc_id, **rule_arguments(rule, egress=False)
            )
        if "SecurityGroupEgress" in props:
            # Declaring egress rules replaces the default allow-all rule.
            default_rules = [rule.id for rule in group.egress_rules]
            if default_rules:
                ec2.revoke_security_group_egress(
                    group.id, None, None, None, [], security_rule_ids=default_rules
                )
            for rule in props.get("SecurityGroupEgress") or []:
                ec2.authorize_security_group_egress(
                    group.id, vpc_id=group.vpc_id, **rule_arguments(rule, egress=True)
                )
    except Exception:
        delete_resource(group, "AWS::EC2::SecurityGroup", account_id, region)
        raise
    return group


# --- S3 buckets ----------------------------------------------------------------------------------------


def _cors_rules(config: dict[str, Any]) -> list[dict[str, Any]]:
    rules = []
    for rule in config.get("CorsRules", []):
        converted: dict[str, Any] = {
            "AllowedMethod": list(rule.get("AllowedMethods", [])),
            "AllowedOrigin": list(rule.get("AllowedOrigins", [])),
        }
        if rule.get("AllowedHeaders"):
            converted["AllowedHeader"] = list(rule["AllowedHeaders"])
        if rule.get("ExposedHeaders"):
            converted["ExposeHeader"] = list(rule["ExposedHeaders"])
        if rule.get("MaxAge") is not None:
            converted["MaxAgeSeconds"] = str(rule["MaxAge"])  # moto's set_cors insists on a str
        if rule.get("Id"):
            converted["ID"] = str(rule["Id"])
        rules.append(converted)
    return rules


def apply_bucket_settings(
    bucket_name: str, props: dict[str, Any], account_id: str, region: str, update: bool
) -> None:
    backend = s3_backends[account_id][get_partition(region)]
    if "CorsConfiguration" in props:
        backend.put_bucket_cors(bucket_name, _cors_rules(props["CorsConfiguration"]))
    elif update:
        backend.delete_bucket_cors(bucket_name)
    if "PublicAccessBlockConfiguration" in props:
        pab = props["PublicAccessBlockConfiguration"]
        keys = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
        backend.put_public_access_block(bucket_name, {key: as_bool(pab.get(key, False)) for key in keys})
    elif update:
        backend.delete_public_access_block(bucket_name)
    if "VersioningConfiguration" in props:
        backend.put_bucket_versioning(
            bucket_name, props["VersioningConfiguration"].get("Status", "Suspended")
        )


def _create_bucket(
    orig: Callable[..., Any], cls: type, name: str, cfn_json: Any, account_id: str, region: str, **kw: Any
) -> Any:
    bucket = orig(name, cfn_json, account_id, region, **kw)
    try:
        apply_bucket_settings(bucket.name, cfn_json.get("Properties", {}), account_id, region, update=False)
    except Exception:
        delete_resource(bucket, "AWS::S3::Bucket", account_id, region)
        raise
    return bucket


def _update_bucket(
    orig: Callable[..., Any],
    cls: type,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    bucket = orig(original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    apply_bucket_settings(
        bucket.name, cloudformation_json.get("Properties", {}), account_id, region_name, update=True
    )
    return bucket


# --- IAM roles -----------------------------------------------------------------------------------------


def _create_role(
    orig: Callable[..., Any], cls: type, name: str, cfn_json: Any, account_id: str, region: str, **kw: Any
) -> Any:
    props = cfn_json.get("Properties", {})
    extra = ("Policies", "ManagedPolicyArns")
    role = orig(
        name,
        dict(cfn_json, Properties={k: v for k, v in props.items() if k not in extra}),
        account_id,
        region,
        **kw,
    )
    iam = iam_backends[account_id][get_partition(region)]
    try:
        for policy in props.get("Policies") or []:
            document = policy["PolicyDocument"]
            # moto keeps a dict here, which get_role_policy then returns as a Python repr string.
            iam.put_role_policy(
                role.name,
                policy["PolicyName"],
                document if isinstance(document, str) else json.dumps(document),
            )
        for policy_arn in props.get("ManagedPolicyArns") or []:
            iam.attach_role_policy(policy_arn, role.name)
    except Exception:
        delete_resource(role, "AWS::IAM::Role", account_id, region)
        raise
    return role


def apply() -> None:
    wrap_classmethod(SecurityGroup, "create_from_cloudformation_json", _create_security_group)
    wrap_classmethod(FakeBucket, "create_from_cloudformation_json", _create_bucket)
    wrap_classmethod(FakeBucket, "update_from_cloudformation_json", _update_bucket)
    wrap_classmethod(Role, "create_from_cloudformation_json", _create_role)
