"""References to lists, countries and stock exchanges in a sentence.

A list is referred to by one of its names or descriptions ("Entity List", "zwarte lijst
met Chinese militaire bedrijven"), by a cue that points at its authority ("Pentagon",
"handelsministeriet"), or by a bare list noun ("the list", "sortlisten") whose list is
the one the article is about.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

from listwatch.news.langpack import LanguagePack
from listwatch.news.patterns import PhraseGate, alternation
from listwatch.news.textfold import name_key

#: How much each kind of reference counts when the article's main list is worked out.
STRENGTH_WEIGHT = {"name": 2.0, "cue": 1.0, "noun": 0.0}


@dataclass(frozen=True)
class ListRef:
    """A reference to a list in a text (``list_id`` is ``None`` for a bare list noun)."""

    start: int
    end: int
    list_id: str | None
    strength: str  # "name", "cue" or "noun"


def _literal(name: str) -> str:
    """A registry name as a phrase of the pattern language (its tokens, nothing special)."""
    return name_key(name)


class ListFinder:
    """Finds list references in folded text of one language."""

    def __init__(self, pack: LanguagePack, registry_names: Mapping[str, Sequence[str]]) -> None:
        self.pack = pack
        names: dict[str, list[str]] = {}
        for list_id in sorted(set(pack.list_names) | set(registry_names)):
            phrases = list(pack.list_names.get(list_id, []))
            phrases += [_literal(n) for n in registry_names.get(list_id, []) if name_key(n)]
            if phrases:
                names[list_id] = phrases
        self._names = _ListPatterns(names, pack)
        self._cues = _ListPatterns({k: v for k, v in pack.list_cues.items() if v}, pack)

    def find(self, folded: str) -> list[ListRef]:
        """References in ``folded``; a name hides the nouns and cues inside it."""
        refs: list[ListRef] = []
        for strength, patterns in (("name", self._names), ("cue", self._cues)):
            for list_id, pattern in patterns.candidates(folded):
                refs += [ListRef(*m.span(), list_id, strength) for m in pattern.finditer(folded)]
        refs += [ListRef(*m.span(), None, "noun") for m in self.pack.list_nouns.finditer(folded)]
        order = {"name": 0, "cue": 1, "noun": 2}
        refs.sort(key=lambda r: (order[r.strength], -(r.end - r.start), r.start))
        kept: list[ListRef] = []
        for ref in refs:
            inside_name = any(
                k.strength == "name" and k.start <= ref.start and ref.end <= k.end for k in kept
            )
            if ref.strength != "name" and inside_name:
                continue
            if ref.strength == "name" and any(
                k.strength == "name" and not (ref.end <= k.start or ref.start >= k.end)
                for k in kept
            ):
                continue
            kept.append(ref)
        kept.sort(key=lambda r: r.start)
        return kept


class _ListPatterns:
    """A pattern per list, and an anchor search that says which lists a text may name."""

    def __init__(self, phrases: Mapping[str, list[str]], pack: LanguagePack) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        owners: list[int] = []
        flat: list[str] = []
        for list_id, values in sorted(phrases.items()):
            source = alternation(values, spaced=pack.spaced, macros=pack.macros)
            owners += [len(self._patterns)] * len(values)
            flat += values
            self._patterns.append((list_id, re.compile(source)))
        self._owners = owners
        self._gate = PhraseGate(flat)

    def candidates(self, folded: str) -> list[tuple[str, re.Pattern[str]]]:
        """The lists whose phrases may occur in ``folded``."""
        wanted = {self._owners[i] for i in self._gate.candidates(folded)}
        return [p for i, p in enumerate(self._patterns) if i in wanted]


def dominant_list(refs: Sequence[tuple[ListRef, float]]) -> str | None:
    """The list an article is mostly about, from its weighted references (``None``: unclear)."""
    scores: dict[str, float] = {}
    for ref, weight in refs:
        if ref.list_id is not None:
            scores[ref.list_id] = (
                scores.get(ref.list_id, 0.0) + STRENGTH_WEIGHT[ref.strength] * weight
            )
    if not scores:
        return None
    best = max(sorted(scores), key=lambda k: scores[k])
    return best if scores[best] >= 1.0 else None


@lru_cache(maxsize=1)
def _common_exchanges() -> dict[str, str]:
    text = (resources.files("listwatch.news") / "data" / "exchanges.yaml").read_text("utf-8")
    data = yaml.safe_load(text) or {}
    return {str(name): str(iso) for iso, names in data.items() for name in names}


def _babel_locale(pack: LanguagePack) -> list[str]:
    if pack.code == "no":
        return ["nb", "nn"]
    if pack.code == "zh":
        return ["zh", "zh_Hant"]
    return [pack.code]


class PlaceFinder:
    """Countries (CLDR names in the language, plus the file's aliases) and stock exchanges."""

    def __init__(self, pack: LanguagePack) -> None:
        from babel import Locale

        names: dict[str, str] = {}
        for locale_name in _babel_locale(pack):
            try:
                territories = Locale.parse(locale_name).territories
            except (ValueError, LookupError):
                continue
            for code, name in territories.items():
                if len(code) == 2 and code.isalpha() and len(name) >= 4:
                    names[name_key(name)] = code
        for name, code in pack.countries.items():
            names[name_key(name)] = code
        self._countries = names
        self._country_re = re.compile(alternation(list(names), spaced=pack.spaced))
        exchanges = {name_key(n): c for n, c in _common_exchanges().items()}
        exchanges.update({name_key(n): c for n, c in pack.exchanges.items()})
        self._exchanges = exchanges
        self._exchange_re = re.compile(alternation(list(exchanges), spaced=pack.spaced))

    def countries(self, folded: str) -> list[tuple[int, int, str]]:
        """Countries named in ``folded``: ``(start, end, ISO code)``."""
        return [
            (m.start(), m.end(), self._countries[name_key(m.group())])
            for m in self._country_re.finditer(folded)
            if name_key(m.group()) in self._countries
        ]

    def exchanges(self, folded: str) -> list[tuple[int, int, str]]:
        """Stock exchanges named in ``folded``: ``(start, end, ISO code of their country)``."""
        return [
            (m.start(), m.end(), self._exchanges[name_key(m.group())])
            for m in self._exchange_re.finditer(folded)
            if name_key(m.group()) in self._exchanges
        ]
