"""Screening: names and identifiers against every list, as of a date, with explanations."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from listwatch.api import schemas
from listwatch.api.deps import FastJSONResponse, check_day, read_access, today
from listwatch.api.errors import COMMON_ERRORS, ApiError
from listwatch.api.search import TYPES, ScreeningService

router = APIRouter(prefix="/screen", tags=["screening"], dependencies=[Depends(read_access)])

TypeName = Literal["any", "company", "person", "organization", "legal-entity", "vessel", "airplane"]


class TokenPair(BaseModel):
    """Two aligned tokens of the query and the matched name."""

    query: str
    candidate: str
    similarity: float
    how: str


class Comparison(BaseModel):
    """How the query's name compares with the matched name: the parts of the score."""

    score: float
    group: str
    matches: list[TokenPair]
    unmatched_query: list[str]
    unmatched_candidate: list[str]
    features: dict[str, float]
    parts: dict[str, float]
    explanation: str
    query: dict[str, Any]
    candidate: dict[str, Any]


class ScreenHit(BaseModel):
    """An entity that matches, why, and where it stands on each list."""

    entity: schemas.EntitySummary
    score: float = Field(ge=0, le=1)
    match: Literal["identifier", "name"]
    matched_name: str | None = None
    matched_kind: str | None = None
    identifier: dict[str, str] | None = None
    explanation: str
    comparison: Comparison | None = None
    statuses: list[schemas.StatusOnList]
    obligations: list[schemas.DutyOut] = []


class ScreenQuery(BaseModel):
    """One name and/or identifiers to screen."""

    name: str | None = Field(None, max_length=500)
    type: TypeName = "any"
    country: str | None = Field(None, max_length=64)
    identifiers: list[Annotated[str, Field(max_length=100)]] = Field(
        default_factory=list, max_length=20, description="ISIN, LEI, ticker (1810.HK) ..."
    )
    threshold: float | None = Field(None, ge=0, le=1)
    limit: int = Field(10, ge=1, le=100)

    model_config = ConfigDict(extra="forbid")


class ScreenRequest(ScreenQuery):
    """A screening request with its date, record date and role."""

    as_of: dt.date | None = Field(None, description="Status date (default: today)")
    known_at: dt.date | None = Field(None, description="Only what was recorded by this date")
    role: str | None = Field(None, max_length=64, description="Add the duties of this role")


class ScreenResult(BaseModel):
    """The hits of one query."""

    as_of: str
    known_at: str | None = None
    role: str | None = None
    hits: list[ScreenHit]


class BatchRequest(BaseModel):
    """Several queries screened on the same date."""

    queries: list[ScreenQuery] = Field(min_length=1)
    as_of: dt.date | None = None
    known_at: dt.date | None = None
    role: str | None = Field(None, max_length=64)

    model_config = ConfigDict(extra="forbid")


class BatchItem(BaseModel):
    """The outcome of one query of a batch: hits, or the error that query had."""

    index: int
    hits: list[ScreenHit] = []
    error: str | None = None


class BatchResult(BaseModel):
    """Outcomes in the order of the queries."""

    as_of: str
    known_at: str | None = None
    role: str | None = None
    results: list[BatchItem]


async def service(request: Request) -> ScreeningService:
    """The server's screening service."""
    found: ScreeningService = request.app.state.screening
    return found


ServiceDep = Annotated[ScreeningService, Depends(service)]


def _check_role(role: str | None) -> None:
    if role is None:
        return
    from listwatch.obligations import load_roles

    if role not in load_roles():
        raise ApiError(
            422,
            f"unknown role {role!r} (known roles: {', '.join(sorted(load_roles()))})",
            details=[{"loc": ["role"], "message": "unknown role"}],
        )


def _engine_query(item: ScreenQuery) -> Any:
    from listwatch.screening.screen import Query as EngineQuery

    if not (item.name and item.name.strip()) and not any(i.strip() for i in item.identifiers):
        raise ApiError(
            422,
            "nothing to screen: give a name or an identifier",
            details=[{"loc": ["name"], "message": "required without identifiers"}],
        )
    return EngineQuery(
        name=item.name,
        schema=TYPES[item.type],
        country=item.country,
        identifiers=list(item.identifiers),
        threshold=item.threshold,
        limit=item.limit,
    )


async def run_screen(
    screening: ScreeningService,
    item: ScreenQuery,
    as_of: dt.date | None,
    known_at: dt.date | None,
    role: str | None,
) -> Response:
    """Screen one query (shared by GET and POST); the answer as JSON.

    Matching is computation under the GIL: handing it to the thread pool would cost more
    than it takes (a millisecond or two), so an answer that needs nothing but memory is
    given on the event loop, and only one that must read the database (or wait for the
    index to load) goes to a thread.
    """
    import orjson
    from starlette.concurrency import run_in_threadpool

    from listwatch.screening.identifiers import IdentifierError

    day = check_day(as_of, "as_of") or today()
    known = check_day(known_at, "known_at")
    _check_role(role)
    query = _engine_query(item)

    def render(hits: list[Any]) -> bytes:
        return orjson.dumps(
            {
                "as_of": day.isoformat(),
                "known_at": known.isoformat() if known else None,
                "role": role,
                "hits": [h.to_dict() for h in hits],
            },
            option=orjson.OPT_NON_STR_KEYS,
        )

    try:
        body = screening.answer_from_memory(query, day, known, role, render)
        if body is None:
            body = await run_in_threadpool(screening.answer, query, day, known, role, render)
    except IdentifierError as exc:
        raise ApiError(
            422, str(exc), details=[{"loc": ["identifiers"], "message": str(exc)}]
        ) from None
    return Response(body, media_type="application/json")


@router.get("", response_model=ScreenResult, responses=COMMON_ERRORS)
async def screen_get(
    screening: ServiceDep,
    q: Annotated[str, Query(min_length=1, max_length=500, description="Name or identifier")],
    type: Annotated[TypeName, Query()] = "any",
    country: Annotated[str | None, Query(max_length=64)] = None,
    identifier: Annotated[list[str] | None, Query(alias="id", max_length=20)] = None,
    as_of: Annotated[dt.date | None, Query()] = None,
    known_at: Annotated[dt.date | None, Query()] = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
    threshold: Annotated[float | None, Query(ge=0, le=1)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 10,
) -> Response:
    """Screen a name or an identifier (``?q=Xiaomi&as_of=2021-04-01``)."""
    ids = [i[:100] for i in identifier or []]
    item = ScreenQuery(
        name=q, type=type, country=country, identifiers=ids, threshold=threshold, limit=limit
    )
    return await run_screen(screening, item, as_of, known_at, role)


@router.post("", response_model=ScreenResult, responses=COMMON_ERRORS)
async def screen_post(body: ScreenRequest, screening: ServiceDep) -> Response:
    """Screen one name and/or identifiers, as of a date, optionally with a role's duties."""
    return await run_screen(screening, body, body.as_of, body.known_at, body.role)


@router.post("/batch", response_model=BatchResult, responses=COMMON_ERRORS)
def screen_batch(body: BatchRequest, screening: ServiceDep, request: Request) -> Response:
    """Screen many queries on one date; a query's own error does not fail the others."""
    limit = request.app.state.settings.max_batch
    if len(body.queries) > limit:
        raise ApiError(
            422,
            f"a batch holds at most {limit} queries; this one has {len(body.queries)}",
            details=[{"loc": ["body", "queries"], "message": "too many queries"}],
        )
    day = check_day(body.as_of, "as_of") or today()
    known = check_day(body.known_at, "known_at")
    _check_role(body.role)
    from listwatch.screening.identifiers import IdentifierError

    results = []
    for number, item in enumerate(body.queries):
        try:
            query = _engine_query(item)
            hits = screening.screen(query, day, known, body.role)
            results.append({"index": number, "hits": [h.to_dict() for h in hits], "error": None})
        except (IdentifierError, ApiError) as exc:
            message = exc.message if isinstance(exc, ApiError) else str(exc)
            results.append({"index": number, "hits": [], "error": message})
    return FastJSONResponse(
        {
            "as_of": day.isoformat(),
            "known_at": known.isoformat() if known else None,
            "role": body.role,
            "results": results,
        }
    )
