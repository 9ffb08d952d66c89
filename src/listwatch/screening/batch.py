"""Screening and comparing by the file: customer lists, portfolios, labelled pairs.

Input is CSV (UTF-8, header row) or Parquet, read as a stream: a first pass checks the
whole file, so a malformed file fails with one error naming its line before any work is
done, and a second pass feeds the rows to the workers a few chunks at a time while the
results are written out as they come back. Memory stays bounded however long the file.
Work is spread over all cores: each worker process opens the persisted index once (a
memory map, shared pages) and its own read-only registry handle.
"""

from __future__ import annotations

import codecs
import collections
import contextlib
import csv
import datetime as dt
import gc
import json
import multiprocessing
import os
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from listwatch.obligations.engine import duty_dates
from listwatch.registry.db import RegistryError

if TYPE_CHECKING:
    from listwatch.screening.screen import Hit, Query

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
CHUNK = 200  # rows per task of a worker
IN_FLIGHT = 4  # chunks queued per worker: enough to keep it busy, few enough to bound memory
ANSWERS_KEPT = 20_000  # distinct rows' answers a worker remembers (a few tens of MB)
PARQUET_BATCH = 10_000  # rows per Parquet record batch read or written

Row = dict[str, str]


class BatchError(RegistryError):
    """A problem with a batch input or output file (one line, names the line when it can)."""


# --------------------------------------------------------------------------- reading


@dataclass
class Table:
    """Rows of an input file with the line each came from (1-based, the header is line 1)."""

    columns: list[str]
    rows: list[Row]
    lines: list[int]


def check_columns(path: Path | str, columns: list[str], required: Iterable[str]) -> None:
    """The header of an input: every required column present (in any case), none twice."""
    lowered = [c.lower() for c in columns]
    missing = [c for c in required if c not in lowered]
    if missing:
        raise BatchError(
            f"{path}: line 1: missing column(s) {', '.join(missing)} "
            f"(found: {', '.join(columns) or 'none'})"
        )
    if len(set(lowered)) != len(lowered):
        raise BatchError(f"{path}: line 1: duplicate column names")


def _undecodable_line(path: Path) -> tuple[int, int]:
    """The first line of a file that is not UTF-8, and its first bad byte."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                decoder.decode(raw)
            except UnicodeDecodeError as exc:
                return number, raw[exc.start]
    return number, 0


class InputFile:
    """A CSV or Parquet input: its columns, and its rows as a stream (read again on demand).

    Opening reads the header only. :meth:`rows` yields ``(line, row)`` pairs with the
    columns spelt as in the header; any malformed record raises a :class:`BatchError`
    naming the file and the line.
    """

    def __init__(self, path: Path, required: Sequence[str]) -> None:
        if not path.exists():
            raise BatchError(f"no such file: {path}")
        self.path = path
        self.parquet = path.suffix.lower() in (".parquet", ".pq")
        self.columns = self._parquet_columns() if self.parquet else self._csv_header()
        check_columns(path, self.columns, required)

    # CSV ---------------------------------------------------------------

    def _open_text(self) -> IO[str]:
        try:
            return self.path.open("r", encoding="utf-8-sig", newline="")
        except OSError as exc:
            raise BatchError(f"cannot read {self.path}: {exc.strerror or exc}") from None

    def _decode_error(self) -> BatchError:
        line, byte = _undecodable_line(self.path)
        return BatchError(
            f"{self.path}: line {line}: not UTF-8 text (byte 0x{byte:02x}); save the file as UTF-8"
        )

    def _csv_header(self) -> list[str]:
        csv.field_size_limit(MAX_FIELD)
        with self._open_text() as handle:
            reader = csv.reader(handle, strict=True)
            try:
                header = next(reader)
            except StopIteration:
                raise BatchError(
                    f"{self.path}: the file is empty (a header row is required)"
                ) from None
            except UnicodeDecodeError:
                raise self._decode_error() from None
            except csv.Error as exc:
                raise BatchError(f"{self.path}: line 1: malformed header: {exc}") from None
        return [c.strip() for c in header]

    def _csv_rows(self) -> Iterator[tuple[int, Row]]:
        csv.field_size_limit(MAX_FIELD)
        columns, width = self.columns, len(self.columns)
        with self._open_text() as handle:
            reader = csv.reader(handle, strict=True)
            try:
                next(reader)  # the header, checked on opening
                while True:
                    line = reader.line_num + 1
                    try:
                        record = next(reader)
                    except StopIteration:
                        return
                    except csv.Error as exc:
                        message = f"{self.path}: line {line}: malformed CSV: {exc}"
                        raise BatchError(message) from None
                    if not record or (len(record) == 1 and not record[0].strip()):
                        continue
                    if len(record) != width:
                        raise BatchError(
                            f"{self.path}: line {line}: {len(record)} fields where the header "
                            f"has {width}"
                        )
                    if any("\x00" in value for value in record):
                        raise BatchError(
                            f"{self.path}: line {line}: NUL byte; this is not a CSV text file"
                        )
                    yield line, dict(zip(columns, record, strict=True))
            except UnicodeDecodeError:
                raise self._decode_error() from None

    # Parquet -----------------------------------------------------------

    def _parquet_file(self) -> Any:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return pq.ParquetFile(self.path)
        except (OSError, pa.ArrowException) as exc:
            raise BatchError(f"{self.path}: not a readable Parquet file: {exc}") from None

    def _parquet_columns(self) -> list[str]:
        return list(self._parquet_file().schema_arrow.names)

    def _parquet_rows(self) -> Iterator[tuple[int, Row]]:
        import pyarrow as pa

        line = 1
        try:
            for batch in self._parquet_file().iter_batches(batch_size=PARQUET_BATCH):
                data = batch.to_pydict()
                for i in range(batch.num_rows):
                    line += 1
                    yield (
                        line,
                        {c: "" if data[c][i] is None else str(data[c][i]) for c in self.columns},
                    )
        except (OSError, pa.ArrowException) as exc:
            message = f"{self.path}: row {line - 1}: unreadable Parquet data: {exc}"
            raise BatchError(message) from None

    # both --------------------------------------------------------------

    def rows(self) -> Iterator[tuple[int, Row]]:
        """``(line, row)`` for every record (the header is line 1; Parquet rows count from 2)."""
        return self._parquet_rows() if self.parquet else self._csv_rows()

    def check(self) -> int:
        """Read the whole file once; the number of rows, or the first record's error."""
        return sum(1 for _ in self.rows())


def read_table(path: Path, required: Sequence[str]) -> Table:
    """A whole CSV or Parquet file in memory (for files of pairs or holdings)."""
    source = InputFile(path, required)
    table = Table(source.columns, [], [])
    for line, row in source.rows():
        table.rows.append(row)
        table.lines.append(line)
    return table


# --------------------------------------------------------------------------- writing


class TableWriter:
    """Writes rows to CSV, Parquet or JSON (by the extension) as they come, into a temporary
    file renamed over ``path`` only when all were written: an interrupted run leaves no
    partial output under the final name."""

    def __init__(self, path: Path, columns: list[str]) -> None:
        self.path = path
        self.columns = columns
        self.suffix = path.suffix.lower()
        self.temporary = path.with_name(f".{path.name}.tmp")
        self.count = 0
        self._handle: IO[str] | None = None
        self._csv: Any = None
        self._parquet: Any = None
        self._pending: list[dict[str, Any]] = []

    def __enter__(self) -> TableWriter:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.suffix not in (".parquet", ".pq"):
                self._handle = self.temporary.open("w", encoding="utf-8", newline="")
            if self.suffix == ".json":
                self._handle.write("[")  # type: ignore[union-attr]
            elif self._handle is not None:
                self._csv = csv.DictWriter(self._handle, self.columns, extrasaction="ignore")
                self._csv.writeheader()
        except OSError as exc:
            raise BatchError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return self

    def write(self, row: dict[str, Any]) -> None:
        """Add one row (columns not in the header are left out of CSV and Parquet)."""
        try:
            if self.suffix == ".json":
                assert self._handle is not None
                self._handle.write(",\n" if self.count else "\n")
                self._handle.write(json.dumps(row, ensure_ascii=False, default=str))
            elif self._csv is not None:
                self._csv.writerow({c: _cell(row.get(c)) for c in self.columns})
            else:
                self._pending.append(row)
                if len(self._pending) >= PARQUET_BATCH:
                    self._flush_parquet()
        except OSError as exc:
            raise BatchError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        self.count += 1

    def _flush_parquet(self) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        batch = pa.table({c: [_cell(r.get(c)) for r in self._pending] for c in self.columns})
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self.temporary, batch.schema)
        self._parquet.write_table(batch)
        self._pending = []

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                if self.suffix in (".parquet", ".pq"):
                    if self._pending or self._parquet is None:
                        self._flush_parquet()
                    self._parquet.close()
                elif self.suffix == ".json":
                    assert self._handle is not None
                    self._handle.write("\n]\n")
            if self._handle is not None:
                self._handle.close()
            elif self._parquet is not None and kind is not None:
                self._parquet.close()
            if kind is None:
                os.replace(self.temporary, self.path)
        except OSError as exc:
            raise BatchError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        finally:
            if self.temporary.exists():
                self.temporary.unlink()


def write_table(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write CSV, Parquet or JSON by the extension, atomically (temporary file, rename)."""
    with TableWriter(path, columns) as writer:
        for row in rows:
            writer.write(row)


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
        answers={},
    )


def _screen_rows(rows: list[Row]) -> list[dict[str, Any]]:
    """The results of rows (an error without its line), each stage done for all rows at
    once: matching (see :meth:`~listwatch.screening.screen.Screener.match_many`), then the
    registry's details of the entities found (one transaction), then each row's records."""
    from listwatch.screening.identifiers import IdentifierError
    from listwatch.screening.screen import describe

    job: ScreenJob = _worker["job"]
    queries = [row_query(row, job.schema, job.threshold, job.limit) for row in rows]
    matched = _worker["screener"].match_many(queries)
    cache: dict[str, Any] = _worker["described"]
    fresh = {
        hit.entity_id: hit
        for hits in matched
        if not isinstance(hits, IdentifierError)
        for hit in hits
        if hit.entity_id not in cache
    }
    if fresh:
        with _worker["registry"].transaction() as session:
            for entity_id, hit in fresh.items():
                describe(session, hit, job.as_of, job.known_at, job.role)
                cache[entity_id] = (
                    hit.name,
                    hit.schema,
                    hit.country,
                    hit.statuses,
                    hit.obligations,
                )
    results: list[dict[str, Any]] = []
    for hits in matched:
        if isinstance(hits, IdentifierError):
            results.append({"error": str(hits), "hits": []})
            continue
        for hit in hits:
            hit.name, hit.schema, hit.country, hit.statuses, hit.obligations = cache[hit.entity_id]
        results.append({"error": "", "hits": hit_records(hits)})
    return results


def hit_records(hits: list[Hit]) -> list[dict[str, Any]]:
    """The hits of a batch row as its output uses them: each row's best hit with its
    explanation, the others by id and score (no comparison parts: the output has none)."""
    return [h.to_dict(explain=i == 0, comparison=False) for i, h in enumerate(hits)]


def row_query(row: Row, schema: str, threshold: float | None, limit: int) -> Query:
    """The query of an input row (columns name, schema, country, identifiers, any case);
    ``schema`` applies where the row names none."""
    from listwatch.screening.screen import Query

    return Query(
        name=column(row, "name"),
        schema=column(row, "schema") or schema,
        country=column(row, "country") or None,
        identifiers=split_identifiers(column(row, "identifiers")),
        threshold=threshold,
        limit=limit,
    )


def column(row: Row, name: str) -> str:
    """A row's cell by lower-case column name, stripped ("" when absent)."""
    for key, value in row.items():
        if key.lower() == name:
            return (value or "").strip()
    return ""


@contextlib.contextmanager
def collector_paused() -> Generator[None, None, None]:
    """Pause Python's cycle collector while a chunk of rows is screened.

    Screening a row makes thousands of short-lived objects and almost no reference cycles,
    while a worker's caches hold millions of long-lived ones: left running, the collector
    scans those over and over (a tenth of a batch's time). Paused for one chunk, it runs
    once afterwards; the garbage a chunk might leave in cycles is bounded by its size.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _screen_chunk(chunk: list[tuple[int, Row]]) -> list[dict[str, Any]]:
    # Customer files repeat names: a row this worker has screened already (in any chunk of
    # the run; the registry does not change during it) is not screened again.
    answers: dict[tuple[str, ...], dict[str, Any]] = _worker["answers"]
    keys = [
        tuple(column(row, c) for c in ("name", "schema", "country", "identifiers"))
        for _line, row in chunk
    ]
    known = [answers.get(key) for key in keys]
    todo: dict[tuple[str, ...], Row] = {}
    for key, found, (_line, row) in zip(keys, known, chunk, strict=True):
        if found is None:
            todo.setdefault(key, row)
    with collector_paused():
        fresh = dict(zip(todo, _screen_rows(list(todo.values())), strict=True))
    for key, found in fresh.items():
        if not found["error"]:
            if len(answers) >= ANSWERS_KEPT:
                answers.clear()
            answers[key] = found
    results = []
    for (line, _row), key, found in zip(chunk, keys, known, strict=True):
        result = fresh[key] if found is None else found
        if result["error"]:
            result = {"error": f"line {line}: {result['error']}", "hits": []}
        results.append(result)
    return results


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


Screened = tuple[int, Row, dict[str, Any]]


def run_parallel(
    job: ScreenJob,
    rows: Iterable[tuple[int, Row]],
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[Screened]:
    """Screen ``(line, row)`` pairs on ``workers`` processes (default: all cores), yielding
    ``(line, row, result)`` in input order. Only a few chunks per worker are queued at a
    time, so neither the input nor the results are ever held whole."""
    workers = workers or os.cpu_count() or 1
    chunks = _chunks(rows, CHUNK)
    if workers <= 1:
        _init_worker(job)
        for chunk in chunks:
            results = _screen_chunk(chunk)
            if progress:
                progress(len(chunk))
            for (line, row), result in zip(chunk, results, strict=True):
                yield line, row, result
        return
    context = multiprocessing.get_context("spawn" if os.name != "posix" else "fork")
    with context.Pool(workers, initializer=_init_worker, initargs=(job,)) as pool:
        queued: collections.deque[tuple[list[tuple[int, Row]], Any]] = collections.deque()
        for chunk in chunks:
            queued.append((chunk, pool.apply_async(_screen_chunk, (chunk,))))
            while len(queued) >= workers * IN_FLIGHT:
                yield from _collect(queued.popleft(), progress)
        while queued:
            yield from _collect(queued.popleft(), progress)


def _collect(
    queued: tuple[list[tuple[int, Row]], Any], progress: Callable[[int], None] | None
) -> Iterator[Screened]:
    chunk, pending = queued
    results = pending.get()
    if progress:
        progress(len(chunk))
    for (line, row), result in zip(chunk, results, strict=True):
        yield line, row, result


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


def screen_columns(columns: list[str]) -> list[str]:
    """The output columns of ``screen-batch``: the input's, then the result's."""
    return [*columns, *[c for c in SCREEN_COLUMNS if c not in columns]]


def listed_on(hit: dict[str, Any] | None) -> list[str]:
    """The lists a hit's entity is on (listed, or listed but suspended) as of the date."""
    if hit is None:
        return []
    return [s["list"] for s in hit["statuses"] if s["status"].startswith("listed")]


def screen_record(row: Row, result: dict[str, Any]) -> dict[str, Any]:
    """One output row: the input's cells, then the best hit and the others' ids."""
    hits = result["hits"]
    best = hits[0] if hits else None
    record: dict[str, Any] = dict(row)
    statuses = best["statuses"] if best else []
    record.update(
        match=bool(best),
        match_entity_id=best["entity"]["id"] if best else "",
        match_name=best["entity"]["name"] if best else "",
        match_score=best["score"] if best else "",
        match_by=best["match"] if best else "",
        matched_name=(best.get("matched_name") or "") if best else "",
        listed_on=";".join(listed_on(best)),
        statuses=";".join(
            f"{s['list']}={s['status']}" + (" (uncertain)" if s["uncertain"] else "")
            for s in statuses
        ),
        explanation=best["explanation"] if best else "",
        other_matches=";".join(f"{h['entity']['id']}:{h['score']:.3f}" for h in hits[1:]),
        error=result["error"],
    )
    return record


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
        schema = column(row, "schema") or "LegalEntity"
        if schema not in SCHEMATA:
            raise BatchError(
                f"line {line}: unknown schema {schema!r} (one of {', '.join(sorted(SCHEMATA))})"
            )
        name1, name2 = column(row, "name1"), column(row, "name2")
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
    "next_deadline_qualifier",
    "explanation",
    "error",
)


def portfolio_rows(
    columns: list[str], screened: Iterable[Screened]
) -> tuple[list[str], list[dict[str, Any]]]:
    """Exposure per holding: the matched entity, the lists it is on, the dated duties."""
    columns = [*columns, *[c for c in PORTFOLIO_COLUMNS if c not in columns]]
    out = []
    for _line, row, result in screened:
        hits = result["hits"]
        best = hits[0] if hits else None
        record: dict[str, Any] = dict(row)
        duties = best["obligations"] if best else []
        active = [d for d in duties if d["state"] in ("in_force", "pending", "due")]
        deadlines = sorted(
            (d["deadline"], d["deadline_qualifier"]) for d in active if d.get("deadline")
        )
        listed = listed_on(best)
        record.update(
            exposed=bool(listed),
            entity_id=best["entity"]["id"] if best else "",
            entity_name=best["entity"]["name"] if best else "",
            match_score=best["score"] if best else "",
            match_by=best["match"] if best else "",
            listed_on=";".join(listed),
            duties=";".join(
                f"{d['duty']} ({', '.join([d['list'], d['state'], *duty_dates(d)])}"
                + (", uncertain" if d["uncertain"] and d["state"] != "uncertain" else "")
                + ")"
                for d in duties
            ),
            next_deadline=deadlines[0][0] if deadlines else "",
            next_deadline_qualifier=deadlines[0][1] if deadlines else "",
            explanation=best["explanation"] if best else "",
            error=result["error"],
        )
        record["_duties"] = duties
        record["_statuses"] = best["statuses"] if best else []
        out.append(record)
    return columns, out
