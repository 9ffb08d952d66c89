"""BIS's legacy Denied Persons List file (``dpl.txt``): tab-delimited, quoted, with a header.

The entities are the same as those of the Denied Persons rows of the Consolidated
Screening List (same publisher, same name), so both sources describe one entity.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field

from listwatch.registry.names import fold_name
from listwatch.sources.base import Reader
from listwatch.sources.csl import bis_entity_id
from listwatch.sources.fileio import open_binary, open_text
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
        stream = open_binary(self.path)
        self.streams.append(stream)
        rows = csv.DictReader(open_text(stream, encoding), delimiter="\t", restkey="_extra")
        missing = [c for c in COLUMNS if c not in (rows.fieldnames or [])]
        if missing:
            raise self.fail(f"the header lacks the columns {', '.join(missing)}", line=1)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as exc:
                raise self.fail(f"malformed file ({exc})", line=rows.line_num) from None
            except UnicodeDecodeError as exc:
                raise self.fail(
                    f"not valid {encoding} text ({exc.reason})", line=rows.line_num + 1
                ) from None
            if "_extra" in row or None in row.values():
                raise self.fail(
                    f"expected {len(COLUMNS)} tab-separated columns: missing columns or a "
                    "truncated file",
                    line=rows.line_num,
                )
            yield self._record(row, rows.line_num)

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
