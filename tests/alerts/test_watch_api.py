"""Watches over HTTP and the CLI, their alerts and their Atom feed."""

from __future__ import annotations

import json
from typing import Any

import feedparser
from typer.testing import CliRunner

from listwatch.cli.main import app as cli
from listwatch.registry.db import Registry
from listwatch.registry.domain import EventKind
from tests.api.helpers import bearer, official_event, token


def test_watch_lifecycle_and_feed(client: Any, api_registry: Registry) -> None:
    headers = bearer(token(api_registry, "watch"))
    assert client.get("/api/v1/watches").status_code == 401
    created = client.post(
        "/api/v1/watches",
        json={"target_kind": "entity", "target": "小米集团", "webhook_url": "http://127.0.0.1:9/h"},
        headers=headers,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["target_id"] == "xiaomi" and body["secret"].startswith("whsec_")
    watch_id = body["id"]
    listed = client.get("/api/v1/watches", headers=headers).json()
    assert [w["id"] for w in listed["items"]] == [watch_id]
    assert "secret" not in listed["items"][0]

    official_event(api_registry, "xiaomi", EventKind.DESIGNATED, "2025-01-07")
    official_event(api_registry, "xiaomi", EventKind.REMOVED, "2025-06-01")
    from listwatch.alerts.worker import run_round

    run_round(api_registry)
    alerts = client.get(f"/api/v1/watches/{watch_id}/alerts", headers=headers).json()
    assert alerts["total"] == 2
    assert alerts["items"][0]["title"].startswith("Xiaomi Corporation: removed (us-dod-cmc)")
    assert alerts["items"][0]["delivery"]["state"] == "pending"

    feed = client.get(body["feed_path"])
    assert feed.status_code == 200
    assert feed.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(feed.content)
    assert not parsed.bozo
    assert [e.title for e in parsed.entries] == [a["title"] for a in alerts["items"]]
    assert parsed.entries[0].link.endswith(f"?event={alerts['items'][0]['event_id']}#evidence")
    assert client.get("/feeds/not-a-real-feed-token.atom").status_code == 404

    assert client.delete(f"/api/v1/watches/{watch_id}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/watches/{watch_id}", headers=headers).status_code == 404
    assert client.get(body["feed_path"]).status_code == 200, "the feed outlives the watch"


def test_watch_validation(client: Any, api_registry: Registry) -> None:
    headers = bearer(token(api_registry, "watch"))

    def post(payload: dict[str, Any]) -> Any:
        return client.post("/api/v1/watches", json=payload, headers=headers)

    assert post({"target_kind": "entity", "target": "Nobody Ltd"}).status_code == 404
    assert post({"target_kind": "list", "target": "no-such-list"}).status_code == 404
    assert post({"target_kind": "planet", "target": "mars"}).status_code == 422
    bad_url = post({"target_kind": "list", "target": "us-dod-cmc", "webhook_url": "ftp://x/y"})
    assert bad_url.status_code == 422 and "http" in bad_url.json()["error"]["message"]
    short = post({"target_kind": "list", "target": "us-dod-cmc", "secret": "short"})
    assert short.status_code == 422


def test_cli_watch_and_deliver(sqlite_url: str) -> None:
    runner = CliRunner()

    def run(*args: str) -> Any:
        result = runner.invoke(cli, ["--db", sqlite_url, *args])
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    created = run(
        "watch", "add", "us-dod-cmc", "--list", "--webhook", "http://127.0.0.1:9/h", "--json"
    )
    assert created["target_kind"] == "list" and created["secret"]
    assert [w["id"] for w in run("watch", "list", "--json")] == [created["id"]]
    registry = Registry(sqlite_url)
    official_event(registry, "dji", EventKind.DESIGNATED, "2025-01-07")
    registry.dispose()
    report = run("alerts", "deliver", "--json")
    assert report["alerts"] == 1 and report["retry"] == 1 and report["delivered"] == 0
    assert run("watch", "remove", str(created["id"]), "--json")["active"] is False
    failed = runner.invoke(cli, ["--db", sqlite_url, "watch", "remove", "999"])
    assert failed.exit_code == 2 and "no watch 999" in failed.stderr


def test_cli_tokens(sqlite_url: str) -> None:
    runner = CliRunner()
    created = runner.invoke(
        cli, ["--db", sqlite_url, "token", "create", "ci", "--scope", "review", "--scope", "news"]
    )
    assert created.exit_code == 0
    text = created.stdout.strip().splitlines()[-1]
    assert text.startswith("lw_")
    listed = runner.invoke(cli, ["--db", sqlite_url, "token", "list", "--json"])
    (row,) = json.loads(listed.stdout)
    assert row["scopes"] == ["news", "review"] and text not in listed.stdout
    bad = runner.invoke(cli, ["--db", sqlite_url, "token", "create", "x", "--scope", "root"])
    assert bad.exit_code == 2 and "unknown scope" in bad.stderr
    revoked = runner.invoke(cli, ["--db", sqlite_url, "token", "revoke", "ci", "--json"])
    assert revoked.exit_code == 0
    again = runner.invoke(cli, ["--db", sqlite_url, "token", "revoke", str(row["id"])])
    assert again.exit_code == 2 and "already revoked" in again.stderr
