"""One place that makes boto3 clients: region, standard retries, and a count of API calls.

The endpoint comes from AWS_ENDPOINT_URL like in any boto3 program; nothing here knows about the sandbox.
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config


class AwsClients:
    """Thread-safe cache of boto3 clients for one region, counting the API calls they make."""

    def __init__(self, region: str, session: boto3.session.Session | None = None) -> None:
        self.region = region
        self._session = session or boto3.session.Session()
        self._config = Config(
            region_name=region,
            retries={"mode": "standard"},
            max_pool_connections=32,
            user_agent_extra="cloudplane",
        )
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._calls: dict[str, int] = {}
        self._session.events.register("before-call.*.*", self._count_call)
        self._account_id: str | None = None

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

    def client(self, service: str) -> Any:
        with self._lock:
            existing = self._clients.get(service)
        if existing is not None:
            return existing
        # Client creation is slow (~50 ms) but safe to do outside the lock; keep the first one made.
        made = self._session.client(service, config=self._config)
        with self._lock:
            return self._clients.setdefault(service, made)

    def account_id(self) -> str:
        if self._account_id is None:
            self._account_id = self.client("sts").get_caller_identity()["Account"]
        return self._account_id

    def partition(self) -> str:
        return self._session.get_partition_for_region(self.region)
