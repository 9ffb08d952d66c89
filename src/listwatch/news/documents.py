"""Reading articles: plain text (with an optional metadata header), HTML, JSON lines,
RSS/Atom feeds, whole directories and standard input.

Every reader checks its input before anything is stored: a binary file, a file over the
size limit, invalid UTF-8 or a malformed record raises :class:`InputError` with one clear
line, so a batch either goes in whole or not at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listwatch.registry.domain import DateError, PartialDate

#: Largest document accepted (bytes); a news article is rarely over 1 MB even as HTML.
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_HEADER = re.compile(
    r"^[ \t]*(date|published|url|lang|language)[ \t]*:?[ \t]+(\S+)[ \t]*", re.IGNORECASE
)
_HTML_SNIFF = re.compile(rb"^\s*(?:<!doctype html|<html|<head|<body|<article|<div|<p[ >])", re.I)
_FEED_SNIFF = re.compile(
    rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b", re.I | re.S
)
_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([\w-]+)""", re.I)


class InputError(ValueError):
    """An input that cannot be read as an article; the message names the input and the fault."""


@dataclass
class NewsDocument:
    """An article as read, before extraction."""

    name: str
    text: str
    sha256: str
    kind: str = "text"  # "text" or "html": what the source was
    url: str | None = None
    published: PartialDate | None = None
    language: str | None = None
    title: str | None = None
    source: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)


def parse_published(value: Any, where: str) -> PartialDate | None:
    """A publication date from metadata (``YYYY``, ``YYYY-MM``, ``YYYY-MM-DD`` or ISO time)."""
    if value in (None, ""):
        return None
    text = str(value).strip()
    match = re.match(r"^(\d{4}(?:-\d{2}(?:-\d{2})?)?)(?:[T ].*)?$", text)
    if not match:
        raise InputError(f"{where}: publication date {text!r} is not YYYY, YYYY-MM or YYYY-MM-DD")
    try:
        date = PartialDate.parse(match.group(1))
    except DateError as exc:
        raise InputError(f"{where}: {exc}") from None
    if date.start > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        raise InputError(f"{where}: publication date {date} is in the future")
    return date


def check_bytes(data: bytes, where: str, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
    """Refuse inputs that are too large, empty or binary."""
    if len(data) > max_bytes:
        raise InputError(
            f"{where}: {len(data) / 1024 / 1024:.1f} MB is over the "
            f"{max_bytes / 1024 / 1024:.0f} MB "
            "limit for one document (--max-mb raises it)"
        )
    if not data.strip():
        raise InputError(f"{where}: the input is empty")
    head = data[:8192]
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    if b"\x00" in head or controls > len(head) * 0.05:
        raise InputError(f"{where}: this looks like a binary file, not an article")


def decode(data: bytes, where: str, encoding: str | None = None) -> str:
    """Text from bytes: the given or declared encoding, else strict UTF-8 (BOM allowed)."""
    codec = encoding
    if codec is None and _HTML_SNIFF.match(data[:2048]):
        declared = _CHARSET.search(data[:4096])
        if declared:
            codec = declared.group(1).decode("ascii", "replace")
    codec = codec or "utf-8-sig"
    try:
        return data.decode(codec)
    except LookupError:
        raise InputError(f"{where}: unknown encoding {codec!r}") from None
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 1].hex()
        raise InputError(
            f"{where}: not valid {codec.replace('-sig', '')} (byte 0x{bad} at offset {exc.start}); "
            "convert the file or pass --encoding"
        ) from None


def _sha(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def split_header(text: str, where: str) -> tuple[str, dict[str, str]]:
    """Leading ``date 2022-06`` / ``url ...`` / ``lang ...`` metadata, and the rest of the text."""
    meta: dict[str, str] = {}
    position = 0
    while True:
        match = _HEADER.match(text, position)
        if not match:
            break
        key = match.group(1).lower()
        key = {"published": "date", "language": "lang"}.get(key, key)
        if key == "date" and not re.match(r"^\d{4}(-\d{2}){0,2}", match.group(2)):
            break
        meta[key] = match.group(2)
        position = match.end()
        while position < len(text) and text[position] in "\r\n":
            position += 1
    return text[position:], meta


def text_document(
    data: bytes,
    name: str,
    *,
    source: str | None = None,
    encoding: str | None = None,
    published: PartialDate | None = None,
    language: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> NewsDocument:
    """A plain-text article (metadata header optional)."""
    check_bytes(data, name, max_bytes)
    text, meta = split_header(decode(data, name, encoding), name)
    if not text.strip():
        raise InputError(f"{name}: no text after the metadata header")
    return NewsDocument(
        name=name,
        text=text,
        sha256=_sha(data),
        kind="text",
        url=meta.get("url"),
        published=published or parse_published(meta.get("date"), name),
        language=language or meta.get("lang"),
        source=source,
        meta={"header": meta} if meta else {},
    )


def html_document(
    data: bytes | str,
    name: str,
    *,
    url: str | None = None,
    source: str | None = None,
    encoding: str | None = None,
    published: PartialDate | None = None,
    language: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> NewsDocument:
    """An HTML page: main text, title and date through trafilatura."""
    from listwatch.news.clean import HtmlExtractionError, extract_html

    raw = data.encode("utf-8") if isinstance(data, str) else data
    check_bytes(raw, name, max_bytes)
    html = data if isinstance(data, str) else decode(raw, name, encoding)
    try:
        article = extract_html(html, url)
    except HtmlExtractionError as exc:
        raise InputError(f"{name}: {exc}") from None
    text = article.text
    if article.title and not text.startswith(article.title):
        text = f"{article.title}\n\n{text}"
    page_date = None
    if published is None and article.date:
        try:
            page_date = parse_published(article.date, name)
        except InputError:
            page_date = None
    return NewsDocument(
        name=name,
        text=text,
        sha256=_sha(raw),
        kind="html",
        url=url or article.url,
        published=published or page_date,
        language=language,
        title=article.title,
        source=source,
        meta={"date_from": "argument" if published else ("page" if page_date else None)},
    )


def record_document(
    record: dict[str, Any], where: str, max_bytes: int = DEFAULT_MAX_BYTES
) -> NewsDocument:
    """The document of one JSON record ``{"text"|"html", "url", "published", "language"?,
    "title"?, "id"?}`` (a line of a JSON-lines file, or a row of a bulk corpus)."""
    published = parse_published(record.get("published"), where)
    language = record.get("language")
    if language is not None and not isinstance(language, str):
        raise InputError(f"{where}: language must be a string")
    url = record.get("url")
    if url is not None and not isinstance(url, str):
        raise InputError(f"{where}: url must be a string")
    label = str(record.get("id") or url or where)
    if isinstance(record.get("html"), str):
        return html_document(
            record["html"],
            label,
            url=url,
            source=where,
            published=published,
            language=language,
            max_bytes=max_bytes,
        )
    body = record.get("text")
    if isinstance(body, str):
        if not body.strip():
            raise InputError(f"{where}: empty text")
        size = len(body.encode("utf-8"))
        if size > max_bytes:
            raise InputError(
                f"{where}: {size / 1024 / 1024:.1f} MB is over the "
                f"{max_bytes / 1024 / 1024:.0f} MB limit for one document (--max-mb raises it)"
            )
        title = record.get("title")
        return NewsDocument(
            name=label,
            text=body,
            sha256=_sha(body),
            url=url,
            published=published,
            language=language,
            title=title if isinstance(title, str) else None,
            source=where,
        )
    raise InputError(f'{where}: a record needs a "text" or an "html" string')


def jsonl_documents(
    data: bytes, name: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[NewsDocument]:
    """Articles from JSON lines: ``{"text"|"html", "url", "published", "language"?, "title"?}``."""
    check_bytes(data, name, max_bytes * 50)
    text = decode(data, name)
    documents = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise InputError(f"{where}: expected a JSON object")
        documents.append(record_document(record, where, max_bytes))
    return documents


def read_bytes(
    data: bytes,
    name: str,
    *,
    source: str | None = None,
    encoding: str | None = None,
    published: PartialDate | None = None,
    language: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[NewsDocument]:
    """Documents from one input, by its name and content (JSON lines, feed, HTML or text)."""
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson")):
        return jsonl_documents(data, name, max_bytes=max_bytes)
    check_bytes(data, name, max_bytes)
    if lower.endswith((".rss", ".atom")) or _FEED_SNIFF.match(data[:4096]):
        from listwatch.news.feeds import feed_documents

        return feed_documents(data, name, max_bytes=max_bytes)
    if lower.endswith((".html", ".htm", ".xhtml")) or _HTML_SNIFF.match(data[:2048]):
        return [
            html_document(
                data,
                name,
                source=source,
                encoding=encoding,
                published=published,
                language=language,
                max_bytes=max_bytes,
            )
        ]
    return [
        text_document(
            data,
            name,
            source=source,
            encoding=encoding,
            published=published,
            language=language,
            max_bytes=max_bytes,
        )
    ]


def iter_files(path: Path) -> Iterator[Path]:
    """The files of a path: itself, or every non-hidden file under a directory, sorted."""
    if path.is_dir():
        for child in sorted(path.rglob("*")):
            if child.is_file() and not any(
                p.startswith(".") for p in child.relative_to(path).parts
            ):
                yield child
    elif path.is_file():
        yield path
    else:
        raise InputError(f"{path}: no such file or directory")


def read_paths(
    paths: list[str],
    *,
    stdin: bytes | None = None,
    encoding: str | None = None,
    published: PartialDate | None = None,
    language: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[NewsDocument]:
    """Every document named by ``paths`` (``-`` is standard input); all read before any use."""
    documents: list[NewsDocument] = []
    for raw in paths:
        if raw == "-":
            if stdin is None:
                raise InputError("-: no standard input")
            documents += read_bytes(
                stdin,
                "stdin",
                encoding=encoding,
                published=published,
                language=language,
                max_bytes=max_bytes,
            )
            continue
        for file in iter_files(Path(raw)):
            size = file.stat().st_size
            limit = max_bytes * 50 if file.suffix.lower() in (".jsonl", ".ndjson") else max_bytes
            if size > limit:
                raise InputError(
                    f"{file.name}: {size / 1024 / 1024:.1f} MB is over the "
                    f"{limit / 1024 / 1024:.0f} MB limit for one document (--max-mb raises it)"
                )
            documents += read_bytes(
                file.read_bytes(),
                file.name,
                source=str(file),
                encoding=encoding,
                published=published,
                language=language,
                max_bytes=max_bytes,
            )
    return documents
