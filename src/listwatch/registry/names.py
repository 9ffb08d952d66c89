"""Small name utilities shared by the registry: folding for exact lookups, script detection."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_SCRIPT_PREFIXES = (
    ("CJK", "Hani"),
    ("CYRILLIC", "Cyrl"),
    ("ARABIC", "Arab"),
    ("GREEK", "Grek"),
    ("HANGUL", "Hang"),
    ("HIRAGANA", "Jpan"),
    ("KATAKANA", "Jpan"),
    ("HEBREW", "Hebr"),
    ("THAI", "Thai"),
    ("DEVANAGARI", "Deva"),
    ("LATIN", "Latn"),
)


def fold_name(name: str) -> str:
    """Case-, width- and space-insensitive form of a name, for exact lookups."""
    text = unicodedata.normalize("NFKC", name).casefold()
    return " ".join(text.split())


def detect_script(name: str) -> str | None:
    """The ISO 15924 code of the dominant script of ``name`` (``Latn``, ``Hani``, ``Cyrl`` ...)."""
    counts: dict[str, int] = {}
    for char in name:
        script = _char_script(char)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None
    return max(counts.items(), key=lambda item: item[1])[0]


@lru_cache(maxsize=16_384)
def _char_script(char: str) -> str | None:
    """The script of a letter (None for other characters and scripts not told apart)."""
    if not char.isalpha():
        return None
    label = unicodedata.name(char, "")
    for prefix, script in _SCRIPT_PREFIXES:
        if label.startswith(prefix):
            return script
    return None
