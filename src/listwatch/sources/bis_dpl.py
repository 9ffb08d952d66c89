"""BIS's legacy Denied Persons List file (``dpl.txt``): tab-delimited, quoted, with a header.

The entities are the same as those of the Denied Persons rows of the Consolidated
Screening List (same publisher, same name), so both sources describe one entity.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from listwatch.registry.names import fold_name
from listwatch.sources.base import Reader, dict_rows
from listwatch.sources.csl import bis_entity_id
from listwatch.sources.normalize import us_date
from listwatch.sources.ofac import country_or_text
from listwatch.sources.records import RecordData, clean, stable_id

COLUMNS = (
    "Name",
    "Street_Address",
    "City",
    "State",
    "Country",
    "Postal_Code",
    "Effective_Date",
    "Expiration_Date",
    "Standard_Order",
    "Last_Update",
    "Action",
    "FR_Citation",
)
LIST_ID = "us-bis-dpl"


@dataclass
class DplReader(Reader):
    """Streaming reader of ``dpl.txt``."""

    duplicates: dict[str, int] = field(default_factory=dict)

    def records(self) -> Iterator[RecordData]:
        """One record per row (one denial order entry, with its address)."""
        encoding = "utf-8" if all(f.utf8 for f in self.files) else "cp1252"
        for line, row in dict_rows(self, encoding, COLUMNS, delimiter="\t", record_column="Name"):
            yield self._record(row, line)

    def _record(self, row: dict[str, str], line: int) -> RecordData:
        name = clean(row["Name"])
        if not name:
            raise self.fail("a row without a name", line=line)
        address_parts = [clean(row[c]) for c in ("Street_Address", "City", "State", "Postal_Code")]
        country = clean(row["Country"])
        address = ", ".join(p for p in [*address_parts, country] if p)
        key = stable_id("dpl", fold_name(name), fold_name(address)).removeprefix("dpl-")
        seen = self.duplicates.get(key, 0)
        self.duplicates[key] = seen + 1
        if seen:
            key = f"{key}#{seen + 1}"
        record = RecordData(
            key=key,
            locator=f"line {line} ({name})",
            entity_id=bis_entity_id("us-bis", row["Name"]),
            schema="LegalEntity",
            line=line,
        )
        record.add_name(name, "primary")
        record.add("address", address)
        if country:
            record.add("country", country_or_text(country))
        for column, label in (
            ("Expiration_Date", "Expiration date"),
            ("Standard_Order", "Standard order"),
            ("Action", "Action"),
            ("FR_Citation", "Federal Register"),
        ):
            if clean(row[column]):
                record.add("notes", f"{label}: {clean(row[column])}")
        record.member_of(LIST_ID, us_date(row["Effective_Date"]))
        record.quote = "\t".join(clean(row[c]) for c in COLUMNS[:7])
        return record
