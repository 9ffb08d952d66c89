"""The status engine: folding accepted events into statuses, histories and list diffs.

Everything here is derived: nothing is stored. ``known_at`` hides every event, review
and correction recorded after that day, so the answer is what the registry knew then.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from listwatch.registry.domain import (
    STATUS_KINDS,
    DateQualifier,
    EventKind,
    PartialDate,
    Precision,
    ReviewState,
    Status,
    qualified,
)
from listwatch.registry.entities import canonical_map, member_ids
from listwatch.registry.models import Event, Evidence, Review

#: Entity ids per ``IN (...)`` query: keeps statements under every backend's parameter limit.
_CHUNK = 500

# Within one day, a listing precedes its suspension, which precedes a reinstatement,
# which precedes a removal: the order in which such same-day facts can happen.
_SAME_DAY_ORDER = {
    EventKind.DESIGNATED: 0,
    EventKind.LISTED: 0,
    EventKind.AMENDED: 1,
    EventKind.SUSPENDED: 2,
    EventKind.REINSTATED: 3,
    EventKind.REMOVED: 4,
}


@dataclass(frozen=True)
class EvidenceView:
    """One evidence span of an event, with its document's identity."""

    document_id: int
    title: str | None
    url: str | None
    citation: str | None
    publisher: str | None
    published: str | None
    kind: str
    language: str | None
    locator: str | None
    text: str | None
    start: int | None
    end: int | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class EventView:
    """An event as seen at one record time (its review state as of then)."""

    id: int
    entity_id: str
    list_id: str | None
    kind: EventKind
    valid: PartialDate | None
    qualifier: DateQualifier
    announced: dt.date | None
    recorded_at: dt.datetime
    origin: str
    review_state: ReviewState
    confidence: float
    supersedes_id: int | None
    summary: str | None
    details: dict[str, Any]
    evidence: tuple[EvidenceView, ...]

    @property
    def sort_key(self) -> tuple[dt.date, int, dt.datetime, int]:
        """Order of application in the fold."""
        start = self.valid.start if self.valid else dt.date.max
        return (start, _SAME_DAY_ORDER.get(self.kind, 5), self.recorded_at, self.id)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, dates in ISO 8601 with their precision."""
        return {
            "id": self.id,
            "entity_id": self.entity_id,
            "list": self.list_id,
            "kind": self.kind.value,
            "date": str(self.valid) if self.valid else None,
            "date_precision": self.valid.precision.value if self.valid else None,
            "date_qualifier": self.qualifier.value,
            "announced": self.announced.isoformat() if self.announced else None,
            "recorded_at": self.recorded_at.isoformat(),
            "origin": self.origin,
            "review_state": self.review_state.value,
            "confidence": self.confidence,
            "supersedes": self.supersedes_id,
            "summary": self.summary,
            "details": self.details,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class StatusResult:
    """An entity's status on one list at one date, with the events that decide it."""

    entity_id: str
    list_id: str
    as_of: dt.date
    known_at: dt.date | None
    status: Status
    since: PartialDate | None = None
    since_qualifier: DateQualifier = DateQualifier.ON
    listed_since: PartialDate | None = None
    listed_qualifier: DateQualifier = DateQualifier.ON
    deciding: list[EventView] = field(default_factory=list)
    uncertain: bool = False
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "entity_id": self.entity_id,
            "list": self.list_id,
            "as_of": self.as_of.isoformat(),
            "known_at": self.known_at.isoformat() if self.known_at else None,
            "status": self.status.value,
            "since": str(self.since) if self.since else None,
            "since_precision": self.since.precision.value if self.since else None,
            "since_qualifier": self.since_qualifier.value,
            "listed_since": str(self.listed_since) if self.listed_since else None,
            "listed_since_qualifier": self.listed_qualifier.value,
            "uncertain": self.uncertain,
            "notes": self.notes,
            "events": [e.to_dict() for e in self.deciding],
        }


def status_words(status: dict[str, Any]) -> str:
    """A status (as :meth:`StatusResult.to_dict` gives it) in words: "never listed" only
    where that is known, "not recorded as listed" where a later listing may already hold."""
    if status["status"] == Status.NEVER_LISTED and status["uncertain"]:
        return "not recorded as listed"
    return str(status["status"]).replace("_", " ")


def since_text(status: dict[str, Any]) -> str:
    """When a status (as :meth:`StatusResult.to_dict` gives it) began, in words, with
    the start of the listing when the status is a suspension: "" when undated."""
    text = ""
    if status["since"]:
        text = " since " + qualified(status["since"], status["since_qualifier"])
    if status["status"] == Status.LISTED_SUSPENDED and status["listed_since"]:
        listed = qualified(status["listed_since"], status.get("listed_since_qualifier", "on"))
        text += f" (listed {listed})"
    return text


@dataclass
class Interval:
    """A stretch of time with one status on one list; ``end`` is None while it lasts."""

    status: Status
    start: PartialDate
    end: PartialDate | None
    qualifier: DateQualifier
    event: EventView
    end_qualifier: DateQualifier = DateQualifier.ON  # that of the next interval's start

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "status": self.status.value,
            "from": str(self.start),
            "from_qualifier": self.qualifier.value,
            "to": str(self.end) if self.end else None,
            "to_qualifier": self.end_qualifier.value,
            "event": self.event.to_dict(),
        }


@dataclass
class ListHistory:
    """The status intervals of one entity on one list and the other events on it."""

    list_id: str
    intervals: list[Interval]
    events: list[EventView]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "list": self.list_id,
            "intervals": [i.to_dict() for i in self.intervals],
            "events": [e.to_dict() for e in self.events],
        }


@dataclass
class Transition:
    """A change of status: who, from what, to what, when, and the event that caused it."""

    entity_id: str
    change: str  # added, suspended, reinstated, removed, amended
    before: Status
    after: Status
    date: PartialDate
    event: EventView

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "entity_id": self.entity_id,
            "change": self.change,
            "before": self.before.value,
            "after": self.after.value,
            "date": str(self.date),
            "event": self.event.to_dict(),
        }


def end_of_day(day: dt.date) -> dt.datetime:
    """The last instant of ``day`` in UTC: the cut-off for ``known_at``."""
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) + dt.timedelta(days=1)


def _evidence_view(evidence: Evidence) -> EvidenceView:
    document = evidence.document
    published = None
    if document.published is not None:
        published = str(
            PartialDate.from_stored(document.published, document.published_precision or "day")
        )
    return EvidenceView(
        document_id=document.id,
        title=document.title,
        url=document.url,
        citation=document.citation,
        publisher=document.publisher,
        published=published,
        kind=document.kind,
        language=document.language,
        locator=evidence.locator,
        text=evidence.text,
        start=evidence.start,
        end=evidence.end,
    )


def _make_view(
    event: Any, review_state: ReviewState, evidence: tuple[EvidenceView, ...]
) -> EventView:
    """An EventView from an ``Event`` or a row with the same column names."""
    valid = (
        PartialDate.from_stored(event.valid_date, event.valid_precision or "day")
        if event.valid_date
        else None
    )
    return EventView(
        id=event.id,
        entity_id=event.entity_id,
        list_id=event.list_id,
        kind=EventKind(event.kind),
        valid=valid,
        qualifier=DateQualifier(event.date_qualifier or "on"),
        announced=event.announced_date,
        recorded_at=event.recorded_at,
        origin=event.origin,
        review_state=review_state,
        confidence=event.confidence,
        supersedes_id=event.supersedes_id,
        summary=event.summary,
        details=dict(event.details or {}),
        evidence=evidence,
    )


def view(event: Event, known_at: dt.date | None = None) -> EventView:
    """The event as known at ``known_at``: its review state then, its evidence known then."""
    cutoff = end_of_day(known_at) if known_at else None
    state = ReviewState(event.initial_review)
    for review in event.reviews:
        if cutoff is None or review.recorded_at < cutoff:
            state = ReviewState(review.state)
    evidence = tuple(
        _evidence_view(e)
        for e in event.evidence
        if cutoff is None or e.recorded_at is None or e.recorded_at < cutoff
    )
    return _make_view(event, state, evidence)


def load_events(
    session: Session,
    entity_ids: Iterable[str],
    list_id: str | None = None,
    known_at: dt.date | None = None,
    *,
    include_unaccepted: bool = False,
    with_evidence: bool = True,
) -> list[EventView]:
    """Events of the given entities (and list) as known at ``known_at``.

    Superseded events, and corrections that only withdraw, are left out; unless
    ``include_unaccepted`` is set only events accepted at ``known_at`` remain. Without
    ``with_evidence`` the events come without their evidence, which makes folding whole
    lists cheap.
    """
    ids = list(entity_ids)
    events: list[EventView] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        if with_evidence:
            events += _load_full(session, chunk, list_id, known_at)
        else:
            events += _load_lean(session, chunk, list_id, known_at)
    return effective(events, include_unaccepted=include_unaccepted)


def _event_filter(
    query: Any, entity_ids: list[str] | None, list_id: str | None, known_at: dt.date | None
) -> Any:
    if entity_ids is not None:
        query = query.where(Event.entity_id.in_(entity_ids))
    if list_id is not None:
        query = query.where(Event.list_id == list_id)
    if known_at is not None:
        query = query.where(Event.recorded_at < end_of_day(known_at))
    return query


def _load_full(
    session: Session, entity_ids: list[str] | None, list_id: str | None, known_at: dt.date | None
) -> list[EventView]:
    query = select(Event).options(
        selectinload(Event.evidence).selectinload(Evidence.document),
        selectinload(Event.reviews),
    )
    query = _event_filter(query, entity_ids, list_id, known_at)
    return [view(e, known_at) for e in session.scalars(query)]


_LEAN_COLUMNS = (
    Event.id,
    Event.entity_id,
    Event.list_id,
    Event.kind,
    Event.valid_date,
    Event.valid_precision,
    Event.date_qualifier,
    Event.announced_date,
    Event.recorded_at,
    Event.origin,
    Event.initial_review,
    Event.confidence,
    Event.supersedes_id,
    Event.summary,
    Event.details,
)


def _load_lean(
    session: Session, entity_ids: list[str] | None, list_id: str | None, known_at: dt.date | None
) -> list[EventView]:
    """Events as plain rows (no ORM objects, no evidence), with their review state at K."""
    rows = session.execute(_event_filter(select(*_LEAN_COLUMNS), entity_ids, list_id, known_at))
    cutoff = end_of_day(known_at) if known_at else None
    raw = list(rows)
    reviewed: dict[int, str] = {}
    if raw:
        review_query = _event_filter(
            select(Review.event_id, Review.state, Review.recorded_at).join(
                Event, Event.id == Review.event_id
            ),
            entity_ids,
            list_id,
            None,
        ).order_by(Review.id)
        for event_id, state, recorded_at in session.execute(review_query):
            if cutoff is None or recorded_at < cutoff:
                reviewed[event_id] = state
    views = [
        _make_view(row, ReviewState(reviewed.get(row.id, row.initial_review)), ()) for row in raw
    ]
    return views


def load_grouped(
    session: Session,
    entity_ids: Iterable[str] | None,
    list_id: str | None = None,
    known_at: dt.date | None = None,
    *,
    with_evidence: bool = False,
) -> dict[str, list[EventView]]:
    """Effective events grouped by canonical entity, each group in fold order.

    ``entity_ids`` are expanded to their canonical entities and every record merged into
    them; ``None`` means every entity with an event (on ``list_id`` when given).
    """
    mapping = canonical_map(session)
    members_of: dict[str, set[str]] = defaultdict(set)
    for source, target in mapping.items():
        members_of[target].add(source)
    if entity_ids is None:
        # Every event of the list (or of the registry) at once: no id lists needed.
        loader = _load_full if with_evidence else _load_lean
        events = effective(loader(session, None, list_id, known_at))
    else:
        targets = {mapping.get(e, e) for e in entity_ids}
        ids = sorted(targets | {m for t in targets for m in members_of.get(t, set())})
        events = load_events(session, ids, list_id, known_at, with_evidence=with_evidence)
    grouped: dict[str, list[EventView]] = defaultdict(list)
    for event in events:
        grouped[mapping.get(event.entity_id, event.entity_id)].append(event)
    return dict(grouped)


def effective(events: Sequence[EventView], *, include_unaccepted: bool = False) -> list[EventView]:
    """Drop superseded events and withdrawals; keep accepted ones unless told otherwise."""
    superseded = {
        e.supersedes_id
        for e in events
        if e.supersedes_id is not None and e.review_state is ReviewState.ACCEPTED
    }
    kept = []
    for event in events:
        if event.id in superseded or event.kind is EventKind.WITHDRAWN:
            continue
        if not include_unaccepted and event.review_state is not ReviewState.ACCEPTED:
            continue
        kept.append(event)
    return sorted(kept, key=lambda e: e.sort_key)


def _next_status(current: Status, kind: EventKind) -> tuple[Status, str | None]:
    """The status after an event of ``kind``, and a note when the sequence is unusual."""
    if kind in (EventKind.DESIGNATED, EventKind.LISTED, EventKind.AMENDED):
        if current is Status.LISTED_SUSPENDED and kind is not EventKind.DESIGNATED:
            return current, None
        return Status.LISTED, None
    if kind is EventKind.SUSPENDED:
        if current is Status.LISTED:
            return Status.LISTED_SUSPENDED, None
        if current is Status.NEVER_LISTED:
            return Status.LISTED_SUSPENDED, "suspension of a listing that no event records"
        return current, f"suspension while {current.value} has no effect"
    if kind is EventKind.REINSTATED:
        if current is Status.LISTED_SUSPENDED or current is Status.REMOVED:
            return Status.LISTED, None
        return Status.LISTED, None if current is Status.LISTED else "reinstated without listing"
    if kind is EventKind.REMOVED:
        if current is Status.NEVER_LISTED:
            return Status.REMOVED, "removal of a listing that no event records"
        return Status.REMOVED, None
    return current, None


def _change_name(before: Status, after: Status, kind: EventKind) -> str | None:
    if before == after:
        return "amended" if kind is EventKind.AMENDED else None
    if after is Status.REMOVED:
        return "removed"
    if after is Status.LISTED_SUSPENDED:
        return "suspended"
    if before is Status.LISTED_SUSPENDED and after is Status.LISTED:
        return "reinstated" if kind is not EventKind.DESIGNATED else "added"
    if before is Status.NEVER_LISTED and kind is EventKind.LISTED:
        # a statement of membership (the first snapshot of a file, an article), not the
        # listing itself: when the entity was added is not known
        return "first_recorded"
    return "added"


@dataclass
class _Fold:
    status: Status = Status.NEVER_LISTED
    since: PartialDate | None = None
    qualifier: DateQualifier = DateQualifier.ON
    listed_since: PartialDate | None = None
    listed_qualifier: DateQualifier = DateQualifier.ON
    deciding: list[EventView] = field(default_factory=list)
    transitions: list[tuple[Status, Status, EventView]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _fold(events: Sequence[EventView], until: dt.date | None = None) -> _Fold:
    state = _Fold()
    for event in events:
        if event.kind not in STATUS_KINDS or event.valid is None:
            continue
        if until is not None and event.valid.start > until:
            break
        before = state.status
        after, note = _next_status(before, event.kind)
        if note:
            state.notes.append(f"{event.valid}: {note} (event {event.id})")
        if after is not before:
            state.transitions.append((before, after, event))
            state.status, state.since, state.qualifier = after, event.valid, event.qualifier
            if after is Status.LISTED and before in (Status.NEVER_LISTED, Status.REMOVED):
                state.listed_since, state.listed_qualifier = event.valid, event.qualifier
                state.deciding = [event]
            else:
                # The listing that started the period, then the event that changed it.
                state.deciding = [*state.deciding[:1], event]
        elif event.kind is EventKind.AMENDED:
            state.transitions.append((before, after, event))
        elif state.deciding:
            last = state.deciding[-1]
            if last.kind is event.kind and last.valid == event.valid:
                # Another source for the same fact: keep it as corroborating evidence.
                state.deciding.append(event)
    return state


def _flag_later_bounds(result: StatusResult, events: Sequence[EventView]) -> None:
    """Mark a status uncertain when a later change is dated only by a bound.

    A change known as "not later than" a date (an official file shows it first in a
    snapshot of that day) may have happened before ``as_of``: the status folded without
    it is then not known. Only a lower bound recorded with the event (the previous
    snapshot that did not show the change yet), or a change dated exactly between
    ``as_of`` and it, rules the earlier days out. The event joins the deciding events as
    the evidence of the doubt.
    """
    as_of = result.as_of
    for event in events:
        valid = event.valid
        if valid is None or event.kind not in STATUS_KINDS or valid.start <= as_of:
            continue
        if event.qualifier is not DateQualifier.NOT_AFTER:
            return  # a change dated exactly comes first: the status holds until then
        after, _note = _next_status(result.status, event.kind)
        if after is result.status:
            continue
        earliest = event.details.get("previous_snapshot")
        if earliest is None or as_of > PartialDate.parse(str(earliest)).start:
            result.uncertain = True
            result.deciding.append(event)  # the evidence of the doubt
            window = f"after {earliest} and " if earliest else ""
            result.notes.append(
                f"{event.kind.value} {window}not later than {valid} (event {event.id}): on "
                f"{as_of} the entity may already have been {after.value.replace('_', ' ')}"
            )
        return


def fold_status(
    events: Sequence[EventView],
    entity_id: str,
    list_id: str,
    as_of: dt.date,
    known_at: dt.date | None = None,
) -> StatusResult:
    """Fold already-loaded, effective events of one entity on one list."""
    relevant = [e for e in events if e.list_id == list_id]
    state = _fold(relevant, until=as_of)
    result = StatusResult(
        entity_id=entity_id,
        list_id=list_id,
        as_of=as_of,
        known_at=known_at,
        status=state.status,
        since=state.since,
        since_qualifier=state.qualifier,
        listed_since=state.listed_since if state.status is not Status.NEVER_LISTED else None,
        listed_qualifier=state.listed_qualifier,
        deciding=state.deciding,
        notes=state.notes,
    )
    _flag_later_bounds(result, relevant)
    for event in relevant:
        valid = event.valid
        if valid is None or event.kind not in STATUS_KINDS:
            continue
        if valid.precision is not Precision.DAY and valid.contains(as_of):
            result.uncertain = True
            result.notes.append(
                f"{event.kind.value} is dated only to {valid}, which contains {as_of}"
            )
    if result.status is not Status.NEVER_LISTED and result.listed_since is not None:
        for event in relevant:
            if (
                event.details.get("unverified")
                and event.valid is not None
                and result.listed_since <= event.valid
                and event.valid.start <= as_of
            ):
                result.uncertain = True
                result.notes.append(
                    f"{event.valid}: {event.details.get('note') or 'membership not verified'}"
                    f" (event {event.id})"
                )
    undated = [e for e in relevant if e.valid is None and e.kind in STATUS_KINDS]
    if undated:
        result.notes.append(f"{len(undated)} undated event(s) not folded")
    return result


def status(
    session: Session,
    entity_id: str,
    list_id: str,
    as_of: dt.date,
    known_at: dt.date | None = None,
) -> StatusResult:
    """Status of an entity (with every record merged into it) on a list at ``as_of``."""
    events = load_events(session, member_ids(session, entity_id), list_id, known_at)
    return fold_status(events, entity_id, list_id, as_of, known_at)


def statuses(
    session: Session, entity_id: str, as_of: dt.date, known_at: dt.date | None = None
) -> list[StatusResult]:
    """Status on every list the entity has an event on, ordered by list id."""
    events = load_events(session, member_ids(session, entity_id), None, known_at)
    list_ids = sorted({e.list_id for e in events if e.list_id and e.kind in STATUS_KINDS})
    return [fold_status(events, entity_id, lid, as_of, known_at) for lid in list_ids]


def members(
    session: Session,
    list_id: str,
    as_of: dt.date,
    known_at: dt.date | None = None,
    wanted: frozenset[Status] = frozenset({Status.LISTED, Status.LISTED_SUSPENDED}),
) -> list[StatusResult]:
    """Every canonical entity whose status on a list at ``as_of`` is in ``wanted``.

    The deciding events come without evidence (ask :func:`status` for one entity's).
    """
    results = []
    for target, events in load_grouped(session, None, list_id, known_at).items():
        result = fold_status(events, target, list_id, as_of, known_at)
        if result.status in wanted:
            results.append(result)
    return sorted(results, key=lambda r: r.entity_id)


def all_statuses(
    session: Session,
    as_of: dt.date,
    known_at: dt.date | None = None,
    *,
    with_evidence: bool = True,
) -> dict[str, list[StatusResult]]:
    """Every canonical entity's statuses on every list, in one pass over the events.

    The same answers as :func:`statuses` for each entity, without a query per entity.
    """
    results: dict[str, list[StatusResult]] = {}
    grouped = load_grouped(session, None, None, known_at, with_evidence=with_evidence)
    for target, events in grouped.items():
        list_ids = sorted({e.list_id for e in events if e.list_id and e.kind in STATUS_KINDS})
        if list_ids:
            results[target] = [
                fold_status(events, target, lid, as_of, known_at) for lid in list_ids
            ]
    return results


def history_from_events(events: Sequence[EventView]) -> list[ListHistory]:
    """Status intervals per list (and the other events) from loaded, effective events."""
    by_list: dict[str | None, list[EventView]] = defaultdict(list)
    for event in events:
        by_list[event.list_id].append(event)
    histories = []
    for list_id in sorted(by_list, key=lambda k: (k is None, k or "")):
        list_events = by_list[list_id]
        state = _fold(list_events)
        intervals: list[Interval] = []
        for _before, after, event in state.transitions:
            assert event.valid is not None
            if intervals and intervals[-1].status == after:
                continue
            if intervals:
                intervals[-1].end, intervals[-1].end_qualifier = event.valid, event.qualifier
            intervals.append(Interval(after, event.valid, None, event.qualifier, event))
        others = [e for e in list_events if e.kind not in STATUS_KINDS or e.valid is None]
        histories.append(ListHistory(list_id or "", intervals, others if list_id else list_events))
    return histories


def history(session: Session, entity_id: str, known_at: dt.date | None = None) -> list[ListHistory]:
    """The status intervals of an entity on every list, with the non-status events."""
    events = load_events(session, member_ids(session, entity_id), None, known_at)
    return history_from_events(events)


def diff(
    session: Session,
    list_id: str,
    date_from: dt.date,
    date_to: dt.date,
    known_at: dt.date | None = None,
) -> list[Transition]:
    """Who was added, suspended, reinstated, removed or amended on a list in (from, to]."""
    query = select(Event.entity_id).where(
        Event.list_id == list_id,
        Event.valid_date > date_from,
        Event.valid_date <= date_to,
    )
    if known_at is not None:
        query = query.where(Event.recorded_at < end_of_day(known_at))
    touched = set(session.scalars(query.distinct()))
    if not touched:
        return []
    grouped = load_grouped(session, touched, list_id, known_at, with_evidence=True)
    transitions = []
    for target, target_events in grouped.items():
        for before, after, event in _fold(target_events, until=date_to).transitions:
            assert event.valid is not None
            if not date_from < event.valid.start <= date_to:
                continue
            change = _change_name(before, after, event.kind)
            if change:
                transitions.append(Transition(target, change, before, after, event.valid, event))
    transitions.sort(key=lambda t: (t.date, t.change, t.entity_id))
    return transitions
