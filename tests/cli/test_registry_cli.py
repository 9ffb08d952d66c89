"""The registry commands, their JSON output and their one-line errors (exit code 2)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from listwatch.cli.main import app

runner = CliRunner()


def run(db: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--db", db, *args])
    return result.exit_code, result.stdout, result.stderr


def test_status_json_for_the_three_phases(sqlite_url: str) -> None:
    wanted = {"2021-02-01": "listed", "2021-04-01": "listed_suspended", "2021-06-01": "removed"}
    for day, state in wanted.items():
        code, out, _ = run(sqlite_url, "status", "Xiaomi", "--as-of", day, "--json")
        assert code == 0
        payload = json.loads(out)
        (dod,) = [s for s in payload["statuses"] if s["list"] == "us-dod-cmc"]
        assert dod["status"] == state
    code, out, _ = run(
        sqlite_url,
        "status",
        "xiaomi corp.",
        "--as-of",
        "2021-06-01",
        "--known-at",
        "2021-02-01",
        "--list",
        "us-dod-cmc",
        "--json",
    )
    payload = json.loads(out)
    assert payload["statuses"][0]["status"] == "listed"
    assert payload["statuses"][0]["since"] == "2021-01-14"


def test_status_text_names_the_court_order(sqlite_url: str) -> None:
    code, out, _ = run(sqlite_url, "status", "Xiaomi", "--as-of", "2021-04-01")
    assert code == 0
    assert "listed suspended since 2021-03-12" in out
    assert "1:21-cv-00280" in out


def test_history_of_dji_shows_both_lists_with_sources(sqlite_url: str) -> None:
    code, out, _ = run(sqlite_url, "history", "DJI", "--json")
    assert code == 0
    lists = {item["list"]: item for item in json.loads(out)["lists"]}
    entity_list = lists["us-bis-entity-list"]["intervals"][0]
    assert entity_list["from"] == "2020-12-18"
    assert entity_list["event"]["evidence"][0]["citation"].startswith("85 FR 83416")
    cmic = lists["us-ofac-ns-cmic"]["intervals"][0]
    assert cmic["from"] == "2021-12-16"
    assert cmic["event"]["evidence"]


def test_obligations_and_lists_and_entity(sqlite_url: str) -> None:
    code, out, _ = run(
        sqlite_url,
        "obligations",
        "Xiaomi",
        "--as-of",
        "2021-02-01",
        "--role",
        "us-investor",
        "--json",
    )
    assert code == 0
    duties = {d["duty"]: d for d in json.loads(out)["duties"]}
    assert duties["divest_by"]["deadline"] == "2022-01-14"
    code, out, _ = run(sqlite_url, "lists", "--json")
    ids = {item["id"] for item in json.loads(out)}
    assert {
        "us-dod-cmc",
        "us-bis-entity-list",
        "us-ofac-sdn",
        "us-ofac-ns-cmic",
        "eu-sanctions",
        "uk-sanctions",
        "un-sc",
        "us-bis-meu",
    } <= ids
    code, out, _ = run(sqlite_url, "entity", "小米集团", "--json")
    assert code == 0 and json.loads(out)["id"] == "xiaomi"


def test_diff_of_the_dod_list(sqlite_url: str) -> None:
    code, out, _ = run(
        sqlite_url, "diff", "us-dod-cmc", "--from", "2021-01-01", "--to", "2021-12-31", "--json"
    )
    assert code == 0
    changes = {(c["entity_id"], c["change"]) for c in json.loads(out)["changes"]}
    assert {("xiaomi", "added"), ("xiaomi", "suspended"), ("xiaomi", "removed")} <= changes


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "No Such Company Ltd"], "no entity named"),
        (["status", "Xiaomi", "--as-of", "2021-02-30"], "--as-of"),
        (["status", "Xiaomi", "--as-of", "yesterday"], "--as-of"),
        (["status", "Xiaomi", "--list", "us-nope"], "unknown list id"),
        (["diff", "us-nope", "--from", "2021-01-01", "--to", "2021-02-01"], "unknown list id"),
        (["diff", "us-dod-cmc", "--from", "2021-03-01", "--to", "2021-02-01"], "before"),
        (["obligations", "Xiaomi", "--role", "astronaut"], "unknown role"),
        (["history", "Nobody"], "no entity named"),
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(
    sqlite_url: str, args: list[str], message: str
) -> None:
    code, out, err = run(sqlite_url, *args)
    assert code == 2
    assert message in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1
