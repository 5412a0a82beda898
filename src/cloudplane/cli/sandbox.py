"""`cloudplane sandbox ...`: a local AWS (the emulator plus cloudplane's fidelity extensions)."""

from __future__ import annotations

import click


@click.group()
def sandbox() -> None:
    """Run a local AWS for trying cloudplane without an AWS account."""


@sandbox.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=5055, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on."
)
def start(host: str, port: int) -> None:
    """Serve the sandbox in the foreground until Ctrl-C."""
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
    serve_forever(host, port)
