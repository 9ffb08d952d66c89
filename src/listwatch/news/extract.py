"""Event extraction from one sentence, and the merge of a document's sentence events.

A sentence states an event when a trigger phrase of the language file matches and an
entity is mentioned in the same clause. Around the trigger the sentence says which list
(a list name, an authority cue, or a bare list noun that means the article's main list),
whether it is negated ("ontkende", "not") or hedged ("could", "zou"), whether it is
temporary ("voorlopig": a temporary removal is a suspension), which countries (for a
market exit) or exchange (for a delisting), and when. Everything is explainable: each
event keeps its trigger phrase, sentence and cues.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from listwatch.news.dates import TemporalMention, find_temporal
from listwatch.news.gazetteer import Mention
from listwatch.news.langpack import LanguagePack, Trigger
from listwatch.news.lists import ListFinder, ListRef, PlaceFinder
from listwatch.news.textfold import fold
from listwatch.registry.domain import EventKind, PartialDate

#: Kinds that are about a list; the others (market exits, delistings from an exchange) are not.
LIST_KINDS = frozenset(
    {
        EventKind.DESIGNATED,
        EventKind.SUSPENDED,
        EventKind.REMOVED,
        EventKind.REINSTATED,
        EventKind.LISTED,
        EventKind.LAWSUIT_FILED,
        EventKind.COURT_RULING,
    }
)
#: List kinds whose trigger must come with a reference to a list in the sentence.
NEEDS_LIST_REFERENCE = frozenset(
    {
        EventKind.DESIGNATED,
        EventKind.SUSPENDED,
        EventKind.REMOVED,
        EventKind.REINSTATED,
        EventKind.LISTED,
    }
)
#: Kinds that a court ruling in the same sentence leads to (the ruling is then not separate).
RULING_EFFECTS = frozenset({EventKind.SUSPENDED, EventKind.REMOVED, EventKind.REINSTATED})

HEDGE_FACTOR = 0.45
DOCUMENT_LIST_FACTOR = 0.95
NO_LIST_FACTOR = 0.6
NEW_ENTITY_FACTOR = 0.75
COREFERENCE_FACTOR = 0.8
NO_COUNTRY_FACTOR = 0.7
FAR_FACTOR = 0.85
FAR_WORDS = 20
TEMPORARY_WORDS = 6
#: Which of two overlapping triggers of different kinds governs: the one that starts first
#: ("blocked the listing of ...", "阻止将小米列入..."), else the longer one.

_LEGAL_FORM = re.compile(
    r"((?:[A-Z][\w&'.-]*|&)(?:[ ]+(?:[A-Z][\w&'.-]*|&|of|and|de|van)){0,5}?),?[ ]+"
    r"(Co\.,?[ ]*Ltd\.?|Ltd\.?|Limited|Inc\.?|Corp\.?|Corporation|LLC|GmbH|AG|A/S|ApS|AB|"
    r"ASA|S\.A\.|SpA|S\.p\.A\.|B\.V\.|BV|N\.V\.|NV|PLC|plc|JSC|PJSC|OOO|Holdings?)(?!\w)"
)
_HAN_ORG = re.compile(r"[\u4e00-\u9fff]{2,14}?(?:股份有限公司|有限公司|集团|公司)")
_CAPITALISED = re.compile(r"[ ]+((?:[A-Z][\w&-]*|[A-Z]{2,})(?:[ ]+[A-Z][\w&-]*){0,3})")


@dataclass
class SentenceEvent:
    """One event stated by one sentence."""

    kind: EventKind
    entity_ids: tuple[str, ...]
    mention: str
    mention_start: int
    list_id: str | None
    list_source: str | None  # "sentence", "document" or None
    countries: list[str]
    date: TemporalMention | None
    date_source: str | None  # "sentence", "context" or None
    sentence: str
    start: int  # offsets of the sentence in the document text
    end: int
    confidence: float
    trigger: str
    language: str
    hedged: bool = False
    negated: bool = False
    temporary: bool = False
    new_entity: str | None = None  # the name of an organisation not in the registry
    cues: list[str] = field(default_factory=list)
    distance: int = 0  # words between the mention and the trigger


@dataclass
class SentenceContext:
    """What extraction needs to know about the sentence's surroundings."""

    pack: LanguagePack
    lists: ListFinder
    places: PlaceFinder
    document_list: str | None
    published: PartialDate | None
    antecedent: Mention | None = None  # the entity last named before this sentence


def _segments(folded: str, pack: LanguagePack, coordinated: bool = False) -> list[tuple[int, int]]:
    """Clauses of a sentence: cut at clause breaks ("while", "maar") and at ";" and ":";
    with ``coordinated``, also at a comma followed by a conjunction (", and it ...")."""
    starts = {m.start() for m in pack.cue("clause_breaks").finditer(folded)}
    starts |= {m.start() for m in re.finditer(r"[;:]\s", folded)}
    if coordinated:
        for comma in re.finditer(r",\s+", folded):
            if pack.cue("conjunctions").match(folded, comma.end()):
                starts.add(comma.start())
    cuts = sorted(starts)
    bounds = [0, *cuts, len(folded)]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _segment_of(position: int, segments: Sequence[tuple[int, int]]) -> tuple[int, int]:
    for a, b in segments:
        if a <= position < b:
            return a, b
    return segments[-1]


def _distance(a: tuple[int, int], b: tuple[int, int]) -> int:
    if a[1] <= b[0]:
        return b[0] - a[1]
    if b[1] <= a[0]:
        return a[0] - b[1]
    return 0


def _words_between(folded: str, a: tuple[int, int], b: tuple[int, int]) -> int:
    if _distance(a, b) == 0:
        return 0
    left, right = (a, b) if a[1] <= b[0] else (b, a)
    return len(re.findall(r"\w+", folded[left[1] : right[0]]))


def _governing(hits: list[tuple[int, int, Trigger]]) -> list[tuple[int, int, Trigger]]:
    """Drop a trigger that overlaps a trigger of another kind starting before it."""
    ordered = sorted(hits, key=lambda h: (h[0], -(h[1] - h[0])))
    kept: list[tuple[int, int, Trigger]] = []
    for hit in ordered:
        if any(
            k[2].kind is not hit[2].kind and _distance((k[0], k[1]), (hit[0], hit[1])) == 0
            for k in kept
        ):
            continue
        kept.append(hit)
    return kept


def _negated(folded: str, hit: tuple[int, int], pack: LanguagePack) -> str | None:
    window_start = max(0, hit[0] - 60)
    for match in pack.cue("negations").finditer(folded, window_start, hit[1]):
        if match.start() >= hit[0]:
            return match.group()
        between = folded[match.end() : hit[0]]
        if re.search(r"[,;:]", between) or pack.cue("conjunctions").search(between):
            continue
        if len(re.findall(r"\w+", between)) <= 4:
            return match.group()
    return None


def _org_candidates(
    text: str, segment: tuple[int, int], pack: LanguagePack
) -> list[tuple[int, int]]:
    """Spans of organisation-like names in ``text`` (one sentence) that the registry lacks."""
    found: list[tuple[int, int]] = []
    part = text[segment[0] : segment[1]]
    folded = fold(part)
    for match in _LEGAL_FORM.finditer(part):
        start = match.start()
        # Leading articles and other function words ("The", "Die") are not part of a name.
        for word in re.finditer(r"\S+", match.group(1)):
            if folded[start + word.start() : start + word.end()] not in pack.common_words:
                break
            start = match.start() + word.end() + 1
        else:
            continue  # only function words before the legal form: "The Group of Seven"
        found.append((segment[0] + start, segment[0] + match.end()))
    for match in _HAN_ORG.finditer(part):
        found.append((segment[0] + match.start(), segment[0] + match.end()))
    for head in pack.org_heads.finditer(folded):
        follow = _CAPITALISED.match(part, head.end())
        if follow:
            found.append((segment[0] + follow.start(1), segment[0] + follow.end(1)))
    found.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
    kept: list[tuple[int, int]] = []
    for span in found:
        if all(span[1] <= k[0] or span[0] >= k[1] for k in kept):
            kept.append(span)
    return sorted(kept)


def _choose_list(
    hit: tuple[int, int], trigger: Trigger, refs: Sequence[ListRef], ctx: SentenceContext
) -> tuple[str | None, str | None, bool]:
    """(list id, where it came from, whether the sentence refers to a list at all)."""
    specific = [r for r in refs if r.list_id is not None]
    referred = bool(refs) or "{list}" in trigger.phrase
    if specific:
        rank = {"name": 0, "cue": 1}
        best = min(
            specific,
            key=lambda r: (_distance((r.start, r.end), hit), rank[r.strength]),
        )
        return best.list_id, "sentence", True
    if referred or trigger.standalone or trigger.kind not in NEEDS_LIST_REFERENCE:
        # The article's main list, settled once the whole article has been read.
        return ctx.document_list, "document", referred
    return None, None, False


def sentence_events(
    text: str,
    folded: str,
    offset: int,
    mentions: Sequence[Mention],
    ctx: SentenceContext,
) -> list[SentenceEvent]:
    """The events one sentence states (``mentions`` are relative to the sentence)."""
    pack = ctx.pack
    hits: list[tuple[int, int, Trigger]] = []
    for trigger in pack.triggers_for(folded):
        for match in trigger.regex.finditer(folded):
            hits.append((match.start(), match.end(), trigger))
    if not hits:
        return []
    hits = _governing(hits)
    refs = ctx.lists.find(folded)
    segments = _segments(folded, pack)
    clauses = _segments(folded, pack, coordinated=True)
    temporal = find_temporal(text, pack, ctx.published, folded=folded)
    date_spans = [(t.start, t.end) for t in temporal]
    hedges = [
        m
        for m in pack.cue("hedges").finditer(folded)
        if all(_distance(m.span(), span) > 0 for span in date_spans)
    ]
    temporary = list(pack.cue("temporary").finditer(folded))
    events: list[SentenceEvent] = []
    for start, end, trigger in hits:
        kind = trigger.kind
        segment = _segment_of(start, segments)
        in_segment = [m for m in mentions if segment[0] <= m.start < segment[1]]
        subjects: list[tuple[int, int, str, tuple[str, ...], str | None, float]] = [
            (m.start, m.end, m.text, m.entity_ids, None, 1.0) for m in in_segment
        ]
        if not subjects:
            for a, b in _org_candidates(text, segment, pack):
                if not any(_distance((a, b), (r.start, r.end)) == 0 for r in refs):
                    subjects.append((a, b, text[a:b], (), text[a:b], NEW_ENTITY_FACTOR))
        if not subjects and ctx.antecedent is not None:
            # "The company", "selskabet", "het bedrijf": the entity named just before.
            for head in pack.org_heads.finditer(folded, segment[0], segment[1]):
                if _CAPITALISED.match(text, head.end()):
                    continue
                a, b = head.span()
                subjects.append(
                    (a, b, text[a:b], ctx.antecedent.entity_ids, None, COREFERENCE_FACTOR)
                )
                break
        if not subjects:
            continue
        list_id: str | None = None
        list_source: str | None = None
        confidence = trigger.weight
        if kind in LIST_KINDS:
            list_id, list_source, referred = _choose_list((start, end), trigger, refs, ctx)
            if kind in NEEDS_LIST_REFERENCE and not referred and not trigger.standalone:
                continue
            if list_source is None:
                confidence *= NO_LIST_FACTOR
            elif list_source == "document":
                confidence *= DOCUMENT_LIST_FACTOR
        cues: list[str] = []
        negation = _negated(folded, (start, end), pack)
        if negation:
            cues.append(f"negation:{negation}")
        # A hedge governs its own clause: "it would delist X, and it delisted Y".
        clause = _segment_of(start, clauses)
        hedged = [h.group() for h in hedges if clause[0] <= h.start() < clause[1]]
        if hedged:
            confidence *= HEDGE_FACTOR
            cues += [f"hedge:{h}" for h in hedged]
        is_temporary = any(
            segment[0] <= t.start() < segment[1]
            and _words_between(folded, t.span(), (start, end)) <= TEMPORARY_WORDS
            for t in temporary
        )
        if is_temporary:
            cues.append("temporary")
            if kind in (EventKind.REMOVED, EventKind.COURT_RULING):
                # A temporary removal, or a court's temporary order, is a suspension.
                kind = EventKind.SUSPENDED
        countries: list[str] = []
        if kind is EventKind.BUSINESS_SUSPENDED:
            countries = sorted(
                {c for a, _b, c in ctx.places.countries(folded) if segment[0] <= a < segment[1]}
            )
            if not countries:
                confidence *= NO_COUNTRY_FACTOR
        elif kind is EventKind.EXCHANGE_DELISTED:
            countries = sorted({c for _a, _b, c in ctx.places.exchanges(folded)})
        usable = [t for t in temporal if t.marker is None]
        # The date of the trigger's own clause first, then the nearest in the sentence.
        date = min(
            usable,
            key=lambda t: (
                not (clause[0] <= t.start < clause[1]),
                _distance((t.start, t.end), (start, end)),
            ),
            default=None,
        )
        if kind is EventKind.LISTED:
            date = None  # a statement of membership is not dated by its sentence
        for a, b, surface, entity_ids, new_name, factor in subjects:
            score = confidence * factor
            distance = _words_between(folded, (a, b), (start, end))
            if distance > FAR_WORDS:
                score *= FAR_FACTOR
            events.append(
                SentenceEvent(
                    kind=kind,
                    entity_ids=entity_ids,
                    mention=surface,
                    mention_start=offset + a,
                    list_id=list_id if kind in LIST_KINDS else None,
                    list_source=list_source if kind in LIST_KINDS else None,
                    countries=countries,
                    date=date,
                    date_source="sentence" if date else None,
                    sentence=text,
                    start=offset,
                    end=offset + len(text),
                    confidence=round(min(score, 1.0), 3),
                    trigger=trigger.phrase,
                    language=pack.code,
                    hedged=bool(hedged),
                    negated=negation is not None,
                    temporary=is_temporary,
                    new_entity=new_name,
                    cues=cues,
                    distance=distance,
                )
            )
    return _settle(events)


def _subject_key(event: SentenceEvent) -> tuple[str, ...]:
    return event.entity_ids or (f"new:{event.new_entity}",)


def _settle(events: list[SentenceEvent]) -> list[SentenceEvent]:
    """One event per (subject, kind), from the trigger nearest the mention; a ruling is not
    separate from the effect it orders."""
    best: dict[tuple[tuple[str, ...], EventKind], SentenceEvent] = {}
    for event in events:
        key = (_subject_key(event), event.kind)
        if key not in best or (event.distance, -event.confidence) < (
            best[key].distance,
            -best[key].confidence,
        ):
            best[key] = event
    effects = {subject for subject, kind in best if kind in RULING_EFFECTS}
    return [
        e
        for (subject, kind), e in best.items()
        if not (kind is EventKind.COURT_RULING and subject in effects)
    ]
