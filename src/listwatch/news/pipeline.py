"""From one article to its events: clean, identify the language, split, find mentions,
extract per sentence, date, and merge what the article says about each entity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from listwatch.news.clean import Block, classify_blocks
from listwatch.news.dates import TemporalMention, find_temporal
from listwatch.news.documents import NewsDocument
from listwatch.news.extract import (
    DOCUMENT_LIST_FACTOR,
    NO_LIST_FACTOR,
    SentenceContext,
    SentenceEvent,
    sentence_events,
)
from listwatch.news.gazetteer import Gazetteer, Mention
from listwatch.news.langid import MIN_BLOCK_LETTERS, UnsupportedLanguageError, detect
from listwatch.news.langpack import (
    LanguagePack,
    all_packs,
    canonical_code,
    load_pack,
    supported_languages,
)
from listwatch.news.lists import ListFinder, ListRef, PlaceFinder, dominant_list
from listwatch.news.sentences import split_sentences
from listwatch.news.textfold import fold, name_key
from listwatch.registry.domain import STATUS_KINDS, EventKind

#: Events below this confidence are not reported (hedged statements fall below it).
DEFAULT_MIN_CONFIDENCE = 0.5
TITLE_WEIGHT = 1.5


@dataclass
class EvidenceItem:
    """One sentence that supports an event."""

    start: int
    end: int
    text: str
    confidence: float
    trigger: str
    date: TemporalMention | None
    date_source: str | None
    cues: list[str]


@dataclass
class ExtractedEvent:
    """What one article says happened to one entity (merged over its sentences)."""

    doc: str
    kind: EventKind
    entity_id: str | None
    entity: str
    mention: str
    list_id: str | None
    countries: list[str]
    date: TemporalMention | None
    date_source: str | None
    confidence: float
    language: str
    evidence: list[EvidenceItem]
    hedged: bool
    new_entity: bool
    conflict: dict[str, Any] | None = None
    published: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The fields of the evaluation files, plus what explains the event."""
        best = self.evidence[0]
        return {
            "doc": self.doc,
            "entity": self.entity,
            "entity_id": self.entity_id,
            "mention": self.mention,
            "new_entity": self.new_entity,
            "kind": self.kind.value,
            "list": self.list_id,
            "countries": self.countries,
            "date_text": self.date.text if self.date else None,
            "date": str(self.date.date) if self.date and self.date.date else None,
            "date_precision": (
                self.date.date.precision.value if self.date and self.date.date else None
            ),
            "date_source": self.date_source,
            "published": self.published,
            "evidence": best.text,
            "evidence_spans": [
                {
                    "start": e.start,
                    "end": e.end,
                    "text": e.text,
                    "trigger": e.trigger,
                    "cues": e.cues,
                }
                for e in self.evidence
            ],
            "confidence": self.confidence,
            "hedged": self.hedged,
            "language": self.language,
            "conflict": self.conflict,
        }


@dataclass
class DocumentResult:
    """Everything extraction found in one document."""

    document: NewsDocument
    language: str
    text: str
    blocks: list[Block]
    mentions: list[Mention]
    events: list[ExtractedEvent]
    sentence_events: list[SentenceEvent] = field(default_factory=list)


class NewsPipeline:
    """The extraction pipeline, holding the registry knowledge it needs (names, list names)."""

    def __init__(
        self,
        gazetteer: Gazetteer,
        entity_names: Mapping[str, str],
        list_names: Mapping[str, Mapping[str, Sequence[str]]],
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    ) -> None:
        self.gazetteer = gazetteer
        self.entity_names = dict(entity_names)
        self.list_names = {lang: dict(names) for lang, names in list_names.items()}
        self.min_confidence = min_confidence
        self._finders: dict[str, tuple[ListFinder, PlaceFinder]] = {}

    @classmethod
    def from_session(cls, session: Any, **kwargs: Any) -> NewsPipeline:
        """A pipeline over the registry's entities and list names."""
        from sqlalchemy import select

        from listwatch.registry.models import Entity, ListName

        names = {row[0]: row[1] for row in session.execute(select(Entity.id, Entity.name))}
        list_names: dict[str, dict[str, list[str]]] = {}
        for list_id, lang, name in session.execute(
            select(ListName.list_id, ListName.lang, ListName.name)
        ):
            code = canonical_code(lang)
            list_names.setdefault(code, {}).setdefault(list_id, []).append(name)
        return cls(Gazetteer.from_session(session), names, list_names, **kwargs)

    def finders(self, pack: LanguagePack) -> tuple[ListFinder, PlaceFinder]:
        """List and place finders for one language (built once)."""
        if pack.code not in self._finders:
            names: dict[str, list[str]] = {}
            for lang in {pack.code, "en"}:
                for list_id, values in self.list_names.get(lang, {}).items():
                    names.setdefault(list_id, []).extend(values)
            self._finders[pack.code] = (ListFinder(pack, names), PlaceFinder(pack))
        return self._finders[pack.code]

    def language_of(self, document: NewsDocument, text: str) -> str:
        """The document's language: given by its source, else detected."""
        if document.language:
            code = canonical_code(document.language)
            if code in supported_languages():
                return code
            raise UnsupportedLanguageError(
                f"{document.name}: language {document.language!r} is not supported "
                f"(supported: {', '.join(supported_languages())})"
            )
        detection = detect(text)
        if detection is None:
            raise UnsupportedLanguageError(f"{document.name}: too little text to tell its language")
        if detection.code is None:
            raise UnsupportedLanguageError(
                f"{document.name}: the text is in {detection.name}, which is not supported "
                f"(supported: {', '.join(supported_languages())})"
            )
        return detection.code

    def process(self, document: NewsDocument) -> DocumentResult:
        """Extract the events of one document."""
        text = document.text
        language = self.language_of(document, text)
        pack = load_pack(language)
        noise_packs = [pack] if pack.code == "en" else [pack, load_pack("en")]
        blocks = classify_blocks(text, noise_packs)
        kept = [b for b in blocks if b.kept]
        finder, _places = self.finders(pack)

        block_mentions: dict[int, list[Mention]] = {}
        weighted_refs: list[tuple[ListRef, float]] = []
        folded_blocks: dict[int, str] = {}
        noun_blocks: set[int] = set()
        for position, block in enumerate(kept):
            folded = fold(block.text)
            folded_blocks[block.index] = folded
            mentions = self.gazetteer.find(block.text, folded)
            block_mentions[block.index] = mentions
            weight = TITLE_WEIGHT if position == 0 else 1.0
            has_noun = pack.has_list_noun(folded)
            if has_noun:
                noun_blocks.add(block.index)
            if mentions or has_noun:
                weighted_refs += [(ref, weight) for ref in finder.find(folded)]

        all_events: list[SentenceEvent] = []
        all_mentions: list[Mention] = []
        antecedent: Mention | None = None
        last_date: TemporalMention | None = None
        for block in kept:
            mentions = block_mentions[block.index]
            folded = folded_blocks[block.index]
            all_mentions += [_shift(m, block.start) for m in mentions]
            if not mentions and block.index not in noun_blocks:
                continue
            block_pack = self._block_pack(block, pack, folded)
            lists, places = self.finders(block_pack)
            ctx = SentenceContext(block_pack, lists, places, None, document.published, antecedent)
            previous: tuple[str, str, bool] | None = None
            for s_start, s_end in split_sentences(block.text, block_pack):
                s_text = block.text[s_start:s_end]
                s_folded = folded[s_start:s_end]
                inside = [
                    Mention(m.start - s_start, m.end - s_start, m.text, m.entity_ids, m.name)
                    for m in mentions
                    if s_start <= m.start and m.end <= s_end
                ]
                ctx.antecedent = antecedent
                events = sentence_events(s_text, s_folded, block.start + s_start, inside, ctx)
                if inside:
                    antecedent = inside[-1]
                events = [e for e in events if not e.negated]
                if previous is not None and not previous[2]:
                    undated = [
                        e for e in events if e.date is None and e.kind is not EventKind.LISTED
                    ]
                    if undated:
                        donor = _context_date(previous[0], previous[1], ctx)
                        for event in undated:
                            if donor is not None:
                                event.date = donor
                                event.date_source = "context"
                for event in events:
                    date = event.date
                    if (
                        date is not None
                        and date.type == "same_day"
                        and date.date is None
                        and last_date is not None
                    ):
                        event.date = replace(date, date=last_date.date, method="anaphora")
                    if event.date is not None and event.date.date is not None:
                        last_date = event.date
                all_events += events
                previous = (s_text, s_folded, bool(events))
        self._settle_document_list(all_events, weighted_refs)
        merged = self._merge(document, language, all_events)
        return DocumentResult(document, language, text, blocks, all_mentions, merged, all_events)

    @staticmethod
    def _settle_document_list(
        events: list[SentenceEvent], refs: list[tuple[ListRef, float]]
    ) -> None:
        """Give events that refer to "the list" the article's main list.

        The main list is the one the article's own statements name most (each sentence
        that states an event about a named list counts), then the one its text names most;
        a list named only in a denial or a comparison does not outweigh them.
        """
        stated: dict[int, str] = {}
        for event in events:
            if event.list_source == "sentence" and event.list_id and not event.negated:
                stated[event.start] = event.list_id
        weighted = [(ListRef(0, 0, list_id, "name"), 1.0) for list_id in stated.values()]
        weighted += [(ref, weight * 0.5) for ref, weight in refs]
        main = dominant_list(weighted)
        for event in events:
            if event.list_source != "document":
                continue
            event.list_id = main
            if main is None:
                event.list_source = None
                event.confidence = round(
                    event.confidence / DOCUMENT_LIST_FACTOR * NO_LIST_FACTOR, 3
                )

    def _block_pack(self, block: Block, pack: LanguagePack, folded: str) -> LanguagePack:
        letters = sum(ch.isalpha() for ch in block.text)
        if letters < MIN_BLOCK_LETTERS or pack.code in _function_word_languages(folded):
            return pack
        detection = detect(block.text, supported_only=True)
        if detection is None or detection.code is None or detection.code == pack.code:
            return pack
        if detection.confidence < 0.6:
            return pack
        return load_pack(detection.code)

    def _merge(
        self, document: NewsDocument, language: str, events: list[SentenceEvent]
    ) -> list[ExtractedEvent]:
        groups: dict[tuple[str, EventKind, str | None], list[SentenceEvent]] = {}
        for event in events:
            subject = (
                event.entity_ids[0]
                if event.entity_ids
                else "new:" + name_key(event.new_entity or "")
            )
            groups.setdefault((subject, event.kind, event.list_id), []).append(event)
        merged: list[ExtractedEvent] = []
        for (subject, kind, list_id), members in groups.items():
            members.sort(key=lambda e: (-e.confidence, e.start))
            confidence = members[0].confidence
            if confidence < self.min_confidence:
                continue
            dated = [
                e for e in members if e.date is not None and e.confidence >= self.min_confidence
            ]
            dated.sort(key=lambda e: (-e.confidence, e.date_source != "sentence", e.start))
            chosen = dated[0] if dated else None
            countries = sorted({c for e in members for c in e.countries})
            first = min(members, key=lambda e: e.mention_start)
            entity_id = None if subject.startswith("new:") else subject
            evidence = [
                EvidenceItem(
                    e.start,
                    e.end,
                    e.sentence,
                    e.confidence,
                    e.trigger,
                    e.date,
                    e.date_source,
                    e.cues,
                )
                for e in members
            ]
            unique: dict[int, EvidenceItem] = {}
            for item in evidence:
                unique.setdefault(item.start, item)
            merged.append(
                ExtractedEvent(
                    doc=document.name,
                    kind=kind,
                    entity_id=entity_id,
                    entity=self.entity_names.get(entity_id, first.mention)
                    if entity_id
                    else (first.new_entity or first.mention),
                    mention=first.mention,
                    list_id=list_id,
                    countries=countries,
                    date=chosen.date if chosen else None,
                    date_source=chosen.date_source if chosen else None,
                    confidence=confidence,
                    language=members[0].language,
                    evidence=list(unique.values()),
                    hedged=all(e.hedged for e in members),
                    new_entity=entity_id is None,
                    published=str(document.published) if document.published else None,
                )
            )
        changed = {
            (e.entity_id or e.entity, e.list_id)
            for e in merged
            if e.kind in STATUS_KINDS and e.kind is not EventKind.LISTED
        }
        merged = [
            e
            for e in merged
            if not (e.kind is EventKind.LISTED and (e.entity_id or e.entity, e.list_id) in changed)
        ]
        merged.sort(key=lambda e: (e.evidence[0].start, e.kind.value))
        return merged


_WORD = re.compile(r"\w+")
#: Running text in a supported language has at least one word in this many among its
#: language's commonest function words.
FUNCTION_WORD_SHARE = 12


def _function_word_languages(folded: str) -> set[str]:
    """The languages whose common function words a block uses most (a quick check that
    spares language identification for blocks plainly in the document's language)."""
    words = _WORD.findall(folded)
    if not words:
        return set()
    han = sum(1 for ch in folded if "\u4e00" <= ch <= "\u9fff")
    if han * 3 >= len(folded):
        return {"zh"}
    counts = {
        pack.code: sum(1 for word in words if word in pack.common_words)
        for pack in all_packs()
        if pack.spaced
    }
    best = max(counts.values())
    if best < 2 or best * FUNCTION_WORD_SHARE < len(words):
        return set()
    return {code for code, count in counts.items() if count == best}


def _shift(mention: Mention, offset: int) -> Mention:
    return Mention(
        mention.start + offset, mention.end + offset, mention.text, mention.entity_ids, mention.name
    )


def _context_date(text: str, folded: str, ctx: SentenceContext) -> TemporalMention | None:
    """The date a neighbouring sentence gives (an event's own sentence may not date it)."""
    usable = [
        t for t in find_temporal(text, ctx.pack, ctx.published, folded=folded) if t.marker is None
    ]
    return usable[-1] if usable else None
