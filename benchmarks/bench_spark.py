"""Batch screening on Spark against the in-process batch, on the same input, in the same run.

    python -m benchmarks.bench_spark [--size N] [--master local[2]]

The registry holds the curated dataset and the sample official lists (OFAC SDN, the
Consolidated Screening List, UN, BIS DPL from ../shared/data/lists; the curated dataset
alone when they are absent). The input is N names (default 1,000,000), generated
deterministically: a tenth are list names as an analyst might type them (typos, another
legal form, words swapped), the rest invented company names.

Both commands run as real processes on this machine: ``listwatch screen-batch`` on all
cores, then ``listwatch spark screen`` in local mode on as many cores. Their outputs are
compared row by row. Figures go to the "spark" section of docs/benchmarks.md.
"""

from __future__ import annotations

import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.bench_screening import generate_names, load_sample_lists, perturb
from benchmarks.common import REPO, write_section

AS_OF = "2025-01-31"


def list_names(url: str) -> list[str]:
    """Primary names of the registry's entities (what hits are made from)."""
    from sqlalchemy import select

    from listwatch.registry.db import Registry
    from listwatch.registry.models import Entity

    registry = Registry(url)
    with registry.transaction() as session:
        names = sorted(session.scalars(select(Entity.name)))
    registry.dispose()
    return names


def write_input(path: Path, size: int, known: list[str]) -> int:
    """N rows of ``name,country,ref``; returns how many are variants of list names."""
    rng = random.Random(20260601)
    invented = generate_names(size, seed=20260602)
    variants = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "country", "ref"])
        for number in range(size):
            if rng.random() < 0.1 and known:
                name = perturb(rng.choice(known), rng)
                variants += 1
            else:
                name = invented[number]
            writer.writerow([name, rng.choice(("", "", "", "cn", "ru", "ir", "de")), number])
    return variants


def run(command: list[str], env: dict[str, str]) -> float:
    """Wall-clock seconds of a command run to completion (its output kept on failure)."""
    started = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command[:5])} failed:\n{done.stderr[-3000:]}")
    return elapsed


def compare(batch: Path, spark_dir: Path) -> tuple[int, int, int]:
    """(rows, identical rows, rows with a match) of the two outputs."""
    import pyarrow.parquet as pq

    expected = pq.ParquetFile(batch)
    parts = sorted(spark_dir.glob("part-*.parquet"))
    mine = (row for part in parts for row in pq.read_table(part).to_pylist())
    rows = same = matched = 0
    for batch_rows in expected.iter_batches(batch_size=50_000):
        for theirs in batch_rows.to_pylist():
            got = next(mine)
            rows += 1
            theirs["match"] = theirs["match"] == "true"
            score = theirs["match_score"]
            theirs["match_score"] = round(float(score), 4) if score else None
            if got["match_score"] is not None:
                got["match_score"] = round(got["match_score"], 4)
            same += got == theirs
            matched += bool(got["match"])
    assert next(mine, None) is None, "the Spark output has more rows"
    return rows, same, matched


def main(argv: list[str]) -> None:
    """Run both jobs and write the section."""
    size = int(argv[argv.index("--size") + 1]) if "--size" in argv else 1_000_000
    cores = os.cpu_count() or 1
    master = argv[argv.index("--master") + 1] if "--master" in argv else f"local[{cores}]"
    from listwatch.registry.db import Registry

    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="listwatch-bench-spark-") as scratch:
        work = Path(scratch)
        env = {**os.environ, "LISTWATCH_HOME": str(work / "home")}
        os.environ["LISTWATCH_HOME"] = env["LISTWATCH_HOME"]
        url = str(work / "registry.db")
        started = time.perf_counter()
        registry = Registry(url)
        loaded = load_sample_lists(registry)
        registry.dispose()
        load_seconds = time.perf_counter() - started
        known = list_names(url)
        source = work / "names.csv"
        variants = write_input(source, size, known)
        print(f"registry: {len(known)} entities ({', '.join(loaded) or 'curated only'})")
        print(f"input: {size} names, {variants} variants of list names → {source}")
        base = [sys.executable, "-m", "listwatch.cli.main", "--db", url]
        # Build the screening index once, outside both timings.
        run([*base, "screen", "Xiaomi", "--json"], env)

        batch_out = work / "batch.parquet"
        batch_seconds = run(
            [*base, "screen-batch", str(source), "--out", str(batch_out), "--as-of", AS_OF],
            env,
        )
        print(f"screen-batch: {batch_seconds:.0f} s")
        spark_out = work / "spark"
        command = [
            *base,
            "spark",
            "screen",
            str(source),
            str(spark_out),
            "--master",
            master,
            "--as-of",
            AS_OF,
            "--json",
        ]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        spark_seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"spark screen failed:\n{done.stderr[-3000:]}")
        report: dict[str, Any] = json.loads(done.stdout)
        print(f"spark screen: {spark_seconds:.0f} s (job {report['seconds']:.0f} s)")
        rows, same, matched = compare(batch_out, spark_out)
        print(f"compared: {same} of {rows} rows identical, {matched} with a match")

    load_after = os.getloadavg()[0]
    startup = spark_seconds - report["seconds"]
    job = report["seconds"]
    rows_table = "\n".join(
        f"| {label} | {seconds:.0f} | {rate} | {ratio} |"
        for label, seconds, rate, ratio in (
            (
                f"`listwatch screen-batch` (in-process, {cores} worker processes)",
                batch_seconds,
                f"{size / batch_seconds:,.0f}",
                "1.00×",
            ),
            (
                f"`listwatch spark screen --master {master}`",
                spark_seconds,
                f"{size / spark_seconds:,.0f}",
                f"{batch_seconds / spark_seconds:.2f}×",
            ),
            ("of which Spark's start-up (JVM, session)", startup, "", ""),
            (
                f"of which the Spark job ({report['partitions']} tasks)",
                job,
                f"{size / job:,.0f}",
                f"{batch_seconds / job:.2f}×",
            ),
        )
    )
    body = f"""## Spark batch screening

Input: {size:,} names generated deterministically ({variants:,} variants of list names —
typos, another legal form, words swapped — and invented company names), screened as of
{AS_OF} against the curated dataset and the sample lists ({", ".join(loaded) or "none"};
{len(known):,} entities, loaded in {load_seconds:.0f} s).

| run | wall time (s) | names/s | ratio to screen-batch |
|---|---|---|---|
{rows_table}

Same results: {same:,} of {rows:,} output rows identical ({matched:,} with a match);
{report["entities_described"]:,} distinct entities matched, each described once on the
driver (`screen-batch` describes them once per worker process).

On one machine Spark runs the same scoring code on as many cores, plus its start-up and
the serialisation of rows between the JVM and Python; its gain is that it spreads over
every core of a cluster (see [operations.md](operations.md#spark-jobs)).

1-minute load average {load_before:.1f} before the run and {load_after:.1f} after (other
work on the machine slows both runs).

Reproduce: `python -m benchmarks.bench_spark` (`--size N`, `--master URL`).
"""
    write_section("spark", body)


if __name__ == "__main__":
    main(sys.argv[1:])
