"""Entity resolution: what it merges, what it refuses to merge, and why."""

from __future__ import annotations

from typing import Any

import pytest

from listwatch.registry.entities import canonical_id
from listwatch.registry.models import Entity, Identifier
from listwatch.registry.store import add_name
from listwatch.sources.resolve import name_key, resolve_entities


def test_name_keys() -> None:
    assert name_key("SZ DJI TECHNOLOGY CO., LTD.") == name_key("SZ DJI Technology Co., Ltd.")
    assert name_key("Gazprom LLC") == name_key("Общество с ограниченной ответственностью Газпром")
    assert name_key("ABBAS, Abu") == name_key("Abu ABBAS")
    assert name_key("Huawei Technologies Co., Ltd.") != name_key(
        "Huawei Software Technologies Co., Ltd., Nanjing"
    )
    assert name_key("DJI") is None
    assert name_key("SMIC") is None


@pytest.fixture
def session(sqlite_url: str) -> Any:
    from listwatch.registry.db import Registry

    registry = Registry(sqlite_url)
    with registry.transaction() as session:
        yield session
        session.rollback()
    registry.dispose()


def make(
    session: Any,
    entity_id: str,
    name: str,
    *,
    schema: str = "Company",
    country: str | None = "cn",
    born: str | None = None,
    ids: dict[str, str] | None = None,
) -> str:
    properties: dict[str, list[str]] = {"birthDate": [born]} if born else {}
    entity = Entity(
        id=entity_id,
        schema=schema,
        name=name,
        country=country,
        properties=properties,
        origin="import",
    )
    session.add(entity)
    add_name(session, entity, name, kind="primary", origin="test")
    for scheme, value in (ids or {}).items():
        entity.identifiers.append(Identifier(scheme=scheme, value=value, origin="test"))
    session.flush()
    return entity_id


def test_parent_and_subsidiary_are_not_merged(session: Any) -> None:
    make(session, "t-parent", "Huawei Technologies Co., Ltd.")
    make(session, "t-child", "Huawei Software Technologies Co., Ltd., Nanjing")
    decisions = resolve_entities(session, ["t-parent", "t-child"])
    # The parent is the curated Huawei; the subsidiary stays its own entity.
    assert [(d.source_id, d.target_id) for d in decisions] == [("t-parent", "huawei")]
    assert canonical_id(session, "t-child") == "t-child"


def test_same_company_with_another_spelling_merges_into_the_curated_one(session: Any) -> None:
    make(session, "t-dji", "SZ DJI TECHNOLOGY CO., LTD.")
    decisions = resolve_entities(session, ["t-dji"])
    assert [(d.source_id, d.target_id) for d in decisions] == [("t-dji", "dji")]
    assert "legal form" in decisions[0].reason and decisions[0].score == 1.0
    assert canonical_id(session, "t-dji") == "dji"


def test_people_need_a_shared_birth_date(session: Any) -> None:
    make(session, "t-p1", "ABBAS, Abu", schema="Person", country=None, born="1948-12-10")
    make(session, "t-p2", "Abu ABBAS", schema="Person", country=None, born="1950")
    make(session, "t-p3", "Abu Abbas", schema="Person", country=None)
    assert resolve_entities(session, ["t-p1", "t-p2", "t-p3"]) == []
    make(session, "t-p4", "ABBAS, Abu", schema="Person", country="ps", born="1948-12-10")
    decisions = resolve_entities(session, ["t-p4"])
    assert {frozenset((d.source_id, d.target_id)) for d in decisions} == {
        frozenset({"t-p1", "t-p4"})
    }


def test_contradictions_prevent_a_merge(session: Any) -> None:
    make(session, "t-a", "Northern Star Trading LLC", country="ae")
    make(session, "t-b", "Northern Star Trading LLC", country="ru")
    make(session, "t-c", "Blue River Holdings Ltd", ids={"uscc": "91110000000000001A"})
    make(session, "t-d", "Blue River Holdings Limited", ids={"uscc": "91110000000000002B"})
    make(session, "ofac-900001", "Kestrel Shipping Ltd")
    make(session, "ofac-900002", "KESTREL SHIPPING LTD")
    make(session, "t-e", "Vessel One", schema="Vessel", country=None)
    make(session, "t-f", "VESSEL ONE", schema="Vessel", country=None)
    ids = ["t-a", "t-b", "t-c", "t-d", "ofac-900001", "ofac-900002", "t-e", "t-f"]
    assert resolve_entities(session, ids) == []


def test_a_shared_strong_identifier_merges(session: Any) -> None:
    make(session, "t-g", "Lanxing Photonics", ids={"uscc": "91440300000000001X"})
    make(session, "t-h", "Shenzhen Lanxing Optoelectronics Co", ids={"uscc": "91440300000000001X"})
    decisions = resolve_entities(session, ["t-g"])
    assert len(decisions) == 1 and decisions[0].reason.startswith("same identifier uscc")


def test_decisions_agree_with_a_peer_matcher_where_it_is_confident() -> None:
    """nomenklatura's logic-v2 (a development dependency) on the pairs above: listwatch
    merges what it scores 1.0 and keeps apart a parent and subsidiary it scores ~0.86."""
    from followthemoney import model
    from nomenklatura.matching import get_algorithm

    algorithm = get_algorithm("logic-v2")
    assert algorithm is not None
    config = algorithm.default_config()

    def company(entity_id: str, name: str) -> Any:
        entity = model.make_entity("Company")
        entity.id = entity_id
        entity.add("name", name)
        entity.add("country", "cn")
        return entity

    pairs = {
        "merged": ("SZ DJI Technology Co., Ltd.", "SZ DJI TECHNOLOGY CO., LTD."),
        "apart": (
            "Huawei Technologies Co., Ltd.",
            "Huawei Software Technologies Co., Ltd., Nanjing",
        ),
    }
    scores = {
        label: algorithm.compare(company(f"{label}-a", a), company(f"{label}-b", b), config).score
        for label, (a, b) in pairs.items()
    }
    assert scores["merged"] == pytest.approx(1.0)
    assert scores["apart"] < scores["merged"]
    assert name_key(pairs["merged"][0]) == name_key(pairs["merged"][1])
    assert name_key(pairs["apart"][0]) != name_key(pairs["apart"][1])
