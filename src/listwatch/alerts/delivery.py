"""Webhook delivery from the durable outbox: signed, retried with backoff, never lost.

An outbox item is claimed (``locked_until``) before it is sent, so several workers, or a
worker that died mid-send, never lose or double-claim an item; an item whose claim
expired is due again. Each request carries:

- ``X-Listwatch-Signature: sha256=<hex>``: HMAC-SHA256 with the watch's secret over
  ``<timestamp>.<body>`` (see :func:`verify_signature`);
- ``X-Listwatch-Timestamp``: Unix seconds when the request was signed;
- ``Idempotency-Key``: the same on every attempt of one alert, so receivers drop repeats;
- ``X-Listwatch-Attempt``: 1 for the first attempt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field

import httpx
from sqlalchemy import or_, select

from listwatch.registry.db import Registry, lock_writers
from listwatch.registry.models import Alert, OutboxItem, Watch, utcnow

log = logging.getLogger("listwatch.alerts")

SIGNATURE_HEADER = "X-Listwatch-Signature"
TIMESTAMP_HEADER = "X-Listwatch-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"
ATTEMPT_HEADER = "X-Listwatch-Attempt"


@dataclass(frozen=True)
class DeliveryPolicy:
    """Retry schedule and limits of webhook delivery."""

    retry_base: float = 30.0
    retry_max: float = 3600.0
    max_attempts: int = 10
    timeout: float = 10.0
    batch: int = 50

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1, 2, 4 ... x base)."""
        return min(self.retry_max, self.retry_base * 2 ** max(0, attempts - 1))

    @property
    def claim_seconds(self) -> float:
        """How long a claimed item stays reserved for the worker sending it."""
        return self.timeout * 2 + 30


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value of a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes,
    signature: str,
    *,
    tolerance: float = 300.0,
    now: float | None = None,
) -> bool:
    """What a receiver checks: the signature matches and the timestamp is recent."""
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if abs(current - stamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body), signature)


def encode_payload(payload: dict[str, object]) -> bytes:
    """The exact bytes sent (and signed) for a payload."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


@dataclass
class DeliveryReport:
    """What one delivery round did."""

    delivered: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Claimed:
    item_id: int
    url: str | None
    secret: str | None
    key: str
    attempt: int
    body: bytes
    active: bool


def _claim(registry: Registry, policy: DeliveryPolicy) -> list[_Claimed]:
    now = utcnow()
    with registry.transaction() as session:
        # SQLite has no SKIP LOCKED: take its write lock first so that two workers never
        # claim the same item (on PostgreSQL the row locks below are enough).
        if registry.dialect != "postgresql":
            lock_writers(session, "alerts.outbox")
        query = (
            select(OutboxItem, Alert, Watch)
            .join(Alert, Alert.id == OutboxItem.alert_id)
            .join(Watch, Watch.id == Alert.watch_id)
            .where(
                OutboxItem.delivered_at.is_(None),
                OutboxItem.failed_at.is_(None),
                OutboxItem.next_attempt_at <= now,
                or_(OutboxItem.locked_until.is_(None), OutboxItem.locked_until < now),
            )
            .order_by(OutboxItem.next_attempt_at, OutboxItem.id)
            .limit(policy.batch)
        )
        if registry.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True, of=OutboxItem)
        claimed = []
        until = now + dt.timedelta(seconds=policy.claim_seconds)
        for item, alert, watch in session.execute(query):
            item.locked_until = until
            claimed.append(
                _Claimed(
                    item_id=item.id,
                    url=watch.webhook_url,
                    secret=watch.secret,
                    key=item.idempotency_key,
                    attempt=item.attempts + 1,
                    body=encode_payload(alert.payload),
                    active=watch.active,
                )
            )
    return claimed


def _send(client: httpx.Client, claimed: _Claimed) -> tuple[bool, str | None, float | None]:
    """Post one item; returns (delivered, error, retry-after seconds asked by the receiver)."""
    assert claimed.url is not None
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "listwatch-webhook/1",
        TIMESTAMP_HEADER: str(stamp),
        IDEMPOTENCY_HEADER: claimed.key,
        ATTEMPT_HEADER: str(claimed.attempt),
    }
    if claimed.secret:
        headers[SIGNATURE_HEADER] = sign(claimed.secret, stamp, claimed.body)
    try:
        response = client.post(claimed.url, content=claimed.body, headers=headers)
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}: {exc}"[:500], None
    if 200 <= response.status_code < 300:
        return True, None, None
    retry_after = None
    if response.status_code in (429, 503):
        try:
            retry_after = float(response.headers.get("retry-after", ""))
        except ValueError:
            retry_after = None
    return False, f"HTTP {response.status_code}", retry_after


def _record(
    registry: Registry,
    claimed: _Claimed,
    delivered: bool,
    error: str | None,
    retry_after: float | None,
    policy: DeliveryPolicy,
    report: DeliveryReport,
) -> None:
    now = utcnow()
    with registry.transaction() as session:
        item = session.get(OutboxItem, claimed.item_id)
        if item is None:
            return
        item.locked_until = None
        item.attempts = claimed.attempt
        if delivered:
            item.delivered_at = now
            item.last_error = None
            report.delivered += 1
            return
        item.last_error = error
        report.errors.append(f"outbox {item.id}: {error}")
        if claimed.attempt >= policy.max_attempts or not claimed.active:
            item.failed_at = now
            report.failed += 1
            return
        delay = policy.delay(claimed.attempt)
        if retry_after is not None:
            delay = min(policy.retry_max, max(delay, retry_after))
        item.next_attempt_at = now + dt.timedelta(seconds=delay)
        report.retried += 1


def deliver_due(registry: Registry, policy: DeliveryPolicy | None = None) -> DeliveryReport:
    """Send every outbox item that is due; record each outcome in its own transaction."""
    policy = policy or DeliveryPolicy()
    report = DeliveryReport()
    claimed = _claim(registry, policy)
    if not claimed:
        return report
    with httpx.Client(timeout=policy.timeout, follow_redirects=False, trust_env=False) as client:
        for item in claimed:
            if not item.active or not item.url:
                _record(registry, item, False, "the watch was deleted", None, policy, report)
                continue
            delivered, error, retry_after = _send(client, item)
            if not delivered:
                log.warning("webhook delivery %s failed: %s", item.item_id, error)
            _record(registry, item, delivered, error, retry_after, policy, report)
    return report
