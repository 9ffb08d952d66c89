"""Imports of official list files (``import`` scope) and the record of past imports."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Request, UploadFile
from sqlalchemy import func, select

from listwatch.api import schemas
from listwatch.api.deps import (
    Page,
    PageDep,
    RegistryDep,
    SettingsDep,
    check_day,
    page_of,
    read_access,
    registry_changed,
    require_scope,
    scoped,
    slice_page,
)
from listwatch.api.errors import COMMON_ERRORS, NOT_FOUND, ApiError
from listwatch.api.tokens import TokenInfo
from listwatch.registry.models import Import

router = APIRouter(prefix="/imports", tags=["imports"])


def import_dict(row: Import) -> dict[str, Any]:
    """A past import in its JSON form."""
    return {
        "id": row.id,
        "source": row.source,
        "sha256": row.sha256,
        "filename": row.filename,
        "url": row.url,
        "published": row.published.isoformat() if row.published else None,
        "imported_at": row.imported_at.isoformat(),
        "records": row.records,
        "stats": dict(row.stats or {}),
        "document_id": row.document_id,
    }


@router.get(
    "/sources",
    response_model=Page[schemas.SourceOut],
    responses=COMMON_ERRORS,
    dependencies=[Depends(read_access)],
)
def get_sources(page: PageDep) -> dict[str, Any]:
    """The official sources that can be imported, with their download addresses."""
    from listwatch.sources import SOURCES

    items = [
        {
            "id": spec.id,
            "title": spec.title,
            "publisher": spec.publisher,
            "lists": list(spec.lists),
            "formats": list(spec.formats),
            "downloads": [
                {"name": d.name, "url": d.url, "required": d.required} for d in spec.downloads
            ],
            "homepage": spec.homepage,
            "note": spec.note,
        }
        for spec in SOURCES.values()
    ]
    return slice_page(items, page)


@router.get(
    "",
    response_model=Page[schemas.ImportOut],
    responses=COMMON_ERRORS,
    dependencies=[Depends(read_access)],
)
def get_imports(registry: RegistryDep, page: PageDep) -> dict[str, Any]:
    """Past imports, newest first."""
    with registry.transaction() as session:
        total = session.scalar(select(func.count(Import.id))) or 0
        rows = session.scalars(
            select(Import).order_by(Import.id.desc()).limit(page.limit).offset(page.offset)
        )
        return page_of([import_dict(r) for r in rows], total, page)


@router.get(
    "/{import_id}",
    response_model=schemas.ImportOut,
    responses={**COMMON_ERRORS, **NOT_FOUND},
    dependencies=[Depends(read_access)],
)
def get_import(
    import_id: Annotated[int, Path(ge=1, le=2**62)], registry: RegistryDep
) -> dict[str, Any]:
    """One past import with its statistics."""
    with registry.transaction() as session:
        row = session.get(Import, import_id)
        if row is None:
            raise ApiError(404, f"no import {import_id}")
        return import_dict(row)


def run_import(
    request: Request,
    source: str,
    upload: UploadFile,
    published: dt.date | None,
    url: str | None,
    max_bytes: int,
) -> dict[str, Any]:
    """Spool an upload to a private temporary file and import it through the sources package."""
    from listwatch.sources import SOURCES, SourceError, import_file
    from listwatch.sources.engine import ImportOptions

    if source not in SOURCES:
        raise ApiError(
            422,
            f"unknown source {source!r} (known: {', '.join(SOURCES)})",
            details=[{"loc": ["body", "source"], "message": "unknown source"}],
        )
    name = (upload.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][:200] or "upload"
    with tempfile.TemporaryDirectory(prefix="listwatch-import-") as directory:
        path = FilePath(directory) / name
        with path.open("wb") as handle:
            copied = _copy_limited(upload.file, handle, max_bytes)
        if copied == 0:
            raise ApiError(422, f"{name}: the file is empty")
        try:
            result = import_file(
                request.app.state.registry,
                source,
                path,
                ImportOptions(published=published, url=url),
            )
        except SourceError as exc:
            # The path is a temporary one: name the file as the client sent it.
            message = (
                str(exc).replace(str(path), name).replace("--published", "the published field")
            )
            raise ApiError(
                422, message, details=[{"loc": ["body", "file"], "message": message}]
            ) from None
    registry_changed(request.app)
    body = result.to_dict()
    body["files"] = [name]
    return body


def _copy_limited(source: Any, target: Any, limit: int) -> int:
    copied = 0
    while chunk := source.read(1 << 20):
        copied += len(chunk)
        if copied > limit:
            raise ApiError(413, f"the file exceeds {limit} bytes")
        target.write(chunk)
    return copied


@router.post(
    "",
    openapi_extra=scoped("import"),
    response_model=schemas.ImportResultOut,
    status_code=201,
    responses=COMMON_ERRORS,
)
def post_import(
    request: Request,
    settings: SettingsDep,
    token: Annotated[TokenInfo, Depends(require_scope("import"))],
    source: Annotated[str, Form(max_length=64, description="Source id, e.g. ofac-sdn, us-csl")],
    file: Annotated[UploadFile, File(description="The official file as published")],
    published: Annotated[
        dt.date | None, Form(description="Publication date when the file does not state it")
    ] = None,
    url: Annotated[str | None, Form(max_length=2000, description="Where it was downloaded")] = None,
) -> dict[str, Any]:
    """Import a snapshot of an official list; changes since the last snapshot become events.

    Idempotent: the same file imported twice changes nothing (``unchanged``). A file that
    cannot be read is refused with one clear message and nothing is written.
    """
    check_day(published, "published")
    return run_import(request, source, file, published, url, settings.max_upload)
