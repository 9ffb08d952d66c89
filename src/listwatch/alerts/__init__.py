"""Watches and alerts: events that concern a watch become alerts, delivered to a signed
webhook through a durable outbox and listed in an Atom feed per watch."""

from listwatch.alerts.delivery import DeliveryPolicy, deliver_due, sign, verify_signature
from listwatch.alerts.dispatcher import dispatch
from listwatch.alerts.watches import create_watch, delete_watch, list_watches

__all__ = [
    "DeliveryPolicy",
    "create_watch",
    "delete_watch",
    "deliver_due",
    "dispatch",
    "list_watches",
    "sign",
    "verify_signature",
]
