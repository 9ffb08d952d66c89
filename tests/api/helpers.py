"""Builders shared by the server tests: apps, tokens and news events awaiting review."""

from __future__ import annotations

import datetime as dt
from typing import Any

from listwatch.api.settings import ServerSettings
from listwatch.api.tokens import create_token
from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind, Origin, PartialDate
from listwatch.registry.store import (
    EvidenceSpan,
    NewEvent,
    add_event,
    get_or_create_document,
    sha256_hex,
)


def make_app(registry: Registry, **settings: Any) -> Any:
    """The real application on ``registry`` (no background delivery unless asked)."""
    from listwatch.api.app import create_app

    settings.setdefault("deliver_alerts", False)
    return create_app(ServerSettings(db=registry.url, **settings), registry)


def token(registry: Registry, *scopes: str, name: str = "tester") -> str:
    """A new API token with these scopes."""
    with registry.transaction() as session:
        _row, text = create_token(session, name, list(scopes))
    return text


def bearer(text: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {text}"}


def news_event(
    registry: Registry,
    entity_id: str,
    kind: EventKind,
    date: str,
    sentence: str,
    *,
    list_id: str | None = "us-dod-cmc",
    title: str = "A news article",
) -> int:
    """A proposed event extracted from a (test) article, as the news pipeline stores it."""
    with registry.transaction() as session:
        document, _ = get_or_create_document(
            session,
            sha256=sha256_hex(title + sentence),
            kind="news",
            title=title,
            url="https://news.example/article",
            language="en",
            published=PartialDate.parse(date),
            text=f"{title}\n\n{sentence}",
        )
        event = add_event(
            session,
            NewEvent(
                entity_id=entity_id,
                list_id=list_id,
                kind=kind,
                origin=Origin.NEWS,
                valid=PartialDate.parse(date),
                recorded_at=dt.datetime.now(dt.UTC),
                confidence=0.8,
                summary=sentence,
                evidence=[
                    EvidenceSpan(
                        document.id,
                        text=sentence,
                        start=len(title) + 2,
                        end=len(title) + 2 + len(sentence),
                    )
                ],
            ),
        )
        return event.id


def official_event(
    registry: Registry, entity_id: str, kind: EventKind, date: str, list_id: str = "us-dod-cmc"
) -> int:
    """An accepted event from an official source recorded now (as an import records it)."""
    with registry.transaction() as session:
        document, _ = get_or_create_document(
            session,
            sha256=sha256_hex(f"official {entity_id} {kind} {date} {dt.datetime.now()}"),
            kind="official_file",
            title=f"Official notice {date}",
        )
        event = add_event(
            session,
            NewEvent(
                entity_id=entity_id,
                list_id=list_id,
                kind=kind,
                origin=Origin.IMPORT,
                valid=PartialDate.parse(date),
                summary=f"{kind} on {list_id}",
                evidence=[EvidenceSpan(document.id, locator="row 1")],
            ),
        )
        return event.id
