"""The matcher on labelled pairs: a floor on a fixed held-out sample (raise it, never lower it),
blocking recall, and the metrics and fitting code the evaluation harness uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from listwatch.screening.compare import compare_names, default_threshold
from listwatch.screening.evaluate import (
    Pair,
    cross_script_negatives,
    fit_logistic,
    listwatch_scores,
    load_pairs,
    metrics,
)
from listwatch.screening.index import NameIndex, NameRecord
from listwatch.screening.normalize import analyze_name

# Measured on the first 800 held-out pairs of pairs_dev.csv: F1 0.753, precision 0.823.
F1_FLOOR = 0.745
PRECISION_FLOOR = 0.81


@pytest.fixture(scope="module")
def dev_pairs(shared_data: Path) -> list[Pair]:
    return load_pairs(shared_data / "names" / "pairs_dev.csv")


def test_floor_on_a_held_out_sample(dev_pairs: list[Pair]) -> None:
    sample = [p for p in dev_pairs if p.held_out][:800]
    m = metrics([p.is_match for p in sample], listwatch_scores(sample), default_threshold())
    assert m.f1 >= F1_FLOOR, m.to_dict()
    assert m.precision >= PRECISION_FLOOR, m.to_dict()


def test_blocking_loses_no_true_candidate_with_shared_material(dev_pairs: list[Pair]) -> None:
    """Every true pair the matcher accepts is proposed by candidate generation, unless the
    two names share no identifying word at all (only particles such as "abdul", or letters
    of an abbreviation): blocking keys come from identifying words."""
    sample = [p for p in dev_pairs if p.is_match][:700]
    records = {}
    for pair in sample:
        for name in (pair.name1, pair.name2):
            records[(name, pair.schema)] = NameRecord(f"{pair.schema}:{name}", name, pair.schema)
    index = NameIndex.build(records.values())
    lost = []
    for pair in sample:
        comparison = compare_names(pair.name1, pair.name2, pair.schema)
        if comparison.score < default_threshold():
            continue
        core = {t for t in (*comparison.query.core, *comparison.candidate.core) if len(t) > 1}
        if not any(m.query in core and m.candidate in core for m in comparison.matches):
            continue
        for query, target in ((pair.name1, pair.name2), (pair.name2, pair.name1)):
            found = index.candidates(analyze_name(query, pair.schema), index.size)
            if target not in {c.name for c in found}:
                lost.append((query, target))
    assert lost == [], lost


def test_metrics_and_fitting() -> None:
    m = metrics([True, True, False, False], [0.9, 0.2, 0.8, 0.1], 0.5)
    assert (m.tp, m.fn, m.fp, m.tn) == (1, 1, 1, 1)
    assert m.precision == 0.5 and m.recall == 0.5 and m.f1 == 0.5
    weights, bias = fit_logistic([[0.0], [0.1], [0.9], [1.0]], [False, False, True, True])
    assert weights[0] > 0 and bias < 0


def test_cross_script_negatives_pair_different_entries() -> None:
    pairs = [
        Pair("Person", "Даниил ЕГОРОВ", "Daniil EGOROV", True),
        Pair("Person", "Мария КИСЕЛЁВА", "Maria KISELYOVA", True),
        Pair("Person", "Olga NAUMOVA", "Olga RUZMANOVA", False),
    ]
    negatives = cross_script_negatives(pairs)
    assert len(negatives) == 2
    assert all(not p.is_match for p in negatives)
    assert {(p.name1, p.name2) for p in negatives} == {
        ("Даниил ЕГОРОВ", "Maria KISELYOVA"),
        ("Мария КИСЕЛЁВА", "Daniil EGOROV"),
    }


def test_fitting_holds_nonpositive_features_at_zero_or_below() -> None:
    # column 0 predicts the label; column 1 would get a positive weight if it were free
    rows = [[1.0, 1.0], [1.0, 1.0], [0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 0.0]]
    labels = [True, True, False, False, True, False]
    free, _ = fit_logistic(rows, labels)
    held, _ = fit_logistic(rows, labels, nonpositive=[1])
    assert free[1] > 0 and held[1] == 0.0 and held[0] > 0
    unused, _ = fit_logistic(rows, labels, unused=[0])
    assert unused[0] == 0.0
    # with the label flipped, column 1 would get a negative weight: held at zero or above
    flipped = [not label for label in labels]
    free, _ = fit_logistic(rows, flipped)
    held, _ = fit_logistic(rows, flipped, nonnegative=[1])
    assert free[1] < 0 and held[1] == 0.0 and held[0] < 0


def test_a_persons_fitted_score_never_rises_with_more_words() -> None:
    from listwatch.screening.compare import FEATURES, default_model
    from listwatch.screening.evaluate import NONNEGATIVE, NONPOSITIVE

    weights = default_model().weights["person"]
    assert all(weights[f] <= 0 for f in NONPOSITIVE["person"])
    assert all(weights[f] >= 0 for f in NONNEGATIVE["person"])
    assert set(NONPOSITIVE["person"]) | set(NONNEGATIVE["person"]) <= set(FEATURES)


def test_a_fitted_cut_admits_every_pair_tied_at_it() -> None:
    from listwatch.screening.evaluate import _best_cut

    # Three pairs share the logit 1.2346 (two true); rounding it up to 1.235 would drop them.
    logits = [2.0, 1.2346, 1.2346, 1.2346, 0.5, -1.0]
    labels = [True, True, True, False, False, True]
    cut = _best_cut(labels, logits, floor=0.7)
    assert 0.5 < cut < 1.2346
    admitted = [label for logit, label in zip(logits, labels, strict=True) if logit >= cut]
    assert admitted == [True, True, True, False]
