"""Restriction lists: what they are, who is on them as of a date, what changed between dates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from sqlalchemy import select

from listwatch.api import queries, schemas
from listwatch.api.deps import (
    Page,
    PageDep,
    RegistryDep,
    check_day,
    page_of,
    read_access,
    slice_page,
    today,
)
from listwatch.api.errors import COMMON_ERRORS, NOT_FOUND, ApiError
from listwatch.registry.models import RestrictionList

router = APIRouter(prefix="/lists", tags=["lists"], dependencies=[Depends(read_access)])

ListId = Annotated[str, Path(min_length=1, max_length=64, description="List id, e.g. us-dod-cmc")]
KnownAt = Annotated[
    dt.date | None, Query(description="Answer with only what was recorded by this date")
]


def _list(session: Any, list_id: str) -> RestrictionList:
    restriction = session.get(RestrictionList, list_id)
    if restriction is None:
        raise ApiError(404, f"unknown list id {list_id!r}")
    return restriction


@router.get("", response_model=Page[schemas.ListSummary], responses=COMMON_ERRORS)
def get_lists(registry: RegistryDep, page: PageDep) -> dict[str, Any]:
    """Every list known to the registry."""
    with registry.transaction() as session:
        counts = queries.list_counts(session)
        rows = list(session.scalars(select(RestrictionList).order_by(RestrictionList.id)))
        return slice_page([queries.list_summary(r, counts) for r in rows], page)


@router.get(
    "/{list_id}", response_model=schemas.ListDetail, responses={**COMMON_ERRORS, **NOT_FOUND}
)
def get_list(list_id: ListId, registry: RegistryDep) -> dict[str, Any]:
    """A list with its names in several languages, legal basis and consequence rules."""
    with registry.transaction() as session:
        return queries.list_detail(_list(session, list_id), queries.list_counts(session))


@router.get(
    "/{list_id}/members",
    response_model=Page[schemas.Member],
    responses={**COMMON_ERRORS, **NOT_FOUND},
)
def get_members(
    list_id: ListId,
    registry: RegistryDep,
    request: Request,
    page: PageDep,
    as_of: Annotated[dt.date | None, Query(description="Date (default: today)")] = None,
    known_at: KnownAt = None,
    status: Annotated[
        Literal["current", "listed", "listed_suspended", "removed", "all", "uncertain"],
        Query(
            description="`current`: listed, including listings suspended by a court; "
            "`uncertain`: every entity whose status is uncertain on the date"
        ),
    ] = "current",
) -> dict[str, Any]:
    """Who is on the list on a date, with the events that decide each status."""
    day = check_day(as_of, "as_of") or today()
    known = check_day(known_at, "known_at")
    with registry.transaction() as session:
        _list(session, list_id)
        members = members_of(request, list_id, day, known, status)
        chosen = members[page.offset : page.offset + page.limit]
        items = [{"entity": m.entity, "status": m.status.to_dict()} for m in chosen]
        return page_of(items, len(members), page)


def members_of(
    request: Request, list_id: str, day: Any, known: Any, which: str
) -> list[queries.MemberRow]:
    """A list's members on a day as the filter ``which`` keeps them, from the server's
    result cache (every status of the day, folded once) when it has them."""
    registry = request.app.state.registry

    def compute() -> list[queries.MemberRow]:
        with registry.transaction() as session:
            return queries.list_members(session, list_id, day, known)

    every: list[queries.MemberRow] = request.app.state.results.get(
        ("members", list_id, day, known), compute
    )
    return queries.keep_members(every, which)


@router.get(
    "/{list_id}/diff", response_model=Page[schemas.Change], responses={**COMMON_ERRORS, **NOT_FOUND}
)
def get_diff(
    list_id: ListId,
    registry: RegistryDep,
    page: PageDep,
    date_from: Annotated[dt.date, Query(alias="from", description="Start (exclusive)")],
    date_to: Annotated[dt.date, Query(alias="to", description="End (inclusive)")],
    known_at: KnownAt = None,
) -> dict[str, Any]:
    """Who was added, suspended, reinstated, removed or amended between two dates."""
    from listwatch.registry.status import diff

    start = check_day(date_from, "from")
    end = check_day(date_to, "to")
    known = check_day(known_at, "known_at")
    assert start is not None and end is not None
    if end < start:
        raise ApiError(
            422, "to is before from", details=[{"loc": ["query", "to"], "message": "before from"}]
        )
    with registry.transaction() as session:
        _list(session, list_id)
        changes = diff(session, list_id, start, end, known)
        names = queries.entity_names(session, (c.entity_id for c in changes))
        rows = []
        for change in changes:
            row = change.to_dict()
            row["entity_name"] = names.get(change.entity_id)
            rows.append(row)
        return slice_page(rows, page)
