"""The control-plane application.

Serve it with `uvicorn --factory cloudplane.controlplane.app:create_app` (database from
CLOUDPLANE_DATABASE_URL, else the SQLite file under CLOUDPLANE_HOME). The CLI without a server calls the
same service directly (`cloudplane.controlplane.service`), without this app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from cloudplane import __version__
from cloudplane.controlplane import http_errors, migrate
from cloudplane.controlplane.api import public, router
from cloudplane.controlplane.db import make_engine
from cloudplane.controlplane.hot_reads import HotReads, read_threads
from cloudplane.controlplane.principal import validate_principal
from cloudplane.controlplane.schemas import Health
from cloudplane.controlplane.service import ControlPlaneService
from cloudplane.controlplane.settings import database_url as configured_database_url
from cloudplane.controlplane.settings import normalize_url


def create_app(
    database_url: str | None = None,
    *,
    run_migrations: bool = True,
    aws_principal: str | None = None,
    hot_reads: bool = True,
) -> FastAPI:
    """An app on `database_url` (default: from the environment). On start-up it upgrades the
    schema to the newest revision unless `run_migrations` is false. `aws_principal` is the identity
    customer roles trust, told to clients by GET /api/v1/info. `hot_reads`: the most read route answered
    ahead of FastAPI (hot_reads.py); without, FastAPI's own route answers it (the tests compare the two)."""
    url = normalize_url(database_url) if database_url else configured_database_url()
    if aws_principal is not None:
        validate_principal(aws_principal)
    engine = make_engine(url)
    threads = read_threads() if hot_reads else None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if run_migrations:
            await run_in_threadpool(migrate.upgrade, url)
        try:
            yield
        finally:
            if threads is not None:
                threads.shutdown(wait=False)
            engine.dispose()

    app = FastAPI(title="cloudplane control plane", version=__version__, lifespan=lifespan)
    app.state.service = ControlPlaneService(engine, aws_principal=aws_principal)
    http_errors.install(app)
    if threads is not None:
        app.add_middleware(HotReads, service=app.state.service, threads=threads)
    app.include_router(public)
    app.include_router(router)

    @app.get("/healthz", response_model=Health)
    def healthz() -> dict[str, str]:
        return app.state.service.health()

    return app
