"""The `cloudplane` command. Sub-groups are imported only when used, so `--help` stays fast."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from cloudplane import __version__
from cloudplane.errors import CloudplaneError

_SUBCOMMANDS = {
    "cloud": ("cloudplane.cli.cloud", "cloud", "Set up, register, verify and manage clouds."),
    "sandbox": ("cloudplane.cli.sandbox", "sandbox", "Run a local AWS for trying cloudplane offline."),
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


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="cloudplane", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except CloudplaneError as exc:
        click.echo(click.style("error: ", fg="red", bold=True) + str(exc), err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
