"""`--functional-verify workspace,service`: launch what each target needs in the cloud, follow it, report it.

The control plane does the work (start, then advance until the run ends); this module asks first, drives the
run by calling advance, renders it (a live panel per target on a terminal, plain lines elsewhere) and says
how it ended. Ctrl-C aborts the run and keeps advancing it until everything it made is removed.
"""

from __future__ import annotations

import signal
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from cloudplane.console import Console, confirm
from cloudplane.errors import InputError

FLAG_HELP = (
    "After the command's own work, launch a workspace and/or a service in the cloud to prove it works "
    "(comma-separated: workspace, service). Costs one m5.xlarge instance per target for a few minutes."
)
POLL_SECONDS = 1.0
INTERRUPTED = 130
_MINUTES = {"workspace": 5, "service": 10}
_MARKS = {"passed": "✓", "failed": "✗", "skipped": "-", "running": "…", "pending": "·"}


def parse_flag(value: str | None) -> list[str]:
    """The targets of `--functional-verify` (none when the flag is not given); bad ones exit 2 at once."""
    if value is None:
        return []
    from cloudplane.clusters.functional import parse_targets

    return parse_targets([part.strip() for part in value.split(",")])


def preflight(targets: list[str], yes: bool) -> None:
    """Refuse before the command does anything when the confirmation could not be asked later."""
    if targets and not yes and not sys.stdin.isatty():
        raise InputError(
            "--functional-verify launches instances and asks first, but there is no terminal to ask: "
            "pass --yes to confirm"
        )


def notice(targets: list[str]) -> list[str]:
    """What the user is about to pay for, as the seed says it."""
    from cloudplane.clusters.functional import NODE_INSTANCE_TYPE

    names = " and ".join(target.upper() for target in targets)
    count = len(targets)
    lines = [
        f"Functional verification of {names} is about to begin.",
        f"It launches one {NODE_INSTANCE_TYPE} instance per target ({count} in all) in your AWS account, "
        "which will incur a small cost.",
    ]
    if "service" in targets:
        lines.append(
            "The service also gets an application load balancer and a self-signed certificate in ACM."
        )
    minutes = ", ".join(f"about {_MINUTES[t]} minutes for a {t}" for t in targets)
    lines.append(
        f"It takes {minutes}. Everything is terminated or deleted at the end, also when a check fails "
        "or you press Ctrl-C."
    )
    return lines


def run_functional_verification(
    client: Any, cloud: Mapping[str, Any], targets: list[str], *, yes: bool, output: str = "text"
) -> tuple[int, dict[str, Any] | None]:
    """Ask, start, follow to the end; (exit code, the final run). 0: every target passed; 1: one failed;
    130: interrupted (after the clean-up)."""
    console = Console()  # progress goes to stderr, also with --output json
    for line in notice(targets):
        console.info(line)
    confirm("Do you want to continue?", yes)
    view = _view(output)
    with _deferred_interrupt() as interrupted:
        run = client.start_functional_verification(cloud["id"], targets)
    if interrupted():
        return _abort(client, run, view, console), None
    try:
        with view:
            run = _follow(client, run, view)
    except KeyboardInterrupt:
        return _abort(client, run, view, console), None
    _summary(run, console, output)
    return (0 if run["passed"] else 1), run


def _follow(client: Any, run: dict[str, Any], view: _View) -> dict[str, Any]:
    view.show(run)
    while run["state"] == "running":
        _pause()
        run = client.advance_functional_verification(run["id"])
        view.show(run)
    return run


def _pause() -> None:
    time.sleep(POLL_SECONDS)


def _abort(client: Any, run: dict[str, Any], view: _View, console: Console) -> int:
    console.warn("Interrupted: stopping the functional verification and removing what it made ...")
    run = client.abort_functional_verification(run["id"])
    try:
        with view:
            run = _follow(client, run, view)
    except KeyboardInterrupt:
        left = _still_there(run)
        console.error(
            "Interrupted again: left before the clean-up finished. Still there: "
            + ("; ".join(left) or "nothing known")
            + ". Remove it with `cloudplane cluster terminate NAME` and the CloudFormation and ACM consoles."
        )
        return INTERRUPTED
    removed = _removed(run)
    console.warn(
        "Functional verification aborted. Cleaned up: "
        + ("; ".join(removed) or "nothing had been made")
        + "."
    )
    if run.get("left_behind"):
        console.error("Could not remove: " + "; ".join(run["left_behind"]) + ". Remove it by hand.")
    return INTERRUPTED


def _summary(run: Mapping[str, Any], console: Console, output: str) -> None:
    """The end of each target; on stdout, unless stdout carries JSON."""
    lines = []
    for target in run["targets"]:
        took = _clock(_seconds(target["steps"][0].get("started_at"), _last_finish(target)))
        name = target["name"].capitalize()
        if target["state"] == "passed":
            lines.append(f"{took}  {name} verification succeeded!")
        else:
            failure = target.get("failure") or {}
            lines.append(
                f"{took}  {name} verification failed at step '{failure.get('title', '?')}': "
                f"{failure.get('detail', 'no reason given')}"
            )
    if run.get("left_behind"):
        lines.append("Not cleaned up (remove by hand): " + "; ".join(run["left_behind"]))
    if output == "json":
        for line in lines:
            console.info(line)
    else:
        console.result("\n".join(lines))


def _removed(run: Mapping[str, Any]) -> list[str]:
    done = []
    for target in run["targets"]:
        resources = target["resources"]
        for step in target["steps"]:
            if step["state"] != "passed":
                continue
            if step["name"] == "terminate":
                done.append(f"instance {resources.get('instance_id')} terminated")
            elif step["name"] == "delete-load-balancer":
                done.append(f"load-balancer stack {resources.get('stack_name')} deleted")
            elif step["name"] == "delete-certificate":
                done.append(f"certificate {resources.get('certificate_arn')} deleted")
    return done


def _still_there(run: Mapping[str, Any]) -> list[str]:
    left = []
    for target in run["targets"]:
        resources = target["resources"]
        open_steps = {s["name"] for s in target["steps"] if s["state"] in ("pending", "running")}
        if "terminate" in open_steps and resources.get("instance_id"):
            left.append(f"instance {resources['instance_id']} (cluster {target['cluster']})")
        if "delete-load-balancer" in open_steps and resources.get("stack_name"):
            left.append(f"stack {resources['stack_name']}")
        if "delete-certificate" in open_steps and resources.get("certificate_arn"):
            left.append(f"certificate {resources['certificate_arn']}")
    return left


@contextmanager
def _deferred_interrupt() -> Iterator[Callable[[], bool]]:
    """Ctrl-C while the nodes are being launched is kept until the run exists, so that it can be aborted."""
    pressed: list[bool] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    except ValueError:  # not the main thread: nothing to defer
        yield lambda: False
        return
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


# --- rendering ------------------------------------------------------------------------------------


class _View:
    def __enter__(self) -> _View:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def show(self, run: Mapping[str, Any]) -> None:
        raise NotImplementedError


class _Lines(_View):
    """One line per step that starts or ends: for logs, CI and --output json (on stderr)."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], str] = {}
        self._console = Console()

    def show(self, run: Mapping[str, Any]) -> None:
        for target in run["targets"]:
            for step in target["steps"]:
                key = (target["name"], step["name"])
                if step["state"] == "pending" or self._seen.get(key) == step["state"]:
                    continue
                self._seen[key] = step["state"]
                line = f"{target['name']}: {step['title']}: {step['state']}"
                if step["state"] != "running" and step.get("detail"):
                    line += f" ({step['detail']})"
                if step["state"] == "failed":
                    self._console.warn(line)
                else:
                    self._console.info(line)


class _Panel(_View):
    """A live panel per target, each step with its elapsed time, like the seed's output."""

    def __init__(self) -> None:
        from rich.console import Console as RichConsole

        self._console = RichConsole(stderr=True)
        self._live: Any = None
        self._run: Mapping[str, Any] | None = None

    def __enter__(self) -> _Panel:
        from rich.live import Live

        self._live = Live(console=self._console, refresh_per_second=4, get_renderable=self._render)
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.__exit__(*exc)
            self._live = None

    def show(self, run: Mapping[str, Any]) -> None:
        self._run = run
        if self._live is not None:
            self._live.refresh()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        if self._run is None:
            return Text("Starting ...")
        panels = []
        for target in self._run["targets"]:
            table = Table.grid(padding=(0, 1))
            table.add_column(no_wrap=True)
            table.add_column(no_wrap=True)
            table.add_column()
            for step in target["steps"]:
                seconds = _seconds(step.get("started_at"), step.get("finished_at"))
                clock = _clock(seconds) if step["state"] != "pending" else ""
                style = {"passed": "green", "failed": "red bold", "running": "cyan", "skipped": "dim"}.get(
                    step["state"], "dim"
                )
                detail = step.get("detail") or ""
                table.add_row(
                    clock,
                    Text(f"{_MARKS[step['state']]} {step['title']}", style=style),
                    Text(detail, style="dim" if step["state"] != "failed" else "red", overflow="fold"),
                )
            panels.append(Panel(table, title=f"{target['name']} verification", title_align="left"))
        return Group(*panels)


def _view(output: str) -> _View:
    if output == "json" or not sys.stderr.isatty():
        return _Lines()
    return _Panel()


def _seconds(started: str | None, finished: str | None) -> float:
    if not started:
        return 0.0
    end = _parse(finished) if finished else datetime.now(UTC)
    return max(0.0, (end - _parse(started)).total_seconds())


def _last_finish(target: Mapping[str, Any]) -> str | None:
    finished = [step["finished_at"] for step in target["steps"] if step.get("finished_at")]
    return max(finished) if finished else None


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _clock(seconds: float) -> str:
    whole = int(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def skipped_because_verification_failed(targets: list[str]) -> None:
    """Said when the command's own verification failed: nothing is launched into a cloud that is not right."""
    if targets:
        Console().warn(
            "Functional verification skipped: the cloud did not pass its verification (see above)."
        )
