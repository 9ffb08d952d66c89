"""The UN, EU, UK, BIS Denied Persons and FollowTheMoney loaders, on real files where the
data has them and on hand-written files in the official shapes where it does not."""

from __future__ import annotations

import csv
import datetime as dt
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from listwatch.registry.entities import find_entities
from listwatch.registry.models import Entity, EntityName, Event, Identifier
from listwatch.sources.engine import ImportOptions
from listwatch.sources.errors import SourceError
from listwatch.sources.importer import import_file
from tests.sources.conftest import run_cli


def un_entries(path: Path) -> dict[str, str]:
    """DATAID → LISTED_ON of every INDIVIDUAL and ENTITY of a UN list file."""
    root = ET.parse(path).getroot()
    return {
        e.findtext("DATAID") or "": e.findtext("LISTED_ON") or ""
        for e in [*root.iter("INDIVIDUAL"), *root.iter("ENTITY")]
    }


def test_un_snapshots_and_their_diff(new_registry: Any, lists_dir: Path) -> None:
    old_path = lists_dir / "un" / "un_consolidated_2018-10-29.xml"
    new_path = lists_dir / "un" / "un_consolidated_2026-02-27.xml"
    old, new = un_entries(old_path), un_entries(new_path)
    registry = new_registry()
    first = import_file(registry, "un-sc", old_path)
    assert first.published == "2018-10-29" and first.published_from == "file"
    assert first.records == len(old) == 703 + 390
    # Each entry's LISTED_ON is its listing date.
    assert first.events == {"un-sc": {"designated": len(old)}}
    second = import_file(registry, "un-sc", new_path)
    assert second.records == len(new) == 730 + 273
    kinds = second.events["un-sc"]
    assert kinds["designated"] == len(set(new) - set(old))
    assert kinds["removed"] == len(set(old) - set(new))
    with registry.transaction() as session:
        entity = session.get(Entity, "un-6907993")
        assert entity is not None and entity.schema == "Person"
        assert entity.name == "ERIC BADEGE"
        native = session.scalars(
            select(EntityName).where(EntityName.kind == "native", EntityName.script == "Arab")
        ).first()
        assert native is not None
        listed = session.scalars(
            select(Event).where(Event.entity_id == "un-6907993", Event.kind == "designated")
        ).one()
        assert listed.valid_date == dt.date(2012, 12, 31)
        assert listed.evidence[0].locator == "REFERENCE_NUMBER CDi.001 (DATAID 6907993)"


def test_eu_fsf_sample(new_registry: Any, fixtures_dir: Path) -> None:
    registry = new_registry()
    result = import_file(registry, "eu-fsf", fixtures_dir / "eu_fsf_sample.xml")
    assert result.published == "2025-03-14"
    assert result.records_per_list == {"eu-sanctions": 3}
    with registry.transaction() as session:
        person = session.get(Entity, "eu-900101")
        assert person is not None and person.schema == "Person"
        names = {(n.name, n.kind, n.lang, n.script) for n in person.names}
        assert ("Pyotr Ivanovich ZELENKOV", "primary", None, "Latn") in names
        assert ("Пётр Иванович ЗЕЛЕНКОВ", "alias", "ru", "Cyrl") in names
        assert ("Petr ZELENKOV", "weak", None, "Latn") in names
        assert person.properties["birthDate"] == ["1961-04-12"]
        assert ("passport", "720000001") in {(i.scheme, i.value) for i in person.identifiers}
        designated = {
            e.entity_id: e.valid_date
            for e in session.scalars(select(Event).where(Event.origin == "import"))
        }
    # designationDate where given, else the first regulation's publication.
    assert designated == {
        "eu-900101": dt.date(2022, 2, 23),
        "eu-900202": dt.date(2022, 4, 8),
        "eu-900303": dt.date(2002, 5, 29),
    }


def _fsf_from_transcription(rows: list[dict[str, str]], path: Path) -> None:
    """An FSF XML file holding the names of the EU annex transcription."""
    ns = "http://eu.europa.ec/fpi/fsd/export"
    ET.register_namespace("", ns)
    root = ET.Element(f"{{{ns}}}export", generationDate="2026-08-14T12:00:00.000+02:00")
    for index, row in enumerate(rows, start=1):
        entity = ET.SubElement(
            root, f"{{{ns}}}sanctionEntity", euReferenceNumber=f"EU.T.{index}", logicalId=str(index)
        )
        day, month, year = row["startDate"].split(".") if row["startDate"] else ("1", "1", "2014")
        ET.SubElement(
            entity,
            f"{{{ns}}}regulation",
            publicationDate=f"{year}-{int(month):02d}-{int(day):02d}",
            programme="UKR",
        )
        code = "person" if row["schema"] == "Person" else "enterprise"
        ET.SubElement(entity, f"{{{ns}}}subjectType", code=code)
        names = []
        for alias in [row["name"], *row["alias"].split(";")]:
            # The transcription writes "Latin (Cyrillic)"; the FSF has one alias for each.
            latin, _, native = alias.strip().partition(" (")
            names += [latin, native.rstrip(")")] if native else [latin]
        for name in [n for n in names if n]:
            cyrillic = any("\u0400" <= ch <= "\u04ff" for ch in name)
            ET.SubElement(
                entity,
                f"{{{ns}}}nameAlias",
                wholeName=name,
                nameLanguage="RU" if cyrillic else "",
                strong="true",
            )
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def test_eu_fsf_with_the_real_names_of_an_eu_annex(
    new_registry: Any, lists_dir: Path, tmp_path: Path
) -> None:
    with (lists_dir / "eu" / "eu_oj_32014R0269_opensanctions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:400]
    path = tmp_path / "fsf.xml"
    _fsf_from_transcription(rows, path)
    registry = new_registry()
    result = import_file(registry, "eu-fsf", path)
    assert result.records == len(rows)
    assert result.events == {"eu-sanctions": {"designated": len(rows)}}
    with registry.transaction() as session:
        matches = find_entities(session, "Сергей Валерьевич АКСЁНОВ")
        assert [m.entity.id for m in matches] == ["eu-1"]
        scripts = Counter(
            n.script
            for n in session.scalars(select(EntityName).where(EntityName.origin == "eu-fsf"))
        )
    assert scripts["Cyrl"] > 200 and scripts["Latn"] > 400


def test_uk_sample(new_registry: Any, fixtures_dir: Path) -> None:
    registry = new_registry()
    result = import_file(registry, "uk-sanctions", fixtures_dir / "uk_sanctions_sample.xml")
    assert result.published == "2025-09-02"
    assert result.records_per_list == {"uk-sanctions": 3}
    with registry.transaction() as session:
        schemas = {
            e.id: e.schema for e in session.scalars(select(Entity).where(Entity.id.like("uk-%")))
        }
        assert schemas == {
            "uk-rus9001": "Person",
            "uk-rus9002": "Organization",
            "uk-rus9003": "Vessel",
        }
        person = session.get(Entity, "uk-rus9001")
        assert person is not None
        assert ("Пётр Иванович ЗЕЛЕНКОВ", "native", "ru") in {
            (n.name, n.kind, n.lang) for n in person.names
        }
        assert person.properties["birthDate"] == ["1961-04-12"]
        events = {
            e.entity_id: (e.kind, e.valid_date, e.valid_precision)
            for e in session.scalars(select(Event).where(Event.origin == "import"))
        }
        ship = session.scalars(select(Identifier).where(Identifier.scheme == "imo")).one()
    assert ship.entity_id == "uk-rus9003" and ship.value == "9900001"
    # "dd/mm/2022": the listing is known to the year only.
    assert events["uk-rus9002"] == ("designated", dt.date(2022, 1, 1), "year")
    assert events["uk-rus9001"] == ("designated", dt.date(2022, 2, 24), "day")


def test_uk_and_eu_records_of_one_person_merge_by_name_and_birth_date(
    new_registry: Any, fixtures_dir: Path
) -> None:
    registry = new_registry()
    import_file(registry, "eu-fsf", fixtures_dir / "eu_fsf_sample.xml")
    result = import_file(registry, "uk-sanctions", fixtures_dir / "uk_sanctions_sample.xml")
    pairs = {(m["source_id"], m["target_id"]) for m in result.merges}
    # The person (same name, same birth date) and the company (same name, same country).
    assert {frozenset(p) for p in pairs} == {
        frozenset({"uk-rus9001", "eu-900101"}),
        frozenset({"uk-rus9002", "eu-900202"}),
    }
    code, out, _ = run_cli(registry.url, "status", "ZELENKOV, Pyotr", "--json")
    assert code == 2  # not a name of theirs: names are matched exactly
    _, out, _ = run_cli(registry.url, "status", "Pyotr Ivanovich ZELENKOV", "--json")
    import json

    lists = {s["list"] for s in json.loads(out)["statuses"]}
    assert lists == {"eu-sanctions", "uk-sanctions"}


def test_bis_denied_persons_files(new_registry: Any, lists_dir: Path) -> None:
    registry = new_registry()
    dates = {
        "2019-06": dt.date(2019, 6, 5),
        "2022-09": dt.date(2022, 9, 2),
        "2023-11": dt.date(2023, 11, 16),
    }
    names: dict[str, set[str]] = {}
    for edition, published in dates.items():
        path = lists_dir / "bis_dpl" / f"dpl_{edition}.txt"
        with path.open(encoding="ascii", newline="") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
        names[edition] = {r["Name"].strip().casefold() for r in rows}
        result = import_file(registry, "bis-dpl", path, ImportOptions(published=published))
        assert result.records == len(rows)
        assert result.records_per_list == {"us-bis-dpl": len(rows)}
    # Between the last two editions, people listed only in the newer one were designated.
    kinds = result.events["us-bis-dpl"]
    assert kinds["designated"] == len(names["2023-11"] - names["2022-09"])
    assert kinds["removed"] == len(names["2022-09"] - names["2023-11"])


def test_opensanctions_transcription_of_an_eu_annex(new_registry: Any, lists_dir: Path) -> None:
    path = lists_dir / "eu" / "eu_oj_32014R0269_opensanctions.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    registry = new_registry()
    result = import_file(registry, "ftm", path, ImportOptions(published=dt.date(2026, 8, 14)))
    assert result.format == "opensanctions-csv"
    assert result.records == len(rows) == 2802
    dated = sum(1 for r in rows if r["startDate"])
    assert result.events["eu-sanctions"].get("designated", 0) == dated
    with registry.transaction() as session:
        entity = session.get(Entity, "eu-oj-32014r0269-i-persons-1")
        assert entity is not None
        assert "1972-11-26" in entity.properties["birthDate"]
        native = {n.name for n in entity.names if n.kind == "native"}
        assert "Сергей Валерьевич АКСЁНОВ" in native


def test_ftm_json_lines(new_registry: Any, fixtures_dir: Path) -> None:
    registry = new_registry()
    result = import_file(
        registry,
        "ftm",
        fixtures_dir / "ftm_sample.jsonl",
        ImportOptions(published=dt.date(2025, 6, 1)),
    )
    assert result.format == "ftm-json"
    assert result.records_per_list == {"eu-sanctions": 2, "uk-sanctions": 1}
    assert any("1 entities on no list" in w for w in result.warnings)
    with registry.transaction() as session:
        assert session.get(Entity, "os-cousin") is None
        events = {
            (e.entity_id, e.list_id): e.valid_date
            for e in session.scalars(select(Event).where(Event.origin == "import"))
        }
    assert events == {
        ("os-zelenkov", "eu-sanctions"): dt.date(2022, 2, 23),
        ("os-zelenkov", "uk-sanctions"): dt.date(2022, 2, 24),
        ("os-spz", "eu-sanctions"): dt.date(2022, 4, 8),
    }


def test_the_dod_source_reads_the_curated_dataset(new_registry: Any, tmp_path: Path) -> None:
    from listwatch.registry.curated.loader import CURATED_DIR

    registry = new_registry()
    bundled = CURATED_DIR / "events" / "us-dod-cmc.yaml"
    result = import_file(registry, "dod-cmc", bundled)
    assert result.records > 0 and result.events == {}
    assert import_file(registry, "dod-cmc", bundled).unchanged
    newer = tmp_path / "dod-new-edition.yaml"
    newer.write_text(
        "sources:\n"
        "  dod-test-edition:\n"
        "    kind: list\n"
        "    title: A test edition of the s.1260H list\n"
        "    publisher: U.S. Department of Defense\n"
        "    published: 2030-01-15\n"
        "    citation: test edition\n"
        "events:\n"
        "  - entity: luokung\n"
        "    list: us-dod-cmc\n"
        "    kind: removed\n"
        "    date: 2030-01-15\n"
        "    source: dod-test-edition\n",
        encoding="utf-8",
    )
    added = import_file(registry, "dod-cmc", newer)
    assert added.events == {"us-dod-cmc": {"removed": 1}}
    with registry.transaction() as session:
        event = session.scalars(
            select(Event).where(
                Event.entity_id == "luokung", Event.valid_date == dt.date(2030, 1, 15)
            )
        ).one()
        assert event.recorded_at.date() == dt.date(2030, 1, 15)
        assert event.evidence[0].document.citation == "test edition"
    with pytest.raises(SourceError, match="curated events file"):
        import_file(registry, "dod-cmc", CURATED_DIR / "authorities.yaml")


def test_sdn_xml_in_the_newer_namespace(new_registry: Any, fixtures_dir: Path) -> None:
    registry = new_registry()
    code, out, err = run_cli(
        registry.url, "import", "ofac-sdn", str(fixtures_dir / "sdn_sample.xml"), "--json"
    )
    assert code == 0, err
    import json

    payload = json.loads(out)
    assert payload["format"] == "ofac-classic-xml"
    assert payload["published"] == "2025-03-14" and payload["published_from"] == "file"
    assert payload["records_per_list"] == {"us-ofac-sdn": 2}
    assert payload["events"] == {"us-ofac-sdn": {"listed": 2}}
    with registry.transaction() as session:
        person = session.get(Entity, "ofac-990001")
        assert person is not None and person.name == "ZELENKOV, Pyotr Ivanovich"
        assert person.properties["birthDate"] == ["1961-04-12"]
        assert "Petr ZELENKOV" not in {n.name for n in person.names}
        assert ("ZELENKOV, Petr", "weak") in {(n.name, n.kind) for n in person.names}
        ship = session.get(Entity, "ofac-990002")
        assert ship is not None and ship.schema == "Vessel"
        assert ship.properties["flag"] == ["ga"]
        assert ("imo", "9900001") in {(i.scheme, i.value) for i in ship.identifiers}
