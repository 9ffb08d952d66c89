"""Ingestion into the registry: documents once, proposed events, clustering across
articles and languages, conflicts, confirmation by official events, review, bad input."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from listwatch.cli.main import app
from listwatch.news.documents import InputError, read_paths
from listwatch.news.ingest import confirm_proposed, ingest
from listwatch.registry.domain import Origin, ReviewState
from listwatch.registry.models import Document, Entity, Event, Evidence
from listwatch.registry.store import current_review_state
from tests.news.conftest import DATA

ARTICLES = DATA / "articles"
runner = CliRunner()


def _counts(registry: Any) -> tuple[int, int, int]:
    with registry.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Document)) or 0,
            session.scalar(select(func.count()).select_from(Event)) or 0,
            session.scalar(select(func.count()).select_from(Evidence)) or 0,
        )


def test_ingest_is_idempotent_and_proposes(news_registry: Any, pipeline: Any) -> None:
    documents = read_paths([str(ARTICLES)])
    with news_registry.transaction() as session:
        report = ingest(session, documents, pipeline)
    assert report.documents == len(documents)
    assert report.events_created
    before = _counts(news_registry)
    with news_registry.transaction() as session:
        again = ingest(session, read_paths([str(ARTICLES)]), pipeline)
    assert again.documents == 0 and again.duplicates == len(documents)
    assert _counts(news_registry) == before
    with news_registry.transaction() as session:
        news = session.scalars(select(Event).where(Event.origin == Origin.NEWS.value)).all()
        states = {current_review_state(e) for e in news}
        assert ReviewState.PROPOSED in states
        assert all(e.evidence for e in news)


def test_unknown_organisations_are_proposed_as_entities(
    news_registry: Any, pipeline: Any, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "articles"
    tmp_path.mkdir()
    (tmp_path / "a.txt").write_text(
        " date 2022-12-20\nHet ministerie van Handel heeft de chipfabrikant Quantaris donderdag "
        "op de Entity List gezet.\n",
        "utf-8",
    )
    (tmp_path / "b.txt").write_text(
        " date 2023-03-02\nThe Commerce Department added Harbin Lanxin Electronics Co., Ltd. "
        "to the Entity List on Tuesday.\n",
        "utf-8",
    )
    with news_registry.transaction() as session:
        report = ingest(session, read_paths([str(tmp_path)]), pipeline)
        assert sorted(report.entities_proposed) == [
            "news-harbin-lanxin-electronics-co-ltd",
            "news-quantaris",
        ]
        entity = session.get(Entity, "news-quantaris")
        assert entity is not None and entity.review_state == "proposed" and entity.origin == "news"
    with news_registry.transaction() as session:
        from listwatch.news.pipeline import NewsPipeline

        later = NewsPipeline.from_session(session)
    [document] = read_paths([str(tmp_path / "a.txt")])
    assert later.process(document).events[0].entity_id == "news-quantaris"


def test_same_event_in_several_articles_and_languages_is_one_event(
    news_registry: Any, pipeline: Any, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "articles"
    tmp_path.mkdir()
    (tmp_path / "a.txt").write_text(
        " date 2021-05-26\nHet Pentagon haalt Xiaomi definitief van de zwarte lijst met Chinese "
        "militaire bedrijven.\n",
        "utf-8",
    )
    (tmp_path / "b.txt").write_text(
        " date 2021-05-27\nThe Pentagon removed Xiaomi from its list of Chinese military "
        "companies.\n",
        "utf-8",
    )
    (tmp_path / "c.txt").write_text(
        " date 2021-05-27\nPentagon har fjernet Xiaomi fra sortlisten over kinesiske "
        "militærvirksomheder.\n",
        "utf-8",
    )
    with news_registry.transaction() as session:
        report = ingest(session, read_paths([str(tmp_path)]), pipeline)
    assert len(report.events_created) == 1
    with news_registry.transaction() as session:
        event = session.get(Event, report.events_created[0])
        assert event is not None and event.kind == "removed" and event.list_id == "us-dod-cmc"
        assert len({ev.document_id for ev in event.evidence}) == 3


def test_conflicting_date_is_flagged_and_stored(
    news_registry: Any, pipeline: Any, seeds_dir: Path
) -> None:
    with news_registry.transaction() as session:
        report = ingest(
            session, read_paths([str(seeds_dir / "000_fc3d39127f68a93a.txt")]), pipeline
        )
        conflicted = [session.get(Event, i) for i in report.conflicts]
        designated = [e for e in conflicted if e is not None and e.kind == "designated"]
        assert designated and designated[0].details["conflict"]["official_date"] == "2021-01-14"


def test_official_record_confirms_a_proposed_event(news_registry: Any, pipeline: Any) -> None:
    with news_registry.transaction() as session:
        report = ingest(session, read_paths([str(ARTICLES / "zh_02.txt")]), pipeline)
        assert report.confirmed, "the court's suspension of 2021-03-12 is on the official record"
        news_id, official_id = report.confirmed[0]
        event = session.get(Event, news_id)
        assert event is not None and current_review_state(event) is ReviewState.ACCEPTED
        assert event.reviews[-1].confirmed_by_event_id == official_id
        assert "confirmed by official event" in (event.reviews[-1].reason or "")
        assert confirm_proposed(session, [official_id]) == []


def test_bad_input_writes_nothing(news_registry: Any, tmp_path: Path) -> None:
    tmp_path = tmp_path / "articles"
    tmp_path.mkdir()
    good = tmp_path / "good.txt"
    good.write_text(
        " date 2022-01\nThe Commerce Department added ZTE to the Entity List.\n", "utf-8"
    )
    (tmp_path / "bad.bin").write_bytes(b"\x00\x01\x02binary" * 100)
    before = _counts(news_registry)
    result = runner.invoke(app, ["--db", news_registry.url, "news", "ingest", str(tmp_path)])
    assert result.exit_code == 2
    assert "binary" in result.output
    assert _counts(news_registry) == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("latin1.txt", "Société sanctionnée".encode("latin-1"), "not valid utf-8"),
        ("empty.txt", b"   \n", "empty"),
        ("bad.jsonl", b'{"text": "x"}\n{oops\n', "bad.jsonl:2: not valid JSON"),
        ("nofield.jsonl", b'{"url": "http://x"}\n', 'needs a "text" or an "html"'),
        ("future.txt", b" date 2999-01-01\nText about ZTE.\n", "in the future"),
    ],
)
def test_bad_inputs_have_clear_messages(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InputError) as error:
        read_paths([str(path)])
    assert message.lower() in str(error.value).lower()


def test_huge_html_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.html"
    with path.open("wb") as handle:
        handle.write(b"<html><body>")
        chunk = b"<p>" + b"Xiaomi was added to the list. " * 300 + b"</p>"
        while handle.tell() < 50 * 1024 * 1024:
            handle.write(chunk)
        handle.write(b"</body></html>")
    result = runner.invoke(app, ["news", "extract", str(path)])
    assert result.exit_code == 2
    assert "over the 20 MB limit" in result.output


def test_unsupported_language_is_refused(news_registry: Any, tmp_path: Path) -> None:
    path = tmp_path / "pl.txt"
    path.write_text(
        "Amerykański rząd usunął firmę Xiaomi z czarnej listy chińskich przedsiębiorstw "
        "wojskowych. Sąd federalny wcześniej tymczasowo zawiesił tę decyzję.\n",
        "utf-8",
    )
    before = _counts(news_registry)
    result = runner.invoke(app, ["--db", news_registry.url, "news", "ingest", str(path)])
    assert result.exit_code == 2 and "Polish" in result.output and "not supported" in result.output
    assert _counts(news_registry) == before


def test_html_and_json_lines_inputs(pipeline: Any, tmp_path: Path) -> None:
    tmp_path = tmp_path / "articles"
    tmp_path.mkdir()
    html = (
        "<html><head><title>Entity List additions</title>"
        '<meta property="article:published_time" content="2023-05-10"></head><body>'
        "<nav>Home | World | Markets</nav><article><h1>US adds Megvii to the Entity List</h1>"
        "<p>The US Commerce Department on Tuesday added Megvii to the Entity List, citing "
        "its role in surveillance. The company said it would study the decision.</p>"
        "<p>Read more: Huawei is removed from the Entity List</p></article>"
        "<footer>Copyright</footer></body></html>"
    )
    (tmp_path / "page.html").write_text(html, "utf-8")
    (tmp_path / "feed.jsonl").write_text(
        json.dumps({"html": html, "url": "https://example.org/a", "published": "2023-05-10"})
        + "\n"
        + json.dumps(
            {
                "text": "Hikvision has been on the Entity List since 2019.",
                "url": "https://example.org/b",
                "published": "2023-05-11",
                "language": "en",
            }
        )
        + "\n",
        "utf-8",
    )
    documents = read_paths([str(tmp_path)])
    assert [d.kind for d in documents] == ["html", "text", "html"]
    events = [e for d in documents for e in pipeline.process(d).events]
    keys = {(e.mention, e.kind.value, e.list_id) for e in events}
    assert ("Megvii", "designated", "us-bis-entity-list") in keys
    assert ("Hikvision", "listed", "us-bis-entity-list") in keys
    assert not any(e.entity_id == "huawei" for e in events), (
        "a 'read more' headline is not an event"
    )


def test_cli_extract_json_has_the_gold_fields(news_registry: Any, seeds_dir: Path) -> None:
    result = runner.invoke(
        app,
        [
            "--db",
            news_registry.url,
            "news",
            "extract",
            str(seeds_dir / "003_b2377ab17e40420a.txt"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
    assert rows
    fields = {
        "doc",
        "entity",
        "entity_id",
        "mention",
        "kind",
        "list",
        "countries",
        "date_text",
        "date",
        "date_precision",
        "evidence",
        "confidence",
        "conflict",
    }
    assert all(fields <= set(row) for row in rows)
    [row] = rows
    assert row["kind"] == "business_suspended" and row["countries"] == ["RU", "UA"]
    assert row["date"] == "2022-04" and row["date_text"] == "laat op dinsdag"


def test_stdin_input(news_registry: Any) -> None:
    text = " date 2022-12-20\nDe chipfabrikant Quantaris is donderdag op de Entity List gezet.\n"
    result = runner.invoke(
        app, ["--db", news_registry.url, "news", "extract", "-", "--json"], input=text
    )
    assert result.exit_code == 0, result.output
    row = json.loads(result.output.splitlines()[0])
    assert row["entity"] == "Quantaris" and row["entity_id"] is None and row["date"] == "2022-12-15"


def test_review_cli_accepts_and_rejects(news_registry: Any) -> None:
    db = ["--db", news_registry.url]
    result = runner.invoke(app, [*db, "news", "ingest", str(ARTICLES / "de_01.txt"), "--json"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(app, [*db, "review", "list", "--json"])
    rows = json.loads(listed.output)
    assert rows and all(r["state"] == "proposed" for r in rows)
    first, second = rows[0]["id"], rows[1]["id"]
    assert (
        runner.invoke(app, [*db, "review", "accept", str(first), "--reason", "checked"]).exit_code
        == 0
    )
    assert runner.invoke(app, [*db, "review", "reject", str(second)]).exit_code == 2
    rejected = runner.invoke(app, [*db, "review", "reject", str(second), "--reason", "wrong list"])
    assert rejected.exit_code == 0
    remaining = json.loads(runner.invoke(app, [*db, "review", "list", "--json"]).output)
    assert first not in {r["id"] for r in remaining} and second not in {r["id"] for r in remaining}
    accepted = json.loads(
        runner.invoke(app, [*db, "review", "list", "--state", "accepted", "--json"]).output
    )
    assert [r["id"] for r in accepted] == [first]
    assert runner.invoke(app, [*db, "review", "accept", "999999"]).exit_code == 2


@pytest.fixture
def news_site(tmp_path: Path) -> Iterator[str]:
    """A local web server with an RSS feed and two article pages."""
    site = tmp_path / "site"
    site.mkdir()
    article = (
        "<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        "<p>{body}</p><p>Lire aussi : autre chose</p></article></body></html>"
    )
    (site / "one.html").write_text(
        article.format(
            title="Kaspersky retiré de la liste SDN",
            body="Le Trésor américain a retiré Kaspersky de la liste SDN hier, selon un communiqué "
            "publié par le département du Trésor.",
        ),
        "utf-8",
    )
    (site / "two.html").write_text(
        article.format(
            title="Alrosa sanctionnée",
            body="Londres a inscrit Alrosa sur la liste des sanctions britanniques lundi, "
            "a annoncé le gouvernement britannique.",
        ),
        "utf-8",
    )

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(site), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    base = f"http://127.0.0.1:{server.server_address[1]}"
    items = "".join(
        f"<item><title>{t}</title><link>{base}/{p}</link>"
        f"<pubDate>Wed, 11 Jan 2023 10:00:00 GMT</pubDate></item>"
        for t, p in (("Kaspersky", "one.html"), ("Alrosa", "two.html"))
    )
    (site / "feed.xml").write_text(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>',
        "utf-8",
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"{base}/feed.xml"
    server.shutdown()


def test_follow_fetches_new_items_once(news_registry: Any, news_site: str) -> None:
    db = ["--db", news_registry.url]
    first = runner.invoke(app, [*db, "news", "follow", news_site, "--json"])
    assert first.exit_code == 0, first.output
    summary = json.loads(first.output)
    assert summary["fetched"] == 2 and summary["documents"] == 2
    with news_registry.transaction() as session:
        kinds = {
            (e.entity_id, e.kind, e.list_id)
            for e in session.scalars(select(Event).where(Event.origin == "news"))
        }
    names = {(session_name, kind, list_id) for session_name, kind, list_id in kinds}
    assert any(k[1:] == ("removed", "us-ofac-sdn") and "kaspersky" in k[0] for k in names)
    assert any(k[1:] == ("designated", "uk-sanctions") and "alrosa" in k[0] for k in names)
    second = json.loads(runner.invoke(app, [*db, "news", "follow", news_site, "--json"]).output)
    assert second["fetched"] == 0 and second["documents"] == 0


def test_seed_articles_on_both_databases(registry: Any, seeds_dir: Path) -> None:
    from listwatch.news.pipeline import NewsPipeline

    with registry.transaction() as session:
        pipeline = NewsPipeline.from_session(session)
        report = ingest(session, read_paths([str(seeds_dir)]), pipeline)
    assert report.documents == 4 and report.conflicts
    with registry.transaction() as session:
        again = ingest(session, read_paths([str(seeds_dir)]), pipeline)
        assert again.documents == 0 and again.duplicates == 4
        removed = session.scalars(
            select(Event).where(
                Event.origin == "news", Event.entity_id == "xiaomi", Event.kind == "removed"
            )
        ).all()
        assert len(removed) == 1, "the Dutch and the Danish report are one event"
        assert len({ev.document_id for ev in removed[0].evidence}) == 2
