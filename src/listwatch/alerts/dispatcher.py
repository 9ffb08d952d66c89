"""Turning newly recorded events into alerts and webhook deliveries (one way: events → alerts).

A cursor in the ``meta`` table remembers the last event and the last review handled.
Each round reads the events recorded since (those accepted on arrival: official imports,
curated data, manual entries) and the acceptances reviewed since (news events alert
only once accepted), matches them against the active watches, and writes an alert per
(watch, event) plus an outbox item when the watch has a webhook.

On PostgreSQL, ids are allocated before their transactions commit, so an event can
become visible after a later one was handled: each round there re-reads a window of
recent ids below the cursor; the unique (watch, event) pair keeps that idempotent.
"""

from __future__ import annotations

import json
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from listwatch.registry.db import lock_writers
from listwatch.registry.domain import ReviewState
from listwatch.registry.entities import canonical_map
from listwatch.registry.models import (
    Alert,
    Entity,
    Event,
    Evidence,
    Meta,
    OutboxItem,
    Review,
    Watch,
    utcnow,
)
from listwatch.registry.status import view

CURSOR_KEY = "alerts.cursor"
WATCH_START_KEY = "alerts.watch.{id}.start"
#: Events and reviews handled per round at most.
BATCH = 2000
#: Ids below the cursor re-read on each round on PostgreSQL (see the module docstring).
RESCAN_WINDOW = 5000


@dataclass
class Cursor:
    """The last event id and review id the dispatcher handled."""

    event: int = 0
    review: int = 0

    def to_json(self) -> str:
        """Stored form."""
        return json.dumps({"event": self.event, "review": self.review})

    @classmethod
    def from_json(cls, text: str) -> Cursor:
        """Read a stored cursor."""
        data = json.loads(text)
        return cls(int(data.get("event", 0)), int(data.get("review", 0)))


def _latest(session: Session) -> Cursor:
    return Cursor(
        session.scalar(select(func.max(Event.id))) or 0,
        session.scalar(select(func.max(Review.id))) or 0,
    )


def _load_cursor(session: Session) -> Cursor:
    """The stored cursor, locked for this transaction; created at the latest ids if absent."""
    row = session.scalar(select(Meta).where(Meta.key == CURSOR_KEY).with_for_update())
    if row is None:
        cursor = _latest(session)
        session.add(Meta(key=CURSOR_KEY, value=cursor.to_json()))
        session.flush()
        return cursor
    return Cursor.from_json(row.value)


def _store_cursor(session: Session, cursor: Cursor) -> None:
    row = session.get(Meta, CURSOR_KEY)
    assert row is not None
    row.value = cursor.to_json()


def mark_watch_start(session: Session, watch_id: int) -> None:
    """Remember the cursor at a watch's creation: it sees no event handled before."""
    cursor = _load_cursor(session)
    session.add(Meta(key=WATCH_START_KEY.format(id=watch_id), value=cursor.to_json()))
    session.flush()


def _watch_starts(session: Session, watch_ids: Iterable[int]) -> dict[int, Cursor]:
    keys = {WATCH_START_KEY.format(id=i): i for i in watch_ids}
    if not keys:
        return {}
    rows = session.scalars(select(Meta).where(Meta.key.in_(list(keys))))
    return {keys[row.key]: Cursor.from_json(row.value) for row in rows}


@dataclass(frozen=True)
class _Trigger:
    event_id: int
    reason: str  # "recorded" or "accepted"
    review_id: int | None


def _triggers(session: Session, cursor: Cursor, rescan: int) -> tuple[list[_Trigger], Cursor]:
    floor_event = max(0, cursor.event - rescan)
    floor_review = max(0, cursor.review - rescan)
    new_events = session.execute(
        select(Event.id, Event.initial_review)
        .where(Event.id > floor_event)
        .order_by(Event.id)
        .limit(BATCH + rescan)
    ).all()
    new_reviews = session.execute(
        select(Review.id, Review.event_id, Review.state)
        .where(Review.id > floor_review)
        .order_by(Review.id)
        .limit(BATCH + rescan)
    ).all()
    triggers = [
        _Trigger(event_id, "recorded", None)
        for event_id, initial in new_events
        if initial == ReviewState.ACCEPTED.value
    ]
    triggers += [
        _Trigger(event_id, "accepted", review_id)
        for review_id, event_id, state in new_reviews
        if state == ReviewState.ACCEPTED.value
    ]
    advanced = Cursor(
        max([cursor.event, *(row[0] for row in new_events)]),
        max([cursor.review, *(row[0] for row in new_reviews)]),
    )
    return triggers, advanced


def _matcher(
    session: Session, watches: list[Watch]
) -> tuple[dict[str, list[Watch]], dict[str, list[Watch]]]:
    """Watches by entity record id (every record merged with the target) and by list id."""
    mapping = canonical_map(session)
    members: dict[str, set[str]] = defaultdict(set)
    for source, target in mapping.items():
        members[target].add(source)
    by_entity: dict[str, list[Watch]] = defaultdict(list)
    by_list: dict[str, list[Watch]] = defaultdict(list)
    for watch in watches:
        if watch.target_kind == "list":
            by_list[watch.target_id].append(watch)
            continue
        canonical = mapping.get(watch.target_id, watch.target_id)
        for record in {canonical, watch.target_id} | members.get(canonical, set()):
            by_entity[record].append(watch)
    return by_entity, by_list


def alert_payload(
    watch: Watch, event: dict[str, Any], reason: str, alert_id: int | None = None
) -> dict[str, Any]:
    """The JSON an alert carries (to the webhook and into the feed)."""
    return {
        "type": "listwatch.alert",
        "alert_id": alert_id,
        "reason": reason,
        "watch": {
            "id": watch.id,
            "target_kind": watch.target_kind,
            "target_id": watch.target_id,
            "label": watch.label,
        },
        "event": event,
    }


def dispatch(session: Session) -> int:
    """Create the alerts (and outbox items) for events handled since the last round.

    Returns the number of alerts created. Runs inside the caller's transaction.
    """
    # One dispatcher at a time (the server's and `listwatch alerts deliver` may overlap).
    lock_writers(session, "alerts.dispatch")
    cursor = _load_cursor(session)
    rescan = RESCAN_WINDOW if session.get_bind().dialect.name == "postgresql" else 0
    triggers, advanced = _triggers(session, cursor, rescan)
    created = 0
    watches = list(session.scalars(select(Watch).where(Watch.active.is_(True))))
    if triggers and watches:
        created = _create_alerts(session, triggers, watches)
    _store_cursor(session, advanced)
    session.flush()
    return created


def _create_alerts(session: Session, triggers: list[_Trigger], watches: list[Watch]) -> int:
    starts = _watch_starts(session, (w.id for w in watches))
    by_entity, by_list = _matcher(session, watches)
    event_ids = sorted({t.event_id for t in triggers})
    events: dict[int, Event] = {}
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start : start + 500]
        for event in session.scalars(
            select(Event)
            .where(Event.id.in_(chunk))
            .options(
                selectinload(Event.evidence).selectinload(Evidence.document),
                selectinload(Event.reviews),
            )
        ):
            events[event.id] = event
    existing: set[tuple[int, int]] = set()
    for start in range(0, len(event_ids), 500):
        chunk = event_ids[start : start + 500]
        existing |= {
            (w, e)
            for w, e in session.execute(
                select(Alert.watch_id, Alert.event_id).where(Alert.event_id.in_(chunk))
            )
        }
    names: dict[str, str] = {}
    created = 0
    for trigger in triggers:
        found = events.get(trigger.event_id)
        if found is None:
            continue
        event = found
        candidates = by_entity.get(event.entity_id, []) + (
            by_list.get(event.list_id, []) if event.list_id else []
        )
        for watch in {w.id: w for w in candidates}.values():
            origin = starts.get(watch.id, Cursor())
            seen_before = (
                event.id <= origin.event
                if trigger.reason == "recorded"
                else (trigger.review_id or 0) <= origin.review
            )
            if seen_before or (watch.id, event.id) in existing:
                continue
            if event.entity_id not in names:
                entity = session.get(Entity, event.entity_id)
                names[event.entity_id] = entity.name if entity else event.entity_id
            event_json = view(event).to_dict()
            event_json["entity_name"] = names[event.entity_id]
            alert = Alert(
                watch_id=watch.id,
                event_id=event.id,
                created_at=utcnow(),
                payload=alert_payload(watch, event_json, trigger.reason),
            )
            session.add(alert)
            session.flush()
            alert.payload = {**alert.payload, "alert_id": alert.id}
            if watch.webhook_url:
                session.add(
                    OutboxItem(
                        alert_id=alert.id,
                        idempotency_key=secrets.token_hex(16),
                        next_attempt_at=utcnow(),
                    )
                )
            existing.add((watch.id, event.id))
            created += 1
    session.flush()
    return created
