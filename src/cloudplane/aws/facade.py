"""boto3 clients behind a facade: every botocore error leaves a call as an `AwsError`.

Operations and paginators are wrapped; everything else (`meta`, `can_paginate` ...) passes through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from cloudplane.aws.errors import AwsError, from_botocore

# A transport failure (no answer, refused connection) is tried this many times at most, however many
# attempts throttling may use: a dead endpoint must be reported in seconds, not minutes.
TRANSPORT_ATTEMPTS = 2


class GuardedClient:
    def __init__(self, client: Any, region: str) -> None:
        self._client = client
        self._region = region
        self._service = client.meta.service_model.service_name
        self._operations: dict[str, str] = client.meta.method_to_api_mapping
        service_event = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register_first(f"needs-retry.{service_event}", _stop_retrying_dead_endpoints)

    @property
    def raw(self) -> Any:
        """The boto3 client itself, for code that must see botocore's own errors."""
        return self._client

    def error(self, exc: BaseException, operation: str, params: dict[str, Any]) -> AwsError:
        return from_botocore(
            exc,
            service=self._service,
            operation=operation,
            params=params,
            region=self._region,
            endpoint=self._client.meta.endpoint_url,
        )

    def get_paginator(self, operation_name: str) -> GuardedPaginator:
        return GuardedPaginator(self, self._client.get_paginator(operation_name), operation_name)

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        operation = self._operations.get(name)
        if operation is None:
            return attribute
        return self._guard(attribute, operation)

    def _guard(self, method: Callable[..., Any], operation: str) -> Callable[..., Any]:
        def call(**params: Any) -> Any:
            try:
                return method(**params)
            except (ClientError, BotoCoreError) as exc:
                raise self.error(exc, operation, params) from exc

        call.__name__ = method.__name__
        return call


class GuardedPaginator:
    def __init__(self, owner: GuardedClient, paginator: Any, operation_name: str) -> None:
        self._owner = owner
        self._paginator = paginator
        self._operation = owner._operations.get(operation_name, operation_name)

    def paginate(self, **params: Any) -> Iterator[dict[str, Any]]:
        pages = iter(self._paginator.paginate(**params))
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except (ClientError, BotoCoreError) as exc:
                raise self._owner.error(exc, self._operation, params) from exc
            yield page


def _stop_retrying_dead_endpoints(attempts: int, caught_exception: Any = None, **_: Any) -> bool | None:
    """A veto on the `needs-retry` event (False stops retrying; None leaves the decision to the policy)."""
    if caught_exception is not None and attempts >= TRANSPORT_ATTEMPTS:
        return False
    return None
