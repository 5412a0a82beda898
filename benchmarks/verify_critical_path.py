"""The critical path of `cloud verify`: API calls, how many at once, the longest chain that waits, wall time.

The sandbox runs in a process of its own and answers every AWS call LATENCY_MS late, requests in flight
waiting side by side as on a network, so a verification lasts about (longest chain) x LATENCY_MS plus
cloudplane's own work. Four clouds: managed (made by `cloudplane cloud setup`, with and without MemoryDB)
and customer-defined, public and private (built with direct calls by tests/verify/builders.py, recorded
as `cloud register` leaves them).

Part one verifies each cloud in this process ROUNDS times, as `cloud verify` does (caller identity, then
the checks), with clients made beforehand, and records every call's start and end from botocore's events:
the calls, those repeated with the same parameters, the peak number in flight, the longest chain of calls
each starting after the previous one ended (the median round's, and the longest of all rounds), the wall
time, and the CPU time this process spent (building requests and reading answers, in every thread: calls
that are ready wait for it, so on a busy machine the chain grows). Part two times `cloudplane cloud verify --name ...` as a whole process, as a
shell sees it. Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _sandbox import aws_environment

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests.verify.builders and tests.verify.call_trace

LATENCY_MS = 50
ROUNDS = 5
PROCESS_RUNS = 5
REGION = "us-west-2"
# Every service a verification may call: clients are made before the timed part, as their making is
# cloudplane's start-up work, not the critical path.
SERVICES = (
    "sts",
    "ec2",
    "iam",
    "s3",
    "s3control",
    "efs",
    "memorydb",
    "cloudformation",
    "service-quotas",
    "kms",
)
# The sandbox enforces these network quotas; a benchmark's clouds share the region.
QUOTAS = (("vpc", "L-F678F1CE"), ("vpc", "L-A4707A72"), ("ec2", "L-0263D0A3"), ("vpc", "L-FE5A380F"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _SandboxProcess:
    """`cloudplane sandbox start` in a process of its own: its CPU is not this process's."""

    def __init__(self) -> None:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "cloudplane", "sandbox", "start", "--port", str(port)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(self.url + "/moto-api/cloudplane/latency", timeout=2).close()
                return
            except OSError:
                if self._process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


@contextlib.contextmanager
def _sandbox() -> Iterator[Any]:
    from cloudplane.sandbox.server import SandboxServer

    process = _SandboxProcess()
    try:
        yield SandboxServer(url=process.url, _server=process)
    finally:
        process.stop()


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("cloudplane")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cloudplane"]


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_cli(), *args], capture_output=True, text=True, stdin=subprocess.DEVNULL)


def _clouds(sandbox: Any) -> list[tuple[str, str]]:
    """(label, cloud name) of the four clouds, recorded in the control plane under CLOUDPLANE_HOME."""
    import boto3
    from botocore.config import Config

    from cloudplane.client import ControlPlaneClient
    from cloudplane.cloud import CUSTOMER_DEFINED
    from tests.verify.builders import build_cloud, record_in

    for service, code in QUOTAS:
        sandbox.set_quota(service, code, 10_000)
    clouds = []
    for label, name, flags in (
        ("managed", "bench-managed", ()),
        ("managed, MemoryDB", "bench-memorydb", ("--enable-head-node-fault-tolerance",)),
    ):
        done = _run_cli("cloud", "setup", "--name", name, "--region", REGION, "--yes", *flags)
        if done.returncode != 0:
            raise RuntimeError(f"cloud setup {name} failed: {done.stderr.strip()[-400:]}")
        clouds.append((label, name))
    session = boto3.session.Session()
    config = Config(retries={"max_attempts": 1})
    made: dict[str, Any] = {}

    def factory(service: str, region_name: str = REGION) -> Any:
        return made.setdefault(service, session.client(service, region_name=region_name, config=config))

    with ControlPlaneClient.from_env() as client:
        for label, name, private in (
            ("customer-defined, public", "bench-public", False),
            ("customer-defined, private", "bench-private", True),
        ):
            built = build_cloud(factory, deployment=CUSTOMER_DEFINED, private=private)
            record_in(client, built, name)
            clouds.append((label, name))
    return clouds


def _record(name: str) -> dict[str, Any]:
    from cloudplane.client import ControlPlaneClient

    with ControlPlaneClient.from_env() as client:
        return dict(client.find_cloud(name=name))


def _in_process(label: str, name: str) -> dict[str, Any]:
    """One verification ROUNDS times, as `cloud verify` makes it, each on fresh clients."""
    from cloudplane.cloud import CloudSpec
    from cloudplane.verify import verify_cloud
    from tests.verify.call_trace import CallTrace

    spec = CloudSpec.from_record(_record(name))
    rounds = []
    for _ in range(ROUNDS):
        trace = CallTrace(REGION)
        aws = trace.clients()
        for service in SERVICES:
            aws.client(service)
        start, cpu = time.perf_counter(), time.process_time()
        aws.caller_identity()
        report = verify_cloud(spec, aws)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        if not report.passed:
            raise RuntimeError(f"{label}: the verification did not pass")
        rounds.append(
            {
                "calls": len(trace.calls),
                "repeated": sum(n - 1 for n in trace.repeated().values()),
                "peak": trace.peak_in_flight(),
                "chain": trace.chain(),
                "wall": wall,
                "cpu": cpu,
            }
        )
    middle = sorted(rounds, key=lambda r: r["wall"])[len(rounds) // 2]
    return {
        "label": label,
        "checks": len(report.findings),
        "calls": middle["calls"],
        "repeated": middle["repeated"],
        "peak": middle["peak"],
        "chain": middle["chain"],
        "longest": max(len(r["chain"]) for r in rounds),
        "wall": middle["wall"],
        "cpu": middle["cpu"],
    }


def _whole_process(name: str) -> list[float]:
    times = []
    for _ in range(PROCESS_RUNS):
        start = time.perf_counter()
        done = _run_cli("cloud", "verify", "--name", name)
        times.append(time.perf_counter() - start)
        if done.returncode != 0:
            raise RuntimeError(f"cloud verify {name} failed: {done.stderr.strip()[-400:]}")
    return times


def main() -> None:
    with tempfile.TemporaryDirectory() as home, _sandbox() as sandbox:
        aws_environment(sandbox.url, home)
        clouds = _clouds(sandbox)
        for _, name in clouds:  # once without latency: the emulator's own first-time work
            _run_cli("cloud", "verify", "--name", name)
        sandbox.set_latency(LATENCY_MS)

        print(f"In process, every AWS answer {LATENCY_MS} ms late (median of {ROUNDS} rounds):")
        print(
            f"  {'cloud':<27} {'checks':>6} {'calls':>5} {'repeated':>8} {'peak':>4} {'chain':>5} "
            f"{'(max)':>5} {'wall':>7} {'chain x L':>9} {'CPU':>6}"
        )
        results = [_in_process(label, name) for label, name in clouds]
        for r in results:
            print(
                f"  {r['label']:<27} {r['checks']:>6} {r['calls']:>5} {r['repeated']:>8} {r['peak']:>4} "
                f"{len(r['chain']):>5} {r['longest']:>5} {r['wall']:>6.3f}s "
                f"{len(r['chain']) * LATENCY_MS / 1000:>8.2f}s {r['cpu']:>5.2f}s"
            )
        print("  longest chain of each cloud (a call starts after the one before it ended):")
        for r in results:
            print(f"    {r['label']}: " + " > ".join(c.name for c in r["chain"]))

        print()
        print(
            f"Whole process: `cloudplane cloud verify --name ...`, {LATENCY_MS} ms per AWS call ({PROCESS_RUNS} runs):"
        )
        print(f"  {'cloud':<27} {'min':>7} {'median':>7} {'max':>7}")
        for label, name in clouds:
            times = _whole_process(name)
            print(f"  {label:<27} {min(times):>6.2f}s {statistics.median(times):>6.2f}s {max(times):>6.2f}s")


if __name__ == "__main__":
    main()
