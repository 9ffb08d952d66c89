"""The outbox survives a server restart between a failed delivery and its retry."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from listwatch.alerts import create_watch
from listwatch.alerts.delivery import IDEMPOTENCY_HEADER
from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind
from listwatch.registry.models import OutboxItem, utcnow
from tests.alerts.receiver import Receiver
from tests.api.helpers import bearer, official_event, token
from tests.api.live import live_server

ENV = {"LISTWATCH_RETRY_BASE": "2", "LISTWATCH_ALERT_INTERVAL": "0.2"}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver(failures=1).start()
    yield started
    started.stop()


def outbox(registry: Registry) -> OutboxItem | None:
    with registry.transaction() as session:
        return session.scalars(select(OutboxItem)).first()


def wait_until(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError("timed out")


@pytest.mark.slow
def test_retry_after_restart(sqlite_url: str, receiver: Receiver) -> None:
    registry = Registry(sqlite_url)
    with registry.transaction() as session:
        create_watch(session, "entity", "xiaomi", webhook_url=receiver.url)
    with live_server(sqlite_url, ENV):
        official_event(registry, "xiaomi", EventKind.DESIGNATED, "2025-01-07")
        (failed,) = receiver.wait_for(1)
        assert failed.status == 500

        def failure_recorded() -> bool:
            item = outbox(registry)
            return item is not None and item.attempts == 1 and item.locked_until is None

        wait_until(failure_recorded)
    # The server is down; the failed alert waits in the database.
    item = outbox(registry)
    assert item is not None and item.delivered_at is None and item.next_attempt_at > utcnow()
    assert len(receiver.requests) == 1
    with live_server(sqlite_url, ENV) as server:
        requests = receiver.wait_for(2)
        assert [r.status for r in requests] == [500, 204]
        assert requests[0].headers[IDEMPOTENCY_HEADER] == requests[1].headers[IDEMPOTENCY_HEADER]
        wait_until(lambda: (outbox(registry) or item).delivered_at is not None)
        headers = bearer(token(registry, "watch"))
        watches = httpx.get(f"{server.url}/api/v1/watches", headers=headers).json()
        alerts = httpx.get(
            f"{server.url}/api/v1/watches/{watches['items'][0]['id']}/alerts", headers=headers
        ).json()
        delivery = alerts["items"][0]["delivery"]
        assert delivery["state"] == "delivered" and delivery["attempts"] == 2
    registry.dispose()
