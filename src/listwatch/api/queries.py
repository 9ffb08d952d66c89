"""Read queries shared by the API and the web UI, composed from the registry library.

Statuses, histories and diffs come from :mod:`listwatch.registry.status`; this module
only selects what to fold and shapes it for presentation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.elements import ColumnElement

from listwatch.registry.domain import ReviewState, Status
from listwatch.registry.entities import canonical_map, member_ids
from listwatch.registry.models import (
    Document,
    Entity,
    EntityName,
    Event,
    Evidence,
    Identifier,
    Relation,
    RestrictionList,
    Review,
)
from listwatch.registry.names import fold_name
from listwatch.registry.status import (
    EventView,
    StatusResult,
    members,
    view,
)

#: Largest number of ids sent in one ``IN (...)`` clause.
_CHUNK = 500


def entity_summary(entity: Entity) -> dict[str, Any]:
    """The short form of an entity."""
    return {
        "id": entity.id,
        "schema": entity.schema,
        "name": entity.name,
        "country": entity.country,
    }


def entity_names(session: Session, ids: Iterable[str]) -> dict[str, str]:
    """Primary names of entities, by id."""
    wanted = sorted(set(ids))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        for entity_id, name in session.execute(
            select(Entity.id, Entity.name).where(Entity.id.in_(chunk))
        ):
            names[entity_id] = name
    return names


def event_dicts(session: Session, events: Sequence[EventView]) -> list[dict[str, Any]]:
    """Events in their JSON form, each with its entity's name."""
    names = entity_names(session, (e.entity_id for e in events))
    out = []
    for event in events:
        item = event.to_dict()
        item["entity_name"] = names.get(event.entity_id)
        out.append(item)
    return out


def get_entity(session: Session, entity_id: str) -> Entity | None:
    """The canonical entity for an id (following merges), or None."""
    mapping = canonical_map(session)
    return session.get(Entity, mapping.get(entity_id, entity_id))


def entity_detail(session: Session, entity: Entity) -> dict[str, Any]:
    """An entity with names, identifiers, relations and merged records."""
    members = member_ids(session, entity.id)
    names: list[dict[str, Any]] = []
    identifiers: list[dict[str, Any]] = []
    seen_names: set[tuple[str, str]] = set()
    seen_ids: set[tuple[str, str]] = set()
    records = [entity] + [
        e for e in (session.get(Entity, m) for m in sorted(members - {entity.id})) if e
    ]
    for record in records:
        for n in record.names:
            if (n.name, n.kind) not in seen_names:
                seen_names.add((n.name, n.kind))
                names.append({"name": n.name, "kind": n.kind, "lang": n.lang, "script": n.script})
        for i in record.identifiers:
            if (i.scheme, i.value) not in seen_ids:
                seen_ids.add((i.scheme, i.value))
                identifiers.append({"scheme": i.scheme, "value": i.value})
    relations = list(
        session.scalars(
            select(Relation)
            .where(or_(Relation.subject_id.in_(members), Relation.object_id.in_(members)))
            .order_by(Relation.id)
        )
    )
    related = entity_names(
        session, [r.subject_id for r in relations] + [r.object_id for r in relations]
    )
    return {
        **entity_summary(entity),
        "names": names,
        "identifiers": identifiers,
        "relations": [
            {
                "subject": r.subject_id,
                "subject_name": related.get(r.subject_id),
                "kind": r.kind,
                "object": r.object_id,
                "object_name": related.get(r.object_id),
                "note": r.note,
            }
            for r in relations
        ],
        "merged_records": sorted(members - {entity.id}),
        "properties": dict(entity.properties or {}),
    }


def search_entities(
    session: Session, text: str | None, list_id: str | None, limit: int, offset: int
) -> tuple[list[Entity], int]:
    """Entities whose names contain ``text`` (case-insensitive), optionally on a list."""
    mapping = canonical_map(session)
    query = select(Entity).where(Entity.id.not_in(list(mapping))) if mapping else select(Entity)
    if text:
        pattern = "%" + _escape_like(fold_name(text)) + "%"
        query = query.where(
            or_(
                exists().where(
                    EntityName.entity_id == Entity.id,
                    EntityName.folded.like(pattern, escape="\\"),
                ),
                exists().where(
                    Identifier.entity_id == Entity.id,
                    Identifier.value == text.strip().upper(),
                ),
                Entity.id == text.strip(),
            )
        )
    if list_id:
        query = query.where(exists().where(Event.entity_id == Entity.id, Event.list_id == list_id))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = list(session.scalars(query.order_by(Entity.name, Entity.id).limit(limit).offset(offset)))
    return rows, total


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def current_state_expr() -> ColumnElement[str]:
    """SQL for an event's review state now: its last review, else its initial state."""
    last_review = (
        select(Review.state)
        .where(Review.event_id == Event.id)
        .order_by(Review.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(last_review, Event.initial_review)


@dataclass(frozen=True)
class EventFilter:
    """Filters of the event collection; every field is optional."""

    entity_id: str | None = None
    list_id: str | None = None
    kinds: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    review_state: str | None = None
    origin: str | None = None
    document_id: int | None = None
    recorded_after: dt.datetime | None = None


def _event_query(session: Session, flt: EventFilter) -> Select[Event]:
    query = select(Event)
    if flt.entity_id is not None:
        query = query.where(Event.entity_id.in_(member_ids(session, flt.entity_id)))
    if flt.list_id is not None:
        query = query.where(Event.list_id == flt.list_id)
    if flt.kinds:
        query = query.where(Event.kind.in_(flt.kinds))
    if flt.date_from is not None:
        query = query.where(Event.valid_date >= flt.date_from)
    if flt.date_to is not None:
        query = query.where(Event.valid_date <= flt.date_to)
    if flt.review_state == ReviewState.PROPOSED.value:
        # Reviews only accept or reject: a proposed event is one that was never reviewed.
        query = query.where(
            Event.initial_review == ReviewState.PROPOSED.value,
            ~exists().where(Review.event_id == Event.id),
        )
    elif flt.review_state is not None:
        query = query.where(current_state_expr() == flt.review_state)
    if flt.origin is not None:
        query = query.where(Event.origin == flt.origin)
    if flt.document_id is not None:
        query = query.where(
            exists().where(Evidence.event_id == Event.id, Evidence.document_id == flt.document_id)
        )
    if flt.recorded_after is not None:
        query = query.where(Event.recorded_at > flt.recorded_after)
    return query


def find_events(
    session: Session, flt: EventFilter, limit: int, offset: int, newest_first: bool = True
) -> tuple[list[EventView], int]:
    """A page of events matching the filter, as they stand now, and the total."""
    query = _event_query(session, flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    order = (Event.id.desc(),) if newest_first else (Event.valid_date, Event.id)
    rows = session.scalars(
        query.options(
            selectinload(Event.evidence).selectinload(Evidence.document),
            selectinload(Event.reviews),
        )
        .order_by(*order)
        .limit(limit)
        .offset(offset)
    )
    return [view(e) for e in rows], total


def get_event(session: Session, event_id: int) -> EventView | None:
    """One event as it stands now."""
    event = session.get(Event, event_id)
    return view(event) if event is not None else None


def review_queue(session: Session, limit: int, offset: int) -> tuple[list[EventView], int]:
    """Proposed events not reviewed yet, oldest first (the order they should be handled)."""
    flt = EventFilter(review_state=ReviewState.PROPOSED.value)
    query = _event_query(session, flt)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.options(
            selectinload(Event.evidence).selectinload(Evidence.document),
            selectinload(Event.reviews),
        )
        .order_by(Event.id)
        .limit(limit)
        .offset(offset)
    )
    return [view(e) for e in rows], total


def list_counts(session: Session) -> dict[str | None, int]:
    """Number of distinct entities with an event, per list."""
    rows = session.execute(
        select(Event.list_id, func.count(func.distinct(Event.entity_id))).group_by(Event.list_id)
    )
    return {list_id: count for list_id, count in rows}


def list_summary(restriction: RestrictionList, counts: dict[str | None, int]) -> dict[str, Any]:
    """The short form of a list."""
    return {
        "id": restriction.id,
        "name": restriction.name,
        "short_name": restriction.short_name,
        "authority": restriction.authority_id,
        "authority_name": restriction.authority.name if restriction.authority else None,
        "url": restriction.url,
        "entities_with_events": counts.get(restriction.id, 0),
    }


def list_detail(restriction: RestrictionList, counts: dict[str | None, int]) -> dict[str, Any]:
    """A list with its names, legal basis and consequence rules."""
    return {
        **list_summary(restriction, counts),
        "description": restriction.description,
        "names": [{"lang": n.lang, "name": n.name} for n in restriction.names],
        "legal_basis": list(restriction.legal_basis or []),
        "consequences": list(restriction.consequences or []),
        "notes": list(restriction.notes or []),
    }


#: Statuses a ``members`` query can ask for; ``current`` is listed or suspended by a court.
MEMBER_FILTERS: dict[str, frozenset[Status]] = {
    "current": frozenset({Status.LISTED, Status.LISTED_SUSPENDED}),
    "listed": frozenset({Status.LISTED}),
    "listed_suspended": frozenset({Status.LISTED_SUSPENDED}),
    "removed": frozenset({Status.REMOVED}),
    "all": frozenset({Status.LISTED, Status.LISTED_SUSPENDED, Status.REMOVED}),
    # any status, where it is uncertain on the day (e.g. known only from a later snapshot)
    "uncertain": frozenset(Status),
}


@dataclass(frozen=True)
class MemberRow:
    """An entity's short form and its status on a list."""

    entity: dict[str, Any]
    status: StatusResult


def keep_members(rows: list[MemberRow], which: str) -> list[MemberRow]:
    """The rows of :func:`list_members` that a filter of :data:`MEMBER_FILTERS` keeps."""
    wanted = MEMBER_FILTERS[which]
    return [
        row
        for row in rows
        if row.status.status in wanted and (which != "uncertain" or row.status.uncertain)
    ]


def list_members(
    session: Session, list_id: str, as_of: dt.date, known_at: dt.date | None = None
) -> list[MemberRow]:
    """Every entity's status on a list at ``as_of`` (merged records folded together), for
    :func:`keep_members` to filter."""
    found = members(session, list_id, as_of, known_at, frozenset(Status))
    results = {r.entity_id: r for r in found}
    chosen = sorted(results)
    rows: list[MemberRow] = []
    for start in range(0, len(chosen), _CHUNK):
        for entity_id, schema, name, country in session.execute(
            select(Entity.id, Entity.schema, Entity.name, Entity.country).where(
                Entity.id.in_(chosen[start : start + _CHUNK])
            )
        ):
            summary = {"id": entity_id, "schema": schema, "name": name, "country": country}
            rows.append(MemberRow(summary, results[entity_id]))
    rows.sort(key=lambda row: (row.entity["name"].casefold(), row.entity["id"]))
    return rows


def documents_page(
    session: Session, kind: str | None, limit: int, offset: int
) -> tuple[list[tuple[Document, int]], int]:
    """Documents, newest first, each with the number of events citing it."""
    query = select(Document)
    if kind:
        query = query.where(Document.kind == kind)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    docs = list(session.scalars(query.order_by(Document.id.desc()).limit(limit).offset(offset)))
    counts = event_counts(session, [d.id for d in docs])
    return [(d, counts.get(d.id, 0)) for d in docs], total


def event_counts(session: Session, document_ids: list[int]) -> dict[int, int]:
    """Number of distinct events citing each document."""
    if not document_ids:
        return {}
    rows = session.execute(
        select(Evidence.document_id, func.count(func.distinct(Evidence.event_id)))
        .where(Evidence.document_id.in_(document_ids))
        .group_by(Evidence.document_id)
    )
    return {doc_id: count for doc_id, count in rows}


def document_dict(document: Document, events: int, *, full: bool = False) -> dict[str, Any]:
    """A document in its JSON form (with its text and metadata when ``full``)."""
    from listwatch.registry.domain import PartialDate

    published = None
    if document.published is not None:
        published = str(
            PartialDate.from_stored(document.published, document.published_precision or "day")
        )
    out: dict[str, Any] = {
        "id": document.id,
        "sha256": document.sha256,
        "kind": document.kind,
        "title": document.title,
        "url": document.url,
        "citation": document.citation,
        "publisher": document.publisher,
        "language": document.language,
        "published": published,
        "published_precision": document.published_precision if published else None,
        "retrieved_at": document.retrieved_at.isoformat(),
        "events": events,
    }
    if full:
        out["text"] = document.text
        out["meta"] = dict(document.meta or {})
    return out


def recent_window(session: Session, days: int = 30) -> list[EventView]:
    """Accepted events recorded in the last ``days`` days (for the home page)."""
    since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    rows = session.scalars(
        select(Event)
        .where(and_(Event.recorded_at >= since))
        .options(
            selectinload(Event.evidence).selectinload(Evidence.document),
            selectinload(Event.reviews),
        )
        .order_by(Event.id.desc())
        .limit(20)
    )
    return [view(e) for e in rows]
