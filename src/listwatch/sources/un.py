"""The UN Security Council Consolidated List (``consolidated.xml``).

Individuals' names are split over FIRST_NAME … FOURTH_NAME; an entity's name is its
FIRST_NAME. ``LISTED_ON`` is each entry's own listing date and ``dateGenerated`` on the
root is the snapshot's date. DATAID is stable across editions (reference numbers are
sometimes renumbered), so it keys the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from listwatch.sources.base import Reader
from listwatch.sources.fileio import XmlStream, local, open_binary
from listwatch.sources.normalize import iso_date, timestamp_date
from listwatch.sources.ofac import country_or_text
from listwatch.sources.records import RecordData, clean

LIST_ID = "un-sc"
_QUALITY_KINDS = {"good": "alias", "low": "weak", "a.k.a.": "alias", "f.k.a.": "former"}


def _text(element: Any, name: str) -> str:
    for child in element:
        if local(child.tag) == name:
            return clean(child.text)
    return ""


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if local(child.tag) == name]


def _values(element: Any, name: str) -> list[str]:
    values = []
    for child in _children(element, name):
        values += [clean(v.text) for v in child if local(v.tag) == "VALUE" and clean(v.text)]
    return values


@dataclass
class UnReader(Reader):
    """Streaming reader of the UN SC Consolidated List XML."""

    def records(self) -> Iterator[RecordData]:
        """One record per INDIVIDUAL or ENTITY."""
        stream = open_binary(self.path)
        self.streams.append(stream)
        xml = XmlStream(self.path, stream)
        for element in xml.records({"INDIVIDUAL", "ENTITY"}):
            if self.published is None:
                day = timestamp_date(xml.root_attrib.get("dateGenerated"))
                self.published = iso_date(day.isoformat()) if day else None
            record = self._record(element, element.sourceline)
            xml.current = record.locator
            yield record

    def _record(self, element: Any, line: int | None) -> RecordData:
        person = local(element.tag) == "INDIVIDUAL"
        dataid = _text(element, "DATAID")
        reference = _text(element, "REFERENCE_NUMBER")
        if not dataid:
            raise self.fail("an entry without a DATAID", line=line, record=reference or None)
        record = RecordData(
            key=dataid,
            locator=f"REFERENCE_NUMBER {reference} (DATAID {dataid})",
            entity_id=f"un-{dataid}",
            schema="Person" if person else "Organization",
            line=line,
        )
        parts = [
            _text(element, tag)
            for tag in ("FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME")
        ]
        name = " ".join(p for p in parts if p)
        if not name:
            raise self.fail("an entry without a name", line=line, record=record.locator)
        record.add_name(name, "primary")
        if person:
            record.add("firstName", parts[0])
            record.add("lastName", " ".join(p for p in parts[1:] if p))
        record.add_name(_text(element, "NAME_ORIGINAL_SCRIPT"), "native")
        record.add_identifier("un_reference", reference)
        program = _text(element, "UN_LIST_TYPE")
        record.add("program", program)
        record.add("notes", _text(element, "COMMENTS1"))
        record.add("title", *_values(element, "TITLE"))
        record.add("position", *_values(element, "DESIGNATION"))
        for nationality in _values(element, "NATIONALITY"):
            record.add("nationality", country_or_text(nationality))
        record.add("gender", _text(element, "GENDER"))
        alias_tag = "INDIVIDUAL_ALIAS" if person else "ENTITY_ALIAS"
        for alias in _children(element, alias_tag):
            kind = _QUALITY_KINDS.get(_text(alias, "QUALITY").lower(), "alias")
            for spelling in _text(alias, "ALIAS_NAME").split(";"):
                record.add_name(spelling, kind)
        address_tag = "INDIVIDUAL_ADDRESS" if person else "ENTITY_ADDRESS"
        for address in _children(element, address_tag):
            fields = [_text(address, t) for t in ("STREET", "CITY", "STATE_PROVINCE", "ZIP_CODE")]
            country = _text(address, "COUNTRY")
            text = ", ".join(p for p in [*fields, country] if p)
            record.add("address", text)
            if country:
                record.add("country", country_or_text(country))
        for birth in _children(element, "INDIVIDUAL_DATE_OF_BIRTH"):
            date = _text(birth, "DATE")[:10] or _text(birth, "YEAR")
            if date:
                record.add("birthDate", str(iso_date(date) or date))
            start, end = _text(birth, "FROM_YEAR"), _text(birth, "TO_YEAR")
            if start and end:
                record.add(
                    "birthDate",
                    *(str(y) for y in range(int(start), int(end) + 1))
                    if start.isdigit() and end.isdigit() and int(end) - int(start) < 20
                    else [f"{start}/{end}"],
                )
        for place in _children(element, "INDIVIDUAL_PLACE_OF_BIRTH"):
            fields = [_text(place, t) for t in ("CITY", "STATE_PROVINCE", "COUNTRY")]
            record.add("birthPlace", ", ".join(p for p in fields if p))
        for document in _children(element, "INDIVIDUAL_DOCUMENT"):
            kind = (_text(document, "TYPE_OF_DOCUMENT") or "").lower()
            number = _text(document, "NUMBER")
            country = _text(document, "ISSUING_COUNTRY") or _text(document, "COUNTRY_OF_ISSUE")
            scheme = "passport" if "passport" in kind else "national_id"
            code = country_or_text(country) if country else None
            record.add_identifier(scheme, number, code if code and len(code) <= 6 else None)
            record.add("passportNumber" if scheme == "passport" else "idNumber", number)
        listed = iso_date(_text(element, "LISTED_ON")[:10])
        record.member_of(LIST_ID, listed, [program] if program else [])
        record.quote = f"{reference}: {name}"
        return record
