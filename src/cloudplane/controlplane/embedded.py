"""Opening the control plane in-process on the local database: the embedded mode of the CLI."""

from __future__ import annotations

import sys

from cloudplane.controlplane.db import redact, sqlite_file
from cloudplane.controlplane.service import ControlPlaneService
from cloudplane.controlplane.settings import DATABASE_URL_ENV, normalize_url, private_data_warning
from cloudplane.controlplane.settings import database_url as configured_database_url
from cloudplane.errors import CloudplaneError, OperationFailed


def open_service(database_url: str | None = None, *, warn: bool = True) -> tuple[ControlPlaneService, str]:
    """The service on `database_url` (default: from the environment), its schema current, and the URL.
    Warns on stderr when other users can read the local data (unless `warn` is false: said already)."""
    url = normalize_url(database_url) if database_url else configured_database_url()
    try:
        service = ControlPlaneService.open(url)
    except CloudplaneError:
        raise
    except Exception as exc:
        raise OperationFailed(_cannot_open(url, exc)) from exc
    warning = private_data_warning(sqlite_file(url)) if warn else None
    if warning:
        print(f"warning: {warning}", file=sys.stderr)
    return service, url


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
