"""The `cloudplane` command. Sub-groups are imported only when used, so `--help` stays fast."""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from typing import Any

import click

from cloudplane import __version__
from cloudplane.errors import CloudplaneError

_SUBCOMMANDS = {
    "cloud": ("cloudplane.cli.cloud", "cloud", "Set up, register, verify and manage clouds."),
    "cluster": ("cloudplane.cli.cluster", "cluster", "Launch, list and terminate clusters in your clouds."),
    "compute-config": (
        "cloudplane.cli.compute_config",
        "compute_config",
        "Check compute configs against a cloud.",
    ),
    "sandbox": ("cloudplane.cli.sandbox", "sandbox", "Run a local AWS for trying cloudplane offline."),
    "server": ("cloudplane.cli.server", "server", "Serve the control plane over HTTP for a team."),
    "token": ("cloudplane.cli.token", "token", "Create, list and revoke API tokens of the control plane."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _SUBCOMMANDS:
            return None
        module, attribute, _ = _SUBCOMMANDS[name]
        return getattr(importlib.import_module(module), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Describe sub-groups without importing them.
        with formatter.section("Commands"):
            formatter.write_dl(
                [(name, help_text) for name, (_, _, help_text) in sorted(_SUBCOMMANDS.items())]
            )


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cloudplane")
def cli() -> None:
    """Deploy, verify and manage Ray-ready clouds in your own AWS account."""


DEBUG_ENV = "CLOUDPLANE_DEBUG"


def main(argv: list[str] | None = None) -> Any:
    """Run the CLI. Whatever goes wrong reaches the user as one line and an exit code, never a traceback
    (unless CLOUDPLANE_DEBUG=1 asks for one)."""
    try:
        return cli.main(args=argv, prog_name="cloudplane", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CloudplaneError as exc:
        _fail(exc, str(exc), exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as exc:
        _fail(exc, _unexpected(exc), 1)


def _fail(exc: BaseException, line: str, code: int) -> None:
    if os.environ.get(DEBUG_ENV, "").strip() not in ("", "0"):
        traceback.print_exception(exc)
    click.echo(click.style("error: ", fg="red", bold=True) + line, err=True)
    sys.exit(code)


def _unexpected(exc: Exception) -> str:
    if type(exc).__module__.startswith("botocore"):
        # A botocore error that did not pass through the client facade: still one line.
        from cloudplane.aws.errors import from_botocore

        operation = getattr(exc, "operation_name", None) or "?"
        return str(from_botocore(exc, service="aws", operation=operation))
    first = (str(exc).strip().splitlines() or [""])[0]
    return (
        f"unexpected {type(exc).__name__}: {first} (this is a bug in cloudplane; run with "
        f"{DEBUG_ENV}=1 to see where it happened and report it)"
    )
