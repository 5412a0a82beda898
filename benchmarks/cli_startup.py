"""Start-up time of `cloudplane cloud --help` (and `cloudplane --version`), as a user's shell sees it."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 20
BIN = Path(sys.executable).parent / "cloudplane"


def measure(args: list[str]) -> list[float]:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([str(BIN), *args], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return times


def main() -> None:
    print(f"{'command':<28} {'min':>7} {'median':>7} {'max':>7}  ({RUNS} runs)")
    for args in (["cloud", "--help"], ["--version"], ["cloud", "setup", "--help"]):
        times = measure(args)
        label = "cloudplane " + " ".join(args)
        print(f"{label:<28} {min(times):>6.3f}s {statistics.median(times):>6.3f}s {max(times):>6.3f}s")


if __name__ == "__main__":
    main()
