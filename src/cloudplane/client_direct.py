"""The direct transport of the control-plane client: the service called in-process on the local database.

No web framework, no pydantic, no HTTP client: a command that reads a cloud costs little more than
opening the database. On a SQLite file already at the newest schema, the everyday cloud operations (list, get,
set-default, storing a verification) go through `sqlite_records` on the standard library alone; everything
else opens the service (and SQLAlchemy) when first needed. Errors are the service's own; a database that
fails mid-command is one line.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from cloudplane.client import ControlPlaneClient
from cloudplane.controlplane.settings import database_url as configured_database_url
from cloudplane.controlplane.settings import normalize_url, private_data_warning, redact_url
from cloudplane.controlplane.sqlite_records import SqliteRecords, sqlite_path
from cloudplane.errors import OperationFailed

if TYPE_CHECKING:
    from cloudplane.controlplane.service import ControlPlaneService

T = TypeVar("T")


class DirectClient(ControlPlaneClient):
    mode = "embedded"

    def __init__(
        self, url: str, *, service: ControlPlaneService | None = None, quick: SqliteRecords | None = None
    ) -> None:
        self._url = url
        self._opened_service = service
        self._quick = quick
        self._closed = False
        # A command's claim is renewed from a second thread; one call at a time keeps SQLite simple.
        self._lock = threading.Lock()

    @classmethod
    def open(cls, database_url: str | None = None) -> DirectClient:
        url = normalize_url(database_url) if database_url else configured_database_url()
        quick = SqliteRecords.open(url)
        if quick is None:
            from cloudplane.controlplane.embedded import open_service

            service, url = open_service(url)
            return cls(url, service=service)
        warning = private_data_warning(sqlite_path(url))
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        return cls(url, quick=quick)

    @property
    def _service(self) -> ControlPlaneService:
        """The full service, opened on first use (the quick operations never need it)."""
        if self._opened_service is None:
            from cloudplane.controlplane.embedded import open_service

            self._opened_service, _ = open_service(self._url, warn=False)
        return self._opened_service

    @property
    def _records(self) -> SqliteRecords | ControlPlaneService:
        """Where the everyday cloud operations go: the quick path when the file allows it."""
        return self._quick if self._quick is not None else self._service

    @property
    def where(self) -> str:
        return redact_url(self._url)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self._quick is not None:
                self._quick.close()
            if self._opened_service is not None:
                self._opened_service.close()

    def _run(self, call: Callable[[], T]) -> T:
        with self._lock, self._database_errors():
            return call()

    def _aws(self, call: Callable[[], T]) -> T:
        """An operation that acts in AWS: database errors are still one line, but the lock that keeps
        SQLite calls one at a time is not held for the seconds AWS takes."""
        with self._database_errors():
            return call()

    @contextmanager
    def _database_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise self._failed(exc) from exc
        except Exception as exc:
            from sqlalchemy.exc import DBAPIError  # loaded already whenever it can be the cause

            if not isinstance(exc, DBAPIError):
                raise
            raise self._failed(exc.orig if exc.orig is not None else exc) from exc

    def _failed(self, cause: BaseException) -> OperationFailed:
        reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        return OperationFailed(
            f"the control-plane database {self.where} failed: {reason}; run the command again"
        )

    def create_cloud(
        self,
        name: str,
        provider: str,
        region: str,
        deployment: str,
        networking: str,
        options: Mapping[str, Any] | None = None,
        external_id: str | None = None,
        resources: Mapping[str, Any] | None = None,
        claim: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self._run(
            lambda: self._service.create_cloud(
                name=name,
                provider=provider,
                region=region,
                deployment=deployment,
                networking=networking,
                options=options,
                external_id=external_id,
                resources=resources,
                claim=claim,
            )
        )

    def list_clouds(self, *, name: str | None = None) -> list[dict[str, Any]]:
        return self._run(lambda: self._records.list_clouds(name=name))

    def list_clouds_page(
        self, *, name: str | None = None, limit: int = 100, cursor: str | None = None
    ) -> dict[str, Any]:
        return self._run(lambda: self._records.list_clouds_page(name=name, limit=limit, cursor=cursor))

    def get_cloud(self, cloud_id: str) -> dict[str, Any]:
        return self._run(lambda: self._records.get_cloud(cloud_id))

    def update_cloud(
        self,
        cloud_id: str,
        *,
        state: str | None = None,
        resources: Mapping[str, Any] | None = None,
        options: Mapping[str, Any] | None = None,
        failure_reason: str | None = None,
    ) -> dict[str, Any]:
        from cloudplane.controlplane.store import UNSET

        reason = UNSET if failure_reason is None else failure_reason  # "" clears, None leaves it
        return self._run(
            lambda: self._service.update_cloud(
                cloud_id, state=state, resources=resources, options=options, failure_reason=reason
            )
        )

    def store_verification(self, cloud_id: str, report: Mapping[str, Any]) -> dict[str, Any]:
        return self._run(lambda: self._records.store_verification(cloud_id, report))

    def set_default(self, cloud_id: str) -> dict[str, Any]:
        return self._run(lambda: self._records.set_default(cloud_id))

    def claim_cloud(
        self, cloud_id: str, *, operation: str, owner: str, seconds: float, replace: str | None = None
    ) -> dict[str, Any]:
        return self._run(
            lambda: self._service.claim_cloud(
                cloud_id, operation=operation, owner=owner, seconds=seconds, replace=replace
            )
        )

    def release_cloud(self, cloud_id: str, owner: str) -> dict[str, Any]:
        return self._run(lambda: self._service.release_cloud(cloud_id, owner))

    def delete_cloud(self, cloud_id: str) -> None:
        self._run(lambda: self._service.delete_cloud(cloud_id))

    def launch_cluster(
        self,
        name: str,
        *,
        cloud_id: str | None = None,
        kind: str = "workspace",
        compute_config: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        # Not under the lock: AWS calls take seconds, and each store call opens its own session.
        return self._aws(
            lambda: self._service.launch_cluster(
                name=name, cloud_id=cloud_id, kind=kind, compute_config=compute_config
            )
        )

    def list_clusters(
        self, *, cloud_id: str | None = None, include_terminated: bool = False
    ) -> list[dict[str, Any]]:
        return self._aws(
            lambda: self._service.list_clusters(cloud_id=cloud_id, include_terminated=include_terminated)
        )

    def get_cluster(self, name: str) -> dict[str, Any]:
        return self._aws(lambda: self._service.get_cluster(name))

    def terminate_cluster(self, name: str) -> dict[str, Any]:
        return self._aws(lambda: self._service.terminate_cluster(name))

    def cloud_instances(self, cloud_id: str) -> list[dict[str, Any]]:
        return self._aws(lambda: self._service.cloud_instances(cloud_id))

    def terminate_cloud_instances(self, cloud_id: str) -> list[dict[str, Any]]:
        return self._aws(lambda: self._service.terminate_cloud_instances(cloud_id))

    def clean_up_load_balancers(self, cloud_id: str) -> dict[str, Any]:
        return self._aws(lambda: self._service.clean_up_load_balancers(cloud_id))

    def start_functional_verification(self, cloud_id: str, targets: list[str]) -> dict[str, Any]:
        return self._aws(lambda: self._service.start_functional_verification(cloud_id, targets))

    def advance_functional_verification(self, run_id: str) -> dict[str, Any]:
        return self._aws(lambda: self._service.advance_functional_verification(run_id))

    def abort_functional_verification(self, run_id: str) -> dict[str, Any]:
        return self._aws(lambda: self._service.abort_functional_verification(run_id))

    def get_functional_verification(self, run_id: str) -> dict[str, Any]:
        return self._run(lambda: self._service.get_functional_verification(run_id))

    def create_token(
        self, *, org: str | None = None, name: str | None = None, admin: bool = False
    ) -> dict[str, Any]:
        return self._run(lambda: self._service.create_token(org=org, name=name, admin=admin))

    def list_tokens(self, *, org: str | None = None) -> list[dict[str, Any]]:
        return self._run(lambda: self._service.list_tokens(org=org))

    def revoke_token(self, name: str, *, org: str | None = None) -> dict[str, Any]:
        return self._run(lambda: self._service.revoke_token(name, org=org))

    def health(self) -> dict[str, Any]:
        return self._run(self._service.health)

    def info(self) -> dict[str, Any]:
        return self._run(self._service.info)
