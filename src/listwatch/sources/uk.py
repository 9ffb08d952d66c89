"""The UK Sanctions List (FCDO), XML edition (``UK-Sanctions-List.xml``).

``<Designations>`` holds a ``<DateGenerated>`` (DD/MM/YYYY) and one ``<Designation>`` per
designated person, entity or ship, keyed by its ``<UniqueID>`` (``RUS0001``). Names are
split over ``Name1``…``Name6`` (``Name6`` is the surname or the whole name of an
entity); dates are DD/MM/YYYY with ``dd``/``mm`` where a part is unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from listwatch.sources.base import Reader
from listwatch.sources.fileio import XmlStream, local, open_binary
from listwatch.sources.normalize import day_first_date
from listwatch.sources.ofac import country_or_text
from listwatch.sources.records import RecordData, clean

LIST_ID = "uk-sanctions"
_SCHEMAS = {"individual": "Person", "entity": "Organization", "ship": "Vessel"}
_NAME_TYPES = {"primary name": "primary", "alias": "alias", "primary name variation": "alias"}
_SCRIPT_LANGS = {
    "russian": "ru",
    "ukrainian": "uk",
    "belarusian": "be",
    "arabic": "ar",
    "chinese": "zh",
    "korean": "ko",
    "persian": "fa",
    "farsi": "fa",
}


def _text(element: Any, name: str) -> str:
    for child in element:
        if local(child.tag) == name:
            return clean(child.text)
    return ""


def _deep(element: Any, name: str) -> list[Any]:
    return [e for e in element.iter() if local(e.tag) == name]


def _deep_texts(element: Any, name: str) -> list[str]:
    return [clean(e.text) for e in _deep(element, name) if clean(e.text)]


@dataclass
class UkReader(Reader):
    """Streaming reader of the UK Sanctions List XML."""

    def records(self) -> Iterator[RecordData]:
        """One record per ``Designation``."""
        stream = open_binary(self.path)
        self.streams.append(stream)
        xml = XmlStream(self.path, stream)
        for element in xml.records({"Designation"}, {"DateGenerated"}):
            if local(element.tag) == "DateGenerated":
                self.published = day_first_date(clean(element.text))
                continue
            record = self._record(element, element.sourceline)
            xml.current = record.locator
            yield record

    def _record(self, designation: Any, line: int | None) -> RecordData:
        unique_id = _text(designation, "UniqueID")
        if not unique_id:
            raise self.fail("a Designation without a UniqueID", line=line)
        kind = _text(designation, "IndividualEntityShip").lower()
        schema = _SCHEMAS.get(kind, "LegalEntity")
        record = RecordData(
            key=unique_id,
            locator=f"UniqueID {unique_id}",
            entity_id=f"uk-{unique_id.lower()}",
            schema=schema,
            line=line,
        )
        for name in _deep(designation, "Name"):
            parts = [_text(name, f"Name{i}") for i in range(1, 7)]
            full = " ".join(p for p in parts if p)
            name_type = _NAME_TYPES.get(_text(name, "NameType").lower(), "alias")
            if "low" in _text(name, "AliasStrength").lower():
                name_type = "weak"
            record.add_name(full, name_type)
        for native in _deep(designation, "NonLatinName"):
            language = _text(native, "NonLatinScriptLanguage").lower()
            record.add_name(
                _text(native, "NameNonLatinScript"), "native", _SCRIPT_LANGS.get(language)
            )
        if not record.names:
            raise self.fail("a designation without a name", line=line, record=record.locator)
        record.add_identifier("uk_unique_id", unique_id)
        record.add_identifier("un_reference", _text(designation, "UNReferenceNumber"))
        regime = _text(designation, "RegimeName")
        record.add("program", regime)
        record.add("notes", _text(designation, "OtherInformation"))
        record.add("notes", _text(designation, "UKStatementofReasons"))
        for measure in _text(designation, "SanctionsImposed").split("|"):
            record.add("notes", f"Sanction imposed: {measure.strip()}" if measure.strip() else None)
        record.add(
            "notes",
            f"Designation source: {_text(designation, 'DesignationSource')}"
            if _text(designation, "DesignationSource")
            else None,
        )
        for address in _deep(designation, "Address"):
            lines = [_text(address, f"AddressLine{i}") for i in range(1, 7)]
            postal, country = _text(address, "AddressPostalCode"), _text(address, "AddressCountry")
            record.add("address", ", ".join(p for p in [*lines, postal, country] if p))
            if country:
                record.add("country", country_or_text(country))
        record.add("phone", *_deep_texts(designation, "PhoneNumber"))
        record.add("email", *_deep_texts(designation, "EmailAddress"))
        record.add("website", *_deep_texts(designation, "Website"))
        for dob in _deep_texts(designation, "DOB"):
            parsed = day_first_date(dob)
            record.add("birthDate", str(parsed) if parsed else dob)
        for nationality in _deep_texts(designation, "Nationality"):
            record.add("nationality", country_or_text(nationality))
        for location in _deep(designation, "Location"):
            town, country = _text(location, "TownOfBirth"), _text(location, "CountryOfBirth")
            record.add("birthPlace", ", ".join(p for p in (town, country) if p))
        record.add("gender", *_deep_texts(designation, "Gender"))
        record.add("position", *_deep_texts(designation, "Position"))
        for number in _deep_texts(designation, "PassportNumber"):
            record.add_identifier("passport", number)
            record.add("passportNumber", number)
        for number in _deep_texts(designation, "NationalIdentifierNumber"):
            record.add_identifier("national_id", number)
            record.add("idNumber", number)
        for number in _deep_texts(designation, "BusinessRegistrationNumber"):
            record.add_identifier("registration", number)
            record.add("registrationNumber", number)
        for number in _deep_texts(designation, "IMONumber"):
            record.add_identifier("imo", number)
            record.add("imoNumber", number)
        record.add("legalForm", *_deep_texts(designation, "TypeOfEntity"))
        for parent in _deep_texts(designation, "ParentCompany"):
            record.relations.append(("subsidiary_of", parent))
        listed = day_first_date(_text(designation, "DateDesignated"))
        record.member_of(LIST_ID, listed, [regime] if regime else [])
        record.quote = f"{unique_id}: {record.name}"
        return record
