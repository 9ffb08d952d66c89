"""Cleaning: the article's own text, without advertising, job listings, people news or
headlines of other articles.

HTML goes through ``trafilatura`` (which returns nothing for plain text, so plain text
never goes there). Plain text — and trafilatura's output, which still keeps "read also"
lines — goes through a line classifier driven by the noise markers of the language files:

- ``cut_from``: a marker after which the rest of the page is site furniture
  ("Navnenyt fra ...", "Læses lige nu", "Most read");
- ``drop_lines``: headlines of other articles ("Læs også:", "Lees ook", "Read more");
- ``jobs``, ``people``, ``adverts``: lines of job listings, people news and advertising.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from listwatch.news.langpack import LanguagePack
from listwatch.news.textfold import fold

_TERMINAL = re.compile(r"[.!?。！？\"”»'’)]\s*$")


@dataclass(frozen=True)
class Block:
    """One line of the document: its span, and whether it belongs to the article."""

    start: int
    end: int
    text: str
    label: str  # "title", "text", "heading", or "noise:<why>"
    index: int

    @property
    def kept(self) -> bool:
        """Whether the block is the article's own text."""
        return not self.label.startswith("noise")


class HtmlExtractionError(ValueError):
    """An HTML page from which no article text could be extracted."""


@dataclass(frozen=True)
class HtmlArticle:
    """What trafilatura found in a page."""

    text: str
    title: str | None
    date: str | None
    url: str | None


def extract_html(html: str, url: str | None = None) -> HtmlArticle:
    """Main text, title and date of an HTML page (boilerplate removed)."""
    import trafilatura

    document = trafilatura.bare_extraction(
        html,
        url=url,
        favor_precision=True,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
    )
    if document is None:
        raise HtmlExtractionError("no article text found in the HTML page")
    text = getattr(document, "text", None) or ""
    if not text.strip():
        raise HtmlExtractionError("no article text found in the HTML page")
    title = getattr(document, "title", None)
    date = getattr(document, "date", None)
    return HtmlArticle(text=text, title=title, date=date, url=getattr(document, "url", url))


def _matches(
    packs: Iterable[tuple[LanguagePack, set[str]]], name: str, folded: str, anchored: bool
) -> bool:
    return any(name in sets and pack.noise_match(name, folded, anchored) for pack, sets in packs)


def classify_blocks(text: str, packs: list[LanguagePack]) -> list[Block]:
    """Split ``text`` into lines and label each (article text or noise, and why)."""
    blocks: list[Block] = []
    position = 0
    cut = False
    seen_text = 0
    for _index, line in enumerate(text.splitlines(keepends=True)):
        start = position
        position += len(line)
        stripped = line.strip()
        if not stripped:
            continue
        lead = len(line) - len(line.lstrip())
        block_start = start + lead
        block_end = block_start + len(stripped)
        folded = fold(stripped)
        candidates = [(pack, pack.noise_sets(folded)) for pack in packs]
        label = "text"
        if cut:
            label = "noise:tail"
        elif seen_text and _matches(candidates, "cut_from", folded, anchored=True):
            cut = True
            label = "noise:tail"
        elif _matches(candidates, "drop_lines", folded, anchored=True):
            label = "noise:read_also"
        elif _matches(candidates, "jobs", folded, anchored=False):
            label = "noise:job"
        elif _matches(candidates, "people", folded, anchored=True):
            label = "noise:people"
        elif _matches(candidates, "adverts", folded, anchored=True):
            label = "noise:advert"
        elif not _TERMINAL.search(stripped) and len(stripped.split()) <= 25:
            label = "title" if not blocks else "heading"
        if label == "text":
            seen_text += 1
        blocks.append(Block(block_start, block_end, stripped, label, len(blocks)))
    return blocks
