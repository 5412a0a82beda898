"""Intrinsic functions, resolved as CloudFormation resolves them (replaces moto's `parsing.clean_json`).

moto resolves a subset, several wrongly: `Fn::GetAZs` is always us-east-1a..d, `Fn::Cidr` is an HTTP 500,
`Fn::Select` needs a literal index, `AWS::NoValue` stays in lists, `Fn::Sub` variables are looked up with
`string.Template` (no `${AWS::Region}` in a variable map, no `${Res.Attr.Sub}`), an unknown function or an
attribute a resource lacks is passed through unresolved. Here every function takes its arguments resolved
first (so `!Select [!Ref Index, !Ref List]` and `!GetAtt [!Sub "Bucket${Id}", !Ref Attr]` work):

- Ref, Fn::GetAtt (list, or "Resource.Attribute" with a dotted attribute), Fn::Sub (string, or with a
  variable map; `${!Literal}`), Fn::Join, Fn::Split, Fn::Select, Fn::If, Fn::FindInMap (with the language
  extensions' DefaultValue), Fn::Base64, Fn::GetAZs, Fn::Cidr, Fn::ImportValue, and the language extensions'
  Fn::Length and Fn::ToJsonString (cfn_language_extensions refuses them in a template without the transform).
- `AWS::NoValue` removes the property or the list item it stands for.
- a function the sandbox does not know, a reference to nothing, an attribute a resource does not have or
  arguments of the wrong shape are CloudFormation's ValidationError, worded as CloudFormation words them
  ("Template error: Encountered unsupported function: Fn::Foo ...").

`Fn::GetAZs` answers as CloudFormation documents it: the region's zones that have a default subnet, in
alphabetical order, or every zone when none has one (the default subnets or the default VPC were deleted).
So a template that selects the third zone fails in an account with default subnets in two zones only.

Resolution runs in two scopes: moto's ResourceMap (resources, outputs; a Ref creates the resource it names
first) and, for conditions, the plain dict of parameters, pseudo parameters and mappings.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import re
from collections.abc import Callable
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import (
    ExportNotFound,
    UnformattedGetAttTemplateException,
    ValidationError,
)
from moto.ec2.models import ec2_backends

from ._patching import as_bool, patch_attr

BASE_FUNCTIONS = (
    "Fn::Base64",
    "Fn::Cidr",
    "Fn::FindInMap",
    "Fn::GetAtt",
    "Fn::GetAZs",
    "Fn::If",
    "Fn::ImportValue",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::Sub",
    "Ref",
)
CONDITION_FUNCTIONS = ("Condition", "Fn::And", "Fn::Equals", "Fn::Not", "Fn::Or")
LANGUAGE_EXTENSION_FUNCTIONS = ("Fn::Length", "Fn::ToJsonString")

_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def unsupported_function(
    name: str, supported: tuple[str, ...] = BASE_FUNCTIONS + CONDITION_FUNCTIONS
) -> ValidationError:
    return ValidationError(
        message=f"Template error: Encountered unsupported function: {name} "
        f"Supported functions are: [{', '.join(supported)}]"
    )


def is_function(node: Any) -> bool:
    """A one-key mapping whose key names a function: {"Ref": ...}, {"Fn::X": ...}."""
    if not isinstance(node, dict) or len(node) != 1:
        return False
    key = next(iter(node))
    return isinstance(key, str) and (
        key == "Ref" or (key.startswith("Fn::") and not key.startswith("Fn::ForEach::"))
    )


# --- the pieces of a scope ------------------------------------------------------------------------------------


def _parsed(scope: Any) -> dict[str, Any]:
    return scope._parsed_resources if isinstance(scope, parsing.ResourceMap) else scope


def _declares(scope: Any, name: str) -> bool:
    if name in _parsed(scope):
        return True
    return isinstance(scope, parsing.ResourceMap) and name in scope._resource_json_map


def _unresolved(name: str, scope: Any) -> ValidationError:
    if isinstance(scope, parsing.ResourceMap):
        return ValidationError(
            message=f"Template format error: Unresolved resource dependencies [{name}] in the Resources block of the template"
        )
    return ValidationError(
        message=f"Template format error: Unresolved dependencies [{name}]. Cannot reference resources in the Conditions block of the template"
    )


def _text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ValidationError(
        message=f"Template error: {where} resolves to a {type(value).__name__}, not a string"
    )


def _strings(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError(message=f"Template error: {where} requires a list of strings")
    return value


def _arguments(arg: Any, count: int | tuple[int, ...], name: str, usage: str) -> list[Any]:
    counts = (count,) if isinstance(count, int) else count
    if not isinstance(arg, list) or len(arg) not in counts:
        raise ValidationError(message=f"Template error: every {name} object requires {usage}")
    return arg


# --- the functions ----------------------------------------------------------------------------------------------


def _ref(arg: Any, scope: Any) -> Any:
    name = resolve(arg, scope) if isinstance(arg, dict) else arg
    if not isinstance(name, str):
        raise ValidationError(
            message="Template format error: Every Ref object must have a single String value."
        )
    if name == "AWS::NoValue":
        return None
    if name == "AWS::NotificationARNs" and not _declares(scope, name):
        stack = getattr(scope, "__dict__", {}).get("_cloudplane_stack")
        return list(getattr(stack, "notification_arns", None) or [])
    if not _declares(scope, name):
        raise _unresolved(name, scope)
    value = scope[name]
    return value.physical_resource_id if hasattr(value, "physical_resource_id") else value


def getatt_parts(arg: Any) -> list[Any]:
    """[resource, attribute] of a GetAtt argument ("A.B.C" is ["A", "B.C"])."""
    if isinstance(arg, str) and "." in arg:
        return arg.split(".", 1)
    if isinstance(arg, list) and len(arg) > 2 and all(isinstance(part, str) for part in arg):
        return [arg[0], ".".join(arg[1:])]
    if isinstance(arg, list) and len(arg) == 2:
        return list(arg)
    raise ValidationError(
        message="Template error: every Fn::GetAtt object requires two non-empty parameters, "
        "the resource name and the resource attribute"
    )


def _getatt(arg: Any, scope: Any) -> Any:
    name, attribute = (resolve(part, scope) for part in getatt_parts(arg))
    if not isinstance(name, str) or not isinstance(attribute, str) or not name or not attribute:
        raise ValidationError(
            message="Template error: every Fn::GetAtt object requires two non-empty parameters"
        )
    if not isinstance(scope, parsing.ResourceMap) or name not in scope._resource_json_map:
        raise ValidationError(
            message=f"Template error: instance of Fn::GetAtt references undefined resource {name}"
        )
    resource = scope[name]
    if resource is None:
        declared = scope._resource_json_map[name]
        condition = declared.get("Condition") if isinstance(declared, dict) else None
        if condition:
            raise _unresolved(name, scope)
        kind = declared.get("Type") if isinstance(declared, dict) else None
        raise ValidationError(
            message=f"Template error: Fn::GetAtt {name}.{attribute}: resource type {kind} is not supported by the sandbox"
        )
    try:
        return resource.get_cfn_attribute(attribute)
    except (NotImplementedError, UnformattedGetAttTemplateException):
        raise ValidationError(
            message=f"Template error: resource {name} does not support attribute type {attribute} in Fn::GetAtt"
        ) from None


def _sub(arg: Any, scope: Any) -> str:
    if isinstance(arg, list) and len(arg) == 2 and isinstance(arg[1], dict):
        text, variables = resolve(arg[0], scope), arg[1]
    elif isinstance(arg, (str, dict)):
        text, variables = resolve(arg, scope), {}
    else:
        text = None
    if not isinstance(text, str):
        raise ValidationError(
            message="Template error: One or more Fn::Sub intrinsic functions don't specify expected arguments. "
            "Specify a string as first argument, and an optional second argument to specify a mapping of "
            "values to replace in the string"
        )
    values = {key: resolve(value, scope) for key, value in variables.items()}

    def substitute(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        name = inner.strip()
        if name in values:
            value = values[name]
        elif "." in name:
            value = _getatt(name, scope)
        else:
            value = _ref(name, scope)
        return "" if value is None else _text(value, f"variable {name} in Fn::Sub")

    return _SUB_VARIABLE.sub(substitute, text)


def _join(arg: Any, scope: Any) -> str:
    usage = "two parameters, (1) a string delimiter and (2) a list of strings to be joined"
    delimiter, items = (resolve(part, scope) for part in _arguments(arg, 2, "Fn::Join", usage))
    if not isinstance(delimiter, str) or not isinstance(items, list):
        raise ValidationError(message=f"Template error: every Fn::Join object requires {usage}")
    return delimiter.join(_text(item, "an item of Fn::Join") for item in items)


def _split(arg: Any, scope: Any) -> list[str]:
    usage = "two parameters, (1) a string delimiter and (2) a string to be split"
    delimiter, source = (resolve(part, scope) for part in _arguments(arg, 2, "Fn::Split", usage))
    if not isinstance(delimiter, str) or not isinstance(source, str):
        raise ValidationError(message=f"Template error: every Fn::Split object requires {usage}")
    return source.split(delimiter)


def _select(arg: Any, scope: Any) -> Any:
    usage = "two parameters, (1) an index and (2) a list"
    index, values = (resolve(part, scope) for part in _arguments(arg, 2, "Fn::Select", usage))
    try:
        position = int(index)
    except (TypeError, ValueError):
        raise ValidationError(message="Template error: Fn::Select requires an integer index") from None
    values = _strings(values, "Fn::Select")
    if not 0 <= position < len(values):
        raise ValidationError(
            message=f"Template error: Fn::Select cannot select nonexistent value at index {position}"
        )
    return values[position]


def _if(arg: Any, scope: Any) -> Any:
    usage = "three parameters: a condition name, a value if true and a value if false"
    name, when_true, when_false = _arguments(arg, 3, "Fn::If", usage)
    conditions = getattr(scope, "lazy_condition_map", None)
    if conditions is None:
        raise unsupported_function("Fn::If", CONDITION_FUNCTIONS)
    if not isinstance(name, str) or name not in conditions:
        raise ValidationError(message=f"Template error: unresolved condition dependency {name} in Fn::If")
    return resolve(when_true if conditions[name] else when_false, scope)


def _find_in_map(arg: Any, scope: Any) -> Any:
    usage = "3 parameters: a map name, a top-level key and a second-level key, and optionally a DefaultValue"
    parts = _arguments(arg, (3, 4), "Fn::FindInMap", usage)
    default = parts[3] if len(parts) == 4 else None
    if default is not None and not (isinstance(default, dict) and set(default) == {"DefaultValue"}):
        raise ValidationError(message=f"Template error: every Fn::FindInMap object requires {usage}")
    keys = [resolve(part, scope) for part in parts[:3]]
    parsed = _parsed(scope)
    table: Any = parsed.get(keys[0]) if isinstance(keys[0], str) else None
    for key in keys[1:]:
        if isinstance(table, dict) and "Fn::Transform" in table:
            table = parsed  # an AWS::Include mapping: moto merged its values into the scope
        if not isinstance(table, dict) or not isinstance(key, (str, int, float)):
            table = None
            break
        table = table[key] if key in table else table.get(str(key))
    if table is None:
        if default is not None:
            return resolve(default["DefaultValue"], scope)
        raise ValidationError(
            message=f"Template error: Unable to get mapping for {'::'.join(map(str, keys))}"
        )
    return table


def _base64(arg: Any, scope: Any) -> str:
    value = _text(resolve(arg, scope), "Fn::Base64")
    return base64.b64encode(value.encode()).decode()


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


def _get_azs(arg: Any, scope: Any) -> list[str]:
    region = resolve(arg, scope) or _parsed(scope)["AWS::Region"]
    return availability_zones(_parsed(scope)["AWS::AccountId"], _text(region, "Fn::GetAZs"))


def cidr(ip_block: str, count: int, cidr_bits: int) -> list[str]:
    try:
        network = ipaddress.ip_network(str(ip_block), strict=False)
    except ValueError:
        raise ValidationError(message=f"Template error: Fn::Cidr: {ip_block} is not a CIDR block") from None
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


def _cidr(arg: Any, scope: Any) -> list[str]:
    usage = "three parameters: an address block, a count and the number of subnet bits"
    block, count, bits = (resolve(part, scope) for part in _arguments(arg, 3, "Fn::Cidr", usage))
    try:
        return cidr(block, int(count), int(bits))
    except (TypeError, ValueError):
        raise ValidationError(message=f"Template error: every Fn::Cidr object requires {usage}") from None


def _import_value(arg: Any, scope: Any) -> Any:
    name = resolve(arg, scope)
    exports = getattr(scope, "cross_stack_resources", None) or {}
    for export in list(exports.values()):
        if export.name == name:
            return export.value
    raise ExportNotFound(str(name))


def _length(arg: Any, scope: Any) -> int:
    return len(_strings(resolve(arg, scope), "Fn::Length"))


def _to_json_string(arg: Any, scope: Any) -> str:
    value = resolve(arg, scope)
    if not isinstance(value, (dict, list)):
        raise ValidationError(message="Template error: Fn::ToJsonString requires an object or a list")
    return json.dumps(value, separators=(",", ":"), default=str)


_FUNCTIONS: dict[str, Callable[[Any, Any], Any]] = {
    "Ref": _ref,
    "Fn::Base64": _base64,
    "Fn::Cidr": _cidr,
    "Fn::FindInMap": _find_in_map,
    "Fn::GetAtt": _getatt,
    "Fn::GetAZs": _get_azs,
    "Fn::If": _if,
    "Fn::ImportValue": _import_value,
    "Fn::Join": _join,
    "Fn::Select": _select,
    "Fn::Split": _split,
    "Fn::Sub": _sub,
    "Fn::Length": _length,
    "Fn::ToJsonString": _to_json_string,
}


def resolve(node: Any, scope: Any) -> Any:
    """`node` with every function resolved; None where it resolves to AWS::NoValue."""
    if isinstance(node, dict):
        if is_function(node):
            name, arg = next(iter(node.items()))
            function = _FUNCTIONS.get(name)
            if function is None:
                raise unsupported_function(name)
            return function(arg, scope)
        resolved = {}
        for key, value in node.items():
            value = resolve(value, scope)
            if value is not None:
                resolved[key] = value
        return resolved
    if isinstance(node, list):
        return [item for item in (resolve(value, scope) for value in node) if item is not None]
    return node


def normalize_getatt(node: Any) -> Any:
    """Rewrite every Fn::GetAtt of literal names into the [resource, attribute] form, in place."""
    if isinstance(node, dict):
        value = node.get("Fn::GetAtt")
        if (isinstance(value, str) and "." in value) or (
            isinstance(value, list) and len(value) > 2 and all(isinstance(part, str) for part in value)
        ):
            node["Fn::GetAtt"] = getatt_parts(value)
        for child in node.values():
            normalize_getatt(child)
    elif isinstance(node, list):
        for child in node:
            normalize_getatt(child)
    return node


def _validate_outputs(self: Any) -> None:
    """moto's check that an output's GetAtt names an attribute its resource has, without its crashes."""
    outputs = self._template.get("Outputs") or {}
    if not isinstance(outputs, dict):
        raise ValidationError(message="Template format error: Outputs must be a mapping")
    for output in outputs.values():
        if not isinstance(output, dict) or "Value" not in output:
            raise ValidationError(
                message="Template format error: Every Outputs member must contain a Value object"
            )
        condition = output.get("Condition")
        if (
            isinstance(condition, str)
            and condition in self.lazy_condition_map
            and not self.lazy_condition_map[condition]
        ):
            continue
        value = output["Value"]
        if not (isinstance(value, dict) and set(value) == {"Fn::GetAtt"}):
            continue
        try:
            name, attribute = getatt_parts(value["Fn::GetAtt"])
        except ValidationError:
            continue  # reported when the output is resolved
        body = self._resource_json_map.get(name) if isinstance(name, str) else None
        if not isinstance(body, dict) or not isinstance(attribute, str):
            continue
        model = parsing.resource_class_from_type(body.get("Type", ""))
        if model is not None and not model.has_cfn_attr(attribute):
            raise ValidationError(
                message=f"Template error: resource {name} does not support attribute type {attribute} in Fn::GetAtt"
            )


def apply() -> None:
    patch_attr(parsing, "clean_json", resolve)
    patch_attr(parsing.ResourceMap, "validate_outputs", _validate_outputs)
