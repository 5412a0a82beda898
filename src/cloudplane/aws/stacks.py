"""Watching a CloudFormation stack: progress from its events, backoff polling, failure reasons."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any
from urllib.parse import quote

from cloudplane.aws.errors import error_code
from cloudplane.errors import OperationFailed

CANCELLED_MARKERS = (
    "Resource creation cancelled",
    "Resource update cancelled",
    "Resource deletion cancelled",
)
STACK_TYPE = "AWS::CloudFormation::Stack"

# How a stack operation is followed: the first poll at once, then after 0.5 s, each pause 1.5 times the last,
# never more than 5 s. A quick stack (a rollback, a small update) is seen settled within a second or two, and
# a long one (MemoryDB: many minutes) is seen done at most 5 s after it is, for about 12 polls a minute.
FIRST_POLL_DELAY = 0.5
POLL_BACKOFF = 1.5
MAX_POLL_DELAY = 5.0


@dataclass(frozen=True)
class StackFailure:
    logical_id: str
    resource_type: str
    status: str
    reason: str


@dataclass
class StackState:
    status: str
    reason: str | None
    done: int
    total: int


@dataclass
class StackWatcher:
    """Follows one stack. `done` counts resources that reached `done_status` (e.g. CREATE_COMPLETE)."""

    cfn: Any
    stack_id: str
    total: int
    done_status: tuple[str, ...]
    _seen_events: set[str] = field(default_factory=set)
    _done: set[str] = field(default_factory=set)
    _failures: dict[str, StackFailure] = field(default_factory=dict)

    def ignore_earlier_events(self) -> None:
        """Count only what happens from now on. Call before starting the operation: a stack's history can
        hold an earlier attempt's events (a delete that failed half-way, a rollback), which are not progress
        of this one."""
        events = self.cfn.describe_stack_events(StackName=self.stack_id).get("StackEvents", [])
        if events:
            self._seen_events.add(events[0]["EventId"])  # the newest: reading stops there

    def _read_new_events(self) -> None:
        paginator = self.cfn.get_paginator("describe_stack_events")
        fresh: list[dict[str, Any]] = []
        for page in paginator.paginate(StackName=self.stack_id):
            events = page["StackEvents"]  # newest first
            unseen = list(takewhile(lambda e: e["EventId"] not in self._seen_events, events))
            fresh.extend(unseen)
            if len(unseen) < len(events):
                break
        for event in reversed(fresh):
            self._seen_events.add(event["EventId"])
            if event.get("ResourceType") == STACK_TYPE:
                continue
            logical_id = event.get("LogicalResourceId", "")
            status = event.get("ResourceStatus", "")
            if status in self.done_status:
                self._done.add(logical_id)
            if status.endswith("_FAILED"):
                self._failures[logical_id] = StackFailure(
                    logical_id, event.get("ResourceType", ""), status, event.get("ResourceStatusReason", "")
                )

    def poll(self) -> StackState:
        stack = self.cfn.describe_stacks(StackName=self.stack_id)["Stacks"][0]
        self._read_new_events()
        return StackState(stack["StackStatus"], stack.get("StackStatusReason"), len(self._done), self.total)

    def failures(self) -> list[StackFailure]:
        """Resources that failed for a reason of their own, not the ones cancelled because another failed."""
        return [f for f in self._failures.values() if not any(m in f.reason for m in CANCELLED_MARKERS)]


def poll_delays(first_delay: float = FIRST_POLL_DELAY, max_delay: float = MAX_POLL_DELAY) -> Iterator[float]:
    """The pauses between polls: `first_delay`, then POLL_BACKOFF times longer each, up to `max_delay`."""
    delay = min(first_delay, max_delay)
    while True:
        yield delay
        delay = min(max_delay, delay * POLL_BACKOFF)


def wait_until_settled(
    watcher: StackWatcher,
    *,
    on_progress: Callable[[StackState], None],
    timeout: float,
    first_delay: float = FIRST_POLL_DELAY,
    max_delay: float = MAX_POLL_DELAY,
    sleep: Callable[[float], None] = time.sleep,
) -> StackState:
    """Poll until the stack leaves every *_IN_PROGRESS state, backing off between polls (`poll_delays`)."""
    deadline = time.monotonic() + timeout
    for delay in poll_delays(first_delay, max_delay):
        state = watcher.poll()
        on_progress(state)
        if not state.status.endswith("_IN_PROGRESS"):
            return state
        if time.monotonic() + delay > deadline:
            raise OperationFailed(
                f"stack {watcher.stack_id} is still {state.status} after {int(timeout)} s; it keeps going in "
                "AWS, re-run the same command to keep following it"
            )
        sleep(delay)
    raise AssertionError("unreachable: poll_delays never ends")


def find_stack(cfn: Any, name_or_id: str) -> dict[str, Any] | None:
    """The live stack with that name or id, or None when there is none (or only a deleted one)."""
    try:
        stacks = cfn.describe_stacks(StackName=name_or_id)["Stacks"]
    except Exception as exc:
        if error_code(exc) == "ValidationError":
            return None
        raise
    live = [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"]
    return live[0] if live else None


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def console_url(region: str, stack_id: str) -> str:
    return (
        f"https://{region}.console.aws.amazon.com/cloudformation/home?region={region}"
        f"#/stacks/stackinfo?stackId={quote(stack_id, safe='')}"
    )
