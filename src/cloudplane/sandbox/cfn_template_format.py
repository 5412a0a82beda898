"""Reading a template body as CloudFormation reads it: JSON, or YAML with every short-form function tag.

moto's reader turns `!GetAtt` written as a YAML sequence into parser nodes (an HTTP 500 later), resolves
unquoted dates such as a policy's `Version: 2012-10-17` to date objects, and answers a malformed template
with a 500. Here:

- JSON (a body starting with `{`) is read as JSON; anything else as YAML, where every `!Tag` becomes its
  long form built deeply (`!Ref` -> Ref, `!Condition` -> Condition, `!X` -> Fn::X), `!GetAtt A.B.C` becomes
  `["A", "B.C"]` and a sequence stays a list; dates and times stay strings, as in CloudFormation.
- a body that is not well-formed, or not a mapping at its top, is CloudFormation's ValidationError
  ("Template format error: YAML not well-formed. (line 3, column 7)").
"""

from __future__ import annotations

import json
from typing import Any

import yaml
from moto.cloudformation.exceptions import ValidationError
from moto.cloudformation.models import ChangeSet, Stack

from ._patching import patch_attr
from .cfn_intrinsics import normalize_getatt

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _TemplateLoader(yaml.SafeLoader):
    """YAML as CloudFormation reads it: short-form functions, no timestamps."""


_TemplateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _function(loader: _TemplateLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else "Condition" if suffix == "Condition" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _function)


def _position(mark: Any) -> str:
    return f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""


def read_template(body: str | bytes) -> dict[str, Any]:
    """The template as a dict, or CloudFormation's ValidationError for a body it would not read."""
    text = body.decode() if isinstance(body, bytes) else body
    if text.lstrip().startswith("{"):
        try:
            template = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                message=f"Template format error: JSON not well-formed. (line {exc.lineno}, column {exc.colno})"
            ) from None
    else:
        try:
            template = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.MarkedYAMLError as exc:
            raise ValidationError(
                message=f"Template format error: YAML not well-formed.{_position(exc.problem_mark)}"
            ) from None
        except yaml.YAMLError:
            raise ValidationError(message="Template format error: YAML not well-formed.") from None
    if not isinstance(template, dict):
        kind = "JSON" if text.lstrip().startswith("{") else "YAML"
        raise ValidationError(message=f"Template format error: {kind} not well-formed.")
    return normalize_getatt(template)


def _stack_parse_template(template: str) -> dict[str, Any]:
    return read_template(template)


def _change_set_parse_template(self: ChangeSet) -> None:
    self.template_dict = read_template(self.template)


def apply() -> None:
    patch_attr(Stack, "parse_template", staticmethod(_stack_parse_template))
    patch_attr(ChangeSet, "_parse_template", _change_set_parse_template)
