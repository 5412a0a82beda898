"""Start-up of the CLI as a user's shell sees it, and what each everyday command loads before its work.

Wall time (20 runs: min, median, max) of `cloudplane cloud --help`, `--version`, `cloud setup --help`, and of
the commands that read the embedded control plane's SQLite file: `cloud list`, `cloud get`, `cloud set-default`
(target: under a fifth of the peer's `anyscale cloud --help`, about 0.25 s here). Then, from
`python -X importtime`, the libraries each of them loaded that it has no use for: a database toolkit, a web
framework, an HTTP client or the AWS SDK. Any of those is printed as a line starting with "!!" with its import
time: a figure to act on, not a failed test.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 20
BIN = Path(sys.executable).parent / "cloudplane"
TARGET_SECONDS = 0.25
# Top-level packages the reading commands must not load (the embedded path is the standard library's sqlite3).
HEAVY = ("sqlalchemy", "alembic", "fastapi", "starlette", "pydantic", "httpx", "uvicorn", "boto3", "botocore")
_IMPORT_LINE = re.compile(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)")


def measure(args: list[str], env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([str(BIN), *args], check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return times


def heavy_imports(args: list[str], env: dict[str, str], heavy: tuple[str, ...] = HEAVY) -> dict[str, float]:
    """The heavy top-level packages `cloudplane ARGS` imported, each with its cumulative import time in s."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cloudplane", *args],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        if match is None:
            continue
        cumulative, indent, module = match.groups()
        package = module.split(".")[0]
        if package in heavy:
            # A package's own line comes after its submodules' and holds their time: keep the largest.
            found[package] = max(found.get(package, 0.0), int(cumulative) / 1e6)
    return found


def report_imports(label: str, found: dict[str, float], heavy: tuple[str, ...] = HEAVY) -> None:
    if not found:
        print(f"{label:<34} loads none of: {', '.join(heavy)}")
        return
    for package, seconds in sorted(found.items(), key=lambda item: -item[1]):
        print(f"!! {label} loads {package} ({seconds:.3f} s of imports): it has no use for it")


def one_cloud(env: dict[str, str]) -> None:
    """A cloud in the fresh CLOUDPLANE_HOME, as `cloud setup` would record it (no AWS needed to read it)."""
    code = (
        "from cloudplane.client import ControlPlaneClient\n"
        "with ControlPlaneClient.from_env() as client:\n"
        "    client.create_cloud('bench', 'aws', 'us-west-2', 'managed', 'public')\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def main() -> None:
    home = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDPLANE_")} | {"CLOUDPLANE_HOME": home}
    one_cloud(env)
    reading = (["cloud", "list"], ["cloud", "get", "--name", "bench"], ["cloud", "set-default", "bench"])
    print(f"{'command':<34} {'min':>7} {'median':>7} {'max':>7}  ({RUNS} runs)")
    for args in (["cloud", "--help"], ["--version"], ["cloud", "setup", "--help"], *reading):
        times = measure(args, env)
        label = "cloudplane " + " ".join(args)
        print(f"{label:<34} {min(times):>6.3f}s {statistics.median(times):>6.3f}s {max(times):>6.3f}s")
    print(f"(target for the reading commands: under {TARGET_SECONDS:.2f} s)")
    print()
    for args in reading:
        report_imports("cloudplane " + " ".join(args), heavy_imports(args, env))


if __name__ == "__main__":
    main()
