"""Fixtures for the official-list tests: registries that live for a whole module (the big
files are imported once per module, not per test) and the list files in ../shared."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

FIXTURES = Path(__file__).with_name("fixtures")
_counter = itertools.count()


@pytest.fixture(scope="session")
def lists_dir(shared_data: Path) -> Path:
    """``../shared/data/lists``."""
    return shared_data / "lists"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """Hand-written files in the official formats (tests/sources/fixtures)."""
    return FIXTURES


@pytest.fixture(scope="module")
def new_registry(
    sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], Any]]:
    """Make fresh SQLite registries (curated dataset loaded) that last for the module."""
    from listwatch.registry.db import Registry

    made: list[Registry] = []

    def make() -> Registry:
        target = tmp_path_factory.mktemp("sources") / f"registry{next(_counter)}.db"
        shutil.copy(sqlite_template, target)
        registry = Registry(str(target))
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.dispose()


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def backend_registry(
    request: pytest.FixtureRequest, sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    """A registry for a whole module, on SQLite and on PostgreSQL."""
    from listwatch.registry.db import Registry

    if request.param == "sqlite":
        target = tmp_path_factory.mktemp("backend") / "registry.db"
        shutil.copy(sqlite_template, target)
        url = str(target)
    else:
        cluster = request.getfixturevalue("pg_cluster")
        template = request.getfixturevalue("pg_template")
        url = cluster.create_database(f"lw_src_{os.getpid()}_{next(_counter)}", template)
    registry = Registry(url)
    yield registry
    registry.dispose()


def table_counts(registry: Any) -> dict[str, int]:
    """Row counts of every table an import writes (to prove a failed import wrote nothing)."""
    from listwatch.registry.models import (
        Document,
        Entity,
        EntityMerge,
        EntityName,
        Event,
        Evidence,
        Identifier,
        Import,
        Relation,
        SourceRecord,
    )

    models = (
        Document,
        Entity,
        EntityMerge,
        EntityName,
        Event,
        Evidence,
        Identifier,
        Import,
        Relation,
        SourceRecord,
    )
    with registry.transaction() as session:
        return {
            m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
            for m in models
        }


def run_cli(db: str, *args: str) -> tuple[int, str, str]:
    """Run the listwatch CLI against a database; returns (exit code, stdout, stderr)."""
    from typer.testing import CliRunner

    from listwatch.cli.main import app

    result = CliRunner().invoke(app, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr
