"""Small builders for registry tests: an entity, a document and events on it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from listwatch.registry.domain import DateQualifier, EventKind, Origin, PartialDate
from listwatch.registry.models import Entity, Event
from listwatch.registry.store import (
    EvidenceSpan,
    NewEvent,
    add_event,
    add_name,
    get_or_create_document,
    sha256_hex,
)


def make_entity(session: Session, entity_id: str, name: str) -> Entity:
    """A company with one primary name."""
    entity = Entity(id=entity_id, schema="Company", name=name, origin="manual")
    session.add(entity)
    add_name(session, entity, name, kind="primary")
    session.flush()
    return entity


def recorded(day: str) -> dt.datetime:
    """Midnight UTC of a YYYY-MM-DD day."""
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def event(
    session: Session,
    entity_id: str,
    kind: EventKind,
    date: str | None,
    *,
    list_id: str | None = "us-dod-cmc",
    recorded_on: str | None = None,
    origin: Origin = Origin.MANUAL,
    qualifier: DateQualifier = DateQualifier.ON,
    supersedes: int | None = None,
    details: dict[str, object] | None = None,
) -> Event:
    """Append an event with a one-line evidence document."""
    text = f"{entity_id} {kind} {date} {recorded_on}"
    document, _ = get_or_create_document(session, sha256=sha256_hex(text), kind="test", title=text)
    return add_event(
        session,
        NewEvent(
            entity_id=entity_id,
            list_id=list_id,
            kind=kind,
            origin=origin,
            valid=PartialDate.parse(date) if date else None,
            qualifier=qualifier,
            recorded_at=recorded(recorded_on or date or "2020-01-01")
            if (recorded_on or date)
            else None,
            evidence=[EvidenceSpan(document.id, text=text)],
            supersedes_id=supersedes,
            details=details or {},
        ),
    )
