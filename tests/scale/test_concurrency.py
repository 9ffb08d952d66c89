"""Several processes writing one registry at once lose nothing and duplicate nothing.

The races are made to happen, not hoped for: the processes start each step together (a
shared barrier) and, where the window between reading and writing is short, the child
process widens it (a pause inside the library call, patched in the child only). Each
test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.api.helpers import news_event
from tests.scale.articles import ARTICLES, write_jsonl
from tests.scale.processes import barrier, run_processes

from listwatch.registry.db import Registry, RegistryError
from listwatch.registry.domain import EventKind, ReviewState
from listwatch.registry.models import Document, Event, Evidence, Import, Review

pytestmark = pytest.mark.slow


def sdn_csv(path: Path, numbers: range) -> Path:
    """A small OFAC SDN legacy CSV (no header, CRLF, ``-0-`` nulls) with these entries."""
    rows = [
        f'{n},"ZORVANT {n} TRADING LLC",-0- ,"SDGT",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- '
        for n in numbers
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(rows) + "\r\n").encode("ascii"))
    return path


def _import(worker: int, url: str, path: str, published: str, gate: Any) -> dict[str, Any]:
    from listwatch.sources import import_file
    from listwatch.sources.engine import ImportOptions

    registry = Registry(url)
    gate.wait(timeout=60)
    try:
        result = import_file(
            registry, "ofac-sdn", path, ImportOptions(published=dt.date.fromisoformat(published))
        )
    except RegistryError as exc:  # a clear refusal is a valid outcome; a crash is not
        return {"refused": str(exc)}
    finally:
        registry.dispose()
    return {"unchanged": result.unchanged, "events": result.events}


def import_events(url: str) -> Counter[tuple[str, str]]:
    registry = Registry(url)
    with registry.transaction() as session:
        rows = session.execute(
            select(Event.entity_id, Event.kind).where(Event.origin == "import")
        ).all()
    registry.dispose()
    return Counter((entity, kind) for entity, kind in rows)


def test_two_processes_import_the_same_snapshot(registry_url: str, tmp_path: Path) -> None:
    snapshot = sdn_csv(tmp_path / "sdn.csv", range(1, 301))
    outcomes = run_processes(_import, [(registry_url, str(snapshot), "2024-05-01", barrier(2))] * 2)
    assert [o.error for o in outcomes] == [None, None], [o.trace for o in outcomes]
    values = [o.value for o in outcomes]
    assert sorted(v.get("unchanged") for v in values) == [False, True], values
    events = import_events(registry_url)
    assert len(events) == 300 and set(events.values()) == {1}  # one listing each, none twice
    registry = Registry(registry_url)
    with registry.transaction() as session:
        assert session.scalar(select(func.count(Import.id))) == 1
    registry.dispose()


def test_two_snapshots_of_one_source_at_once(registry_url: str, tmp_path: Path) -> None:
    first = sdn_csv(tmp_path / "0" / "sdn.csv", range(1, 301))
    registry = Registry(registry_url)
    from listwatch.sources import import_file
    from listwatch.sources.engine import ImportOptions

    import_file(registry, "ofac-sdn", first, ImportOptions(published=dt.date(2024, 5, 1)))
    registry.dispose()
    removal = sdn_csv(tmp_path / "1" / "sdn.csv", range(5, 301))  # 1-4 removed
    addition = sdn_csv(tmp_path / "2" / "sdn.csv", range(5, 306))  # then 301-305 added
    gate = barrier(2)
    outcomes = run_processes(
        _import,
        [
            (registry_url, str(removal), "2024-05-02", gate),
            (registry_url, str(addition), "2024-05-03", gate),
        ],
    )
    assert [o.error for o in outcomes] == [None, None], [o.trace for o in outcomes]
    refused = [o.value["refused"] for o in outcomes if "refused" in o.value]
    # Whichever order they ran in, the result is that of importing them one after the other;
    # the older snapshot is refused if the newer one went first.
    assert all("older than the latest imported snapshot" in r for r in refused), refused
    events = import_events(registry_url)
    removed = [
        entity for (entity, kind), n in events.items() if kind == "removed" for _ in range(n)
    ]
    designated = [
        entity for (entity, kind), n in events.items() if kind == "designated" for _ in range(n)
    ]
    assert len(removed) == 4 and len(set(removed)) == 4, events
    assert len(designated) == 5 and len(set(designated)) == 5, events


def _review(worker: int, url: str, event_ids: list[int], gate: Any, pause: float) -> list[str]:
    import listwatch.news.review as review_module

    original = review_module.review_event

    def slow_review(*args: Any, **kwargs: Any) -> Any:
        time.sleep(pause)  # between reading the event's state and writing the decision
        return original(*args, **kwargs)

    review_module.review_event = slow_review  # type: ignore[assignment]
    registry = Registry(url)
    outcomes = []
    for event_id in event_ids:
        gate.wait(timeout=60)
        try:
            with registry.transaction() as session:
                review_module.decide(
                    session, event_id, ReviewState.ACCEPTED, None, f"reviewer-{worker}"
                )
            outcomes.append("accepted")
        except RegistryError as exc:
            outcomes.append(f"refused: {exc}")
    registry.dispose()
    return outcomes


def test_reviewers_accepting_the_same_events(registry_url: str) -> None:
    registry = Registry(registry_url)
    event_ids = [
        news_event(
            registry,
            "xiaomi",
            EventKind.DESIGNATED,
            f"2021-01-{day:02d}",
            f"Report {day}: the Pentagon added Xiaomi to its list.",
            title=f"Report {day}",
        )
        for day in range(1, 9)
    ]
    registry.dispose()
    gate = barrier(3)
    outcomes = run_processes(_review, [(registry_url, event_ids, gate, 0.2)] * 3)
    assert [o.error for o in outcomes] == [None, None, None], [o.trace for o in outcomes]
    for position, event_id in enumerate(event_ids):
        results = [o.value[position] for o in outcomes]
        assert results.count("accepted") == 1, (event_id, results)
        assert all("already accepted" in r for r in results if r != "accepted"), results
    registry = Registry(registry_url)
    with registry.transaction() as session:
        counts = Counter(
            session.scalars(select(Review.event_id).where(Review.event_id.in_(event_ids)))
        )
    registry.dispose()
    assert counts == dict.fromkeys(event_ids, 1)


def _ingest(worker: int, url: str, corpus: str, gate: Any) -> dict[str, Any]:
    import threading

    import listwatch.news.ingest as ingest_module
    from listwatch.news.documents import read_paths
    from listwatch.news.pipeline import NewsPipeline

    original = ingest_module.store_result
    first = threading.Event()

    def aligned_store(*args: Any, **kwargs: Any) -> Any:
        if not first.is_set():
            first.set()
            # Both processes start storing together; with the writers serialised the
            # second cannot arrive, and the first goes on after the timeout.
            with contextlib.suppress(Exception):
                gate.wait(timeout=3)
        return original(*args, **kwargs)

    ingest_module.store_result = aligned_store  # type: ignore[assignment]
    registry = Registry(url)
    documents = read_paths([corpus])
    with registry.transaction() as session:
        report = ingest_module.ingest(session, documents, NewsPipeline.from_session(session))
    registry.dispose()
    return report.to_json()


def test_two_processes_ingest_overlapping_news(registry_url: str, tmp_path: Path) -> None:
    listing_a, court, listing_b = ARTICLES[0], ARTICLES[1], ARTICLES[4]
    corpus_a = write_jsonl(tmp_path / "a.jsonl", [listing_a, court])
    corpus_b = write_jsonl(tmp_path / "b.jsonl", [listing_b, court])
    gate = barrier(2)
    outcomes = run_processes(
        _ingest, [(registry_url, str(corpus_a), gate), (registry_url, str(corpus_b), gate)]
    )
    assert [o.error for o in outcomes] == [None, None], [o.trace for o in outcomes]
    assert sorted(o.value["duplicates"] for o in outcomes) == [0, 1]  # the shared article
    registry = Registry(registry_url)
    with registry.transaction() as session:
        titles = session.scalars(
            select(Document.title).where(Document.title.like("%Xiaomi%"), Document.kind == "news")
        ).all()
        listings = session.scalars(
            select(Event).where(
                Event.origin == "news",
                Event.entity_id == "xiaomi",
                Event.kind == "designated",
            )
        ).all()
        assert len(listings) == 1  # two reports of one listing: one event, two sources
        sources = session.scalars(
            select(Evidence.document_id).where(Evidence.event_id == listings[0].id)
        ).all()
        assert len(set(sources)) == 2
    registry.dispose()
    assert Counter(titles)["Court suspends Xiaomi listing"] == 1
