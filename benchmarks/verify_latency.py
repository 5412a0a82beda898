"""`cloudplane cloud verify` as a user waits for it: the whole process, at 50 ms per AWS call.

A managed cloud with EFS and MemoryDB is set up in an in-process sandbox AWS; then the sandbox answers every
AWS call 50 ms late (`start_threaded` latency, requests in flight side by side as on a network) and
`cloudplane cloud verify` runs ROUNDS times as a process of its own, start-up included. The peer's figure
(`anyscale cloud verify` of the same kind of cloud, 50 ms per call, whole process) was measured the same way
through a proxy adding 50 ms.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from _sandbox import cloudplane, sandbox

LATENCY_MS = 50
ROUNDS = 5
BIN = Path(sys.executable).parent / "cloudplane"


def main() -> None:
    with sandbox() as server:
        cloudplane(["cloud", "setup", "--name", "bench", "--enable-head-node-fault-tolerance", "--yes"])
        server.set_latency(LATENCY_MS)
        times = []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            done = subprocess.run(
                [str(BIN), "cloud", "verify", "--name", "bench", "--output", "json"],
                capture_output=True,
                text=True,
            )
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(
                    f"cloudplane cloud verify failed ({done.returncode}):\n{done.stderr}{done.stdout[-2000:]}"
                )
    print(
        f"{'command':<48} {'min':>7} {'median':>7} {'max':>7}  ({ROUNDS} runs, {LATENCY_MS} ms per AWS call)"
    )
    label = "cloudplane cloud verify (EFS, MemoryDB)"
    print(f"{label:<48} {min(times):>6.2f}s {statistics.median(times):>6.2f}s {max(times):>6.2f}s")


if __name__ == "__main__":
    main()
