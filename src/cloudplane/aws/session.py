"""One place that makes AWS clients: region, retries, timeouts, errors, and a count of API calls.

The endpoint comes from AWS_ENDPOINT_URL like in any boto3 program; nothing here knows about the sandbox.
Retries follow the user's AWS configuration (AWS_RETRY_MODE, AWS_MAX_ATTEMPTS, the profile) and
otherwise use standard mode with enough attempts to ride out real throttling.

Clients come from botocore's session directly: boto3 adds nothing used here but its import time (it loads
s3transfer), which every command would pay before its first call. A boto3 Session is accepted too.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.loaders import JSONFileLoader

from cloudplane.aws.facade import GuardedClient
from cloudplane.aws.regions import account_region

DEFAULT_MAX_ATTEMPTS = 10
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# The first call of every command; it tells a dead or hanging endpoint quickly.
IDENTITY_READ_TIMEOUT = 5.0


class _PlainJsonFiles(JSONFileLoader):
    """botocore's model files read into plain dicts (ordered all the same) rather than OrderedDicts: the
    hook botocore passes to json.loads makes reading a large model such as EC2's about twice as slow."""

    def _load_file(self, full_path: str, open_method: Callable[..., Any]) -> Any:
        if not os.path.isfile(full_path):
            return None
        with open_method(full_path, "rb") as file:
            return json.loads(file.read())


class AwsClients:
    """Thread-safe cache of clients for one region, counting the API calls they make."""

    def __init__(self, region: str, session: Any = None) -> None:
        """session: a botocore or boto3 session (other credentials, say); by default a new one, which finds
        credentials as every AWS SDK does."""
        self.region = region
        self._session: botocore.session.Session = getattr(session, "_session", session) or (
            botocore.session.Session()
        )
        self._session.get_component("data_loader").file_loader = _PlainJsonFiles()
        self._config = self._make_config(READ_TIMEOUT)
        self._identity_config = self._make_config(IDENTITY_READ_TIMEOUT)
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        # Held while a client is built: threads asking for a new client at once wait for the one being made
        # rather than each building their own (~50 ms of CPU each).
        self._building = threading.Lock()
        self._calls: dict[str, int] = {}
        self._session.register("before-call.*.*", self._count_call)
        self._account_id: str | None = None
        self._identity: dict[str, Any] | None = None

    def _make_config(self, read_timeout: float, region: str | None = None) -> Config:
        mode = self._session.get_config_variable("retry_mode") or "standard"
        attempts = self._session.get_config_variable("max_attempts") or DEFAULT_MAX_ATTEMPTS
        if mode == "legacy":
            mode = "standard"  # legacy mode ignores the throttling codes of several services
        return Config(
            region_name=region or self.region,
            retries={"mode": mode, "total_max_attempts": int(attempts)},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=read_timeout,
            max_pool_connections=32,
            user_agent_extra="cloudplane",
        )

    def _count_call(self, model: Any, **_: Any) -> None:
        name = f"{model.service_model.service_name}:{model.name}"
        with self._lock:
            self._calls[name] = self._calls.get(name, 0) + 1

    @property
    def call_count(self) -> int:
        with self._lock:
            return sum(self._calls.values())

    def calls(self) -> dict[str, int]:
        with self._lock:
            return dict(self._calls)

    def client(self, service: str, region: str | None = None) -> Any:
        """A client whose calls raise `AwsError` (never a botocore error). `region`: another region than
        the clients', for questions about the account (see `regions.account_region`)."""
        if region is None or region == self.region:
            return self._client(service, self._config)
        return self._client(service, self._make_config(READ_TIMEOUT, region), f"{service}@{region}", region)

    def _client(self, service: str, config: Config, key: str | None = None, region: str | None = None) -> Any:
        key = key or service
        with self._lock:
            existing = self._clients.get(key)
        if existing is not None:
            return existing
        with self._building:
            with self._lock:
                existing = self._clients.get(key)
            if existing is None:
                made = self._session.create_client(service, config=config)
                # Its paginators' model read now, while it is built (in the background for a verification),
                # rather than by the first paginated calls, several at once.
                made.can_paginate(next(iter(made.meta.method_to_api_mapping)))
                existing = GuardedClient(made, region or self.region)
                with self._lock:
                    self._clients[key] = existing
        return existing

    def caller_identity(self, *, meanwhile: Iterable[str] = ()) -> dict[str, Any]:
        """Who the credentials are, asked once; with short timeouts, as it is the first call made.
        `meanwhile`: services whose clients are built in the background while the answer travels (building
        one is tens of milliseconds of CPU that would otherwise wait for the calls that need them).

        Asked in a region every account has enabled: in an opt-in region the account has not enabled, STS
        refuses any credentials, and the user would be told their credentials are wrong."""
        if self._identity is None:
            region = account_region(self.region)
            config = self._identity_config
            if region != self.region:
                config = self._make_config(IDENTITY_READ_TIMEOUT, region)
            sts = self._client("sts", config, key="sts:identity", region=region)
            self.build_in_background(meanwhile)
            self._identity = sts.get_caller_identity()
        return self._identity

    def build_in_background(self, services: Iterable[str]) -> None:
        """Build these services' clients in a thread of their own, in this order; a failure is left for the
        call that needs the client to meet again."""
        wanted = [service for service in services if service not in self._clients]
        if not wanted:
            return

        def build() -> None:
            for service in wanted:
                with contextlib.suppress(Exception):
                    self.client(service)

        threading.Thread(target=build, name="aws-clients", daemon=True).start()

    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = self.caller_identity()["Account"]
        return self._account_id

    def partition(self) -> str:
        return self._session.get_partition_for_region(self.region)
