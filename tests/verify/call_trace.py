"""Every AWS API call an AwsClients makes, with its parameters and when it started and ended.

Recorded from botocore's own events on the boto3 session the clients are made from (a call starts when
its parameters are taken, before they are checked, and ends when its answer or error is back, retries
included). From the intervals: how many calls were in flight at once at most, and the longest chain of
calls each of which started only after the one before it had ended (the critical path: with every answer
taking L, a verification lasts at least chain x L).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import boto3

from cloudplane.aws.session import AwsClients

# Keys this trace puts in botocore's per-call context, which both events of one call share.
_STARTED = "cloudplane-trace-started"
_CALL = "cloudplane-trace-call"


@dataclass(frozen=True)
class Call:
    service: str
    operation: str
    params: str  # the API parameters as canonical JSON
    start: float
    end: float

    @property
    def name(self) -> str:
        return f"{self.service}:{self.operation}"


class CallTrace:
    def __init__(self, region: str) -> None:
        self.region = region
        self.session = boto3.session.Session()
        self._lock = threading.Lock()
        self.calls: list[Call] = []
        events = self.session.events
        events.register("before-parameter-build", self._started)
        events.register("after-call", self._ended)
        events.register("after-call-error", self._ended)

    def clients(self) -> AwsClients:
        """Clients whose calls this trace records (made from its session)."""
        return AwsClients(self.region, session=self.session)

    def clear(self) -> None:
        with self._lock:
            self.calls = []

    def _started(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        params_json = json.dumps(params, sort_keys=True, default=str)
        context[_CALL] = (model.service_model.service_name, model.name, params_json)
        context[_STARTED] = time.perf_counter()

    def _ended(self, context: dict[str, Any] | None = None, **_: Any) -> None:
        if context is None or _STARTED not in context:
            return
        end = time.perf_counter()
        with self._lock:
            self.calls.append(Call(*context.pop(_CALL), context.pop(_STARTED), end))

    def repeated(self) -> dict[tuple[str, str], int]:
        """(operation, parameters) asked more than once, and how often."""
        counts = Counter((c.name, c.params) for c in self.calls)
        return {key: n for key, n in counts.items() if n > 1}

    def peak_in_flight(self) -> int:
        edges = sorted([(c.start, 1) for c in self.calls] + [(c.end, -1) for c in self.calls])
        peak = current = 0
        for _, step in edges:  # at a tie an end (-1) sorts first: back-to-back calls do not overlap
            current += step
            peak = max(peak, current)
        return peak

    def chain(self) -> list[Call]:
        """The longest chain of calls each starting after the previous one ended (earliest end first is
        optimal for intervals)."""
        chain: list[Call] = []
        for call in sorted(self.calls, key=lambda c: c.end):
            if not chain or call.start >= chain[-1].end:
                chain.append(call)
        return chain

    def span(self) -> float:
        """Seconds from the first call's start to the last call's end."""
        if not self.calls:
            return 0.0
        return max(c.end for c in self.calls) - min(c.start for c in self.calls)
