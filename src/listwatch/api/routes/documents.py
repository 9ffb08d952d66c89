"""Documents: the sources of events (official files, releases, court records, news)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import JSONResponse
from sqlalchemy import select

from listwatch.api import queries, schemas
from listwatch.api.deps import (
    Page,
    PageDep,
    RegistryDep,
    SettingsDep,
    page_of,
    read_access,
    registry_changed,
    require_scope,
    scoped,
)
from listwatch.api.errors import COMMON_ERRORS, NOT_FOUND, ApiError
from listwatch.api.tokens import TokenInfo
from listwatch.registry.models import Document

router = APIRouter(prefix="/documents", tags=["documents"])

DocumentId = Annotated[int, Path(ge=1, le=2**62)]


@router.get(
    "",
    response_model=Page[schemas.DocumentOut],
    responses=COMMON_ERRORS,
    dependencies=[Depends(read_access)],
)
def list_documents(
    registry: RegistryDep,
    page: PageDep,
    kind: Annotated[
        str | None, Query(max_length=32, description="official_file, release, court, news ...")
    ] = None,
) -> dict[str, Any]:
    """Documents, newest first, with the number of events citing each."""
    with registry.transaction() as session:
        rows, total = queries.documents_page(session, kind, page.limit, page.offset)
        return page_of([queries.document_dict(d, n) for d, n in rows], total, page)


@router.get(
    "/{document_id}",
    response_model=schemas.DocumentDetail,
    responses={**COMMON_ERRORS, **NOT_FOUND},
    dependencies=[Depends(read_access)],
)
def get_document(document_id: DocumentId, registry: RegistryDep) -> dict[str, Any]:
    """A document with its text and metadata."""
    with registry.transaction() as session:
        document = session.get(Document, document_id)
        if document is None:
            raise ApiError(404, f"no document {document_id}")
        counts = queries.event_counts(session, [document_id])
        return queries.document_dict(document, counts.get(document_id, 0), full=True)


@router.get(
    "/{document_id}/events",
    response_model=Page[schemas.Event],
    responses={**COMMON_ERRORS, **NOT_FOUND},
    dependencies=[Depends(read_access)],
)
def get_document_events(
    document_id: DocumentId, registry: RegistryDep, page: PageDep
) -> dict[str, Any]:
    """The events whose evidence cites the document (extracted, proposed or reviewed)."""
    with registry.transaction() as session:
        if session.get(Document, document_id) is None:
            raise ApiError(404, f"no document {document_id}")
        events, total = queries.find_events(
            session,
            queries.EventFilter(document_id=document_id),
            page.limit,
            page.offset,
            newest_first=False,
        )
        return page_of(queries.event_dicts(session, events), total, page)


def submit_documents(request: Request, documents: list[Any]) -> tuple[dict[str, Any], bool]:
    """Ingest articles through the news package; returns the summary and whether any was new."""
    registry = request.app.state.registry
    with registry.transaction() as session:
        report = request.app.state.news.ingest(session, documents)
        stored = []
        for item in documents:
            row = session.scalar(select(Document).where(Document.sha256 == item.sha256))
            if row is None:
                continue
            summary = queries.document_dict(row, 0)
            stored.append(
                {
                    "id": row.id,
                    "sha256": row.sha256,
                    "title": row.title,
                    "language": row.language,
                    "published": summary["published"],
                    "duplicate": not any(r.document.sha256 == item.sha256 for r in report.results),
                }
            )
        touched = sorted(set(report.events_created) | set(report.evidence_added))
        views = [v for v in (queries.get_event(session, i) for i in touched) if v is not None]
        body = {
            **report.to_json(),
            "documents": stored,
            "events": queries.event_dicts(session, views),
        }
    registry_changed(request.app)
    return body, bool(report.documents)


def _input_error(exc: Exception) -> ApiError:
    return ApiError(422, str(exc), details=[{"loc": ["body"], "message": str(exc)}])


@router.post(
    "",
    openapi_extra=scoped("news"),
    response_model=schemas.SubmissionOut,
    status_code=201,
    responses={**COMMON_ERRORS, 200: {"model": schemas.SubmissionOut, "description": "Known"}},
)
def submit_article(
    body: schemas.ArticleIn,
    request: Request,
    settings: SettingsDep,
    token: Annotated[TokenInfo, Depends(require_scope("news"))],
) -> Any:
    """Submit an article (text or HTML): its events are extracted and proposed for review.

    201 when the article is new, 200 when the same content was submitted before.
    """
    from listwatch.api.newsdesk import USER_ERRORS, read_submission

    if (body.text is None) == (body.html is None):
        raise ApiError(
            422,
            "give the article's text or its html (one of them)",
            details=[{"loc": ["body", "text"], "message": "text or html"}],
        )
    try:
        documents = read_submission(
            text=body.text,
            html=body.html,
            url=body.url,
            published=body.published,
            language=body.language,
            title=body.title,
            max_bytes=settings.max_upload,
        )
        result, new = submit_documents(request, documents)
    except USER_ERRORS as exc:
        raise _input_error(exc) from None
    return JSONResponse(result, status_code=201 if new else 200)


@router.post(
    "/upload",
    openapi_extra=scoped("news"),
    response_model=schemas.SubmissionOut,
    status_code=201,
    responses={**COMMON_ERRORS, 200: {"model": schemas.SubmissionOut, "description": "Known"}},
)
def upload_articles(
    request: Request,
    settings: SettingsDep,
    token: Annotated[TokenInfo, Depends(require_scope("news"))],
    file: Annotated[UploadFile, File(description="Text, HTML, JSON lines or an RSS/Atom feed")],
    published: Annotated[str | None, Form(max_length=40)] = None,
    language: Annotated[str | None, Form(max_length=16)] = None,
) -> Any:
    """Submit articles as a file; its format is recognised from its name and content."""
    from listwatch.api.newsdesk import USER_ERRORS, read_upload
    from listwatch.news.documents import InputError

    data = file.file.read(settings.max_upload + 1)
    name = (file.filename or "upload").rsplit("/", 1)[-1][:200] or "upload"
    try:
        if len(data) > settings.max_upload:
            raise InputError(f"{name}: larger than {settings.max_upload} bytes")
        documents = read_upload(
            data, name, published=published, language=language, max_bytes=settings.max_upload
        )
        if not documents:
            raise InputError(f"{name}: no article in the file")
        result, new = submit_documents(request, documents)
    except USER_ERRORS as exc:
        raise _input_error(exc) from None
    return JSONResponse(result, status_code=201 if new else 200)
