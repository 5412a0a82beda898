"""What CloudFormation needs of the caller to create or delete a managed cloud's resources.

Without a service role, CloudFormation runs each resource's handler with the permissions of whoever made the
stack request (CreateStack, DeleteStack, and a failed create's rollback). Each handler's permissions are
listed in its type's resource-provider schema; the pinned cfn-lint ships those schemas as published in the
CloudFormation registry. They are read as they are: a handler may call every action its schema lists (the
reads it waits with, and actions for properties cloudplane does not set), so a policy with less may fail
where AWS takes another path.
"""

from __future__ import annotations

import functools

from cloudplane.aws.template import ManagedCloudOptions, managed_cloud_template

# The registry's schemas are the same in every commercial region for these types.
SCHEMA_REGION = "us-east-1"
OPERATIONS = ("create", "update", "delete")


@functools.cache
def managed_resource_types() -> tuple[str, ...]:
    """Every resource type a managed cloud's stack may hold (EFS and MemoryDB included)."""
    options = ManagedCloudOptions(
        cloud_id="cld_0123456789abcdefghij",
        external_id="cld_0123456789abcdefghij-0",
        controlplane_principal="arn:aws:iam::123456789012:root",
        availability_zones=("us-east-1a", "us-east-1b", "us-east-1c"),
        shared_storage="nfs",
        head_node_fault_tolerance=True,
    )
    resources = managed_cloud_template(options)["Resources"].values()
    return tuple(sorted({resource["Type"] for resource in resources}))


@functools.cache
def handler_actions(resource_type: str, operation: str) -> tuple[str, ...]:
    """The actions the type's `operation` handler ("create", "update" or "delete") may call, as its schema lists them."""
    if operation not in OPERATIONS:
        raise ValueError(f"operation must be one of {OPERATIONS}, not {operation!r}")
    # Loaded only here: the schemas take a while to read, and only setup's, update's and delete's policies need them.
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(SCHEMA_REGION, resource_type).schema
    handler = (schema.get("handlers") or {}).get(operation) or {}
    return tuple(str(action) for action in handler.get("permissions") or ())


def stack_actions(operation: str) -> list[str]:
    """Every handler action of `operation` over the managed cloud's resource types, sorted, without repeats."""
    return sorted({a for t in managed_resource_types() for a in handler_actions(t, operation)})
