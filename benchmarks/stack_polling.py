"""How `cloud setup` and `cloud delete` follow their stack: polls, CloudFormation calls and wall time.

Part one runs both commands for real (in this process, as the console script would) on a managed cloud
with EFS, against an in-process sandbox AWS that answers every AWS call 50 ms late, and counts what they
ask AWS. The sandbox builds and deletes a stack inside the CreateStack / DeleteStack request, so there
each command sees its stack settled on its first poll: the figures show the calls around the polling.

Part two is the polling policy itself (`cloudplane.aws.stacks.poll_delays`), on stacks that take as long
as AWS takes: how many polls a stack of that duration costs and how long, at worst, the command stays idle
after the stack has settled, next to the policy before (2 s growing to 15 s).
"""

from __future__ import annotations

import contextlib
import itertools
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from _sandbox import cloudplane, sandbox

LATENCY_MS = 50
# Durations of stack operations on AWS: a quick rollback, a managed cloud with EFS (create / delete),
# and one with MemoryDB, which takes many minutes.
DURATIONS = (10.0, 120.0, 240.0, 900.0)
STACK_CALLS = ("cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents")


class _Counts:
    """AWS calls of every AwsClients made while counting, and the stack polls."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.polls = 0

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        from cloudplane.aws.session import AwsClients
        from cloudplane.aws.stacks import StackWatcher

        count_call, poll = AwsClients._count_call, StackWatcher.poll

        def counted_call(clients: AwsClients, model: Any, **kwargs: Any) -> None:
            self.calls[f"{model.service_model.service_name}:{model.name}"] += 1
            count_call(clients, model, **kwargs)

        def counted_poll(watcher: StackWatcher) -> Any:
            self.polls += 1
            return poll(watcher)

        AwsClients._count_call = counted_call  # type: ignore[method-assign]
        StackWatcher.poll = counted_poll  # type: ignore[method-assign]
        try:
            yield
        finally:
            AwsClients._count_call = count_call  # type: ignore[method-assign]
            StackWatcher.poll = poll  # type: ignore[method-assign]


def measured() -> None:
    with sandbox() as server:
        server.set_latency(LATENCY_MS)
        print(
            f"{'command':<14} {'polls':>5} {'DescribeStacks':>14} {'DescribeStackEvents':>19} "
            f"{'AWS calls':>9} {'wall':>7}  ({LATENCY_MS} ms per AWS call)"
        )
        commands = (
            ("cloud setup", ["cloud", "setup", "--name", "bench", "--yes"]),
            ("cloud delete", ["cloud", "delete", "--name", "bench", "--yes", "--delete-bucket"]),
        )
        for label, args in commands:
            counts = _Counts()
            with counts.counting():
                start = time.perf_counter()
                cloudplane(args)
                wall = time.perf_counter() - start
            stacks, events = (counts.calls[name] for name in STACK_CALLS)
            print(
                f"{label:<14} {counts.polls:>5} {stacks:>14} {events:>19} {sum(counts.calls.values()):>9} "
                f"{wall:>6.2f}s"
            )


def _schedule(delays: Iterator[float], duration: float) -> tuple[int, float]:
    """Polls made following a stack that settles `duration` s after the first poll, and the idle time
    between the moment it settled and the poll that sees it (the worst case: it settles just after a poll)."""
    now, polls, last_pause = 0.0, 1, 0.0
    while now < duration:
        last_pause = next(delays)
        now += last_pause
        polls += 1
    return polls, last_pause


def _old_policy() -> Iterator[float]:
    delay = 2.0
    while True:
        yield delay
        delay = min(15.0, delay * 1.5)


def policy() -> None:
    from cloudplane.aws.stacks import poll_delays

    print(
        f"{'stack takes':<12} {'polls now':>9} {'idle at most':>12}   {'polls before':>12} {'idle at most':>12}"
    )
    policies: tuple[Callable[[], Iterator[float]], ...] = (poll_delays, _old_policy)
    for duration in DURATIONS:
        (new_polls, new_idle), (old_polls, old_idle) = (_schedule(p(), duration) for p in policies)
        print(f"{duration:>10.0f} s {new_polls:>9} {new_idle:>11.1f}s   {old_polls:>12} {old_idle:>11.1f}s")
    first_minute = list(itertools.takewhile(lambda t: t < 60, itertools.accumulate(poll_delays())))
    print(
        f"now: a poll at once, then after 0.5 s growing x1.5 to 5 s ({len(first_minute) + 1} polls in the first "
        "minute, then 12 a minute); each poll is one DescribeStacks and one DescribeStackEvents"
    )


def main() -> None:
    measured()
    print()
    policy()


if __name__ == "__main__":
    main()
