"""The Consolidated Screening List: every sub-list becomes its own list, DJI's Entity List
and NS-CMIC entries land on one entity merged with the curated DJI, and parents stay apart
from their subsidiaries."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from listwatch.registry.entities import canonical_id, member_ids
from listwatch.registry.models import EntityMerge
from listwatch.sources.engine import ImportOptions
from listwatch.sources.errors import SourceError
from listwatch.sources.importer import import_file
from tests.sources.conftest import run_cli, table_counts

# The canonical list of each CSL sub-list, by the abbreviation in its `source` label.
SUBLISTS = {
    "SDN": "us-ofac-sdn",
    "EL": "us-bis-entity-list",
    "DTC": "us-state-itar-debarred",
    "DPL": "us-bis-dpl",
    "SSI": "us-ofac-ssi",
    "UVL": "us-bis-uvl",
    "ISN": "us-state-isn",
    "PLC": "us-ofac-plc",
    "MEU": "us-bis-meu",
    "CMIC": "us-ofac-ns-cmic",
    "CAP": "us-ofac-cap",
    "NS-MBS List": "us-ofac-nsmbs",
    "FSE": "us-ofac-fse",
}


def expected_counts(path: Path) -> Counter[str]:
    """Entries per canonical list, read with the csv module: repeated headers are not
    entries, and a Treasury entry (numbered by its ent_num) that appears twice is one."""
    counts: Counter[str] = Counter()
    seen: set[tuple[str, ...]] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["source"] == "source":
                continue
            numbered = "Treasury" in row["source"] and row["_id"].isdigit()
            signature = (row["source"], row["_id"]) if numbered else tuple(row.values())
            if signature in seen:
                continue
            seen.add(signature)
            abbreviation = row["source"].split("(", 1)[1].split(")", 1)[0]
            counts[SUBLISTS[abbreviation]] += 1
    return counts


@pytest.fixture(scope="module")
def csl(new_registry: Any, lists_dir: Path) -> dict[str, Any]:
    registry = new_registry()
    path = lists_dir / "csl" / "consolidated_screening_list_2022-04.csv"
    result = import_file(registry, "us-csl", path, ImportOptions(published=dt.date(2022, 4, 22)))
    return {"registry": registry, "result": result, "path": path}


def test_every_sub_list_with_its_record_count(csl: dict[str, Any]) -> None:
    result = csl["result"]
    expected = expected_counts(csl["path"])
    assert result.records_per_list == dict(sorted(expected.items()))
    assert result.records == sum(expected.values())
    assert result.records_per_list["us-bis-entity-list"] == 2001
    assert result.records_per_list["us-ofac-ns-cmic"] == 68
    assert result.records_per_list["us-bis-meu"] == 71


def test_first_snapshot_uses_the_rows_own_listing_dates(csl: dict[str, Any]) -> None:
    events = csl["result"].events
    # Entity List rows carry start_date; SDN rows do not.
    assert events["us-bis-entity-list"]["designated"] > 1500
    assert set(events["us-ofac-sdn"]) == {"listed"}


def test_dji_is_one_entity_with_both_listings(csl: dict[str, Any]) -> None:
    registry = csl["registry"]
    with registry.transaction() as session:
        members = member_ids(session, "dji")
        assert canonical_id(session, "ofac-33111") == "dji"
        assert any(m.startswith("us-bis-") for m in members)
        reasons = [
            m.reason
            for m in session.scalars(select(EntityMerge).where(EntityMerge.target_id == "dji"))
        ]
    assert any("SZ DJI" in r and "legal form" in r for r in reasons)
    code, out, _ = run_cli(registry.url, "history", "DJI", "--json")
    assert code == 0
    lists = {item["list"]: item for item in json.loads(out)["lists"]}
    assert lists["us-bis-entity-list"]["intervals"][0]["from"] == "2020-12-18"
    assert lists["us-ofac-ns-cmic"]["intervals"][0]["from"] == "2021-12-16"
    _, out, _ = run_cli(registry.url, "status", "DJI", "--as-of", "2022-05-01", "--json")
    statuses = {s["list"]: s for s in json.loads(out)["statuses"]}
    for list_id in ("us-bis-entity-list", "us-ofac-ns-cmic"):
        origins = {e["origin"] for e in statuses[list_id]["events"]}
        assert origins == {"curated", "import"}, list_id
        imported = next(e for e in statuses[list_id]["events"] if e["origin"] == "import")
        assert imported["evidence"][0]["locator"].startswith("_id ")
        assert imported["evidence"][0]["published"] == "2022-04-22"
    code, out, _ = run_cli(registry.url, "history", "DJI")
    assert code == 0
    assert "us-bis-entity-list" in out and "us-ofac-ns-cmic" in out
    assert "2020-12-18" in out and "2021-12-16" in out


def test_parents_and_subsidiaries_stay_apart(csl: dict[str, Any]) -> None:
    with csl["registry"].transaction() as session:
        huawei = member_ids(session, "huawei")
        # Huawei Technologies (Entity List and NS-CMIC) is the curated Huawei ...
        assert canonical_id(session, "ofac-30947") == "huawei"
        # ... but its parent on the NS-CMIC list, which OFAC lists as a separate entry even
        # though it is an alias of Huawei Technologies there, is not.
        assert canonical_id(session, "ofac-32087") not in huawei
        affiliates = [m for m in huawei if m.startswith("us-bis-")]
        assert len(affiliates) == 1  # the three Entity List rows of the company itself
        from listwatch.registry.models import Entity

        names = {session.get(Entity, m).name for m in huawei}  # type: ignore[union-attr]
        assert not any("Affiliated" in n or "Chengdu" in n or "Software" in n for n in names)


def test_affiliates_are_their_own_entities_with_a_relation(csl: dict[str, Any]) -> None:
    from listwatch.registry.entities import find_entities
    from listwatch.registry.models import Relation

    with csl["registry"].transaction() as session:
        matches = find_entities(
            session, "Beijing Huawei Longshine Information Technology Co., Ltd."
        )
        assert len(matches) == 1
        entity = matches[0].entity
        relation = session.scalars(select(Relation).where(Relation.subject_id == entity.id)).one()
        assert relation.kind == "affiliate_of"
        assert canonical_id(session, relation.object_id) == "huawei"


def test_a_merge_can_be_undone_and_is_not_redone(csl: dict[str, Any], fixtures_dir: Path) -> None:
    registry = csl["registry"]
    with registry.transaction() as session:
        merge = session.scalars(
            select(EntityMerge).where(EntityMerge.source_id == "ofac-33111")
        ).one()
    code, out, err = run_cli(
        registry.url, "unmerge", str(merge.id), "--reason", "test: undo", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["undone_at"]
    with registry.transaction() as session:
        assert canonical_id(session, "ofac-33111") == "ofac-33111"
    _, out, _ = run_cli(registry.url, "merges", "DJI", "--json")
    assert any(m["undo_reason"] == "test: undo" for m in json.loads(out))
    code, _, err = run_cli(registry.url, "unmerge", str(merge.id), "--reason", "again")
    assert code == 2 and "already undone" in err
    # Redo by hand, then undo again: the undone decision stays recorded.
    code, out, err = run_cli(
        registry.url, "merge", "ofac-33111", "dji", "--reason", "test: redo", "--json"
    )
    assert code == 0, err
    redo = json.loads(out)
    with registry.transaction() as session:
        assert canonical_id(session, "ofac-33111") == "dji"
    run_cli(registry.url, "unmerge", str(redo["id"]), "--reason", "test: undo again")
    # Resolution during a later import respects the undone decisions.
    from listwatch.sources.resolve import resolve_entities

    with registry.transaction() as session:
        assert resolve_entities(session, ["ofac-33111"]) == []
        assert canonical_id(session, "ofac-33111") == "ofac-33111"
    run_cli(registry.url, "merge", "ofac-33111", "dji", "--reason", "restore for other tests")


def test_the_2023_excerpt_is_cut_off_and_refused_then_imports_whole_rows(
    new_registry: Any, lists_dir: Path, tmp_path: Path
) -> None:
    path = lists_dir / "csl" / "csl_excerpt_2023-11.csv"
    registry = new_registry()
    before = table_counts(registry)
    with pytest.raises(SourceError) as failure:
        import_file(registry, "us-csl", path, ImportOptions(published=dt.date(2023, 11, 30)))
    message = str(failure.value)
    assert str(path) in message and "line 4233" in message and "truncated" in message
    assert table_counts(registry) == before
    # Without its cut-off last row the excerpt imports, its repeated header skipped.
    data = path.read_bytes()
    whole = data[: data.rstrip(b"\n").rfind(b"\n") + 1]
    copy = tmp_path / "csl_excerpt_whole_rows.csv"
    copy.write_bytes(whole)
    result = import_file(registry, "us-csl", copy, ImportOptions(published=dt.date(2023, 11, 30)))
    expected = expected_counts(copy)
    assert result.records_per_list == dict(sorted(expected.items()))


def test_csl_json_in_the_official_shape(new_registry: Any, fixtures_dir: Path) -> None:
    registry = new_registry()
    result = import_file(registry, "us-csl", fixtures_dir / "csl_sample.json")
    assert result.format == "csl-json"
    assert result.published == "2025-05-13" and result.published_from == "file"
    assert result.records_per_list == {
        "us-bis-dpl": 1,
        "us-bis-entity-list": 1,
        "us-ofac-ns-cmic": 1,
        "us-ofac-sdn": 1,
    }
    assert result.events["us-ofac-ns-cmic"] == {"designated": 1}
    # The Entity List row "Lanxing Optoelectronics Co., Ltd. (LXO)" and the NS-CMIC entry
    # "LANXING OPTOELECTRONICS CO., LTD." are one company.
    assert len(result.merges) == 1
    with registry.transaction() as session:
        from listwatch.registry.models import Identifier

        assert canonical_id(session, "ofac-90001") != "ofac-90001" or any(
            m["target_id"] == "ofac-90001" for m in result.merges
        )
        uscc = session.scalars(select(Identifier).where(Identifier.scheme == "uscc")).one()
        assert uscc.value == "91440300000000001X"
