"""Screening and comparing by the file: customer lists, portfolios, labelled pairs.

Input is CSV (UTF-8, header row) or Parquet. The whole input is read and checked first,
so a malformed file fails with one error naming its line before anything is written.
Work is spread over all cores: each worker process opens the persisted index once (a
memory map, shared pages) and its own read-only registry handle.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from listwatch.registry.db import RegistryError

# FollowTheMoney schemata that carry names a screener compares.
SCHEMATA = frozenset(
    {
        "Person",
        "Company",
        "Organization",
        "LegalEntity",
        "PublicBody",
        "Vessel",
        "Airplane",
        "Vehicle",
        "Asset",
        "Security",
    }
)
MAX_FIELD = 100_000  # characters in one CSV cell
CHUNK = 200


class BatchError(RegistryError):
    """A problem with a batch input or output file (one line, names the line when it can)."""


# --------------------------------------------------------------------------- reading


@dataclass
class Table:
    """Rows of an input file with the line each came from (1-based, the header is line 1)."""

    columns: list[str]
    rows: list[dict[str, str]]
    lines: list[int]


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BatchError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "save the file as UTF-8"
        ) from None


def read_csv(path: Path, required: Sequence[str]) -> Table:
    """Read a CSV file with a header; a clear error naming the line of any malformed row."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BatchError(f"cannot read {path}: {exc.strerror or exc}") from None
    text = _decode(path, data)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise BatchError(f"{path}: line {line}: NUL byte; this is not a CSV text file")
    csv.field_size_limit(MAX_FIELD)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise BatchError(f"{path}: the file is empty (a header row is required)") from None
    except csv.Error as exc:
        raise BatchError(f"{path}: line 1: malformed header: {exc}") from None
    columns = [c.strip() for c in header]
    lowered = [c.lower() for c in columns]
    missing = [c for c in required if c not in lowered]
    if missing:
        raise BatchError(
            f"{path}: line 1: missing column(s) {', '.join(missing)} "
            f"(found: {', '.join(columns) or 'none'})"
        )
    if len(set(lowered)) != len(lowered):
        raise BatchError(f"{path}: line 1: duplicate column names")
    rows: list[dict[str, str]] = []
    lines: list[int] = []
    while True:
        line = reader.line_num + 1
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise BatchError(f"{path}: line {line}: malformed CSV: {exc}") from None
        if not record or (len(record) == 1 and not record[0].strip()):
            continue
        if len(record) != len(columns):
            raise BatchError(
                f"{path}: line {line}: {len(record)} fields where the header has {len(columns)}"
            )
        rows.append({lowered[i]: value for i, value in enumerate(record)})
        lines.append(line)
    # keep the original spelling of column names for output
    return Table(columns, [{c: r[c.lower()] for c in columns} for r in rows], lines)


def read_parquet(path: Path, required: Sequence[str]) -> Table:
    """Read a Parquet file; every column is taken as text."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowException) as exc:
        raise BatchError(f"{path}: not a readable Parquet file: {exc}") from None
    columns = list(table.column_names)
    lowered = [c.lower() for c in columns]
    missing = [c for c in required if c not in lowered]
    if missing:
        raise BatchError(f"{path}: missing column(s) {', '.join(missing)}")
    data = table.to_pydict()
    rows = []
    for i in range(table.num_rows):
        rows.append({c: "" if data[c][i] is None else str(data[c][i]) for c in columns})
    return Table(columns, rows, [i + 2 for i in range(table.num_rows)])


def read_table(path: Path, required: Sequence[str]) -> Table:
    """CSV or Parquet by the file's extension."""
    if not path.exists():
        raise BatchError(f"no such file: {path}")
    if path.suffix.lower() in (".parquet", ".pq"):
        return read_parquet(path, required)
    return read_csv(path, required)


def write_table(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Write CSV, Parquet or JSON by the extension, atomically (temporary file, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            import pyarrow as pa
            import pyarrow.parquet as pq

            arrays = {c: [_cell(r.get(c)) for r in rows] for c in columns}
            pq.write_table(pa.table(arrays), temporary)
        elif suffix == ".json":
            temporary.write_text(
                json.dumps(rows, ensure_ascii=False, indent=2, default=str) + "\n", "utf-8"
            )
        else:
            with temporary.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
                writer.writeheader()
                for row in rows:
                    writer.writerow({c: _cell(row.get(c)) for c in columns})
        os.replace(temporary, path)
    except OSError as exc:
        raise BatchError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        if temporary.exists():
            temporary.unlink()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    return str(value)


def split_identifiers(cell: str) -> list[str]:
    """``isin:US0378331005; 1810.HK`` → ``["US0378331005", "1810.HK"]`` (scheme prefixes
    of ISIN and LEI are dropped: the value's shape and check digit identify them)."""
    values = []
    for part in cell.replace(",", ";").replace("|", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        scheme, _, value = part.partition(":")
        if value and scheme.strip().lower() in ("isin", "lei", "ticker", "reg", "registration"):
            part = value.strip()
        values.append(part)
    return values


# --------------------------------------------------------------------------- workers


@dataclass
class ScreenJob:
    """What each worker needs to know (picklable)."""

    url: str
    index_dir: str
    as_of: dt.date
    known_at: dt.date | None
    role: str | None
    schema: str
    threshold: float | None
    limit: int


_worker: dict[str, Any] = {}


def _init_worker(job: ScreenJob) -> None:
    from listwatch.registry.db import Registry
    from listwatch.registry.entities import canonical_map
    from listwatch.screening.index import NameIndex
    from listwatch.screening.screen import Screener

    index = NameIndex.load(Path(job.index_dir))
    if index is None:
        raise BatchError(f"the screening index at {job.index_dir} is missing")
    registry = Registry(job.url, load_curated=False)
    with registry.transaction() as session:
        canonical = canonical_map(session)
    _worker.update(
        job=job,
        screener=Screener(index, canonical),
        registry=registry,
        described={},
    )


def _screen_row(row: dict[str, str], line: int) -> dict[str, Any]:
    from listwatch.screening.identifiers import IdentifierError
    from listwatch.screening.screen import Query, describe

    job: ScreenJob = _worker["job"]
    query = Query(
        name=_column(row, "name"),
        schema=_column(row, "schema") or job.schema,
        country=_column(row, "country") or None,
        identifiers=split_identifiers(_column(row, "identifiers")),
        threshold=job.threshold,
        limit=job.limit,
    )
    out: dict[str, Any] = {"error": ""}
    try:
        hits = _worker["screener"].match(query)
    except IdentifierError as exc:
        out["error"] = f"line {line}: {exc}"
        hits = []
    cache: dict[str, Any] = _worker["described"]
    fresh = [hit for hit in hits if hit.entity_id not in cache]
    if fresh:
        with _worker["registry"].transaction() as session:
            for hit in fresh:
                describe(session, hit, job.as_of, job.known_at, job.role)
                cache[hit.entity_id] = (
                    hit.name,
                    hit.schema,
                    hit.country,
                    hit.statuses,
                    hit.obligations,
                )
    for hit in hits:
        hit.name, hit.schema, hit.country, hit.statuses, hit.obligations = cache[hit.entity_id]
    # The output explains each row's best hit; the others are listed by id and score.
    out["hits"] = [h.to_dict(explain=i == 0) for i, h in enumerate(hits)]
    return out


def _column(row: dict[str, str], name: str) -> str:
    for key, value in row.items():
        if key.lower() == name:
            return (value or "").strip()
    return ""


def _screen_chunk(chunk: list[tuple[int, dict[str, str]]]) -> list[dict[str, Any]]:
    # Customer files repeat names: a row screened already in this chunk is not screened again.
    done: dict[tuple[str, ...], dict[str, Any]] = {}
    results = []
    for line, row in chunk:
        key = tuple(_column(row, c) for c in ("name", "schema", "country", "identifiers"))
        found = done.get(key)
        if found is None:
            found = _screen_row(row, line)
            if not found["error"]:
                done[key] = found
        results.append(found)
    return results


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_parallel(
    job: ScreenJob,
    rows: list[tuple[int, dict[str, str]]],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Screen rows on ``workers`` processes (default: all cores), results in input order."""
    workers = workers or os.cpu_count() or 1
    chunks = list(_chunks(rows, CHUNK))
    results: list[dict[str, Any]] = []
    if workers <= 1 or len(chunks) <= 1:
        _init_worker(job)
        for chunk in chunks:
            results.extend(_screen_chunk(chunk))
            if progress:
                progress(len(chunk))
        return results
    context = multiprocessing.get_context("spawn" if os.name != "posix" else "fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
        for chunk_result in pool.imap(_screen_chunk, chunks):
            results.extend(chunk_result)
            if progress:
                progress(len(chunk_result))
    return results


SCREEN_COLUMNS = (
    "match",
    "match_entity_id",
    "match_name",
    "match_score",
    "match_by",
    "matched_name",
    "listed_on",
    "statuses",
    "explanation",
    "other_matches",
    "error",
)


def screen_rows(results: list[dict[str, Any]], table: Table) -> tuple[list[str], list[dict]]:
    """Output rows: the input columns, then the best hit and the others' ids."""
    columns = [*table.columns, *[c for c in SCREEN_COLUMNS if c not in table.columns]]
    out = []
    for row, result in zip(table.rows, results, strict=True):
        hits = result["hits"]
        best = hits[0] if hits else None
        record: dict[str, Any] = dict(row)
        record.update(
            match=bool(best),
            match_entity_id=best["entity"]["id"] if best else "",
            match_name=best["entity"]["name"] if best else "",
            match_score=best["score"] if best else "",
            match_by=best["match"] if best else "",
            matched_name=(best.get("matched_name") or "") if best else "",
            listed_on=";".join(
                s["list"] for s in best["statuses"] if s["status"].startswith("listed")
            )
            if best
            else "",
            statuses=";".join(f"{s['list']}={s['status']}" for s in best["statuses"])
            if best
            else "",
            explanation=best["explanation"] if best else "",
            other_matches=";".join(f"{h['entity']['id']}:{h['score']:.3f}" for h in hits[1:]),
            error=result["error"],
        )
        out.append(record)
    return columns, out


# --------------------------------------------------------------------------- compare


def compare_table(table: Table) -> tuple[list[str], list[dict[str, Any]]]:
    """Score every ``schema,name1,name2`` row; extra columns are carried through."""
    from listwatch.screening.compare import compare_names, default_threshold

    threshold = default_threshold()
    columns = [
        *table.columns,
        *[c for c in ("score", "match", "explanation") if c not in table.columns],
    ]
    out = []
    for row, line in zip(table.rows, table.lines, strict=True):
        schema = _column(row, "schema") or "LegalEntity"
        if schema not in SCHEMATA:
            raise BatchError(
                f"line {line}: unknown schema {schema!r} (one of {', '.join(sorted(SCHEMATA))})"
            )
        name1, name2 = _column(row, "name1"), _column(row, "name2")
        if not name1 or not name2:
            raise BatchError(f"line {line}: name1 and name2 must both be given")
        comparison = compare_names(name1, name2, schema)
        record: dict[str, Any] = dict(row)
        record.update(
            score=round(comparison.score, 4),
            match=comparison.score >= threshold,
            explanation=comparison.explanation(),
        )
        out.append(record)
    return columns, out


# --------------------------------------------------------------------------- portfolio

PORTFOLIO_COLUMNS = (
    "exposed",
    "entity_id",
    "entity_name",
    "match_score",
    "match_by",
    "listed_on",
    "duties",
    "next_deadline",
    "explanation",
    "error",
)


def portfolio_rows(
    results: list[dict[str, Any]], table: Table
) -> tuple[list[str], list[dict[str, Any]]]:
    """Exposure per holding: the matched entity, the lists it is on, the dated duties."""
    columns = [*table.columns, *[c for c in PORTFOLIO_COLUMNS if c not in table.columns]]
    out = []
    for row, result in zip(table.rows, results, strict=True):
        hits = result["hits"]
        best = hits[0] if hits else None
        record: dict[str, Any] = dict(row)
        duties = best["obligations"] if best else []
        active = [d for d in duties if d["state"] in ("in_force", "pending", "due")]
        deadlines = sorted(d["deadline"] for d in active if d.get("deadline"))
        listed = (
            [s["list"] for s in best["statuses"] if s["status"].startswith("listed")]
            if best
            else []
        )
        record.update(
            exposed=bool(listed),
            entity_id=best["entity"]["id"] if best else "",
            entity_name=best["entity"]["name"] if best else "",
            match_score=best["score"] if best else "",
            match_by=best["match"] if best else "",
            listed_on=";".join(listed),
            duties=";".join(
                f"{d['duty']} ({d['list']}, {d['state']}"
                + (f", from {d['effective_from']}" if d.get("effective_from") else "")
                + (f", by {d['deadline']}" if d.get("deadline") else "")
                + ")"
                for d in duties
            ),
            next_deadline=deadlines[0] if deadlines else "",
            explanation=best["explanation"] if best else "",
            error=result["error"],
        )
        record["_duties"] = duties
        record["_statuses"] = best["statuses"] if best else []
        out.append(record)
    return columns, out
