"""The pieces of the Spark news job that need no Spark: corpus records read as ``news ingest``
reads them, extracted events written and read back unchanged, refused outputs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.scale.articles import ARTICLES

from listwatch.news.documents import InputError, jsonl_documents
from listwatch.scale.news import (
    COLUMNS,
    event_from,
    event_record,
    load_news,
    output_row,
    parse_line,
    record_document,
    result_from_row,
)
from listwatch.scale.session import SparkJobError


def test_records_read_like_news_ingest(tmp_path: Path) -> None:
    lines = [json.dumps(record, ensure_ascii=False) for record in ARTICLES]
    lines.insert(2, json.dumps({"text": "Anonymous report about Xiaomi.", "published": "2021"}))
    data = ("\n".join(lines) + "\n").encode("utf-8")
    expected = jsonl_documents(data, "corpus.jsonl")
    got = []
    for number, line in enumerate(lines, 1):
        record = parse_line(line, f"corpus.jsonl:{number}")
        assert record is not None
        got.append(record_document(record, f"corpus.jsonl:{number}"))
    assert got == expected
    assert got[2].name == "corpus.jsonl:3"  # neither id nor url: named by file and line


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{oops", "c.jsonl:7: not valid JSON"),
        ("[1, 2]", "c.jsonl:7: expected a JSON object"),
        ('{"title": "no body"}', 'c.jsonl:7: a record needs a "text" or an "html" string'),
        ('{"text": "  "}', "c.jsonl:7: empty text"),
        ('{"text": "x", "published": "2021-02-30"}', "c.jsonl:7: 2021-02 has no day 30"),
        ('{"text": "x", "published": "2999-01-01"}', "is in the future"),
        ('{"text": "x", "language": 7}', "language must be a string"),
    ],
)
def test_bad_records_name_file_and_line(line: str, message: str) -> None:
    with pytest.raises(InputError, match=r"c\.jsonl:7") as caught:
        record = parse_line(line, "c.jsonl:7")
        assert record is not None
        record_document(record, "c.jsonl:7")
    assert message in str(caught.value)


def test_blank_lines_and_byte_order_mark() -> None:
    assert parse_line("   ", "c.jsonl:1") is None
    assert parse_line('\ufeff{"text": "x"}', "c.jsonl:1") == {"text": "x"}


def test_events_survive_the_output(pipeline: Any) -> None:
    documents = []
    for number, record in enumerate(ARTICLES, 1):
        documents.append(record_document(record, f"c.jsonl:{number}"))
    results = [pipeline.process(d) for d in documents]
    events = [e for r in results for e in r.events]
    assert len(events) >= 7 and any(e.date is not None for e in events)
    for event in events:
        assert event_from(json.loads(json.dumps(event_record(event)))) == event
    for number, result in enumerate(results, 1):
        where = f"c.jsonl:{number}"
        row = dict(zip(COLUMNS, output_row(where, "c.jsonl", number, result), strict=True))
        back = result_from_row(json.loads(json.dumps(row)))
        # The language stored is the one extraction settled on (given or detected).
        assert back.language == result.language == back.document.language
        assert replace(back.document, language=result.document.language) == result.document
        assert back.events == result.events and back.text == result.text


def test_load_refuses_an_unfinished_output(news_registry: Any, tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.mkdir()
    (output / "part-00000-x.json").write_text("{}\n", encoding="utf-8")
    with pytest.raises(SparkJobError, match="did not finish"):
        load_news(news_registry, output)
    (output / "_SUCCESS").write_text("", encoding="utf-8")
    with pytest.raises(SparkJobError, match="not a `spark news` output row"):
        load_news(news_registry, output)
    with pytest.raises(SparkJobError, match="not an output directory"):
        load_news(news_registry, tmp_path / "missing")
