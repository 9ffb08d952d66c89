"""The development set (../shared/seeds + news-dev/gold.jsonl): every gold event found,
the traps avoided, and the conflicting Xiaomi listing date flagged."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from listwatch.news.documents import read_paths
from listwatch.news.evaluate import run_evaluation
from listwatch.news.ingest import annotate_conflicts

# Floors only go up: raise them when extraction improves.
FLOORS = {"precision": 1.0, "recall": 1.0, "date_accuracy": 1.0, "evidence_accuracy": 1.0}


def test_dev_set_scores(
    news_registry: Any, pipeline: Any, shared_data: Path, seeds_dir: Path
) -> None:
    with news_registry.transaction() as session:
        evaluation = run_evaluation(
            session, shared_data / "news-dev" / "gold.jsonl", seeds_dir, pipeline
        )
        session.rollback()
    report = evaluation.to_json()
    assert report["overall"]["precision"] >= FLOORS["precision"], report["false_positives"]
    assert report["overall"]["recall"] >= FLOORS["recall"], report["false_negatives"]
    assert report["date_accuracy"] >= FLOORS["date_accuracy"], report["date_errors"]
    assert report["evidence_accuracy"] >= FLOORS["evidence_accuracy"]
    assert set(report["by_language"]) == {"nl", "da"}


def test_no_event_from_noise_blocks(pipeline: Any, seeds_dir: Path) -> None:
    for document in read_paths([str(seeds_dir)]):
        result = pipeline.process(document)
        noise = [b for b in result.blocks if not b.kept]
        for event in result.events:
            for item in event.evidence:
                assert not any(b.start <= item.start < b.end for b in noise), item.text
        read_also = [b.text for b in noise if b.label == "noise:read_also"]
        assert all(t.lower().startswith(("læs også", "lees ook")) for t in read_also)
    texts = " ".join(
        item.text
        for document in read_paths([str(seeds_dir)])
        for event in pipeline.process(document).events
        for item in event.evidence
    )
    assert "Navnenyt" not in texts and "Nyt job" not in texts and "Læs også" not in texts


def test_xiaomi_listing_date_conflicts_with_the_official_record(
    news_registry: Any, pipeline: Any, seeds_dir: Path
) -> None:
    [document] = read_paths([str(seeds_dir / "000_fc3d39127f68a93a.txt")])
    result = pipeline.process(document)
    with news_registry.transaction() as session:
        annotate_conflicts(session, result.events)
    [designated] = [e for e in result.events if e.kind == "designated" and e.entity_id == "xiaomi"]
    assert designated.date is not None and str(designated.date.date) == "2022-01"
    assert designated.conflict is not None
    assert designated.conflict["official_date"] == "2021-01-14"
    assert designated.conflict["news_date"] == "2022-01"
