"""Events: filtered by entity, list, kind, date, origin and review state; reviews."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from listwatch.api import queries, schemas
from listwatch.api.deps import Page, PageDep, RegistryDep, check_day, page_of, read_access
from listwatch.api.errors import COMMON_ERRORS, NOT_FOUND, ApiError
from listwatch.registry.domain import EventKind

router = APIRouter(tags=["events"], dependencies=[Depends(read_access)])


@router.get("/events", response_model=Page[schemas.Event], responses=COMMON_ERRORS)
def list_events(
    registry: RegistryDep,
    page: PageDep,
    entity: Annotated[
        str | None, Query(max_length=128, description="Entity id (merged records included)")
    ] = None,
    list_id: Annotated[str | None, Query(alias="list", max_length=64)] = None,
    kind: Annotated[list[EventKind] | None, Query(description="One or more kinds")] = None,
    date_from: Annotated[
        dt.date | None, Query(alias="from", description="Took effect on or after")
    ] = None,
    date_to: Annotated[
        dt.date | None, Query(alias="to", description="Took effect on or before")
    ] = None,
    review_state: Annotated[Literal["proposed", "accepted", "rejected"] | None, Query()] = None,
    origin: Annotated[Literal["curated", "import", "news", "manual"] | None, Query()] = None,
    document: Annotated[
        int | None, Query(ge=1, le=2**62, description="Only events citing this document")
    ] = None,
) -> dict[str, Any]:
    """Events as they stand now, newest recorded first."""
    flt = queries.EventFilter(
        entity_id=entity,
        list_id=list_id,
        kinds=tuple(k.value for k in kind or ()),
        date_from=check_day(date_from, "from"),
        date_to=check_day(date_to, "to"),
        review_state=review_state,
        origin=origin,
        document_id=document,
    )
    with registry.transaction() as session:
        events, total = queries.find_events(session, flt, page.limit, page.offset)
        return page_of(queries.event_dicts(session, events), total, page)


@router.get(
    "/events/{event_id}", response_model=schemas.Event, responses={**COMMON_ERRORS, **NOT_FOUND}
)
def get_event(
    event_id: Annotated[int, Path(ge=1, le=2**62)], registry: RegistryDep
) -> dict[str, Any]:
    """One event with its evidence and its review state now."""
    with registry.transaction() as session:
        event = queries.get_event(session, event_id)
        if event is None:
            raise ApiError(404, f"no event {event_id}")
        return queries.event_dicts(session, [event])[0]


@router.get("/review/queue", response_model=Page[schemas.Event], responses=COMMON_ERRORS)
def get_review_queue(registry: RegistryDep, page: PageDep) -> dict[str, Any]:
    """Proposed events waiting for a decision, oldest first."""
    with registry.transaction() as session:
        events, total = queries.review_queue(session, page.limit, page.offset)
        return page_of(queries.event_dicts(session, events), total, page)
