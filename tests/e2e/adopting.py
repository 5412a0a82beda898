"""Reading what `cloud register --from-stack / --from-terraform-state` printed, for the adoption tests."""

from __future__ import annotations

import shlex
from typing import Any

from tests.helpers import Run, cloudplane


def parse_flags(command: str) -> dict[str, Any]:
    """The flags of a `cloudplane cloud register ...` line: --flag value, or True for a flag alone."""
    words = shlex.split(command)[3:]
    flags: dict[str, Any] = {}
    for index, word in enumerate(words):
        if word.startswith("--"):
            following = words[index + 1] if index + 1 < len(words) else "--"
            flags[word] = True if following.startswith("--") else following
    return flags


def equivalent_flags(run: Run) -> dict[str, Any]:
    """The flags of the equivalent command printed on stderr (its own line, without a progress prefix)."""
    (line,) = [line for line in run.stderr.splitlines() if line.startswith("cloudplane cloud register ")]
    return parse_flags(line)


def cloud_names() -> list[str]:
    return [cloud["name"] for cloud in cloudplane("cloud", "list", "--output", "json").json()["clouds"]]
