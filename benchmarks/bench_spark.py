"""Batch screening on Spark against the in-process batch, on the same input, in the same run.

    python -m benchmarks.bench_spark [--size N] [--lists-size N] [--master local[2]]

Two cases: N names (default 1,000,000) against the curated dataset, and N names (default
100,000) against the curated dataset and the sample official lists (OFAC SDN, the
Consolidated Screening List, UN, BIS DPL from ../shared/data/lists; skipped when absent).
Inputs are generated deterministically: a tenth are list names as an analyst might type
them (typos, another legal form, words swapped), the rest invented company names.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.bench_screening import generate_names, load_sample_lists, perturb
from benchmarks.common import REPO, SHARED, write_section

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


@dataclass
class Case:
    """One comparison: a registry, an input of ``size`` names, both runs and their outputs."""

    registry: str  # "curated" or "lists"
    size: int
    loaded: list[str] = field(default_factory=list)
    entities: int = 0
    variants: int = 0
    batch_seconds: float = 0.0
    spark_seconds: float = 0.0
    report: dict[str, Any] = field(default_factory=dict)
    rows: int = 0
    same: int = 0
    matched: int = 0


def run_case(case: Case, master: str) -> None:
    """Build the registry and the input, run screen-batch then spark screen, compare."""
    from listwatch.registry.db import Registry

    with tempfile.TemporaryDirectory(prefix="listwatch-bench-spark-") as scratch:
        work = Path(scratch)
        env = {**os.environ, "LISTWATCH_HOME": str(work / "home")}
        os.environ["LISTWATCH_HOME"] = env["LISTWATCH_HOME"]
        url = str(work / "registry.db")
        registry = Registry(url)
        if case.registry == "lists":
            case.loaded = load_sample_lists(registry)
        registry.dispose()
        known = list_names(url)
        case.entities = len(known)
        source = work / "names.csv"
        case.variants = write_input(source, case.size, known)
        print(f"{case.registry}: {len(known)} entities, {case.size} names", flush=True)
        base = [sys.executable, "-m", "listwatch.cli.main", "--db", url]
        run([*base, "screen", "Xiaomi", "--json"], env)  # the index, built outside the timings

        batch_out = work / "batch.parquet"
        command = [*base, "screen-batch", str(source), "--out", str(batch_out), "--as-of", AS_OF]
        case.batch_seconds = run(command, env)
        print(f"  screen-batch: {case.batch_seconds:.0f} s", flush=True)
        spark_out = work / "spark"
        command = [*base, "spark", "screen", str(source), str(spark_out), "--master", master]
        command += ["--as-of", AS_OF, "--json"]
        started = time.perf_counter()
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        case.spark_seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"spark screen failed:\n{done.stderr[-3000:]}")
        case.report = json.loads(done.stdout)
        print(f"  spark screen: {case.spark_seconds:.0f} s", flush=True)
        case.rows, case.same, case.matched = compare(batch_out, spark_out)
        print(f"  {case.same} of {case.rows} rows identical", flush=True)


def case_table(case: Case, cores: int, master: str) -> str:
    """The rows of one case."""
    job = case.report["seconds"]
    lines = [
        (
            f"`screen-batch` ({cores} worker processes)",
            case.batch_seconds,
            f"{case.size / case.batch_seconds:,.0f}",
            "1.00×",
        ),
        (
            f"`spark screen --master {master}`",
            case.spark_seconds,
            f"{case.size / case.spark_seconds:,.0f}",
            f"{case.batch_seconds / case.spark_seconds:.2f}×",
        ),
        ("of which Spark's start-up (JVM, session)", case.spark_seconds - job, "", ""),
        (
            f"of which the job ({case.report['partitions']} tasks)",
            job,
            f"{case.size / job:,.0f}",
            f"{case.batch_seconds / job:.2f}×",
        ),
    ]
    head = "| run | wall time (s) | names/s | speed against screen-batch |\n|---|---|---|---|\n"
    return head + "\n".join(
        f"| {label} | {seconds:.0f} | {rate} | {ratio} |" for label, seconds, rate, ratio in lines
    )


def describe_case(case: Case, cores: int, master: str) -> str:
    """A case's paragraph and table."""
    against = (
        f"the curated dataset and the sample official lists ({', '.join(case.loaded)})"
        if case.loaded
        else "the curated dataset alone"
    )
    return f"""**{case.size:,} names against {against}** ({case.entities:,} entities; the input
holds {case.variants:,} variants of their names — typos, another legal form, words swapped
— among invented company names):

{case_table(case, cores, master)}

Same results: {case.same:,} of {case.rows:,} output rows identical ({case.matched:,} with a
match); {case.report["entities_described"]:,} distinct entities matched, each described once
on the driver (`screen-batch` describes them once per worker process).
"""


def main(argv: list[str]) -> None:
    """Run the cases and write the section."""
    cores = os.cpu_count() or 1
    master = argv[argv.index("--master") + 1] if "--master" in argv else f"local[{cores}]"
    size = int(argv[argv.index("--size") + 1]) if "--size" in argv else 1_000_000
    lists_size = int(argv[argv.index("--lists-size") + 1]) if "--lists-size" in argv else 100_000
    cases = [Case("curated", size)]
    if lists_size and (SHARED / "data" / "lists").is_dir():
        cases.append(Case("lists", lists_size))
    load_before = os.getloadavg()[0]
    for case in cases:
        run_case(case, master)
    load_after = os.getloadavg()[0]
    body = "## Spark batch screening\n\n"
    body += (
        "Both commands run as real processes on this machine on the same generated input, "
        f"as of {AS_OF}: `listwatch screen-batch` on all cores, then `listwatch spark "
        f"screen` in local mode on as many cores.\n\n"
    )
    body += "\n".join(describe_case(case, cores, master) for case in cases)
    body += f"""
On one machine Spark runs the same scoring code on as many cores, plus its start-up and
the serialisation of rows between the JVM and Python, so it cannot beat `screen-batch`,
which streams its input and output as well and already uses every core; what it adds is
that the scoring spreads over every core of a cluster. Per-core rates on a realistic
registry are those of the second case; see [operations.md](operations.md#how-it-scales).

1-minute load average {load_before:.1f} before the runs and {load_after:.1f} after (other
work on the machine slows both commands alike).

Reproduce: `python -m benchmarks.bench_spark --size {size} --lists-size {lists_size}`
(`--size N` for the first case, `--lists-size N` for the second, 0 to skip it;
`--master URL`).
"""
    write_section("spark", body)


if __name__ == "__main__":
    main(sys.argv[1:])
