"""IAM action names under enforcement as AWS spells them.

moto names the action it checks after the request's signing name, which for a few services is not the
service's IAM prefix: the tagging API (Resource Groups Tagging) signs as `tagging` while its actions are
`tag:GetResources`, `tag:TagResources`, ... Here the action is renamed to its IAM prefix before policies are
evaluated, so a policy allowing `tag:GetResources` allows it and one naming `tagging:*` (which AWS does not
know) does not.
"""

from __future__ import annotations

from typing import Any

from moto.iam.access_control import IAMRequestBase

from ._patching import wrap_method

# Signing name -> IAM service prefix, where they differ.
IAM_PREFIXES = {"tagging": "tag"}


def _init(orig: Any, self: IAMRequestBase, *args: Any, **kwargs: Any) -> None:
    orig(self, *args, **kwargs)
    service, _, action = self._action.partition(":")
    if service in IAM_PREFIXES:
        self._action = f"{IAM_PREFIXES[service]}:{action}"


def apply() -> None:
    wrap_method(IAMRequestBase, "__init__", _init)
