"""News submission for the server: the news package's pipeline, built once and reused.

Building the pipeline (the gazetteer of every name in the registry, the list names) is
the costly part of extraction; the server keeps one and rebuilds it only when the
registry's names have changed since.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from listwatch.news.documents import InputError
from listwatch.news.langid import UnsupportedLanguageError

#: What a submitted article can be refused for: one clear message, nothing stored.
USER_ERRORS = (InputError, UnsupportedLanguageError)

if TYPE_CHECKING:
    from listwatch.news.documents import NewsDocument
    from listwatch.news.ingest import IngestReport
    from listwatch.news.pipeline import NewsPipeline


def _names_version(session: Session) -> tuple[Any, ...]:
    from listwatch.registry.models import Entity, EntityName, ListName

    names = session.execute(select(func.max(EntityName.id), func.count(EntityName.id))).one()
    lists = session.execute(select(func.max(ListName.id), func.count(ListName.id))).one()
    entities = session.scalar(select(func.count(Entity.id)))
    return (*names, *lists, entities)


class NewsService:
    """Extracts and stores submitted articles through :mod:`listwatch.news`."""

    def __init__(self) -> None:
        self._pipeline: NewsPipeline | None = None
        self._version: tuple[Any, ...] | None = None
        self._lock = threading.Lock()

    def pipeline(self, session: Session) -> NewsPipeline:
        """The pipeline over the registry's current names."""
        from listwatch.news.pipeline import NewsPipeline

        version = _names_version(session)
        with self._lock:
            if self._pipeline is None or version != self._version:
                self._pipeline = NewsPipeline.from_session(session)
                self._version = version
            return self._pipeline

    def ingest(self, session: Session, documents: list[NewsDocument]) -> IngestReport:
        """Extract, cluster and store ``documents`` in the caller's transaction."""
        from listwatch.news.ingest import ingest

        return ingest(session, documents, self.pipeline(session))


def read_submission(
    *,
    text: str | None,
    html: str | None,
    url: str | None,
    published: str | None,
    language: str | None,
    title: str | None,
    max_bytes: int,
) -> list[NewsDocument]:
    """An article given as fields (as a JSON-lines record of the news package would be)."""
    import json

    from listwatch.news.documents import jsonl_documents

    record: dict[str, Any] = {"url": url, "published": published, "language": language}
    if title:
        record["title"] = title
        record["id"] = title  # what the document is cited as
    if html is not None:
        record["html"] = html
    if text is not None:
        record["text"] = text
    line = json.dumps({k: v for k, v in record.items() if v is not None}, ensure_ascii=False)
    return jsonl_documents(line.encode("utf-8"), "submission", max_bytes=max_bytes)


def read_upload(
    data: bytes, filename: str, *, published: str | None, language: str | None, max_bytes: int
) -> list[NewsDocument]:
    """Articles from an uploaded file (text, HTML, JSON lines or a feed), by name and content."""
    from listwatch.news.documents import parse_published, read_bytes

    date = parse_published(published, filename) if published else None
    return read_bytes(data, filename, published=date, language=language, max_bytes=max_bytes)
