"""From recorded events to alerts: which watches match, once, and only after acceptance."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from listwatch.alerts import create_watch, delete_watch, dispatch
from listwatch.registry.db import Registry, RegistryError
from listwatch.registry.domain import EventKind, ReviewState
from listwatch.registry.models import Alert, Entity, OutboxItem
from listwatch.registry.store import add_name, merge_entities, review_event
from tests.api.helpers import news_event, official_event


def alerts_of(registry: Registry, watch_id: int) -> list[Alert]:
    with registry.transaction() as session:
        return list(
            session.scalars(select(Alert).where(Alert.watch_id == watch_id).order_by(Alert.id))
        )


def run_dispatch(registry: Registry) -> int:
    with registry.transaction() as session:
        return dispatch(session)


def watch(registry: Registry, kind: str, target: str, url: str | None = None) -> int:
    with registry.transaction() as session:
        return create_watch(session, kind, target, webhook_url=url).id


def test_entity_watch_sees_only_new_events(api_registry: Registry) -> None:
    watch_id = watch(api_registry, "entity", "Xiaomi", "http://127.0.0.1:9/hook")
    assert run_dispatch(api_registry) == 0, "the curated history is not news to a new watch"
    event_id = official_event(api_registry, "xiaomi", EventKind.DESIGNATED, "2025-01-07")
    official_event(api_registry, "dji", EventKind.DESIGNATED, "2025-01-07")
    assert run_dispatch(api_registry) == 1
    (alert,) = alerts_of(api_registry, watch_id)
    assert alert.event_id == event_id
    assert alert.payload["event"]["entity_name"] == "Xiaomi Corporation"
    assert alert.payload["event"]["evidence"], "an alert carries the event's evidence"
    assert alert.payload["alert_id"] == alert.id
    assert run_dispatch(api_registry) == 0, "dispatching twice makes no second alert"
    with api_registry.transaction() as session:
        outbox = session.scalar(select(func.count()).select_from(OutboxItem))
    assert outbox == 1


def test_list_watch_and_no_webhook(api_registry: Registry) -> None:
    watch_id = watch(api_registry, "list", "us-bis-entity-list")
    official_event(api_registry, "xiaomi", EventKind.DESIGNATED, "2025-02-01", "us-dod-cmc")
    official_event(api_registry, "smic", EventKind.DESIGNATED, "2025-02-01", "us-bis-entity-list")
    assert run_dispatch(api_registry) == 1
    (alert,) = alerts_of(api_registry, watch_id)
    assert alert.payload["event"]["list"] == "us-bis-entity-list"
    with api_registry.transaction() as session:
        assert session.scalar(select(func.count()).select_from(OutboxItem)) == 0


def test_news_events_alert_only_once_accepted(api_registry: Registry) -> None:
    watch_id = watch(api_registry, "entity", "xiaomi")
    proposed = news_event(
        api_registry, "xiaomi", EventKind.DESIGNATED, "2025-03-01", "Xiaomi was listed again."
    )
    rejected = news_event(
        api_registry, "xiaomi", EventKind.REMOVED, "2025-03-02", "Xiaomi was removed again."
    )
    assert run_dispatch(api_registry) == 0
    with api_registry.transaction() as session:
        review_event(session, rejected, ReviewState.REJECTED, "not in the official record")
        review_event(session, proposed, ReviewState.ACCEPTED)
    assert run_dispatch(api_registry) == 1
    (alert,) = alerts_of(api_registry, watch_id)
    assert alert.event_id == proposed and alert.payload["reason"] == "accepted"


def test_entity_watch_follows_merged_records(api_registry: Registry) -> None:
    with api_registry.transaction() as session:
        record = Entity(id="xiaomi-import-1", schema="Company", name="XIAOMI CORP", origin="import")
        session.add(record)
        add_name(session, record, "XIAOMI CORP", kind="primary")
        session.flush()
        merge_entities(session, "xiaomi-import-1", "xiaomi", "same company")
    watch_id = watch(api_registry, "entity", "xiaomi")
    official_event(api_registry, "xiaomi-import-1", EventKind.DESIGNATED, "2025-04-01")
    assert run_dispatch(api_registry) == 1
    assert alerts_of(api_registry, watch_id)[0].payload["event"]["entity_id"] == "xiaomi-import-1"


def test_stopped_watch_and_bad_targets(api_registry: Registry) -> None:
    watch_id = watch(api_registry, "entity", "xiaomi")
    with api_registry.transaction() as session:
        delete_watch(session, watch_id)
    official_event(api_registry, "xiaomi", EventKind.DESIGNATED, "2025-05-01")
    assert run_dispatch(api_registry) == 0
    with api_registry.transaction() as session:
        with pytest.raises(RegistryError, match="no entity"):
            create_watch(session, "entity", "No Such Company")
        with pytest.raises(RegistryError, match="unknown list"):
            create_watch(session, "list", "no-such-list")
        with pytest.raises(RegistryError, match="http"):
            create_watch(session, "entity", "xiaomi", webhook_url="file:///etc/passwd")
        with pytest.raises(RegistryError, match="credentials"):
            create_watch(session, "entity", "xiaomi", webhook_url="http://u:p@127.0.0.1/")
