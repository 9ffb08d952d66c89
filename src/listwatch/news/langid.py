"""Language identification with lingua, restricted to the languages listwatch has data for.

The detector also knows a handful of other languages so that an article in, say, Polish
or Russian is reported as unsupported instead of being forced into the nearest supported
language.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from listwatch.news.langpack import all_packs

#: Languages recognised only to be refused (lingua enum names).
SENTINELS = (
    "POLISH",
    "CZECH",
    "FINNISH",
    "HUNGARIAN",
    "ROMANIAN",
    "TURKISH",
    "INDONESIAN",
    "RUSSIAN",
    "UKRAINIAN",
    "ARABIC",
    "JAPANESE",
    "KOREAN",
    "GREEK",
    "HEBREW",
)

#: Below this many letters a block is too short to tell its language apart from the document's.
MIN_BLOCK_LETTERS = 80


class UnsupportedLanguageError(ValueError):
    """A document in a language listwatch has no data for."""


@dataclass(frozen=True)
class Detection:
    """A detected language: pack code (``None`` when unsupported) and lingua's name for it."""

    code: str | None
    name: str
    confidence: float


@lru_cache(maxsize=1)
def _detector() -> tuple[Any, dict[str, str]]:
    from lingua import Language, LanguageDetectorBuilder

    codes: dict[str, str] = {}
    for pack in all_packs():
        for name in pack.lingua:
            codes[name] = pack.code
    languages = [getattr(Language, name) for name in (*codes, *SENTINELS)]
    detector = LanguageDetectorBuilder.from_languages(*languages).build()
    return detector, codes


def detect(text: str) -> Detection | None:
    """The language of ``text`` (``None`` when there is too little text to tell)."""
    detector, codes = _detector()
    sample = text[:3000]
    if sum(ch.isalpha() for ch in sample) < 3:
        return None
    values = detector.compute_language_confidence_values(sample)
    if not values:
        return None
    best = values[0]
    name = best.language.name
    return Detection(codes.get(name), name.title(), float(best.value))


def supported_names() -> list[str]:
    """Human names of the supported languages (for messages)."""
    return sorted({pack.name for pack in all_packs()})
