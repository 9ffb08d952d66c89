"""The Atom feed of a watch: its latest alerts, newest first (RFC 4287)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.etree import ElementTree as ET

from sqlalchemy import select
from sqlalchemy.orm import Session

from listwatch.registry.domain import qualified
from listwatch.registry.models import Alert, Watch

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 100


def alert_title(payload: dict[str, Any]) -> str:
    """One line saying what happened: ``Xiaomi Corporation: suspended (us-dod-cmc), 2021-03-12``
    (``..., not later than 2024-05-03`` for a change first seen in a snapshot)."""
    event = payload.get("event", {})
    who = event.get("entity_name") or event.get("entity_id", "?")
    what = str(event.get("kind", "event")).replace("_", " ")
    where = f" ({event['list']})" if event.get("list") else ""
    when = (
        f", {qualified(event['date'], event.get('date_qualifier', 'on'))}"
        if event.get("date")
        else ""
    )
    return f"{who}: {what}{where}{when}"


def alert_text(payload: dict[str, Any]) -> str:
    """The alert's summary and its sources, as plain text."""
    event = payload.get("event", {})
    lines = []
    if event.get("summary"):
        lines.append(" ".join(str(event["summary"]).split()))
    for evidence in event.get("evidence", []):
        source = evidence.get("citation") or evidence.get("title") or evidence.get("url")
        quote = f" — “{evidence['text']}”" if evidence.get("text") else ""
        if source or quote:
            lines.append(f"Source: {source or 'document'}{quote}")
    if payload.get("reason") == "accepted":
        lines.append("Reported in the news and accepted on review.")
    return "\n".join(lines)


def _stamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def atom_feed(session: Session, watch: Watch, base_url: str) -> bytes:
    """The feed document of a watch; links point into the web UI at ``base_url``."""
    base = base_url.rstrip("/")
    alerts = list(
        session.scalars(
            select(Alert)
            .where(Alert.watch_id == watch.id)
            .order_by(Alert.id.desc())
            .limit(FEED_SIZE)
        )
    )
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:listwatch:watch:{watch.feed_token}"
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"listwatch: {watch.label or watch.target_id}"
    updated = alerts[0].created_at if alerts else watch.created_at
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = _stamp(updated)
    target = "entities" if watch.target_kind == "entity" else "lists"
    ET.SubElement(
        feed, f"{{{ATOM}}}link", rel="alternate", href=f"{base}/{target}/{watch.target_id}"
    )
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=f"{base}/feeds/{watch.feed_token}.atom")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = "listwatch"
    for alert in alerts:
        payload = alert.payload or {}
        event = payload.get("event", {})
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(
            entry, f"{{{ATOM}}}id"
        ).text = f"urn:listwatch:alert:{watch.feed_token}:{alert.id}"
        ET.SubElement(entry, f"{{{ATOM}}}title").text = alert_title(payload)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = _stamp(alert.created_at)
        entity_id = event.get("entity_id")
        if entity_id:
            ET.SubElement(
                entry,
                f"{{{ATOM}}}link",
                rel="alternate",
                href=f"{base}/entities/{entity_id}?event={alert.event_id}#evidence",
            )
        if event.get("kind"):
            ET.SubElement(entry, f"{{{ATOM}}}category", term=str(event["kind"]))
        ET.SubElement(entry, f"{{{ATOM}}}summary", type="text").text = alert_text(payload)
    body = ET.tostring(feed, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")
