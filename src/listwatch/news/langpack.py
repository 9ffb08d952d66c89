"""Language packs: everything listwatch knows about one language, read from one data file.

``news/lang/<code>.yaml`` holds a language's trigger phrases per event kind, its list
names and descriptions, cues for authorities, hedges, negations, noise markers, country
names and temporal expressions. Adding a language is adding a file; no code branches on
the language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from listwatch.news.patterns import (
    PatternError,
    PhraseGate,
    alternation,
    compile_phrases,
    phrase_regex,
)
from listwatch.news.textfold import fold
from listwatch.registry.domain import EventKind

#: Kinds a news sentence can state.
NEWS_KINDS = (
    EventKind.DESIGNATED,
    EventKind.SUSPENDED,
    EventKind.REMOVED,
    EventKind.REINSTATED,
    EventKind.LAWSUIT_FILED,
    EventKind.COURT_RULING,
    EventKind.EXCHANGE_DELISTED,
    EventKind.BUSINESS_SUSPENDED,
    EventKind.LISTED,
)

#: Temporal expression types the resolver understands (see :mod:`listwatch.news.dates`).
DATE_TYPES = frozenset(
    {
        "absolute",  # groups say what is known: {day} {month} {year}, {month} {year}, {year}
        "day_month",  # a day and a month, year from the publication date
        "month",  # a bare month
        "month_rel_year",  # a month of this / last / next year (``years``)
        "rel_year",  # this / last / next year (``years``)
        "rel_month",  # this / last / next month (``months``)
        "rel_week",  # this / last week (``weeks``)
        "rel_day",  # today / yesterday (``days``)
        "weekday",  # a weekday: the latest on or before publication (``direction: next``)
        "parse",  # handed to dateparser as it is
        "same_day",  # "the same day", "同日": the date of the event stated just before
    }
)


class LanguagePackError(ValueError):
    """A language data file that is missing or malformed."""


@dataclass(frozen=True)
class Trigger:
    """A phrase that states an event of one kind."""

    kind: EventKind
    phrase: str
    regex: re.Pattern[str]
    standalone: bool = False  # states a list event without naming the list
    weight: float = 0.85


@dataclass(frozen=True)
class DateExpression:
    """A temporal expression pattern and how to resolve what it matches."""

    type: str
    phrase: str
    regex: re.Pattern[str]
    params: dict[str, Any]


@dataclass
class LanguagePack:
    """Compiled knowledge of one language."""

    code: str
    name: str
    aliases: tuple[str, ...]
    lingua: tuple[str, ...]
    punkt: str | None
    dateparser: str
    spaced: bool
    abbreviations: frozenset[str]
    macros: dict[str, str]
    triggers: list[Trigger]
    cues: dict[str, re.Pattern[str]]
    list_names: dict[str, list[str]]
    list_cues: dict[str, list[str]]
    list_nouns: re.Pattern[str]
    noise: dict[str, re.Pattern[str]]
    countries: dict[str, str]
    exchanges: dict[str, str]
    org_heads: re.Pattern[str]
    dates: list[DateExpression]
    months: dict[str, int]
    weekdays: dict[str, int]
    raw: dict[str, Any] = field(repr=False, default_factory=dict)
    common_words: frozenset[str] = frozenset()
    trigger_gate: PhraseGate | None = field(repr=False, default=None)
    noise_gate: PhraseGate | None = field(repr=False, default=None)
    _noise_owner: list[str] = field(repr=False, default_factory=list)
    list_noun_gate: PhraseGate | None = field(repr=False, default=None)

    def triggers_for(self, folded: str) -> list[Trigger]:
        """The triggers that may match ``folded`` (a quick anchor search first)."""
        if self.trigger_gate is None:
            return self.triggers
        wanted = self.trigger_gate.candidates(folded)
        return [t for i, t in enumerate(self.triggers) if i in wanted]

    def has_list_noun(self, folded: str) -> bool:
        """Whether ``folded`` contains a list noun ("lijst", "sortlisten", "清单" ...)."""
        if self.list_noun_gate is not None and not self.list_noun_gate.candidates(folded):
            return False
        return self.list_nouns.search(folded) is not None

    def noise_sets(self, folded: str) -> set[str]:
        """The noise sets one of whose markers may occur in ``folded`` (anchor search)."""
        if self.noise_gate is None:
            return set(self.noise)
        return {self._noise_owner[i] for i in self.noise_gate.candidates(folded)}

    def noise_match(self, name: str, folded: str, anchored: bool) -> bool:
        """Whether a noise marker of set ``name`` matches (at the start when ``anchored``)."""
        pattern = self.noise[name]
        return bool(pattern.match(folded) if anchored else pattern.search(folded))

    def cue(self, name: str) -> re.Pattern[str]:
        """The compiled cue set ``name`` (negation, hedge, temporary, court, ...)."""
        return self.cues[name]


_CUE_SETS = (
    "negations",
    "hedges",
    "temporary",
    "court",
    "future",
    "since",
    "conjunctions",
    "clause_breaks",
    "deadline",
)
_NOISE_SETS = ("drop_lines", "cut_from", "jobs", "people", "adverts")


def _strings(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise LanguagePackError(f"{where}: expected a list of strings")


def _word_map(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise LanguagePackError(f"{where}: expected a mapping of words to numbers")
    result: dict[str, int] = {}
    for number, words in value.items():
        for word in _strings(words, where):
            result[fold(word)] = int(number)
    return result


def _group(name: str, words: list[str]) -> str:
    ordered = sorted({re.escape(w) for w in words}, key=lambda w: (-len(w), w))
    return f"(?P<{name}>{'|'.join(ordered)})"


def build_pack(data: dict[str, Any], source: str = "<data>") -> LanguagePack:
    """Compile a language pack from its parsed YAML document."""
    try:
        return _build(data)
    except PatternError as exc:
        raise LanguagePackError(f"{source}: {exc}") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise LanguagePackError(f"{source}: malformed language file ({exc})") from None


def _build(data: dict[str, Any]) -> LanguagePack:
    code = str(data["code"])
    spaced = bool(data.get("spaced", True))
    where = f"lang/{code}"

    lists = data.get("lists") or {}
    list_nouns = _strings(lists.get("nouns"), f"{where} lists.nouns")
    macros: dict[str, str] = {"list": alternation(list_nouns, spaced=spaced)}

    date_data = data.get("dates") or {}
    months = _word_map(date_data.get("months") or {}, f"{where} dates.months")
    weekdays = _word_map(date_data.get("weekdays") or {}, f"{where} dates.weekdays")
    if months:
        macros["month"] = _group("month", list(months))
    if weekdays:
        macros["weekday"] = _group("weekday", list(weekdays))
    macros["day"] = r"(?P<day>[0-3]?\d)\.?" if spaced else r"(?P<day>[0-3]?\d)[日号]"
    macros["year"] = r"(?P<year>(?:19|20)\d\d)" + ("" if spaced else "年?")
    macros["monthnum"] = r"(?P<month>1[0-2]|0?[1-9])月"
    macros["num"] = r"(?:\d+|\w+)"
    for name, words in (date_data.get("macros") or {}).items():
        macros[str(name)] = alternation(_strings(words, f"{where} dates.macros"), spaced=spaced)

    triggers: list[Trigger] = []
    for kind_name, entries in (data.get("triggers") or {}).items():
        kind = EventKind(kind_name)
        if kind not in NEWS_KINDS:
            raise LanguagePackError(f"{where}: {kind_name} is not a news event kind")
        for entry in entries or []:
            if isinstance(entry, str):
                entry = {"p": entry}
            phrase = str(entry["p"])
            regex = re.compile(phrase_regex(phrase, spaced=spaced, macros=macros))
            triggers.append(
                Trigger(
                    kind=kind,
                    phrase=phrase,
                    regex=regex,
                    standalone=bool(entry.get("standalone", False)),
                    weight=float(entry.get("weight", 0.85)),
                )
            )

    cues = {
        name: compile_phrases(_strings(data.get(name), f"{where} {name}"), spaced=spaced)
        for name in _CUE_SETS
    }
    noise_data = data.get("noise") or {}
    noise = {
        name: compile_phrases(
            _strings(noise_data.get(name), f"{where} noise.{name}"), spaced=spaced, macros=macros
        )
        for name in _NOISE_SETS
    }

    list_names = {
        str(list_id): _strings(names, f"{where} lists.names")
        for list_id, names in (lists.get("names") or {}).items()
    }
    list_cues = {
        str(list_id): _strings(names, f"{where} lists.cues")
        for list_id, names in (lists.get("cues") or {}).items()
    }

    countries: dict[str, str] = {}
    for iso, names in (data.get("countries") or {}).items():
        for name in _strings(names, f"{where} countries"):
            countries[name] = str(iso).upper()
    exchanges: dict[str, str] = {}
    for iso, names in (data.get("exchanges") or {}).items():
        for name in _strings(names, f"{where} exchanges"):
            exchanges[name] = str(iso).upper()

    dates: list[DateExpression] = []
    for entry in date_data.get("expressions") or []:
        date_type = str(entry["type"])
        if date_type not in DATE_TYPES:
            raise LanguagePackError(f"{where}: unknown date expression type {date_type!r}")
        for phrase in _strings(entry["p"], f"{where} dates.expressions"):
            regex = re.compile(phrase_regex(phrase, spaced=spaced, macros=macros))
            params = {k: v for k, v in entry.items() if k not in ("type", "p")}
            dates.append(DateExpression(date_type, phrase, regex, params))

    pack = LanguagePack(
        code=code,
        name=str(data.get("name", code)),
        aliases=tuple(_strings(data.get("aliases"), f"{where} aliases")),
        lingua=tuple(_strings(data.get("lingua"), f"{where} lingua")),
        punkt=data.get("punkt"),
        dateparser=str(data.get("dateparser", code)),
        spaced=spaced,
        abbreviations=frozenset(
            a.lower().rstrip(".") for a in _strings(data.get("abbreviations"), where)
        ),
        macros=macros,
        triggers=triggers,
        cues=cues,
        list_names=list_names,
        list_cues=list_cues,
        list_nouns=compile_phrases(list_nouns, spaced=spaced),
        noise=noise,
        countries=countries,
        exchanges=exchanges,
        org_heads=compile_phrases(_strings(data.get("org_heads"), where), spaced=spaced),
        dates=dates,
        months=months,
        weekdays=weekdays,
        raw=data,
    )
    pack.common_words = frozenset(fold(w) for w in _strings(data.get("common_words"), where))
    pack.trigger_gate = PhraseGate([t.phrase for t in triggers])
    pack.list_noun_gate = PhraseGate(list_nouns)
    noise_phrases = [
        (name, phrase) for name in _NOISE_SETS for phrase in _strings(noise_data.get(name), where)
    ]
    pack.noise_gate = PhraseGate([phrase for _name, phrase in noise_phrases])
    pack._noise_owner = [name for name, _phrase in noise_phrases]
    return pack


def _lang_files() -> dict[str, Any]:
    folder = resources.files("listwatch.news") / "lang"
    return {
        entry.name[: -len(".yaml")]: entry
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml")
    }


@cache
def load_pack(code: str) -> LanguagePack:
    """The language pack for ``code`` (or one of its aliases, e.g. ``nb`` for ``no``)."""
    code = canonical_code(code)
    files = _lang_files()
    if code not in files:
        raise LanguagePackError(f"no language data for {code!r}")
    try:
        data = yaml.safe_load(files[code].read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise LanguagePackError(f"lang/{code}.yaml: {exc}") from None
    return build_pack(data, f"lang/{code}.yaml")


@lru_cache(maxsize=1)
def _alias_map() -> dict[str, str]:
    mapping: dict[str, str] = {}
    for code, entry in _lang_files().items():
        mapping[code] = code
        data = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
        for alias in data.get("aliases") or []:
            mapping[str(alias).lower()] = code
    return mapping


def canonical_code(code: str) -> str:
    """The pack code for a language tag (``nb-NO`` → ``no``, ``zh-Hant`` → ``zh``)."""
    tag = code.strip().lower().replace("_", "-")
    mapping = _alias_map()
    if tag in mapping:
        return mapping[tag]
    primary = tag.split("-")[0]
    return mapping.get(primary, primary)


def supported_languages() -> tuple[str, ...]:
    """Codes of every language with a data file."""
    return tuple(sorted(_lang_files()))


def all_packs() -> list[LanguagePack]:
    """Every language pack."""
    return [load_pack(code) for code in supported_languages()]
