"""Writes that feed the registry over HTTP: news articles and official list files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from listwatch.registry.db import Registry
from tests.api.helpers import bearer, token

ARTICLE = (
    "Washington, 14 January 2021. The Pentagon on Thursday added the smartphone maker "
    "Xiaomi to its list of Communist Chinese military companies, a move that bars "
    "American investors from buying its shares."
)


def test_submit_article_and_review_its_events(client: Any, api_registry: Registry) -> None:
    headers = bearer(token(api_registry, "news", "review"))
    body = {"text": ARTICLE, "published": "2021-01-15", "title": "Pentagon lists Xiaomi"}
    assert client.post("/api/v1/documents", json=body).status_code == 401
    created = client.post("/api/v1/documents", json=body, headers=headers)
    assert created.status_code == 201, created.text
    result = created.json()
    (document,) = result["documents"]
    assert document["duplicate"] is False and document["published"] == "2021-01-15"
    events = result["events"]
    listing = [e for e in events if e["entity_id"] == "xiaomi" and e["list"] == "us-dod-cmc"]
    assert listing, f"the listing is extracted: {events}"
    assert all(e["review_state"] in ("proposed", "accepted") for e in events)
    assert listing[0]["evidence"][0]["text"] and "Xiaomi" in listing[0]["evidence"][0]["text"]

    again = client.post("/api/v1/documents", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["documents"][0]["duplicate"] is True

    cited = client.get(f"/api/v1/documents/{document['id']}/events").json()
    assert {e["id"] for e in cited["items"]} >= {e["id"] for e in listing}
    proposed = [e for e in listing if e["review_state"] == "proposed"]
    for event in proposed:
        decision = client.post(
            f"/api/v1/events/{event['id']}/review",
            json={"decision": "reject", "reason": "duplicate of the official record"},
            headers=headers,
        )
        assert decision.status_code == 201
        repeat = client.post(
            f"/api/v1/events/{event['id']}/review",
            json={"decision": "reject", "reason": "again"},
            headers=headers,
        )
        assert repeat.status_code == 409


def test_bad_articles(client: Any, api_registry: Registry) -> None:
    headers = bearer(token(api_registry, "news"))
    before = client.get("/api/v1/documents").json()["total"]
    neither = client.post("/api/v1/documents", json={"url": "https://x.example"}, headers=headers)
    assert neither.status_code == 422
    both = client.post("/api/v1/documents", json={"text": "a", "html": "<p>a</p>"}, headers=headers)
    assert both.status_code == 422
    bad_date = client.post(
        "/api/v1/documents", json={"text": ARTICLE, "published": "2021-13-45"}, headers=headers
    )
    assert bad_date.status_code == 422
    binary = client.post(
        "/api/v1/documents/upload",
        files={"file": ("photo.txt", bytes(range(256)) * 40, "application/octet-stream")},
        headers=headers,
    )
    assert binary.status_code == 422 and "photo.txt" in binary.json()["error"]["message"]
    assert client.get("/api/v1/documents").json()["total"] == before, "nothing was stored"


def test_upload_article_file(client: Any, api_registry: Registry) -> None:
    headers = bearer(token(api_registry, "news"))
    html = (
        "<html><head><title>Xiaomi listed</title></head>"
        f"<body><article><p>{ARTICLE}</p></article></body></html>"
    )
    response = client.post(
        "/api/v1/documents/upload",
        files={"file": ("xiaomi.html", html.encode(), "text/html")},
        data={"published": "2021-01-15"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    assert any(e["entity_id"] == "xiaomi" for e in response.json()["events"])


def test_import_official_file(client: Any, api_registry: Registry, shared_data: Path) -> None:
    headers = bearer(token(api_registry, "import"))
    path = shared_data / "lists" / "bis_dpl" / "dpl_2019-06.txt"
    sources = client.get("/api/v1/imports/sources", params={"limit": 100}).json()
    assert "bis-dpl" in {s["id"] for s in sources["items"]}

    def upload(data: bytes, name: str = "dpl.txt", source: str = "bis-dpl") -> Any:
        return client.post(
            "/api/v1/imports",
            files={"file": (name, data, "text/plain")},
            data={"source": source, "published": "2019-06-05"},
            headers=headers,
        )

    undated = client.post(
        "/api/v1/imports",
        files={"file": ("dpl.txt", path.read_bytes(), "text/plain")},
        data={"source": "bis-dpl"},
        headers=headers,
    )
    assert undated.status_code == 422
    assert "published field" in undated.json()["error"]["message"], "no silent guess of a date"

    assert client.post("/api/v1/imports", data={"source": "bis-dpl"}).status_code in (401, 422)
    first = upload(path.read_bytes())
    assert first.status_code == 201, first.text
    result = first.json()
    assert result["records"] > 500 and not result["unchanged"]
    assert result["files"] == ["dpl.txt"]
    again = upload(path.read_bytes())
    assert again.status_code == 201 and again.json()["unchanged"] is True
    imports = client.get("/api/v1/imports").json()
    assert imports["total"] == 1 and imports["items"][0]["source"] == "bis-dpl"
    assert client.get(f"/api/v1/imports/{imports['items'][0]['id']}").status_code == 200
    name = client.get("/api/v1/entities", params={"list": "us-bis-dpl", "limit": 1}).json()
    assert name["total"] > 300
    hit = client.get("/api/v1/screen", params={"q": name["items"][0]["name"]}).json()["hits"]
    assert hit and hit[0]["entity"]["id"] == name["items"][0]["id"], "imports reach screening"

    truncated = upload(
        path.read_bytes()[: len(path.read_bytes()) // 3] + b"\x00\xff\xfe", "cut.txt"
    )
    assert truncated.status_code == 422
    assert "cut.txt" in truncated.json()["error"]["message"]
    assert "/tmp" not in truncated.json()["error"]["message"]
    assert client.get("/api/v1/imports").json()["total"] == 1, "a bad file writes nothing"
    unknown = upload(b"x", source="no-such-source")
    assert unknown.status_code == 422
