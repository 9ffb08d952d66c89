"""The API's reads and writes on both storage backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind
from tests.api.helpers import bearer, make_app, news_event, token


def test_reads_and_review(registry: Registry) -> None:
    with TestClient(make_app(registry)) as client:
        status = client.get(
            "/api/v1/entities/xiaomi/status", params={"as_of": "2021-04-01", "list": "us-dod-cmc"}
        ).json()
        assert status["statuses"][0]["status"] == "listed_suspended"
        members = client.get(
            "/api/v1/lists/us-dod-cmc/members", params={"as_of": "2021-04-01", "limit": 500}
        ).json()
        assert "xiaomi" in {m["entity"]["id"] for m in members["items"]}
        diff = client.get(
            "/api/v1/lists/us-dod-cmc/diff", params={"from": "2021-01-01", "to": "2021-06-30"}
        ).json()
        assert diff["total"] >= 3
        found = client.get("/api/v1/entities", params={"q": "xiao"}).json()
        assert [e["id"] for e in found["items"]] == ["xiaomi"]
        hits = client.get("/api/v1/screen", params={"q": "XIAOMI CORP."}).json()["hits"]
        assert hits[0]["entity"]["id"] == "xiaomi"

        event_id = news_event(
            registry,
            "dji",
            EventKind.BUSINESS_SUSPENDED,
            "2022-04-26",
            "DJI pauses sales.",
            list_id=None,
        )
        assert (
            client.get("/api/v1/events", params={"review_state": "proposed"}).json()["total"] == 1
        )
        headers = bearer(token(registry, "review"))
        decided = client.post(
            f"/api/v1/events/{event_id}/review", json={"decision": "accept"}, headers=headers
        )
        assert decided.status_code == 201
        accepted = client.get(
            "/api/v1/events", params={"review_state": "accepted", "entity": "dji"}
        )
        assert event_id in {e["id"] for e in accepted.json()["items"]}
        assert client.get("/api/v1/review/queue").json()["total"] == 0
