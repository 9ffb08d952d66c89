"""Health and reference data (roles)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from sqlalchemy import text

import listwatch
from listwatch.api import schemas
from listwatch.api.deps import Page, PageDep, RegistryDep, read_access, slice_page

router = APIRouter(tags=["meta"])


@router.get("/health", response_model=schemas.Health)
async def health(registry: RegistryDep) -> dict[str, Any]:
    """Whether the server and its database answer (one trivial query, on the event loop)."""
    with registry.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    return {"status": "ok", "version": listwatch.__version__, "database": registry.dialect}


@router.get("/roles", response_model=Page[schemas.RoleOut], dependencies=[Depends(read_access)])
def roles(page: PageDep) -> dict[str, Any]:
    """Kinds of users whose duties the obligations endpoint evaluates."""
    from listwatch.obligations import load_roles

    items = [
        {"id": r.id, "description": r.description, "implies": list(r.implies)}
        for r in load_roles().values()
    ]
    return slice_page(items, page)
