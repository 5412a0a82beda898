"""Functional verification of a cloud: its targets, the steps each goes through, their deadlines, and the
record of a target as a run keeps it. Moving a target through its steps is `functional_steps`.

Per target the control plane launches one node whose start-up check (node_check) proves what a cluster of
that kind needs. A workspace: the node is launched, runs, passes its checks and is terminated. A service
also gets a certificate imported into ACM and a load-balancer stack forwarding HTTPS to the node, which must
turn healthy; then the stack, the certificate and the node are removed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cloudplane.clusters.compute_config import DEFAULT_INSTANCE_TYPE
from cloudplane.errors import InputError

TARGETS = ("workspace", "service")
NODE_INSTANCE_TYPE = DEFAULT_INSTANCE_TYPE
RUN_TAG_KEY = "cloudplane-functional-verification"
DEADLINES_ENV = "CLOUDPLANE_FUNCTIONAL_VERIFICATION_DEADLINES"


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    cleanup: bool = False


STEPS = {
    step.name: step
    for step in (
        Step("launch", f"Launch an {NODE_INSTANCE_TYPE} node"),
        Step("running", "Node running"),
        Step("checks", "Node checks"),
        Step("certificate", "Import a certificate into ACM"),
        Step("load-balancer", "Create the load balancer"),
        Step("target-healthy", "Node healthy behind the load balancer"),
        Step("delete-load-balancer", "Delete the load balancer", cleanup=True),
        Step("delete-certificate", "Delete the certificate", cleanup=True),
        Step("terminate", "Terminate the node", cleanup=True),
    )
}
TARGET_STEPS = {
    "workspace": ("launch", "running", "checks", "terminate"),
    "service": (
        "launch",
        "running",
        "checks",
        "certificate",
        "load-balancer",
        "target-healthy",
        "delete-load-balancer",
        "delete-certificate",
        "terminate",
    ),
}
# Seconds each step may take on AWS: a node boots in a minute or two, a load balancer takes minutes.
DEFAULT_DEADLINES: dict[str, float] = {
    "launch": 120,
    "running": 600,
    "checks": 900,
    "certificate": 120,
    "load-balancer": 900,
    "target-healthy": 600,
    "delete-load-balancer": 900,
    "delete-certificate": 600,
    "terminate": 600,
}
FINAL_STEP_STATES = frozenset({"passed", "failed", "skipped"})


def parse_targets(value: Any) -> list[str]:
    """The targets of a run: a non-empty list of known targets, each once."""
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise InputError("targets must be a list of 'workspace' and/or 'service'")
    if not value or value == [""]:
        raise InputError("no functional verification target given: use workspace, service or both")
    unknown = [item for item in value if item not in TARGETS]
    if unknown:
        raise InputError(
            f"unknown functional verification target {unknown[0]!r}: use workspace, service or "
            "workspace,service"
        )
    repeated = sorted({item for item in value if value.count(item) > 1})
    if repeated:
        raise InputError(f"functional verification target {repeated[0]!r} given twice")
    return list(value)


def deadlines_from_env(env: Mapping[str, str] | None = None) -> dict[str, float]:
    """The step deadlines: the defaults, changed by `step=seconds,...` in the environment (`*` for all)."""
    env = os.environ if env is None else env
    deadlines = dict(DEFAULT_DEADLINES)
    for part in (env.get(DEADLINES_ENV) or "").split(","):
        if not part.strip():
            continue
        name, _, seconds = part.partition("=")
        name = name.strip()
        try:
            value = float(seconds)
        except ValueError:
            raise InputError(f"{DEADLINES_ENV}: {part.strip()!r} is not step=seconds") from None
        if name != "*" and name not in deadlines:
            raise InputError(f"{DEADLINES_ENV}: unknown step {name!r} (known: {', '.join(deadlines)})")
        if value <= 0:
            raise InputError(f"{DEADLINES_ENV}: {name} must be a positive number of seconds")
        for step in deadlines if name == "*" else [name]:
            deadlines[step] = value
    return deadlines


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def new_target(name: str, cluster: str) -> dict[str, Any]:
    """A target before its node is launched: every step pending."""
    return {
        "name": name,
        "state": "running",
        "cluster": cluster,
        "resources": {},
        "steps": [
            {
                "name": step,
                "title": STEPS[step].title,
                "state": "pending",
                "started_at": None,
                "finished_at": None,
                "detail": None,
            }
            for step in TARGET_STEPS[name]
        ],
        "checks": [],
        "cleanup_started": False,
        "aborted": False,
    }


def current_step(target: Mapping[str, Any]) -> dict[str, Any] | None:
    return next((step for step in target["steps"] if step["state"] not in FINAL_STEP_STATES), None)


def failed_step(target: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((step for step in target["steps"] if step["state"] == "failed"), None)
