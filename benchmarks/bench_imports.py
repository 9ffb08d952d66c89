"""Import speed and memory of the official-list loaders against a naive baseline.

    python -m benchmarks.bench_imports [--repeat N]

Each measurement runs in a fresh subprocess on a copy of one registry (schema migrated,
curated dataset loaded), so that neither imports nor memory carry over:

* **listwatch**: ``listwatch.sources.import_file`` — streaming parse, spooled records,
  bulk inserts, snapshot diff, entity resolution;
* **baseline**: what a straightforward importer does — the whole file read into a pandas
  DataFrame, then one ORM object per entity, name, event and evidence added row by row
  and written by SQLAlchemy's unit of work at commit (no remarks parsing, no diff, no
  resolution: it does less work than listwatch).

Files: the largest SDN CSV (daily snapshot of 2024-05-01, 14,966 entries), the next day's
snapshot imported on top of it (the daily update), and the Consolidated Screening List
(14,160 rows). Wall time is measured without tracemalloc; peak memory is the process's
maximum resident set (``resource.getrusage``), and the Python heap peak comes from a
second run under ``tracemalloc``. Figures go to the "imports" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHARED, write_section

LISTS = SHARED / "data" / "lists"
SDN_DAY1 = LISTS / "ofac_sdn" / "daily_2024-05" / "sdn_2024-05-01.csv"
SDN_DAY2 = LISTS / "ofac_sdn" / "daily_2024-05" / "sdn_2024-05-02.csv"
CSL = LISTS / "csl" / "consolidated_screening_list_2022-04.csv"
GOAL_SECONDS = 10.0
GOAL_MB = 300.0

CASES: list[dict[str, Any]] = [
    {
        "name": "SDN CSV, first snapshot (14,966 entries)",
        "source": "ofac-sdn",
        "file": SDN_DAY1,
        "published": "2024-05-01",
        "kind": "sdn",
    },
    {
        "name": "SDN CSV, next day on top (+7)",
        "source": "ofac-sdn",
        "file": SDN_DAY2,
        "published": "2024-05-02",
        "before": [("ofac-sdn", SDN_DAY1, "2024-05-01")],
        "kind": "sdn",
    },
    {
        "name": "Consolidated Screening List CSV (14,160 rows)",
        "source": "us-csl",
        "file": CSL,
        "published": "2022-04-22",
        "kind": "csl",
    },
]


# -- child process ------------------------------------------------------------------------


def _listwatch(db: str, source: str, path: str, published: str) -> dict[str, Any]:
    from listwatch.registry.db import Registry
    from listwatch.sources.engine import ImportOptions
    from listwatch.sources.importer import import_file

    registry = Registry(db)
    started, cpu = time.perf_counter(), time.process_time()
    result = import_file(
        registry, source, path, ImportOptions(published=dt.date.fromisoformat(published))
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    registry.dispose()
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "records": result.records,
        "events": result.events_added,
    }


def _baseline(db: str, kind: str, path: str, published: str) -> dict[str, Any]:
    """Whole file into pandas, then ORM objects row by row (entity, names, event, evidence),
    flushed by the unit of work at commit."""
    import pandas as pd

    from listwatch.registry.db import Registry
    from listwatch.registry.models import Document, Entity, EntityName, Event, Evidence, utcnow
    from listwatch.registry.names import detect_script, fold_name

    registry = Registry(db)
    started, cpu = time.perf_counter(), time.process_time()
    if kind == "sdn":
        frame = pd.read_csv(
            path, header=None, encoding="cp1252", dtype=str, keep_default_na=False,
            names=["ent_num", "name", "type", "program", "title", "call_sign", "vess_type",
                   "tonnage", "grt", "flag", "owner", "remarks"],
        )  # fmt: skip
        frame = frame[frame["ent_num"].str.strip().str.isdigit()]
        rows: list[tuple[str, str, list[str], str, str]] = [
            (f"base-{r.ent_num}", r.name, [], "us-ofac-sdn", f"ent_num {r.ent_num}")
            for r in frame.itertuples()
        ]
    else:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame = frame[frame["source"] != "source"]
        rows = [
            (f"base-{i}", r.name, [a for a in r.alt_names.split("; ") if a], "us-bis-entity-list",
             f"_id {r._1}")
            for i, r in enumerate(frame.itertuples())
        ]  # fmt: skip
    now = utcnow()
    day = dt.date.fromisoformat(published)
    with registry.transaction() as session:
        document = Document(sha256=f"baseline-{os.getpid()}", kind="official_file")
        session.add(document)
        session.flush()
        for entity_id, name, aliases, list_id, locator in rows:
            entity = Entity(id=entity_id, schema="LegalEntity", name=name[:1000], origin="import")
            for index, text in enumerate(dict.fromkeys([name, *aliases])):
                entity.names.append(
                    EntityName(
                        name=text[:1000],
                        folded=fold_name(text)[:1000],
                        kind="primary" if index == 0 else "alias",
                        script=detect_script(text),
                    )
                )
            session.add(entity)
            event = Event(
                entity_id=entity_id,
                list_id=list_id,
                kind="listed",
                valid_date=day,
                valid_precision="day",
                date_qualifier="not_after",
                recorded_at=now,
                origin="import",
                initial_review="accepted",
            )
            event.evidence.append(
                Evidence(document_id=document.id, locator=locator, recorded_at=now)
            )
            session.add(event)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    registry.dispose()
    return {"seconds": seconds, "cpu_seconds": cpu, "records": len(rows), "events": len(rows)}


def child(argv: list[str]) -> None:
    """Run one measurement and print it as JSON (wall time, peak RSS, heap peak)."""
    import resource
    import tracemalloc

    mode, db, source, path, published, kind, trace = argv
    if trace == "1":
        tracemalloc.start()
    for before in json.loads(os.environ.get("BENCH_BEFORE", "[]")):
        _listwatch(db, *before)
    if mode == "listwatch":
        outcome = _listwatch(db, source, path, published)
    else:
        outcome = _baseline(db, kind, path, published)
    if trace == "1":
        outcome["heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    outcome["rss_peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(outcome))


# -- parent -------------------------------------------------------------------------------


def _template(directory: Path) -> Path:
    from listwatch.registry.db import Registry

    path = directory / "template.db"
    Registry(str(path)).dispose()
    return path


def _measure(mode: str, case: dict[str, Any], template: Path, trace: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="lw-bench-imports-") as scratch:
        db = Path(scratch) / "registry.db"
        shutil.copy(template, db)
        before = [[s, str(f), p] for s, f, p in case.get("before", [])]
        env = {**os.environ, "BENCH_BEFORE": json.dumps(before)}
        command = [
            sys.executable, "-m", "benchmarks.bench_imports", "--child", mode, str(db),
            case["source"], str(case["file"]), case["published"], case["kind"],
            "1" if trace else "0",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{mode} on {case['name']} failed:\n{done.stderr}")
        return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="wall-time runs per case")
    parser.add_argument("--child", nargs=7, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    missing = [str(c["file"]) for c in CASES if not Path(c["file"]).exists()]
    if missing:
        sys.exit(f"sample files not found: {', '.join(missing)}")
    rows = []
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="lw-bench-template-") as directory:
        template = _template(Path(directory))
        for case in CASES:
            figures: dict[str, dict[str, Any]] = {}
            for mode in ("listwatch", "baseline"):
                if mode == "baseline" and case.get("before"):
                    continue
                runs = [_measure(mode, case, template, trace=False) for _ in range(args.repeat)]
                traced = _measure(mode, case, template, trace=True)
                figures[mode] = {
                    "seconds": statistics.median(r["seconds"] for r in runs),
                    "cpu_seconds": statistics.median(r["cpu_seconds"] for r in runs),
                    "rss_peak_mb": max(r["rss_peak_mb"] for r in runs),
                    "heap_peak_mb": traced["heap_peak_mb"],
                    "records": runs[0]["records"],
                    "events": runs[0]["events"],
                }
                print(case["name"], mode, json.dumps(figures[mode]), flush=True)
            rows.append((case, figures))
    load = (load_before, os.getloadavg()[0])
    write_section("imports", _report(rows, args.repeat, load))


def _report(
    rows: list[tuple[dict[str, Any], dict[str, dict[str, Any]]]],
    repeat: int,
    load: tuple[float, float],
) -> str:
    lines = [
        "## Imports (official list files)",
        "",
        "`python -m benchmarks.bench_imports`: each import runs in a fresh process on a copy of "
        "a registry holding the curated dataset; time is the median of "
        f"{repeat} runs of the import call (parse, diff, bulk writes, entity resolution, "
        "commit); memory is the process's peak resident set and the Python heap peak "
        "(tracemalloc, separate run). CPU time is reported beside wall time because it "
        "depends less on what else the machine runs. The baseline reads the whole file with "
        "pandas and adds ORM objects row by row (entity, names, an event, its evidence), "
        "without remarks parsing, snapshot diff or resolution.",
        "",
        "| file | importer | records | events | wall s | CPU s | peak RSS (MB) | heap peak (MB) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for case, figures in rows:
        for mode, item in figures.items():
            lines.append(
                f"| {case['name']} | {mode} | {item['records']} | {item['events']} | "
                f"{item['seconds']:.2f} | {item['cpu_seconds']:.2f} | {item['rss_peak_mb']:.0f} | "
                f"{item['heap_peak_mb']:.0f} |"
            )
    lines.append("")
    for case, figures in rows:
        ours = figures["listwatch"]
        verdict = (
            "met" if ours["seconds"] < GOAL_SECONDS and ours["rss_peak_mb"] < GOAL_MB else "not met"
        )
        line = (
            f"- {case['name']}: listwatch {ours['seconds']:.2f} s ({ours['cpu_seconds']:.2f} s "
            f"CPU), {ours['rss_peak_mb']:.0f} MB peak RSS (goal < {GOAL_SECONDS:.0f} s and "
            f"< {GOAL_MB:.0f} MB: {verdict})"
        )
        if "baseline" in figures:
            base = figures["baseline"]
            line += (
                f"; baseline {base['seconds']:.2f} s ({base['cpu_seconds']:.2f} s CPU), "
                f"{base['rss_peak_mb']:.0f} MB — listwatch takes "
                f"{ours['cpu_seconds'] / base['cpu_seconds']:.2f}× the baseline's CPU time"
            )
        lines.append(line + ".")
    lines += [
        "",
        f"Load average of the machine (1 min) at the start and the end of the run: "
        f"{load[0]:.1f} and {load[1]:.1f} on {os.cpu_count()} cores; wall times grow with "
        "it, CPU times much less. The goal was set for the SDN list.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
