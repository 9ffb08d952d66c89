"""The listwatch server: API under ``/api/v1``, the web UI at ``/``, Atom feeds at ``/feeds``.

Background alert delivery (dispatcher + webhook outbox) runs inside the server process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

import listwatch
from listwatch.api.cache import ResultCache
from listwatch.api.deps import SCOPE_KEY
from listwatch.api.errors import install_error_handlers
from listwatch.api.limits import BodyLimitMiddleware, SecurityHeadersMiddleware
from listwatch.api.newsdesk import NewsService
from listwatch.api.search import ScreeningService
from listwatch.api.settings import ServerSettings
from listwatch.registry.db import Registry

log = logging.getLogger("listwatch.server")

API_PREFIX = "/api/v1"
#: Paths whose bodies may be as large as ``max_upload`` (files, articles).
UPLOAD_PATHS = (f"{API_PREFIX}/imports", f"{API_PREFIX}/documents", "/documents", "/imports")

DESCRIPTION = """\
Who is on which government restriction list, since when, why, what it obliges you to do,
and what the news says about it — with the evidence for every fact.

* **Reads** are open unless the server runs with `LISTWATCH_OPEN_READS=false`.
* **Writes** (imports, news, review, watches) need an API token with a scope:
  `listwatch token create NAME --scope review` prints one; send it as
  `Authorization: Bearer lw_...`.
* **Dates** are ISO 8601 and carry their precision: `2021`, `2021-03` or `2021-03-12`,
  with a `*_precision` field beside them.
* **Collections** are paginated with `limit` and `offset`; `next_offset` is null on the
  last page.
* **Errors** always have the body `{"error": {"status", "code", "message", "details"}}`.
"""

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
}


def create_app(settings: ServerSettings | None = None, registry: Registry | None = None) -> FastAPI:
    """The application; opens (migrating and loading on first use) the registry."""
    settings = settings or ServerSettings.from_env()
    registry = registry or Registry(settings.db)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        stop = asyncio.Event()
        task = None
        # Load the screening index now rather than on the first query.
        warm = asyncio.create_task(asyncio.to_thread(_warm_up, app.state.screening))
        if settings.deliver_alerts:
            from listwatch.alerts.delivery import DeliveryPolicy
            from listwatch.alerts.worker import run_forever

            policy = DeliveryPolicy(
                retry_base=settings.retry_base,
                retry_max=settings.retry_max,
                max_attempts=settings.max_attempts,
                timeout=settings.webhook_timeout,
            )
            task = asyncio.create_task(run_forever(registry, policy, settings.alert_interval, stop))
        try:
            yield
        finally:
            stop.set()
            warm.cancel()
            if task is not None:
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(task, timeout=settings.webhook_timeout + 5)

    app = FastAPI(
        title="listwatch",
        version=listwatch.__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.settings = settings
    app.state.screening = ScreeningService(registry)
    app.state.results = ResultCache(registry)
    app.state.news = NewsService()
    install_error_handlers(app)
    _include_routers(app)
    _install_web(app)

    app.add_middleware(SecurityHeadersMiddleware, headers=SECURITY_HEADERS)
    app.add_middleware(
        BodyLimitMiddleware,
        max_body=settings.max_body,
        max_upload=settings.max_upload,
        upload_paths=UPLOAD_PATHS,
    )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _warm_up(screening: ScreeningService) -> None:
    try:
        screening.screener()
    except Exception:
        log.exception("loading the screening index failed; queries will try again")


def _include_routers(app: FastAPI) -> None:
    from listwatch.api.routes import (
        documents,
        entities,
        events,
        imports,
        lists,
        meta,
        review,
        screening,
        watches,
    )

    for module in (meta, screening, entities, lists, events, review, documents, imports, watches):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(watches.feeds)


def _install_web(app: FastAPI) -> None:
    from listwatch.web import install

    install(app)


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=[r for r in app.routes if getattr(r, "include_in_schema", True)],
    )
    schema["servers"] = [{"url": "/"}]
    _document_scopes(app, schema)
    app.openapi_schema = schema
    return schema


def _document_scopes(app: FastAPI, schema: dict[str, Any]) -> None:
    """Say in each operation's description which token scope it needs."""
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            scope = operation.get(SCOPE_KEY)
            if scope:
                note = f"Needs an API token with the `{scope}` scope."
                operation["description"] = (
                    operation.get("description", "") + "\n\n" + note
                ).strip()


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and multi-worker serving: settings from the env."""
    return create_app(ServerSettings.from_env(db=_env_db()))


def _env_db() -> str | None:
    import os

    return os.environ.get("LISTWATCH_DB")
