"""Following a stack operation: quick looks at first, never more than 5 s between looks, never idle for long."""

from __future__ import annotations

import pytest

from cloudplane.aws.stacks import StackState, StackWatcher, wait_until_settled
from cloudplane.errors import OperationFailed


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.pauses: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


class _StackDoneAt(StackWatcher):
    """A watcher whose stack is CREATE_IN_PROGRESS until `done_at` seconds on `clock`; records each look."""

    def __init__(self, clock: _Clock, done_at: float) -> None:
        super().__init__(cfn=None, stack_id="cloudplane-cld-test", total=10, done_status=("CREATE_COMPLETE",))
        self.clock, self.done_at = clock, done_at
        self.looks: list[float] = []

    def poll(self) -> StackState:
        self.looks.append(self.clock.now)
        status = "CREATE_COMPLETE" if self.clock.now >= self.done_at else "CREATE_IN_PROGRESS"
        return StackState(status, None, 10 if status == "CREATE_COMPLETE" else 3, 10)


@pytest.mark.parametrize("done_at", [0.0, 1.0, 7.0, 187.0, 900.0])
def test_a_settled_stack_is_seen_within_seconds(done_at: float) -> None:
    clock = _Clock()
    watcher = _StackDoneAt(clock, done_at)
    state = wait_until_settled(watcher, on_progress=lambda _: None, timeout=3600, sleep=clock.sleep)
    assert state.status == "CREATE_COMPLETE"
    seen_after = watcher.looks[-1] - done_at
    assert 0 <= seen_after <= 5.0  # the old policy (15 s between looks) could leave a user waiting 15 s
    if done_at <= 1.0:
        assert (
            watcher.looks[-1] <= 1.25
        )  # a quick stack (a rollback, a small update) is seen within the second


def test_looks_quick_at_first_then_one_every_5_seconds() -> None:
    clock = _Clock()
    watcher = _StackDoneAt(clock, 600.0)
    wait_until_settled(watcher, on_progress=lambda _: None, timeout=3600, sleep=clock.sleep)
    assert watcher.looks[0] == 0.0  # the first look at once
    assert clock.pauses[0] == 0.5
    assert all(b >= a for a, b in zip(clock.pauses, clock.pauses[1:], strict=False))
    after_first_minute = [p for look, p in zip(watcher.looks, clock.pauses, strict=False) if look >= 60]
    assert after_first_minute and set(after_first_minute) == {5.0}
    assert len(watcher.looks) <= 20 + (600 - 60) / 5  # ~16 looks in the first minute, then 12 a minute


def test_a_stack_still_in_progress_at_the_timeout_says_so() -> None:
    clock = _Clock()
    watcher = _StackDoneAt(clock, 10_000.0)
    with pytest.raises(OperationFailed, match="still CREATE_IN_PROGRESS after 0 s; it keeps going in AWS"):
        wait_until_settled(watcher, on_progress=lambda _: None, timeout=0.1, sleep=clock.sleep)
