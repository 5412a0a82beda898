"""`Transform: AWS::LanguageExtensions`, and CloudFormation's refusal of what a template may not use.

moto ignores `Transform` and lets unknown functions through. Here, each time a template's parameters are
loaded (CreateStack, UpdateStack, change sets):

- a transform other than AWS::LanguageExtensions (AWS::Serverless-2016-10-31, AWS::Include, a macro) is
  refused with a ValidationError naming it ("Template format error: Unsupported transform ..."): the
  sandbox cannot run macros;
- a resource the sandbox cannot create (its type has no model; its condition, if any, holds) is refused with
  CloudFormation's "Template format error: Unrecognized resource types: [...]" instead of being skipped
  (moto's default: the stack would reach CREATE_COMPLETE without it);
- a function CloudFormation does not know, or one of the language extensions (Fn::Length, Fn::ToJsonString,
  Fn::ForEach) in a template without the transform, is refused with CloudFormation's "Template error:
  Encountered unsupported function: Fn::Foo Supported functions are: [...]", before anything is created;
- with the transform, `Fn::ForEach::Name: [Identifier, Collection, {OutputKey: OutputValue}]` is expanded
  wherever it stands (Resources, Outputs, Conditions, properties; nested loops too): the collection may be a
  list, a Ref to a list parameter or a Fn::FindInMap; `${Identifier}` and `&{Identifier}` (alphanumerics only)
  in keys and in Fn::Sub strings, and `Ref: Identifier`, take each item's value;
- DeletionPolicy and UpdateReplacePolicy written as functions (`!If [IsProd, Retain, Delete]`, `!Ref Policy`,
  `!FindInMap ...`) are resolved once conditions are known; without the transform they must be strings.
A list parameter (CommaDelimitedList, List<...>) left at its Default is a list, as on AWS (moto kept the string).
Not covered: Fn::ForEach in a stack update (cfn_update_rollback checks references before this expansion).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError

from ._patching import wrap_method
from .cfn_intrinsics import (
    BASE_FUNCTIONS,
    CONDITION_FUNCTIONS,
    LANGUAGE_EXTENSION_FUNCTIONS,
    is_function,
    resolve,
    unsupported_function,
)

LANGUAGE_EXTENSIONS = "AWS::LanguageExtensions"
FOR_EACH = "Fn::ForEach::"
POLICIES = ("DeletionPolicy", "UpdateReplacePolicy")
POLICY_VALUES = ("Delete", "Retain", "RetainExceptOnCreate", "Snapshot")


def _transform_name(entry: Any) -> str:
    if isinstance(entry, dict):  # a macro with parameters: {"Name": ..., "Parameters": ...}
        return str(entry.get("Name"))
    return str(entry)


def uses_language_extensions(template: dict[str, Any]) -> bool:
    """Whether the template declares AWS::LanguageExtensions; refuses every transform the sandbox cannot run."""
    declared = template.get("Transform")
    if declared is None:
        return False
    entries = declared if isinstance(declared, list) else [declared]
    for entry in entries:
        name = _transform_name(entry)
        if name != LANGUAGE_EXTENSIONS:
            raise ValidationError(
                message=f"Template format error: Unsupported transform {name}: "
                f"the sandbox runs only {LANGUAGE_EXTENSIONS}"
            )
    return bool(entries)


# --- functions a template may use ------------------------------------------------------------------------------


def _check(node: Any, allowed: tuple[str, ...], extended: bool) -> None:
    if isinstance(node, list):
        for item in node:
            _check(item, allowed, extended)
        return
    if not isinstance(node, dict):
        return
    if is_function(node):
        name, arg = next(iter(node.items()))
        if name == "Fn::Transform":
            raise ValidationError(
                message=f"Template format error: Unsupported transform {_transform_name(arg)}: "
                f"the sandbox runs only {LANGUAGE_EXTENSIONS}"
            )
        if name not in allowed:
            raise unsupported_function(name, allowed)
    for key, value in node.items():
        if isinstance(key, str) and key.startswith(FOR_EACH) and not extended:
            raise unsupported_function("Fn::ForEach", allowed)
        _check(value, allowed, extended)


def check_functions(template: dict[str, Any], extended: bool) -> None:
    """Refuse, as CloudFormation does at submission, a function the template may not use."""
    extra = LANGUAGE_EXTENSION_FUNCTIONS if extended else ()
    _check(template.get("Resources"), BASE_FUNCTIONS + extra, extended)
    _check(template.get("Outputs"), BASE_FUNCTIONS + extra, extended)
    _check(template.get("Conditions"), BASE_FUNCTIONS + CONDITION_FUNCTIONS + extra, extended)


def check_resource_types(resource_map: Any) -> None:
    """Refuse resources the sandbox would have to skip; those whose condition is false never matter."""
    resources = resource_map._template.get("Resources")
    if not isinstance(resources, dict):
        return
    unknown = set()
    for body in resources.values():
        kind = body.get("Type") if isinstance(body, dict) else None
        condition = body.get("Condition") if isinstance(body, dict) else None
        conditions = resource_map.lazy_condition_map
        if isinstance(condition, str) and condition in conditions and not conditions[condition]:
            continue
        if not isinstance(kind, str):
            raise ValidationError(
                message="Template format error: Every Resources object must contain a Type member."
            )
        if kind not in parsing.NULL_MODELS and parsing.resource_class_from_type(kind) is None:
            unknown.add(kind)
    if unknown:
        raise ValidationError(
            message=f"Template format error: Unrecognized resource types: [{', '.join(sorted(unknown))}] "
            "(types the sandbox cannot create)"
        )


# --- Fn::ForEach -----------------------------------------------------------------------------------------------


def _substitute(node: Any, identifier: str, value: str) -> Any:
    """The loop body for one item: `Ref: Identifier`, and ${Identifier} / &{Identifier} in keys and Fn::Sub."""
    if isinstance(node, list):
        return [_substitute(item, identifier, value) for item in node]
    if not isinstance(node, dict):
        return node
    if node == {"Ref": identifier}:
        return value
    result: dict[Any, Any] = {}
    for key, child in node.items():
        if isinstance(key, str):
            key = _replace(key, identifier, value)
        if key == "Fn::Sub" and isinstance(child, str):
            result[key] = _replace(child, identifier, value)
        elif key == "Fn::Sub" and isinstance(child, list) and child and isinstance(child[0], str):
            result[key] = [_replace(child[0], identifier, value), *_substitute(child[1:], identifier, value)]
        else:
            result[key] = _substitute(child, identifier, value)
    return result


def _replace(text: str, identifier: str, value: str) -> str:
    text = text.replace("${" + identifier + "}", value)
    return text.replace("&{" + identifier + "}", re.sub(r"[^A-Za-z0-9]", "", value))


def _iterations(key: str, loop: Any, scope: Any) -> Iterator[tuple[Any, Any]]:
    if not (
        isinstance(loop, list) and len(loop) == 3 and isinstance(loop[0], str) and isinstance(loop[2], dict)
    ):
        raise ValidationError(
            message=f"Template error: {key} requires an identifier, a collection and an output template"
        )
    identifier, collection, fragment = loop
    items = resolve(collection, scope)
    if not isinstance(items, list):
        raise ValidationError(message=f"Template error: the collection of {key} must be a list of strings")
    for item in items:
        body = _substitute(copy.deepcopy(fragment), identifier, str(item))
        expand_for_each(body, scope)
        yield from body.items()


def expand_for_each(node: Any, scope: Any) -> None:
    """Replace every Fn::ForEach key under `node` by the keys its loop makes (in place)."""
    if isinstance(node, list):
        for item in node:
            expand_for_each(item, scope)
        return
    if not isinstance(node, dict):
        return
    if any(isinstance(key, str) and key.startswith(FOR_EACH) for key in node):
        entries = list(node.items())
        node.clear()
        for key, value in entries:
            made = (
                _iterations(key, value, scope)
                if isinstance(key, str) and key.startswith(FOR_EACH)
                else [(key, value)]
            )
            for new_key, new_value in made:
                if new_key in node:
                    raise ValidationError(message=f"Template error: {key} makes the key {new_key} twice")
                node[new_key] = new_value
    for value in node.values():
        expand_for_each(value, scope)


# --- DeletionPolicy / UpdateReplacePolicy ----------------------------------------------------------------------


def resolve_policies(resource_map: Any, extended: bool) -> None:
    for logical_id, body in (resource_map._template.get("Resources") or {}).items():
        if not isinstance(body, dict):
            continue
        for attribute in POLICIES:
            value = body.get(attribute)
            if value is None or isinstance(value, str):
                continue
            if not extended:
                raise ValidationError(
                    message=f"Template format error: Every {attribute} member must be a string."
                )
            resolved = resolve(value, resource_map)
            if resolved not in POLICY_VALUES:
                raise ValidationError(
                    message=f"Template error: {attribute} of {logical_id} must be one of {', '.join(POLICY_VALUES)}"
                )
            body[attribute] = resolved


# --- hooks -------------------------------------------------------------------------------------------------------


def split_list_defaults(resource_map: Any) -> None:
    """A list parameter left at its Default is a list too (moto splits only values passed in)."""
    declared = resource_map._template.get("Parameters") or {}
    for name, value in list(resource_map.resolved_parameters.items()):
        kind = str((declared.get(name) or {}).get("Type", ""))
        if isinstance(value, str) and (kind == "CommaDelimitedList" or kind.startswith("List<")):
            items = [item.strip() for item in value.split(",")]
            if kind == "List<Number>":
                items = [float(item) if "." in item else int(item) for item in items]  # type: ignore[misc]
            resource_map.resolved_parameters[name] = items
            resource_map._parsed_resources[name] = items


def _load_parameters(orig: Any, self: Any) -> None:
    template = self._template
    if not isinstance(template, dict) or not template:
        orig(self)
        return
    extended = uses_language_extensions(template)
    check_functions(template, extended)
    orig(self)
    split_list_defaults(self)
    if extended:
        expand_for_each(template, self)


def _load_conditions(orig: Any, self: Any) -> None:
    orig(self)
    template = self._template
    if isinstance(template, dict) and template:
        check_resource_types(self)
        resolve_policies(self, bool(template.get("Transform")))


def apply() -> None:
    wrap_method(parsing.ResourceMap, "load_parameters", _load_parameters)
    wrap_method(parsing.ResourceMap, "load_conditions", _load_conditions)
