"""Runs every benchmark, shows its output as it comes, and writes them all to benchmarks/RESULTS.md, with the
figures the peer (anyscale CLI 0.26.112) has beside ours. Benchmarks print figures; nothing here judges them.

    .venv/bin/python benchmarks/results.py        (what benchmarks/run does)
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"
# A virtualenv with the peer (pip install anyscale==0.26.112): its start-up is then measured in the same run.
PEER_VENV_ENV = "CLOUDPLANE_PEER_VENV"
DEFAULT_PEER_VENV = "/tmp/peer-venv"
PEER_RUNS = 5


@dataclass(frozen=True)
class Benchmark:
    script: str
    title: str


BENCHMARKS = (
    Benchmark("cli_startup.py", "CLI start-up"),
    Benchmark("verify_cost.py", "cloud verify: checks, AWS API calls and wall time (no latency)"),
    Benchmark("verify_latency.py", "cloud verify as a whole process at 50 ms per AWS call"),
    Benchmark("verify_critical_path.py", "cloud verify: peak in flight and longest chain of AWS calls"),
    Benchmark("stack_polling.py", "cloud setup and delete: stack polls at 50 ms per AWS call"),
    Benchmark("controlplane_throughput.py", "Control-plane server: throughput and latency, 10,000 clouds"),
)


@dataclass(frozen=True)
class Comparison:
    """One of our figures, read from a benchmark's output, beside the peer's."""

    what: str
    script: str
    row: str  # the output line that starts with this holds the figure
    column: int  # which whitespace-separated field from the end (-2: the median of "min median max")
    peer: str


COMPARISONS = (
    Comparison(
        "`cloud --help` start-up, median of 20 (peer: `anyscale cloud --help`)",
        "cli_startup.py",
        "cloudplane cloud --help",
        -2,
        "about 1.25 s",
    ),
    Comparison(
        "`cloud list`, `get`, `set-default` on the embedded control plane, median of 20",
        "cli_startup.py",
        "cloudplane cloud list",
        -2,
        "target: under a fifth of `anyscale cloud --help`, 0.25 s",
    ),
    Comparison(
        "`cloud verify`: its first AWS call after the process started, median",
        "verify_latency.py",
        "  its first AWS call",
        -5,
        "target: within 0.3 s",
    ),
    Comparison(
        "`cloud verify` of a managed cloud with MemoryDB, whole process, 50 ms per AWS call, median",
        "verify_latency.py",
        "cloudplane cloud verify",
        -2,
        "5.4 s",
    ),
)


def run(benchmark: Benchmark) -> tuple[int, str]:
    """Run one benchmark with this Python, echoing its output; its exit code and what it printed."""
    print(f"== {benchmark.title} ({benchmark.script})", flush=True)
    process = subprocess.Popen(
        [sys.executable, str(HERE / benchmark.script)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=HERE.parent,
    )
    assert process.stdout is not None
    lines = []
    for line in process.stdout:
        print(line, end="", flush=True)
        lines.append(line)
    code = process.wait()
    print(flush=True)
    return code, "".join(lines)


def peer_startup() -> str | None:
    """Median wall time of the peer's `anyscale cloud --help`, when its virtualenv is there."""
    binary = Path(os.environ.get(PEER_VENV_ENV) or DEFAULT_PEER_VENV) / "bin" / "anyscale"
    if not binary.exists():
        return None
    times = []
    for _ in range(PEER_RUNS):
        start = time.perf_counter()
        subprocess.run([str(binary), "cloud", "--help"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    median = f"{statistics.median(times):.3f}s"
    print(f"== peer: anyscale cloud --help, median of {PEER_RUNS}: {median}\n", flush=True)
    return median


def figure(comparison: Comparison, outputs: dict[str, str]) -> str:
    for line in outputs.get(comparison.script, "").splitlines():
        if line.startswith(comparison.row):
            fields = line.split()
            return fields[comparison.column] if len(fields) >= -comparison.column else "?"
    return "not measured"


def render(outputs: dict[str, str], failures: dict[str, int], peer_help: str | None, load: str) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, load average {load} at the start"
    parts = [
        "# Benchmark results",
        "",
        f"Written by `benchmarks/run` on {when} ({machine}); do not edit by hand, run it again.",
        "`benchmarks/README.md` says what each benchmark measures. Figures from one run on a shared machine:",
        "compare them within a run rather than across runs.",
        "",
        "## Beside the peer (anyscale CLI 0.26.112)",
        "",
        "| figure | cloudplane | peer |",
        "|---|---|---|",
        *(f"| {c.what} | {figure(c, outputs)} | {_peer(c, peer_help)} |" for c in COMPARISONS),
    ]
    for benchmark in BENCHMARKS:
        parts += ["", f"## {benchmark.title}", "", f"`benchmarks/{benchmark.script}`", ""]
        if benchmark.script in failures:
            parts += [f"**Failed** (exit {failures[benchmark.script]}); its output up to there:", ""]
        text = re.sub(r"\n{3,}", "\n\n", outputs.get(benchmark.script, "").rstrip())
        parts += ["```", text, "```"]
    return "\n".join(parts) + "\n"


def _peer(comparison: Comparison, peer_help: str | None) -> str:
    if comparison.peer.startswith("target"):
        return comparison.peer
    if comparison.row == "cloudplane cloud --help" and peer_help is not None:
        return f"{peer_help} (measured in this run; {comparison.peer} on a quiet machine)"
    return f"{comparison.peer} (measured earlier, same setup)"


def main() -> int:
    outputs: dict[str, str] = {}
    failures: dict[str, int] = {}
    load = " / ".join(f"{value:.1f}" for value in os.getloadavg())
    peer_help = peer_startup()
    for benchmark in BENCHMARKS:
        code, output = run(benchmark)
        outputs[benchmark.script] = output
        if code != 0:
            failures[benchmark.script] = code
    RESULTS.write_text(render(outputs, failures, peer_help, load))
    print(f"Figures written to {RESULTS.relative_to(HERE.parent)}")
    if failures:
        print(f"Failed: {', '.join(sorted(failures))}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
