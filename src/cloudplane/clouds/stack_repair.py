"""Bringing back a stack's resources that were deleted outside CloudFormation.

CloudFormation does not notice such a deletion: an update that leaves the resource's properties alone does
nothing for it. What does work is two updates: the first without the missing resources (and whatever
refers to them, which cannot stay without them), the second with the whole template again, which creates
them anew.
"""

from __future__ import annotations

import re
from typing import Any

_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


def references(value: Any) -> set[str]:
    """Logical ids a template value refers to (Ref, Fn::GetAtt, names in Fn::Sub strings)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                found.add(inner)
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) and inner else str(inner).split(".", 1)[0]
                found.add(str(target))
            elif key == "Fn::Sub":
                text = inner[0] if isinstance(inner, list) and inner else inner
                if isinstance(text, str):
                    found |= set(_SUB_NAME.findall(text))
                found |= references(inner[1] if isinstance(inner, list) and len(inner) > 1 else None)
            else:
                found |= references(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= references(inner)
    return found


def _depends_on(resource: dict[str, Any]) -> set[str]:
    value = resource.get("DependsOn") or []
    return {value} if isinstance(value, str) else set(value)


def with_dependents(template: dict[str, Any], logical_ids: set[str]) -> set[str]:
    """The resources and every resource that refers to them, directly or through others."""
    resources = template.get("Resources") or {}
    gone = set(logical_ids)
    while True:
        more = {
            name
            for name, resource in resources.items()
            if name not in gone and (references(resource) | _depends_on(resource)) & gone
        }
        if not more:
            return gone
        gone |= more


def template_without(template: dict[str, Any], logical_ids: set[str]) -> dict[str, Any]:
    """The template minus those resources and the outputs that refer to them."""
    return {
        **template,
        "Resources": {k: v for k, v in (template.get("Resources") or {}).items() if k not in logical_ids},
        "Outputs": {
            k: v for k, v in (template.get("Outputs") or {}).items() if not references(v) & logical_ids
        },
    }
