"""Evaluation: precision, recall and F1 per event kind and per language, and date accuracy,
of extraction against a hand-annotated set (one JSON object per gold event, as in
``news-dev/gold.jsonl``).

An extracted event matches a gold event when document, entity, kind and list agree; for a
match, the date, the date text, the countries and the evidence (the gold snippet inside
one of the event's sentences) are scored separately.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from listwatch.news.documents import read_paths
from listwatch.news.pipeline import DocumentResult, ExtractedEvent, NewsPipeline
from listwatch.news.textfold import fold, name_key

Key = tuple[str, str, str, str | None]


@dataclass
class Scores:
    """Counts and derived precision, recall and F1."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
        }


@dataclass
class Evaluation:
    """The result of comparing extraction with gold events."""

    overall: Scores = field(default_factory=Scores)
    by_kind: dict[str, Scores] = field(default_factory=dict)
    by_language: dict[str, Scores] = field(default_factory=dict)
    matched: int = 0
    date_correct: int = 0
    date_text_correct: int = 0
    countries_correct: int = 0
    evidence_correct: int = 0
    false_positives: list[dict[str, Any]] = field(default_factory=list)
    false_negatives: list[dict[str, Any]] = field(default_factory=list)
    date_errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def date_accuracy(self) -> float:
        return self.date_correct / self.matched if self.matched else 1.0

    def to_json(self) -> dict[str, Any]:
        def ratio(n: int) -> float:
            return round(n / self.matched, 3) if self.matched else 1.0

        return {
            "overall": self.overall.to_json(),
            "by_kind": {k: s.to_json() for k, s in sorted(self.by_kind.items())},
            "by_language": {k: s.to_json() for k, s in sorted(self.by_language.items())},
            "matched": self.matched,
            "date_accuracy": ratio(self.date_correct),
            "date_text_accuracy": ratio(self.date_text_correct),
            "countries_accuracy": ratio(self.countries_correct),
            "evidence_accuracy": ratio(self.evidence_correct),
            "false_positives": self.false_positives,
            "false_negatives": self.false_negatives,
            "date_errors": self.date_errors,
        }

    def to_markdown(self, title: str) -> str:
        lines = [
            f"**{title}**: P {self.overall.precision:.3f} · R {self.overall.recall:.3f} · "
            f"F1 {self.overall.f1:.3f} · date accuracy {self.date_accuracy:.3f} "
            f"({self.matched} matched events)",
            "",
            "| slice | TP | FP | FN | P | R | F1 |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, table in (("kind", self.by_kind), ("lang", self.by_language)):
            for key, s in sorted(table.items()):
                lines.append(
                    f"| {label} {key} | {s.tp} | {s.fp} | {s.fn} | {s.precision:.2f} | "
                    f"{s.recall:.2f} | {s.f1:.2f} |"
                )
        return "\n".join(lines)


def load_gold(path: Path) -> list[dict[str, Any]]:
    """Gold events, one JSON object per line."""
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def _norm(text: str | None) -> str:
    return " ".join(fold(text or "").split())


def evaluate(
    gold: list[dict[str, Any]],
    results: list[DocumentResult],
    resolve_entity: Any,
) -> Evaluation:
    """Compare extracted events with gold events; ``resolve_entity(name)`` gives an id or None."""
    language = {r.document.name: r.language for r in results}
    predicted: dict[Key, ExtractedEvent] = {}
    for result in results:
        for event in result.events:
            subject = event.entity_id or "new:" + name_key(event.entity)
            predicted[(event.doc, subject, event.kind.value, event.list_id)] = event
    expected: dict[Key, dict[str, Any]] = {}
    for record in gold:
        entity_id = resolve_entity(record["entity"]) or "new:" + name_key(record["entity"])
        expected[(record["doc"], entity_id, record["kind"], record.get("list"))] = record
    evaluation = Evaluation()
    for key in set(predicted) | set(expected):
        kind = key[2]
        lang = language.get(key[0]) or expected.get(key, {}).get("language", "?")
        slices = [
            evaluation.overall,
            evaluation.by_kind.setdefault(kind, Scores()),
            evaluation.by_language.setdefault(lang, Scores()),
        ]
        if key in predicted and key in expected:
            for s in slices:
                s.tp += 1
            got = predicted[key].to_json()
            want = expected[key]
            evaluation.matched += 1
            if got["date"] == want.get("date"):
                evaluation.date_correct += 1
            else:
                evaluation.date_errors.append(
                    {
                        "key": list(key),
                        "got": got["date"],
                        "got_text": got["date_text"],
                        "want": want.get("date"),
                        "want_text": want.get("date_text"),
                    }
                )
            if _norm(got["date_text"]) == _norm(want.get("date_text")):
                evaluation.date_text_correct += 1
            if sorted(got["countries"]) == sorted(want.get("countries") or []):
                evaluation.countries_correct += 1
            snippets = [_norm(s["text"]) for s in got["evidence_spans"]]
            if any(_norm(want.get("evidence")) in s for s in snippets):
                evaluation.evidence_correct += 1
        elif key in predicted:
            for s in slices:
                s.fp += 1
            got = predicted[key].to_json()
            evaluation.false_positives.append({"key": list(key), "evidence": got["evidence"]})
        else:
            for s in slices:
                s.fn += 1
            evaluation.false_negatives.append(
                {"key": list(key), "evidence": expected[key].get("evidence")}
            )
    return evaluation


def run_evaluation(
    session: Any, gold_path: Path, documents_dir: Path, pipeline: NewsPipeline | None = None
) -> Evaluation:
    """Extract from every document the gold file names and score the result."""
    from listwatch.news.ingest import annotate_conflicts
    from listwatch.registry.entities import find_entities

    gold = load_gold(gold_path)
    names = sorted({record["doc"] for record in gold})
    pipeline = pipeline or NewsPipeline.from_session(session)
    results = []
    for name in names:
        for document in read_paths([str(documents_dir / name)]):
            result = pipeline.process(document)
            annotate_conflicts(session, result.events)
            results.append(result)

    def resolve(name: str) -> str | None:
        matches = find_entities(session, name)
        return matches[0].entity.id if matches else None

    return evaluate(gold, results, resolve)


def kinds_counter(gold: list[dict[str, Any]]) -> Counter[str]:
    """How many gold events there are of each kind."""
    return Counter(record["kind"] for record in gold)
