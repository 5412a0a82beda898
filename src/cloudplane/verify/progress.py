"""Progress events a verification run emits as each resource group starts and ends."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Status = Literal["started", "passed", "failed", "not checked"]


@dataclass(frozen=True)
class ProgressEvent:
    group: str  # one of report.GROUPS
    status: Status
    resource_ids: list[str] = field(default_factory=list)
