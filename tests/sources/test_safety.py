"""Hostile and broken files: each is refused with one clear line naming the file (and the
line and record where it went wrong), and the registry stays exactly as it was."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from listwatch.sources.engine import ImportOptions
from listwatch.sources.errors import SourceError
from listwatch.sources.fileio import XmlStream, open_binary
from listwatch.sources.importer import import_file
from tests.sources.conftest import run_cli, table_counts

UN_ENTRY = (
    "<INDIVIDUAL><DATAID>{id}</DATAID><FIRST_NAME>{name}</FIRST_NAME>"
    "<REFERENCE_NUMBER>QDi.{id}</REFERENCE_NUMBER><LISTED_ON>2001-01-25</LISTED_ON>"
    "</INDIVIDUAL>"
)
XXE = (
    '<?xml version="1.0"?>\n'
    '<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    '<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"><INDIVIDUALS>'
    + UN_ENTRY.format(id=1, name="&xxe;")
    + "</INDIVIDUALS></CONSOLIDATED_LIST>"
)
LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + ']>\n<CONSOLIDATED_LIST dateGenerated="2026-01-01T00:00:00Z"><INDIVIDUALS>'
    + UN_ENTRY.format(id=1, name="&lol9;")
    + "</INDIVIDUALS></CONSOLIDATED_LIST>"
)


@pytest.fixture(scope="module")
def registry(new_registry: Any) -> Any:
    return new_registry()


def refused(registry: Any, source: str, path: Path, match: str, **options: Any) -> str:
    """Import ``path``, expect a SourceError matching ``match``, check nothing was written."""
    before = table_counts(registry)
    with pytest.raises(SourceError, match=match) as failure:
        import_file(registry, source, path, ImportOptions(**options))
    message = str(failure.value)
    assert str(path) in message
    assert "\n" not in message
    assert table_counts(registry) == before
    return message


def test_xxe_is_refused(registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "xxe.xml"
    path.write_text(XXE)
    message = refused(registry, "un-sc", path, "DOCTYPE")
    assert "root:" not in message


def test_billion_laughs_is_refused(registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "laughs.xml"
    path.write_text(LAUGHS)
    refused(registry, "un-sc", path, "DOCTYPE")


def test_a_doctype_after_comments_is_refused(registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "hidden.xml"
    path.write_text(XXE.replace("<!DOCTYPE", "<!-- " + "x" * 5000 + " -->\n<!DOCTYPE", 1))
    refused(registry, "un-sc", path, "DOCTYPE")


def test_the_parser_itself_never_resolves_entities(tmp_path: Path) -> None:
    """Behind the DOCTYPE check, lxml is set up to resolve nothing and fetch nothing."""
    path = tmp_path / "xxe.xml"
    path.write_text(XXE)
    with open_binary(path) as stream:
        texts = [
            "".join(element.itertext())
            for element in XmlStream(path, stream).records({"FIRST_NAME"})
        ]
    assert all("root:" not in text for text in texts)


def test_truncated_xml_names_the_line_and_the_last_record(
    registry: Any, lists_dir: Path, tmp_path: Path
) -> None:
    data = (lists_dir / "un" / "un_consolidated_2026-02-27.xml").read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(data[: len(data) // 2])
    message = refused(registry, "un-sc", path, "truncated")
    assert ", line " in message and "record after REFERENCE_NUMBER" in message


def test_wrong_encodings(registry: Any, fixtures_dir: Path, tmp_path: Path) -> None:
    utf16 = tmp_path / "utf16.xml"
    utf16.write_bytes((fixtures_dir / "uk_sanctions_sample.xml").read_text().encode("utf-16"))
    refused(registry, "uk-sanctions", utf16, "UTF-16")
    header = "_id,source,entity_number,type,programs,name,alt_names\n"
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        (header + '1,"Entity List (EL) - Bureau of Industry and Security",,,,Ok Ltd,\n').encode()
        + '2,"Entity List (EL) - Bureau of Industry and Security",,,,Société Générale X,\n'.encode(
            "latin-1"
        )
    )
    message = refused(registry, "us-csl", latin1, "not valid UTF-8", published=dt.date(2025, 1, 1))
    assert ", line 3" in message
    broken_xml = tmp_path / "latin1.xml"
    broken_xml.write_bytes(
        b'<?xml version="1.0" encoding="UTF-8"?><CONSOLIDATED_LIST dateGenerated="2026-01-01">'
        b"<INDIVIDUALS>"
        + UN_ENTRY.format(id=1, name="Jos\xe9").encode("latin-1")
        + b"</INDIVIDUALS></CONSOLIDATED_LIST>"
    )
    refused(registry, "un-sc", broken_xml, "malformed XML")


def test_empty_files_and_failed_downloads(registry: Any, tmp_path: Path) -> None:
    empty = tmp_path / "sdn.csv"
    empty.write_bytes(b"")
    refused(registry, "ofac-sdn", empty, "empty file \\(0 bytes\\)", published=dt.date(2024, 5, 4))
    blank = tmp_path / "blank.xml"
    blank.write_bytes(b"\r\n\x1a")
    refused(registry, "un-sc", blank, "only white space")
    no_records = tmp_path / "none.xml"
    no_records.write_text(
        '<CONSOLIDATED_LIST dateGenerated="2026-01-01"><INDIVIDUALS/></CONSOLIDATED_LIST>'
    )
    refused(registry, "un-sc", no_records, "no records")


def test_missing_and_extra_csv_columns(registry: Any, tmp_path: Path) -> None:
    short = tmp_path / "sdn.csv"
    short.write_bytes(
        b'36,"AEROCARIBBEAN AIRLINES",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n'
        b'173,"ANGLO-CARIBBEAN CO., LTD.",-0- ,"CUBA"\r\n'
    )
    message = refused(
        registry, "ofac-sdn", short, "expected 12 columns", published=dt.date(2024, 5, 4)
    )
    assert ", line 2, record ent_num 173" in message
    header = tmp_path / "csl.csv"
    header.write_text("_id,source,name\n1,Entity List (EL) - Bureau,Acme\n")
    refused(registry, "us-csl", header, "lacks the columns", published=dt.date(2025, 1, 1))


def test_unknown_sub_list_and_wrong_source(
    registry: Any, fixtures_dir: Path, tmp_path: Path
) -> None:
    csl = tmp_path / "csl.csv"
    csl.write_text(
        "_id,source,entity_number,type,programs,name,alt_names\n"
        '1,"Some New List (SNL) - Department of Nothing",,,,Acme,\n'
    )
    refused(
        registry,
        "us-csl",
        csl,
        "unknown Consolidated Screening List source",
        published=dt.date(2025, 1, 1),
    )
    message = refused(registry, "un-sc", fixtures_dir / "eu_fsf_sample.xml", "does not read")
    assert "listwatch import eu-fsf" in message


def test_a_snapshot_without_a_date_or_from_the_future_is_refused(
    registry: Any, lists_dir: Path, fixtures_dir: Path, tmp_path: Path
) -> None:
    path = lists_dir / "bis_dpl" / "dpl_2019-06.txt"
    refused(registry, "bis-dpl", path, "does not state its publication date")
    refused(registry, "bis-dpl", path, "a date still to come", published=dt.date(2999, 1, 1))
    future = tmp_path / "future.xml"
    future.write_text(
        (fixtures_dir / "uk_sanctions_sample.xml")
        .read_text(encoding="utf-8")
        .replace("<DateGenerated>02/09/2025", "<DateGenerated>02/09/2999"),
        encoding="utf-8",
    )
    refused(registry, "uk-sanctions", future, "the file says .* a date still to come")


def test_cli_errors_are_one_line_with_exit_code_2(registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "xxe.xml"
    path.write_text(XXE)
    code, out, err = run_cli(registry.url, "import", "un-sc", str(path))
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and "DOCTYPE" in err and "xxe.xml" in err
    code, _, err = run_cli(registry.url, "import", "no-such-source", str(path))
    assert code == 2 and "unknown source" in err
    code, _, err = run_cli(registry.url, "import", "un-sc", str(tmp_path / "missing.xml"))
    assert code == 2 and "no such file" in err


def test_an_undecodable_header_is_refused(registry: Any, lists_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "dpl.txt"
    path.write_bytes(b"\x8d" + (lists_dir / "bis_dpl" / "dpl_2019-06.txt").read_bytes())
    message = refused(registry, "bis-dpl", path, "not valid cp1252", published=dt.date(2019, 6, 5))
    assert ", line 1" in message
