"""OFAC's files: the SDN daily snapshots of May 2024 (+7 then −8), the 2021 trios, the
non-SDN consolidated files in CSV, classic XML and Enhanced XML, and snapshots built by
editing copies."""

from __future__ import annotations

import csv
import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from listwatch.registry.models import Entity, EntityName, Event, SourceRecord
from listwatch.sources.engine import ImportOptions
from listwatch.sources.errors import SourceError
from listwatch.sources.importer import import_file
from tests.sources.conftest import run_cli, table_counts

# The lists of the non-SDN files, by programme tag, as OFAC's list pages describe them.
CONS_PROGRAM_LISTS = {
    "UKRAINE-EO13662": "us-ofac-ssi",
    "NS-PLC": "us-ofac-plc",
    "561List": "us-ofac-cap",
    "561-Related": "us-ofac-cap",
    "IRAN": "us-ofac-13599",
    "CMIC-EO13959": "us-ofac-ns-cmic",
    "FSE-SY": "us-ofac-fse",
    "FSE-IR": "us-ofac-fse",
    "CAATSA - RUSSIA": "us-ofac-nsmbs",
    "BURMA-EO14014": "us-ofac-nsmbs",
    "ILLICIT-DRUGS-EO14059": "us-ofac-nsmbs",
}


def ofac_rows(path: Path) -> list[list[str]]:
    """The data rows of a legacy OFAC CSV file, read independently of the loader."""
    text = path.read_bytes().decode("cp1252").replace("\x1a", "")
    return [row for row in csv.reader(text.splitlines()) if row and row[0].strip().isdigit()]


def cons_expected(programs_per_entry: list[list[str]]) -> Counter[str]:
    """Entries per non-SDN list, from programme tags (RUSSIA-EO14024 alone: menu-based)."""
    counts: Counter[str] = Counter()
    for programs in programs_per_entry:
        lists = {CONS_PROGRAM_LISTS[p] for p in programs if p in CONS_PROGRAM_LISTS}
        if not lists and "RUSSIA-EO14024" in programs:
            lists = {"us-ofac-nsmbs"}
        counts.update(lists)
    return counts


def diff_json(db: str, list_id: str, start: str, end: str) -> dict[str, Any]:
    code, out, err = run_cli(db, "diff", list_id, "--from", start, "--to", end, "--json")
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="module")
def daily(new_registry: Any, lists_dir: Path) -> dict[str, Any]:
    """The three daily SDN snapshots of May 2024, imported in order with their dates."""
    registry = new_registry()
    results = []
    for day in (1, 2, 3):
        path = lists_dir / "ofac_sdn" / "daily_2024-05" / f"sdn_2024-05-0{day}.csv"
        options = ImportOptions(published=dt.date(2024, 5, day))
        results.append(import_file(registry, "ofac-sdn", path, options))
    return {
        "registry": registry,
        "results": results,
        "dir": lists_dir / "ofac_sdn" / "daily_2024-05",
    }


def test_daily_snapshots_record_counts(daily: dict[str, Any]) -> None:
    for day, result in zip((1, 2, 3), daily["results"], strict=True):
        expected = len(ofac_rows(daily["dir"] / f"sdn_2024-05-0{day}.csv"))
        assert result.records == expected
        assert result.records_per_list == {"us-ofac-sdn": expected}
    first = daily["results"][0]
    assert first.first_snapshot
    assert first.events == {"us-ofac-sdn": {"listed": first.records}}


def test_daily_diff_shows_exactly_seven_added_then_eight_removed(daily: dict[str, Any]) -> None:
    db = daily["registry"].url
    before = {r[0] for r in ofac_rows(daily["dir"] / "sdn_2024-05-01.csv")}
    middle = {r[0] for r in ofac_rows(daily["dir"] / "sdn_2024-05-02.csv")}
    after = {r[0] for r in ofac_rows(daily["dir"] / "sdn_2024-05-03.csv")}
    added = diff_json(db, "us-ofac-sdn", "2024-05-01", "2024-05-02")
    assert added["summary"] == {"added": 7}
    assert {c["entity_id"] for c in added["changes"]} == {f"ofac-{n}" for n in middle - before}
    removed = diff_json(db, "us-ofac-sdn", "2024-05-02", "2024-05-03")
    assert removed["summary"] == {"removed": 8}
    assert {c["entity_id"] for c in removed["changes"]} == {f"ofac-{n}" for n in middle - after}
    names = {c["entity_name"] for c in removed["changes"]}
    assert "EMPEROR AVIATION LTD" in names
    event = removed["changes"][0]["event"]
    assert event["date_qualifier"] == "not_after"
    assert event["evidence"][0]["locator"].startswith("ent_num ")
    assert event["evidence"][0]["published"] == "2024-05-03"
    code, out, _ = run_cli(db, "diff", "us-ofac-sdn", "--from", "2024-05-02", "--to", "2024-05-03")
    assert code == 0 and "not later than 2024-05-03" in out


def test_first_snapshot_says_not_later_than(daily: dict[str, Any]) -> None:
    code, out, _ = run_cli(daily["registry"].url, "status", "ofac-36", "--as-of", "2024-05-02")
    assert code == 0
    assert "listed since not later than 2024-05-01" in out
    code, out, _ = run_cli(daily["registry"].url, "status", "ofac-36", "--json")
    status = json.loads(out)["statuses"][0]
    assert status["since_qualifier"] == "not_after"
    assert status["events"][0]["evidence"][0]["locator"] == "ent_num 36"
    code, out, _ = run_cli(daily["registry"].url, "history", "ofac-36")
    assert code == 0 and "not later than 2024-05-01 → now" in out
    # the first snapshot records who is on the list, not who was added that day
    first = diff_json(daily["registry"].url, "us-ofac-sdn", "2024-04-30", "2024-05-01")
    assert list(first["summary"]) == ["first_recorded"]


def test_before_the_first_snapshot_the_status_is_not_known(
    daily: dict[str, Any], tmp_path: Path
) -> None:
    url = daily["registry"].url
    code, out, _ = run_cli(url, "status", "ofac-36", "--as-of", "2024-04-30")
    assert code == 0
    assert "not recorded as listed (uncertain)" in out and "may already have been listed" in out
    duties = ["obligations", "ofac-36", "--role", "us-person", "--json", "--as-of"]
    code, out, _ = run_cli(url, *duties, "2024-04-30")
    assert [d["state"] for d in json.loads(out)["duties"]] == ["uncertain"]
    code, out, _ = run_cli(url, *duties, "2024-05-02")
    duty = json.loads(out)["duties"][0]
    assert (duty["state"], duty["uncertain"]) == ("in_force", False)
    assert (duty["effective_from"], duty["effective_from_qualifier"]) == ("2024-05-01", "not_after")
    name = json.loads(run_cli(url, "entity", "ofac-36", "--json")[1])["name"]
    screen = ["screen", name, "--as-of", "2024-05-02", "--role", "us-person", "--limit", "1"]
    code, out, _ = run_cli(url, *screen)
    assert code == 0, out
    assert "listed since not later than 2024-05-01" in out
    assert "from not later than 2024-05-01" in out
    holdings = tmp_path / "holdings.csv"
    holdings.write_text(f"name\n{name}\n", encoding="utf-8")
    exposure = tmp_path / "exposure.csv"
    portfolio = ["portfolio", str(holdings), "--role", "us-person", "--workers", "1"]
    code, out, err = run_cli(url, *portfolio, "--as-of", "2024-04-30", "--out", str(exposure))
    assert code == 0, err
    assert "uncertain" in out  # the lists column: not listed, uncertain on us-ofac-sdn
    with exposure.open(encoding="utf-8") as handle:
        row = next(csv.DictReader(handle))
    assert row["exposed"] == "false" and row["duties"] == "blocked (us-ofac-sdn, uncertain)"


def test_reimporting_the_same_bytes_changes_nothing(daily: dict[str, Any]) -> None:
    registry = daily["registry"]
    before = table_counts(registry)
    path = daily["dir"] / "sdn_2024-05-02.csv"
    result = import_file(registry, "ofac-sdn", path, ImportOptions(published=dt.date(2024, 5, 2)))
    assert result.unchanged
    assert table_counts(registry) == before


def test_an_older_snapshot_is_refused(daily: dict[str, Any], lists_dir: Path) -> None:
    registry = daily["registry"]
    before = table_counts(registry)
    with pytest.raises(SourceError, match="older than the latest imported snapshot"):
        import_file(
            registry,
            "ofac-sdn",
            lists_dir / "ofac_sdn" / "2021-07-07" / "sdn.csv",
            ImportOptions(published=dt.date(2021, 7, 7)),
        )
    assert table_counts(registry) == before


def test_remarks_become_facts(daily: dict[str, Any]) -> None:
    with daily["registry"].transaction() as session:
        zawahiri = session.get(Entity, "ofac-2676")
        assert zawahiri is not None and zawahiri.schema == "Person"
        assert "1951-06-19" in zawahiri.properties["birthDate"]
        assert "Giza, Egypt" in zawahiri.properties["birthPlace"]
        vessel = session.get(Entity, "ofac-4243")
        assert vessel is not None and vessel.schema == "Vessel"
        assert ("imo", "7406784") in {(i.scheme, i.value) for i in vessel.identifiers}
        assert {"ANA I", "SAND SWAN"} <= {n.name for n in vessel.names if n.kind == "former"}


def test_trio_snapshots_2019_2021_and_their_diffs(new_registry: Any, lists_dir: Path) -> None:
    """The three CSV trios in order: every one imports, and each diff is the change in
    entries counted with the csv module."""
    registry = new_registry()
    editions = {
        "2019-01-04": ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"),
        "2021-04-25": ("sdn.csv", "add.csv", "alt.csv"),
        "2021-07-07": ("sdn.csv", "add.csv", "alt.csv", "sdn_comments.csv"),
    }
    # The 2019 trio was normalised to LF without the DOS end-of-file byte, and one of its
    # files has no final newline.
    trio_2019 = lists_dir / "ofac_sdn" / "2019-01-04"
    assert b"\r\n" not in (trio_2019 / "sdn.csv").read_bytes()
    assert not all((trio_2019 / n).read_bytes().endswith(b"\n") for n in editions["2019-01-04"])
    previous: set[str] = set()
    results = []
    for day, files in editions.items():
        directory = lists_dir / "ofac_sdn" / day
        entries = {r[0] for r in ofac_rows(directory / "sdn.csv")}
        result = import_file(
            registry,
            "ofac-sdn",
            directory / "sdn.csv",
            ImportOptions(published=dt.date.fromisoformat(day)),
        )
        results.append(result)
        assert {Path(f).name for f in result.files} == set(files)
        assert result.records == len(entries)
        kinds = result.events["us-ofac-sdn"]
        if previous:
            assert kinds["designated"] == len(entries - previous)
            assert kinds["removed"] == len(previous - entries)
        previous = entries
    april, july = results[1], results[2]
    kinds = july.events["us-ofac-sdn"]
    assert kinds["designated"] > 50 and kinds["removed"] > 5
    # Amendments: entries whose row, addresses, aliases or remarks changed in ten weeks.
    assert kinds.get("amended", 0) > 0
    report = diff_json(registry.url, "us-ofac-sdn", "2021-04-25", "2021-07-07")
    assert report["summary"]["added"] == kinds["designated"]
    assert report["summary"]["removed"] == kinds["removed"]
    assert april.events["us-ofac-sdn"]["designated"] > 1000
    with registry.transaction() as session:
        aliases = session.scalar(
            select(func.count()).select_from(EntityName).where(EntityName.origin == "ofac-sdn")
        )
    alias_rows = len(ofac_rows(lists_dir / "ofac_sdn" / "2021-07-07" / "alt.csv"))
    assert aliases is not None and aliases > alias_rows


def test_edited_copies_give_designated_amended_and_removed(
    new_registry: Any, lists_dir: Path, tmp_path: Path
) -> None:
    source = lists_dir / "ofac_cons" / "2018-04-06"
    first_dir, second_dir = tmp_path / "a", tmp_path / "b"
    first_dir.mkdir()
    second_dir.mkdir()
    for name in ("cons_prim.csv", "cons_add.csv", "cons_alt.csv"):
        shutil.copy(source / name, first_dir / name)
        shutil.copy(source / name, second_dir / name)
    rows = (second_dir / "cons_prim.csv").read_bytes().decode("cp1252").split("\r\n")
    gone = rows.pop(3)
    changed_index = 10
    changed = rows[changed_index].split(",")[0]
    rows[changed_index] = rows[changed_index].replace(",-0- ,-0- ", ',"Director",-0- ', 1)
    rows.insert(
        5,
        '99999901,"TEST ENTERPRISE LTD",-0- ,"UKRAINE-EO13662"' + ",-0- " * 8,
    )
    (second_dir / "cons_prim.csv").write_bytes("\r\n".join(rows).encode("cp1252"))
    registry = new_registry()
    import_file(
        registry,
        "ofac-cons",
        first_dir / "cons_prim.csv",
        ImportOptions(published=dt.date(2018, 4, 6)),
    )
    result = import_file(
        registry,
        "ofac-cons",
        second_dir / "cons_prim.csv",
        ImportOptions(published=dt.date(2018, 5, 1)),
    )
    events: Counter[str] = Counter()
    for kinds in result.events.values():
        events.update(kinds)
    assert events == Counter({"designated": 1, "removed": 1, "amended": 1})
    assert result.events["us-ofac-ssi"]["designated"] == 1
    with registry.transaction() as session:
        imported = select(Event).where(Event.origin == "import")
        amended = session.scalars(imported.where(Event.kind == "amended")).one()
        assert amended.entity_id == f"ofac-{changed}"
        assert amended.valid_date == dt.date(2018, 5, 1)
        assert amended.details["previous_snapshot"] == "2018-04-06"
        removed = session.scalars(imported.where(Event.kind == "removed")).one()
        assert removed.entity_id == f"ofac-{gone.split(',')[0]}"
        record = session.scalars(
            select(SourceRecord).where(SourceRecord.entity_id == removed.entity_id)
        ).one()
        assert record.present is False


def test_consolidated_classic_xml_and_csv_agree(new_registry: Any, lists_dir: Path) -> None:
    directory = lists_dir / "ofac_cons" / "2018-04-06"
    root = ET.parse(directory / "consolidated.xml").getroot()
    ns = {"o": root.tag.split("}")[0].strip("{")}
    entries = root.findall("o:sdnEntry", ns)
    declared = int(root.findtext("o:publshInformation/o:Record_Count", namespaces=ns) or 0)
    assert len(entries) == declared
    expected = cons_expected(
        [[p.text or "" for p in e.findall("o:programList/o:program", ns)] for e in entries]
    )
    from_xml = import_file(new_registry(), "ofac-cons", directory / "consolidated.xml")
    assert from_xml.published == "2018-04-06" and from_xml.published_from == "file"
    assert from_xml.records == declared
    assert from_xml.records_per_list == dict(sorted(expected.items()))
    from_csv = import_file(
        new_registry(),
        "ofac-cons",
        directory / "cons_prim.csv",
        ImportOptions(published=dt.date(2018, 4, 6)),
    )
    assert from_csv.records_per_list == from_xml.records_per_list


def test_consolidated_csv_2025_has_the_cmic_list(new_registry: Any, lists_dir: Path) -> None:
    directory = lists_dir / "ofac_cons" / "2025-12-19"
    rows = ofac_rows(directory / "cons_prim.csv")
    expected = cons_expected([[p.strip(" []") for p in r[3].split("] [")] for r in rows])
    registry = new_registry()
    result = import_file(
        registry,
        "ofac-cons",
        directory / "cons_prim.csv",
        ImportOptions(published=dt.date(2025, 12, 19)),
    )
    assert result.records == len(rows)
    assert result.records_per_list == dict(sorted(expected.items()))
    assert result.records_per_list["us-ofac-ns-cmic"] == 68
    # The CMIC entries carry their own listing date: designated on it, not "not later than".
    assert result.events["us-ofac-ns-cmic"] == {"designated": 68}
    code, out, _ = run_cli(registry.url, "history", "DJI", "--json")
    assert code == 0
    lists = {item["list"]: item for item in json.loads(out)["lists"]}
    assert lists["us-ofac-ns-cmic"]["intervals"][0]["from"] == "2021-12-16"
    # The curated listing and the official file's entry corroborate each other.
    _, out, _ = run_cli(registry.url, "status", "DJI", "--list", "us-ofac-ns-cmic", "--json")
    events = json.loads(out)["statuses"][0]["events"]
    origins = {e["origin"]: e for e in events}
    assert set(origins) == {"curated", "import"}
    assert origins["import"]["evidence"][0]["locator"] == "ent_num 33111"
    assert origins["import"]["date"] == "2021-12-16"


def test_enhanced_xml_lists_and_dates(new_registry: Any, lists_dir: Path) -> None:
    path = lists_dir / "ofac_cons" / "enhanced_2025-01-14" / "CONS_ENHANCED.XML"
    names = {
        "Sectoral Sanctions Identifications List": "us-ofac-ssi",
        "Non-SDN Palestinian Legislative Council List": "us-ofac-plc",
        "Non-SDN CMIC List": "us-ofac-ns-cmic",
        "Non-SDN Menu-Based Sanctions List": "us-ofac-nsmbs",
        "CAPTA List": "us-ofac-cap",
        "FSE List": "us-ofac-fse",
    }
    expected: Counter[str] = Counter()
    entities = 0
    for _event, element in ET.iterparse(path):
        if element.tag.endswith("}entity"):
            entities += 1
            lists = {
                names[e.text or ""]
                for e in element.iter()
                if e.tag.endswith("}sanctionsList") and (e.text or "") in names
            }
            expected.update(lists)
            element.clear()
    result = import_file(new_registry(), "ofac-cons", path)
    assert result.published == "2025-01-10"
    assert result.records == entities
    assert result.records_per_list == dict(sorted(expected.items()))
    assert set(result.events) == set(expected)
    assert all(set(kinds) == {"designated"} for kinds in result.events.values())
