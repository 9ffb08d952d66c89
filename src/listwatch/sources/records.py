"""What a loader makes of one record of an official file, before it touches the registry.

Every loader, whatever the format, turns a record into a :class:`RecordData`: the
entity it describes (names with their kind, language and script, identifiers,
FollowTheMoney-named facts such as ``birthDate`` or ``address``), the lists it puts
that entity on, and the record's own id, which becomes the evidence locator. The
import engine only ever sees this shape.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from listwatch.registry.domain import PartialDate

#: Kinds of names, in the order in which they are preferred as an entity's display name.
NAME_KINDS = ("primary", "alias", "acronym", "former", "new", "weak", "native")


def clean(value: str | None) -> str:
    """Collapse whitespace; ``None`` and OFAC's ``-0-`` null marker become ``""``."""
    if not value:
        return ""
    text = " ".join(value.split())
    return "" if text == "-0-" else text


@dataclass
class NameData:
    """One name of the entity a record describes."""

    name: str
    kind: str = "alias"
    lang: str | None = None

    def to_json(self) -> list[Any]:
        """Compact form used in content hashes and the spool."""
        return [self.name, self.kind, self.lang]


@dataclass
class IdentifierData:
    """An identifier: scheme (``isin``, ``passport``, ``uscc`` ...), value, issuing country."""

    scheme: str
    value: str
    country: str | None = None

    def to_json(self) -> list[Any]:
        """Compact form used in content hashes and the spool."""
        return [self.scheme, self.value, self.country]


@dataclass
class Membership:
    """That the record puts its entity on a list, with the record's own listing date if any."""

    list_id: str
    listed_on: PartialDate | None = None
    programs: list[str] = field(default_factory=list)

    def to_json(self) -> list[Any]:
        """Compact form used in content hashes and the spool."""
        return [self.list_id, str(self.listed_on) if self.listed_on else None, self.programs]


@dataclass
class RecordData:
    """One record of an official file, as the import engine consumes it.

    ``key`` identifies the record across snapshots of its source (OFAC's ent_num, the
    UN's DATAID ...); ``locator`` says where the record is in the file in the
    publisher's own terms (``ent_num 36052``) and is stored as the evidence locator.
    ``properties`` use FollowTheMoney property names so that export is a mapping, not
    a translation.
    """

    key: str
    locator: str
    entity_id: str
    schema: str
    names: list[NameData] = field(default_factory=list)
    identifiers: list[IdentifierData] = field(default_factory=list)
    properties: dict[str, list[str]] = field(default_factory=dict)
    memberships: list[Membership] = field(default_factory=list)
    relations: list[tuple[str, str]] = field(default_factory=list)  # (kind, target name)
    quote: str | None = None
    line: int | None = None

    @property
    def name(self) -> str:
        """The display name: the first primary name, else the first name of any kind."""
        for name in self.names:
            if name.kind == "primary":
                return name.name
        return self.names[0].name if self.names else self.key

    def add_name(self, name: str | None, kind: str = "alias", lang: str | None = None) -> None:
        """Add a name unless empty or already present with the same kind."""
        text = clean(name)
        if not text:
            return
        if kind == "primary" and any(n.kind == "primary" for n in self.names):
            kind = "alias"
        if any(n.name == text and n.kind == kind for n in self.names):
            return
        if kind != "primary" and any(n.name == text for n in self.names):
            return
        self.names.append(NameData(text, kind, lang))

    def add_identifier(self, scheme: str, value: str | None, country: str | None = None) -> None:
        """Add an identifier unless empty or already present."""
        text = clean(value)
        if not text:
            return
        if any(i.scheme == scheme and i.value == text for i in self.identifiers):
            return
        self.identifiers.append(IdentifierData(scheme, text, country or None))

    def add(self, prop: str, *values: str | None) -> None:
        """Add values to a FollowTheMoney-named property, skipping empties and repeats."""
        for value in values:
            text = clean(value)
            if not text:
                continue
            bucket = self.properties.setdefault(prop, [])
            if text not in bucket:
                bucket.append(text)

    def member_of(
        self, list_id: str, listed_on: PartialDate | None = None, programs: list[str] | None = None
    ) -> None:
        """Put the record's entity on a list (once per list)."""
        for membership in self.memberships:
            if membership.list_id == list_id:
                if listed_on and (membership.listed_on is None or listed_on < membership.listed_on):
                    membership.listed_on = listed_on
                for program in programs or []:
                    if program not in membership.programs:
                        membership.programs.append(program)
                return
        self.memberships.append(Membership(list_id, listed_on, list(programs or [])))

    def to_json(self) -> dict[str, Any]:
        """Everything the record says (not where it was in the file)."""
        return {
            "key": self.key,
            "locator": self.locator,
            "entity": self.entity_id,
            "schema": self.schema,
            "names": [n.to_json() for n in self.names],
            "ids": [i.to_json() for i in self.identifiers],
            "props": {k: v for k, v in sorted(self.properties.items()) if v},
            "lists": [m.to_json() for m in self.memberships],
            "rel": [list(r) for r in self.relations],
            "quote": self.quote,
        }

    def encode(self) -> tuple[bytes, str]:
        """The record as canonical JSON bytes, and the SHA-256 of its content."""
        body = json.dumps(self.to_json(), ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        data = body.encode("utf-8")
        return data, hashlib.sha256(data).hexdigest()

    @classmethod
    def decode(cls, data: bytes) -> RecordData:
        """Rebuild a record from :meth:`encode`'s bytes."""
        raw = json.loads(data)
        return cls(
            key=raw["key"],
            locator=raw["locator"],
            entity_id=raw["entity"],
            schema=raw["schema"],
            names=[NameData(*n) for n in raw["names"]],
            identifiers=[IdentifierData(*i) for i in raw["ids"]],
            properties=raw["props"],
            memberships=[
                Membership(m[0], PartialDate.parse(m[1]) if m[1] else None, m[2])
                for m in raw["lists"]
            ],
            relations=[(r[0], r[1]) for r in raw["rel"]],
            quote=raw.get("quote"),
        )


def stable_id(prefix: str, *parts: str) -> str:
    """A short deterministic id from text parts (for records that carry no id of their own)."""
    digest = hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]
    return f"{prefix}-{digest}"
