"""Server speed: screening requests over HTTP at 1, 8 and 32 concurrent clients.

    python -m benchmarks.bench_server [--duration S] [--workers N] [--queries Q]

A real ``listwatch serve`` process on 127.0.0.1 (SQLite, the sample official lists of
../shared/data loaded through listwatch's own loaders, as in the screening benchmark)
answers ``GET /api/v1/screen`` for a mix of queries: names as listed, names as an analyst
types them (typos, other legal forms, reordered words) and companies on no list. A bounded
asyncio httpx client keeps C requests in flight for S seconds; throughput and p50/p99
latency per concurrency. In the same run, two baselines:

- the same queries through the library in process (the screening service the server uses,
  no HTTP): what the HTTP layer costs;
- ``GET /api/v1/health`` at the same concurrency: the ceiling of the HTTP stack here.

The client runs on the same 2-core machine as the server and takes CPU from it. Figures go
to the "server" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import percentile, write_section

CONCURRENCY = (1, 8, 32)
AS_OF = "2024-06-01"
_ADDRESS = re.compile(r"serving on (http://127\.0\.0\.1:\d+)")


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
    return queries


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


def load_average() -> float:
    """The 1-minute load average (other work on the machine skews every figure)."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


class Server:
    """``listwatch serve`` in a child process on a free port."""

    def __init__(self, db: str, workers: int) -> None:
        env = {**os.environ, "LISTWATCH_DELIVER_ALERTS": "false"}
        command = [sys.executable, "-m", "listwatch.cli.main", "--db", db, "serve"]
        command += ["--port", "0", "--workers", str(workers), "--log-level", "error"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        assert self.process.stdout is not None
        self.url = ""
        for line in self.process.stdout:
            match = _ADDRESS.search(line)
            if match:
                self.url = match.group(1)
                break
        if not self.url:
            raise RuntimeError("the server did not start")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def _wait_ready(url: str) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        for _ in range(600):
            try:
                if (await client.get(f"{url}/api/v1/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("the server never answered")


async def load(
    url: str, paths: list[str], concurrency: int, duration: float
) -> tuple[list[float], int, float]:
    """Keep ``concurrency`` requests in flight for ``duration`` s: latencies, errors, seconds."""
    import httpx

    latencies: list[float] = []
    errors = 0
    cursor = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal cursor, errors
            while time.perf_counter() < deadline:
                path = paths[cursor % len(paths)]
                cursor += 1
                start = time.perf_counter()
                try:
                    response = await client.get(path)
                    ok = response.status_code == 200
                except httpx.HTTPError:
                    ok = False
                latencies.append(time.perf_counter() - start)
                errors += 0 if ok else 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def screen_paths(queries: list[str]) -> list[str]:
    """The GET requests of the queries."""
    from urllib.parse import urlencode

    return [f"/api/v1/screen?{urlencode({'q': q, 'as_of': AS_OF})}" for q in queries]


def in_process(db: str, queries: list[str], duration: float) -> tuple[list[float], float]:
    """The same queries through the screening service the server uses, without HTTP."""
    from listwatch.api.search import ScreeningService
    from listwatch.registry.db import Registry
    from listwatch.screening.screen import Query

    registry = Registry(db)
    service = ScreeningService(registry, refresh_seconds=3600)
    day = dt.date.fromisoformat(AS_OF)
    for q in queries:  # the same warm-up as the server gets
        service.screen(Query(name=q), day)
    latencies = []
    deadline = time.perf_counter() + duration
    i = 0
    cpu = time.process_time()
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        hits = service.screen(Query(name=queries[i % len(queries)]), day)
        [h.to_dict() for h in hits]
        latencies.append(time.perf_counter() - start)
        i += 1
    cpu_ms = (time.process_time() - cpu) * 1000 / len(latencies)
    registry.dispose()
    return latencies, cpu_ms


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.1f}"


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--queries", type=int, default=600, help="distinct queries")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="listwatch-bench-server-") as tmp:
        os.environ["LISTWATCH_HOME"] = tmp
        print("loading the sample lists ...", flush=True)
        started = time.perf_counter()
        db, loaded = build_registry(Path(tmp))
        print(f"  {', '.join(loaded) or 'curated only'} in {time.perf_counter() - started:.0f} s")
        queries = make_queries(db, args.queries)
        paths = screen_paths(queries)

        baseline, base_cpu = in_process(db, queries, args.duration)
        print(f"in process: {len(baseline) / sum(baseline):.0f} q/s, p50 {_ms(baseline, 50)} ms")

        server = Server(db, args.workers)
        rows = []
        try:
            asyncio.run(_wait_ready(server.url))
            # First pass over every query: the index and the descriptions are cold.
            cold_lat, cold_err, cold_secs = asyncio.run(_one_pass(server.url, paths, 8))
            print(
                f"first pass (cold), 8 clients: {len(cold_lat) / cold_secs:.0f} req/s, "
                f"p99 {_ms(cold_lat, 99)} ms, {cold_err} errors"
            )
            for concurrency in CONCURRENCY:
                for kind, work in (("screen", paths), ("health", ["/api/v1/health"])):
                    before, load_before = cpu_seconds(server.process.pid), load_average()
                    latencies, errors, seconds = asyncio.run(
                        load(server.url, work, concurrency, args.duration)
                    )
                    cpu_ms = (cpu_seconds(server.process.pid) - before) * 1000 / len(latencies)
                    rate = len(latencies) / seconds
                    machine_load = max(load_before, load_average())
                    rows.append((kind, concurrency, rate, latencies, errors, cpu_ms, machine_load))
                    p50, p99 = _ms(latencies, 50), _ms(latencies, 99)
                    print(
                        f"{kind:>6} x{concurrency:<3} {rate:7.0f} req/s  p50 {p50} ms"
                        f"  p99 {p99} ms  errors {errors}  server CPU {cpu_ms:.2f} ms/req"
                        f"  load {machine_load:.1f}",
                        flush=True,
                    )
        finally:
            server.stop()

    base_rate = len(baseline) / sum(baseline)
    lines = [
        "Screening over HTTP: `GET /api/v1/screen?q=...&as_of=2024-06-01` against a real "
        f"`listwatch serve --workers {args.workers}` on 127.0.0.1 (SQLite; curated registry plus "
        f"{', '.join(loaded) or 'no sample list'}), {len(queries)} distinct queries (a third as "
        "listed, a third with typos / other legal forms / reordered words, a third on no list), "
        "each answer with the hits' statuses on every list. A bounded asyncio httpx client keeps "
        f"C requests in flight for {args.duration:.0f} s on the same 2-core machine.",
        "",
        "| requests | clients | req/s | p50 ms | p99 ms | errors | server CPU ms/req | "
        "vs in-process | load avg |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, concurrency, rate, latencies, errors, cpu_ms, machine_load in rows:
        label = "screen" if kind == "screen" else "health (baseline)"
        ratio = f"{rate / base_rate:.2f}×" if kind == "screen" else ""
        lines.append(
            f"| {label} | {concurrency} | {rate:.0f} | {_ms(latencies, 50)} | "
            f"{_ms(latencies, 99)} | {errors} | {cpu_ms:.2f} | {ratio} | {machine_load:.1f} |"
        )
    screen_cpu = [r[5] for r in rows if r[0] == "screen"]
    capacity = 2000 / (sum(screen_cpu) / len(screen_cpu)) if screen_cpu else float("nan")
    lines += [
        "",
        f"Baseline in the same run: the same queries through the library in process "
        f"(one thread, no HTTP): {base_rate:.0f} queries/s, p50 {_ms(baseline, 50)} ms, "
        f"p99 {_ms(baseline, 99)} ms, {base_cpu:.2f} ms of CPU per query. "
        "First pass over every query with cold caches, 8 clients: "
        f"{len(cold_lat) / cold_secs:.0f} req/s, p99 {_ms(cold_lat, 99)} ms.",
        f"Server CPU per screening request (load-independent): "
        f"{sum(screen_cpu) / len(screen_cpu):.2f} ms, so two cores given wholly to the server "
        f"would answer about {capacity:.0f} requests/s. The load average column is the machine's "
        "1-minute load during the measurement: other work on it slows every figure but the CPU.",
        "Goal: 500 screening requests/s at p99 under 100 ms. Reproduce with "
        "`python -m benchmarks.bench_server`.",
    ]
    write_section("server", "## Server\n\n" + "\n".join(lines))


async def _one_pass(url: str, paths: list[str], concurrency: int) -> tuple[list[float], int, float]:
    """Every path once, ``concurrency`` at a time."""
    import httpx

    latencies: list[float] = []
    errors = 0
    queue = list(paths)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            while queue:
                path = queue.pop()
                start = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - start)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - started


if __name__ == "__main__":
    main(sys.argv[1:])
