"""Creating, listing and deleting watches on entities and lists."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from listwatch.registry.db import RegistryError
from listwatch.registry.models import Entity, RestrictionList, Watch

TARGET_KINDS = ("entity", "list")
SECRET_PREFIX = "whsec_"
MIN_SECRET = 16


def check_webhook_url(url: str) -> str:
    """An http(s) URL with a host; a clear error otherwise."""
    url = url.strip()
    if len(url) > 2000:
        raise RegistryError("the webhook URL is longer than 2000 characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RegistryError(f"the webhook URL {url!r} is not an http:// or https:// URL")
    if parts.username or parts.password:
        raise RegistryError("the webhook URL must not carry credentials; use the secret")
    return url


def resolve_target(session: Session, target_kind: str, target: str) -> tuple[str, str]:
    """The stored id and a display name of a watch's target (an entity by id or name)."""
    if target_kind not in TARGET_KINDS:
        raise RegistryError(f"a watch targets an entity or a list, not {target_kind!r}")
    target = target.strip()
    if not target:
        raise RegistryError("a watch needs a target")
    if target_kind == "list":
        restriction = session.get(RestrictionList, target)
        if restriction is None:
            raise RegistryError(f"unknown list id {target!r}")
        return restriction.id, restriction.name
    from listwatch.registry.entities import canonical_id, resolve_entity

    entity = session.get(Entity, canonical_id(session, target))
    if entity is None:
        entity = resolve_entity(session, target)
    return entity.id, entity.name


def create_watch(
    session: Session,
    target_kind: str,
    target: str,
    *,
    label: str | None = None,
    webhook_url: str | None = None,
    secret: str | None = None,
) -> Watch:
    """A new active watch; only events recorded from now on alert it.

    With a webhook and no secret, a random secret is made (the caller shows it once).
    """
    from listwatch.alerts.dispatcher import dispatch, mark_watch_start

    target_id, name = resolve_target(session, target_kind, target)
    url = check_webhook_url(webhook_url) if webhook_url else None
    if secret is not None:
        secret = secret.strip()
        if not MIN_SECRET <= len(secret) <= 200:
            raise RegistryError(f"a webhook secret has {MIN_SECRET} to 200 characters")
    if url and not secret:
        secret = SECRET_PREFIX + secrets.token_urlsafe(24)
    label = " ".join((label or "").split())[:300] or name
    # Bring the alert cursor up to date first, so the watch sees only what comes next.
    dispatch(session)
    watch = Watch(
        target_kind=target_kind,
        target_id=target_id,
        label=label,
        webhook_url=url,
        secret=secret if url else None,
        feed_token=secrets.token_urlsafe(24),
        active=True,
    )
    session.add(watch)
    session.flush()
    mark_watch_start(session, watch.id)
    return watch


def list_watches(session: Session, *, include_inactive: bool = False) -> list[Watch]:
    """Watches, oldest first."""
    query = select(Watch).order_by(Watch.id)
    if not include_inactive:
        query = query.where(Watch.active.is_(True))
    return list(session.scalars(query))


def get_watch(session: Session, watch_id: int) -> Watch:
    """An active watch by id; a clear error when there is none."""
    watch = session.get(Watch, watch_id)
    if watch is None or not watch.active:
        raise RegistryError(f"no watch {watch_id}")
    return watch


def delete_watch(session: Session, watch_id: int) -> Watch:
    """Deactivate a watch: it stops alerting; its alerts and feed remain for the record."""
    watch = get_watch(session, watch_id)
    watch.active = False
    session.flush()
    return watch


def watch_dict(watch: Watch, *, with_secret: bool = False) -> dict[str, Any]:
    """A watch in its JSON form (the secret only when just created)."""
    out: dict[str, Any] = {
        "id": watch.id,
        "target_kind": watch.target_kind,
        "target_id": watch.target_id,
        "label": watch.label,
        "webhook_url": watch.webhook_url,
        "feed_path": f"/feeds/{watch.feed_token}.atom",
        "created_at": watch.created_at.isoformat(),
        "active": watch.active,
    }
    if with_secret:
        out["secret"] = watch.secret
    return out
