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
import operator
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz
from rapidfuzz.distance import JaroWinkler, Levenshtein

from listwatch.screening.normalize import (
    AnalyzedName,
    analyze_name,
    loose_skeleton,
    name_shape,
    phonetic_form,
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
    "contained",
    "lone_word",
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
    identical: bool = False
    """Both names are the same after normalisation: the score is 1.0, whatever the parts."""

    def explanation(self) -> str:
        """One line for people: aligned tokens, what was left over, the main score parts."""
        pieces = ["identical after normalisation (score 1.0)"] if self.identical else []
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
        weighed = [(k, v) for k, v in self.parts.items() if v]
        top = sorted(weighed, key=lambda item: -abs(item[1]))[:4]
        pieces.append("parts: " + ", ".join(f"{k} {v:+.2f}" for k, v in top))
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
            "identical": self.identical,
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

    @cached_property
    def vectors(self) -> dict[str, tuple[float, ...]]:
        """Each group's weights in the order of :data:`FEATURES`."""
        return {
            group: tuple(weights.get(name, 0.0) for name in FEATURES)
            for group, weights in self.weights.items()
        }


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
    winkler: bool = True,
) -> tuple[float, str]:
    """How alike two ASCII tokens are (0..1) and why: exact, spelling, phonetic, skeleton.

    ``phonetics`` and ``skeletons`` are the tokens' precomputed keys, when known. Without
    ``winkler``, spelling is Levenshtein's alone (see :data:`JARO_FLOOR`).
    """
    if a == b:
        return 1.0, "exact"
    if a[0].isdigit() or b[0].isdigit():
        return 0.0, "number"
    shortest = min(len(a), len(b))
    if shortest == 1:
        if person and a[0] == b[0]:
            return 0.6, "initial"
        return 0.0, "initial"
    best, how = _lev(a, b), "spelling"
    if winkler and shortest >= 4 and best >= JARO_FLOOR:
        jw = _jaro_winkler(a, b) - 0.08
        if jw > best:
            best = jw
    if best < 0.9 and shortest >= 3:
        pa, pb = phonetic_key(a), phonetic_key(b)
        if pa and pa == pb and best < 0.85 and consonants_agree(a, b):
            best, how = 0.85, "phonetic"
        sa, sb = skeleton(a), skeleton(b)
        if len(sa) >= 2 and sa == sb and best < 0.8:
            best, how = 0.8, "skeleton"
    if best < 0.62:
        return 0.0, how
    return best, how


JARO_FLOOR = 0.55
"""How alike (Levenshtein) two tokens must be for Jaro-Winkler to count. It forgives
transposed letters (xioami, xiaomi) and rewards a shared start, which alone would make
words that merely begin alike look like one (prador, pradorkorroultekbel)."""

PHONETIC_CONSONANTS = 0.5
"""How alike (Levenshtein) the consonants of two tokens that sound alike must be for the
sound to count: transliterations of one word keep most of its consonants (Bugrov, Buhrov;
razuki, rzwqy), while unrelated words that happen to share a metaphone do not (xiaomi,
sham: "ksm" against "hm")."""


def consonants_agree(a: str, b: str) -> bool:
    """Whether two tokens that sound alike are also spelled alike enough to be one word
    in two transliterations: their consonants, after folding transliteration variants
    (kh/h, ts/c/k, w/v, x/ks), agree at least :data:`PHONETIC_CONSONANTS`."""
    return _lev(loose_skeleton(a), loose_skeleton(b)) >= PHONETIC_CONSONANTS


_lev = Levenshtein.normalized_similarity
_jaro_winkler = JaroWinkler.similarity


@lru_cache(maxsize=262_144)
def _similarity(a: str, b: str, person: bool, winkler: bool = True) -> tuple[float, str]:
    """:func:`token_similarity`, remembered: the same tokens meet again and again."""
    return token_similarity(a, b, person, winkler=winkler)


def _align(
    q: AnalyzedName, c: AnalyzedName, person: bool
) -> tuple[list[tuple[int, int, float, str]], set[int], set[int]]:
    """One-to-one alignment of tokens, best pairs first; then run-together tokens.

    A token that is two neighbours of the other name run together letter for letter
    ("xiaomi", "xiao mi") is aligned with them first, before a fuzzy one-to-one pair
    ("xiao" ~ "xiaomi") can take it."""
    scored: list[tuple[float, int, int, str]] = []
    c_tokens = c.tokens
    c_legal = c.legal_mask
    similarity = _similarity
    used_q: set[int] = set()
    used_c: set[int] = set()
    pairs: list[tuple[int, int, float, str]] = []
    _join_neighbours(q, c, used_q, used_c, pairs, person, exact=True)
    for i, (a, a_legal) in enumerate(zip(q.tokens, q.legal_mask, strict=True)):
        if i in used_q:
            continue
        for j, b in enumerate(c_tokens):
            if a_legal != c_legal[j] or j in used_c:
                continue
            if a == b:
                scored.append((-1.0, i, j, "exact"))
                continue
            sim, how = similarity(a, b, person)
            if sim > 0:
                scored.append((-sim, i, j, how))
    scored.sort()
    for neg, i, j, how in scored:
        if i in used_q or j in used_c:
            continue
        used_q.add(i)
        used_c.add(j)
        pairs.append((i, j, -neg, how))
    if len(used_q) < len(q.tokens) or len(used_c) < len(c_tokens):
        # "xiaomi" against "xiao mi", "alsmd" against "al samad"
        _join_neighbours(q, c, used_q, used_c, pairs, person, exact=False)
    return pairs, used_q, used_c


def _join_neighbours(
    q: AnalyzedName,
    c: AnalyzedName,
    used_q: set[int],
    used_c: set[int],
    pairs: list[tuple[int, int, float, str]],
    person: bool,
    exact: bool,
) -> None:
    """Align unused tokens with two unused neighbours of the other name run together, on
    one side, then the other: ``exact``, letter for letter (for a token the other name
    does not hold itself); otherwise spelt alike (at least 0.8)."""
    for side_a, side_b, used_a, used_b, flip in (
        (q, c, used_q, used_c, False),
        (c, q, used_c, used_q, True),
    ):
        b_tokens = side_b.tokens
        for i, token in enumerate(side_a.tokens):
            if i in used_a or side_a.legal_mask[i] or len(token) < 4:
                continue
            if exact and token in b_tokens:
                continue
            for j in range(len(b_tokens) - 1):
                if j in used_b or j + 1 in used_b:
                    continue
                joined = b_tokens[j] + b_tokens[j + 1]
                if exact:
                    if joined != token:
                        continue
                    sim = 1.0
                else:
                    if abs(len(joined) - len(token)) > max(2, len(token) // 2):
                        continue
                    # Two words run together are one word spelt alike, not one that starts
                    # alike: Levenshtein alone.
                    sim = _similarity(token, joined, person, False)[0]
                    if sim < 0.8:
                        continue
                used_a.add(i)
                used_b.update((j, j + 1))
                pairs.append((j, i, sim, "joined") if flip else (i, j, sim, "joined"))
                break


def _initialism(short: AnalyzedName, long: AnalyzedName) -> bool:
    """Whether one name is the initials of the other (SMIC, CSIC ...): of two identifying
    words at least, for a word and its legal form have none ("LJ" is not "Lolong AS")."""
    core = short.core
    if len(core) != 1 or not 2 <= len(core[0]) <= 8 or len(long.core) < 2:
        return False
    letters = core[0]
    initials_all, initials_core, initials_words = long.initials
    return letters in (initials_all, initials_core, initials_words) or (
        len(letters) >= 3 and initials_all.startswith(letters)
    )


def _feature_values(
    q: AnalyzedName, c: AnalyzedName, group: str
) -> tuple[list[float], list[tuple[int, int, float, str]], list[str], list[str]]:
    """The features of a pair in the order of :data:`FEATURES`, with the alignment, and
    the identifying tokens left unmatched on each side."""
    pairs, used_q, used_c = _align(q, c, group == "person")
    n_tokens_q, n_tokens_c = len(q.tokens), len(c.tokens)
    sim_q = [0.0] * n_tokens_q
    sim_c = [0.0] * n_tokens_c
    for i, j, sim, how in pairs:
        if sim > sim_q[i]:
            sim_q[i] = sim
        if sim > sim_c[j]:
            sim_c[j] = sim
        if how == "joined":
            # the joined neighbour on the other side counts as matched too
            if j + 1 < n_tokens_c and (j + 1) in used_c:
                sim_c[j + 1] = max(sim_c[j + 1], sim)
            if i + 1 < n_tokens_q and (i + 1) in used_q:
                sim_q[i + 1] = max(sim_q[i + 1], sim)

    total_q, total_c = q.total_weight, c.total_weight
    cov_q = (
        sum(w * s for w, s in zip(q.weights, sim_q, strict=True)) / total_q if total_q > 0 else 0.0
    )
    cov_c = (
        sum(w * s for w, s in zip(c.weights, sim_c, strict=True)) / total_c if total_c > 0 else 0.0
    )
    unmatched_q, unmatched_c = _unmatched(q, sim_q), _unmatched(c, sim_c)
    matched = [s for s in sim_q if s > 0]
    quality = sum(matched) / len(matched) if matched else 0.0
    numbers_q, numbers_c = q.numbers, c.numbers
    legal_q, legal_c = q.legal_codes, c.legal_codes
    core_q, core_c = q.core or q.tokens, c.core or c.tokens
    cross = 1.0 if (q.native is None) != (c.native is None) else 0.0
    initialism = _initialism(q, c) or _initialism(c, q)
    n_q, n_c = len(unmatched_q), len(unmatched_c)
    cov_min = cov_q if cov_q < cov_c else cov_c
    core_count_q, core_count_c = len(q.core), len(c.core)
    fewest = core_count_q if core_count_q < core_count_c else core_count_c
    values = [
        cov_min,
        cov_q if cov_q > cov_c else cov_c,
        quality,
        float(min(n_q, n_c)),
        1.0 if n_q and n_c else 0.0,
        float(abs(n_q - n_c)),
        1.0 if bool(n_q) != bool(n_c) else 0.0,
        (n_q + n_c) / max(1, core_count_q + core_count_c),
        1.0 if numbers_q != numbers_c and (numbers_q or numbers_c) else 0.0,
        1.0 if q.sorted_core == c.sorted_core else 0.0,
        fuzz.token_sort_ratio(q.core_text, c.core_text) / 100.0,
        fuzz.ratio(q.compact, c.compact) / 100.0,
        1.0 if initialism else 0.0,
        1.0 if legal_q and legal_c and not legal_q & legal_c else 0.0,
        cross * cov_min,
        1.0 if min(len(core_q), len(core_c)) == 1 else 0.0,
        # every identifying word of the shorter name (two or more) is in the longer one
        1.0 if fewest >= 2 and not (n_q and n_c) and n_q + n_c else 0.0,
        # one word, found in a name of three words or more
        1.0 if fewest == 1 and max(core_count_q, core_count_c) >= 3 and not (n_q and n_c) else 0.0,
    ]
    return values, pairs, unmatched_q, unmatched_c


def _unmatched(name: AnalyzedName, similarities: list[float]) -> list[str]:
    """The identifying tokens of a name that the alignment left without a match."""
    return [
        token
        for token, identifying, similarity in zip(
            name.tokens, name.identifying, similarities, strict=True
        )
        if identifying and not similarity
    ]


def features(q: AnalyzedName, c: AnalyzedName, group: str) -> tuple[dict[str, float], Any]:
    """The feature vector of a pair, and the alignment behind it."""
    values, pairs, unmatched_q, unmatched_c = _feature_values(q, c, group)
    return dict(zip(FEATURES, values, strict=True)), (pairs, unmatched_q, unmatched_c)


def _sigmoid(x: float) -> float:
    if x < -40:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def identical(q: AnalyzedName, c: AnalyzedName) -> bool:
    """Whether two analysed names are the same name: equal matching forms (tokens and
    legal-form codes, in order), both in Latin script or both the same in their own script
    (two Han names with the same pinyin are not the same name)."""
    return bool(q.tokens) and q.tokens == c.tokens and q.native == c.native


def _group(q: AnalyzedName, c: AnalyzedName, group: str | None) -> str:
    if group is None or group == "any":
        group = c.group if c.group != "any" else q.group
    return "org" if group == "any" else group


def score_analyzed(
    q: AnalyzedName, c: AnalyzedName, group: str | None = None, model: Model | None = None
) -> float:
    """The score of :func:`compare_analyzed` alone, without building its explanation."""
    model = model or default_model()
    group = _group(q, c, group)
    if identical(q, c):
        return 1.0
    values, _pairs, _unmatched_q, _unmatched_c = _feature_values(q, c, group)
    logit = model.bias[group] + sum(map(operator.mul, model.vectors[group], values))
    return _sigmoid(logit)


def compare_analyzed(
    q: AnalyzedName,
    c: AnalyzedName,
    group: str | None = None,
    model: Model | None = None,
    compiled: bool = False,
) -> Comparison:
    """Compare two analysed names; ``group`` defaults to the candidate's. ``compiled``
    works the features out with the compiled kernel (the same numbers, several times
    faster, once the kernels are compiled: screening uses it to explain its hits)."""
    model = model or default_model()
    group = _group(q, c, group)
    if compiled and q.tokens and c.tokens:
        vector, pairs, unmatched_q, unmatched_c = _compiled_feature_values(q, c, group)
    else:
        vector, pairs, unmatched_q, unmatched_c = _feature_values(q, c, group)
    values = dict(zip(FEATURES, vector, strict=True))
    weights = model.weights[group]
    parts = {name: weights.get(name, 0.0) * values[name] for name in FEATURES}
    logit = model.bias[group] + sum(parts.values())
    same = identical(q, c)
    score = 1.0 if same else _sigmoid(logit)
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
        identical=same,
    )


def compare_names(
    name1: str, name2: str, schema: str = "Company", model: Model | None = None
) -> Comparison:
    """Score two names of the given FollowTheMoney schema (``Company``, ``Person`` ...)."""
    group = schema_group(schema)
    return compare_analyzed(analyze_name(name1, schema), analyze_name(name2, schema), group, model)


# --------------------------------------------------------------------------- compiled


@cache
def _kernels() -> Any:
    """The compiled kernels' module (imported on first use: it loads numba)."""
    from listwatch.screening import kernels

    return kernels


def _compiled_feature_values(
    q: AnalyzedName, c: AnalyzedName, group: str
) -> tuple[list[float], list[tuple[int, int, float, str]], list[str], list[str]]:
    """:func:`_feature_values` worked out by :func:`listwatch.screening.kernels.compare_pair`."""
    qb, cb = name_bytes(q), name_bytes(c)
    values, pi, pj, psim, phow, sim_q, sim_c = _kernels().compare_pair(
        qb.form, qb.shape, qb.weights, qb.phonetics,
        cb.form, cb.shape, cb.weights, cb.phonetics,
        group == "person",
    )  # fmt: skip
    how_names = _kernels().HOW_NAMES
    pairs = [
        (i, j, sim, how_names[how])
        for i, j, sim, how in zip(
            pi.tolist(), pj.tolist(), psim.tolist(), phow.tolist(), strict=True
        )
    ]
    return values.tolist(), pairs, _unmatched(q, sim_q.tolist()), _unmatched(c, sim_c.tolist())


@dataclass(frozen=True)
class NameBytes:
    """An analysed name as the compiled scorer reads it (see
    :mod:`listwatch.screening.kernels`): matching form, shape, token weights, metaphones."""

    form: Any
    shape: Any
    weights: Any
    phonetics: Any


@lru_cache(maxsize=1024)
def name_bytes(name: AnalyzedName) -> NameBytes:
    """The byte forms of an analysed name, for :func:`listwatch.screening.kernels.score_names`."""
    import numpy as np

    return NameBytes(
        form=np.frombuffer(name.normalized.encode("ascii"), dtype=np.uint8),
        shape=np.frombuffer(name_shape(name).encode("ascii"), dtype=np.uint8),
        weights=np.asarray(name.weights, dtype=np.float64),
        phonetics=np.frombuffer(phonetic_form(name.tokens).encode("ascii"), dtype=np.uint8),
    )


@dataclass(frozen=True)
class CompiledTables:
    """What the compiled scorer needs besides the names: the model as arrays, and the
    weights of legal-form codes."""

    model_weights: Any
    model_bias: Any
    legal_blob: Any
    legal_offsets: Any
    legal_weights: Any
    default_legal: float


_COMPILED: dict[int, tuple[Model, CompiledTables]] = {}


def compiled_tables(model: Model | None = None) -> CompiledTables:
    """The tables of :class:`CompiledTables` for a model (built once per model)."""
    model = model or default_model()
    found = _COMPILED.get(id(model))
    if found is not None and found[0] is model:
        return found[1]
    import numpy as np

    from listwatch.screening.kernels import GROUP_CODES, byte_table
    from listwatch.screening.normalize import _tables, legal_form_weight

    rows = sorted(GROUP_CODES.items(), key=lambda item: item[1])
    tables = _tables()
    codes = sorted(
        {form.code for form in tables.latin.values()} | {form.code for _s, form in tables.suffixes}
    )
    legal_blob, legal_offsets = byte_table(codes)
    compiled = CompiledTables(
        model_weights=np.asarray([model.vectors[group] for group, _ in rows], dtype=np.float64),
        model_bias=np.asarray([model.bias[group] for group, _ in rows], dtype=np.float64),
        legal_blob=legal_blob,
        legal_offsets=legal_offsets,
        legal_weights=np.asarray([legal_form_weight(c) for c in codes], dtype=np.float64),
        default_legal=tables.rigour_weight,
    )
    _COMPILED[id(model)] = (model, compiled)
    return compiled
