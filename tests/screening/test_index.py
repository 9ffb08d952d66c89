"""The screening index: a build on worker processes equals one in a single process, stored
analyses score like fresh ones, and common words rank candidates without being scanned."""

from __future__ import annotations

import numpy as np
import pytest

import listwatch.screening.index as index_module
from listwatch.screening.compare import compare_analyzed, score_analyzed
from listwatch.screening.index import NameIndex, NameRecord
from listwatch.screening.normalize import analyze_name, schema_group

NAMES = [
    ("Xiaomi Corporation", "Company"),
    ("小米集团", "Company"),
    ("SZ DJI Technology Co., Ltd.", "Company"),
    ("Хуавей Технолоджис", "Company"),
    ("Huawei Technologies Co., Ltd.", "Company"),
    ("Daniil Vyacheslavovich EGOROV", "Person"),
    ("Даниил Вячеславович ЕГОРОВ", "Person"),
    ("ABDUL SAMAD, Hidayatullah", "Person"),
    ("عبد الصمد هداية الله", "Person"),
    ("712th Research Institute", "Company"),
    ("ООО Интервесп-М", "Company"),
    ("", "Company"),
]


def records(copies: int) -> list[NameRecord]:
    out = []
    for k in range(copies):
        for i, (name, schema) in enumerate(NAMES):
            text = f"{name} {k}" if name and k else name
            out.append(NameRecord(f"e{i}-{k % 7}", text, schema, "alias" if k % 3 else "primary"))
    return out


def test_build_on_worker_processes_equals_a_build_in_one(monkeypatch: pytest.MonkeyPatch) -> None:
    serial = NameIndex.build(records(40), workers=1)
    monkeypatch.setattr(index_module, "PARALLEL_MIN", 1)
    monkeypatch.setattr(index_module, "BUILD_CHUNK", 37)
    done: list[int] = []
    parallel = NameIndex.build(records(40), workers=2, progress=done.append)
    assert sum(done) == len(serial.names)  # empty names are not indexed
    for name in NameIndex._ARRAYS:
        assert np.array_equal(getattr(serial, name), getattr(parallel, name)), name
    for name in NameIndex._STRINGS:
        assert list(getattr(serial, name)) == list(getattr(parallel, name)), name


def test_stored_analyses_score_like_fresh_ones() -> None:
    index = NameIndex.build(records(3))
    for query in ("XIAOMI CORP.", "Huawei", "Daniil EGOROV", "Research Institute 712"):
        analyzed = analyze_name(query, "Company")
        for candidate in index.candidates(analyzed, 10):
            group = schema_group(candidate.schema)
            stored = index.analysis(candidate.name_index, candidate.name, candidate.schema)
            fresh = analyze_name(candidate.name, candidate.schema)
            assert score_analyzed(analyzed, stored, group) == pytest.approx(
                compare_analyzed(analyzed, fresh, group).score, abs=0
            )


def test_common_words_rank_candidates_without_being_scanned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    names = [NameRecord(f"k{i}", f"Kinnor Trading{i} Oy", "Company") for i in range(40)]
    names.append(NameRecord("target", "Kinnor Investment Oy", "Company"))
    names += [NameRecord(f"f{i}", f"Investment Fund{i} AB", "Company") for i in range(200)]
    index = NameIndex.build(names)
    monkeypatch.setattr(index_module, "MAX_POSTINGS", 60)  # "investment" is too common to read
    found = index.candidates(analyze_name("Investment Kinnor Oy"), 5)
    assert found[0].entity_id == "target"
    assert all(c.entity_id.startswith("k") for c in found[1:])


def test_hits_are_explained_when_asked() -> None:
    from listwatch.screening.screen import Query, Screener

    hits = Screener(NameIndex.build(records(2))).match(Query(name="XIAOMI CORP.", limit=3))
    assert hits[0].entity_id == "e0-0" and hits[0].score == 1.0
    assert hits[0].comparison is None  # scored without building the explanation
    brief = hits[0].to_dict(explain=False)
    assert brief["explanation"] == "" and brief["comparison"] is None
    full = hits[0].to_dict()
    assert "identical after normalisation" in full["explanation"]
    assert full["comparison"]["identical"] is True
