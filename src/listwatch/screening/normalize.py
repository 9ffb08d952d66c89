"""Name normalisation shared by screening and by mention matching in news.

Two spaces of keys, for two jobs:

* **Matching form** (:func:`analyze_name`, :func:`normalize_name`, :func:`name_tokens`):
  every script transliterated to ASCII Latin (Han to pinyin syllables, Cyrillic, Greek,
  Arabic ...), case folded, punctuation removed, possessive ``'s`` dropped, legal forms
  (``Co., Ltd.``, ``GmbH``, ``OOO``, ``有限公司`` ...) recognised and replaced by a short code
  (``llc``, ``jsc``, ``corp``, ``group`` ...) that comparisons weigh down. Used to compare
  two names and to block candidates in the screening index.
* **Gazetteer form** (:func:`fold_text`, :func:`name_keys`): what a name looks like inside
  running text after :func:`fold_text`. Latin, Cyrillic, Greek and Arabic text becomes ASCII
  words separated by single spaces; Han, Kana and Hangul stay in their script (Han in
  simplified characters), because pinyin of a Chinese name is not how articles write it.
  ``name_keys("Xiaomi Corporation")`` gives ``{"xiaomi corporation", "xiaomi"}`` and
  ``name_keys("小米集团")`` gives ``{"小米集团", "小米", ...}``, so a gazetteer built from the
  registry's names and aliases finds "Xiaomi's", "Xiaomi-aktien" (``fold_text`` drops the
  possessive and turns the hyphen into a space) and "小米" (a substring of folded Han text).

Legal-form tables come from rigour (ISO 20275) plus ``data/legal_forms.yaml``; particles of
personal names and function words of organisation names from ``data/particles.yaml``.
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

import yaml

DATA_DIR = Path(__file__).with_name("data")

PERSON_SCHEMATA = frozenset({"Person"})
OBJECT_SCHEMATA = frozenset({"Vessel", "Airplane", "Vehicle", "Asset", "Security"})

# Kinds of tokens in an analysed name.
WORD = "word"
LEGAL = "legal"
PARTICLE = "particle"
NUMBER = "number"

PARTICLE_WEIGHT = 0.3
_POSSESSIVE = re.compile(r"(?<=\w)['’`´]s(?!\w)", re.UNICODE)
_APOSTROPHES = re.compile(r"['’`´ʻʼʿʾ‘]")
_CJK_PREFIXES = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")


@lru_cache(maxsize=256)
def schema_group(schema: str | None) -> str:
    """``person``, ``object`` (vessels, aircraft) or ``org`` for a FollowTheMoney schema name.

    ``Company``, ``Organization``, ``LegalEntity``, ``PublicBody`` and unknown schemata are
    ``org``; ``any`` stays ``any`` (a query whose type is not known).
    """
    if schema is None:
        return "org"
    if schema.lower() == "any":
        return "any"
    if schema in PERSON_SCHEMATA or schema.lower() == "person":
        return "person"
    if schema in OBJECT_SCHEMATA or schema.lower() in ("vessel", "airplane"):
        return "object"
    return "org"


# --------------------------------------------------------------------------- data tables


@dataclass(frozen=True)
class LegalForm:
    """A legal form or organisation word: its comparison code, language and weight."""

    code: str
    lang: str
    weight: float


@dataclass(frozen=True)
class _Tables:
    latin: dict[tuple[str, ...], LegalForm]
    latin_max: int
    latin_first: frozenset[str]
    suffixes: list[tuple[str, LegalForm]]
    rigour_weight: float
    rigour_ignore: frozenset[str]
    person_particles: frozenset[str]
    org_particles: frozenset[str]
    abbreviations: dict[str, str]  # short form → the word it stands for (organisations)


@cache
def _tables() -> _Tables:
    raw: dict[str, Any] = yaml.safe_load(
        (DATA_DIR / "legal_forms.yaml").read_text(encoding="utf-8")
    )
    latin: dict[tuple[str, ...], LegalForm] = {}
    for entry in raw["latin"]:
        form = LegalForm(entry["code"], entry["lang"], float(entry["weight"]))
        for spelling in entry["forms"]:
            latin[tuple(spelling.split())] = form
    suffixes: list[tuple[str, LegalForm]] = []
    for entry in raw["suffixes"]:
        form = LegalForm(entry["code"], entry["lang"], float(entry["weight"]))
        for spelling in entry["forms"]:
            suffixes.append((_simplify_han(unicodedata.normalize("NFKC", spelling)), form))
    suffixes.sort(key=lambda item: -len(item[0]))
    particles: dict[str, Any] = yaml.safe_load(
        (DATA_DIR / "particles.yaml").read_text(encoding="utf-8")
    )
    short_forms: dict[str, dict[str, list[str]]] = yaml.safe_load(
        (DATA_DIR / "abbreviations.yaml").read_text(encoding="utf-8")
    )
    abbreviations = {
        short: word
        for words in short_forms.values()
        for word, shorts in words.items()
        for short in shorts
    }
    return _Tables(
        latin=latin,
        latin_max=max(len(k) for k in latin),
        latin_first=frozenset(k[0] for k in latin),
        suffixes=suffixes,
        rigour_weight=float(raw["rigour_codes"]["default"]),
        rigour_ignore=frozenset(raw["rigour_codes"].get("ignore", [])),
        person_particles=frozenset(particles["person"]),
        org_particles=frozenset(particles["org"]),
        abbreviations=abbreviations,
    )


@cache
def legal_form_weight(code: str) -> float:
    """The comparison weight of a legal-form code (``llc`` 0.1, ``group`` 0.35 ...)."""
    tables = _tables()
    for form in tables.latin.values():
        if form.code == code:
            return form.weight
    for _spelling, form in tables.suffixes:
        if form.code == code:
            return form.weight
    return tables.rigour_weight


# --------------------------------------------------------------------------- characters


@cache
def _han_transliterator() -> Any:
    import icu

    return icu.Transliterator.createInstance("Traditional-Simplified")


@lru_cache(maxsize=65536)
def _simplify_han(text: str) -> str:
    if text.isascii() or not any(_is_cjk(c) for c in text):
        return text
    return str(_han_transliterator().transliterate(text))


@lru_cache(maxsize=4096)
def _char_class(char: str) -> str:
    """``cjk`` (kept), ``latin`` (ASCII after folding), ``other`` (transliterated) or ``sep``."""
    if char.isascii():
        return "latin" if char.isalnum() else "sep"
    if not (char.isalnum() or unicodedata.category(char) in ("Mn", "Mc")):
        return "sep"
    name = unicodedata.name(char, "")
    if name.startswith(_CJK_PREFIXES):
        return "cjk"
    if name.startswith("LATIN"):
        return "latin"
    return "other"


def _is_cjk(char: str) -> bool:
    return _char_class(char) == "cjk"


def _strip_marks(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@lru_cache(maxsize=65536)
def transliterate(text: str) -> str:
    """ASCII Latin for a word in any script (rigour's tables; Han as pinyin syllables).

    Letters that have no ASCII counterpart (the Arabic ʿayn, which transliterators render
    as ``?`` or ``ʿ``) are dropped, since spellings of the same name differ on them.
    """
    if text.isascii():
        return text
    out = _piecewise_transliteration(text)
    if out is None:
        from rigour.text import ascii_text

        out = ascii_text(text)
    return out.replace("?", "").replace("ʿ", "").replace("ʾ", "")


_RUSSIAN = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")


def _is_han_ideograph(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff" or "\u3400" <= char <= "\u4dbf"


@lru_cache(maxsize=8192)
def _ascii_piece(piece: str) -> str:
    from rigour.text import ascii_text

    return str(ascii_text(piece))


def _piecewise_transliteration(text: str) -> str | None:
    """The transliteration of a Russian or Han word from cached pieces, or None for others.

    Transliterating a whole word costs about 0.1 ms per character, so names are put
    together from cached pieces where that gives exactly the same spelling: Han
    characters one by one (pinyin syllables, space-separated), Russian letters one by one
    except the last three, taken together (word endings such as "-ий" → "y" depend on
    context). Ukrainian, Belarusian, Kazakh, Serbian and Hangul words, whose spelling the
    transliterator chooses per word, take the whole-word path.
    """
    if all(c in _RUSSIAN for c in text):
        if len(text) <= 3:
            return _ascii_piece(text)
        return "".join(_ascii_piece(c) for c in text[:-3]) + _ascii_piece(text[-3:])
    if all(_is_han_ideograph(c) for c in text):
        return " ".join(_ascii_piece(c) for c in text)
    return None


@dataclass(frozen=True)
class FoldedText:
    """Text in gazetteer form, with the span of the original text behind each character.

    ``folded[i]`` comes from ``original[starts[i]:ends[i]]`` (a transliterated word maps
    each of its characters to the whole word).
    """

    original: str
    folded: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text behind ``folded[start:end]``."""
        if start >= end:
            raise ValueError("empty span")
        return self.starts[start], self.ends[end - 1]


def fold_text(text: str) -> FoldedText:
    """Fold running text into gazetteer form, keeping offsets into the original.

    Case folded, width and compatibility forms unified (NFKC), accents removed, words in
    Cyrillic, Greek, Arabic and other alphabets transliterated to ASCII, Han simplified,
    a possessive ``'s`` dropped, other apostrophes removed inside words, and every other
    run of punctuation or space (hyphens included) turned into one space. Han, Kana and
    Hangul runs are set apart from Latin words by a space.
    """
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []

    def emit(piece: str, start: int, end: int) -> None:
        for char in piece:
            if char == " " and (not out or out[-1] == " "):
                continue
            out.append(char)
            starts.append(start)
            ends.append(end)

    possessives = {m.start() for m in _POSSESSIVE.finditer(text)}
    i, n = 0, len(text)
    previous_class = "sep"
    while i < n:
        char = text[i]
        if i in possessives:
            i += 2  # the apostrophe and the "s"
            continue
        if _APOSTROPHES.match(char):
            i += 1
            continue
        folded = unicodedata.normalize("NFKC", char).casefold()
        cls = _char_class(folded[0]) if folded else "sep"
        if cls == "sep":
            emit(" ", i, i + 1)
            previous_class = "sep"
            i += 1
            continue
        if cls != previous_class and previous_class != "sep" and "cjk" in (cls, previous_class):
            emit(" ", i, i)
        if cls == "cjk":
            emit(_simplify_han(folded), i, i + 1)
        elif cls == "latin":
            emit(_strip_marks(folded), i, i + 1)
        else:
            j = i + 1
            while j < n and _char_class(
                (unicodedata.normalize("NFKC", text[j]).casefold() or " ")[0]
            ) in ("other",):
                j += 1
            word = unicodedata.normalize("NFKC", text[i:j]).casefold()
            emit(transliterate(word).lower(), i, j)
            i = j
            previous_class = "latin"
            continue
        previous_class = cls
        i += 1
    while out and out[-1] == " ":
        out.pop()
        starts.pop()
        ends.pop()
    return FoldedText(text, "".join(out), tuple(starts), tuple(ends))


# --------------------------------------------------------------------------- analysis


_EMPTY: frozenset[str] = frozenset()
_T = TypeVar("_T")


class _once(Generic[_T]):
    """A property worked out on first use and then kept on the instance (a lighter
    ``functools.cached_property``, which takes a lock on every first use)."""

    def __init__(self, function: Callable[[Any], _T]) -> None:
        self.function = function
        self.name = function.__name__
        self.__doc__ = function.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _once[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> _T | _once[_T]:
        if instance is None:
            return self
        value = self.function(instance)
        instance.__dict__[self.name] = value
        return value


@dataclass(frozen=True)
class AnalyzedName:
    """A name taken apart for matching, with the steps that explain the result.

    ``tokens`` are ASCII; legal forms appear as their code (``llc``); ``kinds`` says for
    each token whether it is an ordinary ``word``, a ``legal`` form, a ``particle`` or a
    ``number``; ``weights`` is how much each token counts in a comparison.
    """

    original: str
    schema: str
    group: str
    script: str | None
    tokens: tuple[str, ...]
    kinds: tuple[str, ...]
    weights: tuple[float, ...]
    legal_forms: tuple[tuple[str, str], ...]  # (as written, code)
    native: str | None  # folded native form of a name not written in Latin script
    steps: tuple[str, ...] = field(default=())
    core: tuple[str, ...] = field(default=(), compare=False)
    """The tokens that identify: words and numbers (no legal forms, no particles)."""

    def __post_init__(self) -> None:
        core = tuple(t for t, k in zip(self.tokens, self.kinds, strict=True) if k in (WORD, NUMBER))
        object.__setattr__(self, "core", core)

    # What comparisons need again and again, worked out once per analysis.

    @_once
    def phonetics(self) -> tuple[str | None, ...]:
        """The metaphone of each token."""
        return tuple(phonetic_key(t) for t in self.tokens)

    @_once
    def skeletons(self) -> tuple[str, ...]:
        """The consonant skeleton of each token."""
        return tuple(skeleton(t) for t in self.tokens)

    @_once
    def legal_mask(self) -> tuple[bool, ...]:
        """Whether each token is a legal form."""
        return tuple(k == LEGAL for k in self.kinds)

    @_once
    def identifying(self) -> tuple[bool, ...]:
        """Whether each token is a word or a number (not a legal form or a particle)."""
        return tuple(k in (WORD, NUMBER) for k in self.kinds)

    @_once
    def total_weight(self) -> float:
        """The summed weights of the tokens."""
        return sum(self.weights)

    @_once
    def numbers(self) -> frozenset[str]:
        """The number tokens."""
        if NUMBER not in self.kinds:
            return _EMPTY
        return frozenset(t for t, k in zip(self.tokens, self.kinds, strict=True) if k == NUMBER)

    @_once
    def legal_codes(self) -> frozenset[str]:
        """The codes of the legal forms."""
        if LEGAL not in self.kinds:
            return _EMPTY
        return frozenset(t for t, k in zip(self.tokens, self.kinds, strict=True) if k == LEGAL)

    @_once
    def sorted_core(self) -> list[str]:
        """The identifying tokens (all tokens when none identify) in sorted order."""
        return sorted(self.core or self.tokens)

    @_once
    def core_text(self) -> str:
        """The identifying tokens (all tokens when none identify) as one string."""
        return " ".join(self.core or self.tokens)

    @_once
    def initials(self) -> tuple[str, str, str]:
        """Initials of all tokens, of the identifying ones, and of all but particles."""
        return (
            "".join(t[0] for t in self.tokens if t),
            "".join(t[0] for t in self.core if t),
            "".join(t[0] for t, k in zip(self.tokens, self.kinds, strict=True) if k != PARTICLE),
        )

    @property
    def normalized(self) -> str:
        """The matching form as one string."""
        return " ".join(self.tokens)

    @_once
    def compact(self) -> str:
        """The core tokens run together ("xiao mi" → "xiaomi"), for syllable-split names."""
        return "".join(self.core) or "".join(self.tokens)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "original": self.original,
            "schema": self.schema,
            "script": self.script,
            "normalized": self.normalized,
            "tokens": list(self.tokens),
            "kinds": list(self.kinds),
            "legal_forms": [{"text": t, "code": c} for t, c in self.legal_forms],
            "native": self.native,
            "steps": list(self.steps),
        }


_ASCII_LETTER = re.compile("[A-Za-z]")


def _detect_script(name: str) -> str | None:
    if name.isascii():
        return "Latn" if _ASCII_LETTER.search(name) else None
    from listwatch.registry.names import detect_script

    return detect_script(name)


def _cut_cjk_suffixes(text: str) -> tuple[str, list[tuple[str, LegalForm]]]:
    """Cut legal-form suffixes off a Han/Kana/Hangul name written without spaces."""
    found: list[tuple[str, LegalForm]] = []
    changed = True
    while changed:
        changed = False
        stripped = text.rstrip()
        for spelling, form in _tables().suffixes:
            if stripped.endswith(spelling) and len(stripped) > len(spelling):
                head = stripped[: -len(spelling)]
                if not _is_cjk(head[-1]) and head[-1] not in " )）":
                    continue
                found.insert(0, (spelling, form))
                text = head
                changed = True
                break
    # Korean and Japanese names also put the form first: ㈜삼성 / 株式会社ソニー.
    for spelling, form in _tables().suffixes:
        if text.startswith(spelling) and len(text) > len(spelling) and _is_cjk(text[len(spelling)]):
            found.insert(0, (spelling, form))
            text = text[len(spelling) :]
            break
    return text, found


def _merge_single_letters(tokens: list[str]) -> tuple[list[str], dict[str, str]]:
    """Join runs of one-letter tokens ("a s" → "as", "s p a" → "spa") in organisation names.

    Also returns, for each joined token, the letters as they were written ("as" → "a s").
    """
    merged: list[str] = []
    written: dict[str, str] = {}
    if all(len(token) != 1 for token in tokens):
        return tokens, written
    run: list[str] = []
    for token in [*tokens, ""]:
        if len(token) == 1 and token.isalpha():
            run.append(token)
            continue
        if len(run) > 1:
            written["".join(run)] = " ".join(run)
        if run:
            merged.append("".join(run))
            run = []
        if token:
            merged.append(token)
    return merged, written


def _split_arabic_article(tokens: list[str]) -> list[str]:
    """Set the article "al" apart in transliterated Arabic ("alsmd" → "al smd")."""
    out: list[str] = []
    for token in tokens:
        if token.startswith("bdal") and len(token) > 6:  # عبدال...: "Abd al-" written joined
            out.extend(("bd", "al", token[4:]))
        elif token.startswith("al") and len(token) > 4:
            out.extend(("al", token[2:]))
        else:
            out.append(token)
    return out


def _match_latin_forms(tokens: list[str]) -> dict[int, tuple[int, str, str, float]]:
    """Legal forms among the tokens: start index → (length, as written, code, weight).

    rigour's table (ISO 20275) is tried first, then ``legal_forms.yaml``; where both match
    overlapping tokens the first found wins, so "co ltd" is one form, not "co" and "ltd".
    """
    found: dict[int, tuple[int, str, str, float]] = {}
    tables = _tables()
    covered: set[int] = set()
    joined = " ".join(tokens)
    for matched, code in _rigour_names().extract_org_types(joined):
        if matched in tables.rigour_ignore:
            continue
        parts = matched.split()
        size = len(parts)
        for start in range(len(tokens) - size + 1):
            if tokens[start : start + size] != parts or not covered.isdisjoint(
                range(start, start + size)
            ):
                continue
            found[start] = (size, matched, _generic_code(matched, code), tables.rigour_weight)
            covered.update(range(start, start + size))
            break
    i = 0
    while i < len(tokens):
        if tokens[i] in tables.latin_first:
            for size in range(min(tables.latin_max, len(tokens) - i), 0, -1):
                form = tables.latin.get(tuple(tokens[i : i + size]))
                if form is not None and covered.isdisjoint(range(i, i + size)):
                    found[i] = (size, " ".join(tokens[i : i + size]), form.code, form.weight)
                    covered.update(range(i, i + size))
                    i += size - 1
                    break
        i += 1
    return found


@lru_cache(maxsize=4096)
def _generic_code(matched: str, code: str) -> str:
    """rigour's generic code of a legal form ("gmbh" → "llc"), or its specific code."""
    generic = _rigour_names().extract_org_types(matched, generic=True)
    return str(generic[0][1]) if generic else code


@lru_cache(maxsize=200_000)
def analyze_name(name: str, schema: str = "Company") -> AnalyzedName:
    """Take a name apart for matching: tokens, legal forms, particles and the steps taken.

    ``schema`` is a FollowTheMoney schema name (``Company``, ``Person``, ``Vessel`` ...) or
    ``any``; legal forms are recognised in organisation names (and in ``any``), particles
    ("bin", "al", "van") in personal names.
    """
    group = schema_group(schema)
    steps: list[str] = []
    text = unicodedata.normalize("NFKC", name).strip()
    if text != name.strip():
        steps.append("unified character widths and compatibility forms (NFKC)")
    script = _detect_script(text)
    text = text.casefold()
    legal: list[tuple[str, str]] = []
    weights_of_cut: list[tuple[str, float]] = []
    native: str | None = None
    if script is not None and script != "Latn":
        native = fold_text(text).folded
    if not text.isascii() and any(_is_cjk(c) for c in text):
        simplified = _simplify_han(text)
        if simplified != text:
            steps.append("converted traditional Han characters to simplified")
            text = simplified
        if group != "person":
            text, cut = _cut_cjk_suffixes(text)
            for spelling, form in cut:
                legal.append((spelling, form.code))
                weights_of_cut.append((form.code, form.weight))
                steps.append(f"legal form {spelling!r} → {form.code}")
    text = _POSSESSIVE.sub("", text)
    text = _APOSTROPHES.sub("", text)
    raw_tokens = [_strip_marks(t) for t in _rigour_names().tokenize_name(text)]
    tokens: list[str] = []
    transliterated = False
    for token in raw_tokens:
        if token.isascii():
            tokens.extend(token.split())
            continue
        latin = transliterate(token).lower()
        transliterated = True
        tokens.extend(t for t in re.split(r"[^0-9a-z]+", latin) if t)
    if transliterated and script:
        steps.append(f"transliterated {script} script to Latin")
    if transliterated and script == "Arab":
        tokens = _split_arabic_article(tokens)
    spelled: dict[str, str] = {}
    if group in ("org", "any"):
        merged, spelled = _merge_single_letters(tokens)
        if merged != tokens:
            steps.append("joined single letters (" + ", ".join(spelled.values()) + ")")
            tokens = merged
    out_tokens: list[str] = []
    kinds: list[str] = []
    weights: list[float] = []
    forms = _match_latin_forms(tokens) if group in ("org", "any") else {}
    tables = _tables()
    particles = tables.person_particles if group == "person" else tables.org_particles
    abbreviations = tables.abbreviations if group in ("org", "any") else {}
    i = 0
    while i < len(tokens):
        if i in forms:
            size, written, code, weight = forms[i]
            out_tokens.append(code)
            kinds.append(LEGAL)
            weights.append(weight)
            written = " ".join(spelled.get(t, t) for t in written.split())
            legal.append((written, code))
            steps.append(f"legal form {written!r} → {code}")
            i += size
            continue
        token = tokens[i]
        if token in abbreviations:
            steps.append(f"abbreviation {token!r} → {abbreviations[token]}")
            token = abbreviations[token]
        out_tokens.append(token)
        if token.isdigit() or (token[0].isdigit() and any(c.isdigit() for c in token)):
            kinds.append(NUMBER)
            weights.append(1.0)
        elif token in particles:
            kinds.append(PARTICLE)
            weights.append(PARTICLE_WEIGHT)
        else:
            kinds.append(WORD)
            weights.append(1.0)
        i += 1
    for code, weight in weights_of_cut:
        out_tokens.append(code)
        kinds.append(LEGAL)
        weights.append(weight)
    if out_tokens and all(k == LEGAL for k in kinds):
        # A name made only of legal forms ("Joint Stock Company") is all it has: count it.
        kinds = [WORD] * len(out_tokens)
        weights = [1.0] * len(out_tokens)
    return AnalyzedName(
        original=name,
        schema=schema,
        group=group,
        script=script,
        tokens=tuple(out_tokens),
        kinds=tuple(kinds),
        weights=tuple(weights),
        legal_forms=tuple(legal),
        native=native,
        steps=tuple(steps),
    )


def normalize_name(name: str, schema: str = "Company") -> str:
    """The matching form of a name: ASCII tokens, legal forms as codes, one space apart.

    ``normalize_name("SZ DJI Technology Co., Ltd.")`` → ``"sz dji technology llc"``;
    ``normalize_name("Хуавей")`` → ``"huavei"``; ``normalize_name("小米集团")`` →
    ``"xiao mi group"``. Stable: the same input always gives the same key.
    """
    return analyze_name(name, schema).normalized


def name_tokens(name: str, schema: str = "Company") -> tuple[str, ...]:
    """The identifying tokens of a name (no legal forms, no particles), in ASCII."""
    analyzed = analyze_name(name, schema)
    return analyzed.core or analyzed.tokens


def _strip_forms_from_folded(folded: str, analyzed: AnalyzedName) -> str:
    """The gazetteer form without the legal forms recognised by :func:`analyze_name`."""
    text = folded
    for written, _code in analyzed.legal_forms:
        key = fold_text(written).folded
        if not key:
            continue
        if any(_is_cjk(c) for c in key):
            if text.endswith(key):
                text = text[: -len(key)].rstrip()
            elif text.startswith(key):
                text = text[len(key) :].lstrip()
            continue
        words = text.split(" ")
        form_words = key.split(" ")
        for start in range(len(words) - len(form_words), -1, -1):
            if words[start : start + len(form_words)] == form_words:
                words = words[:start] + words[start + len(form_words) :]
                break
        else:
            # "A.E." folds to "a e" where the analysis read "ae": compare joined letters.
            merged, _spelled = _merge_single_letters(words)
            joined = "".join(form_words)
            if joined in merged:
                merged.remove(joined)
                words = merged
        text = " ".join(words)
    return text.strip()


def name_keys(name: str, schema: str = "Company") -> frozenset[str]:
    """Keys under which a name is found in text folded by :func:`fold_text`.

    The folded full name, and for organisations the folded name without its legal forms
    ("Xiaomi Corporation" → ``xiaomi corporation``, ``xiaomi``; "小米集团" → ``小米集团``,
    ``小米``). A key left with only particles or a single character is not returned, so a
    gazetteer does not fire on "AO" or "的". Keys of non-Latin names are in their script
    when it is Han, Kana or Hangul, and transliterated otherwise (Газпром → ``gazprom``).
    """
    analyzed = analyze_name(name, schema)
    full = fold_text(name).folded
    keys = {full}
    if analyzed.group in ("org", "any") and analyzed.legal_forms:
        keys.add(_strip_forms_from_folded(full, analyzed))
    tables = _tables()
    good = set()
    for key in keys:
        words = key.split()
        if not words:
            continue
        meaningful = [w for w in words if w not in tables.org_particles]
        if not meaningful:
            continue
        if len(key) < 2 or (len(key) < 2 and not any(_is_cjk(c) for c in key)):
            continue
        good.add(key)
    return frozenset(good)


@lru_cache(maxsize=200_000)
def phonetic_key(token: str) -> str | None:
    """The metaphone of an ASCII token, or None for numbers and one-letter tokens."""
    if len(token) < 2 or not token.isalpha():
        return None
    return _metaphone()(token) or None


@cache
def _rigour_names() -> Any:
    """rigour's name functions (imported on first use: the import takes a fifth of a second)."""
    import rigour.names

    return rigour.names


@cache
def _metaphone() -> Any:
    from rigour.text import metaphone

    return metaphone


@lru_cache(maxsize=200_000)
def skeleton(token: str) -> str:
    """A token without vowels and doubled letters: how Arabic-script spellings line up.

    Arabic and Persian script omit short vowels, so "عبد الصمد" transliterates to
    ``bd alsmd`` while Latin lists write "ABDUL SAMAD"; both skeletons start ``bd``.
    """
    out: list[str] = []
    for char in token:
        if char in "aeiouy":
            continue
        if out and out[-1] == char:
            continue
        out.append(char)
    return "".join(out)


# Transliteration variants that loose skeletons fold, in order (the compiled scorer reads
# the same table).
LOOSE_FOLDS = (
    ("kh", "h"),
    ("ch", "h"),
    ("sh", "h"),
    ("zh", "h"),
    ("ts", "c"),
    ("ck", "k"),
    ("c", "k"),
    ("q", "k"),
    ("ph", "f"),
    ("w", "v"),
    ("j", "y"),
    ("x", "ks"),
)


def loose_skeleton(token: str) -> str:
    """Consonants of a token after folding transliteration variants (kh/ch/h, ts/c/k, w/v):
    "tekhnodron" and "technodron" both give ``thndrn``."""
    for source, target in LOOSE_FOLDS:
        token = token.replace(source, target)
    return skeleton(token)


def tokens_of_many(names: Iterable[str], schema: str = "Company") -> set[str]:
    """All identifying tokens of several names (for building vocabularies)."""
    found: set[str] = set()
    for name in names:
        found.update(name_tokens(name, schema))
    return found


_KIND_CODES = {WORD: "w", LEGAL: "l", PARTICLE: "p", NUMBER: "n"}
_CODE_KINDS = {v: k for k, v in _KIND_CODES.items()}


def name_shape(name: AnalyzedName) -> str:
    """A compact code of what a comparison needs beyond the tokens: whether the name was
    written in another script, and each token's kind ("l" + "wwl" → Latin, word word legal)."""
    return ("n" if name.native else "l") + "".join(_KIND_CODES[k] for k in name.kinds)


def phonetic_form(tokens: tuple[str, ...]) -> str:
    """The metaphones a comparison asks for, as one string: of each token, then of each
    pair of neighbouring tokens run together ("xiao mi" → "xiaomi"), one space apart and
    empty where there is none. Stored in the screening index beside the matching form."""
    own = [phonetic_key(t) or "" for t in tokens]
    # pairs run together are seldom met again: not worth a place in phonetic_key's cache
    compute = phonetic_key.__wrapped__
    pairs = [compute(a + b) or "" for a, b in itertools.pairwise(tokens)]
    return " ".join(own + pairs)


def restore_analysis(
    original: str, schema: str, form: str, shape: str, native: str | None = None
) -> AnalyzedName:
    """Rebuild an analysis from its stored matching form, shape and native form, without
    re-running the normalisation (for scoring candidates from the index). Steps and
    legal-form spellings are not kept: :func:`analyze_name` gives them when a hit is
    explained. Without ``native``, a name written in another script gets ``"?"``."""
    tokens = tuple(form.split(" ")) if form else ()
    kinds = tuple(_CODE_KINDS[c] for c in shape[1:])
    if len(kinds) != len(tokens):
        return analyze_name(original, schema)
    weights = tuple(
        legal_form_weight(t) if k == LEGAL else PARTICLE_WEIGHT if k == PARTICLE else 1.0
        for t, k in zip(tokens, kinds, strict=True)
    )
    return AnalyzedName(
        original=original,
        schema=schema,
        group=schema_group(schema),
        script=None,
        tokens=tokens,
        kinds=kinds,
        weights=weights,
        legal_forms=(),
        native=(native or "?") if shape[:1] == "n" else None,
    )
