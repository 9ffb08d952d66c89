"""The EU consolidated financial sanctions file (FSF XML 1.1, ``xmlFullSanctionsList_1_1``).

The file is ``<export generationDate=...>`` with one ``<sanctionEntity>`` per listing,
its facts in attributes: ``<nameAlias wholeName=... nameLanguage=... strong=...>``,
``<citizenship>``, ``<birthdate>``, ``<identification>``, ``<address>``, and the
``<regulation>`` elements that listed and amended it. The listing date is the
``designationDate`` attribute where given, else the earliest regulation's publication.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from listwatch.registry.domain import PartialDate
from listwatch.sources.base import Reader
from listwatch.sources.fileio import XmlStream, local, open_binary
from listwatch.sources.normalize import iso_date, timestamp_date
from listwatch.sources.ofac import country_or_text
from listwatch.sources.records import RecordData, clean

LIST_ID = "eu-sanctions"
_SCHEMES = {
    "passport": ("passport", "passportNumber"),
    "id": ("national_id", "idNumber"),
    "nationalid": ("national_id", "idNumber"),
    "regnumber": ("registration", "registrationNumber"),
    "tin": ("tax_id", "taxNumber"),
    "fiscalcode": ("tax_id", "taxNumber"),
    "swiftbic": ("swift_bic", "swiftBic"),
    "imo": ("imo", "imoNumber"),
    "ogrn": ("registration", "ogrnCode"),
    "inn": ("tax_id", "innCode"),
}


def _children(element: Any, name: str) -> list[Any]:
    return [child for child in element if local(child.tag) == name]


def _attr(element: Any, name: str) -> str:
    return clean(element.get(name))


def _country(element: Any) -> str | None:
    code = _attr(element, "countryIso2Code")
    if code and code != "00":
        return country_or_text(code)
    description = _attr(element, "countryDescription")
    return country_or_text(description) if description and description != "UNKNOWN" else None


@dataclass
class EuFsfReader(Reader):
    """Streaming reader of the EU FSF XML."""

    def records(self) -> Iterator[RecordData]:
        """One record per ``sanctionEntity``."""
        stream = open_binary(self.path)
        self.streams.append(stream)
        xml = XmlStream(self.path, stream)
        for element in xml.records({"sanctionEntity"}):
            if self.published is None:
                day = timestamp_date(xml.root_attrib.get("generationDate"))
                self.published = iso_date(day.isoformat()) if day else None
            record = self._record(element, element.sourceline)
            xml.current = record.locator
            yield record

    def _record(self, entity: Any, line: int | None) -> RecordData:
        logical_id = _attr(entity, "logicalId")
        reference = _attr(entity, "euReferenceNumber")
        if not logical_id:
            raise self.fail("a sanctionEntity without a logicalId", line=line, record=reference)
        subject = _children(entity, "subjectType")
        code = _attr(subject[0], "code").lower() if subject else ""
        schema = "Person" if code == "person" else "Organization"
        record = RecordData(
            key=logical_id,
            locator=f"euReferenceNumber {reference} (logicalId {logical_id})",
            entity_id=f"eu-{logical_id}",
            schema=schema,
            line=line,
        )
        for alias in _children(entity, "nameAlias"):
            whole = _attr(alias, "wholeName") or " ".join(
                p for p in (_attr(alias, n) for n in ("firstName", "middleName", "lastName")) if p
            )
            lang = _attr(alias, "nameLanguage").lower() or None
            kind = "primary" if not record.names else "alias"
            if _attr(alias, "strong").lower() == "false":
                kind = "weak"
            record.add_name(whole, kind, lang)
            if schema == "Person":
                record.add("gender", {"M": "male", "F": "female"}.get(_attr(alias, "gender"), ""))
                record.add("title", _attr(alias, "title"))
                record.add("position", _attr(alias, "function"))
        if not record.names:
            raise self.fail("an entry without a name", line=line, record=record.locator)
        record.add_identifier("eu_reference", reference)
        record.add_identifier("un_reference", _attr(entity, "unitedNationId"))
        for remark in _children(entity, "remark"):
            record.add("notes", clean(remark.text))
        listed: list[PartialDate] = []
        designated = iso_date(_attr(entity, "designationDate"))
        programmes = []
        for regulation in _children(entity, "regulation"):
            programme = _attr(regulation, "programme")
            if programme and programme not in programmes:
                programmes.append(programme)
            published = iso_date(_attr(regulation, "publicationDate"))
            if published:
                listed.append(published)
            title = _attr(regulation, "numberTitle")
            if title:
                record.add(
                    "notes", f"{_attr(regulation, 'regulationType') or 'regulation'} {title}"
                )
        record.add("program", *programmes)
        for citizenship in _children(entity, "citizenship"):
            record.add("nationality", _country(citizenship))
        for birth in _children(entity, "birthdate"):
            date = iso_date(_attr(birth, "birthdate")) or iso_date(_attr(birth, "year"))
            if date:
                record.add("birthDate", str(date))
            place = ", ".join(p for p in (_attr(birth, "city"), _attr(birth, "place")) if p)
            country = _attr(birth, "countryDescription")
            record.add("birthPlace", ", ".join(p for p in (place, country) if p and p != "UNKNOWN"))
        for document in _children(entity, "identification"):
            type_code = _attr(document, "identificationTypeCode").lower()
            scheme, prop = _SCHEMES.get(type_code, ("national_id", "idNumber"))
            number = _attr(document, "number") or _attr(document, "latinNumber")
            record.add_identifier(scheme, number, _country(document))
            record.add(prop, number)
        for address in _children(entity, "address"):
            fields = [
                _attr(address, n) for n in ("street", "poBox", "zipCode", "city", "region", "place")
            ]
            country = _attr(address, "countryDescription")
            text = ", ".join(p for p in [*fields, country if country != "UNKNOWN" else ""] if p)
            record.add("address", text)
            record.add("country", _country(address))
        listed_on = designated or (min(listed) if listed else None)
        record.member_of(LIST_ID, listed_on, programmes)
        record.quote = f"{reference}: {record.name}"
        return record
