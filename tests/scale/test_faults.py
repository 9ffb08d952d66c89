"""SIGKILL in the middle of an official import, a news ingest, a bulk news load and a webhook
delivery; then restart. The registry is as it was (or holds whole batches only), running
the work again completes it, and no alert is lost or sent twice without its idempotency key.

Each workload is a real ``listwatch`` process; it is killed at a point it announces
(:mod:`tests.scale.workload`) or, for webhooks, while the receiver holds its request.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from tests.scale.articles import ARTICLES, write_jsonl
from tests.scale.test_concurrency import sdn_csv

from listwatch.registry.db import Registry
from listwatch.registry.models import Base

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]


def table_counts(url: str) -> dict[str, int]:
    """Rows of every registry table."""
    registry = Registry(url)
    with registry.transaction() as session:
        counts = {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in Base.metadata.sorted_tables
        }
    registry.dispose()
    return counts


def check_consistent(url: str) -> None:
    """No row points at a row that is not there, and no event lacks its evidence."""
    registry = Registry(url)
    with registry.transaction() as session:
        orphans = {
            "events without evidence": "SELECT count(*) FROM events e WHERE NOT EXISTS "
            "(SELECT 1 FROM evidence v WHERE v.event_id = e.id)",
            "evidence without event": "SELECT count(*) FROM evidence v WHERE NOT EXISTS "
            "(SELECT 1 FROM events e WHERE e.id = v.event_id)",
            "evidence without document": "SELECT count(*) FROM evidence v WHERE NOT EXISTS "
            "(SELECT 1 FROM documents d WHERE d.id = v.document_id)",
            "names without entity": "SELECT count(*) FROM entity_names n WHERE NOT EXISTS "
            "(SELECT 1 FROM entities e WHERE e.id = n.entity_id)",
            "events of an import not recorded": "SELECT count(*) FROM events e WHERE "
            "e.import_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = "
            "e.import_id)",
            "source records without import": "SELECT count(*) FROM source_records r WHERE "
            "NOT EXISTS (SELECT 1 FROM imports i WHERE i.id = r.last_import_id)",
        }
        found = {name: session.scalar(text(sql)) for name, sql in orphans.items()}
    registry.dispose()
    assert all(count == 0 for count in found.values()), found


class Workload:
    """``python -m tests.scale.workload POINT --db URL ARGS...``, killed when it pauses."""

    def __init__(self, point: str, url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.scale.workload", point, "--db", url, *args],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )

    def kill_when_paused(self, timeout: float = 120.0) -> None:
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        for line in self.process.stderr:
            seen.append(line)
            if line.startswith("PAUSED"):
                break
            if time.monotonic() > deadline:
                break
        if not any(line.startswith("PAUSED") for line in seen):
            self.process.kill()
            raise AssertionError("the workload never reached its pause point:\n" + "".join(seen))
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        assert self.process.returncode == -signal.SIGKILL


def listwatch(url: str, *args: str) -> dict[str, Any]:
    """Run a command to completion in its own process; its --json output."""
    done = subprocess.run(
        [sys.executable, "-m", "listwatch.cli.main", "--db", url, *args, "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_kill_during_an_official_import(registry_url: str, tmp_path: Path) -> None:
    first = sdn_csv(tmp_path / "1" / "sdn.csv", range(1, 401))
    second = sdn_csv(tmp_path / "2" / "sdn.csv", range(21, 421))
    listwatch(registry_url, "import", "ofac-sdn", str(first), "--published", "2024-05-01")
    before = table_counts(registry_url)
    Workload(
        "import", registry_url, "import", "ofac-sdn", str(second), "--published", "2024-05-02"
    ).kill_when_paused()
    assert table_counts(registry_url) == before  # nothing of the killed import is left
    check_consistent(registry_url)
    result = listwatch(registry_url, "import", "ofac-sdn", str(second), "--published", "2024-05-02")
    assert not result["unchanged"]
    assert result["events"]["us-ofac-sdn"] == {"removed": 20, "designated": 20}
    check_consistent(registry_url)
    again = listwatch(registry_url, "import", "ofac-sdn", str(second), "--published", "2024-05-02")
    assert again["unchanged"]


def test_kill_during_a_news_ingest(registry_url: str, tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "corpus.jsonl", ARTICLES)
    before = table_counts(registry_url)
    Workload("news:3", registry_url, "news", "ingest", str(corpus)).kill_when_paused()
    assert table_counts(registry_url) == before  # one transaction: all or nothing
    check_consistent(registry_url)
    report = listwatch(registry_url, "news", "ingest", str(corpus))
    assert report["documents"] == len(ARTICLES) and report["events_created"]
    check_consistent(registry_url)


def spark_news_output(pipeline: Any, directory: Path) -> Path:
    """What ``spark news`` writes for ARTICLES (made here without Spark: a Parquet part)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from listwatch.scale.news import COLUMNS, output_row, record_document

    rows = []
    for number, record in enumerate(ARTICLES, 1):
        where = f"corpus.jsonl:{number}"
        result = pipeline.process(record_document(record, where))
        rows.append(output_row(where, "corpus.jsonl", number, result))
    directory.mkdir()
    columns = {name: [row[i] for row in rows] for i, name in enumerate(COLUMNS)}
    pq.write_table(pa.table(columns), directory / "part-00000-test-c000.snappy.parquet")
    (directory / "_SUCCESS").write_text("", encoding="utf-8")
    return directory


def news_documents(url: str) -> set[str]:
    from listwatch.registry.models import Document

    registry = Registry(url)
    with registry.transaction() as session:
        found = set(session.scalars(select(Document.citation).where(Document.kind == "news")))
    registry.dispose()
    return found


def test_kill_during_a_bulk_news_load(sqlite_url: str, pipeline: Any, tmp_path: Path) -> None:
    output = spark_news_output(pipeline, tmp_path / "extracted")
    names = {str(r.get("id") or r.get("url")) for r in ARTICLES}
    assert not names & news_documents(sqlite_url)
    # Batches of two articles: killed after the third is stored, the first batch is in.
    Workload(
        "load:3", sqlite_url, "spark", "load-news", str(output), "--batch", "2"
    ).kill_when_paused()
    stored = names & news_documents(sqlite_url)
    assert stored == {"wire-001", "https://news.example.org/2021/03/xiaomi-court"}
    check_consistent(sqlite_url)
    report = listwatch(sqlite_url, "spark", "load-news", str(output), "--batch", "2")
    assert report["duplicates"] == 2 and report["documents"] == len(ARTICLES) - 2
    assert names <= news_documents(sqlite_url)
    check_consistent(sqlite_url)


class HoldingReceiver:
    """A webhook receiver that holds the first request it gets until released, then 204."""

    def __init__(self) -> None:
        self.keys: list[str] = []
        self.first = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.keys.append(self.headers["Idempotency-Key"])
                if not receiver.first.is_set():
                    receiver.first.set()
                    receiver.release.wait(60)
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def stop(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def test_kill_during_a_webhook_delivery(registry_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.api.helpers import official_event

    from listwatch.alerts import create_watch
    from listwatch.registry.domain import EventKind
    from listwatch.registry.models import Alert, OutboxItem

    receiver = HoldingReceiver()
    try:
        registry = Registry(registry_url)
        with registry.transaction() as session:
            create_watch(session, "entity", "xiaomi", webhook_url=receiver.url)
        for day in (7, 8, 9):
            official_event(registry, "xiaomi", EventKind.AMENDED, f"2025-01-{day:02d}")
        registry.dispose()
        monkeypatch.setenv("LISTWATCH_WEBHOOK_TIMEOUT", "0.5")
        monkeypatch.setenv("LISTWATCH_RETRY_BASE", "0.1")
        sender = subprocess.Popen(
            [sys.executable, "-m", "listwatch.cli.main", "--db", registry_url, "alerts", "deliver"],
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert receiver.first.wait(120), "no delivery was attempted"
        sender.kill()  # SIGKILL while the receiver holds the first request
        sender.wait(timeout=30)
        receiver.release.set()
        registry = Registry(registry_url)
        with registry.transaction() as session:
            alerts = session.scalar(select(func.count(Alert.id)))
            items = session.scalars(select(OutboxItem)).all()
            assert alerts == 3 and len(items) == 3  # the dispatch before the sends committed
            assert all(i.delivered_at is None for i in items)
        # Restart: deliver until everything is through (a claim of the killed worker
        # expires after 2 x timeout + 30 s; until then its items are not sent again).
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            report = listwatch(registry_url, "alerts", "deliver")
            assert report["failed"] == 0
            with registry.transaction() as session:
                pending = session.scalar(
                    select(func.count(OutboxItem.id)).where(OutboxItem.delivered_at.is_(None))
                )
            if pending == 0:
                break
            time.sleep(1)
        with registry.transaction() as session:
            keys = session.scalars(select(OutboxItem.idempotency_key)).all()
            assert session.scalar(select(func.count(Alert.id))) == 3  # no alert made twice
        registry.dispose()
        assert pending == 0, "deliveries did not complete after the restart"
        # Each alert arrived; the one whose answer was lost came again with its key.
        assert sorted(set(receiver.keys)) == sorted(keys)
        repeated = [k for k in set(receiver.keys) if receiver.keys.count(k) > 1]
        assert repeated == [receiver.keys[0]] and receiver.keys.count(receiver.keys[0]) == 2
    finally:
        receiver.stop()
