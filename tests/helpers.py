"""Running the real `cloudplane` command: in-process exactly as the console script does, or as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from typing import Any

from click.testing import CliRunner

from cloudplane import cli


class _Entry:
    """What the console script runs: `sys.exit(cloudplane.cli.main())`."""

    name = "cloudplane"

    def main(self, args: Any = (), prog_name: str | None = None, **_: Any) -> None:
        sys.exit(cli.main(list(args)))


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def cloudplane(*args: str, input: str | None = None) -> Run:
    result = CliRunner().invoke(_Entry(), list(args), input=input, catch_exceptions=False)  # type: ignore[arg-type]
    return Run(result.exit_code or 0, result.stdout, result.stderr)


def spawn(*args: str) -> subprocess.Popen[str]:
    """The real `cloudplane` command in a process of its own (stdout and stderr piped), with this
    process's environment: for runs that are killed, or that must really run at the same time."""
    return subprocess.Popen(
        [sys.executable, "-m", "cloudplane", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )
