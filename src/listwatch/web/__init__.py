"""The web UI: server-rendered pages (Jinja2) with a small script for in-page updates."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).with_name("static")
TEMPLATES_DIR = Path(__file__).with_name("templates")


def install(app: FastAPI) -> None:
    """Mount the UI pages, their static files and their error pages on ``app``."""
    from listwatch.web.routes import install_handlers, router

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.include_router(router)
    install_handlers(app)
