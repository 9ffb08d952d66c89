"""Entry point of the ``listwatch`` command."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from listwatch.cli.common import state

app = typer.Typer(
    name="listwatch",
    help="Who is on which government restriction list, since when, why, what it obliges "
    "you to do, and what the news says about it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each area registers its commands on ``app`` when its module is imported.
COMMAND_MODULES = (
    "listwatch.cli.registry",
    "listwatch.cli.server",
    "listwatch.cli.screening",
    "listwatch.cli.news",
    "listwatch.cli.sources",
    "listwatch.cli.scale",
)


@app.callback()
def main(
    db: Annotated[
        str | None,
        typer.Option(
            "--db",
            help="Database URL or SQLite file (default: $LISTWATCH_DB, else the user data dir).",
        ),
    ] = None,
) -> None:
    """listwatch: restriction lists, their history and consequences, with evidence."""
    state.db = db


for _module in COMMAND_MODULES:
    importlib.import_module(_module).register(app)


def run() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    run()
