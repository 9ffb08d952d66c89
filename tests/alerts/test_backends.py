"""Dispatch and delivery on both storage backends (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from listwatch.alerts import DeliveryPolicy, create_watch, deliver_due, dispatch
from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind, ReviewState
from listwatch.registry.models import Alert, OutboxItem
from listwatch.registry.store import review_event
from tests.alerts.receiver import Receiver
from tests.api.helpers import news_event, official_event


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(failures=1).start()
    yield started
    started.stop()


def test_dispatch_and_deliver(registry: Registry, receiver: Receiver) -> None:
    with registry.transaction() as session:
        entity_watch = create_watch(session, "entity", "Xiaomi", webhook_url=receiver.url).id
        list_watch = create_watch(session, "list", "us-dod-cmc").id
    official_event(registry, "xiaomi", EventKind.DESIGNATED, "2025-01-07")
    proposed = news_event(
        registry, "dji", EventKind.REMOVED, "2025-02-01", "DJI was taken off the list."
    )
    with registry.transaction() as session:
        assert dispatch(session) == 2, "the official event, for both watches"
    with registry.transaction() as session:
        review_event(session, proposed, ReviewState.ACCEPTED)
    with registry.transaction() as session:
        assert dispatch(session) == 1, "the accepted news event, for the list watch"
        assert dispatch(session) == 0
        rows = session.execute(select(Alert.watch_id, Alert.event_id)).all()
    assert sorted(w for w, _ in rows) == sorted([entity_watch, list_watch, list_watch])
    policy = DeliveryPolicy(retry_base=0.01, max_attempts=3, timeout=5)
    assert deliver_due(registry, policy).retried == 1
    receiver.wait_for(1)
    time.sleep(0.05)
    assert deliver_due(registry, policy).delivered == 1
    with registry.transaction() as session:
        item = session.scalars(select(OutboxItem)).one()
        assert item.delivered_at is not None and item.attempts == 2
