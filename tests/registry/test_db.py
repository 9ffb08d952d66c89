"""Opening registries: URL resolution, migrations, first-use set-up and concurrent first use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from listwatch.registry.db import MIGRATIONS_DIR, SCHEMA_REVISION, Registry, resolve_url
from listwatch.registry.models import Event, RestrictionList
from tests.support.postgres import PostgresCluster


def test_schema_revision_constant_is_the_alembic_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION


def test_url_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_url("postgresql://u@h/db").startswith("postgresql+psycopg://u@h/db")
    monkeypatch.setenv("LISTWATCH_DB", str(tmp_path / "env.db"))
    assert resolve_url(None).endswith("env.db")
    monkeypatch.delenv("LISTWATCH_DB")
    monkeypatch.setenv("LISTWATCH_HOME", str(tmp_path / "home"))
    assert resolve_url(None) == f"sqlite:///{tmp_path / 'home' / 'listwatch.db'}"


def test_first_use_creates_schema_and_loads_curated_once(tmp_path: Path) -> None:
    path = tmp_path / "fresh.db"
    registry = Registry(str(path))
    with registry.transaction() as session:
        events = session.scalar(select(func.count(Event.id)))
        assert events and events > 0
        assert session.get(RestrictionList, "us-dod-cmc") is not None
    registry.dispose()
    again = Registry(str(path))
    with again.transaction() as session:
        assert session.scalar(select(func.count(Event.id))) == events
    again.dispose()


_OPEN = "import sys; from listwatch.registry.db import Registry; Registry(sys.argv[1]).dispose()"


def _open_concurrently(url: str, processes: int = 4) -> None:
    running = [
        subprocess.Popen([sys.executable, "-c", _OPEN, url], stderr=subprocess.PIPE, text=True)
        for _ in range(processes)
    ]
    for process in running:
        _, err = process.communicate(timeout=120)
        assert process.returncode == 0, err


def _count_events(url: str) -> int:
    registry = Registry(url)
    with registry.transaction() as session:
        count = session.scalar(select(func.count(Event.id))) or 0
    registry.dispose()
    return count


def test_concurrent_first_use_on_sqlite(tmp_path: Path, sqlite_template: Path) -> None:
    url = str(tmp_path / "race.db")
    _open_concurrently(url)
    template = Registry(str(sqlite_template))
    with template.transaction() as session:
        expected = session.scalar(select(func.count(Event.id)))
    template.dispose()
    assert _count_events(url) == expected


@pytest.mark.postgres
def test_concurrent_first_use_on_postgresql(pg_cluster: PostgresCluster, pg_template: str) -> None:
    url = pg_cluster.create_database("lw_race")
    _open_concurrently(url)
    expected = _count_events(pg_cluster.url(pg_template))
    assert _count_events(url) == expected


def test_a_database_at_the_first_revision_is_upgraded(tmp_path: Path) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from listwatch.registry.db import make_engine, resolve_url

    url = resolve_url(str(tmp_path / "old.db"))
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    engine.dispose()
    registry = Registry(url)
    indexes = {i["name"] for i in inspect(registry.engine).get_indexes("entity_merges")}
    assert {"ix_entity_merges_source", "ix_entity_merges_target"} <= indexes
    registry.dispose()
