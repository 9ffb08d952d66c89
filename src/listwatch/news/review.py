"""The review queue: news-derived events wait as ``proposed`` until a person (or an
official record, see :func:`listwatch.news.ingest.confirm_proposed`) accepts or rejects them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listwatch.registry.db import RegistryError, lock_writers
from listwatch.registry.domain import Origin, ReviewState
from listwatch.registry.models import Entity, Event
from listwatch.registry.store import current_review_state, review_event


def event_json(session: Session, event: Event) -> dict[str, Any]:
    """A review-queue row: the event, its entity, its evidence and its review history."""
    entity = session.get(Entity, event.entity_id)
    details = event.details or {}
    return {
        "id": event.id,
        "state": current_review_state(event).value,
        "origin": event.origin,
        "entity_id": event.entity_id,
        "entity": entity.name if entity else None,
        "entity_review_state": entity.review_state if entity else None,
        "kind": event.kind,
        "list": event.list_id,
        "date": str(event.valid_date) if event.valid_date else None,
        "date_precision": event.valid_precision,
        "date_text": details.get("date_text"),
        "countries": details.get("countries", []),
        "confidence": event.confidence,
        "conflict": details.get("conflict"),
        "evidence": [
            {
                "document_id": ev.document_id,
                "document": ev.document.citation or ev.document.title if ev.document else None,
                "url": ev.document.url if ev.document else None,
                "text": ev.text,
            }
            for ev in event.evidence
        ],
        "reviews": [
            {
                "state": r.state,
                "reason": r.reason,
                "reviewer": r.reviewer,
                "confirmed_by_event_id": r.confirmed_by_event_id,
                "recorded_at": r.recorded_at.isoformat() if r.recorded_at else None,
            }
            for r in event.reviews
        ],
    }


def list_events(
    session: Session,
    state: ReviewState | None = ReviewState.PROPOSED,
    origin: str | None = Origin.NEWS.value,
    entity_id: str | None = None,
    limit: int | None = None,
) -> list[Event]:
    """Events in a review state (default: proposed news events), oldest first."""
    query = select(Event).order_by(Event.id)
    if origin:
        query = query.where(Event.origin == origin)
    if entity_id:
        query = query.where(Event.entity_id == entity_id)
    events = [
        e for e in session.scalars(query) if state is None or current_review_state(e) is state
    ]
    return events[:limit] if limit else events


def decide(
    session: Session, event_id: int, state: ReviewState, reason: str | None, reviewer: str | None
) -> Event:
    """Accept or reject an event; accepting an event about a proposed entity accepts the entity."""
    # Decisions on one event are serialised: a second reviewer waits for the first, then
    # sees that decision (its reviews are read again after the lock).
    lock_writers(session, f"review:{event_id}")
    event = session.get(Event, event_id)
    if event is not None:
        session.expire(event)
    if event is None:
        raise RegistryError(f"no event {event_id}")
    if current_review_state(event) is state:
        raise RegistryError(f"event {event_id} is already {state.value}")
    review_event(session, event_id, state, reason=reason, reviewer=reviewer)
    entity = session.get(Entity, event.entity_id)
    if state is ReviewState.ACCEPTED and entity is not None and entity.review_state == "proposed":
        entity.review_state = ReviewState.ACCEPTED.value
    session.flush()
    session.refresh(event)
    return event
