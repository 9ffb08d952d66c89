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


#: How much text is enough to tell a language (lingua's cost grows with the sample).
SAMPLE_CHARS = 500


@lru_cache(maxsize=2)
def _detector(with_sentinels: bool) -> tuple[Any, dict[str, str]]:
    from lingua import Language, LanguageDetectorBuilder

    codes: dict[str, str] = {}
    for pack in all_packs():
        for name in pack.lingua:
            codes[name] = pack.code
    names = (*codes, *SENTINELS) if with_sentinels else tuple(codes)
    languages = [getattr(Language, name) for name in names]
    detector = LanguageDetectorBuilder.from_languages(*languages).build()
    return detector, codes


def detect(text: str, *, supported_only: bool = False) -> Detection | None:
    """The language of ``text`` (``None`` when there is too little text to tell).

    A document's language is told among the supported languages and the sentinels (so an
    unsupported language is reported as such); a block inside a document of a known
    language only among the supported ones, which is faster.
    """
    detector, codes = _detector(not supported_only)
    sample = _sample(text, SAMPLE_CHARS)
    if sum(ch.isalpha() for ch in sample) < 3:
        return None
    values = detector.compute_language_confidence_values(sample)
    if not values:
        return None
    best = values[0]
    name = best.language.name
    return Detection(codes.get(name), name.title(), float(best.value))


def _sample(text: str, size: int) -> str:
    """Up to ``size`` characters of text from its first lines that say something."""
    if len(text) <= size:
        return text
    lines = [line for line in text.splitlines() if len(line.split()) >= 8]
    sample = "\n".join(lines) if lines else text
    return sample[:size]


def supported_names() -> list[str]:
    """Human names of the supported languages (for messages)."""
    return sorted({pack.name for pack in all_packs()})
