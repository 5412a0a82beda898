"""The control plane in-process: the same app and the same HTTP requests, no network."""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable

import httpx

from cloudplane.controlplane.db import redact, sqlite_file
from cloudplane.controlplane.settings import DATABASE_URL_ENV, normalize_url, private_data_warning
from cloudplane.controlplane.settings import database_url as configured_database_url
from cloudplane.errors import CloudplaneError, OperationFailed

BASE_URL = "http://cloudplane.embedded"


def open_embedded(
    database_url: str | None = None, *, headers: dict[str, str] | None = None
) -> tuple[httpx.Client, Callable[[], None]]:
    """An httpx client whose transport calls the app directly, and the function that shuts the
    app down again. Warns on stderr when other users can read the local data."""
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
    except CloudplaneError:
        raise
    except Exception as exc:
        raise OperationFailed(_cannot_open(url, exc)) from exc
    warning = private_data_warning(sqlite_file(url))
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return client, lambda: client.__exit__(None, None, None)


def _cannot_open(url: str, exc: Exception) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError, OperationalError

    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    if make_url(url).get_backend_name() != "sqlite" and isinstance(exc, OperationalError):
        return (
            f"cannot connect to the control-plane database {redact(url)}: {reason} "
            f"(is the database server running, and is {DATABASE_URL_ENV} right?)"
        )
    return f"cannot open the control-plane database {redact(url)}: {reason}"
