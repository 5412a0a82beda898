"""The node's start-up check as user data, and what the CLI shows of a run: no AWS needed."""

from __future__ import annotations

import ast
import json

from rich.console import Console

from cloudplane.clouds import functional_verification
from cloudplane.clusters import node_check
from cloudplane.clusters.functional import new_target
from cloudplane.clusters.node_script import MARKER


def _largest() -> node_check.NodeCheck:
    """A service node of a six-zone cloud with several groups and MemoryDB: the most user data there is."""
    return node_check.NodeCheck(
        run_id="fvr_" + "a" * 20,
        target="service",
        bucket="cloudplane-data-cld-" + "b" * 20 + "-123456789012",
        security_group_ids=[f"sg-{i:017x}" for i in range(5)],
        file_system_id="fs-0123456789abcdef0",
        mount_targets={f"ap-southeast-1{zone}": f"10.0.{i}.250" for i, zone in enumerate("abcdef")},
        memorydb={
            "cluster": "c" * 40,
            "host": "clustercfg." + "c" * 40 + ".abcdef.memorydb.ap-southeast-1.amazonaws.com",
            "port": 6379,
        },
        serve_port=node_check.SERVICE_PORT,
    )


def test_the_user_data_is_a_python_39_script_within_ec2s_limit_with_room_to_spare() -> None:
    script = node_check.render(_largest())

    assert script.startswith("#!/usr/bin/env python3\n")
    ast.parse(script, feature_version=(3, 9))  # Amazon Linux 2023's python3
    assert len(script.encode()) < node_check.USER_DATA_LIMIT - 1024
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(ast.parse(script))
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in (node.names if isinstance(node, ast.Import) else [ast.alias(node.module or "")])
    }
    assert imported <= {"datetime", "hashlib", "hmac", "http", "json", "os", "socket", "time", "urllib"}


def test_the_parameters_ride_in_the_script() -> None:
    check = _largest()
    script = node_check.render(check)
    namespace: dict[str, object] = {}
    exec(script.split("\nif __name__")[0], namespace)  # defines, runs nothing

    params = json.loads(str(namespace["PARAMS"]))

    assert params["result_key"] == f"cloudplane/functional-verification/{check.run_id}/service.json"
    assert params["efs"]["mount_targets"]["ap-southeast-1c"] == "10.0.2.250"
    assert params["serve_port"] == 8000 and params["memorydb"]["port"] == 6379


def test_the_result_is_read_from_the_last_marked_console_line() -> None:
    first = {"run_id": "fvr_1", "passed": False, "steps": [{"name": "x", "state": "failed"}]}
    last = {"run_id": "fvr_1", "passed": True, "steps": []}
    console = "\n".join(
        [
            "[passed] instance metadata: instance i-1 in us-west-2a",
            f"{MARKER} {json.dumps(first)}",
            f"{MARKER} not json",
            f"{MARKER} {json.dumps(last)}",
            "cloud-init: done",
        ]
    )

    assert node_check.from_console(console) == last
    assert node_check.from_console("no result here") is None
    assert node_check.console_tail("a\n\nb\nc\nd\n") == "b | c | d"


def test_the_panel_shows_each_step_with_its_time_and_the_failure() -> None:
    target = new_target("service", "verify-service-abc123")
    target["steps"][0].update(
        state="passed", started_at="2026-11-30T10:00:00.000Z", finished_at="2026-11-30T10:00:02.000Z",
        detail="i-1 (m5.xlarge) in us-west-2a",
    )  # fmt: skip
    target["steps"][1].update(
        state="failed", started_at="2026-11-30T10:00:02.000Z", finished_at="2026-11-30T10:01:24.000Z",
        detail="i-1 is terminated before it ran its checks",
    )  # fmt: skip
    panel = functional_verification._Panel()
    panel.show({"targets": [target]})
    console = Console(record=True, width=140, color_system=None)

    console.print(panel._render())

    text = console.export_text()
    assert "service verification" in text
    assert "0:00:02 ✓ Launch an m5.xlarge node" in text and "i-1 (m5.xlarge) in us-west-2a" in text
    assert "0:01:22 ✗ Node running" in text and "terminated before it ran its checks" in text
    assert "· Terminate the node" in text
