"""Stack updates that AWS applies in place and moto gets wrong: new tags, policies and trust on live resources.

Re-applying a template with more tags or other role policies (as a customer-defined cloud does once it has
an id) changes nothing's identity on AWS. moto instead replaces a SecurityGroup on any change (new id, old
rules), updates only a Role's description, and leaves EFS and MemoryDB tags as they were. Here:

- AWS::EC2::SecurityGroup with the same GroupName, GroupDescription and VpcId keeps its id and gets the new
  Tags (inline rule changes are not applied); a change of those three replaces it as before;
- AWS::IAM::Role also applies AssumeRolePolicyDocument, inline Policies (puts the listed ones, deletes the
  others), ManagedPolicyArns (attaches and detaches) and Tags;
- AWS::EFS::FileSystem FileSystemTags and the Tags of AWS::MemoryDB::{Cluster,ParameterGroup,SubnetGroup}
  are applied on create and on update.

Tags are added or overwritten, never removed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.security_groups import SecurityGroup
from moto.efs.models import efs_backends
from moto.iam.models import Role, iam_backends
from moto.memorydb.models import memorydb_backends
from moto.utilities.utils import get_partition

from ._patching import post_create, wrap_classmethod

_IDENTITY = (("GroupName", "name"), ("GroupDescription", "description"), ("VpcId", "vpc_id"))


def _tag_map(tags: Any) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in tags or [] if isinstance(t, dict)}


def _update_security_group(
    orig: Callable[..., Any],
    cls: type,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    props = cloudformation_json.get("Properties", {})
    same = all(
        props.get(key, getattr(original_resource, attr)) == getattr(original_resource, attr)
        for key, attr in _IDENTITY
    )
    if not same:
        return orig(original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    tags = _tag_map(props.get("Tags"))
    if tags:
        ec2_backends[account_id][region_name].create_tags([original_resource.id], tags)
    return original_resource


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _update_role(
    orig: Callable[..., Any],
    cls: type,
    original_resource: Any,
    new_resource_name: str,
    cloudformation_json: Any,
    account_id: str,
    region_name: str,
) -> Any:
    # What the previous template declared: only that is removed when the new one leaves it out. Policies
    # added outside the stack (a customer's own) stay, as CloudFormation leaves them.
    before = getattr(original_resource, "cf_properties", None)
    role = orig(original_resource, new_resource_name, cloudformation_json, account_id, region_name)
    props = cloudformation_json.get("Properties", {})
    iam = iam_backends[account_id][get_partition(region_name)]
    if "AssumeRolePolicyDocument" in props:
        iam.update_assume_role_policy(role.name, _document(props["AssumeRolePolicyDocument"]))
    if before is None:
        declared_inline, declared_managed = set(role.policies), set(role.managed_policies)
    else:
        declared_inline = {str(p.get("PolicyName")) for p in before.get("Policies") or [] if isinstance(p, dict)}
        declared_managed = {str(arn) for arn in before.get("ManagedPolicyArns") or []}
    wanted = {p["PolicyName"]: _document(p["PolicyDocument"]) for p in props.get("Policies") or []}
    for name in list(role.policies):
        if name not in wanted and name in declared_inline:
            iam.delete_role_policy(role.name, name)
    for name, document in wanted.items():
        iam.put_role_policy(role.name, name, document)
    arns = set(props.get("ManagedPolicyArns") or [])
    for arn in list(role.managed_policies):
        if arn not in arns and arn in declared_managed:
            iam.detach_role_policy(arn, role.name)
    for arn in arns - set(role.managed_policies):
        iam.attach_role_policy(arn, role.name)
    if props.get("Tags"):
        iam.tag_role(role.name, [{"Key": k, "Value": v} for k, v in _tag_map(props["Tags"]).items()])
    return role


@post_create("AWS::EFS::FileSystem")
def _file_system_tags(file_system: Any, props: dict[str, Any], account_id: str, region: str) -> None:
    tags = _tag_map(props.get("FileSystemTags"))
    if tags:
        efs_backends[account_id][region].tag_resource(file_system.file_system_arn, tags)


@post_create("AWS::MemoryDB::Cluster", "AWS::MemoryDB::ParameterGroup", "AWS::MemoryDB::SubnetGroup")
def _memorydb_tags(resource: Any, props: dict[str, Any], account_id: str, region: str) -> None:
    tags = _tag_map(props.get("Tags"))
    if tags and getattr(resource, "arn", None):
        memorydb_backends[account_id][region].tag_resource(
            resource.arn, [{"Key": k, "Value": v} for k, v in tags.items()]
        )


def apply() -> None:
    wrap_classmethod(SecurityGroup, "update_from_cloudformation_json", _update_security_group)
    wrap_classmethod(Role, "update_from_cloudformation_json", _update_role)
