"""Running the dispatcher and the webhook delivery: once (CLI) or in a loop (server)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from listwatch.alerts.delivery import DeliveryPolicy, DeliveryReport, deliver_due
from listwatch.alerts.dispatcher import dispatch
from listwatch.registry.db import Registry

log = logging.getLogger("listwatch.alerts")


@dataclass
class RoundReport:
    """What one round did: alerts created and the delivery outcome."""

    alerts: int
    delivery: DeliveryReport


def run_round(registry: Registry, policy: DeliveryPolicy | None = None) -> RoundReport:
    """Dispatch new events into alerts, then send the webhook deliveries that are due."""
    with registry.transaction() as session:
        alerts = dispatch(session)
    return RoundReport(alerts, deliver_due(registry, policy))


async def run_forever(
    registry: Registry, policy: DeliveryPolicy, interval: float, stop: asyncio.Event
) -> None:
    """Rounds every ``interval`` seconds until ``stop`` is set; errors are logged, not fatal."""
    while not stop.is_set():
        try:
            report = await asyncio.to_thread(run_round, registry, policy)
            if report.alerts or report.delivery.delivered or report.delivery.retried:
                log.info(
                    "alerts: %d new, %d delivered, %d to retry, %d given up",
                    report.alerts,
                    report.delivery.delivered,
                    report.delivery.retried,
                    report.delivery.failed,
                )
        except Exception:
            log.exception("alert round failed; trying again in %.1f s", interval)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
