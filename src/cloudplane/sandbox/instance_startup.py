"""Instances run their start-up script (user data starting with `#!`) as cloud-init runs it on EC2.

RunInstances answers at once, as on AWS; each new instance whose base64-decoded user data starts with `#!`
then runs it in a subprocess of its own (a private temp dir, executable, HOME there) with a clean environment:
PATH, HOME and LANG, plus
- `AWS_EC2_METADATA_SERVICE_ENDPOINT`: the sandbox's instance metadata service for this instance (see imds);
  credentials come only from there, as on EC2: no AWS_ACCESS_KEY_ID, no region variable;
- `AWS_ENDPOINT_URL`: the sandbox, which every AWS SDK honours for its service endpoints;
- for Python scripts, `PYTHONPATH` holding the node shim (node_shim/sitecustomize.py) that puts the script's
  sockets inside the instance's VPC (see vpc_network). `#!/usr/bin/env python3` and `#!/usr/bin/python3`
  run with the sandbox's own interpreter.
The script's combined stdout/stderr (its last 64 KiB, as AWS keeps) is what GetConsoleOutput returns.
TerminateInstances and StopInstances kill the script and its children; `POST /moto-api/reset` and the
sandbox's exit kill them all.
Instances stay `running` from the start, as moto makes them; starting a stopped instance does not run the
script again (cloud-init runs user data once per instance).
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.core.responses import ActionResult
from moto.core.utils import utcnow
from moto.ec2.models import EC2Backend, ec2_backends
from moto.ec2.responses.general import General
from moto.ec2.responses.instances import InstanceResponse
from moto.ec2.utils import Base64EncodedString

from . import _moto_api
from ._patching import patch_attr, wrap_method

SHIM_DIR = Path(__file__).with_name("node_shim")
IMDS_PATH = "/moto-api/cloudplane/imds/"
CONSOLE_LIMIT = 64 * 1024
_PYTHONS = ("/usr/bin/env python3", "/usr/bin/python3")


@dataclass
class Node:
    """An instance as the sandbox knows it: where it lives and, when it has one, its start-up process."""

    instance_id: str
    account_id: str
    region: str
    process: subprocess.Popen[bytes] | None = None
    workdir: str | None = None
    output: bytearray = field(default_factory=bytearray)
    # Ports the start-up process listens on -> (host, port) of the real loopback socket behind them.
    listeners: dict[int, tuple[str, int]] = field(default_factory=dict)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def console(self) -> bytes:
        with _lock:
            return bytes(self.output[-CONSOLE_LIMIT:])


_lock = threading.Lock()
_nodes: dict[str, Node] = {}


def node(instance_id: str) -> Node | None:
    with _lock:
        return _nodes.get(instance_id)


def instance_of(instance_id: str) -> tuple[Any, str, str] | None:
    """The moto instance with this id and its account and region, or None."""
    known = node(instance_id)
    places = [(known.account_id, known.region)] if known else []
    if not places:
        places = [(a, r) for a, regions in list(ec2_backends.items()) for r in list(regions.keys())]
    for account_id, region in places:
        backend = ec2_backends[account_id][region]
        for reservation in list(backend.reservations.values()):
            for instance in reservation.instances:
                if instance.id == instance_id:
                    return instance, account_id, region
    return None


def script_of(user_data: Any) -> bytes | None:
    """The start-up script carried by base64 user data, or None when it is not a `#!` script."""
    if user_data is None:
        return None
    try:
        raw = base64.b64decode(str(user_data))
    except ValueError:
        return None
    return raw if raw.startswith(b"#!") else None


def _command(path: Path, script: bytes) -> list[str]:
    shebang = script.split(b"\n", 1)[0][2:].decode(errors="replace").strip()
    if " ".join(shebang.split()[:2]) in _PYTHONS and len(shebang.split()) <= 2:
        return [sys.executable, str(path)]
    return [str(path)]


def _environment(sandbox_url: str, instance_id: str, workdir: str, python: bool) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
        "HOME": workdir,
        "LANG": os.environ.get("LANG", "C.UTF-8"),
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": f"{sandbox_url}{IMDS_PATH}{instance_id}/",
        "AWS_ENDPOINT_URL": sandbox_url,
    }
    if python:
        env["PYTHONPATH"] = str(SHIM_DIR)
    return env


def _pump(started: Node) -> None:
    process = started.process
    assert process is not None and process.stdout is not None
    for chunk in iter(lambda: process.stdout.read1(4096), b""):  # type: ignore[union-attr]
        with _lock:
            started.output.extend(chunk)
            del started.output[: max(0, len(started.output) - CONSOLE_LIMIT)]
    process.wait()
    process.stdout.close()
    with _lock:
        started.listeners.clear()


def launch(instance: Any, account_id: str, region: str, sandbox_url: str) -> Node:
    """Register the instance and, when its user data is a `#!` script, start that script."""
    started = Node(instance.id, account_id, region)
    with _lock:
        _nodes[instance.id] = started
    script = script_of(instance.user_data)
    if script is None:
        return started
    workdir = tempfile.mkdtemp(prefix=f"cloudplane-{instance.id}-")
    path = Path(workdir) / "part-001"
    path.write_bytes(script)
    path.chmod(0o700)
    command = _command(path, script)
    python = command[0] == sys.executable or b"python" in script.split(b"\n", 1)[0]
    try:
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=_environment(sandbox_url, instance.id, workdir, python),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so terminating kills its children too
        )
    except OSError as exc:
        started.output.extend(f"cloud-init: failed to run user data: {exc}\n".encode())
        return started
    started.process, started.workdir = process, workdir
    threading.Thread(target=_pump, args=(started,), name=f"startup-{instance.id}", daemon=True).start()
    return started


def _kill(stopped: Node) -> None:
    process = stopped.process
    if process is not None and process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    with _lock:
        stopped.listeners.clear()
    if stopped.workdir:
        shutil.rmtree(stopped.workdir, ignore_errors=True)
        stopped.workdir = None


def kill(instance_ids: list[str]) -> None:
    for instance_id in instance_ids:
        found = node(instance_id)
        if found is not None:
            _kill(found)


def _reset() -> None:
    with _lock:
        nodes = list(_nodes.values())
        _nodes.clear()
    for each in nodes:
        _kill(each)


def _sandbox_url(response: Any) -> str:
    """The endpoint this request reached the sandbox at, which the instance's script then uses too."""
    parsed = response.parsed_url
    return f"{parsed.scheme or 'http'}://{parsed.netloc}"


def _run_instances(orig: Any, self: InstanceResponse) -> Any:
    result = orig(self)
    reservation = result.result if isinstance(result, ActionResult) else None
    if reservation is not None:
        url = _sandbox_url(self)
        for instance in reservation.instances:
            launch(instance, self.current_account, self.region, url)
    return result


def _terminate_instances(orig: Any, self: EC2Backend, instance_ids: list[str]) -> Any:
    result = orig(self, instance_ids)
    kill([instance.id for instance, _ in result])
    return result


def _get_console_output(self: General) -> ActionResult:
    instance = self.ec2_backend.get_instance(self._get_param("InstanceId"))
    result: dict[str, Any] = {"InstanceId": instance.id, "Timestamp": utcnow()}
    found = node(instance.id)
    output = found.console() if found else b""
    if output:
        result["Output"] = Base64EncodedString.from_encoded_bytes(base64.b64encode(output))
    return ActionResult(result)


def apply() -> None:
    wrap_method(InstanceResponse, "run_instances", _run_instances)
    wrap_method(EC2Backend, "terminate_instances", _terminate_instances)
    wrap_method(EC2Backend, "stop_instances", _terminate_instances)
    patch_attr(General, "get_console_output", _get_console_output)
    _moto_api.on_reset(_reset)
    # Scripts run in sessions of their own, so they would outlive the sandbox's process.
    atexit.register(_reset)
