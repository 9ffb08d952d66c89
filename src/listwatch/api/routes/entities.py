"""Entities: search, names and identifiers, status as of a date, history, obligations, events."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from listwatch.api import queries, schemas
from listwatch.api.deps import (
    Page,
    PageDep,
    RegistryDep,
    check_day,
    page_of,
    read_access,
    today,
)
from listwatch.api.errors import COMMON_ERRORS, NOT_FOUND, ApiError
from listwatch.registry.models import Entity, RestrictionList

router = APIRouter(prefix="/entities", tags=["entities"], dependencies=[Depends(read_access)])

EntityId = Annotated[str, Path(min_length=1, max_length=128, description="Entity id")]
AsOf = Annotated[dt.date | None, Query(description="Date of the status (default: today)")]
KnownAt = Annotated[
    dt.date | None, Query(description="Answer with only what was recorded by this date")
]


def _entity(session: Any, entity_id: str) -> Entity:
    entity = queries.get_entity(session, entity_id)
    if entity is None:
        raise ApiError(404, f"no entity {entity_id!r}")
    return entity


@router.get("", response_model=Page[schemas.EntitySummary], responses=COMMON_ERRORS)
def list_entities(
    registry: RegistryDep,
    page: PageDep,
    q: Annotated[
        str | None, Query(max_length=300, description="Part of a name, or an identifier")
    ] = None,
    list_id: Annotated[
        str | None, Query(alias="list", max_length=64, description="Only entities on this list")
    ] = None,
) -> dict[str, Any]:
    """Entities by name (substring, case-insensitive) or identifier, in name order."""
    with registry.transaction() as session:
        rows, total = queries.search_entities(session, q, list_id, page.limit, page.offset)
        return page_of([queries.entity_summary(e) for e in rows], total, page)


@router.get(
    "/{entity_id}", response_model=schemas.EntityDetail, responses={**COMMON_ERRORS, **NOT_FOUND}
)
def get_entity(entity_id: EntityId, registry: RegistryDep) -> dict[str, Any]:
    """An entity's names, identifiers, relations and the records merged into it."""
    with registry.transaction() as session:
        return queries.entity_detail(session, _entity(session, entity_id))


@router.get(
    "/{entity_id}/status",
    response_model=schemas.EntityStatus,
    responses={**COMMON_ERRORS, **NOT_FOUND},
)
def get_status(
    entity_id: EntityId,
    registry: RegistryDep,
    as_of: AsOf = None,
    known_at: KnownAt = None,
    list_id: Annotated[str | None, Query(alias="list", max_length=64)] = None,
) -> dict[str, Any]:
    """Status on each list (listed, listed_suspended, removed) as of a date, as known then."""
    from listwatch.registry.status import status, statuses

    day = check_day(as_of, "as_of") or today()
    known = check_day(known_at, "known_at")
    with registry.transaction() as session:
        entity = _entity(session, entity_id)
        if list_id is not None:
            if session.get(RestrictionList, list_id) is None:
                raise ApiError(404, f"unknown list id {list_id!r}")
            results = [status(session, entity.id, list_id, day, known)]
        else:
            results = statuses(session, entity.id, day, known)
        return {
            "entity": queries.entity_summary(entity),
            "as_of": day.isoformat(),
            "known_at": known.isoformat() if known else None,
            "statuses": [_with_names(session, r.to_dict()) for r in results],
        }


def _with_names(session: Any, item: dict[str, Any]) -> dict[str, Any]:
    names = queries.entity_names(session, [e["entity_id"] for e in item.get("events", [])])
    for event in item.get("events", []):
        event["entity_name"] = names.get(event["entity_id"])
    return item


@router.get(
    "/{entity_id}/history",
    response_model=schemas.EntityHistory,
    responses={**COMMON_ERRORS, **NOT_FOUND},
)
def get_history(
    entity_id: EntityId, registry: RegistryDep, known_at: KnownAt = None
) -> dict[str, Any]:
    """Status intervals on every list with the events that opened them, and other events."""
    from listwatch.registry.status import history

    known = check_day(known_at, "known_at")
    with registry.transaction() as session:
        entity = _entity(session, entity_id)
        histories = [h.to_dict() for h in history(session, entity.id, known)]
        for item in histories:
            item["list"] = item["list"] or None
        return {
            "entity": queries.entity_summary(entity),
            "known_at": known.isoformat() if known else None,
            "lists": histories,
        }


@router.get(
    "/{entity_id}/obligations",
    response_model=schemas.Obligations,
    responses={**COMMON_ERRORS, **NOT_FOUND},
)
def get_obligations(
    entity_id: EntityId,
    registry: RegistryDep,
    role: Annotated[str, Query(max_length=64, description="e.g. us-investor, us-exporter")],
    as_of: AsOf = None,
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """The dated duties a user of ``role`` has towards the entity on a date."""
    from listwatch.obligations import load_roles, obligations

    if role not in load_roles():
        raise ApiError(
            422,
            f"unknown role {role!r} (known roles: {', '.join(sorted(load_roles()))})",
            details=[{"loc": ["query", "role"], "message": "unknown role"}],
        )
    day = check_day(as_of, "as_of") or today()
    known = check_day(known_at, "known_at")
    with registry.transaction() as session:
        entity = _entity(session, entity_id)
        duties = obligations(session, entity.id, day, role, known)
        return {
            "entity": queries.entity_summary(entity),
            "as_of": day.isoformat(),
            "known_at": known.isoformat() if known else None,
            "role": role,
            "duties": [d.to_dict() for d in duties],
        }


@router.get(
    "/{entity_id}/events",
    response_model=Page[schemas.Event],
    responses={**COMMON_ERRORS, **NOT_FOUND},
)
def get_entity_events(entity_id: EntityId, registry: RegistryDep, page: PageDep) -> dict[str, Any]:
    """Every event of the entity and of the records merged into it, in date order."""
    with registry.transaction() as session:
        entity = _entity(session, entity_id)
        events, total = queries.find_events(
            session,
            queries.EventFilter(entity_id=entity.id),
            page.limit,
            page.offset,
            newest_first=False,
        )
        return page_of(queries.event_dicts(session, events), total, page)
