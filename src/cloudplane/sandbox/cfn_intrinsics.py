"""Intrinsic functions moto resolves wrongly: `Fn::GetAZs` (always us-east-1a..d in moto), `Fn::Cidr` (HTTP 500),
and `Fn::GetAtt` written as "Resource.Attribute" or with a dotted attribute (YAML `!GetAtt Cluster.Endpoint.Address`).

`Fn::GetAZs` answers as CloudFormation documents it: the region's zones that have a default subnet, in
alphabetical order, or every zone when none has one (the default subnets or the default VPC were deleted).
So a template that selects the third zone fails in an account with default subnets in two zones only.

moto's `clean_json` recurses through its module-global name, so replacing `parsing.clean_json` makes the
wrapper see every node of every template.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack
from moto.ec2.models import ec2_backends

from ._patching import as_bool, original, patch_attr


def availability_zones(account_id: str, region: str) -> list[str]:
    try:
        backend = ec2_backends[account_id][region]
        zones = sorted(zone.name for zone in backend.describe_availability_zones())
    except KeyError as exc:
        raise ValidationError(message=f"Template error: Fn::GetAZs: unknown region {region}") from exc
    with_default_subnet = {
        s.availability_zone for s in backend.describe_subnets() if as_bool(s.default_for_az)
    }
    return [zone for zone in zones if zone in with_default_subnet] or zones


def cidr(ip_block: str, count: int, cidr_bits: int) -> list[str]:
    network = ipaddress.ip_network(str(ip_block), strict=False)
    new_prefix = network.max_prefixlen - int(cidr_bits)
    if new_prefix < network.prefixlen:
        raise ValidationError(message=f"Template error: Fn::Cidr: {ip_block} is too small for /{new_prefix}")
    subnets = []
    for subnet in network.subnets(new_prefix=new_prefix):
        if len(subnets) == int(count):
            break
        subnets.append(str(subnet))
    if len(subnets) < int(count):
        raise ValidationError(
            message=f"Template error: Fn::Cidr: {ip_block} holds fewer than {count} /{new_prefix}"
        )
    return subnets


def normalize_getatt(node: Any) -> Any:
    """Rewrite every Fn::GetAtt into moto's [resource, attribute] form, in place."""
    if isinstance(node, dict):
        value = node.get("Fn::GetAtt")
        if isinstance(value, str) and "." in value:
            node["Fn::GetAtt"] = value.split(".", 1)
        elif isinstance(value, list) and len(value) > 2 and all(isinstance(part, str) for part in value):
            node["Fn::GetAtt"] = [value[0], ".".join(value[1:])]
        for child in node.values():
            normalize_getatt(child)
    elif isinstance(node, list):
        for child in node:
            normalize_getatt(child)
    return node


def _parse_template(template: str) -> Any:
    return normalize_getatt(_ORIGINAL_PARSE_TEMPLATE(template))


def _clean_json(resource_json: Any, resources_map: Any) -> Any:
    if isinstance(resource_json, dict) and len(resource_json) == 1:
        if "Fn::GetAZs" in resource_json:
            region = _clean_json(resource_json["Fn::GetAZs"], resources_map) or resources_map["AWS::Region"]
            return availability_zones(resources_map["AWS::AccountId"], str(region))
        if "Fn::Cidr" in resource_json:
            args = _clean_json(resource_json["Fn::Cidr"], resources_map)
            return cidr(args[0], int(args[1]), int(args[2]))
    return _ORIGINAL_CLEAN_JSON(resource_json, resources_map)


_ORIGINAL_CLEAN_JSON = original(parsing, "clean_json")
_ORIGINAL_PARSE_TEMPLATE = original(Stack, "parse_template").__func__


def apply() -> None:
    patch_attr(parsing, "clean_json", _clean_json)
    patch_attr(Stack, "parse_template", staticmethod(_parse_template))
