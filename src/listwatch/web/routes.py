"""Pages of the web UI. Each page reads through the same library calls as the API."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, FastAPI, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import func, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from listwatch.api import queries
from listwatch.api.deps import registry_changed
from listwatch.api.errors import ApiError, error_response
from listwatch.api.tokens import authenticate
from listwatch.registry.db import Registry, RegistryError
from listwatch.registry.domain import DateError, PartialDate, parse_day
from listwatch.registry.models import RestrictionList
from listwatch.web import TEMPLATES_DIR, labels
from listwatch.web.session import (
    COOKIE,
    CsrfError,
    LoginRequired,
    check_form,
    csrf_token,
    current_user,
    require_user,
)
from listwatch.web.timeline import build_timeline, render_svg

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.filters["human_date"] = labels.human_date
templates.env.filters["status_label"] = labels.status_label
templates.env.filters["kind_label"] = labels.kind_label
templates.env.filters["change_label"] = labels.change_label
templates.env.globals["qualified_date"] = labels.qualified_date

MEMBERS_PER_PAGE = 100


class PageError(Exception):
    """A page that cannot be shown (unknown entity, bad date ...), with its status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _registry(request: Request) -> Registry:
    registry: Registry = request.app.state.registry
    return registry


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _day(value: str | None, name: str) -> dt.date | None:
    """A date typed into a form ('' means none), or a page error saying what is wrong."""
    if value is None or not value.strip():
        return None
    try:
        day = parse_day(value.strip())
    except DateError as exc:
        raise PageError(400, f"{name}: {exc}") from None
    if not dt.date(1000, 1, 1) <= day <= dt.date(9000, 12, 31):
        raise PageError(400, f"{name}: {value} is out of range")
    return day


def _read_gate(request: Request) -> None:
    if not request.app.state.settings.open_reads:
        require_user(request)


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    """A page with what every page shows (user, CSRF token, review queue size)."""
    user = current_user(request)
    base = {
        "user": user,
        "csrf": csrf_token(request),
        "today": _today(),
        "review_count": _review_count(request),
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, template, {**base, **context}, status_code=status)


def _review_count(request: Request) -> int:
    with _registry(request).transaction() as session:
        query = select(func.count()).select_from(
            queries._event_query(session, queries.EventFilter(review_state="proposed")).subquery()
        )
        return session.scalar(query) or 0


def _list_names(session: Any) -> dict[str, str]:
    return {r.id: r.name for r in session.scalars(select(RestrictionList))}


# --- search -----------------------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def search_page(
    request: Request,
    q: Annotated[str | None, Query(max_length=500)] = None,
    type: Annotated[str, Query(max_length=20)] = "any",
    as_of: Annotated[str | None, Query(max_length=20)] = None,
    known_at: Annotated[str | None, Query(max_length=20)] = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """Screen a name or identifier; each hit with why it matched and its statuses."""
    from listwatch.api.search import TYPES
    from listwatch.obligations import load_roles
    from listwatch.screening.identifiers import IdentifierError
    from listwatch.screening.screen import Query as ScreenQuery

    _read_gate(request)
    day = _day(as_of, "as of") or _today()
    known = _day(known_at, "known at")
    roles = load_roles()
    if type not in TYPES:
        raise PageError(400, f"unknown type {type!r} (one of {', '.join(TYPES)})")
    if role and role not in roles:
        raise PageError(400, f"unknown role {role!r}")
    hits: list[dict[str, Any]] = []
    error = None
    with _registry(request).transaction() as session:
        if q and q.strip():
            query = ScreenQuery(name=q.strip(), schema=TYPES[type], limit=20)
            try:
                found = request.app.state.screening.screen(query, day, known, role)
                hits = [h.to_dict() for h in found]
            except IdentifierError as exc:
                error = str(exc)
        list_names = _list_names(session)
        counts = queries.list_counts(session)
        lists = [
            queries.list_summary(r, counts)
            for r in session.scalars(select(RestrictionList).order_by(RestrictionList.id))
        ]
    return render(
        request,
        "search.html",
        {
            "q": (q or "").strip(),
            "type": type,
            "types": list(TYPES),
            "as_of": day,
            "as_of_given": bool(as_of),
            "known_at": known,
            "role": role,
            "roles": roles,
            "hits": hits,
            "error": error,
            "list_names": list_names,
            "lists": lists,
        },
        status=422 if error else 200,
    )


# --- entities -----------------------------------------------------------------------------


@router.get("/entities/{entity_id}", response_class=HTMLResponse)
def entity_page(
    request: Request,
    entity_id: str,
    as_of: Annotated[str | None, Query(max_length=20)] = None,
    known_at: Annotated[str | None, Query(max_length=20)] = None,
    event: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    role: Annotated[str | None, Query(max_length=64)] = None,
) -> HTMLResponse:
    """An entity: statuses, timeline with evidence, obligations, events, names."""
    from listwatch.obligations import load_roles, obligations
    from listwatch.registry.status import history, statuses

    _read_gate(request)
    day = _day(as_of, "as of") or _today()
    known = _day(known_at, "known at")
    roles = load_roles()
    if role and role not in roles:
        raise PageError(400, f"unknown role {role!r}")
    with _registry(request).transaction() as session:
        entity = queries.get_entity(session, entity_id)
        if entity is None:
            raise PageError(404, f"No entity {entity_id!r} in the registry.")
        if entity.id != entity_id:
            params = dict(request.query_params)
            target = f"/entities/{quote(entity.id)}" + (f"?{urlencode(params)}" if params else "")
            return RedirectResponse(target, status_code=307)  # type: ignore[return-value]
        detail = queries.entity_detail(session, entity)
        list_names = _list_names(session)
        histories = [h.to_dict() for h in history(session, entity.id, known)]
        current = [r.to_dict() for r in statuses(session, entity.id, day, known)]
        all_events, _total = queries.find_events(
            session, queries.EventFilter(entity_id=entity.id), 1000, 0, newest_first=False
        )
        event_rows = queries.event_dicts(session, all_events)
        pending = [e for e in event_rows if e["review_state"] != "accepted"]
        timeline = build_timeline(
            histories,
            list_names,
            today=_today(),
            as_of=day if as_of else None,
            selected=event,
            extra_events=pending,
        )
        selected = None
        if event is not None:
            selected = next((e for e in event_rows if e["id"] == event), None)
        duties = (
            [d.to_dict() for d in obligations(session, entity.id, day, role, known)]
            if role
            else None
        )
    user = current_user(request)
    return render(
        request,
        "entity.html",
        {
            "entity": detail,
            "as_of": day,
            "as_of_given": bool(as_of),
            "known_at": known,
            "statuses": current,
            "timeline_svg": render_svg(timeline) if timeline else None,
            "events": event_rows,
            "selected": selected,
            "list_names": list_names,
            "roles": roles,
            "role": role,
            "duties": duties,
            "can_watch": bool(user and user.allows("watch")),
        },
    )


@router.get("/ui/events/{event_id}/evidence", response_class=HTMLResponse)
def evidence_fragment(request: Request, event_id: int) -> HTMLResponse:
    """The evidence panel of one event (loaded into the entity page by the script)."""
    _read_gate(request)
    with _registry(request).transaction() as session:
        found = queries.get_event(session, event_id)
        if found is None:
            raise PageError(404, f"No event {event_id}.")
        event = queries.event_dicts(session, [found])[0]
        list_names = _list_names(session)
    return render(
        request, "_evidence.html", {"selected": event, "list_names": list_names, "fragment": True}
    )


@router.get("/events/{event_id}")
def event_page(request: Request, event_id: int) -> Response:
    """An event lives on its entity's page, with its evidence open."""
    _read_gate(request)
    with _registry(request).transaction() as session:
        found = queries.get_event(session, event_id)
        if found is None:
            raise PageError(404, f"No event {event_id}.")
        entity = queries.get_entity(session, found.entity_id)
        target = entity.id if entity else found.entity_id
    return RedirectResponse(f"/entities/{quote(target)}?event={event_id}#evidence", 303)


# --- lists --------------------------------------------------------------------------------


@router.get("/lists", response_class=HTMLResponse)
def lists_page(request: Request) -> HTMLResponse:
    """Every list with its authority and size."""
    _read_gate(request)
    with _registry(request).transaction() as session:
        counts = queries.list_counts(session)
        lists = [
            queries.list_detail(r, counts)
            for r in session.scalars(select(RestrictionList).order_by(RestrictionList.id))
        ]
    return render(request, "lists.html", {"lists": lists})


@router.get("/lists/{list_id}", response_class=HTMLResponse)
def list_page(
    request: Request,
    list_id: str,
    as_of: Annotated[str | None, Query(max_length=20)] = None,
    known_at: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str, Query(max_length=20)] = "current",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    date_from: Annotated[str | None, Query(alias="from", max_length=20)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=20)] = None,
) -> HTMLResponse:
    """Members of a list as of a date, and the changes between two dates."""
    from listwatch.api.routes.lists import members_of
    from listwatch.registry.status import diff

    _read_gate(request)
    if status not in queries.MEMBER_FILTERS:
        raise PageError(400, f"unknown status filter {status!r}")
    day = _day(as_of, "as of") or _today()
    known = _day(known_at, "known at")
    end = _day(date_to, "to") or day
    start = _day(date_from, "from") or (end - dt.timedelta(days=365))
    if end < start:
        raise PageError(400, "the diff ends before it starts")
    with _registry(request).transaction() as session:
        restriction = session.get(RestrictionList, list_id)
        if restriction is None:
            raise PageError(404, f"No list {list_id!r}.")
        info = queries.list_detail(restriction, queries.list_counts(session))
        members = members_of(request, list_id, day, known, status)
        doubtful = len(members_of(request, list_id, day, known, "uncertain"))
        first = (page - 1) * MEMBERS_PER_PAGE
        shown = [
            {"entity": m.entity, "status": m.status.to_dict()}
            for m in members[first : first + MEMBERS_PER_PAGE]
        ]
        changes = diff(session, list_id, start, end, known)
        names = queries.entity_names(session, (c.entity_id for c in changes))
        change_rows = [{**c.to_dict(), "entity_name": names.get(c.entity_id)} for c in changes]
    summary: dict[str, int] = {}
    for row in change_rows:
        summary[row["change"]] = summary.get(row["change"], 0) + 1
    return render(
        request,
        "list.html",
        {
            "info": info,
            "as_of": day,
            "known_at": known,
            "status_filter": status,
            "members": shown,
            "member_total": len(members),
            "uncertain_total": doubtful,
            "page": page,
            "pages": max(1, -(-len(members) // MEMBERS_PER_PAGE)),
            "date_from": start,
            "date_to": end,
            "changes": change_rows,
            "change_summary": summary,
            "can_watch": bool((user := current_user(request)) and user.allows("watch")),
        },
    )


# --- review -------------------------------------------------------------------------------


@router.get("/review", response_class=HTMLResponse)
def review_page(
    request: Request,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    done: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    state: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """Proposed events, oldest first, each with its evidence and accept/reject forms."""
    _read_gate(request)
    per_page = 25
    with _registry(request).transaction() as session:
        events, total = queries.review_queue(session, per_page, (page - 1) * per_page)
        rows = queries.event_dicts(session, events)
        list_names = _list_names(session)
        decided = queries.get_event(session, done) if done else None
        decided_row = queries.event_dicts(session, [decided])[0] if decided else None
    user = current_user(request)
    return render(
        request,
        "review.html",
        {
            "events": rows,
            "total": total,
            "page": page,
            "pages": max(1, -(-total // per_page)),
            "list_names": list_names,
            "can_review": bool(user and user.allows("review")),
            "decided": decided_row,
            "decided_state": state,
        },
    )


@router.post("/review/{event_id}")
def review_submit(
    request: Request,
    event_id: int,
    decision: Annotated[str, Form(max_length=10)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    reason: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=500)] = "/review",
) -> Response:
    """Record an accept or reject decision made in the review queue."""
    from listwatch.api.routes.review import record_review

    user = require_user(request, "review")
    check_form(request, csrf)
    if decision not in ("accept", "reject"):
        raise PageError(400, "the decision is accept or reject")
    try:
        result = record_review(_registry(request), event_id, decision, reason, f"token:{user.name}")
    except ApiError as exc:
        raise PageError(exc.status, exc.message) from None
    registry_changed(request.app)
    target = _local(back, "/review")
    joiner = "&" if "?" in target else "?"
    return RedirectResponse(f"{target}{joiner}done={event_id}&state={result['state']}", 303)


# --- documents ----------------------------------------------------------------------------


@router.get("/documents", response_class=HTMLResponse)
def documents_page(
    request: Request,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Every source document, newest first."""
    from listwatch.registry.models import Document

    _read_gate(request)
    per_page = 50
    with _registry(request).transaction() as session:
        rows, total = queries.documents_page(session, kind or None, per_page, (page - 1) * per_page)
        kinds = sorted(session.scalars(select(Document.kind).distinct()))
    user = current_user(request)
    return render(
        request,
        "documents.html",
        {
            "documents": [queries.document_dict(d, n) for d, n in rows],
            "kinds": kinds,
            "kind": kind,
            "page": page,
            "pages": max(1, -(-total // per_page)),
            "can_submit": bool(user and user.allows("news")),
        },
    )


#: Languages offered on the submission form (the news package detects the others).
LANGUAGES = (
    ("en", "English"),
    ("nl", "Dutch"),
    ("da", "Danish"),
    ("de", "German"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("pt", "Portuguese"),
    ("sv", "Swedish"),
    ("no", "Norwegian"),
    ("zh", "Chinese"),
)


@router.get("/documents/new", response_class=HTMLResponse)
def document_new_page(request: Request) -> HTMLResponse:
    """The article submission form."""
    require_user(request, "news")
    return render(request, "document_new.html", {"languages": LANGUAGES, "form": {}, "error": None})


@router.post("/documents/new", response_class=HTMLResponse)
async def document_submit(request: Request) -> Response:
    """Extract the events of a pasted or uploaded article and show them."""
    from starlette.concurrency import run_in_threadpool

    from listwatch.api.newsdesk import USER_ERRORS, read_submission, read_upload
    from listwatch.api.routes.documents import submit_documents
    from listwatch.news.documents import InputError

    require_user(request, "news")
    settings = request.app.state.settings
    form = await request.form(max_files=1, max_fields=20, max_part_size=settings.max_upload)
    check_form(request, str(form.get("csrf") or ""))
    fields = {
        key: str(form.get(key) or "").strip()
        for key in ("title", "url", "published", "language", "text")
    }
    upload = form.get("file")
    error = None
    try:
        if upload is not None and not isinstance(upload, str) and upload.filename:
            data = await upload.read(settings.max_upload + 1)
            if len(data) > settings.max_upload:
                raise InputError(f"{upload.filename}: larger than {settings.max_upload} bytes")
            documents = read_upload(
                data,
                upload.filename.rsplit("/", 1)[-1][:200],
                published=fields["published"] or None,
                language=fields["language"] or None,
                max_bytes=settings.max_upload,
            )
        elif fields["text"]:
            is_html = fields["text"].lstrip().startswith("<")
            documents = read_submission(
                text=None if is_html else fields["text"],
                html=fields["text"] if is_html else None,
                url=fields["url"] or None,
                published=fields["published"] or None,
                language=fields["language"] or None,
                title=fields["title"] or None,
                max_bytes=settings.max_upload,
            )
        else:
            raise InputError("paste the article's text or choose a file")
        if not documents:
            raise InputError("no article found in the input")
        result, new = await run_in_threadpool(submit_documents, request, documents)
    except USER_ERRORS as exc:
        error = str(exc)
    if error is not None:
        return render(
            request,
            "document_new.html",
            {"languages": LANGUAGES, "form": fields, "error": error},
            status=422,
        )
    first = result["documents"][0]["id"]
    return RedirectResponse(f"/documents/{first}?submitted={'new' if new else 'known'}", 303)


@router.get("/documents/{document_id}", response_class=HTMLResponse)
def document_page(
    request: Request,
    document_id: int,
    submitted: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """A document and the events it supports."""
    from listwatch.registry.models import Document

    _read_gate(request)
    with _registry(request).transaction() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise PageError(404, f"No document {document_id}.")
        events, _total = queries.find_events(
            session, queries.EventFilter(document_id=document_id), 500, 0, newest_first=False
        )
        rows = queries.event_dicts(session, events)
        doc = queries.document_dict(document, len(rows), full=True)
        list_names = _list_names(session)
    message = None
    if submitted == "new":
        message = f"Article stored; {len(rows)} event(s) extracted and proposed for review."
    elif submitted == "known":
        message = "This article was already stored; its events are below."
    return render(
        request,
        "document.html",
        {"doc": doc, "events": rows, "list_names": list_names, "submitted": message},
    )


# --- watches ------------------------------------------------------------------------------


def _watch_rows(session: Any) -> list[dict[str, Any]]:
    from listwatch.alerts.watches import list_watches, watch_dict
    from listwatch.api.routes.watches import alerts_page

    rows = []
    for watch in list_watches(session):
        alerts, total = alerts_page(session, watch.id, 5, 0)
        rows.append({**watch_dict(watch), "alerts": alerts, "alert_total": total})
    return rows


@router.get("/watches", response_class=HTMLResponse)
def watches_page(request: Request) -> HTMLResponse:
    """Watches on entities and lists, with their latest alerts and feeds."""
    require_user(request, "watch")
    with _registry(request).transaction() as session:
        rows = _watch_rows(session)
        lists = list(session.scalars(select(RestrictionList).order_by(RestrictionList.id)))
    return render(request, "watches.html", {"watches": rows, "lists": lists, "created": None})


@router.post("/watches", response_class=HTMLResponse)
def watch_create(
    request: Request,
    target_kind: Annotated[str, Form(max_length=10)],
    target: Annotated[str, Form(max_length=300)],
    csrf: Annotated[str, Form(max_length=100)] = "",
    label: Annotated[str, Form(max_length=300)] = "",
    webhook_url: Annotated[str, Form(max_length=2000)] = "",
) -> HTMLResponse:
    """Create a watch; the page shows the webhook secret this once."""
    from listwatch.alerts.watches import create_watch, watch_dict

    require_user(request, "watch")
    check_form(request, csrf)
    error = None
    created = None
    with _registry(request).transaction() as session:
        try:
            with session.begin_nested():
                watch = create_watch(
                    session,
                    target_kind,
                    target,
                    label=label or None,
                    webhook_url=webhook_url.strip() or None,
                )
            created = watch_dict(watch, with_secret=True)
        except RegistryError as exc:
            error = str(exc)
        rows = _watch_rows(session)
        lists = list(session.scalars(select(RestrictionList).order_by(RestrictionList.id)))
    return render(
        request,
        "watches.html",
        {
            "watches": rows,
            "lists": lists,
            "created": created,
            "error": error,
            "form": {
                "target_kind": target_kind,
                "target": target,
                "label": label,
                "webhook_url": webhook_url,
            },
        },
        status=201 if created else 400,
    )


@router.post("/watches/{watch_id}/delete")
def watch_delete(
    request: Request, watch_id: int, csrf: Annotated[str, Form(max_length=100)] = ""
) -> Response:
    """Stop a watch."""
    from listwatch.alerts.watches import delete_watch

    require_user(request, "watch")
    check_form(request, csrf)
    with _registry(request).transaction() as session:
        try:
            delete_watch(session, watch_id)
        except RegistryError as exc:
            raise PageError(404, str(exc)) from None
    return RedirectResponse("/watches", 303)


# --- sign in ------------------------------------------------------------------------------


def _local(target: str | None, default: str = "/") -> str:
    """A redirect target on this site only."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
    scope: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """Sign in with an API token."""
    return render(request, "login.html", {"next": _local(next), "scope": scope, "error": None})


@router.post("/login", response_class=HTMLResponse)
def login_submit(
    request: Request,
    token: Annotated[str, Form(max_length=300)],
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    """Check a token and keep it in a session cookie."""
    with _registry(request).transaction() as session:
        info = authenticate(session, token.strip())
    if info is None:
        return render(
            request,
            "login.html",
            {
                "next": _local(next),
                "scope": None,
                "error": "This token is not valid or was revoked.",
            },
            status=401,
        )
    response = RedirectResponse(_local(next), 303)
    response.set_cookie(
        COOKIE,
        token.strip(),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        max_age=60 * 60 * 24 * 30,
    )
    return response


@router.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=100)] = "") -> Response:
    """Forget the session token."""
    check_form(request, csrf)
    response = RedirectResponse("/", 303)
    response.delete_cookie(COOKIE)
    return response


# --- API reference ------------------------------------------------------------------------


@router.get("/api", response_class=HTMLResponse)
def api_page(request: Request) -> HTMLResponse:
    """A readable reference of the HTTP API, rendered from its OpenAPI schema."""
    schema = request.app.openapi()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": operation.get("parameters", []),
                    "scope": operation.get("x-listwatch-scope"),
                    "body": "requestBody" in operation,
                }
            )
    return render(
        request,
        "api.html",
        {"groups": groups, "openapi_url": request.app.openapi_url, "info": schema["info"]},
    )


# --- errors -------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith(("/api/", "/feeds/", "/static/")) or path == "/api/v1"


def install_handlers(app: FastAPI) -> None:
    """HTML error pages for the UI; JSON errors stay for the API."""

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> Response:
        return render(
            request, "error.html", {"status": exc.status, "message": exc.message}, exc.status
        )

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if request.method != "GET":
            message = "Sign in with a token that has the " + (
                f"“{exc.scope}” scope." if exc.scope else "right scope."
            )
            return render(request, "error.html", {"status": 403, "message": message}, 403)
        params = {
            "next": str(request.url.path) + (f"?{request.url.query}" if request.url.query else "")
        }
        if exc.scope:
            params["scope"] = exc.scope
        return RedirectResponse(f"/login?{urlencode(params)}", 303)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        return render(request, "error.html", {"status": 403, "message": str(exc)}, 403)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = exc.detail if isinstance(exc.detail, str) else "error"
        if _wants_json(request):
            return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))
        text = "This page does not exist." if exc.status_code == 404 else message
        return render(
            request, "error.html", {"status": exc.status_code, "message": text}, exc.status_code
        )

    from fastapi.exceptions import RequestValidationError

    previous = app.exception_handlers.get(RequestValidationError)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request) or previous is None:
            if previous is not None:
                result = previous(request, exc)
                return await result if inspect.isawaitable(result) else result
            return JSONResponse({"detail": "invalid"}, 422)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:])
        message = f"{where}: {first.get('msg', 'invalid input')}" if where else "invalid input"
        return render(request, "error.html", {"status": 400, "message": message}, 400)


def partial_date_text(value: str | None) -> str:
    """Shown where a template needs the precision spelled out."""
    if not value:
        return "undated"
    return f"{labels.human_date(value)} ({PartialDate.parse(value).precision.value})"


templates.env.filters["precision_text"] = partial_date_text
