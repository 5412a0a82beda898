"""Stack updates as CloudFormation runs them: dependency order, a cleanup phase, and a rollback on failure.

moto's Stack.update deletes the resources a new template drops before anything else, lets the first error
escape to the client and leaves the stack half-changed. Here UpdateStack and ExecuteChangeSet (see
cfn_change_sets) share one path:

- UPDATE_IN_PROGRESS; new and changed resources are created / updated, each after the resources it refers to
  (CREATE_* / UPDATE_* events from cfn_lifecycle); the outputs are resolved; then
  UPDATE_COMPLETE_CLEANUP_IN_PROGRESS deletes what the new template no longer declares (DeletionPolicy Retain:
  DELETE_SKIPPED), then UPDATE_COMPLETE.
- a resource that fails (its CREATE_FAILED / UPDATE_FAILED event carries the reason) or outputs that cannot
  be resolved turn the update around: UPDATE_ROLLBACK_IN_PROGRESS ("The following resource(s) failed to
  create: [X]."), the resources the update changed get their previous properties back through the same
  update path, UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS deletes what the update created, and
  UPDATE_ROLLBACK_COMPLETE. The stack keeps its previous template, parameters, tags and outputs, and the
  request itself succeeds: the failure shows in the events and the status, as on AWS. A rollback that cannot
  finish ends in UPDATE_ROLLBACK_FAILED.
- an update whose parameters or references cannot be resolved is refused by the request, before any change;
  so is an update (or an UPDATE change set) of a stack in a state AWS does not update from (ROLLBACK_COMPLETE,
  UPDATE_ROLLBACK_FAILED, *_IN_PROGRESS, ...).
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import Stack, cloudformation_backends

from ._patching import error_message, patch_attr
from .cfn_lifecycle import (
    DeleteFailure,
    ResourceFailure,
    _created,
    _delete_resources,
    _references,
    _resolve_outputs_and_exports,
    _set_status,
    validate_references,
)

logger = logging.getLogger(__name__)

# States AWS updates a stack from (UpdateStack, or an UPDATE change set).
UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE"}


class UpdateFailure(Exception):
    """A resource failed during an update; args: (operation "create" | "update" | None, logical id | None)."""


@dataclass
class _Previous:
    """What the stack was before the update: what a rollback restores."""

    template: Any
    template_dict: dict[str, Any]
    parameters: dict[str, Any]
    input_parameters: dict[str, Any]
    role_arn: str | None
    tags: dict[str, str]
    created_count: int
    resources: dict[str, Any] = field(default_factory=dict)


def check_updatable(stack: Stack) -> None:
    if stack.status not in UPDATABLE:
        raise ValidationError(
            stack.stack_id,
            message=f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.",
        )


# --- order ------------------------------------------------------------------------------------------------


def dependencies(body: Any, names: set[str]) -> set[str]:
    """The resources (among `names`) that a resource declaration refers to or DependsOn."""
    found: set[str] = set()
    if isinstance(body, dict):
        _references(body.get("Properties") or {}, found)
        depends = body.get("DependsOn", [])
        found.update([depends] if isinstance(depends, str) else depends)
    return found & names


def dependency_order(resources: dict[str, Any]) -> list[str]:
    """Logical ids, each after the resources it depends on (template order otherwise)."""
    names = set(resources)
    ordered: list[str] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        for dependency in sorted(dependencies(resources[name], names)):
            visit(dependency)
        ordered.append(name)

    for name in resources:
        visit(name)
    return ordered


# --- applying a template to the stack's resources ---------------------------------------------------------------


def _load(resource_map: Any, template_dict: dict[str, Any], input_parameters: dict[str, Any]) -> None:
    """Point the resource map at a template and its parameters (mappings, parameters, conditions)."""
    resource_map._template = template_dict
    resource_map.input_parameters = input_parameters
    resource_map.resolved_parameters = {}
    resource_map.load_mapping()
    resource_map.load_parameters()
    resource_map.load_conditions()
    resource_map._resource_json_map = template_dict.get("Resources") or {}


def _wanted(resource_map: Any, body: dict[str, Any]) -> bool:
    condition = body.get("Condition")
    return not condition or bool(resource_map.lazy_condition_map[condition])


def _apply(resource_map: Any, modify: set[str], touched: list[str]) -> None:
    """Create the declared resources that do not exist and update those in `modify`, in dependency order.

    Appends each resource it starts updating to `touched`. Raises UpdateFailure naming the resource that failed.
    """
    resources = resource_map._resource_json_map
    parsed = resource_map._parsed_resources
    for logical_id in dependency_order(resources):
        body = resources[logical_id]
        if not _wanted(resource_map, body):
            continue
        operation = "create" if logical_id not in parsed else "update"
        try:
            if operation == "create":
                _ = resource_map[logical_id]  # creates it (and emits its events) through cfn_lifecycle
            elif logical_id in modify:
                touched.append(logical_id)
                updated = parsing.parse_and_update_resource(
                    logical_id, body, resource_map, resource_map._account_id, resource_map._region_name
                )
                if updated is not None:
                    parsed[logical_id] = updated
        except ResourceFailure as exc:
            raise UpdateFailure("create", exc.args[0]) from exc.__cause__ or exc
        except Exception as exc:
            raise UpdateFailure(operation, logical_id) from exc


def _leftovers(resource_map: Any, old_resources: dict[str, Any]) -> list[str]:
    """Resources that exist but that the current template no longer declares (or whose Condition is false)."""
    current = resource_map._resource_json_map
    parsed = resource_map._parsed_resources
    gone = [
        lid
        for lid in dependency_order(old_resources)
        if lid in parsed and (lid not in current or not _wanted(resource_map, current[lid]))
    ]
    return gone


def _clean_up(resource_map: Any, logical_ids: list[str], templates: dict[str, Any], rollback: bool) -> None:
    """Delete resources the stack no longer holds; one that cannot be deleted is left behind, as AWS does."""
    if not logical_ids:
        return
    try:
        _delete_resources(resource_map, rollback=rollback, logical_ids=logical_ids, templates=templates)
    except DeleteFailure as exc:
        for logical_id in exc.args[0]:
            resource_map._parsed_resources.pop(logical_id, None)
            if logical_id in _created(resource_map):
                _created(resource_map).remove(logical_id)


def _refresh_exports(stack: Stack) -> None:
    backend = cloudformation_backends[stack.account_id][stack.region_name]
    for name, export in list(backend.exports.items()):
        if export.exporting_stack_id == stack.stack_id:
            backend.exports.pop(name, None)
    _resolve_outputs_and_exports(stack)


def _failure_reason(exc: UpdateFailure) -> str:
    operation, logical_id = exc.args
    if logical_id:
        return f"The following resource(s) failed to {operation}: [{logical_id}]."
    cause = exc.__cause__ or exc
    return f"Stack update failed: {error_message(cause)}"


# --- the update ---------------------------------------------------------------------------------------------------


def run_update(
    stack: Stack,
    template: Any,
    parameters: dict[str, Any] | None = None,
    role_arn: str | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    """Update `stack` to `template` as CloudFormation does; a failed update is rolled back, never raised."""
    resource_map = stack.resource_map
    template_dict = Stack.parse_template(template) if isinstance(template, str) else template
    if not isinstance(template_dict, dict) or "Resources" not in template_dict:
        raise ValidationError(message="Template format error: At least one Resources member must be defined.")
    validate_references(template_dict)
    previous = _Previous(
        template=stack.template,
        template_dict=stack.template_dict,
        parameters=dict(stack.parameters or {}),
        input_parameters=dict(resource_map.input_parameters or {}),
        role_arn=stack.role_arn,
        tags=dict(stack.tags),
        created_count=len(_created(resource_map)),
        resources=copy.deepcopy(resource_map._resource_json_map),
    )
    # moto keeps the previous values when no parameter is passed at all.
    new_inputs = dict(parameters) if parameters else previous.input_parameters
    modify = set(resource_map.build_resource_diff(template_dict, new_inputs)["Modify"])
    try:
        _load(resource_map, template_dict, new_inputs)
    except Exception:
        # AWS refuses such an update before changing anything.
        _load(resource_map, previous.template_dict, previous.input_parameters)
        raise

    _set_status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
    stack.template, stack.template_dict = template, template_dict
    touched: list[str] = []
    try:
        _apply(resource_map, modify, touched)
        stack.output_map = stack._create_output_map()
        try:
            _refresh_exports(stack)
        except Exception as exc:
            raise UpdateFailure("update", None) from exc
    except UpdateFailure as exc:
        _roll_back(stack, previous, touched, _failure_reason(exc))
        return

    stack.parameters = new_inputs
    stack.role_arn = role_arn
    if tags is not None:
        stack.tags = tags
    _set_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
    _clean_up(resource_map, _leftovers(resource_map, previous.resources), previous.resources, rollback=False)
    _set_status(stack, "UPDATE_COMPLETE")
    stack.stack_status_reason = None


def _roll_back(stack: Stack, previous: _Previous, touched: list[str], reason: str) -> None:
    resource_map = stack.resource_map
    failed_resources = dict(resource_map._resource_json_map)
    created = [lid for lid in _created(resource_map)[previous.created_count :]]
    _set_status(stack, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    stack.template, stack.template_dict = previous.template, previous.template_dict
    stack.parameters, stack.role_arn, stack.tags = previous.parameters, previous.role_arn, previous.tags
    try:
        _load(resource_map, previous.template_dict, previous.input_parameters)
        # Only what the update changed goes back, through the same update path.
        restore = {lid for lid in touched if lid in previous.resources and lid not in created}
        _apply(resource_map, restore, [])
    except Exception as exc:
        cause = exc.__cause__ if isinstance(exc, UpdateFailure) and exc.__cause__ else exc
        logger.info("sandbox: rollback of %s failed: %s", stack.name, cause)
        what = _failure_reason(exc) if isinstance(exc, UpdateFailure) else error_message(cause)
        _set_status(stack, "UPDATE_ROLLBACK_FAILED", what.replace("failed to", "failed to roll back:", 1))
        return
    stack.output_map = stack._create_output_map()
    try:
        _refresh_exports(stack)
    except Exception:
        logger.exception("sandbox: outputs of %s after a rollback", stack.name)
    _set_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    _clean_up(resource_map, created, failed_resources, rollback=True)
    _set_status(stack, "UPDATE_ROLLBACK_COMPLETE")
    stack.stack_status_reason = None


def _stack_update(
    self: Stack,
    template: str,
    role_arn: str | None = None,
    parameters: dict[str, Any] | None = None,
    tags: dict[str, str] | None = None,
) -> None:
    run_update(self, template, parameters, role_arn, tags)


def _validate_status(self: Any, stack: Stack) -> None:
    check_updatable(stack)


def apply() -> None:
    patch_attr(Stack, "update", _stack_update)
    patch_attr(cfn_responses.CloudFormationResponse, "_validate_status", _validate_status)
