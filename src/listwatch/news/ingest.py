"""Storing what the news says: documents, proposed entities and events, clustered across
articles, checked against the official record.

- Each document is stored once (content hash); a document already stored is skipped, so
  ingesting the same articles twice changes nothing.
- An extracted event joins an existing news event about the same entity, list and kind
  whose date is compatible (same period, or undated and published within a year), as one
  more evidence span; otherwise it becomes a new event, ``proposed`` until reviewed.
- When the event's date contradicts the accepted official events of the same entity,
  list and kind, it is flagged ``conflict`` with both dates.
- Official events that match a proposed news event accept it (:func:`confirm_proposed`).

A batch is one transaction: it is written whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from listwatch.news.documents import NewsDocument
from listwatch.news.pipeline import DocumentResult, ExtractedEvent, NewsPipeline
from listwatch.registry.db import lock_writers
from listwatch.registry.domain import EventKind, Origin, PartialDate, ReviewState
from listwatch.registry.entities import canonical_map
from listwatch.registry.models import Document, Entity, Event
from listwatch.registry.store import (
    EvidenceSpan,
    NewEvent,
    add_event,
    add_evidence,
    add_name,
    current_review_state,
    get_or_create_document,
    review_event,
)

#: Origins whose accepted events are the official record.
OFFICIAL_ORIGINS = (Origin.CURATED.value, Origin.IMPORT.value)
#: How far apart two undated reports of one event may be published and still be one event.
CLUSTER_WINDOW = dt.timedelta(days=366)
REVIEWER = "listwatch"
#: Writers of news documents and events are serialised under this name: clustering reads
#: what the articles stored before wrote (see ``lock_writers``).
NEWS_WRITERS = "news"


def _event_period(event: Event) -> PartialDate | None:
    if event.valid_date is None or event.valid_precision is None:
        return None
    return PartialDate.from_stored(event.valid_date, event.valid_precision)


def _overlaps(a: PartialDate, b: PartialDate) -> bool:
    return a.start <= b.end and b.start <= a.end


def _members(session: Session, entity_id: str) -> set[str]:
    mapping = canonical_map(session)
    target = mapping.get(entity_id, entity_id)
    return {target} | {source for source, t in mapping.items() if t == target}


def _compatible_kinds(kind: str) -> tuple[str, ...]:
    if kind == EventKind.LISTED.value:
        return (EventKind.LISTED.value, EventKind.DESIGNATED.value)
    return (kind,)


def official_events(
    session: Session, entity_id: str, list_id: str | None, kind: str
) -> list[Event]:
    """Accepted official events of an entity on a list, of a kind (or what implies it)."""
    if list_id is None and kind not in (
        EventKind.EXCHANGE_DELISTED.value,
        EventKind.BUSINESS_SUSPENDED.value,
    ):
        return []
    query = select(Event).where(
        Event.entity_id.in_(_members(session, entity_id)),
        Event.kind.in_(_compatible_kinds(kind)),
        Event.origin.in_(OFFICIAL_ORIGINS),
    )
    query = (
        query.where(Event.list_id == list_id) if list_id else query.where(Event.list_id.is_(None))
    )
    superseding = aliased(Event)
    query = query.where(~exists().where(superseding.supersedes_id == Event.id))
    return [e for e in session.scalars(query) if current_review_state(e) is ReviewState.ACCEPTED]


def find_conflict(
    session: Session, entity_id: str, list_id: str | None, kind: str, date: PartialDate | None
) -> dict[str, Any] | None:
    """The official event a news date contradicts (``None`` when it agrees or cannot tell)."""
    if date is None or kind == EventKind.LISTED.value:
        return None
    official = [e for e in official_events(session, entity_id, list_id, kind) if _event_period(e)]
    if not official or any(_overlaps(date, _event_period(e)) for e in official):  # type: ignore[arg-type]
        return None
    nearest = min(official, key=lambda e: abs((e.valid_date - date.start).days))  # type: ignore[operator]
    period = _event_period(nearest)
    sources = [ev.document.citation or ev.document.title for ev in nearest.evidence if ev.document]
    return {
        "official_event_id": nearest.id,
        "official_date": str(period),
        "official_source": sources[0] if sources else None,
        "news_date": str(date),
        "note": f"the article dates this {kind} {date}; the official record says {period}",
    }


def annotate_conflicts(session: Session, events: Iterable[ExtractedEvent]) -> None:
    """Set ``conflict`` on extracted events whose date contradicts the official record."""
    for event in events:
        if event.entity_id is None or event.date is None:
            continue
        event.conflict = find_conflict(
            session, event.entity_id, event.list_id, event.kind.value, event.date.date
        )


def _news_date(event: Event) -> PartialDate | None:
    return _event_period(event)


def _published(event: Event) -> dt.date | None:
    value = (event.details or {}).get("published")
    if not value:
        return None
    try:
        return PartialDate.parse(value).start
    except ValueError:
        return None


def _same_time(
    a_date: PartialDate | None,
    a_published: dt.date | None,
    b_date: PartialDate | None,
    b_published: dt.date | None,
) -> bool:
    if a_date is not None and b_date is not None:
        return _overlaps(a_date, b_date)
    if a_published is None or b_published is None:
        return True
    return abs(a_published - b_published) <= CLUSTER_WINDOW


def find_cluster(
    session: Session,
    entity_id: str,
    list_id: str | None,
    kind: str,
    date: PartialDate | None,
    published: dt.date | None,
) -> Event | None:
    """An existing news event that reports the same real-world event."""
    query = (
        select(Event)
        .where(
            Event.entity_id == entity_id,
            Event.kind == kind,
            Event.origin == Origin.NEWS.value,
            Event.list_id == list_id if list_id else Event.list_id.is_(None),
        )
        .order_by(Event.id)
    )
    for candidate in session.scalars(query):
        if current_review_state(candidate) is ReviewState.REJECTED:
            continue
        if _same_time(_news_date(candidate), _published(candidate), date, published):
            return candidate
    return None


def _slug(name: str) -> str:
    slug = re.sub(r"[^\w]+", "-", name.casefold(), flags=re.UNICODE).strip("-")
    return slug[:100] or "unnamed"


def proposed_entity(session: Session, name: str, document_id: int) -> Entity:
    """The entity for an organisation the registry did not know, proposed for review."""
    entity_id = f"news-{_slug(name)}"
    entity = session.get(Entity, entity_id)
    if entity is None:
        entity = Entity(
            id=entity_id,
            schema="Organization",
            name=name,
            origin=Origin.NEWS.value,
            review_state=ReviewState.PROPOSED.value,
            properties={"first_seen_document": document_id},
        )
        session.add(entity)
        add_name(session, entity, name, kind="primary", origin="news")
        session.flush()
    return entity


@dataclass
class IngestReport:
    """What one ingestion did."""

    documents: int = 0
    duplicates: int = 0
    events_created: list[int] = field(default_factory=list)
    evidence_added: list[int] = field(default_factory=list)  # events that got one more source
    entities_proposed: list[str] = field(default_factory=list)
    confirmed: list[tuple[int, int]] = field(default_factory=list)
    conflicts: list[int] = field(default_factory=list)
    results: list[DocumentResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """A summary for ``--json``."""
        return {
            "documents": self.documents,
            "duplicates": self.duplicates,
            "events_created": self.events_created,
            "evidence_added": sorted(set(self.evidence_added)),
            "entities_proposed": self.entities_proposed,
            "confirmed": [{"event_id": n, "confirmed_by": o} for n, o in self.confirmed],
            "conflicts": self.conflicts,
        }


def store_result(session: Session, result: DocumentResult, report: IngestReport) -> None:
    """Write one document and its events (the caller owns the transaction)."""
    doc = result.document
    document, created = get_or_create_document(
        session,
        sha256=doc.sha256,
        kind="news",
        title=doc.title or _first_line(result.text),
        url=doc.url,
        citation=doc.name,
        language=result.language,
        published=doc.published,
        text=result.text,
        meta={**doc.meta, "source": doc.source, "format": doc.kind},
    )
    if not created:
        report.duplicates += 1
        return
    report.documents += 1
    annotate_conflicts(session, result.events)
    for extracted in result.events:
        if extracted.entity_id is None:
            entity = proposed_entity(session, extracted.entity, document.id)
            if entity.id not in report.entities_proposed:
                report.entities_proposed.append(entity.id)
            entity_id = entity.id
        else:
            entity_id = canonical_map(session).get(extracted.entity_id, extracted.entity_id)
        date = extracted.date.date if extracted.date else None
        spans = [
            EvidenceSpan(
                document_id=document.id,
                text=item.text,
                locator=f"sentence@{item.start}",
                start=item.start,
                end=item.end,
            )
            for item in extracted.evidence
        ]
        existing = find_cluster(
            session,
            entity_id,
            extracted.list_id,
            extracted.kind.value,
            date,
            doc.published.start if doc.published else None,
        )
        if existing is not None:
            for span in spans:
                add_evidence(session, existing.id, span)
            report.evidence_added.append(existing.id)
            continue
        details: dict[str, Any] = {
            "mention": extracted.mention,
            "language": extracted.language,
            "date_text": extracted.date.text if extracted.date else None,
            "date_source": extracted.date_source,
            "published": str(doc.published) if doc.published else None,
            "triggers": sorted({item.trigger for item in extracted.evidence}),
            "hedged": extracted.hedged,
        }
        if extracted.countries:
            details["countries"] = extracted.countries
        if extracted.conflict:
            details["conflict"] = extracted.conflict
        event = add_event(
            session,
            NewEvent(
                entity_id=entity_id,
                kind=extracted.kind,
                origin=Origin.NEWS,
                evidence=spans,
                list_id=extracted.list_id,
                valid=date,
                confidence=extracted.confidence,
                summary=spans[0].text,
                details=details,
                key=f"news:{doc.sha256[:24]}:{entity_id}:{extracted.kind.value}:{extracted.list_id}",
            ),
        )
        report.events_created.append(event.id)
        if extracted.conflict:
            report.conflicts.append(event.id)


def _first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return None


def ingest(
    session: Session,
    documents: Sequence[NewsDocument],
    pipeline: NewsPipeline | None = None,
) -> IngestReport:
    """Extract and store ``documents``; everything is extracted before anything is written."""
    pipeline = pipeline or NewsPipeline.from_session(session)
    known = set(
        session.scalars(
            select(Document.sha256).where(Document.sha256.in_([d.sha256 for d in documents]))
        )
    )
    results = [pipeline.process(d) for d in documents if d.sha256 not in known]
    report = IngestReport(duplicates=len(documents) - len(results))
    lock_writers(session, NEWS_WRITERS)
    seen: set[str] = set()
    for result in results:
        if result.document.sha256 in seen:
            report.duplicates += 1
            continue
        seen.add(result.document.sha256)
        store_result(session, result, report)
        report.results.append(result)
    touched = sorted(set(report.events_created) | set(report.evidence_added))
    report.confirmed = confirm_proposed(session, touched)
    return report


def _confirms(official: Event, news: Event) -> bool:
    """Whether an accepted official event confirms a proposed news event."""
    official_date = _event_period(official)
    news_date = _event_period(news)
    if official_date is None:
        return False
    if news_date is not None:
        return _overlaps(official_date, news_date)
    published = _published(news)
    if published is None:
        return False
    if news.kind == EventKind.LISTED.value:
        return official_date.start <= published
    return official_date.start <= published and published - official_date.start <= CLUSTER_WINDOW


def confirm_proposed(session: Session, event_ids: Iterable[int]) -> list[tuple[int, int]]:
    """Accept proposed news events that official events confirm; returns (news, official) ids.

    ``event_ids`` may name official events (just imported: the proposed news events they
    confirm are accepted) or news events (just extracted: checked against the accepted
    official record). Each acceptance is a review that names the confirming event.
    """
    confirmed: list[tuple[int, int]] = []
    for event_id in event_ids:
        event = session.get(Event, event_id)
        if event is None:
            continue
        if event.origin == Origin.NEWS.value:
            if current_review_state(event) is not ReviewState.PROPOSED:
                continue
            for official in official_events(session, event.entity_id, event.list_id, event.kind):
                if _confirms(official, event):
                    _accept(session, event, official)
                    confirmed.append((event.id, official.id))
                    break
        elif (
            event.origin in OFFICIAL_ORIGINS and current_review_state(event) is ReviewState.ACCEPTED
        ):
            kinds: tuple[str, ...] = (event.kind,)
            if event.kind == EventKind.DESIGNATED.value:
                kinds = (EventKind.DESIGNATED.value, EventKind.LISTED.value)
            query = select(Event).where(
                Event.entity_id.in_(_members(session, event.entity_id)),
                Event.kind.in_(kinds),
                Event.origin == Origin.NEWS.value,
                Event.list_id == event.list_id if event.list_id else Event.list_id.is_(None),
            )
            for news in session.scalars(query):
                if current_review_state(news) is ReviewState.PROPOSED and _confirms(event, news):
                    _accept(session, news, event)
                    confirmed.append((news.id, event.id))
    return confirmed


def _accept(session: Session, news: Event, official: Event) -> None:
    period = _event_period(official)
    review_event(
        session,
        news.id,
        ReviewState.ACCEPTED,
        reason=f"confirmed by official event {official.id} ({official.kind} on {period})",
        reviewer=REVIEWER,
        confirmed_by=official.id,
    )
    session.expire(news, ["reviews"])
