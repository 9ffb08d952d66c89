"""Webhook delivery against a real receiver: signatures, idempotency keys, retries, give-up."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from listwatch.alerts import DeliveryPolicy, create_watch, deliver_due, dispatch, verify_signature
from listwatch.alerts.delivery import (
    ATTEMPT_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind
from listwatch.registry.models import OutboxItem, utcnow
from tests.alerts.receiver import Receiver
from tests.api.helpers import official_event

SECRET = "whsec_test_secret_0123456789"
FAST = DeliveryPolicy(retry_base=0.05, retry_max=1.0, max_attempts=4, timeout=5.0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver().start()
    yield started
    started.stop()


def prepare(registry: Registry, url: str) -> int:
    """A watch on Xiaomi with a webhook, and one new event for it; returns the event id."""
    with registry.transaction() as session:
        create_watch(session, "entity", "xiaomi", webhook_url=url, secret=SECRET)
    event_id = official_event(registry, "xiaomi", EventKind.DESIGNATED, "2025-01-07")
    with registry.transaction() as session:
        assert dispatch(session) == 1
    return event_id


def outbox(registry: Registry) -> OutboxItem:
    with registry.transaction() as session:
        return session.scalars(select(OutboxItem)).one()


def deliver_until(registry: Registry, done: int, policy: DeliveryPolicy = FAST) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        deliver_due(registry, policy)
        item = outbox(registry)
        if item.delivered_at or item.failed_at or item.attempts >= done:
            return
        time.sleep(0.02)


def test_signed_delivery(api_registry: Registry, receiver: Receiver) -> None:
    event_id = prepare(api_registry, receiver.url)
    report = deliver_due(api_registry, FAST)
    assert report.delivered == 1
    (request,) = receiver.requests
    assert verify_signature(
        SECRET, request.headers[TIMESTAMP_HEADER], request.body, request.headers[SIGNATURE_HEADER]
    )
    assert not verify_signature(
        "another-secret-value",
        request.headers[TIMESTAMP_HEADER],
        request.body,
        request.headers[SIGNATURE_HEADER],
    )
    tampered = request.body.replace(b"xiaomi", b"xiaomx")
    assert not verify_signature(
        SECRET, request.headers[TIMESTAMP_HEADER], tampered, request.headers[SIGNATURE_HEADER]
    )
    payload = request.json()
    assert payload["type"] == "listwatch.alert"
    assert payload["event"]["id"] == event_id
    assert request.headers[IDEMPOTENCY_HEADER] == outbox(api_registry).idempotency_key
    assert outbox(api_registry).delivered_at is not None
    assert deliver_due(api_registry, FAST).delivered == 0, "a delivered item is not sent again"


def test_receiver_failing_twice_then_accepting(api_registry: Registry, receiver: Receiver) -> None:
    receiver.failures = 2
    prepare(api_registry, receiver.url)
    deliver_until(api_registry, done=3)
    item = outbox(api_registry)
    assert item.delivered_at is not None and item.attempts == 3
    statuses = [r.status for r in receiver.requests]
    assert statuses == [500, 500, 204]
    keys = {r.headers[IDEMPOTENCY_HEADER] for r in receiver.requests}
    assert keys == {item.idempotency_key}, "every attempt carries the same idempotency key"
    assert [r.headers[ATTEMPT_HEADER] for r in receiver.requests] == ["1", "2", "3"]
    assert len({r.body for r in receiver.requests}) == 1, "the same alert each time"


def test_backoff_schedule_and_give_up(api_registry: Registry, receiver: Receiver) -> None:
    receiver.failures = 100
    prepare(api_registry, receiver.url)
    slow = DeliveryPolicy(retry_base=60, retry_max=3600, max_attempts=3, timeout=5)
    deliver_due(api_registry, slow)
    first = outbox(api_registry)
    assert first.attempts == 1 and first.last_error == "HTTP 500"
    assert first.delivered_at is None
    assert deliver_due(api_registry, slow).retried == 0, "not due before its backoff"
    assert slow.delay(1) == 60 and slow.delay(2) == 120 and slow.delay(3) == 240
    assert DeliveryPolicy(retry_base=60, retry_max=100).delay(5) == 100
    with api_registry.transaction() as session:
        # Let the minute pass.
        session.scalars(select(OutboxItem)).one().next_attempt_at = utcnow()
    deliver_until(api_registry, done=4, policy=FAST)
    item = outbox(api_registry)
    assert item.failed_at is not None and item.attempts == FAST.max_attempts
    assert len(receiver.requests) == FAST.max_attempts


def test_unreachable_receiver_is_retried(api_registry: Registry) -> None:
    prepare(api_registry, "http://127.0.0.1:9/unreachable")
    report = deliver_due(api_registry, FAST)
    assert report.retried == 1
    assert "Connect" in (outbox(api_registry).last_error or "")


def test_signature_helpers() -> None:
    body = json.dumps({"a": 1}).encode()
    now = int(time.time())
    header = sign(SECRET, now, body)
    assert header.startswith("sha256=")
    assert verify_signature(SECRET, now, body, header)
    assert not verify_signature(SECRET, now - 3600, body, sign(SECRET, now - 3600, body))
    assert not verify_signature(SECRET, "not-a-number", body, header)


def test_concurrent_workers_claim_each_item_once(
    api_registry: Registry, receiver: Receiver
) -> None:
    import threading

    with api_registry.transaction() as session:
        for target in ("xiaomi", "dji", "huawei", "smic"):
            create_watch(session, "entity", target, webhook_url=receiver.url, secret=SECRET)
    for target in ("xiaomi", "dji", "huawei", "smic"):
        official_event(api_registry, target, EventKind.DESIGNATED, "2025-01-07")
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with api_registry.transaction() as session:
                dispatch(session)
            deliver_due(api_registry, FAST)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    deliver_due(api_registry, FAST)
    keys = [r.headers[IDEMPOTENCY_HEADER] for r in receiver.requests]
    assert len(keys) == 4 and len(set(keys)) == 4, "each alert delivered exactly once"
