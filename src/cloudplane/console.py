"""How the CLI talks to people: timestamped progress lines on stderr, results and JSON on stdout.

Kept free of heavy imports; rich is loaded only when a spinner is shown on a terminal.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

_START = time.monotonic()


def elapsed() -> str:
    seconds = time.monotonic() - _START
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.1f}s"


class Console:
    """Progress lines look like `(cloudplane +1.2s) message`. `quiet` silences them (JSON output)."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._status: Any = None

    def _line(self, text: str, colour: str | None = None, bold: bool = False) -> None:
        if self.quiet:
            return
        prefix = click.style(f"(cloudplane +{elapsed()})", fg="cyan")
        body = click.style(text, fg=colour, bold=bold) if colour or bold else text
        if self._status is not None:
            self._status.console.print(f"{prefix} {body}", markup=False, highlight=False)
        else:
            click.echo(f"{prefix} {body}", err=True)

    def info(self, text: str) -> None:
        self._line(text)

    def success(self, text: str) -> None:
        self._line(text, colour="green")

    def warn(self, text: str) -> None:
        self._line(text, colour="yellow")

    def error(self, text: str) -> None:
        self._line(text, colour="red", bold=True)

    def result(self, text: str) -> None:
        """The command's result: always printed, on stdout."""
        click.echo(text)

    def table(self, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        """Rows under their column names, each column as wide as its widest value; on stdout."""
        widths = [max(len(str(v)) for v in col) for col in zip(columns, *rows, strict=True)]
        for row in (columns, *rows):
            self.result("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())

    def json(self, data: Any) -> None:
        click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))

    @contextmanager
    def status(self, text: str) -> Iterator[StatusLine]:
        """A spinner on a terminal; elsewhere a line only when the text changes."""
        line = StatusLine(self, text)
        if self.quiet or not sys.stderr.isatty():
            self.info(text)
            yield line
            return
        from rich.console import Console as RichConsole

        rich_console = RichConsole(stderr=True)
        with rich_console.status(text) as status:
            self._status = status
            line._rich = status
            try:
                yield line
            finally:
                self._status = None


class StatusLine:
    def __init__(self, console: Console, text: str) -> None:
        self._console = console
        self._text = text
        self._rich: Any = None

    def update(self, text: str) -> None:
        if text == self._text:
            return
        self._text = text
        if self._rich is not None:
            self._rich.update(text)
        else:
            self._console.info(text)


def confirm(question: str, assume_yes: bool) -> None:
    """Ask before something destructive; `--yes` answers for the user. Declining aborts with exit 1."""
    if assume_yes:
        return
    if not sys.stdin.isatty():
        from cloudplane.errors import InputError

        raise InputError(f"{question} Refusing to go on without a terminal to ask; pass --yes to confirm.")
    if not click.confirm(question, default=False):
        from cloudplane.errors import OperationFailed

        raise OperationFailed("aborted; nothing was changed")
