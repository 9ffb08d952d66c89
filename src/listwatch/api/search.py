"""Screening for the server: one index in memory, kept up to date, shared by API and UI.

The screening engine (:mod:`listwatch.screening`) does the matching and the statuses;
this module only keeps its index and the registry's merge map fresh for a long-running
process: they are re-checked against the registry at most every ``refresh_seconds`` (the
check is a few cheap queries; an update is incremental when only names were added) and
immediately after a write made through this server.
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


@dataclass
class _Snapshot:
    screener: Screener
    checked: float


class ScreeningService:
    """The screening index of one registry, refreshed when the registry changes."""

    def __init__(self, registry: Registry, refresh_seconds: float = 2.0) -> None:
        self.registry = registry
        self.refresh_seconds = refresh_seconds
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()

    def invalidate(self) -> None:
        """Re-check the registry on the next query (after a write through this server)."""
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.checked = 0.0

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
            self._snapshot = _Snapshot(self._load(), time.monotonic())
            return self._snapshot.screener

    def _load(self) -> Screener:
        from listwatch.registry.entities import canonical_map
        from listwatch.screening.index import open_index
        from listwatch.screening.screen import Screener

        state = open_index(self.registry)
        with self.registry.transaction() as session:
            return Screener(state.index, canonical_map(session))

    def screen(
        self,
        session: Session,
        query: Query,
        as_of: dt.date,
        known_at: dt.date | None = None,
        role: str | None = None,
    ) -> list[Hit]:
        """Hits for one query, with statuses as of ``as_of`` (and duties for ``role``)."""
        return self.screener().screen(query, session, as_of, known_at, role)


def hit_dict(hit: Hit) -> dict[str, Any]:
    """A hit in its API form (the screening engine's JSON)."""
    return hit.to_dict()
