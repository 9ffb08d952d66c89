"""Reading the curated YAML files and bringing a database in line with them.

The files are reviewed like code: ``authorities.yaml``, one file per list in
``lists/``, entities in ``entities/`` and cited events in ``events/``. Every event
cites a source declared under ``sources:``; its record time is that source's
publication date, so ``known_at`` answers as a well-informed reader of that day would.

Syncing never edits an event in place: an event whose curated content changed is
superseded by a new one, and an event dropped from the files is withdrawn.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from listwatch.registry.domain import EventKind, Origin, PartialDate, ReviewState
from listwatch.registry.models import (
    Authority,
    Document,
    Entity,
    EntityName,
    Event,
    Evidence,
    Identifier,
    ListName,
    Meta,
    Relation,
    RestrictionList,
)
from listwatch.registry.names import detect_script, fold_name

CURATED_DIR = Path(__file__).with_name("data")
META_KEY = "curated_sha256"


class CuratedError(ValueError):
    """The curated files are inconsistent (unknown reference, bad date, missing source)."""


@dataclass
class CuratedDataset:
    """The parsed curated files, with cross-references checked."""

    authorities: list[dict[str, Any]] = field(default_factory=list)
    lists: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    sha256: str = ""


class _TextDateLoader(yaml.SafeLoader):
    """A safe YAML loader that keeps dates as text: partial dates stay what they say."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDateLoader) or {}
    except yaml.YAMLError as exc:
        raise CuratedError(f"{path}: not valid YAML: {exc}") from None


def _files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.yaml")) if directory.is_dir() else []


def _data_files(directory: Path) -> list[Path]:
    paths = [directory / "authorities.yaml", directory / "sources.yaml"]
    paths += _files(directory / "lists") + _files(directory / "entities")
    paths += _files(directory / "events")
    return [path for path in paths if path.exists()]


def dataset_hash(directory: Path = CURATED_DIR) -> str:
    """SHA-256 over the curated files (names and bytes): the dataset's version."""
    digest = hashlib.sha256()
    for path in _data_files(directory):
        digest.update(path.relative_to(directory).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def curated_is_current(engine: Engine, directory: Path = CURATED_DIR) -> bool:
    """Whether the database already holds this version of the curated dataset."""
    with engine.connect() as connection:
        stored = connection.execute(
            select(Meta.value).where(Meta.key == META_KEY)
        ).scalar_one_or_none()
    return stored == dataset_hash(directory)


def load_dataset(directory: Path = CURATED_DIR) -> CuratedDataset:
    """Parse and check every curated file under ``directory``."""
    data = CuratedDataset(sha256=dataset_hash(directory))
    for path in _data_files(directory):
        content = _read_yaml(path)
        if path.parent.name == "lists":
            data.lists.append(content)
            continue
        data.authorities += content.get("authorities", [])
        data.entities += content.get("entities", [])
        for key, source in (content.get("sources") or {}).items():
            if key in data.sources:
                raise CuratedError(f"{path}: source {key!r} is declared twice")
            data.sources[key] = source
        for raw in content.get("events", []):
            data.events.extend(_expand_event(raw, path))
    _check(data)
    return data


def _expand_event(raw: dict[str, Any], path: Path) -> list[dict[str, Any]]:
    """One YAML event entry may name several entities (a tranche); give each its own event."""
    names = raw.get("entities") or [raw.get("entity")]
    events = []
    for entity in names:
        if not entity:
            raise CuratedError(f"{path}: event without entity: {raw}")
        event = {k: v for k, v in raw.items() if k != "entities"}
        event["entity"] = entity
        event["_file"] = path.name
        event["date"] = str(event["date"]) if event.get("date") is not None else None
        list_part = event.get("list") or "-"
        event.setdefault("id", f"{list_part}:{entity}:{event['kind']}:{event['date']}")
        events.append(event)
    return events


#: Event fields copied into ``Event.details`` as they are.
_DETAIL_KEYS = (
    "countries",
    "court",
    "docket",
    "note",
    "tranche",
    "edition",
    "exchange",
    "scheduled",
    "unverified",
)
_EVENT_KEYS = {
    "id",
    "entity",
    "list",
    "kind",
    "date",
    "date_qualifier",
    "announced",
    "recorded",
    "source",
    "sources",
    "quote",
    "locator",
    "summary",
    "confidence",
    *_DETAIL_KEYS,
}


def _check(data: CuratedDataset) -> None:
    authority_ids = {a["id"] for a in data.authorities}
    list_ids = set()
    for item in data.lists:
        if item.get("authority") not in authority_ids:
            raise CuratedError(f"list {item.get('id')}: unknown authority {item.get('authority')}")
        list_ids.add(item["id"])
    entity_ids = set()
    for entity in data.entities:
        if entity["id"] in entity_ids:
            raise CuratedError(f"entity {entity['id']!r} is declared twice")
        entity_ids.add(entity["id"])
    for entity in data.entities:
        for relation in entity.get("relations", []):
            if relation["object"] not in entity_ids:
                raise CuratedError(f"entity {entity['id']}: unknown related {relation['object']}")
    for key, source in data.sources.items():
        if not source.get("published"):
            raise CuratedError(f"source {key}: a publication date is required")
        PartialDate.parse(str(source["published"]))
    seen: set[str] = set()
    for event in data.events:
        where = f"{event['_file']}: event {event['id']}"
        if event["id"] in seen:
            raise CuratedError(f"{where}: declared twice")
        unknown = {k for k in event if not k.startswith("_")} - _EVENT_KEYS
        if unknown:
            raise CuratedError(f"{where}: unknown field(s) {sorted(unknown)}")
        seen.add(event["id"])
        if event["entity"] not in entity_ids:
            raise CuratedError(f"{where}: unknown entity {event['entity']!r}")
        if event.get("list") and event["list"] not in list_ids:
            raise CuratedError(f"{where}: unknown list {event['list']!r}")
        try:
            EventKind(event["kind"])
        except ValueError:
            raise CuratedError(f"{where}: unknown kind {event['kind']!r}") from None
        if event["date"] is not None:
            PartialDate.parse(event["date"])
        sources = event.get("sources") or [event.get("source")]
        if not sources or not all(s in data.sources for s in sources):
            raise CuratedError(f"{where}: cites an undeclared source {sources}")


def _as_timestamp(value: Any) -> dt.datetime:
    day = PartialDate.parse(str(value)).start
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def _content_hash(event: dict[str, Any]) -> str:
    body = {k: v for k, v in event.items() if not k.startswith("_")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _source_document(session: Session, key: str, source: dict[str, Any]) -> Document:
    body = json.dumps({"curated_source": key, **source}, sort_keys=True, default=str)
    sha = hashlib.sha256(body.encode()).hexdigest()
    existing = session.scalar(select(Document).where(Document.sha256 == sha))
    if existing:
        return existing
    published = PartialDate.parse(str(source["published"]))
    document = Document(
        sha256=sha,
        kind=source.get("kind", "release"),
        title=source.get("title"),
        url=source.get("url"),
        citation=source.get("citation"),
        publisher=source.get("publisher"),
        language=source.get("language", "en"),
        published=published.start,
        published_precision=published.precision.value,
        meta={"curated_source": key},
    )
    session.add(document)
    session.flush()
    return document


def _sync_reference(session: Session, data: CuratedDataset) -> None:
    for item in data.authorities:
        authority = session.get(Authority, item["id"]) or Authority(id=item["id"])
        authority.name = item["name"]
        authority.short_name = item.get("short_name")
        authority.country = item.get("country")
        authority.url = item.get("url")
        session.add(authority)
    session.flush()
    for item in data.lists:
        restriction = session.get(RestrictionList, item["id"]) or RestrictionList(id=item["id"])
        restriction.authority_id = item["authority"]
        restriction.name = item["name"]
        restriction.short_name = item.get("short_name")
        restriction.description = item.get("description")
        restriction.url = item.get("url")
        restriction.legal_basis = item.get("legal_basis", [])
        restriction.consequences = item.get("consequences", [])
        restriction.notes = item.get("notes", [])
        wanted = {
            (lang, name) for lang, names in (item.get("names") or {}).items() for name in names
        }
        restriction.names = [n for n in restriction.names if (n.lang, n.name) in wanted]
        have = {(n.lang, n.name) for n in restriction.names}
        for lang, name in sorted(wanted - have):
            restriction.names.append(ListName(lang=lang, name=name))
        session.add(restriction)
    session.flush()


def _sync_entities(session: Session, data: CuratedDataset) -> None:
    for item in data.entities:
        entity = session.get(Entity, item["id"]) or Entity(id=item["id"], origin=Origin.CURATED)
        entity.schema = item.get("schema", "Company")
        entity.name = item["name"]
        entity.country = item.get("country")
        entity.properties = {k: item[k] for k in ("notes", "website", "founded") if k in item}
        wanted = [{"name": item["name"], "kind": "primary", "lang": item.get("lang")}]
        wanted += [
            {"name": n["name"], "kind": n.get("kind", "alias"), "lang": n.get("lang")}
            for n in item.get("names", [])
        ]
        keep = {(w["name"], w["kind"]) for w in wanted}
        entity.names = [
            n for n in entity.names if n.origin != "curated" or (n.name, n.kind) in keep
        ]
        have = {(n.name, n.kind) for n in entity.names}
        for name in wanted:
            if (name["name"], name["kind"]) in have:
                continue
            have.add((name["name"], name["kind"]))
            entity.names.append(
                EntityName(
                    name=name["name"],
                    folded=fold_name(name["name"]),
                    kind=name["kind"],
                    lang=name["lang"],
                    script=detect_script(name["name"]),
                    origin="curated",
                )
            )
        wanted_ids = {(i["scheme"], str(i["value"])) for i in item.get("identifiers", [])}
        entity.identifiers = [
            i
            for i in entity.identifiers
            if i.origin != "curated" or (i.scheme, i.value) in wanted_ids
        ]
        have_ids = {(i.scheme, i.value) for i in entity.identifiers}
        for scheme, value in sorted(wanted_ids - have_ids):
            entity.identifiers.append(Identifier(scheme=scheme, value=value, origin="curated"))
        session.add(entity)
    session.flush()
    for item in data.entities:
        for relation in item.get("relations", []):
            exists = session.scalar(
                select(Relation).where(
                    Relation.subject_id == item["id"],
                    Relation.object_id == relation["object"],
                    Relation.kind == relation["kind"],
                )
            )
            if not exists:
                session.add(
                    Relation(
                        subject_id=item["id"],
                        object_id=relation["object"],
                        kind=relation["kind"],
                        note=relation.get("note"),
                    )
                )
    session.flush()


def _new_event(session: Session, data: CuratedDataset, item: dict[str, Any], content: str) -> Event:
    source_keys = item.get("sources") or [item["source"]]
    first_source = data.sources[source_keys[0]]
    valid = PartialDate.parse(item["date"]) if item["date"] else None
    details: dict[str, Any] = {k: item[k] for k in _DETAIL_KEYS if k in item}
    details["curated_id"] = item["id"]
    recorded = item.get("recorded") or first_source["published"]
    event = Event(
        key=f"curated:{item['id']}:{content[:16]}",
        entity_id=item["entity"],
        list_id=item.get("list"),
        kind=item["kind"],
        valid_date=valid.start if valid else None,
        valid_precision=valid.precision.value if valid else None,
        date_qualifier=item.get("date_qualifier", "on"),
        announced_date=(
            PartialDate.parse(str(item["announced"])).start if item.get("announced") else None
        ),
        recorded_at=_as_timestamp(recorded),
        origin=Origin.CURATED,
        initial_review=ReviewState.ACCEPTED,
        confidence=float(item.get("confidence", 1.0)),
        summary=item.get("summary"),
        details=details,
    )
    for key in source_keys:
        document = _source_document(session, key, data.sources[key])
        event.evidence.append(
            Evidence(
                document_id=document.id,
                locator=item.get("locator") or data.sources[key].get("citation"),
                text=item.get("quote"),
                recorded_at=event.recorded_at,
            )
        )
    return event


def _sync_events(session: Session, data: CuratedDataset) -> None:
    current: dict[str, Event] = {}
    superseded = set(
        session.scalars(select(Event.supersedes_id).where(Event.supersedes_id.is_not(None)))
    )
    for event in session.scalars(select(Event).where(Event.origin == Origin.CURATED)):
        curated_id = event.details.get("curated_id")
        if curated_id and event.id not in superseded and event.kind != EventKind.WITHDRAWN:
            current[curated_id] = event
    now = dt.datetime.now(dt.UTC)
    for item in data.events:
        content = _content_hash(item)
        old = current.pop(item["id"], None)
        if old is not None and old.key == f"curated:{item['id']}:{content[:16]}":
            continue
        event = _new_event(session, data, item, content)
        if old is not None:
            event.supersedes_id = old.id
            event.details = {**event.details, "correction": "curated data revised"}
        session.add(event)
    for curated_id, old in current.items():
        session.add(
            Event(
                key=f"curated:{curated_id}:withdrawn:{old.id}",
                entity_id=old.entity_id,
                list_id=old.list_id,
                kind=EventKind.WITHDRAWN,
                recorded_at=now,
                origin=Origin.CURATED,
                initial_review=ReviewState.ACCEPTED,
                supersedes_id=old.id,
                summary="withdrawn from the curated dataset",
                details={"curated_id": curated_id},
            )
        )
    session.flush()


def sync_curated(session: Session, directory: Path = CURATED_DIR, *, force: bool = False) -> bool:
    """Bring the database in line with the curated files; returns whether anything was done."""
    data = load_dataset(directory)
    marker = session.get(Meta, META_KEY)
    if marker is not None and marker.value == data.sha256 and not force:
        return False
    _sync_reference(session, data)
    _sync_entities(session, data)
    _sync_events(session, data)
    if marker is None:
        marker = Meta(key=META_KEY, value=data.sha256)
    marker.value = data.sha256
    session.add(marker)
    session.flush()
    return True
