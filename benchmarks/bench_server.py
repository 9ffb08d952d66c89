"""Server speed: screening requests over HTTP at 1, 8 and 32 concurrent clients.

    python -m benchmarks.bench_server [--duration S] [--workers N] [--queries Q]

A real ``listwatch serve`` process on 127.0.0.1 (SQLite, the sample official lists of
../shared/data loaded through listwatch's own loaders, as in the screening benchmark)
answers ``GET /api/v1/screen`` for a mix of queries: names as listed, names as an analyst
types them (typos, other legal forms, reordered words) and companies on no list. A bounded
asyncio httpx client keeps C requests in flight for S seconds; throughput, p50/p99 latency
and the server's CPU time per request, for queries never asked before of that server
(distinct) and for a small set asked again and again (repeated). In the same run, two
baselines:

- the same queries through the library in process (the screening service the server uses,
  no HTTP): what the HTTP layer costs;
- ``GET /api/v1/health`` at the same concurrency: the cost of the HTTP stack itself.

The client runs on the same 2-core machine as the server and takes CPU from it. Figures go
to the "server" section of docs/benchmarks.md.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import (
    HttpConnection,
    ServerProcess,
    percentile,
    wait_ready,
    write_section,
)

CONCURRENCY = (1, 8, 32)


def build_registry(directory: Path) -> tuple[str, list[str]]:
    """A SQLite registry with the curated dataset and the sample official lists."""
    from benchmarks.bench_screening import load_sample_lists
    from listwatch.registry.db import Registry

    db = str(directory / "registry.db")
    from listwatch.screening.index import open_index

    registry = Registry(db)
    loaded = load_sample_lists(registry)
    open_index(registry)  # built once here, as `listwatch serve` does before its workers
    registry.dispose()
    return db, loaded


def make_queries(db: str, count: int, seed: int = 11) -> list[str]:
    """A third names as listed, a third as typed by an analyst, a third on no list."""
    from sqlalchemy import select

    from benchmarks.bench_screening import perturb, unrelated
    from listwatch.registry.db import Registry
    from listwatch.registry.models import Entity

    rng = random.Random(seed)
    registry = Registry(db)
    with registry.transaction() as session:
        names = sorted(session.scalars(select(Entity.name)))
    registry.dispose()
    listed = rng.sample(names, min(len(names), count // 3))
    typed = [perturb(n, rng) for n in rng.sample(names, min(len(names), count // 3))]
    queries = listed + typed + unrelated(count - len(listed) - len(typed), rng)
    rng.shuffle(queries)
    return list(dict.fromkeys(queries))  # each once: a repeated one would be remembered


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it (the server's workers)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue += children.get(current, [])
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by a process and its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for process in _descendants(pid):
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def wait_idle(pid: int, timeout: float = 600.0) -> float:
    """Wait until the server has finished its start-up work; returns the seconds waited."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < timeout and quiet < 3:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        quiet = quiet + 1 if cpu_seconds(pid) - before < 0.05 else 0
    return time.monotonic() - started


def load_average() -> float:
    """The 1-minute load average (other work on the machine skews every figure)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


async def load(
    url: str, next_path: Callable[[], str], concurrency: int, duration: float
) -> tuple[list[float], int, float, float]:
    """Keep ``concurrency`` requests in flight for ``duration`` s, one keep-alive connection
    each: latencies, errors, seconds, and the client's own CPU ms per request."""
    latencies: list[float] = []
    errors = 0
    kinds: dict[str, int] = {}
    deadline = time.perf_counter() + duration

    async def worker() -> None:
        nonlocal errors
        connection = HttpConnection.to(url)
        while time.perf_counter() < deadline:
            path = next_path()
            start = time.perf_counter()
            try:
                status, _body = await connection.get(path)
                problem = None if status == 200 else f"HTTP {status}"
            except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                problem = type(exc).__name__
                await connection.close()
            latencies.append(time.perf_counter() - start)
            if problem:
                errors += 1
                kinds[problem] = kinds.get(problem, 0) + 1
        await connection.close()

    cpu = time.process_time()
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    client_ms = (time.process_time() - cpu) * 1000 / max(1, len(latencies))
    if kinds:
        print(f"  errors: {kinds}", flush=True)
    return latencies, errors, elapsed, client_ms


def screen_paths(queries: list[str]) -> list[str]:
    """The GET requests of the queries."""
    from urllib.parse import urlencode

    return [f"/api/v1/screen?{urlencode({'q': q})}" for q in queries]


def in_process(db: str, queries: list[str], duration: float) -> tuple[list[float], float]:
    """Queries through the screening service the server uses, each once, without HTTP."""
    from listwatch.api.search import ScreeningService
    from listwatch.registry.db import Registry
    from listwatch.screening.screen import Query

    registry = Registry(db)
    service = ScreeningService(registry, refresh_seconds=3600)
    day = dt.datetime.now(dt.UTC).date()
    service.wait_described()  # what the server does in the background after start-up
    latencies = []
    deadline = time.perf_counter() + duration
    cpu = time.process_time()
    for query in queries:  # each once: distinct, as the server's distinct requests
        if time.perf_counter() > deadline:
            break
        start = time.perf_counter()
        hits = service.screen(Query(name=query), day)
        [h.to_dict() for h in hits]
        latencies.append(time.perf_counter() - start)
    cpu_ms = (time.process_time() - cpu) * 1000 / len(latencies)
    registry.dispose()
    return latencies, cpu_ms


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument(
        "--workers",
        default="1,2",
        help="server worker processes, one run per comma-separated value",
    )
    parser.add_argument("--queries", type=int, default=100_000, help="distinct queries")
    parser.add_argument("--repeated", type=int, default=300, help="queries asked again and again")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="listwatch-bench-server-") as tmp:
        os.environ["LISTWATCH_HOME"] = tmp
        print("loading the sample lists ...", flush=True)
        started = time.perf_counter()
        db, loaded = build_registry(Path(tmp))
        print(f"  {', '.join(loaded) or 'curated only'} in {time.perf_counter() - started:.0f} s")
        queries = make_queries(db, args.queries)
        repeated = screen_paths(queries[: args.repeated])
        distinct = screen_paths(queries[args.repeated : -args.repeated * 10])
        fresh = iter(distinct)
        cycle = itertools.cycle(repeated)

        # Distinct queries for the in-process baseline too, kept apart from those sent over HTTP.
        baseline, base_cpu = in_process(db, queries[-args.repeated * 10 :], args.duration)
        print(f"in process: {len(baseline) / sum(baseline):.0f} q/s, p50 {_ms(baseline, 50)} ms")

        def next_fresh() -> str:
            path = next(fresh, None)
            if path is None:
                raise SystemExit("ran out of distinct queries: raise --queries")
            return path

        rows = []
        cold_lat: list[float] = []
        cold_secs = 1.0
        for workers in [int(w) for w in str(args.workers).split(",")]:
            server = ServerProcess(
                db,
                workers,
                Path(db).with_suffix(".server.log"),
                {"LISTWATCH_DELIVER_ALERTS": "false"},
            )
            fresh = iter(distinct)  # a new server process has been asked nothing yet
            try:
                asyncio.run(wait_ready(server.url, 60.0))
                # The repeated queries once, while the server still loads and describes.
                first, cold_err, seconds = asyncio.run(_one_pass(server.url, repeated, 8))
                if not cold_lat:
                    cold_lat, cold_secs = first, seconds
                waited = wait_idle(server.process.pid)
                print(
                    f"{workers} worker(s): first pass (cold), 8 clients: "
                    f"{len(first) / seconds:.0f} req/s, p99 {_ms(first, 99)} ms, "
                    f"{cold_err} errors; idle {waited:.0f} s later",
                    flush=True,
                )
                kinds: list[tuple[str, Callable[[], str]]] = [
                    ("distinct", next_fresh),
                    ("repeated", lambda: next(cycle)),
                    ("health", lambda: "/api/v1/health"),
                ]
                for concurrency in CONCURRENCY:
                    for kind, next_path in kinds:
                        before, load_before = cpu_seconds(server.process.pid), load_average()
                        latencies, errors, secs, client_ms = asyncio.run(
                            load(server.url, next_path, concurrency, args.duration)
                        )
                        used = cpu_seconds(server.process.pid) - before
                        cpu_ms = used * 1000 / max(1, len(latencies))
                        rate = len(latencies) / secs
                        machine_load = max(load_before, load_average())
                        rows.append(
                            (
                                workers,
                                kind,
                                concurrency,
                                rate,
                                latencies,
                                errors,
                                cpu_ms,
                                client_ms,
                                machine_load,
                            )
                        )
                        p50, p99 = _ms(latencies, 50), _ms(latencies, 99)
                        print(
                            f"w{workers} {kind:>8} x{concurrency:<3} {rate:7.0f} req/s"
                            f"  p50 {p50} ms  p99 {p99} ms  errors {errors}"
                            f"  server CPU {cpu_ms:.2f} ms/req  client CPU {client_ms:.2f} ms/req"
                            f"  load {machine_load:.1f}",
                            flush=True,
                        )
            finally:
                server.stop()
    write_section(
        "server", report(args, loaded, len(queries), rows, baseline, base_cpu, cold_lat, cold_secs)
    )


def report(
    args: argparse.Namespace,
    loaded: list[str],
    queries: int,
    rows: list[tuple[Any, ...]],
    baseline: list[float],
    base_cpu: float,
    cold: list[float],
    cold_seconds: float,
) -> str:
    """The markdown of the "server" section."""
    base_rate = len(baseline) / sum(baseline)
    labels = {
        "distinct": "screen, distinct queries",
        "repeated": "screen, repeated queries",
        "health": "health (baseline)",
    }
    lines = [
        "## Server",
        "",
        "Screening over HTTP: `GET /api/v1/screen?q=...` (status as of today) against a real "
        "`listwatch serve --workers N` on 127.0.0.1 (SQLite; curated registry plus "
        f"{', '.join(loaded) or 'no sample list'}). Queries: a third names as listed, a third "
        "with typos, other legal forms or reordered words, a third companies on no list; every "
        "answer carries the hits' statuses on every list. **Distinct**: each request a query "
        f"never asked before of that server process ({queries:,} prepared); **repeated**: "
        f"{args.repeated} queries asked again and again (the server gives a remembered answer "
        "while the registry is unchanged). A bounded asyncio client (C keep-alive connections, "
        f"one request in flight on each) runs for {args.duration:.0f} s on the same 2-core "
        "machine as the server and takes CPU from it (its CPU per request is shown); it is "
        "a lean HTTP/1.1 client written for the benchmark, as load generators are, because a "
        "general client such as httpx costs about a millisecond of CPU per request itself.",
        "",
        "| workers | requests | clients | req/s | p50 ms | p99 ms | errors | server CPU ms/req | "
        "client CPU ms/req | vs in-process | load avg |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for workers, kind, concurrency, rate, latencies, errors, cpu_ms, client_ms, load in rows:
        ratio = f"{rate / base_rate:.2f}×" if kind != "health" else ""
        lines.append(
            f"| {workers} | {labels[kind]} | {concurrency} | {rate:.0f} | {_ms(latencies, 50)} | "
            f"{_ms(latencies, 99)} | {errors} | {cpu_ms:.2f} | {client_ms:.2f} | {ratio} | "
            f"{load:.1f} |"
        )
    distinct_cpu = [r[6] for r in rows if r[1] == "distinct" and r[0] == 1] or [
        r[6] for r in rows if r[1] == "distinct"
    ]
    mean_cpu = sum(distinct_cpu) / len(distinct_cpu) if distinct_cpu else float("nan")
    within = [r[3] for r in rows if r[1] == "distinct" and percentile(r[4], 99) < 0.1]
    best = max(within, default=0.0)
    verdict = (
        f"met ({best:.0f} distinct requests/s within it)"
        if best >= 500
        else f"not met: at most {best:.0f} distinct requests/s with p99 under 100 ms in this run"
    )
    lines += [
        "",
        "Baseline in the same run: other distinct queries through the library in process (the "
        "screening service the server uses, one thread, no HTTP, no remembered answers): "
        f"{base_rate:.0f} queries/s, p50 {_ms(baseline, 50)} ms, p99 {_ms(baseline, 99)} ms, "
        f"{base_cpu:.2f} ms of CPU per query. First pass over the repeated queries right after "
        "start-up, while the server loads its index and describes every entity as of today in "
        f"the background, 8 clients: {len(cold) / cold_seconds:.0f} req/s, "
        f"p99 {_ms(cold, 99)} ms.",
        "",
        f"Server CPU per distinct screening request (one worker): {mean_cpu:.2f} ms (little "
        "affected by the machine's load), so two cores given wholly to the server would "
        f"answer about {2000 / mean_cpu:.0f} distinct queries/s; the health rows show what the "
        "HTTP stack itself costs and the repeated rows what a remembered answer costs through "
        "the route (parameter checks, look-up). One worker uses one core: the goal needs "
        "`--workers 2` on this machine. The load average column is the machine's 1-minute "
        "load during the measurement: other work on the machine slows throughput and latency.",
        f"Goal: 500 screening requests/s at p99 under 100 ms: {verdict}. Reproduce with "
        "`python -m benchmarks.bench_server`.",
    ]
    return "\n".join(lines)


async def _one_pass(url: str, paths: list[str], concurrency: int) -> tuple[list[float], int, float]:
    """Every path once, ``concurrency`` at a time."""
    latencies: list[float] = []
    errors = 0
    queue = list(paths)

    async def worker() -> None:
        nonlocal errors
        connection = HttpConnection.to(url)
        while queue:
            path = queue.pop()
            start = time.perf_counter()
            status, _body = await connection.get(path)
            latencies.append(time.perf_counter() - start)
            errors += status != 200
        await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


if __name__ == "__main__":
    main(sys.argv[1:])
