"""Writes over HTTP: scoped tokens, review decisions, body limits, closed reads."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from listwatch.api.tokens import hash_token, revoke_token
from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind
from listwatch.registry.models import ApiToken
from tests.api.helpers import bearer, make_app, news_event, token


def test_tokens_are_stored_hashed(api_registry: Registry) -> None:
    text = token(api_registry, "review")
    with api_registry.transaction() as session:
        row = session.query(ApiToken).one()
        assert row.token_hash == hash_token(text)
        assert text not in row.token_hash


def test_writes_need_a_scoped_valid_token(client: Any, api_registry: Registry) -> None:
    event_id = news_event(
        api_registry, "xiaomi", EventKind.DESIGNATED, "2021-01-14", "Xiaomi was blacklisted."
    )
    body = {"decision": "accept"}
    url = f"/api/v1/events/{event_id}/review"
    anonymous = client.post(url, json=body)
    assert anonymous.status_code == 401
    assert "review" in anonymous.json()["error"]["message"]
    assert anonymous.headers["www-authenticate"] == "Bearer"
    watcher = token(api_registry, "watch")
    assert client.post(url, json=body, headers=bearer(watcher)).status_code == 403
    assert client.post(url, json=body, headers=bearer("lw_forged")).status_code == 401
    assert client.post(url, json=body, headers={"Authorization": "Basic eDp5"}).status_code == 401
    reviewer = token(api_registry, "review", name="analyst")
    with api_registry.transaction() as session:
        revoke_token(session, "analyst")
    assert client.post(url, json=body, headers=bearer(reviewer)).status_code == 401
    admin = token(api_registry, "admin")
    assert client.post(url, json=body, headers=bearer(admin)).status_code == 201


def test_review_accept_and_reject(client: Any, api_registry: Registry) -> None:
    headers = bearer(token(api_registry, "review", name="analyst"))
    first = news_event(
        api_registry, "xiaomi", EventKind.SUSPENDED, "2021-03-12", "A judge halted the ban."
    )
    second = news_event(
        api_registry, "xiaomi", EventKind.REMOVED, "2021-02-01", "Xiaomi was removed in February."
    )
    queue = client.get("/api/v1/review/queue").json()
    assert [e["id"] for e in queue["items"]] == [first, second]
    assert queue["items"][0]["evidence"][0]["text"] == "A judge halted the ban."

    accepted = client.post(
        f"/api/v1/events/{first}/review", json={"decision": "accept"}, headers=headers
    )
    assert accepted.status_code == 201
    assert accepted.json()["event"]["review_state"] == "accepted"
    assert accepted.json()["reviewer"] == "token:analyst"

    no_reason = client.post(
        f"/api/v1/events/{second}/review", json={"decision": "reject"}, headers=headers
    )
    assert no_reason.status_code == 422
    assert no_reason.json()["error"]["details"][0]["loc"] == ["body", "reason"]
    rejected = client.post(
        f"/api/v1/events/{second}/review",
        json={"decision": "reject", "reason": "the official record says May"},
        headers=headers,
    )
    assert rejected.json()["state"] == "rejected"
    assert client.get("/api/v1/review/queue").json()["total"] == 0
    states = client.get("/api/v1/events", params={"review_state": "rejected"}).json()
    assert [e["id"] for e in states["items"]] == [second]

    bad = client.post(f"/api/v1/events/{first}/review", json={"decision": "maybe"}, headers=headers)
    assert bad.status_code == 422
    extra = client.post(
        f"/api/v1/events/{first}/review",
        json={"decision": "accept", "sql": "drop table events"},
        headers=headers,
    )
    assert extra.status_code == 422
    missing = client.post(
        "/api/v1/events/999999/review", json={"decision": "accept"}, headers=headers
    )
    assert missing.status_code == 404


def test_body_size_limit(api_registry: Registry) -> None:
    app = make_app(api_registry, max_body=2_000)
    headers = bearer(token(api_registry, "review"))
    with TestClient(app) as small:
        huge = {"decision": "reject", "reason": "x" * 5_000}
        response = small.post("/api/v1/events/1/review", json=huge, headers=headers)
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "too_large"

        def chunks() -> Any:
            for _ in range(10):
                yield b"x" * 500

        streamed = small.post(
            "/api/v1/events/1/review",
            content=chunks(),
            headers={**headers, "Content-Type": "application/json"},
        )
        assert streamed.status_code == 413


def test_closed_reads(api_registry: Registry) -> None:
    reader = token(api_registry, "read")
    with TestClient(make_app(api_registry, open_reads=False)) as closed:
        refused = closed.get("/api/v1/entities/xiaomi")
        assert refused.status_code == 401
        assert closed.get("/api/v1/entities/xiaomi", headers=bearer(reader)).status_code == 200
        assert closed.get("/api/v1/health").status_code == 200
        page = closed.get("/entities/xiaomi", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_documented_scopes_match_behaviour(client: Any) -> None:
    schema = client.get("/api/v1/openapi.json").json()
    scoped = 0
    for path, operations in schema["paths"].items():
        url = path.replace("{event_id}", "1").replace("{watch_id}", "1")
        for method, operation in operations.items():
            if "{" in url:
                continue
            response = client.request(method.upper(), url)
            if "x-listwatch-scope" in operation:
                scoped += 1
                assert response.status_code == 401, (method, path)
                assert operation["x-listwatch-scope"] in response.json()["error"]["message"]
            else:
                assert response.status_code != 401, (method, path)
    assert scoped >= 9
