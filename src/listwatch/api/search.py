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
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from listwatch.api.cache import data_version, names_version

if TYPE_CHECKING:
    from listwatch.registry.db import Registry
    from listwatch.screening.screen import Hit, Query, Screener

log = logging.getLogger("listwatch.server")

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


#: Rendered answers remembered at most; then the least recently used go.
MAX_ANSWERS = 20_000
#: Descriptions remembered at most (entity, date, record date, role); then all go.
MAX_DESCRIPTIONS = 250_000


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


class ScreeningService:
    """The screening index of one registry, refreshed when the registry changes.

    The first query loads the index; later checks run in a background thread while
    queries go on with the current index, except right after a write through this server,
    when the next query waits for the fresh one.
    """

    def __init__(self, registry: Registry, refresh_seconds: float = 5.0) -> None:
        self.registry = registry
        self.refresh_seconds = refresh_seconds
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()  # held while an index loads
        self._refreshing = False
        self._refresh_lock = threading.Lock()
        self._warming = False
        self._warm_done = threading.Event()
        self._warm_done.set()
        self._descriptions: dict[tuple[Any, ...], _Description] = {}
        self._answers: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self._answers_lock = threading.Lock()

    def invalidate(self) -> None:
        """Make the next query wait for a fresh index (after a write through this server)."""
        with self._lock:
            self._snapshot = None
            self._descriptions = {}
            self._answers = OrderedDict()

    def screener(self) -> Screener:
        """The current screener; a check for changes starts when it is older than allowed."""
        return self._current().screener

    def _current(self) -> _Snapshot:
        snapshot = self._loaded()
        if snapshot is None:
            with self._lock:
                if self._snapshot is None:
                    self._install(*self._load())
                assert self._snapshot is not None
                return self._snapshot
        return snapshot

    def _loaded(self) -> _Snapshot | None:
        """The loaded snapshot, None when there is none (never waits for a load); a check
        for changes starts in the background when one is due."""
        snapshot = self._snapshot
        if snapshot is None:
            return None
        if time.monotonic() - snapshot.checked >= self.refresh_seconds:
            with self._refresh_lock:
                start = not self._refreshing
                self._refreshing = True
            if start:
                threading.Thread(
                    target=self._refresh, name="screening-refresh", daemon=True
                ).start()
        return snapshot

    def _refresh(self) -> None:
        try:
            with self.registry.transaction() as session:
                version = self._version(session)
            current = self._snapshot
            if current is not None and current.version == version:
                # Nothing changed: keep the loaded index (and everything derived from it).
                current.checked = time.monotonic()
                return
            loaded = self._load()
            with self._lock:
                self._install(*loaded)
        except Exception:
            log.exception("refreshing the screening index failed; keeping the current one")
            with self._lock:
                if self._snapshot is not None:
                    self._snapshot.checked = time.monotonic()
        finally:
            with self._refresh_lock:
                self._refreshing = False

    def _install(self, screener: Screener, version: tuple[Any, ...]) -> None:
        previous = self._snapshot
        changed = previous is None or previous.version != version
        if changed:
            self._descriptions = {}
            self._answers = OrderedDict()
        self._snapshot = _Snapshot(screener, time.monotonic(), version)
        if changed and not self._warming:
            self._warming = True
            self._warm_done.clear()
            threading.Thread(target=self.describe_all, name="screening-warm", daemon=True).start()

    def wait_described(self, timeout: float | None = None) -> bool:
        """Wait for the background description of every entity; False on timeout."""
        self.screener()
        return self._warm_done.wait(timeout)

    def describe_all(self) -> None:
        """Describe every entity as of today in one pass (most queries ask about today).

        Runs in the background whenever the registry changed; a no-op for registries with
        more entities than descriptions are kept for.
        """
        from sqlalchemy import func, select

        from listwatch.registry.models import Entity
        from listwatch.registry.status import all_statuses

        try:
            snapshot = self._snapshot
            if snapshot is None:
                return
            day = dt.datetime.now(dt.UTC).date()
            with self.registry.transaction() as session:
                if (session.scalar(select(func.count(Entity.id))) or 0) > MAX_DESCRIPTIONS:
                    return
                found = all_statuses(session, day)
                rows = session.execute(
                    select(Entity.id, Entity.name, Entity.schema, Entity.country)
                ).all()
            described = {
                (entity_id, day, None, None, snapshot.version): _Description(
                    name,
                    schema,
                    country,
                    [r.to_dict() for r in found.get(entity_id, [])],
                    [],
                )
                for entity_id, name, schema, country in rows
            }
            with self._lock:
                current = self._snapshot
                if current is not None and current.version == snapshot.version:
                    self._descriptions.update(described)
        except Exception:
            log.exception("describing every entity failed; hits will be described one by one")
        finally:
            with self._lock:
                self._warming = False
                self._warm_done.set()

    def _load(self) -> tuple[Screener, tuple[Any, ...]]:
        from listwatch.registry.entities import canonical_map
        from listwatch.screening.index import open_index
        from listwatch.screening.screen import Screener

        with self.registry.transaction() as session:
            version = self._version(session)
        state = open_index(self.registry)
        with self.registry.transaction() as session:
            return Screener(state.index, canonical_map(session)), version

    @staticmethod
    def _version(session: Any) -> tuple[Any, ...]:
        return (data_version(session), names_version(session))

    def screen(
        self,
        query: Query,
        as_of: dt.date,
        known_at: dt.date | None = None,
        role: str | None = None,
    ) -> list[Hit]:
        """Hits for one query, with statuses as of ``as_of`` (and duties for ``role``)."""
        from listwatch.screening.screen import describe

        snapshot = self._current()
        hits = snapshot.screener.match(query)
        missing = self._recall_descriptions(hits, as_of, known_at, role, snapshot)
        if missing:
            with self.registry.transaction() as session:
                for hit in missing:
                    describe(session, hit, as_of, known_at, role)
            descriptions = self._descriptions
            if len(descriptions) > MAX_DESCRIPTIONS:
                descriptions.clear()
            for hit in missing:
                key = (hit.entity_id, as_of, known_at, role, snapshot.version)
                descriptions[key] = _Description(
                    hit.name, hit.schema, hit.country, hit.statuses, hit.obligations
                )
        return hits

    def _recall_descriptions(
        self,
        hits: list[Hit],
        as_of: dt.date,
        known_at: dt.date | None,
        role: str | None,
        snapshot: _Snapshot,
    ) -> list[Hit]:
        """Describe the hits from the remembered descriptions; the hits left to describe."""
        missing = []
        for hit in hits:
            known = self._descriptions.get((hit.entity_id, as_of, known_at, role, snapshot.version))
            if known is None:
                missing.append(hit)
                continue
            hit.name, hit.schema, hit.country = known.name, known.schema, known.country
            hit.statuses, hit.obligations = known.statuses, known.obligations
        return missing

    def answer(
        self,
        query: Query,
        as_of: dt.date,
        known_at: dt.date | None,
        role: str | None,
        render: Callable[[list[Hit]], bytes],
    ) -> bytes:
        """The rendered answer to a query, remembered until the registry or index changes.

        Screening the same names again (a customer file every morning, a payment filter)
        is the common case: an answer already given for the same query, date and data is
        given again without matching anew.
        """
        version = self._current().version
        key = self._answer_key(query, as_of, known_at, role, version)
        found = self._remembered(key)
        if found is not None:
            return found
        body = render(self.screen(query, as_of, known_at, role))
        self._remember(key, body)
        return body

    def answer_from_memory(
        self,
        query: Query,
        as_of: dt.date,
        known_at: dt.date | None,
        role: str | None,
        render: Callable[[list[Hit]], bytes],
    ) -> bytes | None:
        """:meth:`answer`, when everything it needs is already in memory; None otherwise.

        With the index loaded and every hit's description remembered (the usual case: the
        entities are described as of today in the background), an answer is pure
        computation of a millisecond or two and never waits for the database or for an
        index to load, so a server can give it without leaving its event loop. None
        means :meth:`answer` must be called (where waiting is allowed); the work done
        here is then done again, which only happens for dates, record dates and roles
        not asked about before.
        """
        snapshot = self._loaded()
        if snapshot is None:
            return None
        key = self._answer_key(query, as_of, known_at, role, snapshot.version)
        found = self._remembered(key)
        if found is not None:
            return found
        hits = snapshot.screener.match(query)
        if self._recall_descriptions(hits, as_of, known_at, role, snapshot):
            return None
        body = render(hits)
        self._remember(key, body)
        return body

    @staticmethod
    def _answer_key(
        query: Query,
        as_of: dt.date,
        known_at: dt.date | None,
        role: str | None,
        version: tuple[Any, ...],
    ) -> tuple[Any, ...]:
        return (
            query.name,
            query.schema,
            query.country,
            tuple(query.identifiers),
            query.threshold,
            query.limit,
            as_of,
            known_at,
            role,
            version,
        )

    # The answers have a lock of their own: the other one is held while an index loads.
    # An answer stored under an older version after the answers were emptied is harmless:
    # its key holds that version, which is never asked for again.

    def _remembered(self, key: tuple[Any, ...]) -> bytes | None:
        with self._answers_lock:
            answers = self._answers
            found = answers.get(key)
            if found is not None:
                answers.move_to_end(key)
            return found

    def _remember(self, key: tuple[Any, ...], body: bytes) -> None:
        with self._answers_lock:
            answers = self._answers
            answers[key] = body
            while len(answers) > MAX_ANSWERS:
                answers.popitem(last=False)
