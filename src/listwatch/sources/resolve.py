"""Entity resolution across sources: the same company on several lists becomes one entity.

Decisions are conservative and explained. Two records are merged when

* their schemas can describe the same thing (organisations with organisations; people
  only with people, and only when they share a birth date; vessels and aircraft only
  through their IMO number or serial number);
* one's main name equals a name of the other once case, accents, punctuation, script
  (transliteration) and legal forms are normalised with ``rigour`` (``SZ DJI TECHNOLOGY
  CO., LTD.`` = ``SZ DJI Technology Co., Ltd.``), with at least two words left, or they
  share a strong identifier (USCC, LEI, IMO, SWIFT/BIC);
* nothing contradicts it: the countries they are known in overlap, no strong identifier
  differs, and the publisher did not list them as two entries of one list (OFAC lists
  "HUAWEI TECHNOLOGIES" and "HUAWEI INVESTMENT & HOLDING" as two CMIC entries: a parent
  and its subsidiary stay two entities even though one is the other's alias);
* the match is not ambiguous (one cluster only) and no user undid a merge between them.

A merge is recorded with :func:`listwatch.registry.store.merge_entities`, its reason and
score; undoing it (``listwatch unmerge``) is respected by later imports.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, insert, or_, select
from sqlalchemy.orm import Session

from listwatch.registry.entities import canonical_map
from listwatch.registry.models import (
    Entity,
    EntityMerge,
    EntityName,
    Identifier,
    SourceRecord,
    utcnow,
)
from listwatch.registry.store import merge_entities

ORGANISATIONS = frozenset({"LegalEntity", "Organization", "Company", "PublicBody"})
MATCH_KINDS = ("primary", "alias", "former", "new", "native")
STRONG_SCHEMES = ("uscc", "lei", "imo", "swift_bic", "aircraft_msn")
CONFLICT_SCHEMES = ("uscc", "lei", "imo", "aircraft_msn")
_KIND_SCORE = {"primary": 1.0, "alias": 0.95, "native": 0.95, "new": 0.93, "former": 0.9}
CHUNK = 500
#: Above this many merges in one run they are stored with one bulk insert.
BULK_THRESHOLD = 50
#: Ids issued by one publisher: two different ones are two entries by that publisher's
#: own account, never merged automatically.
ID_AUTHORITIES = ("ofac-", "un-", "eu-", "uk-")


@lru_cache(maxsize=262144)
def name_key(name: str) -> str | None:
    """A name's comparison key: normalised, transliterated, legal forms unified, words sorted.

    ``None`` when fewer than two words remain (an acronym alone never decides a merge).
    """
    from rigour.names import normalize_name, replace_org_types_compare
    from rigour.text import ascii_text

    normalised = normalize_name(name)
    if not normalised:
        return None
    text = ascii_text(replace_org_types_compare(normalised, generic=True))
    tokens = sorted(t for t in text.split() if t)
    if len(tokens) < 2:
        return None
    return " ".join(tokens)


@dataclass
class MergeDecision:
    """A merge made by resolution: who into whom, why, how sure."""

    merge_id: int
    source_id: str
    target_id: str
    reason: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass
class _Facts:
    """What resolution needs to know about one entity."""

    id: str
    schema: str
    name: str
    origin: str
    countries: frozenset[str]
    birth_dates: frozenset[str]
    identifiers: dict[str, set[str]]
    lists: set[tuple[str, str]]


def _family(schema: str) -> str:
    if schema in ORGANISATIONS:
        return "organisation"
    return schema


def _load_facts(session: Session, ids: set[str]) -> dict[str, _Facts]:
    facts: dict[str, _Facts] = {}
    id_list = sorted(ids)
    for start in range(0, len(id_list), CHUNK):
        chunk = id_list[start : start + CHUNK]
        for row in session.execute(
            select(
                Entity.id,
                Entity.schema,
                Entity.name,
                Entity.origin,
                Entity.country,
                Entity.properties,
            ).where(Entity.id.in_(chunk))
        ):
            properties = row.properties or {}
            countries = {
                v
                for prop in ("country", "jurisdiction", "nationality", "citizenship")
                for v in properties.get(prop, []) or []
                if isinstance(v, str) and len(v) <= 6 and v.islower()
            }
            if row.country:
                countries.add(row.country)
            births = {v for v in properties.get("birthDate", []) or [] if isinstance(v, str)}
            facts[row.id] = _Facts(
                row.id,
                row.schema,
                row.name,
                row.origin,
                frozenset(countries),
                frozenset(births),
                defaultdict(set),
                set(),
            )
        for entity_id, scheme, value in session.execute(
            select(Identifier.entity_id, Identifier.scheme, Identifier.value).where(
                Identifier.entity_id.in_(chunk), Identifier.scheme.in_(STRONG_SCHEMES)
            )
        ):
            facts[entity_id].identifiers[scheme].add(value.upper().replace(" ", ""))
        for entity_id, source, list_id in session.execute(
            select(SourceRecord.entity_id, SourceRecord.source, SourceRecord.list_id).where(
                SourceRecord.entity_id.in_(chunk), SourceRecord.present.is_(True)
            )
        ):
            facts[entity_id].lists.add((source, list_id))
    return facts


def _name_index(session: Session) -> dict[str, list[tuple[str, str, str]]]:
    """Every matchable name of every entity, by comparison key: (entity, name, kind)."""
    index: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    rows = session.execute(
        select(EntityName.entity_id, EntityName.name, EntityName.kind)
        .join(Entity, Entity.id == EntityName.entity_id)
        .where(EntityName.kind.in_(MATCH_KINDS), Entity.schema != "Vessel")
    )
    for entity_id, name, kind in rows:
        key = name_key(name)
        if key is not None:
            index[key].append((entity_id, name, kind))
    return index


def _undone_pairs(session: Session) -> set[frozenset[str]]:
    rows = session.execute(
        select(EntityMerge.source_id, EntityMerge.target_id).where(
            EntityMerge.undone_at.is_not(None)
        )
    )
    return {frozenset(r) for r in rows}


@dataclass
class _Candidate:
    score: float
    a: str
    b: str
    reason: str


def _compatible(a: _Facts, b: _Facts, by_identifier: bool) -> str | None:
    """Why two entities cannot be the same (None when nothing contradicts it)."""
    family_a, family_b = _family(a.schema), _family(b.schema)
    if family_a != family_b:
        return f"different kinds ({a.schema} / {b.schema})"
    for prefix in ID_AUTHORITIES:
        if a.id.startswith(prefix) and b.id.startswith(prefix):
            return "two entries with different ids of the same publisher"
    if (
        not by_identifier
        and not a.countries
        and not b.countries
        and not (a.birth_dates & b.birth_dates)
    ):
        return "nothing but the name in common (no country or birth date on either side)"
    if family_a in ("Vessel", "Airplane") and not by_identifier:
        return "vessels and aircraft are matched only by IMO or serial number"
    if a.countries and b.countries and not a.countries & b.countries:
        here, there = "/".join(sorted(a.countries)), "/".join(sorted(b.countries))
        return f"different countries ({here} vs {there})"
    for scheme in CONFLICT_SCHEMES:
        left, right = a.identifiers.get(scheme), b.identifiers.get(scheme)
        if left and right and not left & right:
            return f"different {scheme} identifiers"
    shared_birth = a.birth_dates & b.birth_dates
    if family_a == "Person" and not by_identifier and not shared_birth:
        return "people are merged only when they share a birth date"
    return None


def _own_names(session: Session, wanted: set[str]) -> dict[str, list[tuple[str, str]]]:
    names: dict[str, list[tuple[str, str]]] = defaultdict(list)
    ids = sorted(wanted)
    for start in range(0, len(ids), CHUNK):
        for entity_id, name, kind in session.execute(
            select(EntityName.entity_id, EntityName.name, EntityName.kind).where(
                EntityName.entity_id.in_(ids[start : start + CHUNK]),
                EntityName.kind.in_(MATCH_KINDS),
            )
        ):
            names[entity_id].append((name, kind))
    return names


def _name_matches(session: Session, wanted: set[str]) -> dict[frozenset[str], _Candidate]:
    index = _name_index(session)
    pairs: dict[frozenset[str], _Candidate] = {}
    for entity_id, names in _own_names(session, wanted).items():
        for name, kind in names:
            key = name_key(name)
            if key is None:
                continue
            for other_id, other_name, other_kind in index.get(key, []):
                if other_id == entity_id or "primary" not in (kind, other_kind):
                    continue
                score = min(_KIND_SCORE.get(kind, 0.9), _KIND_SCORE.get(other_kind, 0.9))
                pair = frozenset((entity_id, other_id))
                if pair in pairs and pairs[pair].score >= score:
                    continue
                reason = (
                    f"same name after normalisation (case, punctuation, script, legal form): "
                    f"{name!r} ({kind} name of {entity_id}) = {other_name!r} "
                    f"({other_kind} name of {other_id})"
                )
                pairs[pair] = _Candidate(score, entity_id, other_id, reason)
    return pairs


def _cluster_conflict(
    cluster_a: set[str], cluster_b: set[str], facts: dict[str, _Facts]
) -> str | None:
    """Why two clusters cannot be merged as a whole (None when nothing stands against it)."""
    lists_a = set().union(*(facts[x].lists for x in cluster_a if x in facts))
    lists_b = set().union(*(facts[x].lists for x in cluster_b if x in facts))
    if lists_a & lists_b:
        return "the publisher lists them as separate entries of one list"
    for scheme in CONFLICT_SCHEMES:
        left = set().union(
            *(facts[x].identifiers.get(scheme, set()) for x in cluster_a if x in facts)
        )
        right = set().union(
            *(facts[x].identifiers.get(scheme, set()) for x in cluster_b if x in facts)
        )
        if left and right and not left & right:
            return f"different {scheme} identifiers"
    return None


def resolve_entities(
    session: Session, entity_ids: list[str], *, source: str | None = None
) -> list[MergeDecision]:
    """Merge the given entities with the registry's entities that are the same, if any."""
    wanted = set(entity_ids)
    if not wanted:
        return []
    pairs = _name_matches(session, wanted)
    for candidate in _identifier_matches(session, wanted):
        pair = frozenset((candidate.a, candidate.b))
        if pair not in pairs or pairs[pair].score < candidate.score:
            pairs[pair] = candidate
    candidates = sorted(pairs.values(), key=lambda c: (-c.score, c.a, c.b))
    if not candidates:
        return []
    mapping = canonical_map(session)
    members: dict[str, set[str]] = defaultdict(set)
    for member, target in mapping.items():
        members[target].add(member)
    involved = {c.a for c in candidates} | {c.b for c in candidates}
    involved |= {mapping.get(e, e) for e in involved}
    for target in list(involved):
        involved |= members.get(target, set())
    facts = _load_facts(session, involved)
    undone = _undone_pairs(session)
    decisions: list[MergeDecision] = []
    for candidate in candidates:
        a, b = candidate.a, candidate.b
        root_a, root_b = mapping.get(a, a), mapping.get(b, b)
        if root_a == root_b or a not in facts or b not in facts:
            continue
        by_identifier = candidate.reason.startswith("same identifier")
        if _compatible(facts[a], facts[b], by_identifier) is not None:
            continue
        cluster_a = {root_a} | members.get(root_a, set())
        cluster_b = {root_b} | members.get(root_b, set())
        if any(frozenset((x, y)) in undone for x in cluster_a for y in cluster_b):
            continue
        if _cluster_conflict(cluster_a, cluster_b, facts) is not None:
            continue
        source_root, target_root = _direction(root_a, root_b, facts)
        reason = (
            f"{candidate.reason}; countries "
            f"{'/'.join(sorted(facts[a].countries)) or 'unknown'} and "
            f"{'/'.join(sorted(facts[b].countries)) or 'unknown'}; no conflicting identifier; "
            "decided automatically by listwatch's entity resolution"
            + (f" while importing {source}" if source else "")
        )
        decisions.append(MergeDecision(0, source_root, target_root, reason, candidate.score))
        moved = {source_root} | members.pop(source_root, set())
        for entity in moved:
            mapping[entity] = target_root
        members[target_root] |= moved
    _record_merges(session, decisions)
    return decisions


def _record_merges(session: Session, decisions: list[MergeDecision]) -> None:
    """Store the merge decisions: through the registry's write API when they are few, in
    one bulk insert when an import brings hundreds (the checks are the same: each source
    is a canonical entity not merged elsewhere, each target another canonical entity)."""
    if len(decisions) <= BULK_THRESHOLD:
        for decision in decisions:
            merge = merge_entities(
                session, decision.source_id, decision.target_id, decision.reason, decision.score
            )
            decision.merge_id = merge.id
        return
    now = utcnow()
    rows = [
        {
            "source_id": d.source_id,
            "target_id": d.target_id,
            "reason": d.reason,
            "score": d.score,
            "created_at": now,
            "undone_at": None,
            "undo_reason": None,
        }
        for d in decisions
    ]
    table = cast(Table, EntityMerge.__table__)
    ids = (
        session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
        .scalars()
        .all()
    )
    for decision, merge_id in zip(decisions, ids, strict=True):
        decision.merge_id = merge_id


def _direction(root_a: str, root_b: str, facts: dict[str, _Facts]) -> tuple[str, str]:
    """Which cluster is merged into which: curated entities stay canonical, then the older."""
    a_curated = facts[root_a].origin == "curated" if root_a in facts else False
    b_curated = facts[root_b].origin == "curated" if root_b in facts else False
    if a_curated and not b_curated:
        return root_b, root_a
    if b_curated and not a_curated:
        return root_a, root_b
    return (root_b, root_a) if root_b > root_a else (root_a, root_b)


def _identifier_matches(session: Session, wanted: set[str]) -> list[_Candidate]:
    """Entities that share a strong identifier (USCC, LEI, IMO, SWIFT/BIC) with the given ones."""
    rows = session.execute(
        select(Identifier.entity_id, Identifier.scheme, Identifier.value).where(
            Identifier.scheme.in_(STRONG_SCHEMES)
        )
    ).all()
    by_value: dict[tuple[str, str], set[str]] = defaultdict(set)
    for entity_id, scheme, value in rows:
        by_value[(scheme, value.upper().replace(" ", ""))].add(entity_id)
    found = []
    for (scheme, value), ids in by_value.items():
        if len(ids) < 2 or not ids & wanted:
            continue
        ordered = sorted(ids)
        for entity_id in ordered:
            if entity_id not in wanted:
                continue
            for other in ordered:
                if other != entity_id:
                    found.append(
                        _Candidate(
                            0.99,
                            entity_id,
                            other,
                            f"same identifier {scheme} {value} on {entity_id} and {other}",
                        )
                    )
    return found


def undo(session: Session, merge_id: int, reason: str) -> EntityMerge:
    """Undo a merge (kept, marked undone); later imports will not redo it."""
    from listwatch.registry.store import undo_merge

    return undo_merge(session, merge_id, reason)


def merges_of(session: Session, entity_id: str) -> list[EntityMerge]:
    """Every merge decision (active or undone) that involves an entity."""
    return list(
        session.scalars(
            select(EntityMerge)
            .where(or_(EntityMerge.source_id == entity_id, EntityMerge.target_id == entity_id))
            .order_by(EntityMerge.id)
        )
    )
