"""Length-preserving text folding and word tokens with offsets, for scanning running text.

Names in the registry are compared after the screening normalisation (see
:mod:`listwatch.news.names`); running text needs something different: a fold that keeps
every character where it was, so that a match found in the folded text points at the
exact span of the original article. The fold here lowercases, drops diacritics, maps
full-width forms to ASCII and traditional Han characters to simplified ones (ICU's
transliterator), one character for one character. Names are
matched in the screening area's gazetteer form instead (see :mod:`.gazetteer`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

#: Han ideographs (and compatibility ideographs): each one is a token of its own, since
#: Chinese text has no spaces between words.
HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{HAN_RANGES}]|[^\W{HAN_RANGES}]+")
_HAN = re.compile(rf"[{HAN_RANGES}]")


@lru_cache(maxsize=1)
def _fold_table() -> dict[int, str]:
    """Character map applied after ``str.lower``: accents, widths, quotes, traditional Han."""
    table: dict[int, str] = {}
    for code in range(0x00C0, 0x0250):
        char = chr(code)
        base = unicodedata.normalize("NFKD", char)[0]
        if base != char and base.isascii() and base.isalpha():
            table[code] = base.lower()
    for code in range(0x1E00, 0x1F00):  # Latin Extended Additional (Vietnamese, ...)
        base = unicodedata.normalize("NFKD", chr(code))[0]
        if base.isascii() and base.isalpha():
            table[code] = base.lower()
    for code in range(0xFF01, 0xFF5F):  # full-width ASCII
        table[code] = chr(code - 0xFEE0).lower()
    for quote in "\u2018\u2019\u201b\u2032\u00b4`":
        table[ord(quote)] = "'"
    for dash in "\u2010\u2011\u2012\u2013\u2014\u2212":
        table[ord(dash)] = "-"
    table[0x3000] = " "  # ideographic space
    table[0x00A0] = " "
    return table


@lru_cache(maxsize=1)
def _han_transliterator() -> Any:
    import icu

    return icu.Transliterator.createInstance("Traditional-Simplified")


@lru_cache(maxsize=65536)
def _simplified(char: str) -> str:
    """The simplified form of one Han character (ICU's Traditional-Simplified), or itself."""
    converted = str(_han_transliterator().transliterate(char))
    return converted if len(converted) == 1 else char


def fold(text: str) -> str:
    """Fold ``text`` for matching; the result has exactly the same length as ``text``."""
    if "\u0130" in text:  # the one character whose lowercase is two characters long
        text = text.replace("\u0130", "I")
    folded = text.lower().translate(_fold_table())
    if _HAN.search(folded):
        folded = _HAN.sub(lambda m: _simplified(m.group()), folded)
    return folded


@dataclass(frozen=True)
class Tokens:
    """Word tokens of a text: folded forms and their ``(start, end)`` spans in the original."""

    words: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]

    def joined(self) -> tuple[str, list[int]]:
        """The tokens joined by single spaces, and where each token starts in that string."""
        starts: list[int] = []
        position = 0
        for word in self.words:
            starts.append(position)
            position += len(word) + 1
        return " ".join(self.words), starts


def tokenize(text: str, folded: str | None = None) -> Tokens:
    """Word tokens of ``text`` (each Han character is one token), folded, with offsets."""
    folded = fold(text) if folded is None else folded
    words: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in _TOKEN.finditer(folded):
        words.append(match.group())
        spans.append(match.span())
    return Tokens(tuple(words), tuple(spans))


def name_key(name: str) -> str:
    """The folded token sequence of a name (``"Co., Ltd."`` → ``"co ltd"``), for patterns."""
    return " ".join(tokenize(name).words)


def has_han(text: str) -> bool:
    """Whether ``text`` contains a Han character."""
    return _HAN.search(text) is not None
