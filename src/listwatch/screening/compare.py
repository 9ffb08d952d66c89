"""Scoring two names: token alignment, string similarity and a weighted, explainable sum.

A comparison aligns the tokens of both names one to one (exact, near spellings,
phonetic equality, Arabic-script consonant skeletons, initials, run-together syllables),
computes features from the alignment and from whole-string similarity, and combines
them with a logistic model per kind of name (persons, organisations, objects). The
weights live in ``data/weights.json``, fitted on labelled pairs by
:mod:`listwatch.screening.evaluate`; every feature's contribution is reported, so an
analyst sees why two names scored as they did.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

from listwatch.screening.normalize import (
    LEGAL,
    NUMBER,
    PARTICLE,
    WORD,
    AnalyzedName,
    analyze_name,
    phonetic_key,
    schema_group,
    skeleton,
)

WEIGHTS_FILE = Path(__file__).with_name("data") / "weights.json"

# Features in the order of the weight vectors in weights.json.
FEATURES = (
    "coverage_min",
    "coverage_max",
    "match_quality",
    "conflict",
    "has_conflict",
    "extra",
    "has_extra",
    "extra_share",
    "number_conflict",
    "same_core",
    "sorted_ratio",
    "compact_ratio",
    "initialism",
    "legal_conflict",
    "cross_script_coverage",
    "single_token",
)


@dataclass(frozen=True)
class TokenMatch:
    """Two aligned tokens and how similar they are (0..1), with the reason."""

    query: str
    candidate: str
    similarity: float
    how: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "query": self.query,
            "candidate": self.candidate,
            "similarity": round(self.similarity, 3),
            "how": self.how,
        }


@dataclass
class Comparison:
    """The score of a pair of names, 0..1, with everything that explains it."""

    score: float
    group: str
    query: AnalyzedName
    candidate: AnalyzedName
    features: dict[str, float]
    parts: dict[str, float]
    matches: list[TokenMatch] = field(default_factory=list)
    unmatched_query: list[str] = field(default_factory=list)
    unmatched_candidate: list[str] = field(default_factory=list)

    def explanation(self) -> str:
        """One line for people: aligned tokens, what was left over, the main score parts."""
        pieces = []
        if self.matches:
            pieces.append(
                "matched "
                + ", ".join(
                    f"{m.query}={m.candidate}"
                    if m.how == "exact"
                    else f"{m.query}~{m.candidate} ({m.how} {m.similarity:.2f})"
                    for m in self.matches
                )
            )
        if self.unmatched_query:
            pieces.append("only in first: " + " ".join(self.unmatched_query))
        if self.unmatched_candidate:
            pieces.append("only in second: " + " ".join(self.unmatched_candidate))
        steps = [*self.query.steps, *self.candidate.steps]
        if steps:
            pieces.append("steps: " + "; ".join(dict.fromkeys(steps)))
        top = sorted(self.parts.items(), key=lambda item: -abs(item[1]))[:4]
        pieces.append("parts: " + ", ".join(f"{k} {v:+.2f}" for k, v in top if v))
        return " | ".join(pieces)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "score": round(self.score, 4),
            "group": self.group,
            "query": self.query.to_dict(),
            "candidate": self.candidate.to_dict(),
            "matches": [m.to_dict() for m in self.matches],
            "unmatched_query": self.unmatched_query,
            "unmatched_candidate": self.unmatched_candidate,
            "features": {k: round(v, 4) for k, v in self.features.items()},
            "parts": {k: round(v, 4) for k, v in self.parts.items()},
            "explanation": self.explanation(),
        }


@dataclass(frozen=True)
class Model:
    """Logistic weights per group of schemata, and the default match threshold."""

    threshold: float
    weights: dict[str, dict[str, float]]
    bias: dict[str, float]

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Model:
        """Read the structure of ``weights.json``."""
        return cls(
            threshold=float(raw["threshold"]),
            weights={g: dict(w) for g, w in raw["weights"].items()},
            bias={g: float(b) for g, b in raw["bias"].items()},
        )

    def to_dict(self) -> dict[str, Any]:
        """The structure of ``weights.json``."""
        return {"threshold": self.threshold, "weights": self.weights, "bias": self.bias}


@cache
def default_model() -> Model:
    """The fitted model shipped with listwatch."""
    return Model.from_dict(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")))


def default_threshold() -> float:
    """The score from which a pair of names is called a match."""
    return default_model().threshold


# --------------------------------------------------------------------------- tokens


def token_similarity(
    a: str,
    b: str,
    person: bool,
    phonetics: tuple[str | None, str | None] | None = None,
    skeletons: tuple[str, str] | None = None,
) -> tuple[float, str]:
    """How alike two ASCII tokens are (0..1) and why: exact, spelling, phonetic, skeleton.

    ``phonetics`` and ``skeletons`` are the tokens' precomputed keys, when known.
    """
    if a == b:
        return 1.0, "exact"
    if a[0].isdigit() or b[0].isdigit():
        return 0.0, "number"
    if len(a) == 1 or len(b) == 1:
        if person and a[0] == b[0]:
            return 0.6, "initial"
        return 0.0, "initial"
    best, how = Levenshtein.normalized_similarity(a, b), "spelling"
    if min(len(a), len(b)) >= 4:
        jw = JaroWinkler.similarity(a, b) - 0.08
        if jw > best:
            best = jw
    if best < 0.9 and min(len(a), len(b)) >= 3:
        pa, pb = phonetic_key(a), phonetic_key(b)
        if pa and pa == pb and best < 0.85:
            best, how = 0.85, "phonetic"
        sa, sb = skeleton(a), skeleton(b)
        if len(sa) >= 2 and sa == sb and best < 0.8:
            best, how = 0.8, "skeleton"
    if best < 0.62:
        return 0.0, how
    return best, how


def _align(
    q: AnalyzedName, c: AnalyzedName, person: bool
) -> tuple[list[tuple[int, int, float, str]], set[int], set[int]]:
    """One-to-one alignment of tokens, best pairs first; then run-together tokens."""
    scored: list[tuple[float, int, int, str]] = []
    for i, a in enumerate(q.tokens):
        for j, b in enumerate(c.tokens):
            if (q.kinds[i] == LEGAL) != (c.kinds[j] == LEGAL):
                continue
            sim, how = token_similarity(
                a,
                b,
                person,
                (q.phonetics[i], c.phonetics[j]),
                (q.skeletons[i], c.skeletons[j]),
            )
            if sim > 0:
                scored.append((sim, i, j, how))
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    used_q: set[int] = set()
    used_c: set[int] = set()
    pairs: list[tuple[int, int, float, str]] = []
    for sim, i, j, how in scored:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        pairs.append((i, j, sim, how))
    # "xiaomi" against "xiao mi", "alsmd" against "al samad": join neighbours on one side.
    for side_a, side_b, used_a, used_b, flip in (
        (q, c, used_q, used_c, False),
        (c, q, used_c, used_q, True),
    ):
        for i, token in enumerate(side_a.tokens):
            if i in used_a or side_a.kinds[i] == LEGAL or len(token) < 4:
                continue
            for j in range(len(side_b.tokens) - 1):
                if j in used_b or j + 1 in used_b:
                    continue
                joined = side_b.tokens[j] + side_b.tokens[j + 1]
                if abs(len(joined) - len(token)) > max(2, len(token) // 2):
                    continue
                sim, how = token_similarity(token, joined, person)
                if sim >= 0.8:
                    used_a.add(i)
                    used_b.update((j, j + 1))
                    how = "joined"
                    pairs.append((j, i, sim, how) if flip else (i, j, sim, how))
                    break
    return pairs, used_q, used_c


def _initialism(short: AnalyzedName, long: AnalyzedName) -> bool:
    """Whether one name is the initials of the other (SMIC, CSIC, OAO ...)."""
    core = short.core
    if len(core) != 1 or not 2 <= len(core[0]) <= 8 or len(long.tokens) < 2:
        return False
    letters = core[0]
    initials_all = "".join(t[0] for t in long.tokens if t)
    initials_core = "".join(t[0] for t in long.core if t)
    initials_words = "".join(
        t[0] for t, k in zip(long.tokens, long.kinds, strict=True) if k != PARTICLE
    )
    return letters in (initials_all, initials_core, initials_words) or (
        len(letters) >= 3 and initials_all.startswith(letters)
    )


def features(q: AnalyzedName, c: AnalyzedName, group: str) -> tuple[dict[str, float], Any]:
    """The feature vector of a pair, and the alignment behind it."""
    person = group == "person"
    pairs, used_q, used_c = _align(q, c, person)
    sim_q = [0.0] * len(q.tokens)
    sim_c = [0.0] * len(c.tokens)
    for i, j, sim, how in pairs:
        sim_q[i] = max(sim_q[i], sim)
        sim_c[j] = max(sim_c[j], sim)
        if how == "joined":
            # the joined neighbour on the other side counts as matched too
            if j + 1 < len(c.tokens) and (j + 1) in used_c:
                sim_c[j + 1] = max(sim_c[j + 1], sim)
            if i + 1 < len(q.tokens) and (i + 1) in used_q:
                sim_q[i + 1] = max(sim_q[i + 1], sim)

    def coverage(name: AnalyzedName, sims: list[float]) -> float:
        total = sum(name.weights)
        if total <= 0:
            return 0.0
        return sum(w * s for w, s in zip(name.weights, sims, strict=True)) / total

    cov_q, cov_c = coverage(q, sim_q), coverage(c, sim_c)
    identifying = (WORD, NUMBER)
    unmatched_q = [
        t for t, k, s in zip(q.tokens, q.kinds, sim_q, strict=True) if k in identifying and not s
    ]
    unmatched_c = [
        t for t, k, s in zip(c.tokens, c.kinds, sim_c, strict=True) if k in identifying and not s
    ]
    matched = [s for s in sim_q if s > 0]
    quality = sum(matched) / len(matched) if matched else 0.0
    numbers_q = {t for t, k in zip(q.tokens, q.kinds, strict=True) if k == NUMBER}
    numbers_c = {t for t, k in zip(c.tokens, c.kinds, strict=True) if k == NUMBER}
    legal_q = {t for t, k in zip(q.tokens, q.kinds, strict=True) if k == LEGAL}
    legal_c = {t for t, k in zip(c.tokens, c.kinds, strict=True) if k == LEGAL}
    core_q, core_c = q.core or q.tokens, c.core or c.tokens
    cross = 1.0 if (q.native is None) != (c.native is None) else 0.0
    initialism = _initialism(q, c) or _initialism(c, q)
    values = {
        "coverage_min": min(cov_q, cov_c),
        "coverage_max": max(cov_q, cov_c),
        "match_quality": quality,
        "conflict": float(min(len(unmatched_q), len(unmatched_c))),
        "has_conflict": 1.0 if unmatched_q and unmatched_c else 0.0,
        "extra": float(abs(len(unmatched_q) - len(unmatched_c))),
        "has_extra": 1.0 if bool(unmatched_q) != bool(unmatched_c) else 0.0,
        "extra_share": (len(unmatched_q) + len(unmatched_c)) / max(1, len(q.core) + len(c.core)),
        "number_conflict": 1.0 if numbers_q != numbers_c and (numbers_q or numbers_c) else 0.0,
        "same_core": 1.0 if sorted(core_q) == sorted(core_c) else 0.0,
        "sorted_ratio": fuzz.token_sort_ratio(" ".join(core_q), " ".join(core_c)) / 100.0,
        "compact_ratio": fuzz.ratio(q.compact, c.compact) / 100.0,
        "initialism": 1.0 if initialism else 0.0,
        "legal_conflict": 1.0 if legal_q and legal_c and not legal_q & legal_c else 0.0,
        "cross_script_coverage": cross * min(cov_q, cov_c),
        "single_token": 1.0 if min(len(core_q), len(core_c)) == 1 else 0.0,
    }
    return values, (pairs, unmatched_q, unmatched_c)


def _sigmoid(x: float) -> float:
    if x < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def compare_analyzed(
    q: AnalyzedName, c: AnalyzedName, group: str | None = None, model: Model | None = None
) -> Comparison:
    """Compare two analysed names; ``group`` defaults to the candidate's."""
    model = model or default_model()
    if group is None or group == "any":
        group = c.group if c.group != "any" else q.group
    if group == "any":
        group = "org"
    values, (pairs, unmatched_q, unmatched_c) = features(q, c, group)
    weights = model.weights[group]
    parts = {name: weights.get(name, 0.0) * values[name] for name in FEATURES}
    logit = model.bias[group] + sum(parts.values())
    score = _sigmoid(logit)
    matches = [TokenMatch(q.tokens[i], c.tokens[j], sim, how) for i, j, sim, how in pairs]
    return Comparison(
        score=score,
        group=group,
        query=q,
        candidate=c,
        features=values,
        parts=parts,
        matches=matches,
        unmatched_query=unmatched_q,
        unmatched_candidate=unmatched_c,
    )


def compare_names(
    name1: str, name2: str, schema: str = "Company", model: Model | None = None
) -> Comparison:
    """Score two names of the given FollowTheMoney schema (``Company``, ``Person`` ...)."""
    group = schema_group(schema)
    return compare_analyzed(analyze_name(name1, schema), analyze_name(name2, schema), group, model)
