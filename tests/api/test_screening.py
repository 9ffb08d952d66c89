"""Screening over HTTP: names in any script, identifiers, as-of statuses, batches, errors."""

from __future__ import annotations

from typing import Any


def top(client: Any, **params: Any) -> dict[str, Any]:
    response = client.get("/api/v1/screen", params=params)
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    assert hits, f"no hit for {params}"
    return dict(hits[0])


def test_names_in_any_form_find_xiaomi(client: Any) -> None:
    for name in ("XIAOMI CORP.", "小米集团", "Xiaomi Corporation"):
        hit = top(client, q=name)
        assert hit["entity"]["id"] == "xiaomi", name
        assert hit["explanation"], "every hit says why it matched"
    hit = top(client, q="XIAOMI CORP.")
    assert hit["comparison"]["matches"], "the explanation carries the aligned tokens"


def test_statuses_as_of_and_duties(client: Any) -> None:
    hit = top(client, q="Xiaomi", as_of="2021-04-01", role="us-investor")
    (dod,) = [s for s in hit["statuses"] if s["list"] == "us-dod-cmc"]
    assert dod["status"] == "listed_suspended"
    assert hit["obligations"], "a role adds the duties that follow"
    dji = top(client, q="SZ DJI Technology Co., Ltd.")
    listed = {s["list"] for s in dji["statuses"] if s["status"] == "listed"}
    assert {"us-bis-entity-list", "us-ofac-ns-cmic"} <= listed


def test_identifiers(client: Any) -> None:
    hit = top(client, q="1810.HK")
    assert hit["entity"]["id"] == "xiaomi" and hit["match"] == "identifier"
    bad = client.get("/api/v1/screen", params={"q": "US0378331006"})
    assert bad.status_code == 422 and "check digit" in bad.json()["error"]["message"]
    unknown = client.get("/api/v1/screen", params={"q": "US0378331005"})
    assert unknown.status_code == 200 and unknown.json()["hits"] == []


def test_post_and_batch(client: Any) -> None:
    single = client.post("/api/v1/screen", json={"name": "Huawei", "as_of": "2019-06-01"})
    assert single.json()["hits"][0]["entity"]["id"] == "huawei"
    batch = client.post(
        "/api/v1/screen/batch",
        json={
            "as_of": "2021-02-01",
            "queries": [
                {"name": "Xiaomi Corp"},
                {"identifiers": ["US0378331006"]},
                {"name": "Qwertyuiop Zxcvbnm Widgets GmbH"},
                {"name": "  "},
            ],
        },
    ).json()
    results = batch["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert results[0]["hits"][0]["entity"]["id"] == "xiaomi"
    assert "check digit" in results[1]["error"]
    assert results[2]["hits"] == [] and results[2]["error"] is None
    assert "nothing to screen" in results[3]["error"]
    too_big = client.post("/api/v1/screen/batch", json={"queries": [{"name": "x"}] * 1001})
    assert too_big.status_code == 422
    assert client.post("/api/v1/screen", json={"name": "x", "role": "pilot"}).status_code == 422
    assert client.post("/api/v1/screen", json={"name": "x", "limit": 0}).status_code == 422


def test_index_follows_new_names(client: Any, api_registry: Any) -> None:
    from listwatch.registry.models import Entity
    from listwatch.registry.store import add_name

    assert (
        client.get("/api/v1/screen", params={"q": "Zorblax Quantum Systems"}).json()["hits"] == []
    )
    with api_registry.transaction() as session:
        entity = Entity(id="zorblax", schema="Company", name="Zorblax Quantum Systems Ltd")
        session.add(entity)
        add_name(session, entity, "Zorblax Quantum Systems Ltd", kind="primary")
    client.app.state.screening.invalidate()
    assert top(client, q="Zorblax Quantum Systems")["entity"]["id"] == "zorblax"


def test_answers_from_memory_equal_answers_that_read_the_registry(api_registry: Any) -> None:
    """The event-loop path gives the same bytes as the full path, and declines (None)
    whenever it would have to wait: no index loaded yet, or a hit not yet described."""
    import datetime as dt

    import orjson

    from listwatch.api.search import ScreeningService
    from listwatch.screening.screen import Query

    def render(hits: list[Any]) -> bytes:
        return orjson.dumps([h.to_dict() for h in hits], option=orjson.OPT_NON_STR_KEYS)

    service = ScreeningService(api_registry, refresh_seconds=3600)
    today = dt.datetime.now(dt.UTC).date()
    xiaomi = Query(name="Xiaomi Corp")
    assert service.answer_from_memory(xiaomi, today, None, None, render) is None, "no index yet"
    assert service.wait_described(120)
    from_memory = service.answer_from_memory(xiaomi, today, None, None, render)
    assert from_memory is not None and b'"xiaomi"' in from_memory
    # Another date is described from the registry: declined, then answered the full way.
    earlier = dt.date(2021, 4, 1)
    huawei = Query(name="Huawei Technologies")
    assert service.answer_from_memory(huawei, earlier, None, "us-investor", render) is None
    full = service.answer(huawei, earlier, None, "us-investor", render)
    assert b'"huawei"' in full
    # Now described (and the answer remembered): the event-loop path gives the same bytes.
    assert service.answer_from_memory(huawei, earlier, None, "us-investor", render) == full
    fresh = ScreeningService(api_registry, refresh_seconds=3600)
    fresh.wait_described(120)
    assert fresh.answer(xiaomi, today, None, None, render) == from_memory
    # A hit described for the date but not yet remembered as an answer: computed from memory.
    other = Query(name="Xiaomi Corporation", limit=3)
    assert fresh.answer_from_memory(other, today, None, None, render) == service.answer(
        other, today, None, None, render
    )


def test_a_change_made_elsewhere_reaches_answers_from_memory(api_registry: Any) -> None:
    """Names added by another process (no invalidation through this server) are found once
    the background check has loaded the new index; meanwhile answers keep coming from the
    index in memory, never waiting for the load."""
    import datetime as dt
    import time

    import orjson

    from listwatch.api.search import ScreeningService
    from listwatch.registry.models import Entity
    from listwatch.registry.store import add_name
    from listwatch.screening.screen import Query

    def render(hits: list[Any]) -> bytes:
        return orjson.dumps([h.entity_id for h in hits])

    service = ScreeningService(api_registry, refresh_seconds=0.0)
    assert service.wait_described(120)
    today = dt.datetime.now(dt.UTC).date()
    query = Query(name="Quillfeather Maritime Holdings")
    assert service.answer_from_memory(query, today, None, None, render) == b"[]"
    with api_registry.transaction() as session:
        entity = Entity(id="quillfeather", schema="Company", name="Quillfeather Maritime Holdings")
        session.add(entity)
        add_name(session, entity, "Quillfeather Maritime Holdings", kind="primary")
    deadline = time.monotonic() + 120
    answers = []
    while time.monotonic() < deadline:
        # None only while the new entity is not described yet (it is then read the full way).
        answers.append(service.answer_from_memory(query, today, None, None, render))
        if answers[-1] not in (b"[]", None):
            break
        time.sleep(0.05)
    assert answers[-1] == b'["quillfeather"]', answers[-5:]
