"""Measuring the name matcher on labelled pairs, and fitting its weights.

Pairs come as CSV with columns ``schema,name1,name2,is_match`` (more columns are kept).
They are split deterministically by a hash of the pair into a tuning part and a held-out
part, so the figures on the held-out part come from pairs the weights never saw.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from listwatch.screening.compare import FEATURES, WEIGHTS_FILE, Model, compare_analyzed, features
from listwatch.screening.normalize import analyze_name, schema_group

HELD_OUT_SHARE = 0.4  # of every pair set, this share is never used for tuning
# Per group, features whose weights are held at zero or below. Words of a person's name
# found in one name only are evidence against a match, so that a long name cannot match on
# one shared given name ("Ali", "Ivan"): the labelled pairs alone would teach the opposite,
# since their true pairs often add patronymics and middle names.
NONPOSITIVE: dict[str, tuple[str, ...]] = {
    "person": ("conflict", "has_conflict", "extra", "has_extra", "extra_share"),
}
# Per group, features whose weights are held at zero or above: how alike the two names are.
# A fuller spelling of a person's name (an added patronymic) makes them less alike; weighed
# down, they would make every added word raise the score.
NONNEGATIVE: dict[str, tuple[str, ...]] = {
    "person": ("coverage_min", "coverage_max", "match_quality", "sorted_ratio", "compact_ratio"),
}
# What tells a fuller spelling of a person's name from a long name sharing one word: all
# the words of the shorter name (two or more) are in the longer one, or a lone word is.
PERSON_ONLY = ("contained", "lone_word")
# The precision on the tuning pairs below which a group's cut may not go, where it differs
# from the default: false alarms on persons (a shared given name) cost analysts most.
GROUP_PRECISION = {"person": 0.84}
GROUPS = ("person", "org", "object")


@dataclass(frozen=True)
class Pair:
    """One labelled pair of names."""

    schema: str
    name1: str
    name2: str
    is_match: bool
    source: str = ""

    @property
    def held_out(self) -> bool:
        """Whether the pair belongs to the held-out split (by a hash of its content)."""
        digest = hashlib.sha256(f"{self.schema}\x1f{self.name1}\x1f{self.name2}".encode()).digest()
        return int.from_bytes(digest[:4], "big") / 2**32 < HELD_OUT_SHARE


def _truth(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "t"):
        return True
    if lowered in ("false", "0", "no", "f"):
        return False
    raise ValueError(f"is_match must be true or false, not {value!r}")


def load_pairs(path: Path) -> list[Pair]:
    """Read a labelled pair file (``schema,name1,name2,is_match[,source]``)."""
    pairs = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            pairs.append(
                Pair(
                    row["schema"],
                    row["name1"],
                    row["name2"],
                    _truth(row["is_match"]),
                    row.get("source") or "",
                )
            )
    return pairs


@dataclass(frozen=True)
class Metrics:
    """Precision, recall and F1 of a set of decisions."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        """Share of predicted matches that are true."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """Share of true matches that were predicted."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall."""
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "pairs": self.tp + self.fp + self.fn + self.tn,
        }


def metrics(labels: Sequence[bool], scores: Sequence[float], threshold: float) -> Metrics:
    """Counts of the decisions ``score >= threshold`` against the labels."""
    tp = fp = fn = tn = 0
    for label, score in zip(labels, scores, strict=True):
        predicted = score >= threshold
        if predicted and label:
            tp += 1
        elif predicted:
            fp += 1
        elif label:
            fn += 1
        else:
            tn += 1
    return Metrics(tp, fp, fn, tn)


def pr_curve(
    labels: Sequence[bool], scores: Sequence[float], thresholds: Iterable[float]
) -> list[tuple[float, Metrics]]:
    """Precision and recall at each threshold."""
    return [(t, metrics(labels, scores, t)) for t in thresholds]


def listwatch_scores(pairs: Sequence[Pair], model: Model | None = None) -> list[float]:
    """listwatch's score for every pair."""
    return [
        compare_analyzed(
            analyze_name(p.name1, p.schema),
            analyze_name(p.name2, p.schema),
            schema_group(p.schema),
            model,
        ).score
        for p in pairs
    ]


def peer_scorer(algorithm: str = "logic-v2") -> Callable[[Pair], float]:
    """A scorer with nomenklatura's matcher (a development dependency), a fresh id per entity.

    logic-v2 caches name analysis by entity id, so reusing ids would mix up names.
    """
    import itertools

    from followthemoney import model as ftm
    from nomenklatura.matching import get_algorithm

    algo = get_algorithm(algorithm)
    if algo is None:
        raise ValueError(f"unknown nomenklatura algorithm {algorithm!r}")
    config = algo.default_config()
    counter = itertools.count()

    def entity(schema: str, name: str) -> Any:
        proxy = ftm.make_entity(schema)
        proxy.id = f"pair-{next(counter)}"
        proxy.add("name", name)
        return proxy

    def score(pair: Pair) -> float:
        return float(
            algo.compare(
                entity(pair.schema, pair.name1), entity(pair.schema, pair.name2), config
            ).score
        )

    return score


# --------------------------------------------------------------------------- fitting


def feature_matrix(pairs: Sequence[Pair]) -> dict[str, tuple[list[list[float]], list[bool]]]:
    """Feature vectors and labels per group of schemata."""
    out: dict[str, tuple[list[list[float]], list[bool]]] = {g: ([], []) for g in GROUPS}
    for pair in pairs:
        group = schema_group(pair.schema)
        values, _ = features(
            analyze_name(pair.name1, pair.schema), analyze_name(pair.name2, pair.schema), group
        )
        out[group][0].append([values[f] for f in FEATURES])
        out[group][1].append(pair.is_match)
    return out


def fit_logistic(
    rows: list[list[float]],
    labels: list[bool],
    l2: float = 1.0,
    iterations: int = 50,
    nonpositive: Sequence[int] = (),
    unused: Sequence[int] = (),
    nonnegative: Sequence[int] = (),
) -> tuple[list[float], float]:
    """Logistic regression by Newton's method with an L2 penalty (bias not penalised).

    The weights of the columns in ``nonpositive`` may not be positive: a column whose
    fitted weight comes out positive is held at zero and the rest refitted, until none
    does (features such as "words only in one name" must never raise a score); likewise
    the columns in ``nonnegative`` may not be negative. The columns in ``unused`` get
    weight zero.
    """
    import numpy as np

    x_all = np.asarray(rows, dtype=float)
    y = np.asarray(labels, dtype=float)
    columns = x_all.shape[1] if x_all.ndim == 2 else 0
    held: set[int] = set(unused)
    while True:
        free = [c for c in range(columns) if c not in held]
        x = np.hstack([x_all[:, free], np.ones((x_all.shape[0], 1))])
        w = np.zeros(x.shape[1])
        penalty = np.eye(x.shape[1]) * l2
        penalty[-1, -1] = 0.0
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -40, 40)))
            gradient = x.T @ (p - y) + penalty @ w
            hessian = (x * (p * (1 - p))[:, None]).T @ x + penalty
            step = np.linalg.solve(hessian + 1e-9 * np.eye(len(w)), gradient)
            w -= step
            if float(np.abs(step).max()) < 1e-8:
                break
        weights = dict(zip(free, (float(v) for v in w[:-1]), strict=True))
        wrong = [c for c in nonpositive if weights.get(c, 0.0) > 0]
        wrong += [c for c in nonnegative if weights.get(c, 0.0) < 0]
        if not wrong:
            return [weights.get(c, 0.0) for c in range(columns)], float(w[-1])
        held.add(max(wrong, key=lambda c: abs(weights[c])))


def cross_script_negatives(pairs: Sequence[Pair], seed: int = 20240501) -> list[Pair]:
    """Negative pairs made by crossing the names of different cross-script positives.

    Labelled sets hold cross-script pairs only as positives; without negatives a model
    would learn that a change of script means a match. Pairing the non-Latin name of one
    positive with the Latin name of another (same schema) gives pairs of different entries.
    """
    import random

    from listwatch.registry.names import detect_script

    by_schema: dict[str, list[tuple[str, str]]] = {}
    for pair in pairs:
        if not pair.is_match:
            continue
        scripts = (detect_script(pair.name1), detect_script(pair.name2))
        if (scripts[0] == "Latn") == (scripts[1] == "Latn"):
            continue
        native, latin = (
            (pair.name1, pair.name2) if scripts[1] == "Latn" else (pair.name2, pair.name1)
        )
        by_schema.setdefault(pair.schema, []).append((native, latin))
    rng = random.Random(seed)
    out: list[Pair] = []
    for schema, items in sorted(by_schema.items()):
        if len(items) < 2:
            continue
        for index, (native, _latin) in enumerate(items):
            other = items[(index + rng.randrange(1, len(items))) % len(items)][1]
            out.append(Pair(schema, native, other, False, "synthetic:cross_script_negative"))
    return out


def shared_word_negatives(pairs: Sequence[Pair], seed: int = 20240502) -> list[Pair]:
    """Negative pairs of one word against a person's full name that contains it, where the
    word is found in the names of several different entries ("Ali" against "Mohammed Ali
    Hassan Al-Rashid"): a bare given name shared by many people identifies none of them.

    Labelled sets seldom hold such pairs, and without them a model may learn that a name
    wholly contained in another is a match, however little of the other it covers.
    """
    import random

    names = sorted(
        {n for p in pairs if schema_group(p.schema) == "person" for n in (p.name1, p.name2)}
    )
    holders: dict[str, list[str]] = {}
    for name in names:
        analyzed = analyze_name(name, "Person")
        if len(analyzed.core) < 3:
            continue
        for token in set(analyzed.core):
            if len(token) >= 3 and token.isalpha():
                holders.setdefault(token, []).append(name)
    rng = random.Random(seed)
    out: list[Pair] = []
    for token, holding in sorted(holders.items()):
        if len(holding) < 2:
            continue
        other = rng.choice(holding)
        out.append(Pair("Person", token.title(), other, False, "synthetic:shared_word"))
    return out


def fit_model(
    pairs: Sequence[Pair],
    threshold: float = 0.7,
    l2: float = 1.0,
    min_precision: float = 0.74,
    group_precision: dict[str, float] | None = None,
) -> Model:
    """Fit weights per group on ``pairs``, then move each bias so that the best cut of
    that group falls on the round default ``threshold``.

    The best cut is the one with the highest F1 among those whose precision on the tuning
    pairs is at least ``min_precision`` (or the group's floor in ``group_precision``,
    default :data:`GROUP_PRECISION`: screening prefers fewer false alarms), or the
    F1-best cut when none reaches it. Besides the labelled pairs, the fit sees synthetic
    negatives (:func:`cross_script_negatives`, :func:`shared_word_negatives`).
    """
    import math

    matrices = feature_matrix(
        [*pairs, *cross_script_negatives(pairs), *shared_word_negatives(pairs)]
    )
    weights: dict[str, dict[str, float]] = {}
    bias: dict[str, float] = {}
    for group, (rows, labels) in matrices.items():
        if not rows or all(labels) or not any(labels):
            weights[group] = {f: 0.0 for f in FEATURES}
            bias[group] = 0.0
            continue
        nonpositive = [FEATURES.index(f) for f in NONPOSITIVE.get(group, ())]
        unused = [FEATURES.index(f) for f in PERSON_ONLY if group != "person"]
        nonnegative = [FEATURES.index(f) for f in NONNEGATIVE.get(group, ())]
        w, b = fit_logistic(
            rows, labels, l2, nonpositive=nonpositive, unused=unused, nonnegative=nonnegative
        )
        floor = (GROUP_PRECISION if group_precision is None else group_precision).get(
            group, min_precision
        )
        logits = [b + sum(wi * xi for wi, xi in zip(w, row, strict=True)) for row in rows]
        best_cut = _best_cut(labels, logits, floor)
        target = math.log(threshold / (1 - threshold))
        weights[group] = dict(zip(FEATURES, w, strict=True))
        bias[group] = b - best_cut + target
    return Model(threshold=threshold, weights=weights, bias=bias)


def _best_cut(labels: Sequence[bool], logits: Sequence[float], floor: float) -> float:
    """The logit from which pairs are called matches: of the cuts whose precision is at
    least ``floor``, the one with the highest F1 (the F1-best of all when none reaches it).

    Each cut is tried at a logit some pair has, from the highest down, and placed halfway
    to the next lower one, so that the pairs it admits stay admitted after rounding.
    """
    ordered = sorted(zip(logits, labels, strict=True), key=lambda item: -item[0])
    positives = sum(labels)
    tp = fp = 0
    best: tuple[float, int] | None = None  # (F1, position of the cut in ``ordered``)
    fallback: tuple[float, int] | None = None
    for k, (logit, label) in enumerate(ordered):
        tp += label
        fp += not label
        if k + 1 < len(ordered) and ordered[k + 1][0] == logit:
            continue  # a cut admits every pair of the same logit
        m = Metrics(tp, fp, positives - tp, len(ordered) - k - 1 - (positives - tp))
        if fallback is None or m.f1 > fallback[0]:
            fallback = (m.f1, k)
        if m.precision >= floor and (best is None or m.f1 > best[0]):
            best = (m.f1, k)
    chosen = best or fallback
    if chosen is None:
        return 0.0
    k = chosen[1]
    lowest_admitted = ordered[k][0]
    if k + 1 == len(ordered):
        return lowest_admitted - 1
    return (lowest_admitted + ordered[k + 1][0]) / 2


def save_model(model: Model, path: Path = WEIGHTS_FILE) -> None:
    """Write fitted weights (``data/weights.json``)."""
    path.write_text(json.dumps(model.to_dict(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
