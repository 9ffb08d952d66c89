"""Fixtures of the news tests: a registry with the curated dataset and the test entities."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

DATA = Path(__file__).with_name("data")


def add_test_entities(session: Any) -> None:
    """Entities the test articles are about, beyond the curated dataset."""
    from listwatch.registry.entities import find_entities
    from listwatch.registry.models import Entity
    from listwatch.registry.store import add_name

    records = yaml.safe_load((DATA / "entities.yaml").read_text("utf-8"))
    for record in records:
        if session.get(Entity, record["id"]) is not None:
            continue
        if any(find_entities(session, n) for n in [record["name"], *record.get("aliases", [])]):
            continue  # the bundled dataset already knows it
        entity = Entity(
            id=record["id"],
            schema=record.get("schema", "Company"),
            name=record["name"],
            country=record.get("country"),
            origin="manual",
            review_state="accepted",
        )
        session.add(entity)
        add_name(session, entity, record["name"], kind="primary")
        for alias in record.get("aliases", []):
            add_name(session, entity, alias, kind="alias")
    session.flush()


@pytest.fixture
def news_registry(sqlite_url: str) -> Iterator[Any]:
    """A SQLite registry with the curated dataset and the news test entities."""
    from listwatch.registry.db import Registry

    registry = Registry(sqlite_url)
    with registry.transaction() as session:
        add_test_entities(session)
    yield registry
    registry.dispose()


@pytest.fixture
def pipeline(news_registry: Any) -> Any:
    """An extraction pipeline over the test registry."""
    from listwatch.news.pipeline import NewsPipeline

    with news_registry.transaction() as session:
        return NewsPipeline.from_session(session)
