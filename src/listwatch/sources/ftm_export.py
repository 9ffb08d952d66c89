"""FollowTheMoney export and restore of the whole registry, without loss.

Each line of the export is a FollowTheMoney entity, made with the ``followthemoney``
library so that any FtM tool can read it: registry entities as ``Company`` / ``Person``
/ ..., source documents as ``Document``, imports as ``Event``, list events as
``Sanction`` (other events as ``Event``). FtM has no place for bitemporal event fields,
evidence spans, reviews, merges or snapshot bookkeeping, so every line also carries a
``listwatch`` object with the registry's own record of it; ``listwatch import ftm FILE``
reads that object back, which makes export → import an exact round trip.

Lines come in dependency order (documents, imports, entities, events); references
between events use the export's own numbering and are mapped on restore.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session, selectinload

from listwatch.registry.db import Registry
from listwatch.registry.domain import DateQualifier
from listwatch.registry.models import (
    Document,
    Entity,
    EntityMerge,
    EntityName,
    Event,
    Evidence,
    Identifier,
    Import,
    Relation,
    Review,
    SourceRecord,
)
from listwatch.sources.engine import ImportResult, script_of
from listwatch.sources.errors import SourceError
from listwatch.sources.ftm import IDENTIFIER_PROPS

FORMAT_VERSION = 1
BATCH = 1000
DATASET = "listwatch"
_NAME_PROPS = {
    "primary": "name",
    "alias": "alias",
    "acronym": "abbreviation",
    "former": "previousName",
    "weak": "weakAlias",
    "new": "alias",
    "native": "alias",
}
_SCHEME_PROPS = {scheme: prop for prop, scheme in IDENTIFIER_PROPS.items()}
_LIST_STATUS = {"designated", "listed", "amended", "removed", "suspended", "reinstated"}


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _stamp(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


class _Writer:
    """Builds FtM entities and writes them as JSON lines with their registry record."""

    def __init__(self, handle: IO[str]) -> None:
        from followthemoney import model

        from listwatch.sources.normalize import known_country_codes

        self.model = model
        self.country_codes = known_country_codes()
        self.handle = handle
        self.counts: dict[str, int] = {}

    def write(
        self, schema: str, entity_id: str, props: dict[str, Any], record: dict[str, Any]
    ) -> None:
        """Write one line: a FtM entity (invalid values dropped by FtM) and the full record."""
        if self.model.get(schema) is None:
            schema = "LegalEntity"
        proxy = self.model.make_entity(schema)
        proxy.id = entity_id
        for prop, values in props.items():
            spec = proxy.schema.properties.get(prop)
            if spec is None:
                continue
            for value in values if isinstance(values, list) else [values]:
                if value is None or value == "":
                    continue
                if spec.type.name == "country":
                    # Codes are checked against the known ones here; FtM's own lookup of
                    # free-text country names is slow and the text stays in the record.
                    if str(value) in self.country_codes:
                        proxy.add(prop, str(value), cleaned=True)
                    continue
                proxy.add(prop, str(value), quiet=True)
        data = proxy.to_dict()
        data["datasets"] = [DATASET]
        data["listwatch"] = {"version": FORMAT_VERSION, **record}
        self.handle.write(json.dumps(data, ensure_ascii=False, sort_keys=True, default=str) + "\n")
        self.counts[record["type"]] = self.counts.get(record["type"], 0) + 1


def export(registry: Registry, path: Path) -> dict[str, int]:
    """Write the whole registry to ``path`` as FollowTheMoney JSON lines; returns counts."""
    partial = path.with_name(path.name + ".part")
    with registry.transaction() as session, partial.open("w", encoding="utf-8") as handle:
        writer = _Writer(handle)
        _export_documents(session, writer)
        _export_imports(session, writer)
        _export_entities(session, writer)
        _export_events(session, writer)
    partial.replace(path)
    return writer.counts


def _export_documents(session: Session, writer: _Writer) -> None:
    for doc in session.scalars(select(Document).order_by(Document.id)).yield_per(500):
        record = {
            "type": "document",
            "local_id": doc.id,
            "sha256": doc.sha256,
            "kind": doc.kind,
            "title": doc.title,
            "url": doc.url,
            "citation": doc.citation,
            "publisher": doc.publisher,
            "language": doc.language,
            "published": _iso(doc.published),
            "published_precision": doc.published_precision,
            "retrieved_at": _iso(doc.retrieved_at),
            "text": doc.text,
            "meta": doc.meta,
        }
        props = {
            "title": doc.title,
            "sourceUrl": doc.url,
            "publisher": doc.publisher,
            "publishedAt": _iso(doc.published),
            "language": doc.language,
            "summary": doc.citation,
        }
        writer.write("Document", f"lw-doc-{doc.sha256[:24]}", props, record)


def _export_imports(session: Session, writer: _Writer) -> None:
    shas = dict(session.execute(select(Document.id, Document.sha256)).all())
    for row in session.scalars(select(Import).order_by(Import.id)):
        record = {
            "type": "import",
            "local_id": row.id,
            "source": row.source,
            "sha256": row.sha256,
            "filename": row.filename,
            "url": row.url,
            "published": _iso(row.published),
            "published_from": row.published_from,
            "imported_at": _iso(row.imported_at),
            "records": row.records,
            "stats": row.stats,
            "document": shas.get(row.document_id) if row.document_id else None,
        }
        props = {
            "name": f"Import of a {row.source} snapshot",
            "date": _iso(row.published),
            "sourceUrl": row.url,
            "recordId": row.sha256,
        }
        writer.write("Event", f"lw-import-{row.id}", props, record)


def _export_entities(session: Session, writer: _Writer) -> None:
    shas = dict(session.execute(select(Document.id, Document.sha256)).all())
    relations: dict[str, list[dict[str, Any]]] = {}
    for rel in session.scalars(select(Relation).order_by(Relation.id)):
        relations.setdefault(rel.subject_id, []).append(
            {
                "object": rel.object_id,
                "kind": rel.kind,
                "document": shas.get(rel.document_id) if rel.document_id else None,
                "note": rel.note,
            }
        )
    merges: dict[str, list[dict[str, Any]]] = {}
    for merge in session.scalars(select(EntityMerge).order_by(EntityMerge.id)):
        merges.setdefault(merge.source_id, []).append(
            {
                "target": merge.target_id,
                "reason": merge.reason,
                "score": merge.score,
                "created_at": _iso(merge.created_at),
                "undone_at": _iso(merge.undone_at),
                "undo_reason": merge.undo_reason,
            }
        )
    records: dict[str, list[dict[str, Any]]] = {}
    for sr in session.scalars(select(SourceRecord).order_by(SourceRecord.id)).yield_per(2000):
        records.setdefault(sr.entity_id, []).append(
            {
                "source": sr.source,
                "list": sr.list_id,
                "key": sr.record_key,
                "hash": sr.content_hash,
                "present": sr.present,
                "first_import": sr.first_import_id,
                "last_import": sr.last_import_id,
            }
        )
    query = (
        select(Entity)
        .order_by(Entity.id)
        .options(selectinload(Entity.names), selectinload(Entity.identifiers))
    )
    for entity in session.scalars(query).yield_per(500):
        props: dict[str, list[Any]] = {
            k: list(v)
            for k, v in (entity.properties or {}).items()
            if not k.startswith("_") and isinstance(v, list)
        }
        for name in entity.names:
            props.setdefault(_NAME_PROPS.get(name.kind, "alias"), []).append(name.name)
        for identifier in entity.identifiers:
            prop = _SCHEME_PROPS.get(identifier.scheme)
            if prop:
                props.setdefault(prop, []).append(identifier.value)
        if entity.country:
            props.setdefault("country", []).append(entity.country)
        record = {
            "type": "entity",
            "id": entity.id,
            "schema": entity.schema,
            "name": entity.name,
            "country": entity.country,
            "properties": entity.properties,
            "origin": entity.origin,
            "review_state": entity.review_state,
            "created_at": _iso(entity.created_at),
            "names": [
                {
                    "name": n.name,
                    "kind": n.kind,
                    "lang": n.lang,
                    "script": n.script,
                    "origin": n.origin,
                }
                for n in entity.names
            ],
            "identifiers": [
                {"scheme": i.scheme, "value": i.value, "origin": i.origin}
                for i in entity.identifiers
            ],
            "relations": relations.get(entity.id, []),
            "merges": merges.get(entity.id, []),
            "source_records": records.get(entity.id, []),
        }
        writer.write(entity.schema, entity.id, props, record)


def _export_events(session: Session, writer: _Writer) -> None:
    shas = dict(session.execute(select(Document.id, Document.sha256)).all())
    addresses = dict(session.execute(select(Document.id, Document.url)).all())
    query = (
        select(Event)
        .order_by(Event.id)
        .options(selectinload(Event.evidence), selectinload(Event.reviews))
    )
    for event in session.scalars(query).yield_per(1000):
        record = {
            "type": "event",
            "local_id": event.id,
            "key": event.key,
            "entity": event.entity_id,
            "list": event.list_id,
            "kind": event.kind,
            "valid_date": _iso(event.valid_date),
            "valid_precision": event.valid_precision,
            "date_qualifier": event.date_qualifier,
            "announced_date": _iso(event.announced_date),
            "recorded_at": _iso(event.recorded_at),
            "origin": event.origin,
            "initial_review": event.initial_review,
            "confidence": event.confidence,
            "supersedes": event.supersedes_id,
            "import": event.import_id,
            "summary": event.summary,
            "details": event.details,
            "evidence": [
                {
                    "document": shas[e.document_id],
                    "locator": e.locator,
                    "text": e.text,
                    "start": e.start,
                    "end": e.end,
                    "recorded_at": _iso(e.recorded_at),
                }
                for e in event.evidence
            ],
            "reviews": [
                {
                    "state": r.state,
                    "reason": r.reason,
                    "reviewer": r.reviewer,
                    "confirmed_by": r.confirmed_by_event_id,
                    "recorded_at": _iso(r.recorded_at),
                }
                for r in event.reviews
            ],
        }
        urls = sorted({str(addresses.get(e.document_id)) for e in event.evidence} - {"None"})
        props: dict[str, Any] = {
            "entity": event.entity_id,
            "summary": event.summary,
            "recordId": event.key or str(event.id),
            "sourceUrl": urls,
        }
        if event.list_id and event.kind in _LIST_STATUS:
            props.update(
                program=event.list_id,
                programId=event.list_id,
                status=event.kind,
                date=_iso(event.valid_date),
            )
            # A date known only as a bound ("not later than" the snapshot that first shows
            # the change) is not when the sanction started or ended: it stays the record's
            # date alone.
            exact = event.date_qualifier != DateQualifier.NOT_AFTER
            if exact and event.kind in ("designated", "listed"):
                props["startDate"] = _iso(event.valid_date)
            if exact and event.kind == "removed":
                props["endDate"] = _iso(event.valid_date)
            writer.write("Sanction", f"lw-event-{event.id}", props, record)
        else:
            props.update(involved=event.entity_id, date=_iso(event.valid_date), name=event.kind)
            writer.write("Event", f"lw-event-{event.id}", props, record)


# -- restore ------------------------------------------------------------------------------


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("r", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(
                    path, f"not a JSON object ({exc.msg}): truncated?", line=number
                ) from None
            record = data.get("listwatch") if isinstance(data, dict) else None
            if not isinstance(record, dict) or "type" not in record:
                raise SourceError(path, "a line without its listwatch record", line=number)
            if record.get("version", 0) > FORMAT_VERSION:
                raise SourceError(
                    path, f"written by a newer listwatch (format {record['version']})", line=number
                )
            yield number, record


class _Restorer:
    """Applies an export to a registry, skipping what it already holds; writes in batches."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.documents: dict[str, int] = {
            sha: doc_id for doc_id, sha in session.execute(select(Document.id, Document.sha256))
        }
        self.entity_ids: set[str] = set(session.scalars(select(Entity.id)))
        self.event_keys: dict[str, int] = {
            str(key): event_id
            for event_id, key in session.execute(
                select(Event.id, Event.key).where(Event.key.is_not(None))
            )
        }
        self.unkeyed: dict[tuple[Any, ...], int] = {
            (r.entity_id, r.kind, r.recorded_at, r.valid_date, r.origin, r.summary): r.id
            for r in session.execute(
                select(
                    Event.id,
                    Event.entity_id,
                    Event.kind,
                    Event.recorded_at,
                    Event.valid_date,
                    Event.origin,
                    Event.summary,
                ).where(Event.key.is_(None))
            )
        }
        self.imports: dict[int, int] = {}
        self.events: dict[int, int] = {}
        self.pending_entities: list[dict[str, Any]] = []
        self.pending_events: list[dict[str, Any]] = []
        self.deferred_relations: list[tuple[str, dict[str, Any]]] = []
        self.deferred_merges: list[tuple[str, dict[str, Any]]] = []
        self.deferred_records: list[tuple[str, dict[str, Any]]] = []
        self.deferred_reviews: list[tuple[int, dict[str, Any]]] = []
        self.added: dict[str, int] = {}

    def count(self, what: str, number: int = 1) -> None:
        if number:
            self.added[what] = self.added.get(what, 0) + number

    def document(self, record: dict[str, Any]) -> None:
        if record["sha256"] in self.documents:
            return
        doc = Document(
            sha256=record["sha256"],
            kind=record["kind"],
            title=record["title"],
            url=record["url"],
            citation=record["citation"],
            publisher=record["publisher"],
            language=record["language"],
            published=_date(record["published"]),
            published_precision=record["published_precision"],
            retrieved_at=_stamp(record["retrieved_at"]),
            text=record["text"],
            meta=record["meta"] or {},
        )
        self.session.add(doc)
        self.session.flush()
        self.documents[doc.sha256] = doc.id
        self.count("documents")

    def import_(self, record: dict[str, Any]) -> None:
        existing = self.session.scalar(
            select(Import.id).where(
                Import.source == record["source"], Import.sha256 == record["sha256"]
            )
        )
        if existing is None:
            row = Import(
                source=record["source"],
                sha256=record["sha256"],
                filename=record["filename"],
                url=record["url"],
                published=_date(record["published"]),
                published_from=record["published_from"],
                imported_at=_stamp(record["imported_at"]),
                records=record["records"],
                stats=record["stats"] or {},
                document_id=self.documents.get(record["document"]) if record["document"] else None,
            )
            self.session.add(row)
            self.session.flush()
            existing = row.id
            self.count("imports")
        self.imports[record["local_id"]] = existing

    def entity(self, record: dict[str, Any]) -> None:
        self.deferred_relations += [(record["id"], r) for r in record["relations"]]
        self.deferred_merges += [(record["id"], m) for m in record["merges"]]
        self.deferred_records += [(record["id"], s) for s in record["source_records"]]
        if record["id"] in self.entity_ids:
            self._update_entity(record)
            return
        self.entity_ids.add(record["id"])
        self.pending_entities.append(record)
        if len(self.pending_entities) >= BATCH:
            self.flush_entities()

    def _update_entity(self, record: dict[str, Any]) -> None:
        """An entity the registry already has: add what it lacks (curated ones stay as they are)."""
        self.flush_entities()
        entity = self.session.get(Entity, record["id"])
        assert entity is not None
        if entity.origin != "curated":
            entity.schema, entity.name, entity.country = (
                record["schema"],
                record["name"],
                record["country"],
            )
            entity.properties = record["properties"] or {}
        have = {(n.name, n.kind) for n in entity.names}
        for name in record["names"]:
            if (name["name"], name["kind"]) not in have:
                have.add((name["name"], name["kind"]))
                entity.names.append(EntityName(**_name_row(name)))
        known = {(i.scheme, i.value) for i in entity.identifiers}
        for identifier in record["identifiers"]:
            if (identifier["scheme"], identifier["value"]) not in known:
                known.add((identifier["scheme"], identifier["value"]))
                entity.identifiers.append(Identifier(**identifier))
        self.session.flush()

    def flush_entities(self) -> None:
        if not self.pending_entities:
            return
        session = self.session
        rows, names, identifiers = [], [], []
        for record in self.pending_entities:
            rows.append(
                {
                    "id": record["id"],
                    "schema": record["schema"],
                    "name": record["name"],
                    "country": record["country"],
                    "properties": record["properties"] or {},
                    "origin": record["origin"],
                    "review_state": record["review_state"],
                    "created_at": _stamp(record["created_at"]),
                }
            )
            names += [{"entity_id": record["id"], **_name_row(n)} for n in record["names"]]
            identifiers += [{"entity_id": record["id"], **i} for i in record["identifiers"]]
        session.execute(insert(_table(Entity)), rows)
        if names:
            session.execute(insert(_table(EntityName)), names)
        if identifiers:
            session.execute(insert(_table(Identifier)), identifiers)
        self.count("entities", len(rows))
        self.pending_entities = []

    def event(self, number: int, record: dict[str, Any]) -> None:
        if record["key"] is not None:
            existing = self.event_keys.get(record["key"])
        else:
            existing = self.unkeyed.get(
                (
                    record["entity"],
                    record["kind"],
                    _stamp(record["recorded_at"]),
                    _date(record["valid_date"]),
                    record["origin"],
                    record["summary"],
                )
            )
        if existing is not None:
            self.events[record["local_id"]] = existing
            return
        if record["entity"] not in self.entity_ids:
            raise SourceError(
                "export",
                f"event {record['local_id']}: unknown entity {record['entity']!r}",
                line=number,
            )
        supersedes = record["supersedes"]
        if supersedes is not None and supersedes not in self.events:
            self.flush_events()
        self.pending_events.append(record)
        if len(self.pending_events) >= BATCH:
            self.flush_events()

    def flush_events(self) -> None:
        self.flush_entities()
        if not self.pending_events:
            return
        rows = []
        for record in self.pending_events:
            supersedes, origin_import = record["supersedes"], record["import"]
            rows.append(
                {
                    "key": record["key"],
                    "entity_id": record["entity"],
                    "list_id": record["list"],
                    "kind": record["kind"],
                    "valid_date": _date(record["valid_date"]),
                    "valid_precision": record["valid_precision"],
                    "date_qualifier": record["date_qualifier"],
                    "announced_date": _date(record["announced_date"]),
                    "recorded_at": _stamp(record["recorded_at"]),
                    "origin": record["origin"],
                    "initial_review": record["initial_review"],
                    "confidence": record["confidence"],
                    "supersedes_id": self.events.get(supersedes)
                    if supersedes is not None
                    else None,
                    "import_id": self.imports.get(origin_import)
                    if origin_import is not None
                    else None,
                    "summary": record["summary"],
                    "details": record["details"] or {},
                }
            )
        table = _table(Event)
        ids = (
            self.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
            )
            .scalars()
            .all()
        )
        evidence = []
        for record, event_id in zip(self.pending_events, ids, strict=True):
            self.events[record["local_id"]] = event_id
            if record["key"] is not None:
                self.event_keys[record["key"]] = event_id
            self.deferred_reviews += [(event_id, r) for r in record["reviews"]]
            evidence += [
                {
                    "event_id": event_id,
                    "document_id": self.documents[span["document"]],
                    "locator": span["locator"],
                    "text": span["text"],
                    "start": span["start"],
                    "end": span["end"],
                    "recorded_at": _stamp(span["recorded_at"]),
                }
                for span in record["evidence"]
            ]
        if evidence:
            self.session.execute(insert(_table(Evidence)), evidence)
        self.count("events", len(rows))
        self.pending_events = []

    def finish(self) -> None:
        session = self.session
        self.flush_events()
        present = {
            (r[0], r[1], r[2])
            for r in session.execute(select(Relation.subject_id, Relation.object_id, Relation.kind))
        }
        relations = []
        for subject, rel in self.deferred_relations:
            key = (subject, rel["object"], rel["kind"])
            if key in present or rel["object"] not in self.entity_ids:
                continue
            present.add(key)
            relations.append(
                {
                    "subject_id": subject,
                    "object_id": rel["object"],
                    "kind": rel["kind"],
                    "document_id": self.documents.get(rel["document"]) if rel["document"] else None,
                    "note": rel["note"],
                }
            )
        if relations:
            session.execute(insert(_table(Relation)), relations)
            self.count("relations", len(relations))
        stored = {
            (r[0], r[1], r[2])
            for r in session.execute(
                select(SourceRecord.source, SourceRecord.list_id, SourceRecord.record_key)
            )
        }
        records = [
            {
                "source": item["source"],
                "list_id": item["list"],
                "record_key": item["key"],
                "entity_id": entity_id,
                "content_hash": item["hash"],
                "present": item["present"],
                "first_import_id": self.imports[item["first_import"]],
                "last_import_id": self.imports[item["last_import"]],
            }
            for entity_id, item in self.deferred_records
            if (item["source"], item["list"], item["key"]) not in stored
        ]
        if records:
            session.execute(insert(_table(SourceRecord)), records)
            self.count("source_records", len(records))
        existing = {
            (m.source_id, m.target_id, m.created_at) for m in session.scalars(select(EntityMerge))
        }
        merges = []
        for source, merge in self.deferred_merges:
            created = _stamp(merge["created_at"])
            if (source, merge["target"], created) in existing:
                continue
            merges.append(
                {
                    "source_id": source,
                    "target_id": merge["target"],
                    "reason": merge["reason"],
                    "score": merge["score"],
                    "created_at": created,
                    "undone_at": _stamp(merge["undone_at"]),
                    "undo_reason": merge["undo_reason"],
                }
            )
        if merges:
            session.execute(insert(_table(EntityMerge)), merges)
            self.count("merges", len(merges))
        for event_id, review in self.deferred_reviews:
            confirmed = review["confirmed_by"]
            session.add(
                Review(
                    event_id=event_id,
                    state=review["state"],
                    reason=review["reason"],
                    reviewer=review["reviewer"],
                    confirmed_by_event_id=self.events.get(confirmed) if confirmed else None,
                    recorded_at=_stamp(review["recorded_at"]),
                )
            )
            self.count("reviews")
        session.flush()


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _name_row(name: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name["name"],
        "folded": _fold(name["name"]),
        "kind": name["kind"],
        "lang": name["lang"],
        "script": name.get("script") or script_of(name["name"]),
        "origin": name["origin"],
    }


def _fold(name: str) -> str:
    from listwatch.registry.names import fold_name

    return fold_name(name)


def restore(
    registry: Registry, path: Path, progress: Callable[[int, int], None] | None = None
) -> ImportResult:
    """Bring a registry export back (into an empty registry or one sharing its history)."""
    import hashlib

    started = time.perf_counter()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    result = ImportResult(source="ftm", files=[str(path)], format="ftm-restore", sha256=digest)
    total = path.stat().st_size
    with registry.transaction() as session:
        restorer = _Restorer(session)
        handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "document": restorer.document,
            "import": restorer.import_,
            "entity": restorer.entity,
        }
        for number, record in _lines(path):
            result.records += 1
            if record["type"] == "event":
                restorer.event(number, record)
            elif record["type"] in handlers:
                handlers[record["type"]](record)
            else:
                raise SourceError(path, f"unknown record type {record['type']!r}", line=number)
            if progress is not None and number % 1000 == 0:
                progress(min(total, number * 200), total)
        restorer.finish()
    result.events = {"registry": dict(sorted(restorer.added.items()))}
    result.entities_created = restorer.added.get("entities", 0)
    result.seconds = round(time.perf_counter() - started, 3)
    return result
