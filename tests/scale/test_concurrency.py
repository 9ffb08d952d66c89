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


def _alerts_worker(worker: int, url: str, events: int, done_marker: str) -> int:
    """Worker 0 records official events; the others run dispatch + delivery rounds."""
    from tests.api.helpers import official_event

    from listwatch.alerts.delivery import DeliveryPolicy
    from listwatch.alerts.worker import run_round
    from listwatch.registry.models import OutboxItem

    registry = Registry(url)
    marker = Path(done_marker)
    try:
        if worker == 0:
            for number in range(events):
                official_event(
                    registry, "xiaomi", EventKind.AMENDED, f"2025-02-{number % 28 + 1:02d}"
                )
                time.sleep(0.02)
            marker.write_text("done", encoding="utf-8")
            return events
        policy = DeliveryPolicy(retry_base=0.05, retry_max=0.2, max_attempts=20, timeout=5)
        rounds = 0
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            run_round(registry, policy)
            rounds += 1
            if marker.exists():
                with registry.transaction() as session:
                    pending = session.scalar(
                        select(func.count(OutboxItem.id)).where(OutboxItem.delivered_at.is_(None))
                    )
                if pending == 0:
                    run_round(registry, policy)  # events the last round may not have seen yet
                    with registry.transaction() as session:
                        pending = session.scalar(
                            select(func.count(OutboxItem.id)).where(
                                OutboxItem.delivered_at.is_(None)
                            )
                        )
                    if pending == 0:
                        return rounds
            time.sleep(0.01)
        raise AssertionError("deliveries did not finish in 90 s")
    finally:
        registry.dispose()


def test_two_alert_workers_while_events_arrive(registry_url: str, tmp_path: Path) -> None:
    from tests.alerts.receiver import Receiver

    from listwatch.alerts import create_watch
    from listwatch.alerts.delivery import IDEMPOTENCY_HEADER
    from listwatch.registry.models import Alert, OutboxItem

    receiver = Receiver(failures=3).start()  # a few failures, so retries race too
    try:
        registry = Registry(registry_url)
        with registry.transaction() as session:
            entity_watch = create_watch(session, "entity", "xiaomi", webhook_url=receiver.url).id
            list_watch = create_watch(session, "list", "us-dod-cmc", webhook_url=receiver.url).id
        registry.dispose()
        events = 25
        marker = str(tmp_path / "writer-done")
        outcomes = run_processes(_alerts_worker, [(registry_url, events, marker)] * 3)
        assert [o.error for o in outcomes] == [None, None, None], [o.trace for o in outcomes]
        registry = Registry(registry_url)
        with registry.transaction() as session:
            alerts = session.execute(select(Alert.watch_id, Alert.event_id)).all()
            keys = session.scalars(select(OutboxItem.idempotency_key)).all()
            undelivered = session.scalar(
                select(func.count(OutboxItem.id)).where(OutboxItem.delivered_at.is_(None))
            )
        registry.dispose()
        # Every event alerted each watch once; every alert delivered, none sent twice
        # except a retry after a failure, which carries the same idempotency key.
        assert Counter(w for w, _ in alerts) == {entity_watch: events, list_watch: events}
        assert len(set(alerts)) == len(alerts) and undelivered == 0
        delivered = [r.headers[IDEMPOTENCY_HEADER] for r in receiver.requests if r.status == 204]
        assert sorted(delivered) == sorted(keys) and len(set(keys)) == 2 * events
        failed = [r.headers[IDEMPOTENCY_HEADER] for r in receiver.requests if r.status == 500]
        assert len(failed) == 3 and set(failed) <= set(keys)
    finally:
        receiver.stop()


@pytest.mark.postgres
def test_several_servers_on_one_database(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Two `listwatch serve --workers 2` processes, one PostgreSQL database, reviewers
    racing over HTTP: every event gets one decision, every other attempt a 409."""
    import os
    import re
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from tests.api.helpers import token
    from tests.conftest import fresh_url

    url = fresh_url("postgresql", request, tmp_path)
    registry = Registry(url)
    events = [
        news_event(
            registry,
            "dji",
            EventKind.REMOVED,
            f"2022-{month:02d}",
            f"Report {month}: DJI was taken off the list.",
            title=f"DJI report {month}",
        )
        for month in range(1, 13)
    ]
    secret = token(registry, "review")
    registry.dispose()
    servers, addresses = [], []
    try:
        for number in range(2):
            log = tmp_path / f"server-{number}.log"
            with log.open("w") as output:
                servers.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "listwatch.cli.main", "--db", url, "serve",
                         "--port", "0", "--workers", "2", "--no-alerts"],
                        stdout=output, stderr=subprocess.STDOUT,
                        env={**os.environ, "LISTWATCH_HOME": str(tmp_path / f"home-{number}")},
                    )
                )  # fmt: skip
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                found = re.search(r"serving on (http://127\.0\.0\.1:\d+)", log.read_text())
                if found:
                    addresses.append(found.group(1))
                    break
                assert servers[-1].poll() is None, log.read_text()
                time.sleep(0.1)
        for address in addresses:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{address}/api/v1/health", timeout=5).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.2)

        def decide(attempt: int) -> tuple[int, int]:
            event = events[attempt % len(events)]
            response = httpx.post(
                f"{addresses[attempt % 2]}/api/v1/events/{event}/review",
                json={"decision": "accept"},
                headers={"Authorization": f"Bearer {secret}"},
                timeout=60,
            )
            return event, response.status_code

        with ThreadPoolExecutor(max_workers=12) as pool:
            results = list(pool.map(decide, range(len(events) * 6)))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    by_event: dict[int, Counter[int]] = {}
    for event, status in results:
        by_event.setdefault(event, Counter())[status] += 1
    assert all(counts == {201: 1, 409: 5} for counts in by_event.values()), by_event
    registry = Registry(url)
    with registry.transaction() as session:
        decided = Counter(
            session.scalars(select(Review.event_id).where(Review.event_id.in_(events)))
        )
    registry.dispose()
    assert decided == dict.fromkeys(events, 1)
