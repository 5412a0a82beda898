"""AWS API calls and wall time of `cloud verify` on a managed cloud, with and without MemoryDB.

Runs against an in-process sandbox AWS, so the figures measure cloudplane's own work (calls made,
batching, concurrency), not AWS latency. Each verification runs ROUNDS times on fresh clients.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import time

from _sandbox import aws_environment

ROUNDS = 5


def main() -> None:
    from cloudplane.sandbox.server import start_threaded

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per sandbox request is noise

    server = start_threaded()
    with tempfile.TemporaryDirectory() as home:
        aws_environment(server.url, home)
        from cloudplane.aws.session import AwsClients
        from cloudplane.client import ControlPlaneClient
        from cloudplane.cloud import CloudSpec
        from cloudplane.clouds.setup import SetupRequest, setup_managed_cloud
        from cloudplane.console import Console
        from cloudplane.verify import verify_cloud

        print(
            f"{'cloud':<22} {'checks':>6} {'API calls':>9} {'median':>8} {'min':>8}  (wall time, {ROUNDS} rounds)"
        )
        with ControlPlaneClient.from_env() as client:
            for label, memorydb in (("managed, EFS", False), ("managed, EFS, MemoryDB", True)):
                request = SetupRequest(f"bench-{int(memorydb)}", "us-west-2", "nfs", memorydb)
                record, _ = setup_managed_cloud(
                    request,
                    client=client,
                    console=Console(quiet=True),
                    verify=lambda cloud: verify_cloud(CloudSpec.from_record(cloud), AwsClients("us-west-2")),
                )
                spec = CloudSpec.from_record(record)
                times, calls, checks = [], 0, 0
                per_api: dict[str, int] = {}
                for _ in range(ROUNDS):
                    aws = AwsClients(spec.region)
                    aws.client("sts")  # client creation is not part of the verification
                    start = time.perf_counter()
                    report = verify_cloud(spec, aws)
                    times.append(time.perf_counter() - start)
                    calls, checks, per_api = aws.call_count, len(report.findings), aws.calls()
                    assert report.passed, [f.to_dict() for f in report.findings if f.fails(False)]
                print(
                    f"{label:<22} {checks:>6} {calls:>9} {statistics.median(times):>7.3f}s {min(times):>7.3f}s"
                )
                print("    " + ", ".join(f"{api}={n}" for api, n in sorted(per_api.items())))
    server.stop()


if __name__ == "__main__":
    main()
