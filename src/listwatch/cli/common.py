"""What every command shares: the registry handle, date options, errors and JSON output."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

if TYPE_CHECKING:
    from listwatch.registry.db import Registry

console = Console()
err_console = Console(stderr=True)


class CliState:
    """Options given before the command (``listwatch --db URL status ...``)."""

    db: str | None = None


state = CliState()

EXIT_USAGE = 2


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print one clear error line and exit."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def open_registry() -> Registry:
    """The registry named by ``--db`` / ``$LISTWATCH_DB`` (migrated and loaded on first use)."""
    from listwatch.registry.db import Registry

    return Registry(state.db)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn the library's user-facing errors into one line and exit code 2."""
    from listwatch.registry.curated import CuratedError
    from listwatch.registry.db import RegistryError
    from listwatch.registry.domain import DateError

    try:
        yield
    except (RegistryError, DateError, CuratedError) as exc:
        fail(str(exc))


def parse_date(value: str | None, option: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` option value, or a clear error naming the option."""
    if value is None:
        return None
    from listwatch.registry.domain import DateError, parse_day

    try:
        return parse_day(value)
    except DateError as exc:
        fail(f"{option}: {exc}")


def today() -> dt.date:
    """Today's date (UTC)."""
    return dt.datetime.now(dt.UTC).date()


def emit_json(payload: Any) -> None:
    """Write a JSON document to stdout."""
    sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2, default=str) + "\n")
