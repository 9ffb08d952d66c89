"""Finding entities by name or id, and following merges to the canonical record."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from listwatch.registry.db import RegistryError
from listwatch.registry.models import Entity, EntityMerge, EntityName, Identifier
from listwatch.registry.names import fold_name


def canonical_map(session: Session) -> dict[str, str]:
    """Every merged entity id mapped to the id of the canonical entity it belongs to."""
    rows = session.execute(
        select(EntityMerge.source_id, EntityMerge.target_id).where(EntityMerge.undone_at.is_(None))
    )
    direct = {source: target for source, target in rows}
    resolved: dict[str, str] = {}
    for source in direct:
        target, seen = source, {source}
        while target in direct:
            target = direct[target]
            if target in seen:
                raise RegistryError(f"merge cycle through entity {target}")
            seen.add(target)
        resolved[source] = target
    return resolved


def canonical_id(session: Session, entity_id: str) -> str:
    """The canonical entity an id belongs to (itself when it was never merged away)."""
    target, seen = entity_id, {entity_id}
    while True:
        parent = session.scalar(
            select(EntityMerge.target_id).where(
                EntityMerge.source_id == target, EntityMerge.undone_at.is_(None)
            )
        )
        if parent is None:
            return target
        if parent in seen:
            raise RegistryError(f"merge cycle through entity {parent}")
        seen.add(parent)
        target = parent


def member_ids(session: Session, entity_id: str) -> set[str]:
    """The canonical entity and every record merged into it (directly or through others)."""
    target = canonical_id(session, entity_id)
    members, frontier = {target}, {target}
    while frontier:
        sources = set(
            session.scalars(
                select(EntityMerge.source_id).where(
                    EntityMerge.target_id.in_(frontier), EntityMerge.undone_at.is_(None)
                )
            )
        )
        frontier = sources - members
        members |= frontier
    return members


@dataclass(frozen=True)
class NameMatch:
    """An entity found by an exact (case-insensitive) name, alias or identifier."""

    entity: Entity
    matched: str
    kind: str


def find_entities(session: Session, query: str) -> list[NameMatch]:
    """Entities whose id, name, alias or identifier equals ``query`` (case-insensitively).

    Merged records are replaced by their canonical entity; primary names rank first.
    """
    folded = fold_name(query)
    rows = session.execute(
        select(EntityName.entity_id, EntityName.name, EntityName.kind).where(
            EntityName.folded == folded
        )
    ).all()
    found: list[tuple[str, str, str]] = [(r[0], r[1], r[2]) for r in rows]
    id_rows = session.execute(
        select(Identifier.entity_id, Identifier.value, Identifier.scheme).where(
            or_(Identifier.value == query.strip(), Identifier.value == query.strip().upper())
        )
    ).all()
    found += [(r[0], r[1], f"identifier:{r[2]}") for r in id_rows]
    if session.get(Entity, query.strip()) is not None:
        found.append((query.strip(), query.strip(), "id"))
    mapping = canonical_map(session)
    order = {"id": 0, "primary": 1}
    best: dict[str, tuple[int, str, str]] = {}
    for entity_id, matched, kind in found:
        target = mapping.get(entity_id, entity_id)
        rank = order.get(kind, 2)
        if target not in best or rank < best[target][0]:
            best[target] = (rank, matched, kind)
    matches = []
    for target, (_rank, matched, kind) in sorted(best.items(), key=lambda i: (i[1][0], i[0])):
        entity = session.get(Entity, target)
        if entity is not None:
            matches.append(NameMatch(entity, matched, kind))
    return matches


def resolve_entity(session: Session, query: str) -> Entity:
    """The one entity ``query`` names; a clear error when none or several do."""
    matches = find_entities(session, query)
    if not matches:
        raise RegistryError(f"no entity named {query!r} in the registry")
    top = [m for m in matches if m.kind in ("id", "primary")] or matches
    if len(top) > 1:
        names = ", ".join(f"{m.entity.name} [{m.entity.id}]" for m in top[:5])
        raise RegistryError(f"{query!r} names several entities: {names}; use an entity id")
    return top[0].entity
