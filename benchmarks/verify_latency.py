"""`cloudplane cloud verify` as a user waits for it: the whole process, at 50 ms per AWS call.

A managed cloud with EFS and MemoryDB is set up in an in-process sandbox AWS; then the sandbox answers every
AWS call 50 ms late (`start_threaded` latency, requests in flight side by side as on a network) and
`cloudplane cloud verify` runs ROUNDS times as a process of its own, start-up included. Its AWS endpoint is a
relay in front of the sandbox that notes when the process's first connection arrives: the time from the
process's start to its first AWS call (target: within 0.3 s). The peer's figure (`anyscale cloud verify` of the
same kind of cloud, 50 ms per call, whole process) was measured the same way through a proxy adding 50 ms.

Then, from `python -X importtime`, the libraries verify loaded that it has no use for (the control plane's
database toolkit or web stack, boto3 over botocore): printed as lines starting with "!!".
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from _sandbox import cloudplane, sandbox
from cli_startup import heavy_imports, report_imports

LATENCY_MS = 50
ROUNDS = 5
BIN = Path(sys.executable).parent / "cloudplane"
FIRST_CALL_TARGET = 0.3
NOT_FOR_VERIFY = ("sqlalchemy", "alembic", "fastapi", "starlette", "pydantic", "httpx", "uvicorn", "boto3")


class FirstContact:
    """A TCP relay to `target_port` on 127.0.0.1 that notes when its first connection since `reset` came."""

    def __init__(self, target_port: int) -> None:
        self._target = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.first: float | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def reset(self) -> None:
        self.first = None

    def _accept(self) -> None:
        while True:
            incoming, _ = self._listener.accept()
            if self.first is None:
                self.first = time.perf_counter()
            outgoing = socket.create_connection(("127.0.0.1", self._target))
            for source, sink in ((incoming, outgoing), (outgoing, incoming)):
                threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    for end in (source, sink):
        with contextlib.suppress(OSError):
            end.shutdown(socket.SHUT_RDWR)


def main() -> None:
    with sandbox() as server:
        cloudplane(["cloud", "setup", "--name", "bench", "--enable-head-node-fault-tolerance", "--yes"])
        server.set_latency(LATENCY_MS)
        relay = FirstContact(int(server.url.rsplit(":", 1)[1]))
        env = dict(os.environ) | {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{relay.port}"}
        times, first_calls = [], []
        for _ in range(ROUNDS):
            relay.reset()
            start = time.perf_counter()
            done = subprocess.run(
                [str(BIN), "cloud", "verify", "--name", "bench", "--output", "json"],
                capture_output=True,
                text=True,
                env=env,
            )
            times.append(time.perf_counter() - start)
            if done.returncode != 0:
                sys.exit(
                    f"cloudplane cloud verify failed ({done.returncode}):\n{done.stderr}{done.stdout[-2000:]}"
                )
            first_calls.append((relay.first or start) - start)
        found = heavy_imports(["cloud", "verify", "--name", "bench", "--output", "json"], env, NOT_FOR_VERIFY)
    print(
        f"{'command':<48} {'min':>7} {'median':>7} {'max':>7}  ({ROUNDS} runs, {LATENCY_MS} ms per AWS call)"
    )
    label = "cloudplane cloud verify (EFS, MemoryDB)"
    print(f"{label:<48} {min(times):>6.2f}s {statistics.median(times):>6.2f}s {max(times):>6.2f}s")
    label = "  its first AWS call, after the process started"
    print(
        f"{label:<48} {min(first_calls):>6.2f}s {statistics.median(first_calls):>6.2f}s "
        f"{max(first_calls):>6.2f}s  (target {FIRST_CALL_TARGET} s)"
    )
    print()
    report_imports("cloudplane cloud verify", found, NOT_FOR_VERIFY)


if __name__ == "__main__":
    main()
