"""Extra `/moto-api/cloudplane/...` routes and hooks that run on `POST /moto-api/reset`.

Routes must be registered before moto builds its moto-api Flask app (on the first /moto-api request),
which is why `install()` runs before the server serves anything.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from moto.moto_api._internal import urls as moto_api_urls
from moto.moto_api._internal.models import MotoAPIBackend

from ._patching import wrap_method

Response = tuple[int, dict[str, str], str]
Handler = Callable[[Any, str, Any], Response]

_RESET_HOOKS: list[Callable[[], None]] = []


def on_reset(fn: Callable[[], None]) -> None:
    if fn not in _RESET_HOOKS:
        _RESET_HOOKS.append(fn)


def add_route(path: str, handler: Handler) -> None:
    """Serve `handler(request, full_url, headers)` at `/moto-api/cloudplane/<path>`."""
    moto_api_urls.url_paths["{0}/moto-api/cloudplane/" + path] = handler


def json_response(status: int, body: Any) -> Response:
    return status, {"Content-Type": "application/json"}, json.dumps(body)


def read_json(request: Any) -> Any:
    # get_data() also returns a body sent as a form (curl -d), which `request.data` leaves empty.
    raw = request.get_data(cache=True) if hasattr(request, "get_data") else request.data or b""
    return json.loads(raw.decode() or "null")


def _reset(orig: Callable[..., None], self: MotoAPIBackend) -> None:
    orig(self)
    for hook in _RESET_HOOKS:
        hook()


def apply() -> None:
    wrap_method(MotoAPIBackend, "reset", _reset)
