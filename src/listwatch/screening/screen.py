"""Screening a name or identifier against the registry, as of a date, with explanations.

A query's identifiers are looked up first: an exact identifier match scores 1.0 and
ranks above every name match. Its name is analysed, candidates come from the index's
blocking keys, each candidate name is scored with :mod:`listwatch.screening.compare`,
and the best name of each (canonical) entity is kept. Every hit then carries the
entity's status on each list as of the requested date and, given a role, the duties that
follow from it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from listwatch.screening.compare import (
    Comparison,
    compare_analyzed,
    default_threshold,
    identical,
    name_bytes,
    score_analyzed,
)
from listwatch.screening.identifiers import (
    IdentifierError,
    ParsedIdentifier,
    looks_like_identifier,
    parse_identifier,
    query_identifier_keys,
)
from listwatch.screening.index import Candidate, NameIndex
from listwatch.screening.normalize import AnalyzedName, analyze_name, schema_group

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

CANDIDATES = 24  # candidates scored in full per query
COUNTRY_BONUS = 0.03  # the same country nudges a hit up; another country does not push down


@dataclass
class Query:
    """What to screen: a name and/or identifiers, of a type, as of a date."""

    name: str | None = None
    schema: str = "any"
    country: str | None = None
    identifiers: list[str] = field(default_factory=list)
    threshold: float | None = None
    limit: int = 10


@dataclass
class Hit:
    """One entity the query matches, why, and where it stands on each list."""

    entity_id: str
    name: str
    schema: str
    country: str | None
    score: float
    match: str  # "identifier" or "name"
    matched_name: str | None = None
    matched_kind: str | None = None
    identifier: dict[str, str] | None = None
    comparison: Comparison | None = None
    statuses: list[dict[str, Any]] = field(default_factory=list)
    obligations: list[dict[str, Any]] = field(default_factory=list)
    explain: Callable[[], Comparison] | None = field(default=None, repr=False, compare=False)
    """Works out :attr:`comparison` when it is first asked for (see :meth:`explained`)."""

    def explained(self) -> Comparison | None:
        """The comparison behind a name hit, with its explanation.

        Screening scores candidates without building explanations; the comparison of a
        hit is built when it is first asked for, so only the hits shown are explained.
        """
        if self.comparison is None and self.explain is not None:
            self.comparison = self.explain()
            self.explain = None
        return self.comparison

    def explanation(self) -> str:
        """Why the entity was found, in one line."""
        if self.identifier is not None:
            return f"identifier {self.identifier['scheme']} {self.identifier['value']} (exact)"
        comparison = self.explained()
        if comparison is not None:
            return f"name {self.matched_name!r}: " + comparison.explanation()
        return ""

    def listed_on(self) -> list[str]:
        """Lists the entity is on (listed or listed but suspended) as of the query date."""
        return [s["list"] for s in self.statuses if s["status"] in ("listed", "listed_suspended")]

    def to_dict(self, explain: bool = True, comparison: bool = True) -> dict[str, Any]:
        """JSON-ready form; without ``explain``, the explanation and comparison are left
        empty (a batch writes the explanation of each row's best hit only), and without
        ``comparison`` the comparison's parts are (a batch writes the explanation alone)."""
        compared = self.explained() if explain else None
        return {
            "entity": {
                "id": self.entity_id,
                "name": self.name,
                "schema": self.schema,
                "country": self.country,
            },
            "score": round(self.score, 4),
            "match": self.match,
            "matched_name": self.matched_name,
            "matched_kind": self.matched_kind,
            "identifier": self.identifier,
            "explanation": self.explanation() if explain else "",
            "comparison": compared.to_dict() if compared and comparison else None,
            "statuses": self.statuses,
            "obligations": self.obligations,
        }


@dataclass
class _Search:
    """One query on its way through :meth:`Screener.match_many`."""

    query: Query
    threshold: float
    name: str  # the name to screen ("" when none, or when it is an identifier)
    found: dict[str, Hit]  # hits by identifier, by entity
    name_hits: list[Hit] = field(default_factory=list)

    @property
    def schema(self) -> str:
        return self.query.schema or "any"

    @property
    def country(self) -> str | None:
        return (self.query.country or "").lower() or None

    def analyzed_name(self) -> AnalyzedName:
        """The name analysed as its schema (as a company's where any schema will do)."""
        return analyze_name(self.name, self.schema if self.schema != "any" else "Company")

    def hits(self) -> list[Hit]:
        """Identifier hits, then name hits of other entities, by score, up to the limit."""
        hits = dict(self.found)
        for hit in self.name_hits:
            hits.setdefault(hit.entity_id, hit)
        ordered = sorted(
            hits.values(), key=lambda h: (h.match != "identifier", -h.score, h.entity_id)
        )
        return ordered[: self.query.limit]


@dataclass
class _Scored:
    """A query's ranked candidates (index positions) and the scores of those kept."""

    analyzed: AnalyzedName
    positions: list[int]
    ranks: list[float]
    groups: list[str]  # the schema group of each candidate's entity
    as_person: AnalyzedName | None = None  # the query read as a person's name, if needed
    kept: list[int] = field(default_factory=list)  # candidates of the query's type
    scores: dict[int, float] = field(default_factory=dict)  # of the kept candidates


class Screener:
    """Screens queries against one index; a database session adds names, status and duties."""

    def __init__(
        self, index: NameIndex, canonical: dict[str, str] | None = None, compiled: bool = True
    ) -> None:
        self.index = index
        self.canonical = canonical or {}
        self.compiled = compiled
        """Rank and score candidates with the compiled kernels (the same results as the
        Python code, which ``compiled=False`` runs instead)."""

    def parse_identifiers(self, query: Query) -> list[ParsedIdentifier]:
        """Validate the query's identifiers (a clear error for a wrong check digit)."""
        return [parse_identifier(value) for value in query.identifiers if value.strip()]

    def match(self, query: Query) -> list[Hit]:
        """Hits above the threshold, identifiers first, then by score (no status yet)."""
        found = self.match_many([query])[0]
        if isinstance(found, IdentifierError):
            raise found
        return found

    def match_many(self, queries: Sequence[Query]) -> list[list[Hit] | IdentifierError]:
        """:meth:`match` of each query, or the error of a query with an invalid identifier.

        The queries pass each stage together (analysis, ranking, scoring, choosing hits)
        rather than one after the other, so that a stage's code and tables stay in the
        processor's caches from one query to the next; each query's answer is the one it
        gets alone.
        """
        searches: list[_Search | IdentifierError] = []
        for query in queries:
            try:
                searches.append(self._search(query))
            except IdentifierError as exc:
                searches.append(exc)
        named = [s for s in searches if isinstance(s, _Search) and s.name]
        if self.compiled:
            self._name_hits_compiled(named)
        else:
            for search in named:
                search.name_hits = self._name_hits_python(search)
        return [s if isinstance(s, IdentifierError) else s.hits() for s in searches]

    def _search(self, query: Query) -> _Search:
        """A query's identifier hits, and the name left to screen."""
        threshold = default_threshold() if query.threshold is None else query.threshold
        hits: dict[str, Hit] = {}
        identifiers = self.parse_identifiers(query)
        name = query.name.strip() if query.name else ""
        if name and looks_like_identifier(name) and not identifiers:
            identifiers = [parse_identifier(name)]
            if identifiers[0].scheme != "registration":
                name = ""  # an ISIN, LEI or ticker is not screened as a name
        for parsed in identifiers:
            for entity_id, _key in self.index.lookup_identifier(query_identifier_keys(parsed)):
                target = self.canonical.get(entity_id, entity_id)
                if target not in hits:
                    hits[target] = Hit(
                        entity_id=target,
                        name=target,
                        schema="",
                        country=None,
                        score=1.0,
                        match="identifier",
                        identifier=parsed.to_dict(),
                    )
        return _Search(query, threshold, name, hits)

    def _name_hits_compiled(self, searches: list[_Search]) -> None:
        """Fill in the name hits of each search: the ``limit`` best of what
        :meth:`_name_hits_python` finds (leaving out the entities found by identifier),
        with candidates ranked and scored by the compiled kernels; only the names of the
        hits returned are read from the index."""
        analyses = [search.analyzed_name() for search in searches]
        rankings = [self.index.rank(analyzed, CANDIDATES) for analyzed in analyses]
        scored = [
            self._scored(s, analyzed, *ranking)
            for s, analyzed, ranking in zip(searches, analyses, rankings, strict=True)
        ]
        for search, candidates in zip(searches, scored, strict=True):
            search.name_hits = self._chosen(search, candidates)

    def _scored(
        self, search: _Search, analyzed: AnalyzedName, positions: list[int], ranks: list[float]
    ) -> _Scored:
        """The ranked candidates of the query's type, each with its score."""
        index = self.index
        scored = _Scored(analyzed, positions, ranks, index.groups_of(positions))
        if not positions:
            return scored
        wanted = schema_group(search.schema)
        base = len(index.names)
        # Per form of the query (as written, or as a person's name), the candidates to score.
        batches: dict[bool, tuple[AnalyzedName, list[int]]] = {}
        effective: list[str] = []
        for n, group in enumerate(scored.groups):
            if wanted != "any" and group != wanted:
                effective.append("")
                continue
            person = group == "person" and analyzed.group != "person"
            if person and scored.as_person is None:
                scored.as_person = analyze_name(search.name, "Person")
            query_name = scored.as_person if person and scored.as_person is not None else analyzed
            if group == "any":
                group = query_name.group if query_name.group != "any" else "org"
            effective.append(group)
            scored.kept.append(n)
            batches.setdefault(person, (query_name, []))[1].append(n)
        scores = scored.scores
        for query_name, members in batches.values():
            inside = [n for n in members if positions[n] < base]
            if inside:
                values, same = index.score_names(
                    name_bytes(query_name),
                    [positions[n] for n in inside],
                    [effective[n] for n in inside],
                )
                for n, score, equal in zip(inside, values, same, strict=True):
                    if equal == 0:
                        scores[n] = score
                        continue
                    candidate_name = index.analysis(positions[n], *self._name_of(positions[n]))
                    if equal == 1 and identical(query_name, candidate_name):
                        scores[n] = 1.0
                    elif equal == 1:
                        scores[n] = score
                    else:
                        scores[n] = score_analyzed(query_name, candidate_name, effective[n])
            for n in members:
                if positions[n] >= base:
                    candidate_name = index.analysis(positions[n], *self._name_of(positions[n]))
                    scores[n] = score_analyzed(query_name, candidate_name, effective[n])
        return scored

    def _chosen(self, search: _Search, scored: _Scored) -> list[Hit]:
        """The best name of each of the ``limit`` best entities above the threshold."""
        threshold, country = search.threshold, search.country
        # Only names that may reach the threshold (with the country's nudge) are read: first
        # their entities, to keep the best name of each of the best entities, then those.
        reach = threshold - (COUNTRY_BONUS if country else 0.0)
        scores, positions = scored.scores, scored.positions
        near = [n for n in scored.kept if scores[n] >= reach]
        if not near:
            return []
        index = self.index
        best: dict[str, tuple[float, int]] = {}
        entities = index.entities_at([positions[n] for n in near], countries=country is not None)
        for n, (entity_id, entity_country) in zip(near, entities, strict=True):
            score = scores[n]
            if country and entity_country.lower() == country:
                score = min(1.0, score + COUNTRY_BONUS)
            if score < threshold:
                continue
            target = self.canonical.get(entity_id, entity_id)
            current = best.get(target)
            if target not in search.found and (current is None or score > current[0]):
                best[target] = (score, n)
        chosen = sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[: search.query.limit]
        candidates = index.candidates_at(
            [positions[n] for _t, (_s, n) in chosen], [scored.ranks[n] for _t, (_s, n) in chosen]
        )
        hits: dict[str, Hit] = {}
        for (_target, (score, n)), candidate in zip(chosen, candidates, strict=True):
            as_person = scored.as_person
            person = scored.groups[n] == "person" and as_person is not None
            query_name = as_person if person and as_person is not None else scored.analyzed
            self._keep_best(hits, candidate, score, query_name, scored.groups[n])
        return list(hits.values())

    def _keep_best(
        self,
        best: dict[str, Hit],
        candidate: Candidate,
        score: float,
        query_name: AnalyzedName,
        group: str,
    ) -> None:
        """Record a name hit unless its entity (after merges) has a better one already."""
        target = self.canonical.get(candidate.entity_id, candidate.entity_id)
        current = best.get(target)
        if current is None or score > current.score:
            best[target] = Hit(
                entity_id=target,
                name=candidate.name if candidate.kind == "primary" else target,
                schema=candidate.schema,
                country=candidate.country,
                score=score,
                match="name",
                matched_name=candidate.name,
                matched_kind=candidate.kind,
                explain=_explainer(
                    query_name, candidate.name, candidate.schema, group, self.compiled
                ),
            )

    def _name_of(self, position: int) -> tuple[str, str]:
        record = self.index.record(position)
        return record.name, record.schema

    def _name_hits_python(self, search: _Search) -> list[Hit]:
        """Every name hit above the threshold, each candidate scored in Python."""
        analyzed = search.analyzed_name()
        as_person: AnalyzedName | None = None
        best: dict[str, Hit] = {}
        wanted = schema_group(search.schema)
        threshold, country = search.threshold, search.country
        # Aliases that differ only in case or punctuation have one matching form: score once.
        scored: dict[tuple[Any, ...], float] = {}
        for candidate in self.index.candidates(analyzed, CANDIDATES):
            group = schema_group(candidate.schema)
            if wanted != "any" and group != wanted:
                continue
            query_name = analyzed
            if group == "person" and analyzed.group != "person":
                as_person = as_person or analyze_name(search.name, "Person")
                query_name = as_person
            candidate_name = self.index.analysis(
                candidate.name_index, candidate.name, candidate.schema
            )
            key = (group, candidate_name.tokens, candidate_name.kinds, candidate_name.native)
            score = scored.get(key, -1.0)
            if score < 0:
                score = scored[key] = score_analyzed(query_name, candidate_name, group)
            if country and candidate.country and candidate.country.lower() == country:
                score = min(1.0, score + COUNTRY_BONUS)
            if score < threshold:
                continue
            self._keep_best(best, candidate, score, query_name, group)
        return list(best.values())

    def screen(
        self,
        query: Query,
        session: Session | None = None,
        as_of: dt.date | None = None,
        known_at: dt.date | None = None,
        role: str | None = None,
    ) -> list[Hit]:
        """Hits with entity details, status on each list as of ``as_of`` and duties."""
        hits = self.match(query)
        if session is not None:
            day = as_of or dt.datetime.now(dt.UTC).date()
            for hit in hits:
                describe(session, hit, day, known_at, role)
        return hits


def _explainer(
    query: AnalyzedName, name: str, schema: str, group: str, compiled: bool
) -> Callable[[], Comparison]:
    """The full comparison of a hit, with the candidate's normalisation steps."""

    def explain() -> Comparison:
        return compare_analyzed(query, analyze_name(name, schema), group, compiled=compiled)

    return explain


def describe(
    session: Session,
    hit: Hit,
    as_of: dt.date,
    known_at: dt.date | None = None,
    role: str | None = None,
) -> None:
    """Fill in the entity's name, schema, country, statuses and (with a role) duties."""
    from listwatch.registry.models import Entity
    from listwatch.registry.status import statuses

    entity = session.get(Entity, hit.entity_id)
    if entity is not None:
        hit.name, hit.schema, hit.country = entity.name, entity.schema, entity.country
    hit.statuses = [r.to_dict() for r in statuses(session, hit.entity_id, as_of, known_at)]
    if role:
        from listwatch.obligations import obligations

        hit.obligations = [
            d.to_dict() for d in obligations(session, hit.entity_id, as_of, role, known_at)
        ]
