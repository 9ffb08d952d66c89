"""Screening very many names on Spark: ``listwatch spark screen INPUT OUTPUT``.

The job has three steps:

1. **On the driver**: the registry's screening index is opened (built or brought up to
   date, exactly as ``screen-batch`` does), packed, and broadcast to the executors with
   the map of merged entities. Executors never open the registry.
2. **On the executors**: each row becomes a :class:`~listwatch.screening.screen.Query`
   and is scored by :meth:`Screener.match <listwatch.screening.screen.Screener.match>`,
   the code every other screening path runs. The matches are kept (memory, then disk).
3. **On the driver again**: the entities that matched — at most the registry's size,
   whatever the input's — are described once (status on each list as of the date,
   duties for the role); the descriptions are broadcast and each row gets the columns of
   ``screen-batch`` (:func:`listwatch.screening.batch.screen_record`).

Output is a directory of part files (Parquet, CSV or JSON lines) in input order, with
``match`` a boolean and ``match_score`` a number; a ``_listwatch.json`` manifest beside
them records what was screened, against what and as of when.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from listwatch.scale.session import (
    RangePartitioner,
    SparkJobError,
    check_output,
    default_parallelism,
    job_error,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

    from listwatch.registry.db import Registry

FORMATS = ("parquet", "csv", "json")
#: Rows per partition the job aims at: small enough to spread a file over every core.
ROWS_PER_PARTITION = 50_000
MANIFEST = "_listwatch.json"
#: Typed result columns; every other column is text.
BOOLEAN_COLUMNS = frozenset({"match"})
NUMBER_COLUMNS = frozenset({"match_score"})


@dataclass(frozen=True)
class ScreenOptions:
    """What to screen for: the date, the role, the kind of names, the threshold."""

    as_of: dt.date
    known_at: dt.date | None = None
    role: str | None = None
    schema: str = "any"
    threshold: float | None = None
    limit: int = 5  # hits kept per row, as in screen-batch
    output_format: str = "parquet"
    partitions: int | None = None
    overwrite: bool = False


@dataclass
class ScreenReport:
    """What the job did."""

    input: str
    output: str
    rows: int = 0
    matched: int = 0
    errors: int = 0
    entities_described: int = 0
    index_names: int = 0
    partitions: int = 0
    seconds: float = 0.0
    columns: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class IndexPackage:
    """The screening index as broadcast: the directory packed as tar, and merged entities."""

    key: str
    archive: bytes
    canonical: dict[str, str]


@dataclass(frozen=True)
class RowJob:
    """The per-row settings executors need (picklable)."""

    schema: str
    threshold: float | None
    limit: int


# --------------------------------------------------------------------------- driver side


def pack_index(directory: Path, canonical: dict[str, str]) -> IndexPackage:
    """The index directory as an uncompressed tar (its arrays are already dense)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for path in sorted(directory.iterdir()):
            if path.is_file():
                archive.add(path, arcname=path.name)
    data = buffer.getvalue()
    import hashlib

    return IndexPackage(hashlib.sha256(data).hexdigest()[:20], data, dict(canonical))


def read_input(spark: SparkSession, path: str) -> DataFrame:
    """The input as text columns: Parquet by its extension (or a directory of it), else CSV."""
    lowered = path.lower().rstrip("/")
    try:
        if lowered.endswith((".parquet", ".pq")) or _is_parquet_dir(path):
            frame = spark.read.parquet(path)
        else:
            frame = spark.read.csv(
                path,
                header=True,
                inferSchema=False,
                escape='"',
                quote='"',
                encoding="UTF-8",
                mode="FAILFAST",
                multiLine=False,
            )
    except Exception as exc:
        raise SparkJobError(f"{path}: cannot read the input: {job_error(exc)}") from None
    return frame


def _is_parquet_dir(path: str) -> bool:
    local = Path(path)
    return local.is_dir() and any(p.suffix == ".parquet" for p in local.iterdir())


def check_columns(path: str, columns: list[str], required: Iterable[str]) -> list[str]:
    """Column names as ``screen-batch`` reads them (stripped), with its errors."""
    from listwatch.screening.batch import BatchError
    from listwatch.screening.batch import check_columns as check_header

    stripped = [c.strip() for c in columns]
    try:
        check_header(path, stripped, required)
    except BatchError as exc:
        raise SparkJobError(str(exc)) from None
    return stripped


def describe_entities(
    registry: Registry, entity_ids: Iterable[str], options: ScreenOptions
) -> dict[str, tuple[Any, ...]]:
    """Name, schema, country, statuses and duties of each entity, as of the options' date."""
    from listwatch.screening.screen import Hit, describe

    described: dict[str, tuple[Any, ...]] = {}
    with registry.transaction() as session:
        for entity_id in sorted(set(entity_ids)):
            hit = Hit(entity_id=entity_id, name="", schema="", country=None, score=0.0, match="")
            describe(session, hit, options.as_of, options.known_at, options.role)
            described[entity_id] = (
                hit.name or None,
                hit.schema or None,
                hit.country,
                hit.statuses,
                hit.obligations,
            )
    return described


def run_screen(
    spark: SparkSession,
    registry: Registry,
    input_path: str,
    output_path: str,
    options: ScreenOptions,
    index_dir: Path | None = None,
) -> ScreenReport:
    """Screen every row of ``input_path`` into ``output_path`` (see the module docstring)."""
    from pyspark import StorageLevel

    from listwatch.registry.entities import canonical_map
    from listwatch.screening.batch import screen_columns
    from listwatch.screening.index import open_index

    if options.output_format not in FORMATS:
        raise SparkJobError(
            f"unknown output format {options.output_format!r} ({', '.join(FORMATS)})"
        )
    started = time.perf_counter()
    report = ScreenReport(input=input_path, output=output_path)
    check_output(spark, output_path, options.overwrite)
    frame = read_input(spark, input_path)
    columns = check_columns(input_path, frame.columns, ("name",))
    state = open_index(registry, index_dir)
    report.index_names = state.index.size
    with registry.transaction() as session:
        canonical = canonical_map(session)
    context = spark.sparkContext
    package = context.broadcast(pack_index(state.directory, canonical))
    job = RowJob(options.schema, options.threshold, options.limit)

    rows = frame.rdd.map(lambda row: _text_row(columns, row))
    try:
        indexed = rows.zipWithIndex()
        total = indexed.count()
    except Exception as exc:
        raise SparkJobError(f"{input_path}: {job_error(exc)}") from None
    report.rows = total
    target = options.partitions or max(
        default_parallelism(spark) * 2, -(-total // ROWS_PER_PARTITION)
    )
    target = max(1, min(target, total or 1))
    keyed = indexed.map(lambda pair: (pair[1], pair[0]))
    if keyed.getNumPartitions() != target:
        keyed = keyed.repartitionAndSortWithinPartitions(
            target, partitionFunc=RangePartitioner(total, target)
        )
    report.partitions = keyed.getNumPartitions()
    matched = keyed.mapPartitions(lambda part: _match_partition(package, job, part))
    matched.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        entity_ids = matched.flatMap(lambda item: [h["entity"]["id"] for h in item[2]])
        wanted = entity_ids.distinct().collect()
        descriptions = context.broadcast(describe_entities(registry, wanted, options))
        report.entities_described = len(wanted)
        output_columns = screen_columns(columns)
        report.columns = output_columns
        shaped = matched.mapPartitions(
            lambda part: _format_partition(descriptions, output_columns, part)
        )
        result = spark.createDataFrame(shaped, _schema(output_columns))
        _write(result, output_path, options)
        report.matched = matched.filter(lambda item: bool(item[2])).count()
        report.errors = matched.filter(lambda item: bool(item[3])).count()
    except SparkJobError:
        raise
    except Exception as exc:
        raise SparkJobError(f"the screening job failed: {job_error(exc)}") from None
    finally:
        matched.unpersist()
        package.unpersist()
    report.seconds = round(time.perf_counter() - started, 3)
    _write_manifest(output_path, report, options, registry)
    return report


def _text_row(columns: list[str], row: Any) -> dict[str, str]:
    """A row as ``screen-batch`` reads one: every cell as text, a missing cell empty."""
    return {
        column: "" if value is None else str(value)
        for column, value in zip(columns, row, strict=True)
    }


def _schema(columns: list[str]) -> Any:
    from pyspark.sql.types import BooleanType, DoubleType, StringType, StructField, StructType

    fields = []
    for column in columns:
        if column in BOOLEAN_COLUMNS:
            kind: Any = BooleanType()
        elif column in NUMBER_COLUMNS:
            kind = DoubleType()
        else:
            kind = StringType()
        fields.append(StructField(column, kind, nullable=True))
    return StructType(fields)


def _write(frame: DataFrame, path: str, options: ScreenOptions) -> None:
    writer = frame.write.mode("overwrite" if options.overwrite else "errorifexists")
    if options.output_format == "parquet":
        writer.parquet(path)
    elif options.output_format == "csv":
        writer.csv(
            path,
            header=True,
            escape='"',
            quote='"',
            emptyValue="",
            ignoreLeadingWhiteSpace=False,
            ignoreTrailingWhiteSpace=False,
        )
    else:
        writer.json(path)


def _write_manifest(
    path: str, report: ScreenReport, options: ScreenOptions, registry: Registry
) -> None:
    """Provenance beside the part files (local outputs; a cluster's store keeps Spark's own)."""
    local = Path(path.removeprefix("file://"))
    if "://" in path.removeprefix("file://") or not local.is_dir():
        return
    from sqlalchemy.engine import make_url

    manifest = {
        "job": "spark screen",
        "report": report.to_dict(),
        "as_of": options.as_of.isoformat(),
        "known_at": options.known_at.isoformat() if options.known_at else None,
        "role": options.role,
        "schema": options.schema,
        "threshold": options.threshold,
        "registry": make_url(registry.url).render_as_string(hide_password=True),
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    (local / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------- executor side

#: Per Python worker: the unpacked index and its screener, by package key.
_SCREENERS: dict[str, Any] = {}


def _screener(package: Any) -> Any:
    """The screener of a broadcast index, unpacked once per worker process."""
    value: IndexPackage = package.value
    found = _SCREENERS.get(value.key)
    if found is not None:
        return found
    from listwatch.screening.index import NameIndex
    from listwatch.screening.screen import Screener

    directory = Path(tempfile.mkdtemp(prefix=f"listwatch-index-{value.key}-", dir=_scratch()))
    with tarfile.open(fileobj=io.BytesIO(value.archive), mode="r") as archive:
        archive.extractall(directory, filter="data")
    index = NameIndex.load(directory)
    if index is None:
        raise SparkJobError("the broadcast screening index could not be opened")
    screener = Screener(index, value.canonical)
    _SCREENERS.clear()  # one index per worker at a time
    _SCREENERS[value.key] = screener
    return screener


def _scratch() -> str | None:
    """Spark's per-application directory (removed when the application ends), if known."""
    try:
        from pyspark import SparkFiles

        root = SparkFiles.getRootDirectory()
    except Exception:
        return None
    return root if root and os.path.isdir(root) else None


def _match_partition(
    package: Any, job: RowJob, part: Iterable[tuple[int, dict[str, str]]]
) -> Iterator[tuple[int, dict[str, str], list[dict[str, Any]], str]]:
    """(row number, row, hits without status, error) for each row of a partition, matched
    a chunk of rows at a time (as ``screen-batch`` does)."""
    from listwatch.screening.batch import CHUNK, collector_paused, hit_records, row_query
    from listwatch.screening.identifiers import IdentifierError

    screener = _screener(package)
    keep = ("entity", "score", "match", "matched_name", "explanation")
    rows = iter(part)
    while chunk := list(itertools.islice(rows, CHUNK)):
        # Spark decodes bad bytes as U+FFFD where screen-batch refuses the whole file.
        readable = [(n, row) for n, row in chunk if not any("\ufffd" in v for v in row.values())]
        queries = [row_query(row, job.schema, job.threshold, job.limit) for _n, row in readable]
        with collector_paused():
            found_rows = screener.match_many(queries)
            records = [
                found if isinstance(found, IdentifierError) else hit_records(found)
                for found in found_rows
            ]
        matched = dict(zip((n for n, _row in readable), records, strict=True))
        for number, row in chunk:
            line = number + 2  # the header is line 1
            hits: list[dict[str, Any]] = []
            error = ""
            found = matched.get(number)
            if found is None:
                error = f"line {line}: not UTF-8 text (the input must be UTF-8); not screened"
            elif isinstance(found, IdentifierError):
                error = f"line {line}: {found}"
            else:
                hits = [{key: full[key] for key in keep} for full in found]
            yield number, row, hits, error


def _format_partition(
    descriptions: Any,
    output_columns: list[str],
    part: Iterable[tuple[int, dict[str, str], list[dict[str, Any]], str]],
) -> Iterator[tuple[Any, ...]]:
    """Rows of the output: the input's cells, then ``screen-batch``'s result columns."""
    from listwatch.screening.batch import screen_record

    described: dict[str, tuple[Any, ...]] = descriptions.value
    for _number, row, hits, error in part:
        for hit in hits:
            name, schema, country, statuses, obligations = described[hit["entity"]["id"]]
            entity = hit["entity"]
            if name is not None:
                entity["name"], entity["schema"], entity["country"] = name, schema, country
            hit["statuses"], hit["obligations"] = statuses, obligations
        yield _typed_row(output_columns, screen_record(row, {"hits": hits, "error": error}))


def _typed_row(columns: list[str], record: dict[str, Any]) -> tuple[Any, ...]:
    values: list[Any] = []
    for column in columns:
        value = record.get(column)
        if column in BOOLEAN_COLUMNS:
            values.append(bool(value))
        elif column in NUMBER_COLUMNS:
            values.append(None if value in ("", None) else float(value))
        else:
            values.append("" if value is None else str(value))
    return tuple(values)
