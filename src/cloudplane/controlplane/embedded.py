"""The control plane in-process: the same app and the same HTTP requests, no network."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import httpx

from cloudplane.controlplane.db import redact
from cloudplane.controlplane.settings import database_url as configured_database_url
from cloudplane.controlplane.settings import normalize_url
from cloudplane.errors import OperationFailed

BASE_URL = "http://cloudplane.embedded"


def open_embedded(
    database_url: str | None = None, *, headers: dict[str, str] | None = None
) -> tuple[httpx.Client, Callable[[], None]]:
    """An httpx client whose transport calls the app directly, and the function that shuts the
    app down again."""
    with warnings.catch_warnings():
        # Starlette now prefers the httpx2 package; httpx (what is installed) still works.
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    from cloudplane.controlplane.app import create_app

    url = normalize_url(database_url) if database_url else configured_database_url()
    client = TestClient(
        create_app(url),
        base_url=BASE_URL,
        # Errors come back as HTTP 5xx, exactly as from a remote server.
        raise_server_exceptions=False,
        headers=headers,
    )
    try:
        client.__enter__()  # runs the app's start-up: schema migrations
    except Exception as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise OperationFailed(f"cannot open the control-plane database {redact(url)}: {first}") from exc
    return client, lambda: client.__exit__(None, None, None)
