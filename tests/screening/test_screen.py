"""Screening against a real registry: the examples from the news, identifiers, status as of
a date, duties, incremental index updates and merges."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from listwatch.cli.main import app
from listwatch.registry.db import Registry
from listwatch.registry.entities import canonical_map
from listwatch.screening.identifiers import IdentifierError
from listwatch.screening.index import open_index
from listwatch.screening.screen import Query, Screener

runner = CliRunner()


def screen_json(db: str, *args: str) -> dict:
    result = runner.invoke(app, ["--db", db, "screen", *args, "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("name", ["XIAOMI CORP.", "小米集团", "Xiaomi Corporation", "小米集團"])
def test_xiaomi_in_every_spelling_comes_first(sqlite_url: str, name: str) -> None:
    payload = screen_json(sqlite_url, name)
    assert payload["hits"][0]["entity"]["id"] == "xiaomi"


def test_dji_with_entity_list_and_ns_cmic_status(sqlite_url: str) -> None:
    payload = screen_json(sqlite_url, "SZ DJI Technology Co., Ltd.", "--as-of", "2022-06-01")
    top = payload["hits"][0]
    assert top["entity"]["id"] == "dji"
    listed = {s["list"]: s["status"] for s in top["statuses"]}
    assert listed["us-bis-entity-list"] == "listed"
    assert listed["us-ofac-ns-cmic"] == "listed"
    assert "sz=sz" in top["explanation"] and "dji=dji" in top["explanation"]


def test_cross_script_and_word_order(sqlite_url: str) -> None:
    assert screen_json(sqlite_url, "Хуавей")["hits"][0]["entity"]["id"] == "huawei"
    payload = screen_json(sqlite_url, "Technology Shenzhen DJI")
    assert payload["hits"][0]["entity"]["id"] == "dji"


def test_unrelated_company_returns_nothing(sqlite_url: str) -> None:
    for name in ("Acme Widgets Ltd", "Bakkerij Jansen B.V.", "Nordisk Fjerkræ A/S"):
        assert screen_json(sqlite_url, name)["hits"] == []


def test_identifiers(sqlite_url: str) -> None:
    assert screen_json(sqlite_url, "1810.HK")["hits"][0]["entity"]["id"] == "xiaomi"
    hit = screen_json(sqlite_url, "HKG:1810")["hits"][0]
    assert hit["match"] == "identifier" and hit["score"] == 1.0
    # a valid ISIN nobody holds: no hit, no error
    assert screen_json(sqlite_url, "US0378331005")["hits"] == []
    result = runner.invoke(app, ["--db", sqlite_url, "screen", "US0378331006"])
    assert result.exit_code == 2
    assert "check digit" in result.stderr and "\n" not in result.stderr.strip()


def test_identifier_outranks_names(sqlite_url: str) -> None:
    payload = screen_json(sqlite_url, "China Mobile", "--id", "1810.HK")
    assert payload["hits"][0]["entity"]["id"] == "xiaomi"
    assert payload["hits"][0]["match"] == "identifier"
    assert any(h["entity"]["id"] == "china-mobile" for h in payload["hits"][1:])


def test_status_as_of_each_phase_and_duties(sqlite_url: str) -> None:
    wanted = {"2021-02-01": "listed", "2021-04-01": "listed_suspended", "2021-06-01": "removed"}
    for day, state in wanted.items():
        hit = screen_json(sqlite_url, "Xiaomi", "--as-of", day, "--role", "us-investor")["hits"][0]
        (dod,) = [s for s in hit["statuses"] if s["list"] == "us-dod-cmc"]
        assert dod["status"] == state
        if state == "listed":
            assert {d["duty"] for d in hit["obligations"]} >= {"divest_by"}
    result = runner.invoke(app, ["--db", sqlite_url, "screen", "Xiaomi", "--role", "nobody"])
    assert result.exit_code == 2 and "unknown role" in result.stderr


def test_index_is_persisted_and_updated_incrementally(sqlite_url: str, tmp_path: Path) -> None:
    from listwatch.registry.models import Entity
    from listwatch.registry.store import add_name, merge_entities

    registry = Registry(sqlite_url)
    directory = tmp_path / "index"
    assert open_index(registry, directory).action == "built"
    assert open_index(registry, directory).action == "loaded"
    with registry.transaction() as session:
        entity = Entity(id="acme", schema="Company", name="Zyxwv Holdings", origin="manual")
        session.add(entity)
        add_name(session, entity, "Zyxwv Holdings", kind="primary")
        add_name(session, entity, "Qorvathen Trading GmbH", kind="alias")
    state = open_index(registry, directory)
    assert state.action == "updated" and state.added == 2
    with registry.transaction() as session:
        screener = Screener(state.index, canonical_map(session))
        hits = screener.screen(Query(name="Qorvathen Trading"), session, dt.date(2024, 1, 1))
        assert hits[0].entity_id == "acme"
        # after a merge the hit is reported as the canonical entity, without a rebuild
        merge_entities(session, "acme", "xiaomi", reason="test")
    reopened = open_index(registry, directory)
    assert reopened.action == "loaded"
    with registry.transaction() as session:
        screener = Screener(reopened.index, canonical_map(session))
        assert screener.match(Query(name="Qorvathen Trading"))[0].entity_id == "xiaomi"
    registry.dispose()


def test_bad_identifier_in_a_query_object_raises(sqlite_url: str, tmp_path: Path) -> None:
    registry = Registry(sqlite_url)
    state = open_index(registry, tmp_path / "index")
    with pytest.raises(IdentifierError):
        Screener(state.index).match(Query(name="Xiaomi", identifiers=["US0378331006"]))
    registry.dispose()


@pytest.mark.parametrize("compiled", [True, False])
def test_queries_matched_together_get_the_answers_of_each_alone(
    sqlite_url: str, tmp_path: Path, compiled: bool
) -> None:
    """match_many passes queries through each stage together; every query still gets what
    match gives it alone, and an invalid identifier is that query's error only."""
    registry = Registry(sqlite_url)
    state = open_index(registry, tmp_path / "index")
    with registry.transaction() as session:
        screener = Screener(state.index, canonical_map(session), compiled=compiled)
    queries = [
        Query(name="XIAOMI CORP."),
        Query(name="小米集团", limit=1),
        Query(name="Xiaomi", identifiers=["US0378331006"]),  # bad check digit
        Query(name="SZ DJI Technology Co., Ltd.", country="cn"),
        Query(name="US0378331005"),  # a valid ISIN screened as an identifier, not a name
        Query(name="Хуавей", schema="Company"),
        Query(name="Qorvathen Trading Zylophant"),
        Query(name="Xiaomi", schema="Person"),
        Query(name=""),
        Query(name="Semiconductor Manufacturing International", threshold=0.5, limit=3),
    ]
    together = screener.match_many(queries)
    assert len(together) == len(queries)
    for query, found in zip(queries, together, strict=True):
        if query.identifiers:
            assert isinstance(found, IdentifierError) and "check digit" in str(found)
            continue
        assert not isinstance(found, IdentifierError)
        alone = screener.match(query)
        assert [h.to_dict() for h in found] == [h.to_dict() for h in alone], query
    assert together[0][0].entity_id == together[1][0].entity_id  # type: ignore[index]
    assert len(together[1]) == 1 and together[8] == []
    registry.dispose()


def test_compare_command(sqlite_url: str) -> None:
    result = runner.invoke(app, ["compare", "XIAOMI CORP.", "小米集团", "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert "score" in payload and "explanation" in payload and "match" in payload
    result = runner.invoke(app, ["compare", "Jon Smith", "John Smyth", "--type", "person"])
    assert result.exit_code == 0 and "score" in result.stdout


def test_a_name_that_only_sounds_like_the_query_is_not_a_hit(sqlite_url: str) -> None:
    from listwatch.registry.models import Entity
    from listwatch.registry.store import add_name

    registry = Registry(sqlite_url)
    with registry.transaction() as session:
        entity = Entity(id="cham", schema="LegalEntity", name="CHAM HOLDING", origin="manual")
        session.add(entity)
        add_name(session, entity, "CHAM HOLDING", kind="primary")
        add_name(session, entity, "SHAM HOLDING", kind="alias")
    registry.dispose()
    for query in ("Xiaomi Corporation", "XIAOMI HOLDING"):
        hits = screen_json(sqlite_url, query)["hits"]
        assert hits[0]["entity"]["id"] == "xiaomi"
        assert "cham" not in {h["entity"]["id"] for h in hits}
    assert screen_json(sqlite_url, "Sham Holding")["hits"][0]["entity"]["id"] == "cham"
