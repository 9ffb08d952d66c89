"""Name search for the UI and the API, with the statuses of each hit as of a date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from listwatch.api import queries


@dataclass
class SearchHit:
    """An entity found for a query, why it was found, and where it stands."""

    entity: dict[str, Any]
    score: float
    matched_name: str
    explanation: list[str]
    statuses: list[dict[str, Any]] = field(default_factory=list)


def search(
    session: Session,
    query: str,
    as_of: dt.date,
    known_at: dt.date | None = None,
    limit: int = 10,
) -> list[SearchHit]:
    """Entities named ``query`` exactly (names, aliases, identifiers), then by substring."""
    from listwatch.registry.entities import find_entities
    from listwatch.registry.status import statuses

    hits: list[SearchHit] = []
    seen: set[str] = set()
    for match in find_entities(session, query):
        seen.add(match.entity.id)
        how = match.kind.replace("identifier:", "identifier ")
        hits.append(
            SearchHit(
                queries.entity_summary(match.entity),
                1.0,
                match.matched,
                [f"exact match on the {how} “{match.matched}”"],
            )
        )
    if len(hits) < limit:
        rows, _total = queries.search_entities(session, query, None, limit, 0)
        for entity in rows:
            if entity.id in seen:
                continue
            seen.add(entity.id)
            hits.append(
                SearchHit(
                    queries.entity_summary(entity),
                    0.5,
                    entity.name,
                    [f"a name contains “{query.strip()}”"],
                )
            )
    hits = hits[:limit]
    for hit in hits:
        hit.statuses = [r.to_dict() for r in statuses(session, hit.entity["id"], as_of, known_at)]
    return hits
