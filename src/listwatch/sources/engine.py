"""Importing one snapshot of an official source: records in, entities and dated events out.

An import runs in one transaction, in four steps:

1. **Read**: the loader streams the file's records; each is encoded once, hashed, and
   spooled to a temporary file, so that only its key, entity, hash and lists stay in
   memory.
2. **Entities**: the entities of new or changed records are (re)written from their
   records, in batches, with bulk inserts (names with their kind, language and script,
   identifiers, FollowTheMoney-named facts kept per source).
3. **Events**: memberships are compared per list and entity with the source's previous
   snapshot: new ones become ``designated`` (or, in a source's first snapshot, which
   cannot tell when an entry was listed, ``listed`` not later than the snapshot date
   unless the record gives its own listing date), vanished ones ``removed`` and changed
   ones ``amended``, all dated by the snapshot's publication date and recorded now,
   each with the records' own ids as evidence.
4. **Resolution**: the written entities are matched against the rest of the registry
   (see :mod:`listwatch.sources.resolve`).

Re-importing the same bytes changes nothing; any error rolls the whole import back.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from listwatch.registry.db import Registry, lock_writers
from listwatch.registry.domain import DateQualifier, EventKind, Origin, PartialDate, ReviewState
from listwatch.registry.models import (
    Entity,
    EntityName,
    Event,
    Evidence,
    Identifier,
    Import,
    Relation,
    SourceRecord,
    utcnow,
)
from listwatch.registry.names import detect_script, fold_name
from listwatch.registry.store import get_or_create_document
from listwatch.sources.base import Reader
from listwatch.sources.catalog import SourceSpec, source_spec
from listwatch.sources.errors import SourceError
from listwatch.sources.fileio import combined_sha256
from listwatch.sources.records import NAME_KINDS, RecordData

BATCH = 1000
ENTITIES = cast(Table, Entity.__table__)
NAMES = cast(Table, EntityName.__table__)
IDENTIFIERS = cast(Table, Identifier.__table__)
RELATIONS = cast(Table, Relation.__table__)
EVENTS = cast(Table, Event.__table__)
EVIDENCE = cast(Table, Evidence.__table__)
SOURCE_RECORDS = cast(Table, SourceRecord.__table__)
Progress = Callable[[int, int], None]

#: Preference when records of one entity disagree on its schema: the most specific wins.
_SCHEMA_ORDER = (
    "Person",
    "Vessel",
    "Airplane",
    "Company",
    "PublicBody",
    "Organization",
    "LegalEntity",
)
#: Properties that hold a country, in the order they decide an entity's main country.
COUNTRY_PROPS = ("country", "jurisdiction", "nationality", "citizenship", "flag")


@dataclass
class ImportOptions:
    """How to import: the publication date when the file has none, the file's address."""

    published: dt.date | None = None
    url: str | None = None
    progress: Progress | None = None
    resolve: bool = True
    now: dt.datetime | None = None


@dataclass
class ImportResult:
    """What an import did, per list (the ``--json`` output of ``listwatch import``)."""

    source: str
    files: list[str]
    format: str
    sha256: str
    import_id: int | None = None
    unchanged: bool = False
    published: str | None = None
    published_from: str | None = None
    first_snapshot: bool = False
    records: int = 0
    records_per_list: dict[str, int] = field(default_factory=dict)
    entities_created: int = 0
    entities_updated: int = 0
    events: dict[str, dict[str, int]] = field(default_factory=dict)
    merges: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)

    @property
    def events_added(self) -> int:
        """Events written in all."""
        return sum(sum(kinds.values()) for kinds in self.events.values())


@dataclass
class _Spooled:
    """What stays in memory of a record while the file is read."""

    entity_id: str
    offset: int
    length: int
    digest: str
    lists: tuple[tuple[str, str | None], ...]
    locator: str


class _Spool:
    """Encoded records on a temporary file, read back by offset."""

    def __init__(self) -> None:
        self.handle: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.size = 0

    def write(self, data: bytes) -> int:
        offset = self.size
        self.handle.write(data)
        self.size += len(data)
        return offset

    def read(self, item: _Spooled) -> RecordData:
        self.handle.seek(item.offset)
        data = self.handle.read(item.length)
        self.handle.seek(0, 2)
        return RecordData.decode(data)

    def close(self) -> None:
        self.handle.close()


def _decide_published(reader: Reader, option: dt.date | None, result: ImportResult) -> PartialDate:
    """The snapshot's publication date: the file's, else ``--published``; never a guess,
    never a date still to come."""
    published = _published(reader, option, result)
    tomorrow = (utcnow() + dt.timedelta(days=1)).date()
    if published.start > tomorrow:
        where = "the file says" if result.published_from == "file" else "--published says"
        raise SourceError(
            reader.path,
            f"{where} the snapshot was published on {published}, a date still to come",
        )
    return published


def _published(reader: Reader, option: dt.date | None, result: ImportResult) -> PartialDate:
    if reader.published is not None and reader.published.precision.value == "day":
        if option is not None and option != reader.published.start:
            result.warnings.append(
                f"the file says it was published on {reader.published}; --published {option} "
                "was not used"
            )
        result.published_from = "file"
        return reader.published
    if option is not None:
        result.published_from = "argument"
        return PartialDate.parse(option)
    raise SourceError(
        reader.path,
        "the file does not state its publication date: give it with --published YYYY-MM-DD "
        "(listwatch does not guess the date of a snapshot)",
    )


def import_snapshot(
    registry: Registry, source_id: str, reader: Reader, options: ImportOptions | None = None
) -> ImportResult:
    """Import one snapshot read by ``reader`` as the latest state of ``source_id``."""
    options = options or ImportOptions()
    spec = source_spec(source_id)
    started = time.perf_counter()
    sha = combined_sha256(reader.files)
    result = ImportResult(
        source=source_id,
        files=[str(f.path) for f in reader.files],
        format=reader.format,
        sha256=sha,
        warnings=list(reader.warnings),
    )
    try:
        with registry.transaction() as session:
            # One import at a time: an import diffs against the state the previous one left
            # (and resolves entities across sources), so two at once would both diff against
            # the same state.
            lock_writers(session, "import")
            done = session.scalar(
                select(Import).where(Import.source == source_id, Import.sha256 == sha)
            )
            if done is not None:
                result.unchanged = True
                result.import_id = done.id
                result.published = done.published.isoformat() if done.published else None
                result.published_from = done.published_from
                result.records = done.records
                result.records_per_list = dict(done.stats.get("records_per_list", {}))
                result.warnings.append(
                    f"this snapshot was already imported (import {done.id}): nothing changed"
                )
                return result
            _Importer(session, spec, reader, options, result).run()
    finally:
        reader.close()
    result.seconds = round(time.perf_counter() - started, 3)
    return result


class _Importer:
    """One import's state between its steps."""

    def __init__(
        self,
        session: Session,
        spec: SourceSpec,
        reader: Reader,
        options: ImportOptions,
        result: ImportResult,
    ) -> None:
        self.session = session
        self.spec = spec
        self.source = spec.id
        self.reader = reader
        self.options = options
        self.result = result
        self.now = options.now or utcnow()
        self.spool = _Spool()
        self.index: dict[str, _Spooled] = {}
        self.by_entity: dict[str, list[str]] = defaultdict(list)
        self.primary_names: dict[str, str] = {}
        self.duplicates = 0
        self.unparsed = 0
        self.relation_rows: list[dict[str, Any]] = []
        self.names_in_registry: dict[str, str] | None = None
        self.stored: dict[tuple[str, str], tuple[int, str, str, bool]] = {}

    # -- step 1 ---------------------------------------------------------------------
    def _add(self, record: RecordData, data: bytes, digest: str) -> None:
        known = self.index.get(record.key)
        if known is not None:
            if known.digest == digest:
                self.duplicates += 1
                return
            raise SourceError(
                self.reader.path,
                f"two different records share the key {record.key!r}",
                line=record.line,
                record=record.locator,
            )
        if not record.memberships:
            raise SourceError(
                self.reader.path, "a record on no list", line=record.line, record=record.locator
            )
        offset = self.spool.write(data)
        self.index[record.key] = _Spooled(
            record.entity_id,
            offset,
            len(data),
            digest,
            tuple(
                (m.list_id, str(m.listed_on) if m.listed_on else None) for m in record.memberships
            ),
            record.locator,
        )
        self.by_entity[record.entity_id].append(record.key)
        self.primary_names.setdefault(fold_name(record.name), record.entity_id)

    def read(self) -> None:
        """Stream the records into the spool; with a reader that can tell a record's raw
        digest before parsing it, records unchanged since the last snapshot are not parsed."""
        progress = self.options.progress
        total = self.reader.total
        lazy = self.reader.lazy_records() if self.reader.one_record_per_entity else None
        if lazy is None:
            for count, record in enumerate(self.reader.records(), start=1):
                data, digest = record.encode()
                self._add(record, data, digest)
                if progress is not None and count % 500 == 0:
                    progress(self.reader.position(), total)
        else:
            previous: dict[str, list[tuple[str, str, str, bool]]] = defaultdict(list)
            for (list_id, key), (_id, entity_id, digest, present) in self.stored.items():
                previous[key].append((list_id, entity_id, digest, present))
            label = self.spec.key_label
            for count, item in enumerate(lazy, start=1):
                old = previous.get(item.key, [])
                unchanged = bool(old) and all(p and d == item.digest for _l, _e, d, p in old)
                if unchanged and item.key not in self.index:
                    entity_id = old[0][1]
                    self.index[item.key] = _Spooled(
                        entity_id,
                        -1,
                        0,
                        item.digest,
                        tuple((list_id, None) for list_id, *_rest in old),
                        f"{label} {item.key}",
                    )
                    self.by_entity[entity_id].append(item.key)
                    self.unparsed += 1
                else:
                    record = item.parse()
                    data, _ = record.encode()
                    self._add(record, data, item.digest)
                if progress is not None and count % 500 == 0:
                    progress(self.reader.position(), total)
        if progress is not None:
            progress(total, total)
        if self.duplicates:
            self.result.warnings.append(f"{self.duplicates} exact duplicate records skipped")
        if not self.index:
            raise SourceError(self.reader.path, "no records found: an empty or cut-off list")
        expected = self.reader.expected
        if expected is not None and expected != len(self.index) + self.duplicates:
            self.result.warnings.append(
                f"the file declares {expected} records but holds {len(self.index)}"
            )
        self.result.warnings += [w for w in self.reader.warnings if w not in self.result.warnings]

    # -- the whole import -----------------------------------------------------------
    def run(self) -> None:
        session = self.session
        try:
            previous = session.execute(
                select(Import.published, Import.id, Import.stats)
                .where(Import.source == self.source)
                .order_by(Import.published.desc(), Import.id.desc())
                .limit(1)
            ).first()
            self.stored = self._stored_records()
            previous_format = (previous.stats or {}).get("format") if previous else None
            self.format_changed = previous_format not in (None, self.reader.format)
            if self.format_changed:
                self.result.warnings.append(
                    f"the previous snapshot of {self.source} was in another format "
                    f"({previous_format}): entries that changed are not reported as amended "
                    "this time, since the formats say the same things differently"
                )
            clock = time.perf_counter()
            self.read()
            self.result.timings["read"] = round(time.perf_counter() - clock, 3)
            published = _decide_published(self.reader, self.options.published, self.result)
            if previous is not None and previous.published and published.start < previous.published:
                raise SourceError(
                    self.reader.path,
                    f"this snapshot ({published}) is older than the latest imported snapshot of "
                    f"{self.source} ({previous.published.isoformat()}): import snapshots in order",
                )
            self.previous_date = previous.published if previous is not None else None
            self.published = published
            self.result.published = str(published)
            self.result.first_snapshot = previous is None
            self.result.records = len(self.index)
            counts: Counter[str] = Counter()
            for item in self.index.values():
                for list_id, _ in item.lists:
                    counts[list_id] += 1
            self.result.records_per_list = dict(sorted(counts.items()))
            self._check_lists(counts)
            self.document_id = self._document()
            row = Import(
                source=self.source,
                sha256=self.result.sha256,
                filename=str(self.reader.path),
                url=self.options.url
                or (self.spec.downloads[0].url if self.spec.downloads else None),
                published=published.start,
                published_from=self.result.published_from,
                imported_at=self.now,
                records=len(self.index),
                stats={},
                document_id=self.document_id,
            )
            session.add(row)
            session.flush()
            self.import_id = row.id
            self.result.import_id = row.id
            clock = time.perf_counter()
            touched = self._touched_entities()
            written = self._write_entities(touched)
            self.result.timings["entities"] = round(time.perf_counter() - clock, 3)
            clock = time.perf_counter()
            self._write_events()
            self.result.timings["events"] = round(time.perf_counter() - clock, 3)
            clock = time.perf_counter()
            if self.options.resolve and written:
                from listwatch.sources.resolve import resolve_entities

                self.result.merges = [
                    m.to_dict() for m in resolve_entities(session, written, source=self.source)
                ]
            self.result.timings["resolve"] = round(time.perf_counter() - clock, 3)
            row.stats = {
                k: v
                for k, v in self.result.to_dict().items()
                if k
                in (
                    "records_per_list",
                    "events",
                    "entities_created",
                    "entities_updated",
                    "merges",
                    "warnings",
                    "format",
                    "files",
                )
            }
            session.flush()
        finally:
            self.spool.close()

    def _check_lists(self, counts: Counter[str]) -> None:
        from listwatch.registry.models import RestrictionList

        known = set(self.session.scalars(select(RestrictionList.id)))
        unknown = sorted(set(counts) - known)
        if unknown:
            raise SourceError(
                self.reader.path,
                f"records on lists the registry does not know: {', '.join(unknown)}",
            )

    def _document(self) -> int:
        names = ", ".join(f.path.name for f in self.reader.files)
        document, _ = get_or_create_document(
            self.session,
            sha256=self.result.sha256,
            kind="official_file",
            title=f"{self.spec.title} ({names}), snapshot of {self.published}",
            url=self.options.url or (self.spec.downloads[0].url if self.spec.downloads else None),
            citation=f"{self.spec.title}, {names}, published {self.published}",
            publisher=self.spec.publisher,
            language="en",
            published=self.published,
            meta={
                "source": self.source,
                "format": self.reader.format,
                "published_from": self.result.published_from,
                "files": [
                    {"name": f.path.name, "sha256": f.sha256, "bytes": f.size}
                    for f in self.reader.files
                ],
            },
        )
        return document.id

    # -- step 2 ---------------------------------------------------------------------
    def _stored_records(self) -> dict[tuple[str, str], tuple[int, str, str, bool]]:
        rows = self.session.execute(
            select(
                SourceRecord.list_id,
                SourceRecord.record_key,
                SourceRecord.id,
                SourceRecord.entity_id,
                SourceRecord.content_hash,
                SourceRecord.present,
            ).where(SourceRecord.source == self.source)
        )
        return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}

    def _touched_entities(self) -> list[str]:
        touched: set[str] = set()
        for key, item in self.index.items():
            for list_id, _ in item.lists:
                old = self.stored.get((list_id, key))
                if old is None or not old[3] or old[2] != item.digest or old[1] != item.entity_id:
                    touched.add(item.entity_id)
        for (_list_id, key), (_id, entity_id, _digest, present) in self.stored.items():
            if present and key not in self.index and entity_id in self.by_entity:
                touched.add(entity_id)
        return sorted(touched)

    def _write_entities(self, touched: list[str]) -> list[str]:
        written: list[str] = []
        for start in range(0, len(touched), BATCH):
            batch = touched[start : start + BATCH]
            payloads = {
                entity_id: merge_records(
                    [self.spool.read(self.index[k]) for k in self.by_entity[entity_id]]
                )
                for entity_id in batch
            }
            self._write_batch(payloads)
            written += batch
        if self.relation_rows:
            self._insert_relations(self.relation_rows)
        return written

    def _write_batch(self, payloads: dict[str, EntityPayload]) -> None:
        session = self.session
        ids = list(payloads)
        existing = {
            row[0]: row
            for row in session.execute(
                select(Entity.id, Entity.properties, Entity.origin).where(Entity.id.in_(ids))
            )
        }
        new_rows, updates = [], []
        for entity_id, payload in payloads.items():
            if entity_id in existing:
                properties = dict(existing[entity_id][1] or {})
                owner = properties.get("_source")
                update_row: dict[str, Any] = {
                    "id": entity_id,
                    "properties": _with_source(properties, self.source, payload.properties),
                }
                if owner in (None, self.source) and existing[entity_id][2] == "import":
                    update_row.update(
                        schema=payload.schema, name=payload.name, country=payload.country
                    )
                updates.append(update_row)
            else:
                new_rows.append(
                    {
                        "id": entity_id,
                        "schema": payload.schema,
                        "name": payload.name,
                        "country": payload.country,
                        "properties": _with_source(
                            {"_source": self.source}, self.source, payload.properties
                        ),
                        "origin": Origin.IMPORT.value,
                        "review_state": ReviewState.ACCEPTED.value,
                        "created_at": self.now,
                    }
                )
        if new_rows:
            session.execute(insert(ENTITIES), new_rows)
            self.result.entities_created += len(new_rows)
        if updates:
            _update_by_id(session, ENTITIES, updates)
            self.result.entities_updated += len(updates)
        updated_ids = [u["id"] for u in updates]
        taken_names: set[tuple[str, str, str]] = set()
        taken_ids: set[tuple[str, str, str]] = set()
        if updated_ids:
            session.execute(
                delete(EntityName).where(
                    EntityName.entity_id.in_(updated_ids), EntityName.origin == self.source
                )
            )
            session.execute(
                delete(Identifier).where(
                    Identifier.entity_id.in_(updated_ids), Identifier.origin == self.source
                )
            )
            session.execute(
                delete(Relation).where(
                    Relation.subject_id.in_(updated_ids), Relation.note.like(f"[{self.source}]%")
                )
            )
            taken_names = {
                (r[0], r[1], r[2])
                for r in session.execute(
                    select(EntityName.entity_id, EntityName.name, EntityName.kind).where(
                        EntityName.entity_id.in_(updated_ids)
                    )
                )
            }
            taken_ids = {
                (r[0], r[1], r[2])
                for r in session.execute(
                    select(Identifier.entity_id, Identifier.scheme, Identifier.value).where(
                        Identifier.entity_id.in_(updated_ids)
                    )
                )
            }
        name_rows, id_rows, relation_rows = [], [], []
        for entity_id, payload in payloads.items():
            for name, kind, lang in payload.names:
                if (entity_id, name, kind) in taken_names:
                    continue
                taken_names.add((entity_id, name, kind))
                name_rows.append(
                    {
                        "entity_id": entity_id,
                        "name": name,
                        "folded": fold_name(name),
                        "kind": kind,
                        "lang": lang,
                        "script": script_of(name),
                        "origin": self.source,
                    }
                )
            for scheme, value in payload.identifiers:
                if (entity_id, scheme, value) in taken_ids:
                    continue
                taken_ids.add((entity_id, scheme, value))
                id_rows.append(
                    {
                        "entity_id": entity_id,
                        "scheme": scheme,
                        "value": value,
                        "origin": self.source,
                    }
                )
            for kind, target in payload.relations:
                target_id = self._relation_target(target)
                if target_id and target_id != entity_id:
                    relation_rows.append(
                        {
                            "subject_id": entity_id,
                            "object_id": target_id,
                            "kind": kind.lower().replace(" ", "_").replace(",", ""),
                            "document_id": self.document_id,
                            "note": f"[{self.source}] {kind}: {target}",
                        }
                    )
        if name_rows:
            session.execute(insert(NAMES), name_rows)
        if id_rows:
            session.execute(insert(IDENTIFIERS), id_rows)
        self.relation_rows += relation_rows

    def _relation_target(self, name: str) -> str | None:
        """The entity of this snapshot a record refers to by name ("Linked To: ...")."""
        folded = fold_name(name)
        found = self.primary_names.get(folded)
        if found is not None or not self.unparsed:
            return found
        if self.names_in_registry is None:
            rows = self.session.execute(
                select(Entity.id, Entity.name)
                .join(SourceRecord, SourceRecord.entity_id == Entity.id)
                .where(SourceRecord.source == self.source, SourceRecord.present.is_(True))
            )
            self.names_in_registry = {}
            for entity_id, entity_name in rows:
                self.names_in_registry.setdefault(fold_name(entity_name), entity_id)
        return self.names_in_registry.get(folded)

    def _insert_relations(self, rows: list[dict[str, Any]]) -> None:
        wanted = {(r["subject_id"], r["object_id"], r["kind"]): r for r in rows}
        subjects = sorted({r["subject_id"] for r in rows})
        present = {
            (r[0], r[1], r[2])
            for r in self.session.execute(
                select(Relation.subject_id, Relation.object_id, Relation.kind).where(
                    Relation.subject_id.in_(subjects)
                )
            )
        }
        fresh = [r for key, r in wanted.items() if key not in present]
        if fresh:
            self.session.execute(insert(RELATIONS), fresh)

    # -- step 3 ---------------------------------------------------------------------
    def _write_events(self) -> None:
        before: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
        for (list_id, key), (_id, entity_id, digest, present) in self.stored.items():
            if present:
                before[(list_id, entity_id)][key] = digest
        after: dict[tuple[str, str], dict[str, tuple[str, str | None]]] = defaultdict(dict)
        for key, item in self.index.items():
            for list_id, listed_on in item.lists:
                after[(list_id, item.entity_id)][key] = (item.digest, listed_on)
        events: list[dict[str, Any]] = []
        spans: list[list[tuple[str, str | None]]] = []
        tally: dict[str, Counter[str]] = defaultdict(Counter)
        for list_id, entity_id in sorted(set(before) | set(after)):
            old = before.get((list_id, entity_id), {})
            new = after.get((list_id, entity_id), {})
            change = self._change(list_id, entity_id, old, new)
            if change is None:
                continue
            event, evidence = change
            events.append(event)
            spans.append(evidence)
            tally[list_id][event["kind"]] += 1
            if len(events) >= BATCH:
                self._insert_events(events, spans)
                events, spans = [], []
        self._insert_events(events, spans)
        self.result.events = {k: dict(sorted(v.items())) for k, v in sorted(tally.items())}
        self._write_source_records()

    def _change(
        self,
        list_id: str,
        entity_id: str,
        old: dict[str, str],
        new: dict[str, tuple[str, str | None]],
    ) -> tuple[dict[str, Any], list[tuple[str, str | None]]] | None:
        snapshot = self.published
        details: dict[str, Any] = {
            "source": self.source,
            "import": self.import_id,
            "snapshot": str(snapshot),
            "records": sorted(new or old),
        }
        if self.previous_date is not None:
            details["previous_snapshot"] = self.previous_date.isoformat()
        valid, qualifier = snapshot, DateQualifier.NOT_AFTER
        label = self.spec.key_label
        if new and not old:
            own = sorted(d for _h, d in new.values() if d)
            listed = PartialDate.parse(own[0]) if own else None
            if self.previous_date is None:
                kind = EventKind.DESIGNATED if listed else EventKind.LISTED
                if listed and listed.start <= snapshot.start:
                    valid, qualifier = listed, DateQualifier.ON
                else:
                    kind = EventKind.LISTED
            else:
                kind = EventKind.DESIGNATED
                if listed and self.previous_date < listed.start <= snapshot.start:
                    valid, qualifier = listed, DateQualifier.ON
                elif listed:
                    details["listed_on_in_record"] = str(listed)
            summary = (
                f"On {list_id} in the {self.source} snapshot of {snapshot}"
                if kind is EventKind.LISTED
                else f"Added to {list_id} ({self.source} snapshot of {snapshot})"
            )
            evidence: list[tuple[str, str | None]] = [
                (self.index[k].locator, None) for k in sorted(new)
            ]
        elif old and not new:
            kind = EventKind.REMOVED
            summary = f"No longer on {list_id} in the {self.source} snapshot of {snapshot}"
            evidence = [(f"{label} {k}", "absent from this snapshot") for k in sorted(old)]
        else:
            changed = sorted(
                k
                for k in set(old) | set(new)
                if k not in old or k not in new or old[k] != new[k][0]
            )
            if not changed or self.format_changed:
                return None
            kind = EventKind.AMENDED
            details["changed_records"] = changed
            summary = f"Entry amended on {list_id} ({self.source} snapshot of {snapshot})"
            evidence = [
                (
                    self.index[k].locator if k in self.index else f"{label} {k}",
                    None if k in self.index else "absent from this snapshot",
                )
                for k in changed
            ]
        event = {
            "key": f"import:{self.source}:{self.result.sha256[:16]}:{list_id}:{entity_id}",
            "entity_id": entity_id,
            "list_id": list_id,
            "kind": kind.value,
            "valid_date": valid.start,
            "valid_precision": valid.precision.value,
            "date_qualifier": qualifier.value,
            "announced_date": None,
            "recorded_at": self.now,
            "origin": Origin.IMPORT.value,
            "initial_review": ReviewState.ACCEPTED.value,
            "confidence": 1.0,
            "supersedes_id": None,
            "import_id": self.import_id,
            "summary": summary,
            "details": details,
        }
        return event, evidence

    def _insert_events(
        self, events: list[dict[str, Any]], spans: list[list[tuple[str, str | None]]]
    ) -> None:
        for start in range(0, len(events), BATCH):
            chunk = events[start : start + BATCH]
            # A plain executemany, then the new ids by the events' unique keys: RETURNING
            # with ordered rows makes some drivers insert one row at a time.
            self.session.execute(insert(EVENTS), chunk)
            keys = [event["key"] for event in chunk]
            by_key = dict(
                self.session.execute(
                    select(EVENTS.c.key, EVENTS.c.id).where(EVENTS.c.key.in_(keys))
                ).all()
            )
            ids = [by_key[key] for key in keys]
            evidence_rows = [
                {
                    "event_id": event_id,
                    "document_id": self.document_id,
                    "locator": locator,
                    "text": text,
                    "start": None,
                    "end": None,
                    "recorded_at": self.now,
                }
                for event_id, span in zip(ids, spans[start : start + BATCH], strict=True)
                for locator, text in span
            ]
            if evidence_rows:
                self.session.execute(insert(EVIDENCE), evidence_rows)

    def _write_source_records(self) -> None:
        inserts, updates = [], []
        for key, item in self.index.items():
            for list_id, _ in item.lists:
                old = self.stored.get((list_id, key))
                if old is None:
                    inserts.append(
                        {
                            "source": self.source,
                            "list_id": list_id,
                            "record_key": key,
                            "entity_id": item.entity_id,
                            "content_hash": item.digest,
                            "present": True,
                            "first_import_id": self.import_id,
                            "last_import_id": self.import_id,
                        }
                    )
                elif old[1] != item.entity_id or old[2] != item.digest or not old[3]:
                    updates.append(
                        {
                            "id": old[0],
                            "entity_id": item.entity_id,
                            "content_hash": item.digest,
                            "present": True,
                            "last_import_id": self.import_id,
                        }
                    )
        for (_list_id, key), (row_id, _entity, _digest, present) in self.stored.items():
            if present and key not in self.index:
                updates.append({"id": row_id, "present": False, "last_import_id": self.import_id})
        # Every record still present was seen in this snapshot: one statement for all.
        self.session.execute(
            update(SOURCE_RECORDS)
            .where(SOURCE_RECORDS.c.source == self.source, SOURCE_RECORDS.c.present.is_(True))
            .values(last_import_id=self.import_id)
        )
        for start in range(0, len(inserts), BATCH * 5):
            self.session.execute(insert(SOURCE_RECORDS), inserts[start : start + BATCH * 5])
        for start in range(0, len(updates), BATCH * 5):
            _update_by_id(self.session, SOURCE_RECORDS, updates[start : start + BATCH * 5])


def script_of(name: str) -> str | None:
    """The script of a name; plain ASCII is Latin (or none), the rest is looked up."""
    if name.isascii():
        return "Latn" if any(ch.isalpha() for ch in name) else None
    return detect_script(name)


def _update_by_id(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Bulk UPDATE of rows by primary key, grouped by the set of columns they change."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(k for k in row if k != "id"))].append(row)
    for columns, items in groups.items():
        statement = (
            update(table)
            .where(table.c.id == bindparam("row_id"))
            .values({c: bindparam(f"new_{c}") for c in columns})
        )
        session.execute(
            statement,
            [{"row_id": r["id"], **{f"new_{c}": r[c] for c in columns}} for r in items],
        )


def _with_source(
    properties: dict[str, Any], source: str, values: dict[str, list[str]]
) -> dict[str, Any]:
    """Entity properties: the union of every source's facts, each source's kept apart.

    An entity described by one source holds that source's facts and ``_source``; once a
    second source describes it, ``_sources`` keeps each source's facts so that a later
    snapshot of one source replaces its facts without touching the others'.
    """
    by_source: dict[str, dict[str, list[str]]] = dict(properties.get("_sources") or {})
    owner = properties.get("_source")
    if not by_source:
        earlier = {k: v for k, v in properties.items() if not k.startswith("_")}
        if earlier and owner != source:
            by_source[owner or "curated"] = earlier
    by_source[source] = values
    merged: dict[str, Any] = {
        k: v for k, v in properties.items() if k.startswith("_") and k != "_sources"
    }
    merged.setdefault("_source", source)
    if len(by_source) == 1:
        merged.update(values)
        return merged
    for name in sorted(by_source):
        for prop, items in by_source[name].items():
            bucket = merged.setdefault(prop, [])
            bucket.extend(v for v in items if v not in bucket)
    if len(by_source) > 1:
        merged["_sources"] = by_source
    return merged


@dataclass
class EntityPayload:
    """An entity as its records in one snapshot describe it."""

    schema: str
    name: str
    country: str | None
    names: list[tuple[str, str, str | None]]
    identifiers: list[tuple[str, str]]
    properties: dict[str, list[str]]
    relations: list[tuple[str, str]]


def _main_country(properties: dict[str, list[str]]) -> str | None:
    for prop in COUNTRY_PROPS:
        for value in properties.get(prop, []):
            if len(value) <= 6 and value.replace("-", "").isalpha() and value.islower():
                return value
    return None


def _payload_of(record: RecordData) -> EntityPayload:
    """The entity one record describes (the common case, without merging)."""
    properties = dict(record.properties)
    programs = [p for m in record.memberships for p in m.programs]
    if programs:
        bucket = list(properties.get("program", []))
        bucket.extend(p for p in dict.fromkeys(programs) if p not in bucket)
        properties["program"] = bucket
    primary = record.name
    names: list[tuple[str, str, str | None]] = []
    seen: set[tuple[str, str]] = set()
    for name in sorted(
        record.names, key=lambda n: NAME_KINDS.index(n.kind) if n.kind in NAME_KINDS else 99
    ):
        kind = "alias" if name.kind == "primary" and name.name != primary else name.kind
        if (name.name, kind) not in seen:
            seen.add((name.name, kind))
            names.append((name.name, kind, name.lang))
    identifiers = list(dict.fromkeys((i.scheme, i.value[:200]) for i in record.identifiers))
    return EntityPayload(
        record.schema,
        primary[:1000],
        _main_country(properties),
        names,
        identifiers,
        properties,
        list(dict.fromkeys(record.relations)),
    )


def merge_records(records: Iterable[RecordData]) -> EntityPayload:
    """One entity from the records that describe it (most often exactly one)."""
    items = list(records)
    if len(items) == 1:
        return _payload_of(items[0])
    schemas = [r.schema for r in items]
    schema = min(schemas, key=lambda s: _SCHEMA_ORDER.index(s) if s in _SCHEMA_ORDER else 99)
    if "Person" in schemas and any(s in ("Company", "Organization") for s in schemas):
        schema = items[0].schema
    names: list[tuple[str, str, str | None]] = []
    seen: set[tuple[str, str]] = set()
    primary = items[0].name
    for record in items:
        for name in sorted(
            record.names, key=lambda n: NAME_KINDS.index(n.kind) if n.kind in NAME_KINDS else 99
        ):
            kind = name.kind
            if kind == "primary" and name.name != primary:
                kind = "alias"
            if (name.name, kind) in seen:
                continue
            seen.add((name.name, kind))
            names.append((name.name, kind, name.lang))
    identifiers: list[tuple[str, str]] = []
    properties: dict[str, list[str]] = {}
    relations: list[tuple[str, str]] = []
    for record in items:
        for identifier in record.identifiers:
            pair = (identifier.scheme, identifier.value[:200])
            if pair not in identifiers:
                identifiers.append(pair)
        for prop, values in record.properties.items():
            bucket = properties.setdefault(prop, [])
            bucket.extend(v for v in values if v not in bucket)
        for relation in record.relations:
            if relation not in relations:
                relations.append(relation)
        for membership in record.memberships:
            bucket = properties.setdefault("program", [])
            bucket.extend(p for p in membership.programs if p not in bucket)
    return EntityPayload(
        schema,
        primary[:1000],
        _main_country(properties),
        names,
        identifiers,
        properties,
        relations,
    )
