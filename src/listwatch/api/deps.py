"""What the routes share: the registry handle, tokens and scopes, pagination, date checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from listwatch.api.errors import ApiError
from listwatch.api.settings import ServerSettings
from listwatch.api.tokens import TokenInfo, authenticate
from listwatch.registry.db import Registry

T = TypeVar("T")

#: Dates accepted from clients: wide enough for any list's history, far from overflow.
EARLIEST = dt.date(1000, 1, 1)
LATEST = dt.date(9000, 12, 31)

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer lw_...`")


# Dependencies are ``async`` so that FastAPI runs them on the event loop: a sync dependency
# costs a hop to the thread pool on every request, more than the work it does.


async def get_registry(request: Request) -> Registry:
    """The registry the server was started on."""
    registry: Registry = request.app.state.registry
    return registry


async def get_settings(request: Request) -> ServerSettings:
    """The server's settings."""
    settings: ServerSettings = request.app.state.settings
    return settings


RegistryDep = Annotated[Registry, Depends(get_registry)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]


def registry_changed(app: Any) -> None:
    """Drop what the server keeps about the registry, after a write made through it."""
    app.state.screening.invalidate()
    app.state.results.clear()


def token_from_request(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> TokenInfo | None:
    """The valid token a request carries, None when it carries none; 401 when it is bad."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise ApiError(
                401,
                "the Authorization header must be `Bearer <token>`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return None
    registry: Registry = request.app.state.registry
    with registry.transaction() as session:
        info = authenticate(session, credentials.credentials)
    if info is None:
        raise ApiError(
            401, "the API token is not valid or was revoked", headers={"WWW-Authenticate": "Bearer"}
        )
    return info


def require_scope(scope: str) -> Callable[..., Awaitable[TokenInfo]]:
    """A dependency that lets a request through only with a token granting ``scope``."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> TokenInfo:
        info = token_from_request(request, credentials)
        if info is None:
            raise ApiError(
                401,
                f"this operation needs an API token with the {scope!r} scope "
                f"(create one with `listwatch token create --scope {scope}`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not info.allows(scope):
            raise ApiError(403, f"the token {info.name!r} lacks the {scope!r} scope")
        return info

    return dependency


#: The OpenAPI extension naming the token scope an operation needs.
SCOPE_KEY = "x-listwatch-scope"


def scoped(scope: str) -> dict[str, Any]:
    """``openapi_extra`` of an operation that needs ``scope`` (shown in the schema and /api)."""
    return {SCOPE_KEY: scope}


async def read_access(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Reads are open unless the server was started with closed reads; then any token reads."""
    settings: ServerSettings = request.app.state.settings
    if settings.open_reads:
        return
    if token_from_request(request, credentials) is None:
        raise ApiError(
            401,
            "this server requires an API token to read (create one with "
            "`listwatch token create --scope read`)",
            headers={"WWW-Authenticate": "Bearer"},
        )


class FastJSONResponse(Response):
    """JSON through orjson, for hot paths whose body is already checked by its producer.

    FastAPI validates a returned dict against the route's ``response_model`` before it
    serialises it; for large, already well-formed bodies (screening hits) that costs more
    than the work itself. The route keeps its ``response_model`` for the OpenAPI schema,
    and the contract test checks that the bodies conform.
    """

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        import orjson

        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)


def check_day(value: dt.date | None, name: str) -> dt.date | None:
    """A client date within the range the registry can answer about."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ApiError(
            422,
            f"{name}: {value.isoformat()} is outside {EARLIEST.isoformat()}..{LATEST.isoformat()}",
            details=[{"loc": ["query", name], "message": "date out of range"}],
        )
    return value


def today() -> dt.date:
    """Today's date (UTC)."""
    return dt.datetime.now(dt.UTC).date()


@dataclass(frozen=True)
class PageParams:
    """Offset pagination of a collection."""

    limit: int
    offset: int


async def page_params(
    limit: Annotated[int, Query(ge=1, le=500, description="Items per page.")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Items to skip.")] = 0,
) -> PageParams:
    """``?limit=&offset=`` of a collection."""
    return PageParams(limit, offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    """One page of a collection; ``next_offset`` is null on the last page."""

    items: list[T]
    total: int
    limit: int
    offset: int
    next_offset: int | None


def page_of(items: Sequence[Any], total: int, params: PageParams) -> dict[str, Any]:
    """A page body from the items of this page and the collection's total."""
    end = params.offset + len(items)
    return {
        "items": list(items),
        "total": total,
        "limit": params.limit,
        "offset": params.offset,
        "next_offset": end if end < total else None,
    }


def slice_page(items: Sequence[Any], params: PageParams) -> dict[str, Any]:
    """A page body cut from a fully computed collection."""
    return page_of(items[params.offset : params.offset + params.limit], len(items), params)
