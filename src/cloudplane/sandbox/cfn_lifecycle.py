"""CloudFormation stack lifecycle as AWS runs it.

- per-resource events: CREATE_IN_PROGRESS / CREATE_COMPLETE / CREATE_FAILED (with the real reason),
  DELETE_IN_PROGRESS / DELETE_COMPLETE / DELETE_SKIPPED / DELETE_FAILED, and per-resource statuses in
  describe_stack_resources / list_stack_resources;
- a resource failing during create_stack rolls the stack back (ROLLBACK_IN_PROGRESS -> ROLLBACK_COMPLETE,
  resources deleted newest first, DeletionPolicy Retain kept) and create_stack still returns the StackId;
  OnFailure=DO_NOTHING / DisableRollback leave CREATE_FAILED, OnFailure=DELETE ends in DELETE_COMPLETE;
- a bucket whose name is taken (kept by an earlier stack, say) fails with CloudFormation's "<name> already
  exists" reason rather than S3's BucketAlreadyExists message;
- each created or updated resource carries its resolved properties (`cf_properties`), so that a delete removes
  what the stack declared and nothing else (cfn_delete's role delete);
- template errors (undefined references, unresolvable outputs) are refused by create_stack itself;
- delete_stack that cannot delete a resource leaves the stack in DELETE_FAILED instead of losing its record;
- Outputs, exports and stack resources never trigger moto's lazy (re-)creation of resources, so describing
  a rolled-back or deleted stack does not bring its resources back.
- update_stack emits UPDATE_* resource events, and a resource whose type moto cannot update stays tracked
  by the stack (moto would drop it and leak it on delete).
Updates (their order, cleanup phase and UPDATE_ROLLBACK_*) are run by cfn_update_rollback, change sets by
cfn_change_sets; both go through the create and update paths here.
Not covered: ExecuteChangeSet of a CREATE change set still runs moto's own path (no rollback).
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from datetime import datetime
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import CloudFormationBackend, Event, Stack, cloudformation_backends
from moto.core.responses import ActionResult
from moto.core.utils import utcnow

from . import cfn_permissions, fault_injection
from ._patching import POST_CREATE, error_code, error_message, original, patch_attr, wrap_method
from .cfn_delete import delete_resource

logger = logging.getLogger(__name__)

ENV_STRICT_TYPES = "CLOUDPLANE_SANDBOX_STRICT_TYPES"
OUTPUT_STATES = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}

# OnFailure of the create_stack request being served (werkzeug serves each request on its own thread).
_request = threading.local()


class ResourceFailure(Exception):
    """Marks the logical id of the resource that failed, wrapping the service error."""


class DeleteFailure(Exception):
    """Resources that could not be deleted; args: (logical ids, first error)."""


# --- per-resource bookkeeping on moto's ResourceMap ----------------------------------------------------


def _stack_of(resource_map: Any) -> Stack | None:
    return resource_map.__dict__.get("_cloudplane_stack")


def _created(resource_map: Any) -> list[str]:
    return resource_map.__dict__.setdefault("_cloudplane_created", [])


def _statuses(resource_map: Any) -> dict[str, tuple[str, datetime]]:
    return resource_map.__dict__.setdefault("_cloudplane_status", {})


def _emit(
    resource_map: Any,
    logical_id: str,
    resource_type: str,
    status: str,
    physical_id: str = "",
    reason: str | None = None,
    properties: str | None = None,
) -> None:
    _statuses(resource_map)[logical_id] = (status, utcnow())
    stack = _stack_of(resource_map)
    if stack is None:
        return
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=logical_id,
        physical_resource_id=physical_id,
        resource_type=resource_type,
        resource_status=status,
        resource_status_reason=reason,
        resource_properties=properties,
    )
    event.sendToSns(stack.account_id, stack.region_name, stack.notification_arns)
    stack.events.append(event)


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, fault_injection.InjectedFailure):
        return str(exc)
    if isinstance(exc, cfn_permissions.HandlerAccessDenied):
        return exc.reason
    return f'Resource handler returned message: "{error_message(exc)}" (ErrorCode: {error_code(exc)})'


def _create_failure_reason(resource_type: str, physical_name: str, exc: BaseException) -> str:
    # CloudFormation's bucket handler says "<name> already exists" whoever owns the bucket.
    taken = error_code(exc) in ("BucketAlreadyExists", "BucketAlreadyOwnedByYou")
    if resource_type == "AWS::S3::Bucket" and taken:
        message = f"{physical_name} already exists"
        return f'Resource handler returned message: "{message}" (HandlerErrorCode: AlreadyExists)'
    return failure_reason(exc)


def _physical_id(resource: Any) -> str:
    value = getattr(resource, "physical_resource_id", "")
    return value if isinstance(value, str) else str(value)


# --- create ----------------------------------------------------------------------------------------------


def _run_post_create(
    resource_type: str, resource: Any, props: dict[str, Any], account_id: str, region: str
) -> None:
    for hook in POST_CREATE.get("*", []) + POST_CREATE.get(resource_type, []):
        hook(resource, props, account_id, region)


def parse_and_create_resource(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
) -> Any:
    """Replacement for moto's function of the same name (looked up at call time by ResourceMap.__getitem__)."""
    condition = resource_json.get("Condition")
    if condition and not resources_map.lazy_condition_map[condition]:
        return None
    resource_type = resource_json["Type"]
    try:
        # Resolving the properties creates the referenced resources first, so their events come first.
        parsed = parsing.parse_resource_and_generate_name(logical_id, resource_json, resources_map)
    except ResourceFailure:
        raise
    except Exception as exc:
        _emit(resources_map, logical_id, resource_type, "CREATE_FAILED", reason=failure_reason(exc))
        raise ResourceFailure(logical_id) from exc
    if parsed is None:
        if os.environ.get(ENV_STRICT_TYPES, "").lower() in ("1", "true", "yes"):
            reason = f"Resource type {resource_type} is not supported by the sandbox"
            _emit(resources_map, logical_id, resource_type, "CREATE_FAILED", reason=reason)
            raise ResourceFailure(logical_id) from ValidationError(message=reason)
        logger.warning("sandbox: %s (%s) is not supported; skipped", logical_id, resource_type)
        return None

    resource_class, resolved_json, physical_name = parsed
    props = resolved_json.get("Properties") or {}
    _emit(
        resources_map,
        logical_id,
        resource_type,
        "CREATE_IN_PROGRESS",
        properties=json.dumps(props, default=str),
    )
    try:
        cfn_permissions.check(_stack_of(resources_map), resource_type, logical_id, "create")
        fault_injection.check(resource_type, logical_id)
        resource = resource_class.create_from_cloudformation_json(
            physical_name, resolved_json, account_id, region_name,
            LogicalId=logical_id, StackId=resources_map.stack_id, ResourceType=resource_type,
        )  # fmt: skip
        resource.cf_resource_type = resource_type
        resource.logical_resource_id = logical_id
        # What the stack declared (resolved): a delete removes only that, as CloudFormation does.
        resource.cf_properties = props
        try:
            _run_post_create(resource_type, resource, props, account_id, region_name)
        except Exception:
            # Rollback only knows resources that were returned: undo this one before failing it.
            try:
                delete_resource(resource, resource_type, account_id, region_name, resource_json)
            except Exception:
                logger.exception("sandbox: could not undo %s after a failed create", logical_id)
            raise
    except Exception as exc:
        reason = _create_failure_reason(resource_type, str(physical_name), exc)
        _emit(resources_map, logical_id, resource_type, "CREATE_FAILED", reason=reason)
        raise ResourceFailure(logical_id) from exc
    _emit(resources_map, logical_id, resource_type, "CREATE_COMPLETE", physical_id=_physical_id(resource))
    _created(resources_map).append(logical_id)
    return resource


def _update_resource(
    logical_id: str, resource_json: dict[str, Any], resources_map: Any, account_id: str, region_name: str
) -> Any:
    """Wraps moto's parse_and_update_resource: events, and a type without an update keeps its resource."""
    resource_type = resource_json["Type"]
    previous = resources_map._parsed_resources.get(logical_id)
    physical_id = _physical_id(previous)
    _emit(resources_map, logical_id, resource_type, "UPDATE_IN_PROGRESS", physical_id)
    try:
        cfn_permissions.check(_stack_of(resources_map), resource_type, logical_id, "update")
        fault_injection.check(resource_type, logical_id, fault_injection.UPDATE)
        updated = original(parsing, "parse_and_update_resource")(
            logical_id, resource_json, resources_map, account_id, region_name
        )
    except Exception as exc:
        _emit(resources_map, logical_id, resource_type, "UPDATE_FAILED", physical_id, failure_reason(exc))
        raise
    try:
        parsed = parsing.parse_resource_and_generate_name(logical_id, resource_json, resources_map)
        props = (parsed[1].get("Properties") or {}) if parsed is not None else {}
        if updated is None and previous is not None:
            # moto answers None for types it cannot update, which would drop the resource from the stack (and
            # leak it on delete): keep the existing one and apply what our hooks know how to change in place.
            updated = previous
            if parsed is not None:
                _run_post_create(resource_type, updated, props, account_id, region_name)
    except Exception as exc:
        _emit(resources_map, logical_id, resource_type, "UPDATE_FAILED", physical_id, failure_reason(exc))
        raise
    if updated is not None and parsed is not None:
        updated.cf_properties = props
    _emit(resources_map, logical_id, resource_type, "UPDATE_COMPLETE", _physical_id(updated))
    return updated


def _is_template_error(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("moto.cloudformation")


def _create_resources(self: Stack) -> None:
    """Replacement for Stack.create_resources: create, resolve outputs and exports, or roll back."""
    self.status = "CREATE_IN_PROGRESS"
    try:
        ready = self.resource_map.create(self.template_dict)
        self.description = self.template_dict.get("Description")
        if ready:
            _resolve_outputs_and_exports(self)
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc, ResourceFailure) and exc.__cause__ else exc
        failed = exc.args[0] if isinstance(exc, ResourceFailure) else None
        if _is_template_error(cause):
            # AWS refuses such templates before creating anything: clean up and refuse the request.
            try:
                _delete_resources(self.resource_map, rollback=True, quiet=True)
            except Exception:
                logger.exception("sandbox: cleanup after a template error failed")
            cloudformation_backends[self.account_id][self.region_name].stacks.pop(self.stack_id, None)
            raise cause from None
        _fail_create(self, failed, cause)
        return
    if ready:
        self.mark_creation_complete()


def _resolve_outputs_and_exports(stack: Stack) -> None:
    """Resolve outputs now, as AWS does at the end of a create, and register the stack's exports."""
    _ = original_outputs(stack)
    backend = cloudformation_backends[stack.account_id][stack.region_name]
    exports = original(Stack, "exports").fget(stack)
    taken = {name for name, export in backend.exports.items() if export.exporting_stack_id != stack.stack_id}
    clashes = [export.name for export in exports if export.name in taken]
    if clashes:
        raise ValidationError(
            stack.stack_id, message=f"Export with name {clashes[0]} is already exported by another stack"
        )
    for export in exports:
        backend.exports[export.name] = export


def _set_status(stack: Stack, status: str, reason: str | None = None) -> None:
    stack.status = status
    if reason is not None:
        stack.stack_status_reason = reason
    stack._add_stack_event(status, resource_status_reason=reason)


def _fail_create(stack: Stack, failed: str | None, cause: BaseException) -> None:
    on_failure = getattr(_request, "on_failure", None) or "ROLLBACK"
    if failed:
        reason = f"The following resource(s) failed to create: [{failed}]."
    else:
        reason = f"Stack creation failed: {error_message(cause)}"
    if on_failure == "DO_NOTHING":
        _set_status(stack, "CREATE_FAILED", reason)
        return
    _set_status(stack, "ROLLBACK_IN_PROGRESS", f"{reason} Rollback requested by user.")
    try:
        _delete_resources(stack.resource_map, rollback=True)
    except DeleteFailure as exc:
        _set_status(stack, "ROLLBACK_FAILED", _delete_failed_reason(exc))
        return
    stack.status = "ROLLBACK_COMPLETE"
    stack._add_stack_event("ROLLBACK_COMPLETE")
    if on_failure == "DELETE":
        cloudformation_backends[stack.account_id][stack.region_name].delete_stack(stack.stack_id)


def _create_stack_request(orig: Any, self: Any) -> Any:
    on_failure = self._get_param("OnFailure")
    if not on_failure and str(self._get_param("DisableRollback", "false")).lower() == "true":
        on_failure = "DO_NOTHING"
    _request.on_failure = on_failure
    try:
        return orig(self)
    finally:
        _request.on_failure = None


# --- delete ----------------------------------------------------------------------------------------------


def _delete_resources(
    resource_map: Any,
    rollback: bool = False,
    quiet: bool = False,
    logical_ids: list[str] | None = None,
    templates: dict[str, Any] | None = None,
) -> None:
    """Delete what the stack created (or `logical_ids`, given oldest first), newest first, retrying in
    passes while a pass makes progress. `templates`: the resources' declarations, when not the current ones."""
    parsed = resource_map._parsed_resources
    templates = resource_map._resource_json_map if templates is None else templates
    if logical_ids is not None:
        order = [lid for lid in logical_ids if lid in parsed]
    else:
        order = [lid for lid in _created(resource_map) if lid in parsed]
        order += [lid for lid in templates if lid in parsed and lid not in order and _is_resource(parsed[lid])]
    pending: list[str] = []
    for logical_id in reversed(order):
        policy = templates.get(logical_id, {}).get("DeletionPolicy")
        if policy == "Retain" or (policy == "RetainExceptOnCreate" and not rollback):
            if not quiet:
                _emit(
                    resource_map,
                    logical_id,
                    _type_of(resource_map, logical_id),
                    "DELETE_SKIPPED",
                    _physical_id(parsed[logical_id]),
                )
            continue
        pending.append(logical_id)

    errors: dict[str, Exception] = {}
    started: set[str] = set()
    while pending:
        still_pending = []
        for logical_id in pending:
            if isinstance(errors.get(logical_id), cfn_permissions.HandlerAccessDenied):
                still_pending.append(logical_id)  # denied once is denied for the whole operation
                continue
            resource = parsed[logical_id]
            resource_type = _type_of(resource_map, logical_id)
            if logical_id not in started and not quiet:
                _emit(resource_map, logical_id, resource_type, "DELETE_IN_PROGRESS", _physical_id(resource))
            started.add(logical_id)
            try:
                if not quiet:  # a template refused at submission is cleaned up without the caller's rights
                    cfn_permissions.check(_stack_of(resource_map), resource_type, logical_id, "delete")
                delete_resource(
                    resource,
                    resource_type,
                    resource_map._account_id,
                    resource_map._region_name,
                    templates.get(logical_id),
                )
            except Exception as exc:
                errors[logical_id] = exc
                still_pending.append(logical_id)
                continue
            parsed.pop(logical_id, None)
            if logical_id in _created(resource_map):
                _created(resource_map).remove(logical_id)
            if not quiet:
                _emit(resource_map, logical_id, resource_type, "DELETE_COMPLETE", _physical_id(resource))
        if len(still_pending) == len(pending):
            break
        pending = still_pending
    if pending:
        for logical_id in pending:
            _emit(resource_map, logical_id, _type_of(resource_map, logical_id), "DELETE_FAILED",
                  _physical_id(parsed[logical_id]), failure_reason(errors[logical_id]))  # fmt: skip
        raise DeleteFailure(pending, errors[pending[0]])


def _delete_failed_reason(exc: DeleteFailure) -> str:
    logical_ids, first = exc.args
    return f"The following resource(s) failed to delete: [{', '.join(logical_ids)}]. {failure_reason(first)}"


def _is_resource(value: Any) -> bool:
    return value is not None and hasattr(value, "cf_resource_type")


def _type_of(resource_map: Any, logical_id: str) -> str:
    resource = resource_map._parsed_resources.get(logical_id)
    return getattr(resource, "cf_resource_type", None) or resource_map._resource_json_map.get(
        logical_id, {}
    ).get("Type", "")


def _resource_map_delete(self: Any) -> None:
    _delete_resources(self)


def _delete_resource(orig: Any, self: Any, parsed_resource: Any, resource_json: dict[str, Any]) -> None:
    # Used by moto's update path when a resource is removed from the template.
    delete_resource(
        parsed_resource, resource_json["Type"], self._account_id, self._region_name, resource_json
    )


def _delete_stack(self: CloudFormationBackend, name_or_stack_id: str) -> None:
    stack = self.stacks.get(name_or_stack_id) or next(
        (s for s in list(self.stacks.values()) if s.name == name_or_stack_id), None
    )
    if stack is None:
        return  # AWS answers success for a stack that does not exist
    if stack.enable_termination_protection:
        raise ValidationError(
            stack.stack_id,
            message=f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled",
        )
    _set_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
    try:
        _delete_resources(stack.resource_map)
    except DeleteFailure as exc:
        _set_status(stack, "DELETE_FAILED", _delete_failed_reason(exc))
        return
    for name, export in list(self.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            self.exports.pop(name, None)
    _set_status(stack, "DELETE_COMPLETE")
    stack.stack_status_reason = None
    self.stacks.pop(stack.stack_id, None)
    self.deleted_stacks[stack.stack_id] = stack


# --- no lazy re-creation -----------------------------------------------------------------------------------


def original_outputs(stack: Stack) -> Any:
    return original(Stack, "outputs").fget(stack)


def _outputs(self: Stack) -> Any:
    return original_outputs(self) if self.status in OUTPUT_STATES else None


def _exports(self: Stack) -> Any:
    return original(Stack, "exports").fget(self) if self.status in OUTPUT_STATES else []


def _stack_resources(self: Stack) -> list[Any]:
    resource_map = self.resource_map
    parsed = resource_map._parsed_resources
    order = [lid for lid in _created(resource_map) if lid in parsed]
    order += [lid for lid in resource_map._resource_json_map if lid in parsed and lid not in order]
    return [parsed[lid] for lid in order if _is_resource(parsed[lid])]


def _create_resource_map(orig: Any, self: Stack) -> Any:
    resource_map = orig(self)
    resource_map.__dict__["_cloudplane_stack"] = self
    return resource_map


# --- template checks at submission -------------------------------------------------------------------------


def _references(node: Any, found: set[str]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                target = value.split(".", 1)[0] if isinstance(value, str) else value[0]
                if isinstance(target, str):
                    found.add(target)
            elif key == "Fn::Sub":
                _sub_references(value, found)
            else:
                _references(value, found)
    elif isinstance(node, list):
        for item in node:
            _references(item, found)


def _sub_references(value: Any, found: set[str]) -> None:
    template, variables = (value[0], value[1]) if isinstance(value, list) else (value, {})
    _references(variables, found)
    if isinstance(template, str):
        for name in re.findall(r"\$\{([^!}][^}]*)\}", template):
            name = name.strip().split(".", 1)[0]
            if name not in variables:
                found.add(name)


def validate_references(template: dict[str, Any]) -> None:
    resources = template.get("Resources") or {}
    known = set(resources) | set(template.get("Parameters") or {}) | PSEUDO_PARAMETERS
    for block in ("Resources", "Outputs"):
        found: set[str] = set()
        for body in (template.get(block) or {}).values():
            _references(body, found)
            if block == "Resources" and isinstance(body, dict):
                depends = body.get("DependsOn", [])
                found.update([depends] if isinstance(depends, str) else depends)
        missing = sorted(found - known)
        if missing:
            raise ValidationError(
                message=f"Template format error: Unresolved resource dependencies [{', '.join(missing)}] in the {block} block of the template"
            )


def _load(orig: Any, self: Any) -> None:
    orig(self)
    if self._template:
        validate_references(self._template)


# --- per-resource statuses in responses ----------------------------------------------------------------------


def _dto_init(orig: Any, self: Any, stack: Stack, resource: Any) -> None:
    orig(self, stack, resource)
    status = _statuses(stack.resource_map).get(self.logical_resource_id)
    if status is not None:
        self.resource_status, self.timestamp = status


def _list_stack_resources(self: Any) -> ActionResult:
    stack, resources = self.cloudformation_backend.list_stack_resources(self._get_param("StackName"))
    statuses = _statuses(stack.resource_map)
    summaries = []
    for resource in resources:
        logical_id = getattr(resource, "logical_resource_id", "")
        status, when = statuses.get(logical_id, ("CREATE_COMPLETE", stack.creation_time))
        summaries.append(
            {
                "LogicalResourceId": logical_id,
                "PhysicalResourceId": _physical_id(resource),
                "ResourceType": getattr(resource, "cf_resource_type", ""),
                "ResourceStatus": status,
                "LastUpdatedTimestamp": when,
            }
        )
    return ActionResult({"StackResourceSummaries": summaries})


def apply() -> None:
    patch_attr(parsing, "parse_and_create_resource", parse_and_create_resource)
    patch_attr(parsing, "parse_and_update_resource", _update_resource)
    wrap_method(parsing.ResourceMap, "load", _load)
    patch_attr(parsing.ResourceMap, "delete", _resource_map_delete)
    wrap_method(parsing.ResourceMap, "_delete_resource", _delete_resource)
    wrap_method(Stack, "_create_resource_map", _create_resource_map)
    patch_attr(Stack, "create_resources", _create_resources)
    patch_attr(Stack, "outputs", property(_outputs))
    patch_attr(Stack, "exports", property(_exports))
    patch_attr(Stack, "stack_resources", property(_stack_resources))
    patch_attr(CloudFormationBackend, "delete_stack", _delete_stack)
    wrap_method(cfn_responses.CloudFormationResponse, "create_stack", _create_stack_request)
    patch_attr(cfn_responses.CloudFormationResponse, "list_stack_resources", _list_stack_resources)
    wrap_method(cfn_responses.StackResourceDTO, "__init__", _dto_init)
