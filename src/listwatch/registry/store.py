"""Writing to the registry: documents, events, corrections, reviews and merges.

Every write appends: events are never edited, a correction is a new event that
supersedes the old one, and a review or a merge decision is a new row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from listwatch.registry.db import RegistryError
from listwatch.registry.domain import (
    DateQualifier,
    EventKind,
    Origin,
    PartialDate,
    ReviewState,
)
from listwatch.registry.models import (
    Document,
    Entity,
    EntityMerge,
    EntityName,
    Event,
    Evidence,
    RestrictionList,
    Review,
    utcnow,
)
from listwatch.registry.names import detect_script, fold_name


def sha256_hex(data: bytes | str) -> str:
    """Hex SHA-256 of bytes or of UTF-8 text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def get_or_create_document(
    session: Session,
    *,
    sha256: str,
    kind: str,
    title: str | None = None,
    url: str | None = None,
    citation: str | None = None,
    publisher: str | None = None,
    language: str | None = None,
    published: PartialDate | None = None,
    text: str | None = None,
    meta: dict[str, Any] | None = None,
) -> tuple[Document, bool]:
    """The document with this content hash, created if new; returns (document, created)."""
    existing = session.scalar(select(Document).where(Document.sha256 == sha256))
    if existing is not None:
        return existing, False
    document = Document(
        sha256=sha256,
        kind=kind,
        title=title,
        url=url,
        citation=citation,
        publisher=publisher,
        language=language,
        published=published.start if published else None,
        published_precision=published.precision.value if published else None,
        text=text,
        meta=meta or {},
    )
    session.add(document)
    session.flush()
    return document, True


@dataclass
class EvidenceSpan:
    """Where in a document an event is stated."""

    document_id: int
    text: str | None = None
    locator: str | None = None
    start: int | None = None
    end: int | None = None


@dataclass
class NewEvent:
    """What a producer (loader, news extractor, user) states about an entity."""

    entity_id: str
    kind: EventKind
    origin: Origin
    evidence: Sequence[EvidenceSpan]
    list_id: str | None = None
    valid: PartialDate | None = None
    qualifier: DateQualifier = DateQualifier.ON
    announced: dt.date | None = None
    recorded_at: dt.datetime | None = None
    confidence: float = 1.0
    summary: str | None = None
    details: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    import_id: int | None = None
    supersedes_id: int | None = None


def initial_review(origin: Origin) -> ReviewState:
    """News-derived facts wait for review; official and curated ones are accepted."""
    return ReviewState.PROPOSED if origin is Origin.NEWS else ReviewState.ACCEPTED


def add_event(session: Session, new: NewEvent) -> Event:
    """Append an event with its evidence; an event without evidence is refused.

    When ``new.key`` is given and an event with that key exists, that event is returned
    unchanged, which makes producers idempotent.
    """
    if not new.evidence:
        raise RegistryError(f"event {new.kind} for {new.entity_id} has no evidence")
    if new.key is not None:
        existing = session.scalar(select(Event).where(Event.key == new.key))
        if existing is not None:
            return existing
    if session.get(Entity, new.entity_id) is None:
        raise RegistryError(f"unknown entity {new.entity_id!r}")
    if new.list_id is not None and session.get(RestrictionList, new.list_id) is None:
        raise RegistryError(f"unknown list id {new.list_id!r}")
    recorded = new.recorded_at or utcnow()
    event = Event(
        key=new.key,
        entity_id=new.entity_id,
        list_id=new.list_id,
        kind=EventKind(new.kind).value,
        valid_date=new.valid.start if new.valid else None,
        valid_precision=new.valid.precision.value if new.valid else None,
        date_qualifier=DateQualifier(new.qualifier).value,
        announced_date=new.announced,
        recorded_at=recorded,
        origin=Origin(new.origin).value,
        initial_review=initial_review(Origin(new.origin)).value,
        confidence=new.confidence,
        supersedes_id=new.supersedes_id,
        import_id=new.import_id,
        summary=new.summary,
        details=dict(new.details),
    )
    for span in new.evidence:
        event.evidence.append(
            Evidence(
                document_id=span.document_id,
                text=span.text,
                locator=span.locator,
                start=span.start,
                end=span.end,
                recorded_at=recorded,
            )
        )
    session.add(event)
    session.flush()
    return event


def add_evidence(session: Session, event_id: int, span: EvidenceSpan) -> Evidence:
    """Attach one more source to an existing event (e.g. a second article reporting it)."""
    evidence = Evidence(
        event_id=event_id,
        document_id=span.document_id,
        text=span.text,
        locator=span.locator,
        start=span.start,
        end=span.end,
        recorded_at=utcnow(),
    )
    session.add(evidence)
    session.flush()
    return evidence


def correct_event(
    session: Session, event_id: int, replacement: NewEvent | None, reason: str
) -> Event:
    """Supersede an event by a corrected one, or withdraw it when ``replacement`` is None."""
    old = session.get(Event, event_id)
    if old is None:
        raise RegistryError(f"no event {event_id}")
    if replacement is None:
        replacement = NewEvent(
            entity_id=old.entity_id,
            list_id=old.list_id,
            kind=EventKind.WITHDRAWN,
            origin=Origin.MANUAL,
            evidence=[EvidenceSpan(e.document_id, e.text, e.locator) for e in old.evidence],
            summary=reason,
        )
    replacement.supersedes_id = old.id
    replacement.details = {**replacement.details, "correction": reason}
    return add_event(session, replacement)


def review_event(
    session: Session,
    event_id: int,
    state: ReviewState,
    reason: str | None = None,
    reviewer: str | None = None,
    confirmed_by: int | None = None,
) -> Review:
    """Record a review decision (accept or reject) on an event."""
    event = session.get(Event, event_id)
    if event is None:
        raise RegistryError(f"no event {event_id}")
    if state is ReviewState.PROPOSED:
        raise RegistryError("a review accepts or rejects; it cannot propose")
    if state is ReviewState.REJECTED and not reason:
        raise RegistryError("a rejection needs a reason")
    review = Review(
        event_id=event_id,
        state=state.value,
        reason=reason,
        reviewer=reviewer,
        confirmed_by_event_id=confirmed_by,
    )
    session.add(review)
    session.flush()
    return review


def current_review_state(event: Event) -> ReviewState:
    """The review state an event has now (its last review, else its initial state)."""
    if event.reviews:
        return ReviewState(event.reviews[-1].state)
    return ReviewState(event.initial_review)


def add_name(
    session: Session,
    entity: Entity,
    name: str,
    kind: str = "alias",
    lang: str | None = None,
    origin: str | None = None,
) -> EntityName | None:
    """Add a name to an entity unless it already has it (same text and kind)."""
    name = " ".join(name.split())
    if not name or any(n.name == name and n.kind == kind for n in entity.names):
        return None
    record = EntityName(
        name=name,
        folded=fold_name(name),
        kind=kind,
        lang=lang,
        script=detect_script(name),
        origin=origin,
    )
    entity.names.append(record)
    return record


def merge_entities(
    session: Session, source_id: str, target_id: str, reason: str, score: float | None = None
) -> EntityMerge:
    """Record that ``source_id`` is the same real-world entity as ``target_id``."""
    from listwatch.registry.entities import canonical_id

    if source_id == target_id:
        raise RegistryError("an entity cannot be merged into itself")
    for entity_id in (source_id, target_id):
        if session.get(Entity, entity_id) is None:
            raise RegistryError(f"unknown entity {entity_id!r}")
    if canonical_id(session, target_id) == source_id:
        raise RegistryError(f"{target_id} is already merged into {source_id}")
    active = session.scalar(
        select(EntityMerge).where(
            EntityMerge.source_id == source_id, EntityMerge.undone_at.is_(None)
        )
    )
    if active is not None:
        if active.target_id == target_id:
            return active
        raise RegistryError(f"{source_id} is already merged into {active.target_id}")
    merge = EntityMerge(source_id=source_id, target_id=target_id, reason=reason, score=score)
    session.add(merge)
    session.flush()
    return merge


def undo_merge(session: Session, merge_id: int, reason: str) -> EntityMerge:
    """Undo a merge decision (kept, marked undone, with the reason)."""
    merge = session.get(EntityMerge, merge_id)
    if merge is None:
        raise RegistryError(f"no merge {merge_id}")
    if merge.undone_at is not None:
        raise RegistryError(f"merge {merge_id} was already undone")
    merge.undone_at = utcnow()
    merge.undo_reason = reason
    session.flush()
    return merge
