"""GET /api/v1/clouds/{id}, the route read most, answered before FastAPI's per-request machinery.

Routing, dependency solving, two hand-overs to anyio's thread pool (the token check, then the route) and the
response classes cost several times the service's own work on this route. Here one hand-over, to a plain
thread pool of this app's own through the event loop (cheaper than anyio's), does both the token check and
the read, and the answer is the bytes FastAPI would send: the same record, the same
`{"detail": ...}` errors with the same status codes (`http_errors`), held to it by the contract tests that
run over HTTP. The FastAPI route stays: it describes the API in its docs and answers anything not matched here.
"""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from cloudplane.controlplane import http_errors
from cloudplane.controlplane.auth import bearer_secret
from cloudplane.controlplane.service import ControlPlaneService
from cloudplane.errors import CloudplaneError

_ONE_CLOUD = re.compile(r"/api/v1/clouds/([^/]+)")
Answer = tuple[int, Any, list[tuple[bytes, bytes]]]


def read_threads() -> ThreadPoolExecutor:
    # As many as the database's pool holds connections by default: more would only wait for one.
    return ThreadPoolExecutor(max_workers=5, thread_name_prefix="hot-reads")


class HotReads:
    def __init__(self, app: ASGIApp, service: ControlPlaneService, threads: Executor) -> None:
        """threads: where the reads run; the app that owns them shuts them down."""
        self.app = app
        self.service = service
        self._threads = threads

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = _ONE_CLOUD.fullmatch(scope["path"]) if scope["type"] == "http" else None
        if match is None or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        authorization = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
        status, content, headers = await asyncio.get_running_loop().run_in_executor(
            self._threads, self._get_cloud, authorization.decode("latin-1"), match.group(1)
        )
        # As Starlette's JSONResponse renders it.
        body = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()
        headers += [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _get_cloud(self, authorization: str, cloud_id: str) -> Answer:
        try:
            caller = self.service.authenticate(bearer_secret(authorization))
            return 200, self.service.acting_as(caller).get_cloud(cloud_id), []
        except CloudplaneError as exc:
            status = http_errors.status_of(exc)
            headers = [(b"www-authenticate", b"Bearer")] if status == 401 else []
            return status, {"detail": http_errors.first_line(str(exc))}, headers
        except Exception as exc:
            status, detail = http_errors.unexpected(exc)
            return status, {"detail": detail}, []
