"""`cloudplane token ...`: API tokens of the control plane, through the same client as every command.

With CLOUDPLANE_URL they go to the server (an admin token is needed); without it they work on the
database directly, which is how the first admin token of a new server is minted."""

from __future__ import annotations

from typing import Any

import click

from cloudplane.cli.cloud import OUTPUT

ORG = click.option(
    "--org",
    default=None,
    metavar="ORG",
    help="Organisation [default: the token's own; 'local' on the database directly].",
)


@click.group()
def token() -> None:
    """Create, list and revoke API tokens of the control plane."""


def _open() -> Any:
    from cloudplane.client import ControlPlaneClient

    client = ControlPlaneClient.from_env()
    if client.mode == "embedded":
        click.echo(f"No CLOUDPLANE_URL: working on the database {client.where} directly.", err=True)
    return client


@token.command()
@ORG
@click.option(
    "--name", default=None, metavar="NAME", help="A name to list and revoke it by [default: generated]."
)
@click.option("--admin", is_flag=True, help="The token may create tokens and set the default cloud.")
@OUTPUT
def create(org: str | None, name: str | None, admin: bool, output: str) -> int:
    """Make a token and print it, this once: only its hash is kept."""
    from cloudplane.console import Console

    with _open() as client:
        record = client.create_token(org=org, name=name, admin=admin)
    console = Console()
    if output == "json":
        console.json(record)
        return 0
    kind = "admin token" if record["admin"] else "token"
    click.echo(
        f"Created {kind} {record['name']!r} of organisation {record['org']!r}; it is shown only now "
        "(use it as CLOUDPLANE_TOKEN):",
        err=True,
    )
    click.echo(record["token"])
    return 0


@token.command(name="list")
@ORG
@OUTPUT
def list_tokens(org: str | None, output: str) -> int:
    """List tokens (never their secrets)."""
    from cloudplane.console import Console

    with _open() as client:
        tokens = client.list_tokens(org=org)
    console = Console()
    if output == "json":
        console.json({"tokens": tokens})
        return 0
    if not tokens:
        console.result("No tokens yet. Make one with `cloudplane token create --org ORG --admin`.")
        return 0
    columns = ("ORG", "NAME", "ADMIN", "CREATED", "LAST USED", "REVOKED")
    rows = [
        (
            t["org"],
            t["name"],
            "yes" if t["admin"] else "",
            t["created_at"],
            t["last_used_at"] or "",
            t["revoked_at"] or "",
        )
        for t in tokens
    ]
    console.table(columns, rows)
    return 0


@token.command()
@click.argument("name")
@ORG
@OUTPUT
def revoke(name: str, org: str | None, output: str) -> int:
    """Revoke the live token called NAME: it is refused from now on."""
    from cloudplane.console import Console

    with _open() as client:
        record = client.revoke_token(name, org=org)
    console = Console()
    if output == "json":
        console.json(record)
    else:
        console.result(f"Revoked token {record['name']!r} of organisation {record['org']!r}.")
    return 0
