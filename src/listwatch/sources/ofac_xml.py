"""OFAC's XML files: the classic ``sdnList`` schema (sdn.xml, consolidated.xml) and the
Enhanced XML (``sanctionsData``: SDN_ENHANCED.XML, CONS_ENHANCED.XML).

Namespaces differ between editions, so elements are matched by local name only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from listwatch.registry.domain import PartialDate
from listwatch.sources.base import Reader
from listwatch.sources.fileio import XmlStream, local, open_binary
from listwatch.sources.normalize import dates_in, iso_date, us_date
from listwatch.sources.ofac import (
    SDN_LIST,
    apply_label,
    apply_remarks,
    country_or_text,
    enhanced_list,
    ofac_id,
    person_name_parts,
    refine_schema,
    schema_for,
)
from listwatch.sources.records import RecordData, clean

_AKA_KINDS = {"a.k.a.": "alias", "f.k.a.": "former", "n.k.a.": "new"}
_SCRIPT_LANGS = {"chinese simplified": "zh", "chinese traditional": "zh"}


def _children(element: Any) -> dict[str, Any]:
    return {local(child.tag): child for child in element}


def _text(element: Any, name: str) -> str:
    for child in element:
        if local(child.tag) == name:
            return clean(child.text)
    return ""


def _all(element: Any, name: str) -> list[Any]:
    return [e for e in element.iter() if local(e.tag) == name]


@dataclass
class ClassicXmlReader(Reader):
    """Streaming reader of the classic ``sdnList`` XML (SDN or consolidated)."""

    member: str | None = None
    lists_for: Callable[[list[str]], list[str]] = lambda _programs: [SDN_LIST]

    def records(self) -> Iterator[RecordData]:
        """One record per ``sdnEntry``; ``Publish_Date`` and ``Record_Count`` from the header."""
        stream = open_binary(self.path, self.member)
        self.streams.append(stream)
        xml = XmlStream(self.path, stream)
        for element in xml.records({"sdnEntry"}, {"Publish_Date", "Record_Count"}):
            name = local(element.tag)
            if name == "Publish_Date":
                self.published = us_date(element.text) or iso_date(element.text)
                continue
            if name == "Record_Count":
                count = clean(element.text)
                self.expected = int(count) if count.isdigit() else None
                continue
            record = self._record(element, element.sourceline)
            xml.current = record.locator
            yield record

    def _record(self, entry: Any, line: int | None) -> RecordData:
        uid = _text(entry, "uid")
        if not uid:
            raise self.fail("an sdnEntry without a uid", line=line)
        schema = schema_for(_text(entry, "sdnType"))
        record = RecordData(
            key=uid, locator=f"uid {uid}", entity_id=ofac_id(uid), schema=schema, line=line
        )
        last, first = _text(entry, "lastName"), _text(entry, "firstName")
        name = f"{last}, {first}" if last and first else last or first
        if not name:
            raise self.fail("an entry without a name", line=line, record=f"uid {uid}")
        record.add_name(name, "primary")
        if schema == "Person":
            person_name_parts(record, last, first)
        if title := _text(entry, "title"):
            record.add("position" if schema == "Person" else "notes", title)
        programs = [clean(p.text) for p in _all(entry, "program") if clean(p.text)]
        record.add("program", *programs)
        listing_dates: dict[str, PartialDate] = {}
        for item in _all(entry, "id"):
            apply_label(
                record,
                _text(item, "idType"),
                _text(item, "idNumber"),
                country=_text(item, "idCountry") or None,
                listing_dates=listing_dates,
            )
        for aka in _all(entry, "aka"):
            alias_last, alias_first = _text(aka, "lastName"), _text(aka, "firstName")
            alias = f"{alias_last}, {alias_first}" if alias_last and alias_first else alias_last
            kind = _AKA_KINDS.get(_text(aka, "type").lower(), "alias")
            if _text(aka, "category").lower() == "weak":
                kind = "weak"
            record.add_name(alias or alias_first, kind)
        for address in _all(entry, "address"):
            parts = [
                _text(address, tag)
                for tag in ("address1", "address2", "address3", "city", "stateOrProvince")
            ]
            postal, country = _text(address, "postalCode"), _text(address, "country")
            text = ", ".join(p for p in [*parts, postal, country] if p)
            record.add("address", text)
            if country:
                record.add("country", country_or_text(country))
        for item in _all(entry, "nationality"):
            record.add("nationality", country_or_text(_text(item, "country")))
        for item in _all(entry, "citizenship"):
            record.add("citizenship", country_or_text(_text(item, "country")))
        for item in _all(entry, "dateOfBirthItem"):
            parsed = dates_in(_text(item, "dateOfBirth"))
            record.add("birthDate", *([str(d) for d in parsed] or [_text(item, "dateOfBirth")]))
        for item in _all(entry, "placeOfBirthItem"):
            record.add("birthPlace", _text(item, "placeOfBirth"))
        for vessel in _all(entry, "vesselInfo"):
            record.add("callSign", _text(vessel, "callSign"))
            record.add("type", _text(vessel, "vesselType"))
            if flag := _text(vessel, "vesselFlag"):
                record.add("flag", country_or_text(flag))
            if owner := _text(vessel, "vesselOwner"):
                record.add("notes", f"Vessel owner {owner}")
            record.add("tonnage", _text(vessel, "tonnage"))
            record.add("grossRegisteredTonnage", _text(vessel, "grossRegisteredTonnage"))
        apply_remarks(record, _text(entry, "remarks"), listing_dates)
        refine_schema(record)
        lists = self.lists_for(programs)
        if not lists:
            raise self.fail(
                f"no known list for the programmes {programs} "
                "(see sources/data/ofac_programs.yaml)",
                line=line,
                record=f"uid {uid}",
            )
        listed = listing_dates.get("Listing Date (CMIC)")
        for list_id in lists:
            record.member_of(list_id, listed if list_id == "us-ofac-ns-cmic" else None, programs)
        record.quote = f"{name} [{'] ['.join(programs)}]"
        return record


@dataclass
class EnhancedXmlReader(Reader):
    """Streaming reader of OFAC's Enhanced XML (``sanctionsData``), SDN or consolidated.

    Each entity names the lists it is on, with the date it was published on each; only
    the lists in ``allowed`` are taken (the consolidated file also marks entries that are
    on the SDN list, which the SDN list's own file is authoritative for).
    """

    member: str | None = None
    allowed: frozenset[str] = field(default_factory=frozenset)

    def records(self) -> Iterator[RecordData]:
        """One record per ``entity``; the publication date from ``publicationInfo``."""
        stream = open_binary(self.path, self.member)
        self.streams.append(stream)
        xml = XmlStream(self.path, stream)
        for element in xml.records({"entity", "referenceValue"}, {"dataAsOf"}):
            name = local(element.tag)
            if name == "dataAsOf":
                self.published = iso_date(clean(element.text)[:10])
                continue
            if name == "referenceValue":
                continue
            record = self._record(element, element.sourceline)
            if record is None:
                continue
            xml.current = record.locator
            yield record

    def _record(self, entity: Any, line: int | None) -> RecordData | None:
        uid = clean(entity.get("id"))
        if not uid:
            raise self.fail("an entity without an id", line=line)
        general = _children(entity).get("generalInfo")
        kind = _text(general, "entityType") if general is not None else ""
        record = RecordData(
            key=uid,
            locator=f"entity id {uid}",
            entity_id=ofac_id(uid),
            schema=schema_for(kind),
            line=line,
        )
        programs = [clean(p.text) for p in _all(entity, "sanctionsProgram") if clean(p.text)]
        record.add("program", *programs)
        for authority in _all(entity, "legalAuthority"):
            record.add("notes", f"Legal authority: {clean(authority.text)}")
        self._names(entity, record)
        if not record.names:
            raise self.fail("an entity without a name", line=line, record=f"entity id {uid}")
        for address in _all(entity, "address"):
            country = _text(address, "country")
            parts = [clean(v.text) for v in _all(address, "value")]
            text = ", ".join(p for p in [*parts, country] if p)
            record.add("address", text)
            if country:
                record.add("country", country_or_text(country))
        listing_dates: dict[str, PartialDate] = {}
        for feature in _all(entity, "feature"):
            label = _text(feature, "type")
            dates = _all(feature, "fromDateBegin")
            value = _text(feature, "value")
            if dates and label in ("Birthdate", "Organization Established Date"):
                value = _feature_date(feature) or value
            apply_label(record, label, value, listing_dates=listing_dates)
        for document in _all(entity, "identityDocument"):
            apply_label(
                record,
                _text(document, "type"),
                _text(document, "documentNumber"),
                country=_text(document, "issuingCountry") or None,
            )
        for relation in _all(entity, "relationship"):
            related = [e for e in relation if local(e.tag) == "relatedEntity"]
            if related and clean(related[0].text):
                kind_text = _text(relation, "type") or "related"
                record.relations.append((kind_text, clean(related[0].text)))
        for remark in _all(entity, "remarks"):
            apply_remarks(record, clean(remark.text), listing_dates)
        refine_schema(record)
        for listed in _all(entity, "sanctionsList"):
            list_id = enhanced_list(clean(listed.text))
            if list_id is None:
                continue
            if list_id == "":
                raise self.fail(
                    f"unknown sanctions list {clean(listed.text)!r} "
                    "(see sources/data/ofac_programs.yaml)",
                    line=line,
                    record=f"entity id {uid}",
                )
            if list_id not in self.allowed:
                record.add("notes", f"Also on: {clean(listed.text)}")
                continue
            record.member_of(list_id, iso_date(clean(listed.get("datePublished"))), programs)
        if not record.memberships:
            self.warnings.append(f"entity id {uid}: on none of this source's lists, skipped")
            return None
        record.quote = f"{record.name} [{'] ['.join(programs)}]"
        return record

    @staticmethod
    def _names(entity: Any, record: RecordData) -> None:
        for name in _all(entity, "name"):
            if _text(name, "isPrimary") == "":
                continue  # <name> inside <identityDocument> is a reference, not a name
            primary = _text(name, "isPrimary") == "true"
            alias_type = _text(name, "aliasType").lower()
            kind = "primary" if primary else _AKA_KINDS.get(alias_type, "alias")
            if _text(name, "isLowQuality") == "true" and not primary:
                kind = "weak"
            for translation in _all(name, "translation"):
                full = _text(translation, "formattedFullName")
                script = _text(translation, "script").lower()
                main = _text(translation, "isPrimary") == "true"
                if main:
                    record.add_name(full, kind)
                else:
                    record.add_name(
                        full, "native" if kind == "primary" else kind, _SCRIPT_LANGS.get(script)
                    )


def _feature_date(feature: Any) -> str | None:
    """The date of a dated feature, as precise as its range allows (``1962`` for a year)."""
    begin = iso_date(_text_deep(feature, "fromDateBegin"))
    end = iso_date(_text_deep(feature, "toDateEnd"))
    if begin is None:
        return None
    if end is None or begin == end:
        return str(begin)
    if begin.start.year == end.start.year:
        if begin.start.month == 1 and begin.start.day == 1 and end.start.month == 12:
            return str(begin.start.year)
        if begin.start.month == end.start.month:
            return f"{begin.start.year:04d}-{begin.start.month:02d}"
    return f"{begin}/{end}"


def _text_deep(element: Any, name: str) -> str:
    for item in element.iter():
        if local(item.tag) == name:
            return clean(item.text)
    return ""
