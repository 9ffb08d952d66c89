"""Bulk news extraction on Spark (``listwatch spark news``) and loading its output into the
registry (``listwatch spark load-news``).

Extraction: the driver builds :class:`~listwatch.news.pipeline.NewsPipeline` from the
registry (its gazetteer of names and its list names) and broadcasts it; executors read
the corpus' records — JSON lines, or Parquet rows, with the fields of ``news ingest``'s
JSON lines (``text`` or ``html``, ``url``, ``published``, ``language``, ``title``,
``id``) — and run the pipeline's :meth:`~listwatch.news.pipeline.NewsPipeline.process`
on each. A record that cannot be read (bad JSON, an impossible date, a language without
data) is reported in its row's ``error`` column, naming its file and line, and skipped.

Output: one row per record, in the corpus' order — where it came from, the document
(hash, name, address, title, publication date, language, cleaned text) and its events
as JSON (:func:`event_record`).

Loading (:func:`load_news`) stores documents and events exactly as ``news ingest`` does
(:func:`listwatch.news.ingest.store_result`: clustering across articles, conflicts with
the official record, confirmation), in batches of articles, one transaction each.
Articles already stored are skipped, so loading twice changes nothing and an
interrupted load is completed by running it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from listwatch.news.dates import TemporalMention
from listwatch.news.documents import (
    DEFAULT_MAX_BYTES,
    InputError,
    NewsDocument,
    record_document,
)
from listwatch.news.pipeline import DocumentResult, EvidenceItem, ExtractedEvent
from listwatch.registry.domain import EventKind, PartialDate
from listwatch.scale.session import (
    RangePartitioner,
    SparkJobError,
    check_output,
    default_parallelism,
    job_error,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from listwatch.news.ingest import IngestReport
    from listwatch.registry.db import Registry

FORMATS = ("parquet", "json")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
PARQUET_SUFFIXES = (".parquet", ".pq")
#: Articles per task: extraction costs milliseconds per article, so tasks stay short.
RECORDS_PER_PARTITION = 2_000
#: Errors echoed in the job's report (all of them are in the output).
FIRST_ERRORS = 10
#: Columns of the output, in order.
COLUMNS = (
    "source",
    "file",
    "line",
    "doc",
    "sha256",
    "url",
    "title",
    "published",
    "language",
    "kind",
    "text",
    "meta",
    "events",
    "event_count",
    "error",
)


@dataclass(frozen=True)
class NewsOptions:
    """How to extract: the confidence floor, the size limit, the output's shape."""

    min_confidence: float = 0.5
    max_bytes: int = DEFAULT_MAX_BYTES
    output_format: str = "parquet"
    partitions: int | None = None
    overwrite: bool = False


@dataclass
class NewsReport:
    """What the extraction job did."""

    input: str
    output: str
    files: int = 0
    records: int = 0
    documents: int = 0
    events: int = 0
    errors: int = 0
    first_errors: list[str] = field(default_factory=list)
    partitions: int = 0
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


# --------------------------------------------------------------------------- records


def parse_line(line: str, where: str) -> dict[str, Any] | None:
    """One JSON line as a record (``None`` for a blank line), with ``news ingest``'s errors."""
    line = line.removeprefix("\ufeff")  # a byte-order mark before the first line
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise InputError(f"{where}: expected a JSON object")
    return record


# --------------------------------------------------------------------------- events as JSON


def _mention_record(mention: TemporalMention | None) -> dict[str, Any] | None:
    if mention is None:
        return None
    return {
        "text": mention.text,
        "start": mention.start,
        "end": mention.end,
        "type": mention.type,
        "date": str(mention.date) if mention.date else None,
        "marker": mention.marker,
        "method": mention.method,
    }


def _mention(data: dict[str, Any] | None) -> TemporalMention | None:
    if data is None:
        return None
    return TemporalMention(
        text=data["text"],
        start=int(data["start"]),
        end=int(data["end"]),
        type=data["type"],
        date=PartialDate.parse(data["date"]) if data.get("date") else None,
        marker=data.get("marker"),
        method=data.get("method"),
    )


def event_record(event: ExtractedEvent) -> dict[str, Any]:
    """An extracted event as JSON, complete enough to be stored later (:func:`event_from`)."""
    return {
        "doc": event.doc,
        "kind": event.kind.value,
        "entity_id": event.entity_id,
        "entity": event.entity,
        "mention": event.mention,
        "list": event.list_id,
        "countries": list(event.countries),
        "date": _mention_record(event.date),
        "date_source": event.date_source,
        "confidence": event.confidence,
        "language": event.language,
        "hedged": event.hedged,
        "new_entity": event.new_entity,
        "published": event.published,
        "evidence": [
            {
                "start": item.start,
                "end": item.end,
                "text": item.text,
                "confidence": item.confidence,
                "trigger": item.trigger,
                "date": _mention_record(item.date),
                "date_source": item.date_source,
                "cues": list(item.cues),
            }
            for item in event.evidence
        ],
    }


def event_from(data: dict[str, Any]) -> ExtractedEvent:
    """The event :func:`event_record` wrote."""
    return ExtractedEvent(
        doc=data["doc"],
        kind=EventKind(data["kind"]),
        entity_id=data.get("entity_id"),
        entity=data["entity"],
        mention=data["mention"],
        list_id=data.get("list"),
        countries=list(data.get("countries") or []),
        date=_mention(data.get("date")),
        date_source=data.get("date_source"),
        confidence=float(data["confidence"]),
        language=data["language"],
        evidence=[
            EvidenceItem(
                start=int(item["start"]),
                end=int(item["end"]),
                text=item["text"],
                confidence=float(item["confidence"]),
                trigger=item["trigger"],
                date=_mention(item.get("date")),
                date_source=item.get("date_source"),
                cues=list(item.get("cues") or []),
            )
            for item in data["evidence"]
        ],
        hedged=bool(data["hedged"]),
        new_entity=bool(data["new_entity"]),
        published=data.get("published"),
    )


def output_row(
    where: str, file: str, line: int, result: DocumentResult | None, error: str = ""
) -> tuple[Any, ...]:
    """One row of the output (see :data:`COLUMNS`)."""
    if result is None:
        return (
            where,
            file,
            line,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            "[]",
            0,
            error,
        )
    document = result.document
    events = [event_record(e) for e in result.events]
    return (
        where,
        file,
        line,
        document.name,
        document.sha256,
        document.url,
        document.title,
        str(document.published) if document.published else None,
        result.language,
        document.kind,
        result.text,
        json.dumps(document.meta, ensure_ascii=False, default=str),
        json.dumps(events, ensure_ascii=False),
        len(events),
        "",
    )


def result_from_row(row: dict[str, Any]) -> DocumentResult:
    """The document and events of an output row, as :func:`store_result` takes them."""
    document = NewsDocument(
        name=row["doc"],
        text=row["text"],
        sha256=row["sha256"],
        kind=row["kind"] or "text",
        url=row.get("url"),
        published=PartialDate.parse(row["published"]) if row.get("published") else None,
        language=row.get("language"),
        title=row.get("title"),
        source=row.get("source"),
        meta=json.loads(row["meta"]) if row.get("meta") else {},
    )
    events = [event_from(item) for item in json.loads(row["events"] or "[]")]
    return DocumentResult(document, row["language"], row["text"], [], [], events)


# --------------------------------------------------------------------------- the job


def _list_files(spark: SparkSession, path: str) -> list[tuple[str, str]]:
    """(URI, file name) of the corpus' files: the file itself, or a directory's data files."""
    jvm = spark.sparkContext._jvm
    assert jvm is not None
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    fs = hadoop_path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not fs.exists(hadoop_path):
        raise SparkJobError(f"{path}: no such file or directory")
    status = fs.getFileStatus(hadoop_path)
    if not status.isDirectory():
        found = [status]
    else:
        found = [
            s
            for s in fs.listStatus(hadoop_path)
            if s.isFile() and not s.getPath().getName().startswith((".", "_"))
        ]
    files = sorted(
        (str(s.getPath().toString()), str(s.getPath().getName()))
        for s in found
        if str(s.getPath().getName()).lower().endswith(JSONL_SUFFIXES + PARQUET_SUFFIXES)
    )
    if not files:
        raise SparkJobError(
            f"{path}: no corpus files (JSON lines: {', '.join(JSONL_SUFFIXES)}; Parquet: "
            f"{', '.join(PARQUET_SUFFIXES)})"
        )
    return files


def _records(spark: SparkSession, files: list[tuple[str, str]]) -> Any:
    """(file number, raw record) for every line or row of every file, in order."""
    context = spark.sparkContext
    parts = []
    for number, (uri, name) in enumerate(files):
        rows: Any
        if name.lower().endswith(PARQUET_SUFFIXES):
            rows = spark.read.parquet(uri).rdd.map(lambda row: row.asDict(recursive=True))
        else:
            rows = context.textFile(uri, use_unicode=True)
        parts.append(rows.map(lambda raw, n=number: (n, raw)))
    return context.union(parts) if len(parts) > 1 else parts[0]


def run_news(
    spark: SparkSession,
    registry: Registry,
    input_path: str,
    output_path: str,
    options: NewsOptions,
) -> NewsReport:
    """Extract the events of every record of ``input_path`` into ``output_path``."""
    from listwatch.news.pipeline import NewsPipeline

    if options.output_format not in FORMATS:
        raise SparkJobError(
            f"unknown output format {options.output_format!r} ({', '.join(FORMATS)})"
        )
    started = time.perf_counter()
    report = NewsReport(input=input_path, output=output_path)
    check_output(spark, output_path, options.overwrite)
    files = _list_files(spark, input_path)
    report.files = len(files)
    with registry.transaction() as session:
        pipeline = NewsPipeline.from_session(session, min_confidence=options.min_confidence)
    context = spark.sparkContext
    shared = context.broadcast(pipeline)
    names = [name for _uri, name in files]
    try:
        records = _records(spark, files)
        # A position in the whole corpus, and where each file starts, give each record its
        # line (or row) number inside its file without a pass per file.
        numbered = records.zipWithIndex()
        counts = records.map(lambda item: item[0]).countByValue()
        starts: dict[int, int] = {}
        position = 0
        for number in range(len(files)):
            starts[number] = position
            position += int(counts.get(number, 0))
        total = position
        report.records = total
        target = options.partitions or max(
            default_parallelism(spark) * 2, -(-total // RECORDS_PER_PARTITION)
        )
        target = max(1, min(target, total or 1))
        keyed = numbered.map(lambda pair: (pair[1], pair[0]))
        if keyed.getNumPartitions() != target:
            keyed = keyed.repartitionAndSortWithinPartitions(
                target, partitionFunc=RangePartitioner(total, target)
            )
        report.partitions = keyed.getNumPartitions()
        extracted = keyed.mapPartitions(
            lambda part: _extract_partition(shared, names, starts, options.max_bytes, part)
        )
        frame = spark.createDataFrame(extracted, _schema())
        frame.cache()
        writer = frame.write.mode("overwrite" if options.overwrite else "errorifexists")
        if options.output_format == "parquet":
            writer.parquet(output_path)
        else:
            writer.json(output_path)
        summary = frame.selectExpr(
            "count(doc) AS documents",
            "coalesce(sum(event_count), 0) AS events",
            "coalesce(sum(CAST(error <> '' AS INT)), 0) AS errors",
        ).first()
        assert summary is not None
        report.documents = int(summary["documents"])
        report.events = int(summary["events"])
        report.errors = int(summary["errors"])
        report.first_errors = [
            row["error"] for row in frame.where("error <> ''").select("error").take(FIRST_ERRORS)
        ]
        frame.unpersist()
    except SparkJobError:
        raise
    except Exception as exc:
        raise SparkJobError(f"the news job failed: {job_error(exc)}") from None
    finally:
        shared.unpersist()
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _schema() -> Any:
    from pyspark.sql.types import IntegerType, LongType, StringType, StructField, StructType

    kinds = {"line": LongType(), "event_count": IntegerType()}
    return StructType([StructField(name, kinds.get(name, StringType()), True) for name in COLUMNS])


def _extract_partition(
    shared: Any,
    names: list[str],
    starts: dict[int, int],
    max_bytes: int,
    part: Iterable[tuple[int, tuple[int, Any]]],
) -> Iterator[tuple[Any, ...]]:
    """Output rows of a partition's records (executor side)."""
    from listwatch.news.langid import UnsupportedLanguageError
    from listwatch.news.langpack import LanguagePackError

    pipeline = shared.value
    for position, (file_number, raw) in part:
        name = names[file_number]
        line = position - starts[file_number] + 1
        where = f"{name}:{line}"
        try:
            record = parse_line(raw, where) if isinstance(raw, str) else _row_record(raw)
            if record is None:
                continue
            document = record_document(record, where, max_bytes)
            result = pipeline.process(document)
        except (InputError, UnsupportedLanguageError, LanguagePackError) as exc:
            message = str(exc)
            if not message.startswith(where) and where not in message:
                message = f"{where}: {message}"
            yield output_row(where, name, line, None, message)
            continue
        except Exception as exc:  # one bad article must not end a job over millions
            yield output_row(
                where, name, line, None, f"{where}: unexpected {type(exc).__name__}: {exc}"[:1000]
            )
            continue
        yield output_row(where, name, line, result)


def _row_record(row: dict[str, Any]) -> dict[str, Any]:
    """A Parquet row as a record: null cells are absent fields."""
    return {key: value for key, value in row.items() if value is not None}


# --------------------------------------------------------------------------- loading


@dataclass
class LoadReport:
    """What loading a ``spark news`` output did (``news ingest``'s report, plus skipped rows)."""

    ingest: IngestReport
    rows: int = 0
    skipped: int = 0
    batches: int = 0

    def to_json(self) -> dict[str, Any]:
        """A summary for ``--json``."""
        return self.ingest.to_json() | {
            "rows": self.rows,
            "skipped": self.skipped,
            "batches": self.batches,
        }


def output_files(path: Path) -> list[Path]:
    """The part files of a ``spark news`` output, in the order of the corpus."""
    if not path.is_dir():
        raise SparkJobError(f"{path}: not an output directory of `listwatch spark news`")
    parts = sorted(
        p
        for p in path.iterdir()
        if p.is_file()
        and not p.name.startswith((".", "_"))
        and p.name.endswith((".parquet", ".json"))
    )
    if not parts and not (path / "_SUCCESS").exists():
        raise SparkJobError(f"{path}: no part files (was the job finished?)")
    if not (path / "_SUCCESS").exists():
        raise SparkJobError(f"{path}: the job did not finish (no _SUCCESS marker); run it again")
    return parts


def output_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Every row of a ``spark news`` output, in order."""
    for part in output_files(path):
        if part.name.endswith(".parquet"):
            import pyarrow.parquet as pq

            handle = pq.ParquetFile(part)
            missing = [c for c in COLUMNS if c not in handle.schema_arrow.names]
            if missing:
                raise SparkJobError(f"{part}: not a `spark news` output (no {', '.join(missing)})")
            for batch in handle.iter_batches(batch_size=256):
                yield from batch.to_pylist()
        else:
            with part.open(encoding="utf-8") as stream:
                for number, line in enumerate(stream, 1):
                    if not line.strip():
                        continue
                    try:
                        row = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise SparkJobError(
                            f"{part}:{number}: not valid JSON ({exc.msg})"
                        ) from None
                    if not isinstance(row, dict) or ("sha256" not in row and "error" not in row):
                        raise SparkJobError(f"{part}:{number}: not a `spark news` output row")
                    yield {name: row.get(name) for name in COLUMNS}


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def load_news(registry: Registry, path: Path, *, batch: int = 500) -> LoadReport:
    """Store a ``spark news`` output: documents and events, ``batch`` articles a transaction."""
    from listwatch.news.ingest import NEWS_WRITERS, IngestReport, confirm_proposed, store_result
    from listwatch.registry.db import lock_writers

    report = LoadReport(IngestReport())
    for rows in _batches(output_rows(path), batch):
        usable = []
        for row in rows:
            report.rows += 1
            if row.get("error"):
                report.skipped += 1
                continue
            try:
                usable.append(result_from_row(row))
            except (KeyError, TypeError, ValueError) as exc:
                raise SparkJobError(
                    f"{path}: row {row.get('source')!r} cannot be read back ({exc})"
                ) from None
        if not usable:
            continue
        with registry.transaction() as session:
            lock_writers(session, NEWS_WRITERS)
            created_before = len(report.ingest.events_created)
            evidence_before = len(report.ingest.evidence_added)
            for result in usable:
                store_result(session, result, report.ingest)
            touched = sorted(
                set(report.ingest.events_created[created_before:])
                | set(report.ingest.evidence_added[evidence_before:])
            )
            report.ingest.confirmed += confirm_proposed(session, touched)
        report.batches += 1
    return report
