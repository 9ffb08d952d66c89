"""The server under concurrent readers and writers: PostgreSQL against SQLite, same load, same run.

    python -m benchmarks.bench_pg_load [--duration S] [--readers R] [--writers W] [--workers N]

For each backend, a registry with the curated dataset and the sample OFAC SDN list
(../shared/data; the curated dataset alone when absent) and 3,000 news events awaiting
review is served by ``listwatch serve --workers N`` on 127.0.0.1 (alert dispatch on, as
in production). For S seconds (default 30), R reader tasks (default 16) and W writer
tasks (default 4) keep one request each in flight:

- readers: an entity, its status on a date, a name screened, the latest events, the
  review queue, a page of a list's members;
- writers: review decisions on random proposed events (two writers may pick the same
  event: one wins, the other gets 409), and watches created then removed.

Throughput and latency per kind of request, errors (5xx, timeouts) and refusals (409),
then a consistency check of the database: one decision per event at most, and as many
decisions and watches stored as were acknowledged. The client runs on the same machine
as the server and takes CPU from it. Figures go to the "pg-load" section of
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import SHARED, ServerProcess, percentile, wait_ready, write_section

REVIEW_EVENTS = 3000
HEADER = (
    "| backend | reads/s | read p50 ms | read p99 ms | writes/s | write p50 ms | write p99 ms "
    "| errors | after the run |\n|---|---|---|---|---|---|---|---|---|"
)


@dataclass
class Tally:
    """What one backend's run measured."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    failures: Counter[str] = field(default_factory=Counter)
    decisions: Counter[int] = field(default_factory=Counter)  # events: decisions acknowledged
    watches_created: int = 0
    watches_removed: int = 0
    seconds: float = 0.0

    def record(self, kind: str, seconds: float, status: int) -> None:
        self.latencies[kind].append(seconds)
        self.statuses[kind][status] += 1


def prepare(url: str) -> dict[str, Any]:
    """Load the registry, add events awaiting review, make tokens; what the load needs."""
    from sqlalchemy import select

    from listwatch.api.tokens import create_token
    from listwatch.registry.db import Registry
    from listwatch.registry.domain import EventKind, Origin, PartialDate
    from listwatch.registry.models import Entity, EntityName
    from listwatch.registry.store import EvidenceSpan, NewEvent, add_event, get_or_create_document
    from listwatch.screening.index import open_index
    from listwatch.sources.engine import ImportOptions
    from listwatch.sources.importer import import_file

    registry = Registry(url)
    sdn = SHARED / "data" / "lists" / "ofac_sdn" / "2021-07-07" / "sdn.csv"
    loaded = "curated dataset"
    if sdn.exists():
        import_file(registry, "ofac-sdn", sdn, ImportOptions(published=dt.date(2021, 7, 7)))
        loaded += " + OFAC SDN (2021-07-07)"
    rng = random.Random(5)
    with registry.transaction() as session:
        entities = sorted(session.scalars(select(Entity.id)))
        names = sorted(set(session.scalars(select(EntityName.name).limit(20000))))
        document, _ = get_or_create_document(
            session, sha256="bench-pg-load", kind="news", title="Load test article"
        )
        events = []
        for number in range(REVIEW_EVENTS):
            event = add_event(
                session,
                NewEvent(
                    entity_id=rng.choice(entities),
                    kind=EventKind.DESIGNATED,
                    origin=Origin.NEWS,
                    list_id="us-ofac-sdn" if sdn.exists() else "us-dod-cmc",
                    valid=PartialDate(2021, 1 + number % 12),
                    summary=f"report {number}",
                    evidence=[EvidenceSpan(document.id, text=f"report {number}")],
                ),
            )
            events.append(event.id)
        _row, review_token = create_token(session, "bench-review", ["review"])
        _row, watch_token = create_token(session, "bench-watch", ["watch"])
    open_index(registry)
    registry.dispose()
    return {
        "entities": entities,
        "names": names,
        "events": events,
        "review": review_token,
        "watch": watch_token,
        "loaded": loaded,
    }


async def run_load(
    url: str, data: dict[str, Any], readers: int, writers: int, duration: float
) -> Tally:
    """R readers and W writers against the server for ``duration`` seconds."""
    import httpx

    tally = Tally()
    rng = random.Random(17)
    entities, names, events = data["entities"], data["names"], data["events"]
    review = {"Authorization": f"Bearer {data['review']}"}
    watch = {"Authorization": f"Bearer {data['watch']}"}
    total = readers + writers
    limits = httpx.Limits(max_connections=total, max_keepalive_connections=total)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        deadline = time.perf_counter() + duration

        async def call(kind: str, method: str, path: str, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                response = await client.request(method, path, **kwargs)
            except httpx.HTTPError as exc:
                tally.failures[f"{kind}: {type(exc).__name__}"] += 1
                tally.record(kind, time.perf_counter() - started, 0)
                return None
            tally.record(kind, time.perf_counter() - started, response.status_code)
            if response.status_code >= 500:
                tally.failures[f"{kind}: HTTP {response.status_code}"] += 1
            return response

        async def reader() -> None:
            while time.perf_counter() < deadline:
                entity = rng.choice(entities)
                choice = rng.randrange(6)
                if choice == 0:
                    await call("read: entity", "GET", f"/api/v1/entities/{entity}")
                elif choice == 1:
                    day = f"{rng.randint(2019, 2025)}-0{rng.randint(1, 9)}-15"
                    await call("read: status", "GET", f"/api/v1/entities/{entity}/status",
                               params={"as_of": day})  # fmt: skip
                elif choice == 2:
                    await call("read: screen", "GET", "/api/v1/screen",
                               params={"q": rng.choice(names)})  # fmt: skip
                elif choice == 3:
                    await call("read: events", "GET", "/api/v1/events", params={"limit": 20})
                elif choice == 4:
                    await call("read: review queue", "GET", "/api/v1/review/queue",
                               params={"limit": 20})  # fmt: skip
                else:
                    await call("read: list members", "GET", "/api/v1/lists/us-dod-cmc/members",
                               params={"limit": 50, "offset": rng.randrange(0, 50)})  # fmt: skip

        async def writer() -> None:
            while time.perf_counter() < deadline:
                if rng.random() < 0.7:
                    event = rng.choice(events)
                    body = (
                        {"decision": "accept"}
                        if rng.random() < 0.7
                        else {"decision": "reject", "reason": "not what the article says"}
                    )
                    response = await call(
                        "write: review", "POST", f"/api/v1/events/{event}/review",
                        json=body, headers=review,
                    )  # fmt: skip
                    if response is not None and response.status_code == 201:
                        tally.decisions[event] += 1
                else:
                    response = await call(
                        "write: watch", "POST", "/api/v1/watches",
                        json={"target_kind": "entity", "target": rng.choice(entities)},
                        headers=watch,
                    )  # fmt: skip
                    if response is None or response.status_code != 201:
                        continue
                    tally.watches_created += 1
                    if rng.random() < 0.5:
                        removed = await call(
                            "write: unwatch", "DELETE",
                            f"/api/v1/watches/{response.json()['id']}", headers=watch,
                        )  # fmt: skip
                        if removed is not None and removed.status_code < 300:
                            tally.watches_removed += 1

        started = time.perf_counter()
        await asyncio.gather(
            *(reader() for _ in range(readers)), *(writer() for _ in range(writers))
        )
        tally.seconds = time.perf_counter() - started
    return tally


def check(url: str, data: dict[str, Any], tally: Tally) -> list[str]:
    """What the database says against what the server acknowledged."""
    from sqlalchemy import func, select

    from listwatch.registry.db import Registry
    from listwatch.registry.models import Review, Watch

    registry = Registry(url)
    problems = []
    with registry.transaction() as session:
        rows = session.execute(
            select(Review.event_id, Review.state)
            .where(Review.event_id.in_(data["events"]))
            .order_by(Review.event_id, Review.id)
        ).all()
        active = session.scalar(select(func.count(Watch.id)).where(Watch.active.is_(True))) or 0
    registry.dispose()
    # A reviewer may overturn a decision (accept, then reject); the same decision twice in
    # a row is what a race between two reviewers would leave.
    repeated = sum(1 for a, b in itertools.pairwise(rows) if a == b)
    if repeated:
        problems.append(f"{repeated} decisions stored twice")
    stored = Counter(event for event, _state in rows)
    if stored != tally.decisions:
        problems.append(
            f"{sum(stored.values())} decisions stored, {sum(tally.decisions.values())} acknowledged"
        )
    if active != tally.watches_created - tally.watches_removed:
        problems.append(
            f"{active} active watches, {tally.watches_created - tally.watches_removed} expected"
        )
    return problems


def measure(
    url: str, label: str, args: argparse.Namespace, scratch: Path
) -> tuple[Tally, list[str], str]:
    """Prepare, serve, load and check one backend."""
    data = prepare(url)
    server = ServerProcess(url, args.workers, scratch / f"{label}.log")
    try:
        asyncio.run(wait_ready(server.url))
        print(f"{label}: loading for {args.duration:.0f} s", flush=True)
        tally = asyncio.run(run_load(server.url, data, args.readers, args.writers, args.duration))
    finally:
        server.stop()
    problems = check(url, data, tally)
    count = sum(len(v) for v in tally.latencies.values())
    print(f"{label}: {count} requests; failures {dict(tally.failures)}; problems {problems}")
    return tally, problems, data["loaded"]


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}" if values else "–"


def table(results: dict[str, Tally]) -> str:
    """Per kind of request and backend: rate, latency, refusals and errors."""
    lines = [
        "| request | backend | req/s | p50 ms | p99 ms | 409 | errors |",
        "|---|---|---|---|---|---|---|",
    ]
    kinds = sorted({kind for tally in results.values() for kind in tally.latencies})
    for kind in kinds:
        for backend, tally in results.items():
            values = tally.latencies.get(kind, [])
            failures = sum(n for k, n in tally.failures.items() if k.startswith(f"{kind}:"))
            lines.append(
                f"| {kind} | {backend} | {len(values) / tally.seconds:.1f} | {_ms(values, 50)} "
                f"| {_ms(values, 99)} | {tally.statuses[kind].get(409, 0)} | {failures} |"
            )
    return "\n".join(lines)


def totals(tally: Tally, prefix: str) -> tuple[float, list[float]]:
    values = [v for kind, vs in tally.latencies.items() if kind.startswith(prefix) for v in vs]
    return len(values) / tally.seconds, values


def main(argv: list[str]) -> None:
    """Run the load on both backends and write the section."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_pg_load")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--readers", type=int, default=16)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    from tests.support.postgres import PostgresCluster

    results: dict[str, Tally] = {}
    problems: dict[str, list[str]] = {}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="listwatch-bench-pg-") as scratch:
        os.environ["LISTWATCH_HOME"] = str(Path(scratch) / "home")
        cluster = PostgresCluster().start()
        try:
            for backend, url in (
                ("PostgreSQL", cluster.create_database("bench_load")),
                ("SQLite", str(Path(scratch) / "registry.db")),
            ):
                tally, found, loaded = measure(url, backend, args, Path(scratch))
                results[backend], problems[backend] = tally, found
        finally:
            cluster.stop()

    load_after = os.getloadavg()[0]
    summary = []
    for backend, tally in results.items():
        read_rate, reads = totals(tally, "read")
        write_rate, writes = totals(tally, "write")
        summary.append(
            f"| {backend} | {read_rate:.1f} | {_ms(reads, 50)} | {_ms(reads, 99)} | "
            f"{write_rate:.1f} | {_ms(writes, 50)} | {_ms(writes, 99)} | "
            f"{sum(tally.failures.values())} | {'; '.join(problems[backend]) or 'consistent'} |"
        )
    pg_reads = totals(results["PostgreSQL"], "read")[0]
    lite_reads = totals(results["SQLite"], "read")[0]
    pg_writes = totals(results["PostgreSQL"], "write")[0]
    lite_writes = totals(results["SQLite"], "write")[0]
    body = f"""## PostgreSQL under load

`listwatch serve --workers {args.workers}` on 127.0.0.1, alert dispatch on, registry with
the {loaded} and {REVIEW_EVENTS:,} news events awaiting review; {args.readers} readers and
{args.writers} writers each keep one request in flight for {args.duration:.0f} s. The same
load runs against PostgreSQL (a local cluster with the test suite's settings:
`fsync=off`, `synchronous_commit=off`) and against SQLite (WAL), in the same run. The load
generator shares the machine's cores with the server (1-minute load average
{load_before:.1f} before the run, {load_after:.1f} after: other work on the machine slows
both backends alike).

{HEADER}
{chr(10).join(summary)}

PostgreSQL against SQLite: reads {pg_reads / lite_reads:.2f}×, writes {
        pg_writes / lite_writes:.2f}×.
"After the run" checks the database against what the server acknowledged: every
acknowledged decision and watch stored, and no decision stored twice (two writers often
pick the same event at once: one gets 201, the other 409; a later opposite decision
overturns the first and is stored as a second one).

{table(results)}

Reproduce: `python -m benchmarks.bench_pg_load` (`--duration`, `--readers`, `--writers`,
`--workers`).
"""
    write_section("pg-load", body)


if __name__ == "__main__":
    main(sys.argv[1:])
