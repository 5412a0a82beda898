"""The node's start-up check: the user data of a functional-verification node, and reading what it found.

The script's body is `node_script.py` (standard library only, Python 3.9), followed by the parameters the
control plane fixes for the node: the run and target, the cloud's bucket and security groups, the mount
target of each zone, the MemoryDB endpoint, and for a service the port it answers health checks on. It
writes its result to `cloudplane/functional-verification/<run id>/<target>.json` in the cloud's bucket and
prints it on the console as one line starting with MARKER.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cloudplane.clusters.node_script import MARKER

RESULT_PREFIX = "cloudplane/functional-verification"
SERVICE_PORT = 8000
# EC2 takes at most 16 KB of user data (before base64).
USER_DATA_LIMIT = 16 * 1024
_SCRIPT = Path(__file__).with_name("node_script.py")


def result_key(run_id: str, target: str) -> str:
    return f"{RESULT_PREFIX}/{run_id}/{target}.json"


@dataclass(frozen=True)
class NodeCheck:
    """What one node checks. `mount_targets`: zone -> mount-target address (None: the cloud has no EFS)."""

    run_id: str
    target: str
    bucket: str
    security_group_ids: Sequence[str]
    file_system_id: str | None = None
    mount_targets: Mapping[str, str] = field(default_factory=dict)
    memorydb: Mapping[str, Any] | None = None  # {"cluster", "host", "port"}
    serve_port: int | None = None

    @property
    def result_key(self) -> str:
        return result_key(self.run_id, self.target)

    def params(self) -> dict[str, Any]:
        efs = (
            {"file_system_id": self.file_system_id, "mount_targets": dict(self.mount_targets)}
            if self.file_system_id
            else None
        )
        return {
            "run_id": self.run_id,
            "target": self.target,
            "bucket": self.bucket,
            "result_key": self.result_key,
            "probe_key": f"{RESULT_PREFIX}/{self.run_id}/{self.target}-probe.json",
            "security_group_ids": list(self.security_group_ids),
            "efs": efs,
            "memorydb": dict(self.memorydb) if self.memorydb else None,
            "serve_port": self.serve_port,
        }


def render(check: NodeCheck) -> str:
    """The node's user data: a python3 script that runs once at boot, as cloud-init runs user data."""
    params = json.dumps(check.params(), sort_keys=True, separators=(",", ":"))
    script = (
        "#!/usr/bin/env python3\n"
        + _SCRIPT.read_text()
        + f"\n\nPARAMS = {params!r}\n\nif __name__ == '__main__':\n"
        + "    raise SystemExit(main(json.loads(PARAMS)))\n"
    )
    if len(script.encode()) > USER_DATA_LIMIT:
        raise ValueError(f"the node's start-up check is {len(script.encode())} bytes, over EC2's 16 KB")
    return script


def parse_result(text: str | bytes) -> dict[str, Any] | None:
    """The node's result as it wrote it to the bucket; None when it is not one."""
    try:
        result = json.loads(text)
    except ValueError:
        return None
    return result if _is_result(result) else None


def from_console(output: str) -> dict[str, Any] | None:
    """The last result line the node printed on its console, or None."""
    for line in reversed(output.splitlines()):
        _, marker, rest = line.partition(MARKER + " ")
        if marker:
            result = parse_result(rest.strip())
            if result is not None:
                return result
    return None


def console_tail(output: str, lines: int = 3) -> str:
    """The last lines of console output, on one line: what a failure shows of a node that said nothing."""
    kept = [line.strip() for line in output.splitlines() if line.strip()][-lines:]
    return " | ".join(kept)


def first_failure(result: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return next((step for step in result.get("steps", []) if step.get("state") == "failed"), None)


def _is_result(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("steps"), list) and "passed" in value
