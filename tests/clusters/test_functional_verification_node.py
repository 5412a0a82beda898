"""The node's start-up check as user data (and run by Python 3.9 on a sandbox node), and what the CLI shows
of a run."""

from __future__ import annotations

import ast
import glob
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cloudplane.cloud import CUSTOMER_DEFINED
from cloudplane.clouds import functional_verification
from cloudplane.clusters import node_check
from cloudplane.clusters.functional import new_target
from cloudplane.clusters.node_script import MARKER
from cloudplane.sandbox.instance_startup import IMDS_PATH, SHIM_DIR
from cloudplane.sandbox.server import SandboxServer
from tests.verify.builders import build_cloud


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


def _python39() -> str | None:
    """An interpreter of Amazon Linux 2023's Python (3.9), if this machine has one."""
    candidates = [
        shutil.which("python3.9"),
        *sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9"))),
    ]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 9)":
            return candidate
    return None


def test_the_check_passes_when_run_by_python_39_on_a_sandbox_node(
    aws: Callable[..., Any], sandbox: SandboxServer, tmp_path: Path
) -> None:
    """The script as a node runs it, but with Python 3.9 (the sandbox runs scripts with its own Python)."""
    python = _python39()
    if python is None:
        pytest.skip("no Python 3.9 on this machine")
    built = build_cloud(aws, deployment=CUSTOMER_DEFINED, azs=2)
    profile = built.instance_role.split("/")[-1]
    instance = aws("ec2").run_instances(
        ImageId="ami-12345678", InstanceType="m5.xlarge", MinCount=1, MaxCount=1,
        SubnetId=built.subnet_ids[0], SecurityGroupIds=[built.sg_id], IamInstanceProfile={"Name": profile},
    )["Instances"][0]["InstanceId"]  # fmt: skip
    mounts = aws("efs").describe_mount_targets(FileSystemId=built.fs_id)["MountTargets"]
    check = node_check.NodeCheck(
        run_id="fvr_" + "c" * 20,
        target="workspace",
        bucket=built.bucket,
        security_group_ids=[built.sg_id],
        file_system_id=built.fs_id,
        mount_targets={m["AvailabilityZoneName"]: m["IpAddress"] for m in mounts},
    )
    script = tmp_path / "part-001"
    script.write_text(node_check.render(check))
    environment = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"{sandbox.url}{IMDS_PATH}{instance}/",
        "AWS_ENDPOINT_URL": sandbox.url,
        "PYTHONPATH": str(SHIM_DIR),
    }

    ran = subprocess.run([python, str(script)], env=environment, capture_output=True, text=True, timeout=60)

    assert ran.returncode == 0, ran.stdout + ran.stderr
    result = node_check.from_console(ran.stdout)
    assert result is not None and result["passed"] is True, ran.stdout
    assert [step["state"] for step in result["steps"]] == ["passed"] * 6
    stored = aws("s3").get_object(Bucket=built.bucket, Key=check.result_key)["Body"].read()
    assert node_check.parse_result(stored) == result
