"""OFAC's legacy CSV files: ``sdn.csv`` (or ``cons_prim.csv``) with its companions.

The primary file has one entry per row and no header; ``add.csv`` (addresses),
``alt.csv`` (alternate names) and ``sdn_comments.csv`` (remarks that overflow) refer to
entries by ent_num. The companions are small and read into memory keyed by ent_num;
the primary file is streamed. Null fields are written ``-0-``; pristine files use CRLF
and end with a DOS end-of-file byte (``\\x1a``).
"""

from __future__ import annotations

import csv
import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from listwatch.registry.domain import PartialDate
from listwatch.sources.base import LazyRecord, Reader
from listwatch.sources.errors import SourceError
from listwatch.sources.fileio import FileFacts, open_binary, open_text
from listwatch.sources.ofac import (
    SDN_LIST,
    apply_remarks,
    cons_lists,
    country_or_text,
    ofac_id,
    person_name_parts,
    refine_schema,
    schema_for,
    split_programs,
)
from listwatch.sources.records import RecordData, clean

PRIMARY_COLUMNS = (
    "ent_num",
    "SDN_Name",
    "SDN_Type",
    "Program",
    "Title",
    "Call_Sign",
    "Vess_type",
    "Tonnage",
    "GRT",
    "Vess_flag",
    "Vess_owner",
    "Remarks",
)
ADDRESS_COLUMNS = ("ent_num", "add_num", "Address", "City/State/Postal", "Country", "Add_remarks")
ALIAS_COLUMNS = ("ent_num", "alt_num", "alt_type", "alt_name", "alt_remarks")
COMMENT_COLUMNS = ("ent_num", "remarks_extension")

_ALT_KINDS = {"aka": "alias", "fka": "former", "nka": "new"}


@dataclass
class Companions:
    """The companion files found beside a primary file (any may be missing)."""

    addresses: Path | None = None
    aliases: Path | None = None
    comments: Path | None = None

    def paths(self) -> list[Path]:
        """The companions that exist, in a fixed order."""
        return [p for p in (self.addresses, self.aliases, self.comments) if p is not None]


def _find(directory: Path, name: str) -> Path | None:
    wanted = name.lower()
    for candidate in directory.iterdir():
        if candidate.name.lower() == wanted and candidate.is_file():
            return candidate
    return None


def find_companions(primary: Path) -> Companions:
    """``add.csv``/``alt.csv``/``sdn_comments.csv`` beside ``sdn.csv`` (or the ``cons_`` set).

    A primary file with a suffix (``sdn_2024-05-01.csv``) looks for companions with the
    same suffix (``add_2024-05-01.csv``).
    """
    name = primary.name.lower()
    directory = primary.parent
    if name.startswith("cons_prim"):
        suffix = name[len("cons_prim") :]
        names = ("cons_add", "cons_alt", "cons_comments")
    elif name.startswith("sdn"):
        suffix = name[len("sdn") :]
        names = ("add", "alt", "sdn_comments")
    else:
        return Companions()
    found = [_find(directory, stem + suffix) for stem in names]
    return Companions(*found)


def _rows(
    reader: Reader, facts: FileFacts, columns: tuple[str, ...], encoding: str
) -> Iterator[tuple[int, list[str]]]:
    """The rows of one headerless OFAC CSV file, checked for their column count."""
    stream = open_binary(facts.path)
    reader.streams.append(stream)
    text = open_text(stream, encoding)
    rows = csv.reader(text)
    record: str | None = None
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise SourceError(
                facts.path,
                f"not valid {encoding} text ({exc.reason}); wrong encoding?",
                line=rows.line_num + 1,
                record=f"after ent_num {record}" if record else None,
            ) from None
        except csv.Error as exc:
            raise SourceError(facts.path, f"malformed CSV ({exc})", line=rows.line_num) from None
        if not row or (len(row) == 1 and row[0].strip(" \x1a\r\n") == ""):
            continue
        if len(row) != len(columns):
            key = row[0].strip() if row and row[0].strip().isdigit() else None
            raise SourceError(
                facts.path,
                f"expected {len(columns)} columns ({', '.join(columns)}), found {len(row)}: "
                "missing columns or a truncated file",
                line=rows.line_num,
                record=f"ent_num {key}" if key else None,
            )
        ent_num = row[0].strip()
        if not ent_num.isdigit():
            raise SourceError(
                facts.path,
                f"the first column must be the entry number (ent_num), found {ent_num[:40]!r}",
                line=rows.line_num,
            )
        record = ent_num
        yield rows.line_num, row


@dataclass
class OfacCsvReader(Reader):
    """Streaming reader of a legacy OFAC CSV set (SDN or non-SDN)."""

    companions: Companions = field(default_factory=Companions)
    lists_for: Callable[[list[str]], list[str]] = lambda _programs: [SDN_LIST]
    encoding: str = "cp1252"

    def _companion(
        self, path: Path | None, columns: tuple[str, ...]
    ) -> dict[str, list[tuple[int, list[str]]]]:
        table: dict[str, list[tuple[int, list[str]]]] = defaultdict(list)
        if path is None:
            return table
        facts = next(f for f in self.files if f.path == path)
        for line, row in _rows(self, facts, columns, self.encoding):
            table[row[0].strip()].append((line, row))
        return table

    def records(self) -> Iterator[RecordData]:
        """One record per row of the primary file, joined with its addresses and aliases."""
        for item in self.lazy_records():
            yield item.parse()

    def lazy_records(self) -> Iterator[LazyRecord]:
        """Each entry as the digest of its rows (primary row and companion rows) and a
        parser: an entry whose rows did not change since the last snapshot is not parsed."""
        addresses = self._companion(self.companions.addresses, ADDRESS_COLUMNS)
        aliases = self._companion(self.companions.aliases, ALIAS_COLUMNS)
        comments = self._companion(self.companions.comments, COMMENT_COLUMNS)
        for line, row in _rows(self, self.files[0], PRIMARY_COLUMNS, self.encoding):
            ent_num = row[0].strip()
            parts = ["\x1f".join(row)]
            for table in (addresses, aliases, comments):
                parts += ["\x1f".join(r) for _line, r in table.get(ent_num, [])]
                parts.append("\x1e")
            digest = hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()
            yield LazyRecord(
                ent_num,
                digest,
                partial(self._record, line, row, addresses, aliases, comments),
            )

    def _record(
        self,
        line: int,
        row: list[str],
        addresses: dict[str, list[tuple[int, list[str]]]],
        aliases: dict[str, list[tuple[int, list[str]]]],
        comments: dict[str, list[tuple[int, list[str]]]],
    ) -> RecordData:
        ent_num = row[0].strip()
        fields = dict(zip(PRIMARY_COLUMNS, (clean(v) for v in row), strict=True))
        schema = schema_for(fields["SDN_Type"])
        programs = split_programs(row[3])
        record = RecordData(
            key=ent_num,
            locator=f"ent_num {ent_num}",
            entity_id=ofac_id(ent_num),
            schema=schema,
            line=line,
        )
        name = fields["SDN_Name"]
        if not name:
            raise self.fail("an entry without a name", line=line, record=f"ent_num {ent_num}")
        record.add_name(name, "primary")
        if schema == "Person" and ", " in name:
            last, first = name.split(", ", 1)
            person_name_parts(record, last, first)
        record.add("program", *programs)
        if fields["Title"]:
            record.add("position" if schema == "Person" else "notes", fields["Title"])
        record.add("callSign", fields["Call_Sign"])
        record.add("type", fields["Vess_type"])
        record.add("tonnage", fields["Tonnage"])
        record.add("grossRegisteredTonnage", fields["GRT"])
        if fields["Vess_flag"]:
            record.add("flag", country_or_text(fields["Vess_flag"]))
        if fields["Vess_owner"]:
            record.add("notes", f"Vessel owner {fields['Vess_owner']}")
        remarks = row[11] if clean(row[11]) else ""
        for _line, extension in comments.get(ent_num, []):
            remarks += extension[1]
        listing_dates: dict[str, PartialDate] = {}
        apply_remarks(record, remarks, listing_dates)
        for _line, alt in aliases.get(ent_num, []):
            record.add_name(alt[3], _ALT_KINDS.get(clean(alt[2]).lower(), "alias"))
            if clean(alt[4]):
                record.add("notes", f"{clean(alt[3])}: {clean(alt[4])}")
        for _line, address in addresses.get(ent_num, []):
            parts = [clean(address[2]), clean(address[3]), clean(address[4])]
            text = ", ".join(p for p in parts if p)
            record.add("address", text)
            if clean(address[4]):
                record.add("country", country_or_text(clean(address[4])))
            if clean(address[5]):
                record.add("notes", f"{text}: {clean(address[5])}")
        refine_schema(record)
        listed = listing_dates.get("Listing Date (CMIC)")
        lists = self.lists_for(programs)
        if not lists:
            raise self.fail(
                f"no known list for the programmes {programs} "
                "(see sources/data/ofac_programs.yaml)",
                line=line,
                record=f"ent_num {ent_num}",
            )
        for list_id in lists:
            record.member_of(list_id, listed if list_id == "us-ofac-ns-cmic" else None, programs)
        record.quote = f"{name} [{'] ['.join(programs)}]"
        return record


def sdn_csv_reader(path: Path, files: list[FileFacts], companions: Companions) -> OfacCsvReader:
    """A reader of the SDN list's legacy CSV set."""
    return OfacCsvReader(
        path,
        files,
        "ofac-legacy-csv",
        key_label="ent_num",
        one_record_per_entity=True,
        companions=companions,
    )


def cons_csv_reader(path: Path, files: list[FileFacts], companions: Companions) -> OfacCsvReader:
    """A reader of the non-SDN consolidated list's legacy CSV set (lists from programmes)."""
    return OfacCsvReader(
        path,
        files,
        "ofac-legacy-csv",
        key_label="ent_num",
        one_record_per_entity=True,
        companions=companions,
        lists_for=cons_lists,
    )
