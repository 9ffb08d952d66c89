"""The official sources listwatch reads: their download addresses and the formats of each.

``open_snapshot(source, path)`` looks at a file's first bytes, decides which of the
source's formats it is in (refusing, with a hint, a file of another source), finds the
companion files of a multi-file format and returns a streaming :class:`Reader`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from listwatch.sources.base import Reader
from listwatch.sources.errors import SourceError
from listwatch.sources.fileio import (
    FileFacts,
    Sniff,
    inspect_file,
    sniff,
    xml_root,
    zip_member,
)


@dataclass(frozen=True)
class Download:
    """One file of a source's official publication: where it is and what to call it."""

    name: str
    url: str
    required: bool = True


@dataclass(frozen=True)
class SourceSpec:
    """An official source: what it publishes, where, in which formats."""

    id: str
    title: str
    publisher: str
    lists: tuple[str, ...]
    formats: tuple[str, ...]
    downloads: tuple[Download, ...]
    note: str = ""
    key_label: str = "record"
    homepage: str = ""
    aliases: tuple[str, ...] = field(default_factory=tuple)


_OFAC_EXPORTS = "https://sanctionslistservice.ofac.treas.gov/api/PublicationPreview/exports"

SOURCES: dict[str, SourceSpec] = {
    spec.id: spec
    for spec in (
        SourceSpec(
            "ofac-sdn",
            "OFAC Specially Designated Nationals and Blocked Persons List",
            "US Department of the Treasury, Office of Foreign Assets Control",
            ("us-ofac-sdn",),
            ("ofac-legacy-csv", "ofac-classic-xml", "ofac-enhanced-xml"),
            (
                Download("sdn.csv", f"{_OFAC_EXPORTS}/SDN.CSV"),
                Download("add.csv", f"{_OFAC_EXPORTS}/ADD.CSV"),
                Download("alt.csv", f"{_OFAC_EXPORTS}/ALT.CSV"),
                Download("sdn_comments.csv", f"{_OFAC_EXPORTS}/SDN_COMMENTS.CSV", required=False),
            ),
            "sdn.csv (with add.csv, alt.csv, sdn_comments.csv beside it), sdn.xml or "
            "SDN_ENHANCED.XML",
            "ent_num",
            "https://ofac.treasury.gov/sanctions-list-service",
        ),
        SourceSpec(
            "ofac-cons",
            "OFAC Consolidated (non-SDN) Sanctions List",
            "US Department of the Treasury, Office of Foreign Assets Control",
            (
                "us-ofac-ssi",
                "us-ofac-fse",
                "us-ofac-plc",
                "us-ofac-cap",
                "us-ofac-nsmbs",
                "us-ofac-ns-cmic",
                "us-ofac-13599",
            ),
            ("ofac-legacy-csv", "ofac-classic-xml", "ofac-enhanced-xml", "ofac-enhanced-zip"),
            (
                Download("cons_prim.csv", f"{_OFAC_EXPORTS}/CONS_PRIM.CSV"),
                Download("cons_add.csv", f"{_OFAC_EXPORTS}/CONS_ADD.CSV"),
                Download("cons_alt.csv", f"{_OFAC_EXPORTS}/CONS_ALT.CSV"),
                Download("cons_comments.csv", f"{_OFAC_EXPORTS}/CONS_COMMENTS.CSV", required=False),
            ),
            "cons_prim.csv (with cons_add.csv, cons_alt.csv, cons_comments.csv), "
            "consolidated.xml or CONS_ENHANCED.XML / .ZIP",
            "ent_num",
            "https://ofac.treasury.gov/consolidated-sanctions-list-non-sdn-lists",
        ),
        SourceSpec(
            "us-csl",
            "Consolidated Screening List",
            "US Department of Commerce, International Trade Administration (trade.gov)",
            (
                "us-ofac-sdn",
                "us-bis-entity-list",
                "us-bis-meu",
                "us-bis-uvl",
                "us-bis-dpl",
                "us-ofac-ns-cmic",
                "us-ofac-ssi",
                "us-ofac-fse",
                "us-ofac-plc",
                "us-ofac-cap",
                "us-ofac-nsmbs",
                "us-state-itar-debarred",
                "us-state-isn",
            ),
            ("csl-csv", "csl-json"),
            (
                Download(
                    "consolidated.csv",
                    "https://data.trade.gov/downloadable_consolidated_screening_list/v1/consolidated.csv",
                ),
            ),
            "consolidated.csv or consolidated.json",
            "_id",
            "https://www.trade.gov/consolidated-screening-list",
        ),
        SourceSpec(
            "bis-dpl",
            "BIS Denied Persons List (legacy tab-delimited file)",
            "US Department of Commerce, Bureau of Industry and Security",
            ("us-bis-dpl",),
            ("dpl-txt",),
            (Download("dpl.txt", "https://www.bis.doc.gov/dpl/dpl.txt"),),
            "dpl.txt",
            "line",
            "https://www.bis.gov/enforcement/denied-persons-list",
        ),
        SourceSpec(
            "eu-fsf",
            "EU consolidated list of persons, groups and entities subject to financial sanctions",
            "European Commission (DG FISMA), Financial Sanctions Files",
            ("eu-sanctions",),
            ("eu-fsf-xml",),
            (
                Download(
                    "eu_fsf.xml",
                    "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/"
                    "content?token=dG9rZW4tMjAxNw",
                ),
            ),
            "the FSF XML 1.1 file (xmlFullSanctionsList_1_1)",
            "logicalId",
            "https://data.europa.eu/data/datasets/consolidated-list-of-persons-groups-and-entities-subject-to-eu-financial-sanctions",
        ),
        SourceSpec(
            "uk-sanctions",
            "UK Sanctions List",
            "UK Foreign, Commonwealth and Development Office",
            ("uk-sanctions",),
            ("uk-xml",),
            (
                Download(
                    "UK-Sanctions-List.xml",
                    "https://sanctionslist.fcdo.gov.uk/docs/UK-Sanctions-List.xml",
                ),
            ),
            "UK-Sanctions-List.xml",
            "UniqueID",
            "https://www.gov.uk/government/publications/the-uk-sanctions-list",
        ),
        SourceSpec(
            "un-sc",
            "United Nations Security Council Consolidated List",
            "United Nations Security Council",
            ("un-sc",),
            ("un-xml",),
            (
                Download(
                    "consolidated.xml",
                    "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
                ),
            ),
            "consolidated.xml",
            "DATAID",
            "https://main.un.org/securitycouncil/en/content/un-sc-consolidated-list",
        ),
        SourceSpec(
            "ftm",
            "FollowTheMoney entities (OpenSanctions exports, listwatch exports)",
            "OpenSanctions or any FollowTheMoney producer",
            (),
            ("ftm-json", "ftm-restore", "opensanctions-csv"),
            (
                Download(
                    "entities.ftm.json",
                    "https://data.opensanctions.org/datasets/latest/sanctions/entities.ftm.json",
                ),
            ),
            "FollowTheMoney JSON lines (entities.ftm.json), a `listwatch export --format ftm` "
            "file, or an OpenSanctions CSV transcription with FtM columns",
            "id",
            "https://www.opensanctions.org/docs/bulk/",
        ),
        SourceSpec(
            "dod-cmc",
            "DoD list of Chinese military companies (s.1237 / s.1260H)",
            "US Department of Defense",
            ("us-dod-cmc",),
            ("curated-yaml",),
            (
                Download(
                    "dod-1260h-2025-01-07.pdf",
                    "https://media.defense.gov/2025/Jan/07/2003625471/-1/-1/1/ENTITIES-IDENTIFIED-AS-"
                    "CHINESE-MILITARY-COMPANIES-OPERATING-IN-THE-UNITED-STATES.PDF",
                ),
            ),
            "a curated events file (the format of registry/curated/data/events/); the DoD "
            "publishes the list only as releases and PDFs",
            "event",
            "https://www.defense.gov/News/Releases/",
        ),
    )
}

_DESCRIPTIONS = {
    "ofac-legacy-csv": "an OFAC legacy CSV file (sdn.csv / cons_prim.csv)",
    "ofac-classic-xml": "an OFAC XML file in the classic sdnList schema",
    "ofac-enhanced-xml": "an OFAC Enhanced XML file",
    "ofac-enhanced-zip": "an OFAC Enhanced XML archive",
    "ofac-advanced-xml": "an OFAC Advanced XML file",
    "csl-csv": "a Consolidated Screening List CSV file",
    "csl-json": "a Consolidated Screening List JSON file",
    "dpl-txt": "a BIS Denied Persons List file (dpl.txt)",
    "eu-fsf-xml": "an EU Financial Sanctions Files XML file",
    "uk-xml": "a UK Sanctions List XML file",
    "ofsi-conlist-xml": "an OFSI Consolidated List XML file",
    "un-xml": "a UN Security Council Consolidated List XML file",
    "ftm-json": "FollowTheMoney JSON lines",
    "ftm-restore": "a listwatch FollowTheMoney export",
    "opensanctions-csv": "an OpenSanctions CSV transcription",
    "curated-yaml": "a curated events file (YAML)",
}
_UNSUPPORTED = {
    "ofac-advanced-xml": "OFAC's Advanced XML is not read; use sdn.csv, sdn.xml or "
    "SDN_ENHANCED.XML",
    "ofsi-conlist-xml": "OFSI's ConList was replaced by the UK Sanctions List in January 2026; "
    "import UK-Sanctions-List.xml",
}
_XML_ROOTS = {
    "sdnList": "ofac-classic-xml",
    "sanctionsData": "ofac-enhanced-xml",
    "Sanctions": "ofac-advanced-xml",
    "export": "eu-fsf-xml",
    "Designations": "uk-xml",
    "ArrayOfFinancialSanctionsTarget": "ofsi-conlist-xml",
    "CONSOLIDATED_LIST": "un-xml",
}


def source_spec(source_id: str) -> SourceSpec:
    """The source with this id; a clear error naming the known ones otherwise."""
    spec = SOURCES.get(source_id)
    if spec is None:
        from listwatch.registry.db import RegistryError

        known = ", ".join(SOURCES)
        raise RegistryError(f"unknown source {source_id!r} (known sources: {known})")
    return spec


def detect_format(facts: FileFacts) -> str:
    """The format of a file, from its first bytes (``csl-csv``, ``un-xml`` ...)."""
    found: Sniff = sniff(facts)
    path = facts.path
    if found.kind == "binary":
        raise SourceError(
            path,
            "not a text file of a known format: binary content, or text in UTF-16 or "
            "another wrong encoding",
        )
    if found.kind == "zip":
        member = zip_member(path, (".xml",))
        from listwatch.sources.fileio import open_binary

        with open_binary(path, member) as stream:
            head = stream.read(65536)
        root = xml_root(path, head)
        if _XML_ROOTS.get(root) == "ofac-enhanced-xml":
            return "ofac-enhanced-zip"
        raise SourceError(path, f"an archive holding {root!r} XML, which no loader reads")
    if found.kind == "xml":
        assert found.root is not None
        if found.root not in _XML_ROOTS:
            raise SourceError(path, f"XML with root element {found.root!r}, which no loader reads")
        return _XML_ROOTS[found.root]
    if found.kind == "jsonl":
        return "ftm-restore" if '"listwatch"' in found.first_line else "ftm-json"
    if found.kind == "json":
        return "csl-json"
    if found.kind == "yaml":
        return "curated-yaml"
    header = found.first_line
    if found.kind == "tsv" and "Street_Address" in header:
        return "dpl-txt"
    if found.kind == "csv":
        columns = {c.strip().strip('"').lstrip("\ufeff") for c in header.split(",")}
        if {"_id", "source", "name"} <= columns:
            return "csl-csv"
        if {"recordId", "schema", "name"} <= columns:
            return "opensanctions-csv"
        first = header.split(",", 1)[0].strip()
        if first.isdigit():
            return "ofac-legacy-csv"
    raise SourceError(path, f"cannot tell the file's format from its first line {header[:80]!r}")


def describe(fmt: str) -> str:
    """A format's name for messages."""
    return _DESCRIPTIONS.get(fmt, fmt)


def sources_reading(fmt: str) -> list[str]:
    """The sources that read a format (for hints in errors)."""
    return [s.id for s in SOURCES.values() if fmt in s.formats]


def open_snapshot(source_id: str, path: Path) -> Reader:
    """A streaming reader of the snapshot in ``path`` for ``source_id``."""
    spec = source_spec(source_id)
    facts = inspect_file(path)
    facts.check_not_empty()
    fmt = detect_format(facts)
    if fmt in _UNSUPPORTED:
        raise SourceError(path, _UNSUPPORTED[fmt])
    if fmt not in spec.formats:
        others = sources_reading(fmt)
        hint = f"; try `listwatch import {others[0]} {path}`" if others else ""
        raise SourceError(
            path, f"this is {describe(fmt)}, which the {source_id} source does not read{hint}"
        )
    return _open(spec, fmt, path, facts)


def _open(spec: SourceSpec, fmt: str, path: Path, facts: FileFacts) -> Reader:
    opener = _OPENERS.get(fmt)
    if opener is None:
        raise SourceError(path, f"{describe(fmt)} is read by `listwatch import {spec.id}` directly")
    return opener(spec, path, facts)


def _legacy_csv(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.ofac_csv import cons_csv_reader, find_companions, sdn_csv_reader

    companions = find_companions(path)
    files = [facts] + [inspect_file(p) for p in companions.paths()]
    make = cons_csv_reader if spec.id == "ofac-cons" else sdn_csv_reader
    reader = make(path, files, companions)
    reader.encoding = "utf-8" if all(f.utf8 for f in files) else "cp1252"
    if companions.addresses is None or companions.aliases is None:
        reader.warnings.append(
            "no address or alias file beside the primary file: names and addresses of "
            "the entries come from the primary file alone"
        )
    return reader


def _classic_xml(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.ofac import cons_lists
    from listwatch.sources.ofac_xml import ClassicXmlReader

    if spec.id == "ofac-cons":
        return ClassicXmlReader(
            path, [facts], "ofac-classic-xml", key_label="uid", lists_for=cons_lists
        )
    return ClassicXmlReader(path, [facts], "ofac-classic-xml", key_label="uid")


def _enhanced_xml(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.ofac_xml import EnhancedXmlReader

    member = zip_member(path, (".xml",)) if facts.head.startswith(b"PK") else None
    return EnhancedXmlReader(
        path,
        [facts],
        "ofac-enhanced-xml",
        key_label="entity id",
        member=member,
        allowed=frozenset(spec.lists),
    )


def _csl(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.csl import CslReader

    fmt = "csl-json" if sniff(facts).kind == "json" else "csl-csv"
    return CslReader(path, [facts], fmt, key_label="entry")


def _dpl(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.bis_dpl import DplReader

    return DplReader(path, [facts], "dpl-txt", key_label="entry")


def _un(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.un import UnReader

    return UnReader(path, [facts], "un-xml", key_label="DATAID")


def _eu(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.eu import EuFsfReader

    return EuFsfReader(path, [facts], "eu-fsf-xml", key_label="logicalId")


def _uk(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.uk import UkReader

    return UkReader(path, [facts], "uk-xml", key_label="UniqueID")


def _ftm_json(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.ftm import FtmJsonReader

    return FtmJsonReader(path, [facts], "ftm-json", key_label="id")


def _opensanctions_csv(spec: SourceSpec, path: Path, facts: FileFacts) -> Reader:
    from listwatch.sources.ftm import OpenSanctionsCsvReader

    return OpenSanctionsCsvReader(path, [facts], "opensanctions-csv", key_label="entry")


_OPENERS: dict[str, Callable[[SourceSpec, Path, FileFacts], Reader]] = {
    "ofac-legacy-csv": _legacy_csv,
    "ofac-classic-xml": _classic_xml,
    "ofac-enhanced-xml": _enhanced_xml,
    "ofac-enhanced-zip": _enhanced_xml,
    "csl-csv": _csl,
    "csl-json": _csl,
    "dpl-txt": _dpl,
    "un-xml": _un,
    "eu-fsf-xml": _eu,
    "uk-xml": _uk,
    "ftm-json": _ftm_json,
    "opensanctions-csv": _opensanctions_csv,
}
