"""Small helpers shared by the extensions: idempotent monkey-patching and the CloudFormation hook registries.

Every patch goes through `patch_attr`, which remembers the original on the owner so a second `install()`
never wraps a wrapper.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException

_ORIGINALS = "_cloudplane_originals"

# Hooks that run right after moto created a CloudFormation resource: fn(resource, properties, account, region).
# The key "*" runs for every type. A hook that raises fails the resource (and the resource is removed again).
PostCreate = Callable[[Any, dict[str, Any], str, str], None]
POST_CREATE: dict[str, list[PostCreate]] = {}

# Replacement delete paths for resource types whose moto delete is missing or incomplete: fn(resource, account, region).
Deleter = Callable[[Any, str, str], None]
DELETERS: dict[str, Deleter] = {}


def original(owner: Any, name: str) -> Any:
    """The attribute as moto defined it (own or inherited), before any of our patches."""
    saved = owner.__dict__.get(_ORIGINALS, {})
    if saved.get(name) is not None:
        return saved[name]
    if name not in saved and name in owner.__dict__:
        return owner.__dict__[name]
    for base in getattr(owner, "__mro__", ())[1:]:
        if name in base.__dict__:
            return base.__dict__[name]
    raise AttributeError(f"{owner.__name__}.{name}")


def patch_attr(owner: Any, name: str, value: Any) -> None:
    """Set `owner.name = value`, keeping the first original so that patching twice stays a single patch."""
    saved = owner.__dict__.get(_ORIGINALS)
    if saved is None:
        saved = {}
        setattr(owner, _ORIGINALS, saved)
    if name not in saved:
        saved[name] = owner.__dict__.get(name)
    setattr(owner, name, value)


def wrap_classmethod(cls: type, name: str, wrapper: Callable[..., Any]) -> None:
    """Replace classmethod `name` by `wrapper(orig, cls, *args, **kwargs)`; `orig(*args)` calls moto's version."""
    orig_func = original(cls, name).__func__

    def patched(klass: type, *args: Any, **kwargs: Any) -> Any:
        return wrapper(lambda *a, **kw: orig_func(klass, *a, **kw), klass, *args, **kwargs)

    patch_attr(cls, name, classmethod(patched))


def wrap_method(cls: type, name: str, wrapper: Callable[..., Any]) -> None:
    """Replace method `name` by `wrapper(orig, self, *args, **kwargs)` where `orig` is moto's plain function."""
    orig_func = original(cls, name)

    def patched(self: Any, *args: Any, **kwargs: Any) -> Any:
        return wrapper(orig_func, self, *args, **kwargs)

    patched.__name__ = name
    patch_attr(cls, name, patched)


def post_create(*types: str) -> Callable[[PostCreate], PostCreate]:
    def register(fn: PostCreate) -> PostCreate:
        for resource_type in types:
            hooks = POST_CREATE.setdefault(resource_type, [])
            if fn not in hooks:
                hooks.append(fn)
        return fn

    return register


def deleter(*types: str) -> Callable[[Deleter], Deleter]:
    def register(fn: Deleter) -> Deleter:
        for resource_type in types:
            DELETERS[resource_type] = fn
        return fn

    return register


def error_code(exc: BaseException) -> str:
    """The AWS error code carried by a moto exception (ServiceException or the older RESTError)."""
    code = getattr(exc, "error_type", None) or getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__


def error_message(exc: BaseException) -> str:
    message = getattr(exc, "message", None)
    return message if isinstance(message, str) and message else str(exc)


def is_not_found(exc: BaseException) -> bool:
    """CloudFormation treats "already gone" as a successful delete."""
    code = error_code(exc)
    return "NotFound" in code or code.startswith("NoSuch") or code.endswith("NotFoundFault")


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


class SandboxServiceError(ServiceException):
    """An AWS-style error raised by our extensions; `code` is the AWS error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
