"""Extraction on listwatch's own annotated articles: eleven languages (Chinese in both
scripts), lists beyond the seeds (EU, UK, OFAC SDN, UN, Entity List) and other companies."""

from __future__ import annotations

from typing import Any

from listwatch.news.evaluate import run_evaluation
from tests.news.conftest import DATA

# Floors only go up: raise them when extraction improves.
FLOORS = {"precision": 1.0, "recall": 1.0, "date_accuracy": 1.0}
LANGUAGES = {"en", "de", "fr", "es", "it", "pt", "sv", "no", "zh", "nl", "da"}


def test_own_set_scores(news_registry: Any, pipeline: Any) -> None:
    with news_registry.transaction() as session:
        evaluation = run_evaluation(session, DATA / "gold.jsonl", DATA / "articles", pipeline)
        session.rollback()
    report = evaluation.to_json()
    assert set(report["by_language"]) == LANGUAGES
    assert report["overall"]["precision"] >= FLOORS["precision"], report["false_positives"]
    assert report["overall"]["recall"] >= FLOORS["recall"], report["false_negatives"]
    assert report["date_accuracy"] >= FLOORS["date_accuracy"], report["date_errors"]
    assert report["countries_accuracy"] == 1.0


# A second set, written later and first measured untuned (P 0.917, R 0.688); the misses
# it showed were fixed in the language files and the coreference of "the company". One
# case stays open on purpose: a Treasury list described with the DoD list's words.
HELDOUT_FLOORS = {"precision": 0.93, "recall": 0.93, "date_accuracy": 1.0}


def test_second_set_scores(news_registry: Any, pipeline: Any) -> None:
    with news_registry.transaction() as session:
        evaluation = run_evaluation(
            session, DATA / "heldout_gold.jsonl", DATA / "heldout", pipeline
        )
        session.rollback()
    report = evaluation.to_json()
    assert report["overall"]["precision"] >= HELDOUT_FLOORS["precision"], report["false_positives"]
    assert report["overall"]["recall"] >= HELDOUT_FLOORS["recall"], report["false_negatives"]
    assert report["date_accuracy"] >= HELDOUT_FLOORS["date_accuracy"], report["date_errors"]
