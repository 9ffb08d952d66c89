"""Results that depend only on the registry's events, kept until the events change.

Folding every member of a large list (the SDN has about ten thousand) takes seconds; a
server answers the same question many times. A result is kept with the registry's data
version (the newest event, review, evidence and merge decision), which is re-read at most
every ``check_seconds``; any change drops every kept result. Writes made through this
server drop them at once.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from listwatch.registry.db import Registry

T = TypeVar("T")


def data_version(session: Session) -> tuple[Any, ...]:
    """What statuses depend on: the newest event, review, evidence and merge decision."""
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


def names_version(session: Session) -> tuple[Any, ...]:
    """What the screening index depends on: the names, identifiers and entities."""
    from listwatch.registry.models import Entity, EntityName, Identifier

    return tuple(
        session.execute(
            select(
                select(func.max(EntityName.id)).scalar_subquery(),
                select(func.count(EntityName.id)).scalar_subquery(),
                select(func.max(Identifier.id)).scalar_subquery(),
                select(func.count(Identifier.id)).scalar_subquery(),
                select(func.count(Entity.id)).scalar_subquery(),
            )
        ).one()
    )


class ResultCache:
    """A small LRU of computed results, valid for one data version of the registry."""

    def __init__(
        self, registry: Registry, check_seconds: float = 5.0, max_entries: int = 64
    ) -> None:
        self.registry = registry
        self.check_seconds = check_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._version: tuple[Any, ...] | None = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Drop every result (after a write)."""
        with self._lock:
            self._entries.clear()
            self._version = None

    def _check(self) -> None:
        now = time.monotonic()
        if self._version is not None and now - self._checked < self.check_seconds:
            return
        with self.registry.transaction() as session:
            version = data_version(session)
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
            self._checked = now

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The kept result for ``key``, or ``compute()`` kept for next time."""
        self._check()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                found: T = self._entries[key]
                return found
            version = self._version
        value = compute()
        with self._lock:
            if version == self._version:
                self._entries[key] = value
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return value
