"""FollowTheMoney entities: OpenSanctions' JSON lines (``entities.ftm.json``) and its
tabular transcriptions of official annexes (CSV with FtM property columns).

A listing is a ``Sanction`` entity pointing at the listed entity; JSON lines are read
twice, first for the sanctions (few), then for the entities, so neither pass holds the
file. Entities on no list known to the registry are skipped and counted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from listwatch.registry.domain import PartialDate
from listwatch.sources.base import Reader, dict_rows
from listwatch.sources.errors import SourceError
from listwatch.sources.fileio import open_binary, open_text
from listwatch.sources.normalize import data_file, day_first_date, iso_date
from listwatch.sources.records import RecordData, clean

#: FollowTheMoney properties that are identifiers, and the registry scheme of each.
IDENTIFIER_PROPS = {
    "registrationNumber": "registration",
    "taxNumber": "tax_id",
    "innCode": "tax_id",
    "ogrnCode": "registration",
    "leiCode": "lei",
    "swiftBic": "swift_bic",
    "imoNumber": "imo",
    "isinCode": "isin",
    "ticker": "ticker",
    "uscCode": "uscc",
    "passportNumber": "passport",
    "idNumber": "national_id",
    "mmsi": "mmsi",
    "vatCode": "vat",
    "dunsCode": "duns",
}
NAME_PROPS = {
    "name": "primary",
    "alias": "alias",
    "previousName": "former",
    "weakAlias": "weak",
    "abbreviation": "acronym",
}
_SKIPPED_PROPS = {"sanctions", "indexText", "addressEntity", "topics"}


def list_for(datasets: list[str], programs: list[str], authorities: list[str]) -> str | None:
    """The registry list of a FtM listing, from its datasets, programmes or authority."""
    table = data_file("ftm_lists.yaml")
    for dataset in datasets:
        found = (table.get("datasets") or {}).get(dataset)
        if found:
            return str(found)
    for program in programs:
        for prefix, list_id in (table.get("program_prefixes") or {}).items():
            if program.upper().startswith(prefix.upper()) and list_id:
                return str(list_id)
    for authority in authorities:
        found = (table.get("authorities") or {}).get(authority)
        if found:
            return str(found)
    return None


def record_from_properties(
    record: RecordData, properties: dict[str, list[str]], *, split_native: bool = False
) -> None:
    """Fill a record from FtM properties: names, identifiers and everything else as facts."""
    for prop, kind in NAME_PROPS.items():
        for index, value in enumerate(properties.get(prop, [])):
            for name, native in _split_native(value) if split_native else [(value, None)]:
                record.add_name(name, kind if index == 0 or kind != "primary" else "alias")
                if native:
                    record.add_name(native, "native")
    for prop, values in properties.items():
        if prop in NAME_PROPS or prop in _SKIPPED_PROPS:
            continue
        scheme = IDENTIFIER_PROPS.get(prop)
        for value in values:
            if scheme:
                record.add_identifier(scheme, value)
            record.add(prop, value)


def _split_native(value: str) -> list[tuple[str, str | None]]:
    """``Sergei AKSENOV (Сергей АКСЁНОВ)`` → the Latin name and the native-script one."""
    text = clean(value)
    if text.endswith(")") and " (" in text:
        head, _, tail = text.rpartition(" (")
        native = tail[:-1]
        if any(ord(ch) > 0x24F for ch in native) and not any(ord(ch) > 0x24F for ch in head):
            return [(head, native)]
    return [(text, None)]


@dataclass
class FtmJsonReader(Reader):
    """Reader of FollowTheMoney JSON lines (an OpenSanctions export)."""

    skipped: int = 0
    listings: dict[str, list[tuple[str, PartialDate | None, list[str]]]] = field(
        default_factory=lambda: defaultdict(list)
    )

    @property
    def total(self) -> int:
        """Both passes read the whole file."""
        return 2 * sum(f.size for f in self.files)

    def _lines(self) -> Iterator[tuple[int, dict[str, Any]]]:
        stream = open_binary(self.path)
        self.streams.append(stream)
        text = open_text(stream, "utf-8")
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(
                    self.path, f"not a JSON object ({exc.msg}): truncated?", line=number
                ) from None
            if not isinstance(data, dict) or "schema" not in data or "id" not in data:
                raise SourceError(
                    self.path,
                    "a line that is not a FollowTheMoney entity (no id or schema)",
                    line=number,
                )
            yield number, data

    def records(self) -> Iterator[RecordData]:
        """Each listed entity once, with the listings its ``Sanction`` entities state."""
        from followthemoney import model

        self.require_utf8()
        for number, data in self._lines():
            schema = model.get(data["schema"])
            if schema is None:
                raise SourceError(self.path, f"unknown schema {data['schema']!r}", line=number)
            if not schema.is_a("Sanction"):
                continue
            props = data.get("properties") or {}
            programs = [*props.get("programId", []), *props.get("program", [])]
            list_id = list_for(data.get("datasets") or [], programs, props.get("authority", []))
            if list_id is None:
                continue
            if props.get("endDate") and not props.get("status"):
                continue  # a listing that ended
            dates = [
                iso_date(d) for d in (*props.get("listingDate", []), *props.get("startDate", []))
            ]
            listed = min((d for d in dates if d), default=None)
            for target in props.get("entity", []):
                self.listings[target].append((list_id, listed, props.get("program", [])))
        for number, data in self._lines():
            schema = model.get(data["schema"])
            if schema is None or not schema.is_a("Thing"):
                continue
            entity_id = str(data["id"])
            props = data.get("properties") or {}
            listings = self.listings.get(entity_id, [])
            if not listings:
                list_id = list_for(data.get("datasets") or [], props.get("programId", []), [])
                if list_id and "sanction" in props.get("topics", []):
                    listings = [(list_id, None, [])]
            if not listings:
                self.skipped += 1
                continue
            record = RecordData(
                key=entity_id,
                locator=f"id {entity_id}",
                entity_id=entity_id,
                schema=schema.name,
                line=number,
            )
            record_from_properties(record, props)
            if not record.names:
                raise SourceError(
                    self.path, "a listed entity without a name", line=number, record=entity_id
                )
            for list_id, listed, programs in listings:
                record.member_of(list_id, listed, programs)
            record.quote = f"{data['schema']} {record.name}"
            yield record
        if self.skipped:
            self.warnings.append(
                f"{self.skipped} entities on no list known to the registry, skipped"
            )


@dataclass
class OpenSanctionsCsvReader(Reader):
    """Reader of OpenSanctions' tabular transcription of an official annex (FtM columns).

    ``programKey`` names the programme, ``startDate`` (D.M.YYYY) the listing date, and
    each record is keyed by its annex and its number in the annex.
    """

    def records(self) -> Iterator[RecordData]:
        """One record per row."""
        from followthemoney import model

        self.require_utf8()
        needed = ("recordId", "schema", "name")
        for line, row in dict_rows(self, "utf-8-sig", needed, record_column="recordId"):
            schema = model.get(clean(row["schema"])) or model.get("LegalEntity")
            assert schema is not None
            celex = clean(row.get("celex"))
            part = clean(row.get("annex"))
            number = clean(row["recordId"])
            key = ":".join(p for p in (celex, part, number) if p)
            record = RecordData(
                key=key,
                locator=f"{celex} annex {part} entry {number}".strip(),
                entity_id=f"eu-oj-{celex}-{part}-{number}".lower().replace(".", "-"),
                schema=schema.name,
                line=line,
            )
            properties: dict[str, list[str]] = {}
            for column, value in row.items():
                if column not in schema.properties or not value:
                    continue
                values = [v for v in (clean(x) for x in value.split(";")) if v]
                if schema.properties[column].type.name == "date":
                    values = [str(day_first_date(v) or v) for v in values]
                properties[column] = values
            record_from_properties(record, properties, split_native=True)
            if not record.names:
                raise self.fail("a row without a name", line=line, record=key)
            for field_name in ("reason", "measure"):
                if clean(row.get(field_name)):
                    record.add("notes", f"{field_name}: {clean(row.get(field_name))}")
            program = clean(row.get("programKey"))
            list_id = list_for([], [program], []) if program else None
            if list_id is None:
                raise self.fail(
                    f"no known list for the programme {program!r}", line=line, record=key
                )
            record.member_of(
                list_id, day_first_date(clean(row.get("startDate"))), [program] if program else []
            )
            record.quote = f"{key}: {record.name}"
            yield record
