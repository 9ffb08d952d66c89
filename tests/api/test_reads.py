"""Reading the registry over HTTP: statuses, histories, lists, events, pagination, errors."""

from __future__ import annotations

from typing import Any


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"status", "code", "message", "details"}
    assert body["error"]["status"] == response.status_code
    return dict(body["error"])


def test_health_and_schema(client: Any) -> None:
    assert client.get("/api/v1/health").json()["status"] == "ok"
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "listwatch"
    for path in (
        "/api/v1/entities/{entity_id}/status",
        "/api/v1/lists/{list_id}/members",
        "/api/v1/lists/{list_id}/diff",
        "/api/v1/events",
        "/api/v1/events/{event_id}/review",
        "/api/v1/watches",
    ):
        assert path in schema["paths"]


def test_xiaomi_three_phases(client: Any) -> None:
    wanted = {"2021-02-01": "listed", "2021-04-01": "listed_suspended", "2021-06-01": "removed"}
    for day, state in wanted.items():
        response = client.get("/api/v1/entities/xiaomi/status", params={"as_of": day})
        assert response.status_code == 200
        (dod,) = [s for s in response.json()["statuses"] if s["list"] == "us-dod-cmc"]
        assert dod["status"] == state
    suspended = client.get(
        "/api/v1/entities/xiaomi/status", params={"as_of": "2021-04-01", "list": "us-dod-cmc"}
    ).json()["statuses"][0]
    assert suspended["since"] == "2021-03-12"
    assert suspended["since_precision"] == "day"
    assert suspended["listed_since"] == "2021-01-14"
    assert suspended["events"][-1]["evidence"], "the deciding event carries its evidence"


def test_known_at_hides_later_knowledge(client: Any) -> None:
    response = client.get(
        "/api/v1/entities/xiaomi/status",
        params={"as_of": "2021-06-01", "known_at": "2021-02-01", "list": "us-dod-cmc"},
    )
    assert response.json()["statuses"][0]["status"] == "listed"


def test_history_and_merged_lookup(client: Any) -> None:
    history = client.get("/api/v1/entities/xiaomi/history").json()
    (dod,) = [h for h in history["lists"] if h["list"] == "us-dod-cmc"]
    assert [(i["status"], i["from"], i["to"]) for i in dod["intervals"]] == [
        ("listed", "2021-01-14", "2021-03-12"),
        ("listed_suspended", "2021-03-12", "2021-05-25"),
        ("removed", "2021-05-25", None),
    ]
    detail = client.get("/api/v1/entities/xiaomi").json()
    assert {"scheme": "ticker", "value": "1810.HK"} in detail["identifiers"]
    assert any(n["name"] == "小米集团" for n in detail["names"])


def test_obligations(client: Any) -> None:
    body = client.get(
        "/api/v1/entities/xiaomi/obligations",
        params={"role": "us-investor", "as_of": "2021-02-01"},
    ).json()
    assert body["duties"], "a US investor has duties towards a listed CMC"
    assert all(d["list"] == "us-dod-cmc" for d in body["duties"])
    bad = client.get("/api/v1/entities/xiaomi/obligations", params={"role": "astronaut"})
    assert bad.status_code == 422
    assert "unknown role" in error_of(bad)["message"]


def test_entity_search_and_pagination(client: Any) -> None:
    found = client.get("/api/v1/entities", params={"q": "xiao"}).json()
    assert [e["id"] for e in found["items"]] == ["xiaomi"]
    by_ticker = client.get("/api/v1/entities", params={"q": "1810.hk"}).json()
    assert [e["id"] for e in by_ticker["items"]] == ["xiaomi"]
    wildcard = client.get("/api/v1/entities", params={"q": "%"}).json()
    assert wildcard["total"] == 0, "LIKE wildcards in the query are literal characters"
    first = client.get("/api/v1/entities", params={"limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_offset"] == 3
    second = client.get("/api/v1/entities", params={"limit": 3, "offset": 3}).json()
    assert not {e["id"] for e in first["items"]} & {e["id"] for e in second["items"]}
    last = client.get("/api/v1/entities", params={"offset": first["total"]}).json()
    assert last["items"] == [] and last["next_offset"] is None


def test_list_members_and_diff(client: Any) -> None:
    def members(day: str, status: str = "current") -> dict[str, str]:
        body = client.get(
            "/api/v1/lists/us-dod-cmc/members",
            params={"as_of": day, "status": status, "limit": 500},
        ).json()
        return {m["entity"]["id"]: m["status"]["status"] for m in body["items"]}

    assert members("2021-02-01")["xiaomi"] == "listed"
    assert members("2021-04-01")["xiaomi"] == "listed_suspended"
    assert "xiaomi" not in members("2021-06-01")
    assert members("2021-06-01", "removed")["xiaomi"] == "removed"
    # s.1237 memberships not verified after the list ended are uncertain, and only they
    uncertain = client.get(
        "/api/v1/lists/us-dod-cmc/members",
        params={"as_of": "2021-07-01", "status": "uncertain", "limit": 500},
    ).json()["items"]
    assert uncertain and all(m["status"]["uncertain"] for m in uncertain)
    assert "xiaomi" not in {m["entity"]["id"] for m in uncertain}
    assert not members("2021-02-01", "uncertain")
    diff = client.get(
        "/api/v1/lists/us-dod-cmc/diff", params={"from": "2021-01-01", "to": "2021-06-30"}
    ).json()
    xiaomi = [(c["change"], c["date"]) for c in diff["items"] if c["entity_id"] == "xiaomi"]
    assert xiaomi == [
        ("added", "2021-01-14"),
        ("suspended", "2021-03-12"),
        ("removed", "2021-05-25"),
    ]
    backwards = client.get(
        "/api/v1/lists/us-dod-cmc/diff", params={"from": "2021-06-30", "to": "2021-01-01"}
    )
    assert backwards.status_code == 422


def test_events_filters(client: Any) -> None:
    court = client.get(
        "/api/v1/events", params={"entity": "xiaomi", "kind": ["suspended", "lawsuit_filed"]}
    ).json()
    assert sorted(e["kind"] for e in court["items"]) == ["lawsuit_filed", "suspended"]
    in_march = client.get(
        "/api/v1/events",
        params={"list": "us-dod-cmc", "from": "2021-03-01", "to": "2021-03-31"},
    ).json()
    assert in_march["items"] and all(e["date"].startswith("2021-03") for e in in_march["items"])
    assert client.get("/api/v1/events", params={"review_state": "proposed"}).json()["total"] == 0
    event_id = court["items"][0]["id"]
    one = client.get(f"/api/v1/events/{event_id}").json()
    assert one["id"] == event_id and one["entity_name"] == "Xiaomi Corporation"


def test_documents(client: Any) -> None:
    docs = client.get("/api/v1/documents", params={"kind": "court"}).json()
    assert docs["items"] and all(d["kind"] == "court" for d in docs["items"])
    doc_id = docs["items"][0]["id"]
    detail = client.get(f"/api/v1/documents/{doc_id}").json()
    assert detail["sha256"] and detail["events"] >= 1
    events = client.get(f"/api/v1/documents/{doc_id}/events").json()
    assert events["total"] == detail["events"]


def test_consistent_errors(client: Any) -> None:
    missing = client.get("/api/v1/entities/no-such-entity")
    assert missing.status_code == 404 and error_of(missing)["code"] == "not_found"
    bad_date = client.get("/api/v1/entities/xiaomi/status", params={"as_of": "2021-02-30"})
    assert bad_date.status_code == 422
    assert error_of(bad_date)["details"][0]["loc"] == ["query", "as_of"]
    far = client.get("/api/v1/entities/xiaomi/status", params={"as_of": "9999-12-31"})
    assert far.status_code == 422 and "outside" in error_of(far)["message"]
    too_many = client.get("/api/v1/events", params={"limit": 10_000})
    assert too_many.status_code == 422
    unknown_route = client.get("/api/v1/nothing-here")
    assert unknown_route.status_code == 404 and error_of(unknown_route)["code"] == "not_found"
    unknown_list = client.get("/api/v1/lists/no-such-list/members")
    assert unknown_list.status_code == 404
