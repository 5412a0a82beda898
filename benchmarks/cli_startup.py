"""Start-up time of `cloudplane cloud --help` (and `cloudplane --version`), as a user's shell sees it,
and of `cloudplane cloud list`, which also starts the embedded control plane on its SQLite file."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 20
BIN = Path(sys.executable).parent / "cloudplane"


def measure(args: list[str], env: dict[str, str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([str(BIN), *args], check=True, stdout=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    print(f"{'command':<28} {'min':>7} {'median':>7} {'max':>7}  ({RUNS} runs)")
    home = tempfile.mkdtemp()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOUDPLANE_")} | {"CLOUDPLANE_HOME": home}
    for args in (["cloud", "--help"], ["--version"], ["cloud", "setup", "--help"], ["cloud", "list"]):
        times = measure(args, env)
        label = "cloudplane " + " ".join(args)
        print(f"{label:<28} {min(times):>6.3f}s {statistics.median(times):>6.3f}s {max(times):>6.3f}s")


if __name__ == "__main__":
    main()
