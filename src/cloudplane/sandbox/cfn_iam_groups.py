"""AWS::IAM::Group, which moto's CloudFormation lacks, and AWS::IAM::ManagedPolicy's delete, which it skips.

IAM templates written elsewhere (AWS's Quick Start IAM baseline, say) give groups their permissions through
AWS::IAM::ManagedPolicy resources. moto has no Group type, and deleting a ManagedPolicy resource is a no-op
that leaves the policy attached, so the role or group it names then fails its delete with DeleteConflict.

- Group: GroupName (or a generated name), Path, inline Policies, ManagedPolicyArns; Ref is the name, GetAtt
  Arn the ARN. Its delete removes what the stack declared and then the group, refused with DeleteConflict
  while a policy from elsewhere is still attached, as on AWS.
- ManagedPolicy delete: detached from the roles, groups and users the stack declared, then deleted;
  DeleteConflict while it is attached to anything else.
"""

from __future__ import annotations

import json
from typing import Any

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from ._patching import SandboxServiceError, deleter
from .cfn_types import _SandboxModel


def _iam(account_id: str, region: str) -> Any:
    return iam_backends[account_id][get_partition(region)]


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class CfnIAMGroup(_SandboxModel, CloudFormationModel):
    TYPE = "AWS::IAM::Group"
    NAME_PROPERTY = "GroupName"
    ATTRIBUTES = {"Arn": "arn"}

    def __init__(self, name: str, arn: str, account_id: str, region: str) -> None:
        super().__init__(name, account_id, region)
        self.arn = arn

    @classmethod
    def create_from_cloudformation_json(
        cls, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any
    ) -> Any:  # type: ignore[override]
        props = cloudformation_json.get("Properties") or {}
        iam = _iam(account_id, region_name)
        group = iam.create_group(resource_name, props.get("Path") or "/")
        try:
            for policy in props.get("Policies") or []:
                iam.put_group_policy(group.name, policy["PolicyName"], _document(policy["PolicyDocument"]))
            for policy_arn in props.get("ManagedPolicyArns") or []:
                iam.attach_group_policy(policy_arn, group.name)
        except Exception:
            _remove_group(iam, group, set(group.policies), set(group.managed_policies))
            raise
        return cls(group.name, group.arn, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        iam = _iam(account_id, region_name)
        group = iam.get_group(self.physical_resource_id)
        declared = getattr(self, "cf_properties", None) or {}
        inline = {str(p.get("PolicyName")) for p in declared.get("Policies") or [] if isinstance(p, dict)}
        _remove_group(iam, group, inline, {str(arn) for arn in declared.get("ManagedPolicyArns") or []})


def _remove_group(iam: Any, group: Any, inline: set[str], managed: set[str]) -> None:
    for policy_arn in list(group.managed_policies):
        if policy_arn in managed:
            iam.detach_group_policy(policy_arn, group.name)
    for policy_name in list(group.policies):
        if policy_name in inline:
            iam.delete_group_policy(group.name, policy_name)
    if group.managed_policies:
        raise SandboxServiceError("DeleteConflict", "Cannot delete entity, must detach all policies first.")
    if group.policies:
        raise SandboxServiceError("DeleteConflict", "Cannot delete entity, must delete policies first.")
    iam.delete_group(group.name)


@deleter("AWS::IAM::ManagedPolicy")
def _delete_managed_policy(policy: Any, account_id: str, region: str) -> None:
    iam = _iam(account_id, region)
    declared = getattr(policy, "cf_properties", None) or {}
    roles = {role.name: role for role in list(iam.roles.values())}
    for role_name in declared.get("Roles") or []:
        if role_name in roles and policy.arn in roles[role_name].managed_policies:
            iam.detach_role_policy(policy.arn, role_name)
    for group_name in declared.get("Groups") or []:
        if group_name in iam.groups and policy.arn in iam.groups[group_name].managed_policies:
            iam.detach_group_policy(policy.arn, group_name)
    for user_name in declared.get("Users") or []:
        if user_name in iam.users and policy.arn in iam.users[user_name].managed_policies:
            iam.detach_user_policy(policy.arn, user_name)
    if policy.attachment_count > 0:
        raise SandboxServiceError("DeleteConflict", "Cannot delete a policy attached to entities.")
    iam.delete_policy(policy.arn)


def apply() -> None:
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    if parsing.get_model_map().get(CfnIAMGroup.TYPE) is not CfnIAMGroup:
        raise RuntimeError(f"{CfnIAMGroup.TYPE} is not served by {CfnIAMGroup.__name__}")
