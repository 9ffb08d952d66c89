"""Screening for the server: one index in memory, kept up to date, shared by API and UI.

The screening engine (:mod:`listwatch.screening`) does the matching and describes each
hit (statuses, duties); this module keeps, for a long-running process, its index and the
registry's merge map fresh, and remembers each entity's description per date so that a
busy server does not fold the same events again for every request.

Everything is re-checked against the registry at most every ``refresh_seconds`` (a few
cheap queries: the index watermark, and the newest event, review, evidence and merge) and
immediately after a write made through this server; any change of the events empties the
remembered descriptions.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from listwatch.registry.db import Registry
    from listwatch.screening.screen import Hit, Query, Screener

#: Query types accepted by the API and the UI, mapped to FollowTheMoney schema names.
TYPES = {
    "any": "any",
    "company": "Company",
    "person": "Person",
    "organization": "Organization",
    "legal-entity": "LegalEntity",
    "vessel": "Vessel",
    "airplane": "Airplane",
}


#: Descriptions remembered at most (entity, date, record date, role); then the oldest go.
MAX_DESCRIPTIONS = 50_000


@dataclass
class _Snapshot:
    screener: Screener
    checked: float
    version: tuple[Any, ...]


@dataclass(frozen=True)
class _Description:
    name: str
    schema: str
    country: str | None
    statuses: list[dict[str, Any]]
    obligations: list[dict[str, Any]]


def data_version(session: Session) -> tuple[Any, ...]:
    """What statuses depend on: the newest event, review, evidence and merge decision."""
    from sqlalchemy import func, select

    from listwatch.registry.models import EntityMerge, Event, Evidence, Review

    return tuple(
        session.execute(
            select(
                select(func.max(Event.id)).scalar_subquery(),
                select(func.max(Review.id)).scalar_subquery(),
                select(func.max(Evidence.id)).scalar_subquery(),
                select(func.max(EntityMerge.id)).scalar_subquery(),
                select(func.count(EntityMerge.undone_at)).scalar_subquery(),
            )
        ).one()
    )


class ScreeningService:
    """The screening index of one registry, refreshed when the registry changes."""

    def __init__(self, registry: Registry, refresh_seconds: float = 2.0) -> None:
        self.registry = registry
        self.refresh_seconds = refresh_seconds
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()
        self._descriptions: dict[tuple[Any, ...], _Description] = {}

    def invalidate(self) -> None:
        """Re-check the registry on the next query (after a write through this server)."""
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.checked = 0.0
            self._descriptions = {}

    def screener(self) -> Screener:
        """A screener on an index no older than ``refresh_seconds``."""
        snapshot = self._snapshot
        now = time.monotonic()
        if snapshot is not None and now - snapshot.checked < self.refresh_seconds:
            return snapshot.screener
        with self._lock:
            snapshot = self._snapshot
            if snapshot is not None and now - snapshot.checked < self.refresh_seconds:
                return snapshot.screener
            screener, version = self._load()
            if snapshot is None or version != snapshot.version:
                self._descriptions = {}
            self._snapshot = _Snapshot(screener, time.monotonic(), version)
            return screener

    def _load(self) -> tuple[Screener, tuple[Any, ...]]:
        from listwatch.registry.entities import canonical_map
        from listwatch.screening.index import open_index
        from listwatch.screening.screen import Screener

        state = open_index(self.registry)
        with self.registry.transaction() as session:
            return Screener(state.index, canonical_map(session)), data_version(session)

    def screen(
        self,
        query: Query,
        as_of: dt.date,
        known_at: dt.date | None = None,
        role: str | None = None,
    ) -> list[Hit]:
        """Hits for one query, with statuses as of ``as_of`` (and duties for ``role``)."""
        from listwatch.screening.screen import describe

        hits = self.screener().match(query)
        missing = []
        for hit in hits:
            known = self._descriptions.get((hit.entity_id, as_of, known_at, role))
            if known is None:
                missing.append(hit)
                continue
            hit.name, hit.schema, hit.country = known.name, known.schema, known.country
            hit.statuses, hit.obligations = known.statuses, known.obligations
        if missing:
            with self.registry.transaction() as session:
                for hit in missing:
                    describe(session, hit, as_of, known_at, role)
            descriptions = self._descriptions
            if len(descriptions) > MAX_DESCRIPTIONS:
                descriptions.clear()
            for hit in missing:
                descriptions[(hit.entity_id, as_of, known_at, role)] = _Description(
                    hit.name, hit.schema, hit.country, hit.statuses, hit.obligations
                )
        return hits


def hit_dict(hit: Hit) -> dict[str, Any]:
    """A hit in its API form (the screening engine's JSON)."""
    return hit.to_dict()
