"""What the benchmarks that need AWS share: an in-process sandbox AWS and the environment pointing at it."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
from collections.abc import Iterator
from typing import Any

REGION = "us-west-2"


def aws_environment(url: str, home: str) -> dict[str, str]:
    """The environment of a user of the sandbox at `url` with CLOUDPLANE_HOME `home` (also set in os.environ)."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_MAX_ATTEMPTS": "1",
            "CLOUDPLANE_HOME": home,
        }
    )
    for key in ("CLOUDPLANE_URL", "CLOUDPLANE_DATABASE_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
        os.environ.pop(key, None)
    return dict(os.environ)


@contextlib.contextmanager
def sandbox() -> Iterator[Any]:
    """A sandbox AWS in this process (no latency yet: the emulator warms up first) and a private
    CLOUDPLANE_HOME, with the environment set for both."""
    from cloudplane.sandbox.server import start_threaded

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per sandbox request is noise
    server = start_threaded()
    try:
        with tempfile.TemporaryDirectory() as home:
            aws_environment(server.url, home)
            import boto3

            boto3.client("ec2", region_name=REGION, endpoint_url=server.url).describe_vpcs()
            yield server
    finally:
        server.stop()


def cloudplane(args: list[str]) -> None:
    """Run the CLI in this process, as the console script would, quietly; exit with its output if it fails."""
    from cloudplane import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(args)
        except SystemExit as exc:
            code = exc.code
    if code not in (0, None):
        sys.exit(f"cloudplane {' '.join(args)} failed ({code}):\n{err.getvalue()}{out.getvalue()}")
