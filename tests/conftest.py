"""Shared fixtures: fresh registries on SQLite and on a throwaway PostgreSQL cluster,
and the real data files in ../shared (skipped cleanly when absent)."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresCluster, PostgresUnavailable

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LISTWATCH_SHARED", REPO.parent / "shared"))
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the user's real data directory or database from a test."""
    monkeypatch.setenv("LISTWATCH_HOME", str(tmp_path_factory.mktemp("home")))
    monkeypatch.delenv("LISTWATCH_DB", raising=False)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: real list files and labelled sets (skip when absent)."""
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip(f"shared data not found at {path}: tests on real files are skipped")
    return path


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """``../shared/seeds``: the four real articles (skip when absent)."""
    path = SHARED / "seeds"
    if not path.is_dir():
        pytest.skip(f"seed articles not found at {path}")
    return path


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    """A private PostgreSQL server for the whole run."""
    try:
        cluster = PostgresCluster()
    except PostgresUnavailable as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite registry with the curated dataset, copied for each test."""
    from listwatch.registry.db import Registry

    path = tmp_path_factory.mktemp("template") / "template.db"
    registry = Registry(str(path))
    registry.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_cluster: PostgresCluster) -> str:
    """A migrated PostgreSQL registry with the curated dataset, used as a database template."""
    from listwatch.registry.db import Registry

    url = pg_cluster.create_database("lw_template")
    registry = Registry(url)
    registry.dispose()
    return "lw_template"


def fresh_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a new registry database with the curated dataset loaded."""
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "registry.db"
        shutil.copy(template, target)
        return str(target)
    cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
    template_name: str = request.getfixturevalue("pg_template")
    return cluster.create_database(f"lw_test_{os.getpid()}_{next(_counter)}", template_name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh registry database on each backend."""
    return fresh_url(request.param, request, tmp_path)


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh registry database on SQLite only (for tests that are not about storage)."""
    return fresh_url("sqlite", request, tmp_path)


@pytest.fixture
def registry(registry_url: str) -> Iterator[object]:
    """A :class:`listwatch.registry.db.Registry` on a fresh database, on both backends."""
    from listwatch.registry.db import Registry

    handle = Registry(registry_url)
    yield handle
    handle.dispose()
