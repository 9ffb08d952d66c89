"""The compiled scorer and ranking give the numbers of the Python code that defines them.

The Python code in ``compare`` and ``NameIndex._rank_python`` is the reference (it explains
each score); screening runs the compiled kernels. These tests hold the two to the same
results: pair by pair on names of every script and schema (and on the labelled pairs of
``../shared/data/names`` when present), candidate lists on a generated index, and whole
screening answers.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from listwatch.screening.compare import compare_analyzed, identical, name_bytes, score_analyzed
from listwatch.screening.index import NameIndex, NameRecord
from listwatch.screening.normalize import analyze_name, schema_group
from listwatch.screening.screen import Query, Screener

PAIRS_DEV = Path(__file__).resolve().parents[3] / "shared" / "data" / "names" / "pairs_dev.csv"

PAIRS = [
    ("Company", "Xiaomi Corporation", "XIAOMI CORP."),
    ("Company", "小米集团", "Xiaomi Group"),
    ("Company", "Хуавей Технолоджис", "Huawei Technologies Co., Ltd."),
    ("Company", "SZ DJI Technology Co., Ltd.", "Shenzhen DJI Sciences and Technologies Ltd"),
    ("Company", "Semiconductor Manufacturing International Corporation", "SMIC"),
    ("Company", "Sham Holding", "Xiaomi Holding"),
    ("Company", "Kinnor Investment Oy", "Kinnor Trading Oy"),
    ("Company", "712th Research Institute", "The 712 Research Institute"),
    ("Company", "ООО Интервесп-М", "Intervesp-M LLC"),
    ("Company", "Danske Bank A/S", "Danske Bank"),
    ("Company", "Koninklijke Philips N.V.", "Philips"),
    ("Company", "中芯国际集成电路制造有限公司", "中芯國際"),
    ("Person", "Daniil Vyacheslavovich EGOROV", "Даниил Вячеславович ЕГОРОВ"),
    ("Person", "ABDUL SAMAD, Hidayatullah", "Hidayatullah Abdul Samad"),
    ("Person", "Muhammad bin Salman al Saud", "Mohammed bin Salman Al-Saud"),
    ("Person", "Ivan Petrov", "Petrov Ivan"),
    ("Person", "Ivan Petrov", "Ivana Petrova"),
    ("Person", "J. R. R. Tolkien", "John Ronald Reuel Tolkien"),
    ("Vessel", "MV Ocean Star", "OCEAN STAR"),
    ("LegalEntity", "Rosneft", "Rosneft Oil Company"),
    ("Company", "Xiao Mi Technolgy", "Xiaomi Technology"),  # joined before "xiao" ~ "xiaomi"
    ("Company", "Xiaomi Xiao Mi", "Xiao Mi Xiaomi"),  # a token the other name holds as well
    ("Person", "Abdul Rahman Abdulrahman", "Abdulrahman Abdul Rahman"),
    ("Company", "Pradorkorroultekbel AG", "Prador K.K."),
    ("Company", "Lolongfengrahua AS", "LJ"),
]


def _compiled_score(schema: str, name1: str, name2: str) -> tuple[float, float]:
    """The compiled score of name1 against name2 (indexed) and the Python one."""
    index = NameIndex.build([NameRecord("e", name2, schema, "primary")], workers=1)
    query = analyze_name(name1, schema)
    candidate = analyze_name(name2, schema)
    group = schema_group(schema)
    group = group if group != "any" else "org"
    scores, same = index.score_names(name_bytes(query), [0], [group])
    expected = score_analyzed(query, candidate, group)
    if same[0] == -1:  # the compiled scorer declined: screening scores it in Python
        return expected, expected
    if same[0] == 1 and identical(query, candidate):  # as screening calls names identical
        return 1.0, expected
    return scores[0], expected


@pytest.mark.parametrize(("schema", "name1", "name2"), PAIRS)
def test_compiled_score_equals_the_python_score(schema: str, name1: str, name2: str) -> None:
    compiled, expected = _compiled_score(schema, name1, name2)
    assert compiled == pytest.approx(expected, abs=1e-9)
    reverse, expected_reverse = _compiled_score(schema, name2, name1)
    assert reverse == pytest.approx(expected_reverse, abs=1e-9)


def _labelled_sample(seed: int) -> list[dict[str, str]]:
    """400 labelled pairs of ``../shared`` (the test is skipped when it is absent)."""
    if not PAIRS_DEV.exists():
        pytest.skip(f"labelled pairs not found at {PAIRS_DEV} (../shared is absent)")
    with PAIRS_DEV.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return random.Random(seed).sample(rows, min(400, len(rows)))


def test_compiled_scores_equal_python_scores_on_labelled_pairs() -> None:
    differing = []
    for row in _labelled_sample(5):
        compiled, expected = _compiled_score(row["schema"], row["name1"], row["name2"])
        if abs(compiled - expected) > 1e-9:
            differing.append((row["schema"], row["name1"], row["name2"], compiled, expected))
    assert differing == []


def _same_comparison(schema: str, name1: str, name2: str) -> bool:
    """Whether the compiled comparison of a pair is the Python one, explanation included."""
    query, candidate = analyze_name(name1, schema), analyze_name(name2, schema)
    group = schema_group(schema)
    python = compare_analyzed(query, candidate, group).to_dict()
    return compare_analyzed(query, candidate, group, compiled=True).to_dict() == python


@pytest.mark.parametrize(("schema", "name1", "name2"), PAIRS)
def test_compiled_comparison_equals_the_python_comparison(
    schema: str, name1: str, name2: str
) -> None:
    assert _same_comparison(schema, name1, name2)
    assert _same_comparison(schema, name2, name1)


def test_compiled_comparisons_equal_python_comparisons_on_labelled_pairs() -> None:
    differing = [
        (row["schema"], row["name1"], row["name2"])
        for row in _labelled_sample(6)
        if not _same_comparison(row["schema"], row["name1"], row["name2"])
    ]
    assert differing == []


def _generated_index(count: int) -> tuple[NameIndex, list[str]]:
    rng = random.Random(11)
    words = ["Kinnor", "Vostok", "Huaxin", "Tekmar", "Rosten", "Lindor", "Zhongke", "Belgor"]
    trades = ["Trading", "Investment", "Technology", "Shipping", "Energy", "Machinery"]
    forms = ["Oy", "LLC", "Co., Ltd.", "GmbH", "A/S", "OOO", "Limited", "集团有限公司"]
    names = []
    for i in range(count):
        brand = rng.choice(words) + rng.choice(words).lower()
        names.append(f"{brand} {rng.choice(trades)} {rng.choice(forms)}" if i % 4 else brand)
    people = ["Ivan Petrov", "Olga Sidorova", "Ali Hassan al Tikriti", "Wang Wei"]
    records = [NameRecord(f"c{i}", n, "Company", "primary") for i, n in enumerate(names)]
    records += [NameRecord(f"p{i}", n, "Person", "primary") for i, n in enumerate(people)]
    return NameIndex.build(records, workers=1), names + people


@pytest.mark.parametrize("budget", [10_000, 400, 60])
def test_compiled_ranking_equals_the_python_ranking(
    budget: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the usual budget of postings and with small ones, so that many keys are left
    unread and the names are looked up in their postings; with a long and a short list of
    candidates asked for."""
    import listwatch.screening.index as index_module

    monkeypatch.setattr(index_module, "MAX_POSTINGS", budget)
    index, names = _generated_index(3000)
    rng = random.Random(2)
    queries = [rng.choice(names) for _ in range(80)]
    queries += [q.replace("a", "e", 1) for q in queries[:40]] + ["Trading", "Oy", "Petrov Ivan"]
    pending = 0
    for text in queries:
        query = analyze_name(text, "Company")
        plan = index._plan(query)
        if plan is None:
            assert index.rank(query, 24) == ([], []), text
            continue
        pending += bool(plan.pending_tokens or plan.pending_whole)
        for limit in (24, 3):
            compiled = index.rank(query, limit)
            python = index._rank_python(plan, limit)
            assert compiled[0] == python[0], text
            assert compiled[1] == pytest.approx(python[1], abs=1e-9), text
    if budget < 1000:
        assert pending > len(queries) // 2, "the small budget leaves keys unread"


def test_compiled_screening_answers_equal_python_answers() -> None:
    index, names = _generated_index(2000)
    rng = random.Random(4)
    queries = [rng.choice(names) for _ in range(60)] + ["Kinnor Trading", "Петров Иван"]
    compiled, python = Screener(index), Screener(index, compiled=False)
    for text in queries:
        for schema in ("any", "Person", "Company"):
            query = Query(name=text, schema=schema, limit=5, threshold=0.5)
            expected = [(h.entity_id, round(h.score, 9)) for h in python.match(query)]
            assert [(h.entity_id, round(h.score, 9)) for h in compiled.match(query)] == expected


@pytest.mark.parametrize("count", [1, 3, 2000])
def test_walking_sorted_postings_finds_exactly_the_names_in_them(count: int) -> None:
    """Names looked up in increasing order, each from where the last one stopped, are found
    exactly when they are in the postings, wherever they fall (before, inside, after)."""
    import numpy as np

    from listwatch.screening.kernels import _gallop

    rng = np.random.default_rng(count)
    postings = np.unique(rng.integers(0, 50_000, 20_000)).astype(np.int32)
    start, end = 100, len(postings) - 100
    inside = rng.choice(postings[start:end], size=count // 3 + 1, replace=False)
    outside = rng.choice(np.setdiff1d(np.arange(-5, 50_005), inside), size=count, replace=False)
    ids = np.unique(np.concatenate([inside, outside])).astype(np.int64)
    found = []
    at = start
    for name in ids:
        at = _gallop(postings, at, end, name)
        found.append(bool(at < end and postings[at] == name))
    assert found == np.isin(ids, postings[start:end]).tolist()


@pytest.mark.parametrize("size", [0, 1, 2, 1_000, 300_000])
@pytest.mark.parametrize("spread", ["even", "clustered"])
def test_hash_lookup_finds_exactly_the_hashes_held(size: int, spread: str) -> None:
    """Keys are found where they are and not found where they are not: at both ends of the
    64-bit range, beyond the smallest and largest held, and when hashes crowd together
    (the search guesses from an even spread but must not depend on it)."""
    import numpy as np

    from listwatch.screening.kernels import find_hash

    rng = np.random.default_rng(size)
    top = np.iinfo(np.uint64).max
    if spread == "even":
        values = rng.integers(0, top, size, dtype=np.uint64, endpoint=True)
    else:
        values = rng.integers(2**40, 2**40 + 4 * size + 8, size, dtype=np.uint64)
    hashes = np.unique(values)
    held = rng.choice(hashes, size=min(len(hashes), 2_000), replace=False)
    probes = np.concatenate(
        [held, rng.integers(0, top, 2_000, dtype=np.uint64, endpoint=True), held + np.uint64(1)]
    )
    probes = np.concatenate([probes, np.array([0, 1, top - 1, top], dtype=np.uint64)])
    for value in probes:
        position = int(np.searchsorted(hashes, value))
        expected = position if position < len(hashes) and hashes[position] == value else -1
        assert find_hash(hashes, value) == expected, value


def test_radix_sort_and_kth_largest_agree_with_numpy() -> None:
    import numpy as np

    from listwatch.screening.kernels import _kth_largest, _radix_sort

    rng = np.random.default_rng(3)
    for size, bits in ((1, 1), (7, 5), (5_000, 26), (30_000, 40)):
        values = rng.integers(0, 2**bits, size).astype(np.int64)
        assert (_radix_sort(values.copy(), 0, bits) == np.sort(values)).all()
        # sorted by the high bits only, the values equal there keep their order
        by_high = _radix_sort(values.copy(), bits // 2, bits)
        assert (by_high == values[np.argsort(values >> (bits // 2), kind="stable")]).all()
        ranks = rng.integers(0, 6, size) / 4.0  # many ties, as ranks have
        for k in {1, min(size, 24), size}:
            assert _kth_largest(ranks, k) == np.partition(ranks, size - k)[size - k]


@pytest.mark.parametrize("seed", range(4))
def test_string_measures_equal_rapidfuzz_on_short_and_long_strings(seed: int) -> None:
    """The bit-parallel measures (one word up to 64 bytes) and their general paths give
    rapidfuzz's numbers exactly, and leave their scratch table zero; the skeleton is
    compared without being built as :func:`_skeleton` builds it."""
    import numpy as np
    from rapidfuzz.distance import Indel, JaroWinkler, Levenshtein

    from listwatch.screening.kernels import (
        SCRATCH_WORDS,
        _same_skeleton,
        _skeleton,
        _skeleton_size,
        indel_similarity,
        jaro_winkler,
        levenshtein,
    )

    rng = random.Random(seed)
    scratch = np.zeros(SCRATCH_WORDS, np.uint64)
    sizes = [0, 1, 2, 3, 5, 8, 13, 30, 63, 64, 65, 70, 130]
    for _ in range(1500):
        alphabet = "abcdeyou"[: rng.randint(2, 8)]
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, rng.choice(sizes))))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, rng.choice(sizes))))
        # the strings sit inside larger buffers, as tokens do in a name
        left = np.frombuffer(("xx" + a).encode(), np.uint8)
        right = np.frombuffer(("y" + b + "z").encode(), np.uint8)
        ranges = (left, 2, 2 + len(a), right, 1, 1 + len(b))
        assert levenshtein(*ranges, scratch) == Levenshtein.distance(a, b), (a, b)
        assert indel_similarity(*ranges, scratch) == Indel.normalized_similarity(a, b), (a, b)
        assert jaro_winkler(*ranges, scratch) == JaroWinkler.similarity(a, b), (a, b)
        assert not scratch.any()
        bones_a, bones_b = _skeleton(left, 2, 2 + len(a)), _skeleton(right, 1, 1 + len(b))
        assert _skeleton_size(left, 2, 2 + len(a)) == len(bones_a)
        assert _same_skeleton(*ranges) == (bytes(bones_a) == bytes(bones_b)), (a, b)


def test_the_kernels_thresholds_are_those_of_the_python_scorer() -> None:
    from listwatch.screening import compare, kernels

    assert kernels.JARO_FLOOR == compare.JARO_FLOOR
    assert kernels.PHONETIC_CONSONANTS == compare.PHONETIC_CONSONANTS


def test_the_arrays_a_kernel_returns_own_their_memory() -> None:
    """The scorer reads its arguments through views that hold no reference to them (see
    ``kernels._view_without_reference``); what it returns must never be such a view, or
    it would outlive the names it points into."""
    import gc

    import numpy as np

    from listwatch.screening import kernels

    def pair() -> tuple[np.ndarray, ...]:
        query = name_bytes(analyze_name("Kinnor Trading Oy", "Company"))
        candidate = name_bytes(analyze_name("Kinor Tradin Oy", "Company"))
        expected = kernels.compare_pair(
            query.form, query.shape, query.weights, query.phonetics,
            candidate.form, candidate.shape, candidate.weights, candidate.phonetics, False,
        )  # fmt: skip

        def fresh(array: np.ndarray) -> np.ndarray:  # the same type, in memory of its own
            if array.flags.writeable:
                return array.copy()
            return np.frombuffer(array.tobytes(), dtype=array.dtype)

        returned = kernels.compare_pair(
            fresh(query.form), fresh(query.shape), fresh(query.weights), fresh(query.phonetics),
            fresh(candidate.form), fresh(candidate.shape), fresh(candidate.weights),
            fresh(candidate.phonetics), False,
        )  # fmt: skip
        for got, want in zip(returned, expected, strict=True):
            assert np.array_equal(got, want)
        return tuple(a.copy() for a in expected) + returned

    arrays = pair()  # the copies passed in are gone once it returns
    gc.collect()
    expected, returned = arrays[:7], arrays[7:]
    assert all(type(array.base).__name__ == "_MemInfo" for array in returned)
    for got, want in zip(returned, expected, strict=True):
        assert np.array_equal(got, want)
