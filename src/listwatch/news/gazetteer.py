"""Entity mentions: every registry name and alias, found in text with Aho-Corasick.

Names and text are compared in the screening area's gazetteer form
(:func:`listwatch.screening.normalize.fold_text` for the text,
:func:`~listwatch.screening.normalize.name_keys` for the names): case, accents,
punctuation ("Co., Ltd." / "Co Ltd"), possessives ("Xiaomi's"), hyphenated compounds
("Xiaomi-aktien", "DJI-woordvoerder"), other scripts and traditional Han characters do not
matter, and a name is also found without its legal form. A Latin match must start and end
on word boundaries, or end inside a word whose rest is a genitive ending ("Xiaomis"); Han
names match anywhere inside Han text. One-word Latin names must be capitalised in the text
as in the registry (so an alias that is also an ordinary word does not fire), and acronyms
must be written in capitals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from listwatch.news.textfold import fold, has_han
from listwatch.screening.normalize import fold_text, name_keys

#: Letters of scripts that the gazetteer form transliterates (Cyrillic, Greek, Arabic ...).
_OTHER_SCRIPT = re.compile(r"[\u0370-\u1dff\u2c00-\u2dff\ua640-\ua6ff\uac00-\ud7af\u3040-\u30ff]")

_NON_WORD = re.compile(r"[\W_]+")


def _head(key: str) -> str:
    """The start of a key that the quick test looks for: long enough to be selective."""
    if has_han(key[0]):
        return key[:2]
    words = key.split(" ")
    head = words[0]
    for word in words[1:]:
        if len(head) >= 4:
            break
        head += " " + word
    return head


#: What may follow a name inside the same word: genitive endings of Germanic languages.
POSSESSIVE_SUFFIXES = frozenset({"s", "es"})


@dataclass(frozen=True)
class Mention:
    """A name of a registry entity found in a text."""

    start: int
    end: int
    text: str
    entity_ids: tuple[str, ...]
    name: str  # the registry name that matched


@dataclass(frozen=True)
class _Entry:
    key: str
    name: str
    entity_ids: tuple[str, ...]
    case: str | None  # "initial": capitalised; "caps": all capitals; None: any


def name_variants(name: str, schema: str = "Company") -> set[str]:
    """The keys under which a registry name is looked for in folded text."""
    try:
        keys = name_keys(name, schema)
    except (ValueError, TypeError):
        return set()
    return {key for key in keys if _usable(key)}


def _usable(key: str) -> bool:
    if not key:
        return False
    if has_han(key):
        return len(key.replace(" ", "")) >= 2
    return len(key) >= 3 or " " in key


def _case_rule(name: str, key: str) -> str | None:
    if " " in key or has_han(name):
        return None
    letters = [c for c in name if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters) and len(letters) <= 3:
        return "caps"  # a short acronym (DJI, ZTE) is written in capitals; IKEA may be "Ikea"
    if letters and letters[0].isupper():
        return "initial"
    return None


class Gazetteer:
    """An Aho-Corasick automaton over the registry's names."""

    def __init__(self, names: Iterable[tuple[str, str] | tuple[str, str, str]]) -> None:
        import ahocorasick

        by_key: dict[str, tuple[str, set[str], str | None]] = {}
        for item in names:
            entity_id, name = item[0], item[1]
            schema = item[2] if len(item) > 2 else "Company"
            for key in name_variants(name, schema):
                rule = _case_rule(name, key)
                if key in by_key:
                    first_name, ids, old_rule = by_key[key]
                    ids.add(entity_id)
                    if old_rule != rule:
                        rule = "initial" if "initial" in (old_rule, rule) else None
                    by_key[key] = (first_name, ids, rule)
                else:
                    by_key[key] = (name, {entity_id}, rule)
        self._entries: list[_Entry] = []
        self._automaton = ahocorasick.Automaton()
        self._prefilter = ahocorasick.Automaton()
        heads: set[str] = set()
        for key, (name, ids, rule) in by_key.items():
            self._automaton.add_word(key, len(self._entries))
            self._entries.append(_Entry(key, name, tuple(sorted(ids)), rule))
            heads.add(_head(key))
        for head in heads:
            self._prefilter.add_word(head, head)
        if self._entries:
            self._automaton.make_automaton()
            self._prefilter.make_automaton()

    def __len__(self) -> int:
        return len(self._entries)

    def _may_mention(self, text: str, folded: str | None = None) -> bool:
        """A cheap test that can only say no when no name can be in ``text``.

        The gazetteer form is costly to compute; most paragraphs mention no registry name,
        and none of the first words of the names appears in them even as a substring.
        """
        if _OTHER_SCRIPT.search(text):
            return True  # transliterated scripts: let the full normalisation decide
        quick = fold(text) if folded is None else folded
        quick = _NON_WORD.sub(" ", quick.replace("'", "").replace("ß", "ss"))
        return any(True for _ in self._prefilter.iter(quick))

    @classmethod
    def from_session(cls, session: object) -> Gazetteer:
        """A gazetteer of every name of every entity that is not a rejected proposal."""
        from sqlalchemy import select
        from sqlalchemy.orm import Session

        from listwatch.registry.entities import canonical_map
        from listwatch.registry.models import Entity, EntityName

        assert isinstance(session, Session)
        mapping = canonical_map(session)
        rows = session.execute(
            select(Entity.id, Entity.name, Entity.schema).where(Entity.review_state != "rejected")
        ).all()
        schemas = {r[0]: r[2] for r in rows}
        names: list[tuple[str, str, str]] = [(mapping.get(r[0], r[0]), r[1], r[2]) for r in rows]
        alias_rows = session.execute(
            select(EntityName.entity_id, EntityName.name)
            .join(Entity, Entity.id == EntityName.entity_id)
            .where(Entity.review_state != "rejected")
        ).all()
        names += [(mapping.get(r[0], r[0]), r[1], schemas.get(r[0], "Company")) for r in alias_rows]
        return cls(names)

    def find(self, text: str, folded_hint: str | None = None) -> list[Mention]:
        """Every mention in ``text``, longest first where they overlap, in text order.

        ``folded_hint`` is ``textfold.fold(text)`` when the caller has it already.
        """
        if not self._entries or not self._may_mention(text, folded_hint):
            return []
        folded = fold_text(text)
        joined = folded.folded
        size = len(joined)
        candidates: list[tuple[int, int, _Entry]] = []
        for end_index, entry_index in self._automaton.iter(joined):
            entry = self._entries[entry_index]
            begin = end_index - len(entry.key) + 1
            stop = end_index + 1
            if not has_han(entry.key[0]):
                if begin > 0 and joined[begin - 1] != " ":
                    continue
                if stop < size and joined[stop] != " ":
                    word_end = joined.find(" ", stop)
                    rest = joined[stop : size if word_end < 0 else word_end]
                    if rest not in POSSESSIVE_SUFFIXES:
                        continue
            start, end = folded.span(begin, stop)
            surface = text[start:end]
            if entry.case == "caps" and not surface.isupper():
                continue
            if entry.case == "initial" and not surface[:1].isupper():
                continue
            candidates.append((start, end, entry))
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        chosen: list[tuple[int, int, _Entry]] = []
        for candidate in candidates:
            if all(candidate[1] <= c[0] or candidate[0] >= c[1] for c in chosen):
                chosen.append(candidate)
        chosen.sort(key=lambda c: c[0])
        return [Mention(s, e, text[s:e], entry.entity_ids, entry.name) for s, e, entry in chosen]
