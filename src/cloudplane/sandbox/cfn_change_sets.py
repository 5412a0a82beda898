"""UPDATE change sets as CloudFormation answers and runs them.

- CreateChangeSet (ChangeSetType UPDATE) takes the stack's name or id and refuses a stack AWS would not update
  (ROLLBACK_COMPLETE, UPDATE_ROLLBACK_FAILED, ...). Its Changes come from cfn_change_diff: Add / Modify (with
  Replacement True | False | Conditional, Scope and Details) / Remove, unchanged resources left out.
- the same template (by content, not text), parameters and tags make a change set that ends FAILED with
  CloudFormation's "didn't contain changes" reason and ExecutionStatus UNAVAILABLE (moto refused the request).
- ExecuteChangeSet runs UpdateStack's path (cfn_update_rollback: events, cleanup, rollback), keeps the stack's
  tags unless the change set names some, and ends EXECUTE_COMPLETE, or EXECUTE_FAILED when the update rolled
  back; the stack's other change sets are deleted, as on AWS. Executing a change set that is not AVAILABLE
  fails with InvalidChangeSetStatus.
- Describe / Execute / DeleteChangeSet look a name up within the StackName given, ListChangeSets lists that
  stack's change sets only, and an unknown change set is ChangeSetNotFound (moto: the last one of that name
  in the region, every stack's, and a server error).
CREATE change sets keep moto's behaviour.
"""

from __future__ import annotations

import threading
from typing import Any

from moto.cloudformation import responses as cfn_responses
from moto.cloudformation.exceptions import AlreadyExistsException, CloudFormationError
from moto.cloudformation.models import ChangeSet, CloudFormationBackend, Stack
from moto.cloudformation.utils import generate_changeset_id, validate_create_change_set

from ._patching import patch_attr, wrap_method
from .cfn_change_diff import ResourceChange, Side, diff
from .cfn_lifecycle import _physical_id
from .cfn_update_rollback import check_updatable, run_update

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to create a change set."
)

# The request being served (werkzeug serves each request on its own thread).
_request = threading.local()


class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFound"


class InvalidChangeSetStatus(CloudFormationError):
    code = "InvalidChangeSetStatus"


# --- lookup ------------------------------------------------------------------------------------------------------


def _of_stack(change_set: ChangeSet, stack_name: str | None) -> bool:
    return not stack_name or stack_name in (change_set.stack_name, change_set.stack_id)


def find(backend: CloudFormationBackend, name: str, stack_name: str | None = None) -> ChangeSet:
    if name in backend.change_sets:
        return backend.change_sets[name]
    matches = [
        cs for cs in backend.change_sets.values() if cs.change_set_name == name and _of_stack(cs, stack_name)
    ]
    if not matches:
        raise ChangeSetNotFound(f"ChangeSet [{name}] does not exist")
    return matches[-1]


# --- the diff -------------------------------------------------------------------------------------------------------


def _values(stack: Stack, template: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameter values as given (defaults for the rest) and the pseudo parameters."""
    values: dict[str, Any] = {
        name: str(slot["Default"])
        for name, slot in (template.get("Parameters") or {}).items()
        if isinstance(slot, dict) and "Default" in slot
    }
    values.update({name: str(value) for name, value in parameters.items()})
    values.update(
        {
            "AWS::AccountId": stack.account_id,
            "AWS::Region": stack.region_name,
            "AWS::StackName": stack.name,
            "AWS::StackId": stack.stack_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
    )
    return values


def _sides(change_set: ChangeSet) -> tuple[Side, Side]:
    stack = change_set.stack
    resource_map = stack.resource_map
    current = dict(resource_map.input_parameters or {})
    wanted = dict(change_set.parameters) if change_set.parameters else current
    old = Side(resource_map._resource_json_map, _values(stack, stack.template_dict, current))
    new = Side(
        change_set.template_dict.get("Resources") or {}, _values(stack, change_set.template_dict, wanted)
    )
    return old, new


def _diff(self: ChangeSet) -> list[ResourceChange]:
    if self.change_set_type != "UPDATE":
        return [
            ResourceChange("Add", lid, str(body.get("Type")))
            for lid, body in (self.template_dict.get("Resources") or {}).items()
        ]
    parsed = self.stack.resource_map._parsed_resources
    physical_ids = {
        lid: _physical_id(parsed[lid]) for lid in self.stack.resource_map._resource_json_map if lid in parsed
    }
    return diff(*_sides(self), physical_ids)


def _unchanged(change_set: ChangeSet) -> bool:
    stack = change_set.stack
    old, new = _sides(change_set)
    same_tags = not change_set.tags or change_set.tags == stack.tags
    return stack.template_dict == change_set.template_dict and old.values == new.values and same_tags


# --- the API --------------------------------------------------------------------------------------------------------


def _create_change_set(
    orig: Any,
    self: CloudFormationBackend,
    stack_name: str,
    change_set_name: str,
    template: str,
    parameters: dict[str, str],
    description: str,
    change_set_type: str,
    notification_arns: list[str] | None = None,
    tags: dict[str, str] | None = None,
    role_arn: str | None = None,
) -> tuple[str, str]:
    if change_set_type != "UPDATE":
        return orig(  # type: ignore[no-any-return]
            self, stack_name, change_set_name, template, parameters, description, change_set_type,
            notification_arns, tags, role_arn,
        )  # fmt: skip
    validate_create_change_set(change_set_name)
    stack = self.get_stack(stack_name)
    check_updatable(stack)
    if any(
        cs.change_set_name == change_set_name and cs.stack_id == stack.stack_id
        for cs in self.change_sets.values()
    ):
        raise AlreadyExistsException(f"ChangeSet {change_set_name} already exists")
    change_set = ChangeSet(
        change_set_type=change_set_type,
        change_set_id=generate_changeset_id(change_set_name, self.region_name, self.account_id),
        change_set_name=change_set_name,
        stack=stack,
        template=template,
        parameters=parameters,
        description=description,
        notification_arns=notification_arns,
        tags=tags,
        role_arn=role_arn,
    )
    if _unchanged(change_set):
        change_set.status, change_set.execution_status = "FAILED", "UNAVAILABLE"
        change_set.status_reason = NO_CHANGES
        change_set.changes = []
    else:
        change_set.status, change_set.execution_status = "CREATE_COMPLETE", "AVAILABLE"
    self.change_sets[change_set.change_set_id] = change_set
    return change_set.change_set_id, stack.stack_id


def _execute_change_set(
    orig: Any, self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None
) -> None:
    change_set = find(self, change_set_name, stack_name)
    if change_set.change_set_type != "UPDATE":
        orig(self, change_set.change_set_id, stack_name)
        return
    if change_set.execution_status != "AVAILABLE":
        raise InvalidChangeSetStatus(
            f"ChangeSet [{change_set.change_set_id}] cannot be executed in its current execution status of "
            f"[{change_set.execution_status}]"
        )
    stack = self.stacks.get(change_set.stack_id)
    if stack is None:
        raise ChangeSetNotFound(f"ChangeSet [{change_set_name}] does not exist")
    check_updatable(stack)
    change_set.execution_status = "EXECUTE_IN_PROGRESS"
    run_update(
        stack, change_set.template, change_set.parameters, change_set.role_arn, change_set.tags or None
    )
    change_set.execution_status = (
        "EXECUTE_COMPLETE" if stack.status == "UPDATE_COMPLETE" else "EXECUTE_FAILED"
    )
    for change_set_id, other in list(self.change_sets.items()):
        if other is not change_set and other.stack_id == stack.stack_id:
            del self.change_sets[change_set_id]


def _describe_change_set(self: CloudFormationBackend, change_set_name: str) -> ChangeSet:
    return find(self, change_set_name, getattr(_request, "stack_name", None))


def _delete_change_set(self: CloudFormationBackend, change_set_name: str) -> None:
    change_set = find(self, change_set_name, getattr(_request, "stack_name", None))
    self.change_sets.pop(change_set.change_set_id, None)


def _list_change_sets(self: CloudFormationBackend) -> list[ChangeSet]:
    stack_name = getattr(_request, "stack_name", None)
    stack = next((s for s in self.stacks.values() if stack_name in (s.name, s.stack_id)), None)
    if stack_name and stack is None:
        return []
    return [cs for cs in self.change_sets.values() if stack is None or cs.stack_id == stack.stack_id]


def _with_stack_name(orig: Any, self: Any) -> Any:
    _request.stack_name = self._get_param("StackName")
    try:
        return orig(self)
    finally:
        _request.stack_name = None


def _creating_change_set(orig: Any, self: Any) -> Any:
    _request.change_set = True
    try:
        return orig(self)
    finally:
        _request.change_set = False


def _validate_different_update(orig: Any, self: Any, *args: Any) -> None:
    # A change set without changes is created and ends FAILED; only UpdateStack refuses the request.
    if not getattr(_request, "change_set", False):
        orig(self, *args)


def apply() -> None:
    patch_attr(ChangeSet, "diff", _diff)
    wrap_method(CloudFormationBackend, "create_change_set", _create_change_set)
    wrap_method(CloudFormationBackend, "execute_change_set", _execute_change_set)
    patch_attr(CloudFormationBackend, "describe_change_set", _describe_change_set)
    patch_attr(CloudFormationBackend, "delete_change_set", _delete_change_set)
    patch_attr(CloudFormationBackend, "list_change_sets", _list_change_sets)
    response = cfn_responses.CloudFormationResponse
    for action in ("describe_change_set", "execute_change_set", "delete_change_set", "list_change_sets"):
        wrap_method(response, action, _with_stack_name)
    wrap_method(response, "create_change_set", _creating_change_set)
    wrap_method(response, "_validate_different_update", _validate_different_update)
