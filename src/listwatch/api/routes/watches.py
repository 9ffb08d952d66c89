"""Watches on entities and lists, their alerts (``watch`` scope) and their Atom feeds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from sqlalchemy import func, select

from listwatch.alerts.feed import alert_title, atom_feed
from listwatch.alerts.watches import create_watch, delete_watch, list_watches, watch_dict
from listwatch.api import schemas
from listwatch.api.deps import (
    Page,
    PageDep,
    RegistryDep,
    page_of,
    require_scope,
    scoped,
    slice_page,
)
from listwatch.api.errors import COMMON_ERRORS, NOT_FOUND, ApiError
from listwatch.registry.models import Alert, OutboxItem, Watch

router = APIRouter(
    prefix="/watches", tags=["watches"], dependencies=[Depends(require_scope("watch"))]
)
feeds = APIRouter(tags=["watches"])

WatchId = Annotated[int, Path(ge=1, le=2**62)]


def _active(session: Any, watch_id: int) -> Watch:
    watch = session.get(Watch, watch_id)
    if watch is None or not watch.active:
        raise ApiError(404, f"no watch {watch_id}")
    return watch


@router.get(
    "",
    response_model=Page[schemas.WatchOut],
    responses=COMMON_ERRORS,
    openapi_extra=scoped("watch"),
)
def get_watches(registry: RegistryDep, page: PageDep) -> dict[str, Any]:
    """Active watches, oldest first."""
    with registry.transaction() as session:
        return slice_page([watch_dict(w) for w in list_watches(session)], page)


@router.post(
    "",
    openapi_extra=scoped("watch"),
    response_model=schemas.WatchCreated,
    status_code=201,
    responses={**COMMON_ERRORS, **NOT_FOUND},
)
def post_watch(body: schemas.WatchIn, registry: RegistryDep) -> dict[str, Any]:
    """Watch an entity or a list; events recorded from now on become alerts."""
    from listwatch.registry.db import RegistryError

    with registry.transaction() as session:
        try:
            watch = create_watch(
                session,
                body.target_kind,
                body.target,
                label=body.label,
                webhook_url=body.webhook_url,
                secret=body.secret,
            )
        except RegistryError as exc:
            status = 404 if str(exc).startswith(("no entity", "unknown list")) else 422
            raise ApiError(status, str(exc)) from None
        return watch_dict(watch, with_secret=True)


@router.get(
    "/{watch_id}",
    response_model=schemas.WatchOut,
    responses={**COMMON_ERRORS, **NOT_FOUND},
    openapi_extra=scoped("watch"),
)
def get_watch(watch_id: WatchId, registry: RegistryDep) -> dict[str, Any]:
    """One watch."""
    with registry.transaction() as session:
        return watch_dict(_active(session, watch_id))


@router.delete(
    "/{watch_id}",
    status_code=204,
    responses={**COMMON_ERRORS, **NOT_FOUND},
    openapi_extra=scoped("watch"),
)
def remove_watch(watch_id: WatchId, registry: RegistryDep) -> Response:
    """Stop a watch (its past alerts stay readable in its feed)."""
    with registry.transaction() as session:
        _active(session, watch_id)
        delete_watch(session, watch_id)
    return Response(status_code=204)


def alert_dict(alert: Alert, item: OutboxItem | None) -> dict[str, Any]:
    """An alert with where its webhook delivery stands."""
    if item is None:
        delivery: dict[str, Any] = {"state": "none"}
    else:
        state = "delivered" if item.delivered_at else "failed" if item.failed_at else "pending"
        delivery = {
            "state": state,
            "attempts": item.attempts,
            "next_attempt_at": item.next_attempt_at.isoformat() if state == "pending" else None,
            "delivered_at": item.delivered_at.isoformat() if item.delivered_at else None,
            "last_error": item.last_error,
        }
    return {
        "id": alert.id,
        "watch_id": alert.watch_id,
        "event_id": alert.event_id,
        "created_at": alert.created_at.isoformat(),
        "title": alert_title(alert.payload or {}),
        "payload": alert.payload or {},
        "delivery": delivery,
    }


def alerts_page(
    session: Any, watch_id: int, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """A page of a watch's alerts, newest first, with their delivery state."""
    total = session.scalar(select(func.count()).where(Alert.watch_id == watch_id)) or 0
    rows = session.execute(
        select(Alert, OutboxItem)
        .outerjoin(OutboxItem, OutboxItem.alert_id == Alert.id)
        .where(Alert.watch_id == watch_id)
        .order_by(Alert.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return [alert_dict(a, o) for a, o in rows], total


@router.get(
    "/{watch_id}/alerts",
    openapi_extra=scoped("watch"),
    response_model=Page[schemas.AlertOut],
    responses={**COMMON_ERRORS, **NOT_FOUND},
)
def get_alerts(watch_id: WatchId, registry: RegistryDep, page: PageDep) -> dict[str, Any]:
    """A watch's alerts, newest first, with the state of their webhook delivery."""
    with registry.transaction() as session:
        _active(session, watch_id)
        items, total = alerts_page(session, watch_id, page.limit, page.offset)
        return page_of(items, total, page)


@feeds.get(
    "/feeds/{feed_token}.atom",
    response_class=Response,
    responses={200: {"content": {"application/atom+xml": {}}}, **NOT_FOUND},
)
def get_feed(
    feed_token: Annotated[str, Path(min_length=10, max_length=64)],
    registry: RegistryDep,
    request: Request,
) -> Response:
    """The Atom feed of a watch, addressed by its secret feed token."""
    with registry.transaction() as session:
        watch = session.scalar(select(Watch).where(Watch.feed_token == feed_token))
        if watch is None:
            raise ApiError(404, "no feed with this address")
        body = atom_feed(session, watch, str(request.base_url))
    return Response(body, media_type="application/atom+xml; charset=utf-8")
