"""The DoD "Chinese military companies" list, whose only machine-readable form is curated.

The DoD publishes the s.1237 tranches and the s.1260H lists as press releases, PDFs and
Federal Register notices. Its loader therefore reads a curated events file, in the
format of ``registry/curated/data/events/`` (``sources:`` with their publication date,
``events:`` citing them, optionally ``entities:``): every event keeps its cited source
as evidence and, like every curated fact, is recorded as of its source's publication
date. An event the registry already holds (same entity, list, kind and date) is not
added twice, so importing the bundled file changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from listwatch.registry.db import Registry
from listwatch.registry.domain import DateError, EventKind, Origin, PartialDate
from listwatch.registry.entities import member_ids
from listwatch.registry.models import Entity, Event, Import
from listwatch.registry.store import (
    EvidenceSpan,
    NewEvent,
    add_event,
    add_name,
    get_or_create_document,
)
from listwatch.sources.engine import ImportResult
from listwatch.sources.errors import SourceError

LIST_ID = "us-dod-cmc"
SOURCE_ID = "dod-cmc"


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise SourceError(path, "not valid UTF-8 text") from None
    except yaml.YAMLError as exc:
        raise SourceError(path, f"not valid YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise SourceError(path, "a curated events file needs an `events:` list")
    return data


def _date(path: Path, where: str, value: Any) -> PartialDate:
    try:
        return PartialDate.parse(str(value))
    except DateError as exc:
        raise SourceError(path, f"{where}: {exc}") from None


def _document_sha(key: str, source: dict[str, Any]) -> str:
    """The same document identity as the bundled curated dataset uses for a cited source."""
    body = json.dumps({"curated_source": key, **source}, sort_keys=True, default=str)
    return hashlib.sha256(body.encode()).hexdigest()


def import_curated_events(registry: Registry, path: Path) -> ImportResult:
    """Add the cited events of a curated DoD events file (idempotent)."""
    started = time.perf_counter()
    data = _read(path)
    raw = path.read_bytes()
    sha = hashlib.sha256(raw).hexdigest()
    sources = {str(k): v for k, v in (data.get("sources") or {}).items()}
    result = ImportResult(source=SOURCE_ID, files=[str(path)], format="curated-yaml", sha256=sha)
    with registry.transaction() as session:
        done = session.scalar(
            select(Import).where(Import.source == SOURCE_ID, Import.sha256 == sha)
        )
        if done is not None:
            result.unchanged = True
            result.import_id = done.id
            result.records = done.records
            return result
        for item in data.get("entities") or []:
            if session.get(Entity, item["id"]) is None:
                entity = Entity(
                    id=item["id"],
                    schema=item.get("schema", "Company"),
                    name=item["name"],
                    country=item.get("country"),
                    origin=Origin.CURATED.value,
                )
                session.add(entity)
                add_name(session, entity, item["name"], kind="primary", origin=SOURCE_ID)
                for name in item.get("names", []):
                    add_name(
                        session,
                        entity,
                        name["name"],
                        kind=name.get("kind", "alias"),
                        lang=name.get("lang"),
                        origin=SOURCE_ID,
                    )
                result.entities_created += 1
        session.flush()
        added: dict[str, int] = {}
        latest: PartialDate | None = None
        expanded = [
            (index, {**item, "entity": entity})
            for index, item in enumerate(data["events"], start=1)
            for entity in (item.get("entities") or [item.get("entity")])
        ]
        for index, item in expanded:
            where = f"event {index} ({item.get('entity')})"
            entity_id = item.get("entity")
            list_id = item.get("list")
            if list_id not in (LIST_ID, None):
                raise SourceError(
                    path, f"{where}: the dod-cmc source holds events of {LIST_ID} only"
                )
            if not entity_id or session.get(Entity, entity_id) is None:
                raise SourceError(path, f"{where}: unknown entity {entity_id!r}")
            try:
                kind = EventKind(item["kind"])
            except (KeyError, ValueError):
                raise SourceError(path, f"{where}: unknown kind {item.get('kind')!r}") from None
            valid = _date(path, where, item["date"]) if item.get("date") is not None else None
            keys = item.get("sources") or [item.get("source")]
            if not keys or not all(k in sources for k in keys):
                raise SourceError(path, f"{where}: cites an undeclared source {keys}")
            cited = sources[keys[0]]
            if not cited.get("published"):
                raise SourceError(path, f"source {keys[0]}: a publication date is required")
            published = _date(path, f"source {keys[0]}", cited["published"])
            latest = published if latest is None or published > latest else latest
            result.records += 1
            if valid is not None and _already_known(session, entity_id, list_id, kind, valid):
                continue
            spans = []
            for key in keys:
                source = sources[key]
                document, _ = get_or_create_document(
                    session,
                    sha256=_document_sha(key, source),
                    kind=source.get("kind", "release"),
                    title=source.get("title"),
                    url=source.get("url"),
                    citation=source.get("citation"),
                    publisher=source.get("publisher"),
                    language=source.get("language", "en"),
                    published=_date(path, f"source {key}", source["published"]),
                    meta={"curated_source": key},
                )
                spans.append(
                    EvidenceSpan(
                        document.id,
                        text=item.get("quote"),
                        locator=item.get("locator") or source.get("citation"),
                    )
                )
            recorded = _date(path, where, item["recorded"]) if item.get("recorded") else published
            day = recorded.start
            add_event(
                session,
                NewEvent(
                    entity_id=entity_id,
                    list_id=list_id,
                    kind=kind,
                    origin=Origin.CURATED,
                    evidence=spans,
                    valid=valid,
                    recorded_at=dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC),
                    summary=item.get("summary"),
                    details={
                        k: item[k]
                        for k in ("tranche", "edition", "note", "court", "docket", "countries")
                        if k in item
                    },
                    key=f"{SOURCE_ID}:{sha[:16]}:{index}:{entity_id}",
                ),
            )
            added[kind.value] = added.get(kind.value, 0) + 1
        row = Import(
            source=SOURCE_ID,
            sha256=sha,
            filename=str(path),
            url=None,
            published=latest.start if latest else None,
            published_from="file",
            records=result.records,
            stats={"events": {LIST_ID: added}} if added else {"events": {}},
        )
        session.add(row)
        session.flush()
        result.import_id = row.id
        result.published = str(latest) if latest else None
        result.published_from = "file"
        result.records_per_list = {LIST_ID: result.records}
        result.events = {LIST_ID: dict(sorted(added.items()))} if added else {}
        if result.records and not added:
            result.warnings.append("every event of the file is already in the registry")
    result.seconds = round(time.perf_counter() - started, 3)
    return result


def _already_known(
    session: Any, entity_id: str, list_id: str | None, kind: EventKind, valid: PartialDate
) -> bool:
    """Whether the registry already states this event (for the entity or one merged with it)."""
    ids = member_ids(session, entity_id)
    found = session.scalar(
        select(Event.id).where(
            Event.entity_id.in_(ids),
            Event.list_id.is_(None) if list_id is None else Event.list_id == list_id,
            Event.kind == kind.value,
            Event.valid_date == valid.start,
        )
    )
    return found is not None
