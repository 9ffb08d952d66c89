"""The US Consolidated Screening List (trade.gov), as CSV or JSON.

Each row belongs to one sub-list, named by its ``source`` label; each sub-list becomes
its own list in the registry. Treasury rows carry OFAC's ent_num and so describe the
same entity as OFAC's own files (``ofac-<ent_num>``). Rows of BIS and the State
Department have no stable id (``_id`` is a hash of the row and changes when any field
does): their entity is identified by the publisher and the name, and the record by the
name and addresses, so that an edited address is an amendment, not a new listing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from listwatch.registry.domain import PartialDate
from listwatch.registry.names import fold_name
from listwatch.sources.base import Reader, dict_rows
from listwatch.sources.errors import SourceError
from listwatch.sources.fileio import open_binary
from listwatch.sources.normalize import data_file, dates_in, iso_date, timestamp_date
from listwatch.sources.ofac import (
    apply_label,
    country_or_text,
    ofac_id,
    refine_schema,
    schema_for,
)
from listwatch.sources.records import RecordData, clean, stable_id

REQUIRED_COLUMNS = ("_id", "source", "entity_number", "type", "programs", "name", "alt_names")
_ABBREVIATION = re.compile(r"\(([A-Za-z][A-Za-z\- ]{1,15})\)")
_AFFILIATE = re.compile(r"^(?P<parent>.+?)\.?\s+Affiliated Entity:\s*(?P<name>.+)$", re.I)
_TRAILING_ACRONYM = re.compile(r"^(?P<name>.+?)\s+\((?P<acronym>[^()]{2,30})\)\s*$")


def list_for(label: str) -> dict[str, Any]:
    """The sub-list a ``source`` label names (``Entity List (EL) - ...`` → the Entity List)."""
    table = data_file("csl_sources.yaml")
    abbreviation = (table.get("labels") or {}).get(label)
    if abbreviation is None:
        match = _ABBREVIATION.search(label)
        abbreviation = match.group(1).strip() if match else None
    spec = table["sources"].get(abbreviation) if abbreviation else None
    if spec is None:
        raise KeyError(label)
    return {"abbreviation": abbreviation, **spec}


def split_multi(value: str | None) -> list[str]:
    """A ``;``-joined CSL field as a list (``A; B; and C`` → ``[A, B, C]``)."""
    items = []
    for part in clean(value).split(";"):
        text = clean(part)
        if text.lower().startswith("and "):
            text = text[4:].strip()
        if text:
            items.append(text)
    return items


def bis_entity_id(authority: str, name: str) -> str:
    """The entity id of a BIS or State row: its publisher and its name as written."""
    return stable_id(authority, fold_name(name))


def _names(record: RecordData, raw_name: str, alt_names: list[str]) -> None:
    """The Entity List writes affiliates as ``Parent (P). Affiliated Entity: X`` and
    acronyms in parentheses; keep the real name first and the rest as aliases."""
    name = raw_name
    affiliate = _AFFILIATE.match(name)
    if affiliate:
        parent = clean(affiliate.group("parent"))
        name = clean(affiliate.group("name"))
        acronym = _TRAILING_ACRONYM.match(parent)
        record.relations.append(("affiliate_of", acronym.group("name") if acronym else parent))
        record.add("notes", f"Affiliated entity of {parent}")
    acronym = _TRAILING_ACRONYM.match(name)
    if acronym and not any(ch.isdigit() for ch in acronym.group("acronym")):
        record.add_name(acronym.group("name"), "primary")
        record.add_name(acronym.group("acronym"), "acronym")
        record.add_name(name, "alias")
    else:
        record.add_name(name, "primary")
    for alias in alt_names:
        record.add_name(alias, "alias")


@dataclass
class CslReader(Reader):
    """Streaming reader of the Consolidated Screening List (CSV or JSON)."""

    duplicates: dict[str, int] = field(default_factory=dict)

    def records(self) -> Iterator[RecordData]:
        """One record per row (the CSV's repeated header rows are skipped)."""
        if self.format == "csl-json":
            yield from self._json_records()
        else:
            yield from self._csv_records()

    def _csv_records(self) -> Iterator[RecordData]:
        self.require_utf8()
        for line, row in dict_rows(self, "utf-8-sig", REQUIRED_COLUMNS, record_column="_id"):
            if row.get("source") == "source":
                continue  # a header line repeated in the middle of the file
            yield self._record(row, line)

    def _json_records(self) -> Iterator[RecordData]:
        import ijson

        self.require_utf8()
        stream = open_binary(self.path)
        self.streams.append(stream)
        builder: Any = None
        count = 0
        try:
            for prefix, event, value in ijson.parse(stream):
                if builder is not None:
                    builder.event(event, value)
                    if prefix == "results.item" and event == "end_map":
                        count += 1
                        yield self._record(_flatten_json(builder.value), None, count)
                        builder = None
                    continue
                if prefix == "results.item" and event == "start_map":
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
                elif prefix == "search_performed_at" and event == "string":
                    self.published = self.published or _as_partial(timestamp_date(value))
                elif prefix == "total" and event == "number":
                    self.expected = int(value)
        except ijson.JSONError as exc:
            raise self.fail(
                f"malformed or truncated JSON ({exc})", record=f"after result {count}"
            ) from None

    def _record(self, row: dict[str, Any], line: int | None, ordinal: int = 0) -> RecordData:
        label = clean(row.get("source"))
        where = f"_id {clean(row.get('_id'))}" if row.get("_id") else f"result {ordinal}"
        try:
            spec = list_for(label)
        except KeyError:
            raise SourceError(
                self.path,
                f"unknown Consolidated Screening List source {label!r} "
                "(see sources/data/csl_sources.yaml)",
                line=line,
                record=where,
            ) from None
        raw_name = clean(row.get("name"))
        if not raw_name:
            raise SourceError(self.path, "a row without a name", line=line, record=where)
        abbreviation = spec["abbreviation"]
        number = clean(row.get("entity_number")) or clean(row.get("_id"))
        addresses = split_multi(row.get("addresses"))
        if spec.get("treasury") and number.isdigit():
            entity_id = ofac_id(number)
            key = f"{abbreviation}:{number}"
        else:
            entity_id = bis_entity_id(spec["authority"], raw_name)
            key = f"{abbreviation}:" + stable_id(
                "row", fold_name(raw_name), fold_name("; ".join(addresses))
            ).removeprefix("row-")
            seen = self.duplicates.get(key, 0)
            self.duplicates[key] = seen + 1
            if seen:
                key = f"{key}#{seen + 1}"
        record = RecordData(
            key=key,
            locator=f"_id {clean(row.get('_id'))} ({abbreviation})",
            entity_id=entity_id,
            schema=schema_for(clean(row.get("type"))),
            line=line,
        )
        _names(record, raw_name, split_multi(row.get("alt_names")))
        programs = split_multi(row.get("programs"))
        record.add("program", *programs)
        if clean(row.get("title")):
            record.add("position" if record.schema == "Person" else "notes", row.get("title"))
        for address in addresses:
            record.add("address", address)
            tail = address.rsplit(",", 1)[-1].strip()
            if len(tail) == 2 and tail.isalpha():
                record.add("country", country_or_text(tail))
        for code in split_multi(row.get("citizenships")):
            record.add("citizenship", country_or_text(code))
        for code in split_multi(row.get("nationalities")):
            record.add("nationality", country_or_text(code))
        for text in split_multi(row.get("dates_of_birth")):
            parsed = dates_in(text)
            record.add("birthDate", *([str(d) for d in parsed] or [text]))
        record.add("birthPlace", *split_multi(row.get("places_of_birth")))
        listing_dates: dict[str, PartialDate] = {}
        for item in split_multi(row.get("ids")):
            value, _, label_text = item.rpartition(", ")
            country = None
            head = value.split(", ", 1)
            if len(head) == 2 and len(head[0]) == 2 and head[0].isupper():
                country, value = head
            apply_label(record, label_text, value, country=country, listing_dates=listing_dates)
        record.add("callSign", row.get("call_sign"))
        record.add("type", row.get("vessel_type"))
        record.add("tonnage", row.get("gross_tonnage"))
        record.add("grossRegisteredTonnage", row.get("gross_registered_tonnage"))
        if clean(row.get("vessel_flag")):
            record.add("flag", country_or_text(clean(row.get("vessel_flag"))))
        if clean(row.get("vessel_owner")):
            record.add("notes", f"Vessel owner {clean(row.get('vessel_owner'))}")
        if clean(row.get("remarks")):
            record.add("notes", row.get("remarks"))
        for column, label_text in (
            ("federal_register_notice", "Federal Register"),
            ("license_requirement", "Licence requirement"),
            ("license_policy", "Licence policy"),
            ("standard_order", "Standard order"),
            ("end_date", "End date"),
        ):
            if clean(row.get(column)):
                record.add("notes", f"{label_text}: {clean(row.get(column))}")
        record.add("sourceUrl", row.get("source_information_url"))
        refine_schema(record)
        listed = iso_date(clean(row.get("start_date"))) or listing_dates.get("Listing Date (CMIC)")
        record.member_of(spec["list"], listed, programs)
        record.quote = f"{raw_name} [{label}]"
        return record


def _as_partial(day: Any) -> PartialDate | None:
    return PartialDate.parse(day) if day else None


def _flatten_json(result: dict[str, Any]) -> dict[str, Any]:
    """A JSON result in the CSV's shape (lists joined with ``;``, addresses as text)."""
    row: dict[str, Any] = {}
    for key, value in result.items():
        if key == "id":
            row["_id"] = str(value)
        elif key == "addresses" and isinstance(value, list):
            parts = []
            for address in value:
                if isinstance(address, dict):
                    fields = ("address", "city", "state", "postal_code", "country")
                    parts.append(
                        ", ".join(clean(address.get(f)) for f in fields if clean(address.get(f)))
                    )
                else:
                    parts.append(clean(str(address)))
            row["addresses"] = "; ".join(p for p in parts if p)
        elif key == "ids" and isinstance(value, list):
            items = []
            for item in value:
                if isinstance(item, dict):
                    head = [clean(item.get("country")), clean(item.get("number"))]
                    items.append(", ".join(p for p in [*head, clean(item.get("type"))] if p))
            row["ids"] = "; ".join(items)
        elif isinstance(value, list):
            row[key] = "; ".join(clean(str(v)) for v in value if v is not None)
        elif value is None:
            row[key] = ""
        else:
            row[key] = str(value)
    row.setdefault("_id", row.get("entity_number", ""))
    return row
