"""Documents: the sources of events (official files, releases, court records, news)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from listwatch.api import queries, schemas
from listwatch.api.deps import Page, PageDep, RegistryDep, page_of, read_access
from listwatch.api.errors import COMMON_ERRORS, NOT_FOUND, ApiError
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
