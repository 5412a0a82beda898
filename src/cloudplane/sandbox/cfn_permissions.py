"""Under IAM enforcement, CloudFormation's resource handlers act with the permissions of whoever asked.

On AWS, CloudFormation creates, updates and deletes each resource of a stack by calling that type's handler
with the credentials of the principal that made the stack request (CreateStack, UpdateStack, ExecuteChangeSet,
DeleteStack; a failed create's rollback with those of the CreateStack). moto creates them with no check at all.
Here, while IAM is enforced, the lifecycle code (cfn_lifecycle) calls `check` before it creates, updates or
deletes each resource: every action of the type's handler for that operation must be allowed by the identity
policies of that principal (an IAM user or an assumed role), or the resource fails with the handler's
AccessDenied, worded as AWS words it, and the stack rolls back (create) or ends DELETE_FAILED (delete). A stack
that is deleted or rolled back needs the delete permissions. Without enforcement nothing is checked and
nothing is loaded.

`handler_permissions(type, operation)` is the `handlers.<operation>.permissions` list of the type's
CloudFormation resource-provider schema, as published in the CloudFormation registry (us-east-1) and shipped
with the pinned cfn-lint, read as is: the Describe*/List* actions a handler calls to wait for its resource
are kept, as are actions it needs only for properties cloudplane does not set (kms:* for a customer key,
s3tables:* for metadata tables, iam:PassRole for replication), so a policy proven here grants whatever the
handler may call. The whole list is needed whatever the properties (an update's rollback, which runs the update
handler again, needs it again). They are checked main call first (CreateVpc before CreateTags), so a caller
allowed none of them is told of the call AWS's handler makes first. A type whose schema has no handler for the
operation (an update of a type whose every property forces a replacement, a type without a registry schema)
needs nothing. A resource that moto replaces on update is checked as an update.

Like moto's check of the request itself, a statement is matched against the resource "*": Resource elements
naming specific ARNs, and Conditions, do not allow a handler action. A stack made with a `RoleARN` (service
role) acts with that role's policies instead of the caller's, as on AWS; the caller's iam:PassRole for the
role is not checked.

Every check is recorded by iam_audit, with the source "cloudformation:<LogicalId>".
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from . import iam_audit
from ._patching import SandboxServiceError

OPERATIONS = ("create", "update", "delete")
SCHEMA_REGION = "us-east-1"

# IAM prefix of a type's own service, where it is not the type's namespace in lower case.
_OWN_SERVICE = {"EFS": "elasticfilesystem", "ElasticLoadBalancingV2": "elasticloadbalancing"}
# The verbs of the call a handler makes first, per operation.
_MAIN_VERBS = {
    "create": ("Create", "Allocate"),
    "update": ("Update", "Modify", "Put"),
    "delete": ("Delete", "Release"),
}

# How the AWS SDK names each service in a handler's error message.
_SDK_NAMES = {
    "ec2": "Ec2",
    "iam": "Iam",
    "s3": "S3",
    "s3tables": "S3Tables",
    "elasticfilesystem": "Efs",
    "elasticloadbalancing": "ElasticLoadBalancingV2",
    "memorydb": "MemoryDb",
    "kms": "Kms",
    "cognito-idp": "CognitoIdentityProvider",
}


@functools.cache
def handler_permissions(resource_type: str, operation: str) -> tuple[str, ...]:
    """The actions CloudFormation's handler of `resource_type` needs for `operation` (create, update or
    delete), in the order the sandbox checks them; empty when the schema has no such handler."""
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {OPERATIONS}, not {operation!r}")
    # Loaded only here: reading the registry schemas costs half a second, which only enforcement pays.
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    try:
        schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    except ResourceNotFoundError:
        return ()
    handler = (schema.get("handlers") or {}).get(operation) or {}
    actions = [str(action) for action in handler.get("permissions") or ()]
    return tuple(sorted(actions, key=lambda action: _call_order(resource_type, operation, action)))


def _call_order(resource_type: str, operation: str, action: str) -> int:
    """Where a handler calls `action`: its main call first (CreateVpc, not CreateTags, names a denial of
    everything), then its other changes, other services', tags, and the reads that wait for the result."""
    service, _, name = action.partition(":")
    namespace = resource_type.split("::")[1] if resource_type.count("::") == 2 else ""
    own = service == _OWN_SERVICE.get(namespace, namespace.lower())
    if name.startswith(("Describe", "List", "Get")):
        return 4
    if "Tag" in name:
        return 3
    if not own:
        return 2
    return 0 if name.startswith(_MAIN_VERBS[operation]) else 1


class HandlerAccessDenied(SandboxServiceError):
    """A resource handler's AccessDenied; `reason` is the resource event's ResourceStatusReason."""

    def __init__(self, principal_arn: str, action: str, explicit: bool) -> None:
        why = (
            "with an explicit deny in an identity-based policy"
            if explicit
            else f"because no identity-based policy allows the {action} action"
        )
        service = _SDK_NAMES.get(action.split(":", 1)[0], action.split(":", 1)[0])
        message = (
            f"User: {principal_arn} is not authorized to perform: {action} {why} "
            f"(Service: {service}, Status Code: 403, Request ID: {uuid.uuid4()})"
        )
        super().__init__("AccessDenied", message)
        self.reason = f'Resource handler returned message: "{message}" (HandlerErrorCode: AccessDenied)'


def _role_policies(role_arn: str, account_id: str, region: str) -> list[Any]:
    """The identity policies of a stack's service role: inline and attached."""
    role = iam_backends[account_id][get_partition(region)].get_role_by_arn(role_arn)
    return list(role.policies.values()) + list(role.managed_policies.values())


def _decide(policies: list[Any], action: str) -> PermissionResult:
    # As moto's check of a request: any explicit Deny wins, else one Allow suffices.
    permitted = False
    for policy in policies:
        result = IAMPolicy(policy).is_action_permitted(action, "*")
        if result == PermissionResult.DENIED:
            return result
        permitted = permitted or result == PermissionResult.PERMITTED
    return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL


def check(stack: Any, resource_type: str, logical_id: str, operation: str) -> None:
    """Raise HandlerAccessDenied unless the principal behind this stack request may run the handler.

    Does nothing (and costs nothing) unless the request being served was checked under IAM enforcement."""
    caller = iam_audit.request_principal()
    if caller is None:
        return
    actions = handler_permissions(resource_type, operation)
    if not actions:
        return
    role_arn = getattr(stack, "role_arn", None) if stack is not None else None
    if role_arn:
        principal_arn = role_arn
        policies = _role_policies(role_arn, stack.account_id, stack.region_name)
    else:
        principal_arn, policies = caller.arn, caller.collect_policies()
    source = f"cloudformation:{logical_id}"
    for action in actions:
        result = _decide(policies, action)
        allowed = result == PermissionResult.PERMITTED
        iam_audit.record(principal_arn, action, allowed, source)
        if not allowed:
            raise HandlerAccessDenied(principal_arn, action, explicit=result == PermissionResult.DENIED)


def apply() -> None:
    """Nothing to patch: cfn_lifecycle calls `check` where it creates, updates and deletes resources."""
