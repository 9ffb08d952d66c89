"""A small phrase language for the per-language data files, compiled to regular expressions.

Phrases are matched against folded text (see :mod:`listwatch.news.textfold`), so they are
written in lowercase and folded at compile time. Syntax, token by token (tokens are
separated by spaces):

- ``word`` — the word itself; ``sanktion*`` / ``*liste`` — a prefix or suffix of a word;
- ``a|b|c`` — one of several words;
- ``word?`` — an optional word;
- ``…`` or ``...`` — up to 6 other words; ``…12`` — up to 12;
- ``{list}``, ``{month}`` ... — a macro defined by the language file.

For languages written without spaces (Chinese) the tokens are concatenated, and a gap
``…`` stands for up to 12 characters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from listwatch.news.textfold import fold

_GAP = re.compile(r"^(?:…|\.\.\.)(\d+)?$")
_MACRO = re.compile(r"^\{(\w+)\}$")


class PatternError(ValueError):
    """A phrase in a language file that cannot be compiled."""


def _word(token: str, spaced: bool) -> str:
    alternatives = []
    for alternative in token.split("|"):
        if not alternative:
            raise PatternError(f"empty alternative in {token!r}")
        parts = [re.escape(fold(piece)) for piece in alternative.split("*")]
        alternatives.append(r"\w*".join(parts) if spaced else "".join(parts))
    body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
    return body


def phrase_regex(
    phrase: str, *, spaced: bool = True, macros: Mapping[str, str] | None = None
) -> str:
    """Regular-expression source for one phrase (no surrounding boundaries for unspaced)."""
    macros = macros or {}
    tokens = phrase.split()
    if not tokens:
        raise PatternError("empty phrase")
    separator = r"[\W_]+" if spaced else r"\s*"
    pieces: list[str] = []
    pending_gap: str | None = None
    for token in tokens:
        gap = _GAP.match(token)
        if gap:
            count = int(gap.group(1) or (6 if spaced else 12))
            pending_gap = (
                rf"(?:[\W_]+\w+){{0,{count}}}?" if spaced else rf"[^。！？!?]{{0,{count}}}?"
            )
            continue
        optional = token.endswith("?") and len(token) > 1
        if optional:
            token = token[:-1]
        macro = _MACRO.match(token)
        if macro:
            name = macro.group(1)
            if name not in macros:
                raise PatternError(f"unknown macro {{{name}}} in {phrase!r}")
            body = f"(?:{macros[name]})"
        else:
            body = _word(token, spaced)
        lead = ""
        if pieces:
            lead = (pending_gap or "") + separator
        elif pending_gap:
            raise PatternError(f"a phrase cannot start with a gap: {phrase!r}")
        pending_gap = None
        piece = lead + body
        pieces.append(f"(?:{piece})?" if optional else piece)
    if pending_gap:
        raise PatternError(f"a phrase cannot end with a gap: {phrase!r}")
    source = "".join(pieces)
    if spaced:
        source = rf"(?<!\w)(?:{source})(?!\w)"
    return source


def alternation(
    phrases: Iterable[str], *, spaced: bool = True, macros: Mapping[str, str] | None = None
) -> str:
    """One regular expression source matching any of ``phrases`` (longest first)."""
    sources = [
        phrase_regex(p, spaced=spaced, macros=macros)
        for p in sorted(set(phrases), key=lambda p: (-len(p), p))
    ]
    return "|".join(sources) if sources else r"(?!x)x"


def compile_phrases(
    phrases: Iterable[str], *, spaced: bool = True, macros: Mapping[str, str] | None = None
) -> re.Pattern[str]:
    """Compile ``phrases`` into one pattern."""
    return re.compile(alternation(phrases, spaced=spaced, macros=macros))


def phrase_anchors(phrase: str) -> frozenset[str] | None:
    """Literal strings one of which any match of ``phrase`` contains (``None``: no such set).

    The token whose alternatives have the longest literal parts is chosen; a quick
    substring search for its anchors tells which phrases can match a text at all.
    """
    best: frozenset[str] | None = None
    best_length = 0
    for token in phrase.split():
        if _GAP.match(token) or _MACRO.match(token.rstrip("?")) or token.endswith("?"):
            continue
        anchors: set[str] = set()
        for alternative in token.split("|"):
            pieces = [fold(piece) for piece in alternative.split("*") if piece]
            if not pieces:
                anchors = set()
                break
            anchors.add(max(pieces, key=len))
        if not anchors:
            continue
        length = min(len(a) for a in anchors)
        if length > best_length:
            best, best_length = frozenset(anchors), length
    return best


class PhraseGate:
    """Which of many phrases may match a text, from a substring search for their anchors."""

    def __init__(self, phrases: Iterable[str]) -> None:
        import ahocorasick

        self._always: list[int] = []
        owners: dict[str, list[int]] = {}
        for index, phrase in enumerate(phrases):
            anchors = phrase_anchors(phrase)
            if anchors is None:
                self._always.append(index)
                continue
            for anchor in anchors:
                owners.setdefault(anchor, []).append(index)
        self._automaton = ahocorasick.Automaton()
        for anchor, indexes in owners.items():
            self._automaton.add_word(anchor, tuple(indexes))
        self._empty = not owners
        if not self._empty:
            self._automaton.make_automaton()

    def candidates(self, folded: str) -> set[int]:
        """Indexes of the phrases that may match ``folded``."""
        found = set(self._always)
        if not self._empty:
            for _end, indexes in self._automaton.iter(folded):
                found.update(indexes)
        return found
