"""`cloudplane sandbox ...`: a local AWS (the emulator plus cloudplane's fidelity extensions)."""

from __future__ import annotations

import click

_RATE = click.FloatRange(0, 1)


def _percent(rate: float) -> str:
    return f"{round(rate * 100, 2):g}%"


@click.group()
def sandbox() -> None:
    """Run a local AWS for trying cloudplane without an AWS account."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=5055, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on."
)
@click.option(
    "--throttle-rate",
    default=0.0,
    type=_RATE,
    help="Share of AWS API requests answered with a throttling error.",
)
@click.option(
    "--error-rate", default=0.0, type=_RATE, help="Share of AWS API requests answered with HTTP 500/503."
)
@click.option("--seed", type=int, default=None, help="Seed that makes the injected faults reproducible.")
@click.option(
    "--latency-ms",
    default=0.0,
    type=click.FloatRange(0, 60_000),
    metavar="MS",
    help="Delay every AWS API answer by MS milliseconds, as a network would (requests still run side by side).",
)
def start(
    host: str, port: int, throttle_rate: float, error_rate: float, seed: int | None, latency_ms: float
) -> None:
    """Serve the sandbox in the foreground until Ctrl-C."""
    if throttle_rate + error_rate > 1:
        raise click.UsageError(
            f"--throttle-rate plus --error-rate is {throttle_rate + error_rate:g}; it must be at most 1."
        )
    try:
        from cloudplane.sandbox.server import serve_forever
    except ImportError as exc:  # moto is an optional extra
        raise click.ClickException(
            f"the sandbox needs the extra: pip install 'cloudplane[sandbox]' ({exc})"
        ) from exc
    url = f"http://{host}:{port}"
    click.echo(f"Sandbox AWS on {url}. In another shell:", err=True)
    click.echo(
        f"  export AWS_ENDPOINT_URL={url} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing", err=True
    )
    if throttle_rate or error_rate:
        seeded = f", seed {seed}" if seed is not None else ""
        click.echo(
            f"Request faults on: {_percent(throttle_rate)} throttled, "
            f"{_percent(error_rate)} HTTP 5xx{seeded} "
            "(until POST /moto-api/reset or DELETE /moto-api/cloudplane/faults).",
            err=True,
        )
    if latency_ms:
        click.echo(
            f"Latency on: every AWS API answer {latency_ms:g} ms later "
            "(until POST /moto-api/reset or DELETE /moto-api/cloudplane/latency).",
            err=True,
        )
    serve_forever(
        host, port, throttle_rate=throttle_rate, error_rate=error_rate, seed=seed, latency_ms=latency_ms
    )
