"""Conditions evaluated as CloudFormation evaluates them (replaces moto's `parsing.parse_condition`).

- Fn::Equals compares the two values as CloudFormation does, as strings: `!Equals [!Ref Count, 3]` holds for
  the Number parameter 3 and `!Equals [!Ref Flag, true]` for the string "true"; lists compare item by item.
- Fn::And and Fn::Or take 2 to 10 conditions, Fn::Not one; each is a condition function or `Condition: Name`.
- their arguments may use Ref (parameters and pseudo parameters), Fn::FindInMap, Fn::Select, Fn::Join ...
  through cfn_intrinsics, and the language extensions' Fn::Length and Fn::ToJsonString.
- a condition naming one that is not declared, a Ref to a resource, or another function at the top of a
  condition is CloudFormation's ValidationError, not an HTTP 500.
"""

from __future__ import annotations

from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import ValidationError

from ._patching import patch_attr
from .cfn_intrinsics import resolve


def _canonical(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _named(name: Any, condition_map: Any) -> bool:
    if not isinstance(name, str) or name not in condition_map:
        raise ValidationError(
            message=f"Template format error: Unresolved dependencies [{name}] in the Conditions block of the template"
        )
    return bool(condition_map[name])


def _operands(args: Any, name: str, low: int, high: int) -> list[Any]:
    if not isinstance(args, list) or not low <= len(args) <= high:
        count = f"{low}" if low == high else f"between {low} and {high}"
        raise ValidationError(message=f"Template error: every {name} object requires {count} conditions")
    return args


def evaluate(condition: Any, scope: Any, condition_map: Any) -> bool:
    """The value of one condition; `scope` holds the parameters, pseudo parameters and mappings."""
    if isinstance(condition, bool):
        return condition
    if not (isinstance(condition, dict) and len(condition) == 1):
        raise ValidationError(
            message="Template format error: Every Condition member must be a condition function"
        )
    name, args = next(iter(condition.items()))
    if name == "Condition":
        return _named(args, condition_map)
    if name == "Fn::Equals":
        if not isinstance(args, list) or len(args) != 2:
            raise ValidationError(
                message="Template error: every Fn::Equals object requires a list of 2 values"
            )
        left, right = (_canonical(resolve(value, scope)) for value in args)
        return bool(left == right)
    if name == "Fn::Not":
        return not evaluate(_operands(args, name, 1, 1)[0], scope, condition_map)
    if name == "Fn::And":
        return all(evaluate(item, scope, condition_map) for item in _operands(args, name, 2, 10))
    if name == "Fn::Or":
        return any(evaluate(item, scope, condition_map) for item in _operands(args, name, 2, 10))
    raise ValidationError(
        message=f"Template error: {name} is not a condition function (Fn::And, Fn::Equals, Fn::Not, Fn::Or, Condition)"
    )


def apply() -> None:
    # load_conditions looks the function up by its module-global name when it binds each condition.
    patch_attr(parsing, "parse_condition", evaluate)
