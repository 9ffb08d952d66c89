"""``listwatch spark news`` + ``spark load-news`` store what ``news ingest`` stores for the same
corpus; bad records are reported in their rows; loading twice changes nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.scale.articles import ARTICLES, write_jsonl
from typer.testing import CliRunner

from listwatch.cli.main import app
from listwatch.registry.db import Registry
from listwatch.registry.models import Document, Entity, Event, Evidence, Review

pytestmark = [pytest.mark.spark, pytest.mark.slow]
runner = CliRunner()


def invoke(db: str, *args: str) -> Any:
    return runner.invoke(app, ["--db", db, *args])


def news_state(url: str) -> dict[str, Any]:
    """Everything news ingestion writes, keyed by content rather than by row ids."""
    registry = Registry(url)
    with registry.transaction() as session:
        documents = {
            d.id: d.sha256 for d in session.scalars(select(Document).where(Document.kind == "news"))
        }
        events = session.scalars(select(Event).where(Event.origin == "news")).all()
        keys = {e.id: e.key for e in events}
        state = {
            "documents": sorted(
                (
                    d.sha256,
                    d.title,
                    d.url,
                    d.citation,
                    d.language,
                    str(d.published),
                    d.text,
                    json.dumps(d.meta, sort_keys=True),
                )
                for d in session.scalars(select(Document).where(Document.kind == "news"))
            ),
            "events": sorted(
                (
                    e.key,
                    e.entity_id,
                    e.list_id,
                    e.kind,
                    str(e.valid_date),
                    e.valid_precision,
                    e.confidence,
                    e.summary,
                    json.dumps(e.details, sort_keys=True),
                )
                for e in events
            ),
            "evidence": sorted(
                (keys[v.event_id], documents[v.document_id], v.locator, v.text, v.start, v.end)
                for v in session.scalars(select(Evidence).where(Evidence.event_id.in_(keys)))
            ),
            "reviews": sorted(
                (keys[r.event_id], r.state, r.reason, r.reviewer)
                for r in session.scalars(select(Review).where(Review.event_id.in_(keys)))
            ),
            "entities": sorted(
                (e.id, e.name, e.review_state)
                for e in session.scalars(select(Entity).where(Entity.origin == "news"))
            ),
        }
    registry.dispose()
    return state


def added(state: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """What an ingestion added to a registry (the curated dataset cites news articles too)."""
    return {key: sorted(set(rows) - set(before[key])) for key, rows in state.items()}


def test_spark_news_then_load_equals_news_ingest(
    spark: Any, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from tests.conftest import fresh_url

    corpus = write_jsonl(tmp_path / "corpus.jsonl", ARTICLES)
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    direct = fresh_url("sqlite", request, tmp_path / "a")
    via_spark = fresh_url("sqlite", request, tmp_path / "b")
    before = news_state(fresh_url("sqlite", request, tmp_path / "c"))

    result = invoke(direct, "news", "ingest", str(corpus), "--json")
    assert result.exit_code == 0, result.stderr

    output = tmp_path / "extracted"
    result = invoke(via_spark, "spark", "news", str(corpus), str(output), "--json")
    assert result.exit_code == 0, result.stderr
    extract = json.loads(result.stdout)["extract"]
    assert extract["records"] == len(ARTICLES) and extract["documents"] == len(ARTICLES)
    assert extract["errors"] == 0 and extract["events"] >= 7
    result = invoke(via_spark, "spark", "load-news", str(output), "--batch", "2", "--json")
    assert result.exit_code == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert loaded["batches"] == 3 and loaded["documents"] == len(ARTICLES)

    expected, got = added(news_state(direct), before), added(news_state(via_spark), before)
    assert got == expected
    # Not vacuous: two reports of the Xiaomi listing are one event with two sources,
    # and events the official record confirms are accepted.
    assert len(expected["documents"]) == len(ARTICLES)
    xiaomi = [e for e in expected["events"] if e[1] == "xiaomi" and e[3] == "designated"]
    assert len(xiaomi) == 1
    assert len({v[1] for v in expected["evidence"] if v[0] == xiaomi[0][0]}) == 2
    assert any(r[1] == "accepted" for r in expected["reviews"])

    # Loading the same output again changes nothing.
    result = invoke(via_spark, "spark", "load-news", str(output), "--json")
    assert result.exit_code == 0, result.stderr
    again = json.loads(result.stdout)
    assert again["documents"] == 0 and again["duplicates"] == len(ARTICLES)
    assert added(news_state(via_spark), before) == expected


def test_spark_news_reports_bad_records(spark: Any, sqlite_url: str, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    lines = [
        json.dumps(ARTICLES[0]),
        "",
        "{not json",
        json.dumps({"text": "x", "published": "2021-02-30"}),
    ]
    (corpus / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = [ARTICLES[3], {"text": "Dzień dobry, to jest artykuł po polsku o niczym ważnym. " * 4}]
    pq.write_table(
        pa.table({k: [r.get(k) for r in rows] for k in ("id", "text", "published")}),
        corpus / "b.parquet",
    )
    (corpus / "notes.txt").write_text("not part of the corpus", encoding="utf-8")
    output = tmp_path / "out"
    result = invoke(
        sqlite_url,
        "spark",
        "news",
        str(corpus),
        str(output),
        "--format",
        "json",
        "--load",
        "--json",
    )
    assert result.exit_code == 0, result.stderr
    payload = json.loads(result.stdout)
    extract, load = payload["extract"], payload["load"]
    assert extract["files"] == 2 and extract["documents"] == 2 and extract["errors"] == 3
    errors = sorted(extract["first_errors"])
    assert errors[0].startswith("a.jsonl:3: not valid JSON")
    assert errors[1].startswith("a.jsonl:4:") and "no day 30" in errors[1]
    assert errors[2].startswith("b.parquet:2:") and "not supported" in errors[2]
    assert load["documents"] == 2 and load["skipped"] == 3
    stored = news_state(sqlite_url)
    assert {"wire-001", "da-2022-04"} <= {d[3] for d in stored["documents"]}
