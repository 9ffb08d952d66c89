"""RSS and Atom feeds: their items as articles, and following a feed to fetch new items' pages."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from listwatch.news.documents import (
    DEFAULT_MAX_BYTES,
    InputError,
    NewsDocument,
    html_document,
    parse_published,
)


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed."""

    link: str | None
    title: str | None
    published: str | None
    content: str | None  # HTML of the item, when the feed carries it


def parse_feed(data: bytes, where: str) -> list[FeedItem]:
    """The items of an RSS or Atom feed."""
    import feedparser

    parsed: Any = feedparser.parse(data)
    if parsed.get("bozo") and not parsed.entries:
        raise InputError(
            f"{where}: not a readable RSS or Atom feed ({parsed.get('bozo_exception')})"
        )
    items = []
    for entry in parsed.entries:
        content = None
        if entry.get("content"):
            content = entry["content"][0].get("value")
        elif entry.get("summary"):
            content = entry.get("summary")
        published = None
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        if stamp:
            published = f"{stamp.tm_year:04d}-{stamp.tm_mon:02d}-{stamp.tm_mday:02d}"
        items.append(FeedItem(entry.get("link"), entry.get("title"), published, content))
    return items


def feed_documents(
    data: bytes, where: str, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> list[NewsDocument]:
    """Articles carried inside a feed (items without content are skipped)."""
    documents = []
    for number, item in enumerate(parse_feed(data, where), 1):
        if not item.content:
            continue
        label = item.link or f"{where}#{number}"
        html = item.content
        if item.title:
            html = f"<html><body><article><h1>{item.title}</h1>{html}</article></body></html>"
        try:
            documents.append(
                html_document(
                    html,
                    label,
                    url=item.link,
                    source=where,
                    published=parse_published(item.published, label),
                    max_bytes=max_bytes,
                )
            )
        except InputError:
            continue
    return documents


Fetch = Callable[[str], bytes]


def http_fetch(timeout: float = 30.0, max_bytes: int = DEFAULT_MAX_BYTES) -> Fetch:
    """A fetcher over HTTP(S) that refuses responses over ``max_bytes``."""
    import httpx

    def fetch(url: str) -> bytes:
        try:
            with (
                httpx.Client(timeout=timeout, follow_redirects=True) as client,
                client.stream("GET", url, headers={"User-Agent": "listwatch"}) as response,
            ):
                response.raise_for_status()
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > max_bytes:
                        raise InputError(f"{url}: response over {max_bytes // 1024 // 1024} MB")
                    chunks.append(chunk)
                return b"".join(chunks)
        except httpx.HTTPError as exc:
            raise InputError(f"{url}: {exc}") from None

    return fetch


def follow_feed(
    feed_url: str,
    fetch: Fetch,
    known_urls: set[str],
    *,
    limit: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> tuple[list[NewsDocument], list[str]]:
    """New items of a feed, each fetched from its own page; returns (documents, problems).

    Items whose address is in ``known_urls`` are skipped; a page that cannot be fetched or
    read is reported in ``problems`` and the others still come through.
    """
    items = parse_feed(fetch(feed_url), feed_url)
    documents: list[NewsDocument] = []
    problems: list[str] = []
    for item in items:
        if not item.link or item.link in known_urls:
            continue
        if limit is not None and len(documents) >= limit:
            break
        try:
            page = fetch(item.link)
            published = parse_published(item.published, item.link)
            documents.append(
                html_document(
                    page,
                    item.link,
                    url=item.link,
                    source=feed_url,
                    published=published,
                    max_bytes=max_bytes,
                )
            )
        except InputError as exc:
            problems.append(str(exc))
    return documents, problems
