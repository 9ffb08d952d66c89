"""The screening index: every name and identifier of the registry, blocked for fast lookup.

Built once from the registry and persisted as flat arrays (numpy ``.npy`` files opened by
memory map, so a worker process loads it in milliseconds and processes share its pages).
Names are blocked under several keys each — identifying tokens, their metaphone, their
first four letters, Arabic-script consonant skeletons, the run-together core ("xiaomi"),
initials ("smic") and the native Han/Kana/Hangul form — hashed to 64 bits. A query
collects the postings of its own keys (rarest first, within a budget), ranks names by the
summed rarity of the keys they share (common keys by binary search in their sorted
postings), and only the best few are scored in full. Building analyses names on worker
processes and sorts all postings once with numpy.

Location: ``<data dir>/screening/<hash of the database URL>/`` (the data dir is
``$LISTWATCH_HOME`` or the user data directory). ``meta.json`` holds the watermark: the
highest ``entity_names.id`` and ``identifiers.id`` indexed and the row counts. Names added
since then are indexed incrementally into a small delta segment (``delta.json``); a
deletion, or a delta grown past 5 % of the base, rebuilds the index. Merged entities are
resolved to their canonical entity at query time, so merges need no rebuild.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import os
import shutil
import tempfile
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from listwatch.screening.normalize import (
    LEGAL,
    PARTICLE,
    AnalyzedName,
    analyze_name,
    loose_skeleton,
    name_shape,
    phonetic_form,
    phonetic_key,
    restore_analysis,
    schema_group,
    skeleton,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from listwatch.registry.db import Registry
    from listwatch.screening.compare import Model, NameBytes

INDEX_VERSION = 15
BUILD_CHUNK = 10_000  # names per task of a build worker
PARALLEL_MIN = 50_000  # names from which a build uses several processes
MAX_POSTINGS = 10_000  # postings read per query to generate candidates
ANALYSES_KEPT = 100_000  # candidates' analyses kept in memory, rebuilt from the index
DELTA_SHARE = 0.05


@lru_cache(maxsize=131_072)
def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def blocking_groups(name: AnalyzedName) -> list[list[str]]:
    """The keys a name is filed under, grouped: one group per identifying token (the token,
    its metaphone, its first letters, its consonant skeleton), then one group per key of
    the whole name (run-together core, initials, native script). A query counts the best
    key of each group once, so a common word does not weigh four times."""
    core = _blocking_core(name)
    groups: list[list[str]] = [list(token_keys(token)) for token in dict.fromkeys(core)]
    groups.extend(_whole_name_groups(name, core))
    return groups


def _blocking_core(name: AnalyzedName) -> tuple[str, ...]:
    core = name.core or tuple(t for t, k in zip(name.tokens, name.kinds, strict=True) if k != LEGAL)
    return core or name.tokens


@lru_cache(maxsize=262_144)
def token_keys(token: str) -> tuple[str, ...]:
    """The blocking keys of one identifying token; the token itself comes first."""
    group = ["t:" + token]
    if len(token) >= 5:
        # Cyrillic "в" becomes v where English spellings have w (Хуавей, Huawei).
        group.append("f:" + token[:4].replace("w", "v"))
        # Г is G or H, К is K or C, Й is Y or I: the rest of the word still agrees.
        group.append("r:" + token[1:])
    if len(token) >= 3:
        code = phonetic_key(token)
        if code:
            group.append("p:" + code)
        bones = skeleton(token)
        if len(bones) >= 3:
            group.append("s:" + bones)
        # Three letters are enough: Arabic script drops vowels ("ymn", Yemen; "raq", Iraq).
        loose = loose_skeleton(token)
        if len(loose) >= 2:
            group.append("l:" + loose[:5])
    return tuple(group)


@lru_cache(maxsize=262_144)
def token_key_hashes(token: str) -> tuple[int, ...]:
    """The hashes of :func:`token_keys` (the token's own key first)."""
    return tuple(_hash(key) for key in token_keys(token))


def _whole_name_groups(name: AnalyzedName, core: tuple[str, ...]) -> list[list[str]]:
    groups: list[list[str]] = []
    if name.script == "Hani" and len(core) > 1:
        # pinyin syllables: "da lian" is written "Dalian" in Latin names
        groups.append(["t:" + a + b for a, b in itertools.pairwise(core)])
    if name.compact:
        groups.append(["c:" + name.compact])
    # The consonants of the whole name run together: spellings that split or join words
    # differently, or drop vowels (Arabic script), still agree ("hdayt allh", "hidayatullah").
    every = "".join(t for t, k in zip(name.tokens, name.kinds, strict=True) if k != LEGAL)
    # Only the first six consonants count: fold the start of a long name, unless its
    # first 32 letters fold to too few consonants for the end of the fold not to matter.
    whole = loose_skeleton(every[:32]) if len(every) > 32 else ""
    if len(whole) < 8:
        whole = loose_skeleton(every)
    if len(whole) >= 2:
        groups.append(["k:" + whole[:6]])
    initials = set()
    if len(core) >= 2:
        initials.add("i:" + "".join(t[0] for t in core))
    words = [t for t, k in zip(name.tokens, name.kinds, strict=True) if k != PARTICLE]
    if len(words) >= 2:
        initials.add("i:" + "".join(t[0] for t in words))
    if len(core) == 1 and 2 <= len(core[0]) <= 8:
        initials.add("i:" + core[0])
    if initials:
        groups.append(sorted(initials))
    if name.native:
        groups.append(["n:" + name.native.replace(" ", "")])
    return groups


def blocking_hashes(name: AnalyzedName) -> tuple[list[tuple[int, ...]], list[list[int]]]:
    """The hashed keys of :func:`blocking_groups`: token groups, then whole-name groups."""
    core = _blocking_core(name)
    tokens = [token_key_hashes(token) for token in dict.fromkeys(core)]
    whole = [[_hash(key) for key in group] for group in _whole_name_groups(name, core)]
    return tokens, whole


def blocking_keys(name: AnalyzedName) -> set[str]:
    """Every key a name is filed under."""
    return {key for group in blocking_groups(name) for key in group}


def _mapped(path: Path) -> np.ndarray:
    """A saved array opened by memory map, as a plain ndarray view (fast element access)."""
    return np.load(path, mmap_mode="r").view(np.ndarray)


class _Strings:
    """Many strings in one UTF-8 buffer with offsets: compact on disk and in memory."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray) -> None:
        self.blob = blob
        self.offsets = offsets

    @classmethod
    def build(cls, values: Iterable[str]) -> _Strings:
        encoded = [v.encode("utf-8") for v in values]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        if encoded:
            offsets[1:] = np.cumsum([len(e) for e in encoded])
        blob = (
            np.frombuffer(b"".join(encoded), dtype=np.uint8) if encoded else np.zeros(0, np.uint8)
        )
        return cls(blob, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @property
    def _bytes(self) -> memoryview:
        """The buffer as bytes (a view of the memory map: nothing is copied)."""
        view: memoryview | None = self.__dict__.get("_view")
        if view is None:
            view = self.__dict__["_view"] = np.ascontiguousarray(self.blob).data.cast("B")
        return view

    def __getitem__(self, index: int) -> str:
        start, end = self.offsets[index : index + 2].tolist()
        return str(self._bytes[start:end], "utf-8")

    def many(self, indices: np.ndarray) -> list[str]:
        """The strings at several positions (one numpy gather for all their offsets)."""
        starts = self.offsets[indices].tolist()
        ends = self.offsets[indices + 1].tolist()
        view = self._bytes
        return [str(view[a:b], "utf-8") for a, b in zip(starts, ends, strict=True)]

    def __iter__(self) -> Iterator[str]:
        for i in range(len(self)):
            yield self[i]


@dataclass
class NameRecord:
    """One name of one entity, as fed to the index."""

    entity_id: str
    name: str
    schema: str
    kind: str = "alias"
    country: str | None = None


@dataclass
class Candidate:
    """A name that shares blocking keys with a query, with their summed rarity."""

    name_index: int
    entity_id: str
    name: str
    schema: str
    kind: str
    country: str | None
    blocking: float


# Schema groups of entities as stored (the rows of the compiled scorer's weights, and "any").
GROUP_CODES = {"person": 0, "org": 1, "object": 2, "any": 3}
GROUP_NAMES = {code: group for group, code in GROUP_CODES.items()}

KINDS = ("primary", "alias", "former", "acronym", "weak", "other")


@dataclass
class Watermark:
    """How far into the registry's tables the index has read."""

    max_name_id: int = 0
    name_count: int = 0
    max_identifier_id: int = 0
    identifier_count: int = 0
    entity_count: int = 0

    def to_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return dict(self.__dict__)


@dataclass
class _AnalysedNames:
    """What a build worker returns for a chunk of names (arrays, cheap to pickle)."""

    kept_mask: np.ndarray  # names that have blocking keys (the others are not indexed)
    forms: list[str]
    shapes: list[str]
    natives: list[str]
    phonetics: list[str]
    key_counts: np.ndarray
    key_hashes: np.ndarray
    token_counts: np.ndarray
    token_hashes: np.ndarray


def _analyse_names(task: tuple[list[str], list[str]]) -> _AnalysedNames:
    """Analyse a chunk of (name, schema) and hash its blocking keys (in a build worker)."""
    texts, schemas = task
    # Every name is analysed once while building: skip the cache of analyze_name.
    analyze = analyze_name.__wrapped__
    kept = np.zeros(len(texts), dtype=bool)
    forms: list[str] = []
    shapes: list[str] = []
    natives: list[str] = []
    phonetics: list[str] = []
    key_counts: list[int] = []
    keys_flat: list[int] = []
    token_counts: list[int] = []
    tokens_flat: list[int] = []
    for i, (text, schema) in enumerate(zip(texts, schemas, strict=True)):
        analyzed = analyze(text, schema)
        token_groups, whole = blocking_hashes(analyzed)
        keys: set[int] = set()
        for group in token_groups:
            keys.update(group)
        for whole_group in whole:
            keys.update(whole_group)
        if not keys:
            continue
        kept[i] = True
        forms.append(analyzed.normalized)
        shapes.append(name_shape(analyzed))
        natives.append(analyzed.native or "")
        phonetics.append(phonetic_form(analyzed.tokens))
        key_counts.append(len(keys))
        keys_flat.extend(keys)
        token_counts.append(len(token_groups))
        tokens_flat.extend(group[0] for group in token_groups)
    return _AnalysedNames(
        kept_mask=kept,
        forms=forms,
        shapes=shapes,
        natives=natives,
        phonetics=phonetics,
        key_counts=np.asarray(key_counts, dtype=np.int32),
        key_hashes=np.asarray(keys_flat, dtype=np.uint64),
        token_counts=np.asarray(token_counts, dtype=np.int32),
        token_hashes=np.asarray(tokens_flat, dtype=np.uint64),
    )


def _concat(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
    return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)


class _Analyser:
    """Analyses chunks of names, results in order: in this process for a small build; for a
    large one on worker processes, forked as soon as the build proves large, while this
    process still holds little (a fork shares the parent's pages, and every page the
    parent has grown by is one a worker may copy)."""

    def __init__(self, workers: int | None) -> None:
        import multiprocessing
        import threading

        self.count = workers or os.cpu_count() or 1
        # Workers are forked (no re-import of the caller's main module, as "spawn" would
        # need); forking is safe only from a process that runs no other thread, so a
        # build inside a threaded server stays in its own process.
        self.allowed = (
            self.count > 1
            and os.name == "posix"
            and threading.active_count() == 1
            and not multiprocessing.current_process().daemon
        )
        self.waiting: list[tuple[list[str], list[str]]] = []
        self.names = 0
        self.executor: Any = None
        self.futures: list[Any] = []

    def add(self, task: tuple[list[str], list[str]]) -> None:
        """Queue a chunk of (names, schemas)."""
        self.names += len(task[0])
        self.waiting.append(task)
        if self.executor is None and self.allowed and self.names >= PARALLEL_MIN:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            self.executor = ProcessPoolExecutor(
                self.count, mp_context=multiprocessing.get_context("fork")
            )
        if self.executor is not None:
            self.futures.extend(self.executor.submit(_analyse_names, t) for t in self.waiting)
            self.waiting = []

    def results(self) -> Iterator[_AnalysedNames]:
        """The analysed chunks, in the order they were added."""
        try:
            for future in self.futures:
                yield future.result()
            for task in self.waiting:
                yield _analyse_names(task)
        finally:
            if self.executor is not None:
                self.executor.shutdown(cancel_futures=True)


@dataclass
class _Plan:
    """What a query reads of the index: its hashed keys (``flat``), the group of each
    (``numbers``: token groups first, then whole-name groups), their posting ranges and
    sizes, the keys read (by group) and the common keys left to binary search."""

    flat: list[int]
    numbers: list[int]
    sizes: list[int]
    starts: list[int]
    ends: list[int]
    token_count: int
    token_groups: list[tuple[int, ...]]
    query_norm: float
    present: list[int]
    by_group: dict[int, list[int]]
    pending_tokens: list[int]
    pending_whole: list[int]
    total: int

    def weight(self, k: int) -> float:
        """The rarity of key ``k``."""
        return math.log(1 + self.total / self.sizes[k])


def _members(postings: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """1.0 where ``ids`` appear in ``postings`` (sorted), else 0.0 (a binary search each)."""
    if not len(postings):
        return np.zeros(len(ids), dtype=np.float64)
    position = np.searchsorted(postings, ids)
    np.minimum(position, len(postings) - 1, out=position)
    return (postings[position] == ids).astype(np.float64)


@dataclass
class NameIndex:
    """Blocked names and identifiers of a registry (see the module docstring)."""

    entity_ids: _Strings
    entity_schemas: _Strings
    entity_countries: _Strings
    names: _Strings
    forms: _Strings
    shapes: _Strings
    natives: _Strings
    phonetics: _Strings
    entity_groups: np.ndarray
    name_entity: np.ndarray
    name_kind: np.ndarray
    name_norms: np.ndarray
    key_hashes: np.ndarray
    key_offsets: np.ndarray
    postings: np.ndarray
    identifiers: dict[str, list[str]] = field(default_factory=dict)
    watermark: Watermark = field(default_factory=Watermark)
    delta_records: list[NameRecord] = field(default_factory=list)
    _delta_forms: list[str] = field(default_factory=list)
    _delta_shapes: list[str] = field(default_factory=list)
    _delta_natives: list[str] = field(default_factory=list)
    _delta_norms: list[float] = field(default_factory=list)
    _delta_keys: dict[int, list[int]] = field(default_factory=dict)
    _analyses: dict[int, AnalyzedName] = field(default_factory=dict, repr=False)
    _scratch: threading.local = field(default_factory=threading.local, repr=False)

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        records: Iterable[NameRecord],
        identifiers: dict[str, list[str]] | None = None,
        watermark: Watermark | None = None,
        progress: Any = None,
        workers: int | None = None,
    ) -> NameIndex:
        """Index names (each analysed under its entity's schema) and identifier keys.

        Names are analysed and their keys hashed on ``workers`` processes (default: all
        cores, for registries of at least ``PARALLEL_MIN`` names); the postings are then
        sorted once with numpy. ``progress`` is called with the number of names done.
        """
        entity_pos: dict[str, int] = {}
        entity_ids: list[str] = []
        entity_schemas: list[str] = []
        entity_countries: list[str] = []
        texts: list[str] = []
        name_entity: list[int] = []
        name_kind: list[int] = []
        seen: set[tuple[int, str]] = set()
        kind_code = {k: i for i, k in enumerate(KINDS)}
        other = kind_code["other"]
        analyser = _Analyser(workers)
        chunk: tuple[list[str], list[str]] = ([], [])
        for record in records:
            pos = entity_pos.get(record.entity_id)
            if pos is None:
                pos = entity_pos[record.entity_id] = len(entity_ids)
                entity_ids.append(record.entity_id)
                entity_schemas.append(record.schema)
                entity_countries.append(record.country or "")
            text = " ".join(record.name.split())
            if not text or (pos, text) in seen:
                continue
            seen.add((pos, text))
            texts.append(text)
            chunk[0].append(text)
            chunk[1].append(record.schema)
            name_entity.append(pos)
            name_kind.append(kind_code.get(record.kind, other))
            if len(chunk[0]) == BUILD_CHUNK:
                analyser.add(chunk)
                chunk = ([], [])
        if chunk[0]:
            analyser.add(chunk)
        del seen, chunk
        parts: list[_AnalysedNames] = []
        for part in analyser.results():
            parts.append(part)
            if progress is not None:
                progress(len(part.kept_mask))
        kept = np.concatenate([p.kept_mask for p in parts]) if parts else np.zeros(0, bool)
        names = [t for t, k in zip(texts, kept.tolist(), strict=True) if k]
        del texts
        forms = [f for p in parts for f in p.forms]
        shapes = [s for p in parts for s in p.shapes]
        natives = [n for p in parts for n in p.natives]
        phonetics = [h for p in parts for h in p.phonetics]
        key_counts = _concat([p.key_counts for p in parts], np.int32)
        key_hashes = _concat([p.key_hashes for p in parts], np.uint64)
        token_counts = _concat([p.token_counts for p in parts], np.int32)
        token_hashes = _concat([p.token_hashes for p in parts], np.uint64)
        del parts
        owners = np.repeat(np.arange(len(names), dtype=np.int32), key_counts)
        # A stable sort by key keeps each key's names in increasing order.
        order = np.argsort(key_hashes, kind="stable")
        sorted_keys = key_hashes[order]
        postings = owners[order]
        del order, owners, key_hashes
        boundary = np.ones(len(sorted_keys), dtype=bool)
        boundary[1:] = sorted_keys[1:] != sorted_keys[:-1]
        starts = np.flatnonzero(boundary)
        unique_keys = sorted_keys[starts]
        del sorted_keys, boundary
        offsets = np.append(starts, len(postings)).astype(np.int64)
        # Each name's norm: the summed rarity of its identifying tokens (for a weighted Dice).
        frequencies = np.diff(offsets)
        norms = np.zeros(len(names), dtype=np.float32)
        if len(token_hashes):
            position = np.searchsorted(unique_keys, token_hashes)
            rarity = np.log1p(max(1, len(names)) / frequencies[position])
            token_owners = np.repeat(np.arange(len(names)), token_counts)
            norms = np.bincount(token_owners, weights=rarity, minlength=len(names)).astype(
                np.float32
            )
        entity_array = np.asarray(name_entity, dtype=np.int32)[kept]
        kind_array = np.asarray(name_kind, dtype=np.int8)[kept]
        return cls(
            entity_ids=_Strings.build(entity_ids),
            entity_schemas=_Strings.build(entity_schemas),
            entity_countries=_Strings.build(entity_countries),
            names=_Strings.build(names),
            forms=_Strings.build(forms),
            shapes=_Strings.build(shapes),
            natives=_Strings.build(natives),
            phonetics=_Strings.build(phonetics),
            entity_groups=np.asarray(
                [GROUP_CODES[schema_group(schema)] for schema in entity_schemas], dtype=np.int8
            ),
            name_entity=entity_array,
            name_kind=kind_array,
            name_norms=norms,
            key_hashes=unique_keys,
            key_offsets=offsets,
            postings=postings.astype(np.int32),
            identifiers=identifiers or {},
            watermark=watermark or Watermark(),
        )

    # ------------------------------------------------------------------ persistence

    _ARRAYS = (
        "entity_groups",
        "name_entity",
        "name_kind",
        "name_norms",
        "key_hashes",
        "key_offsets",
        "postings",
    )
    _STRINGS = (
        "entity_ids",
        "entity_schemas",
        "entity_countries",
        "names",
        "forms",
        "shapes",
        "natives",
        "phonetics",
    )

    def save(self, directory: Path) -> None:
        """Write the index atomically (a new directory renamed over the old one)."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".index-", dir=directory.parent))
        try:
            for name in self._ARRAYS:
                np.save(staging / f"{name}.npy", getattr(self, name))
            for name in self._STRINGS:
                strings: _Strings = getattr(self, name)
                np.save(staging / f"{name}.blob.npy", strings.blob)
                np.save(staging / f"{name}.offsets.npy", strings.offsets)
            meta = {
                "version": INDEX_VERSION,
                "watermark": self.watermark.to_dict(),
                "identifiers": self.identifiers,
                "names": len(self.names),
                "entities": len(self.entity_ids),
            }
            (staging / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
            self._write_delta(staging)
            old = directory.with_name(directory.name + ".old")
            if directory.exists():
                if old.exists():
                    shutil.rmtree(old)
                os.replace(directory, old)
            os.replace(staging, directory)
            if old.exists():
                shutil.rmtree(old, ignore_errors=True)
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)

    def _write_delta(self, directory: Path) -> None:
        payload = {
            "watermark": self.watermark.to_dict(),
            "identifiers": self.identifiers,
            "records": [r.__dict__ for r in self.delta_records],
        }
        target = directory / "delta.json"
        temporary = directory / "delta.json.tmp"
        temporary.write_text(json.dumps(payload, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, target)

    def save_delta(self, directory: Path) -> None:
        """Persist the names indexed since the base was built (and the new watermark)."""
        self._write_delta(directory)

    @classmethod
    def load(cls, directory: Path) -> NameIndex | None:
        """Open a saved index (memory-mapped), or None when absent or of another version."""
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if meta.get("version") != INDEX_VERSION:
            return None
        try:
            arrays: dict[str, Any] = {
                name: _mapped(directory / f"{name}.npy") for name in cls._ARRAYS
            }
            strings: dict[str, Any] = {
                name: _Strings(
                    _mapped(directory / f"{name}.blob.npy"),
                    _mapped(directory / f"{name}.offsets.npy"),
                )
                for name in cls._STRINGS
            }
        except (OSError, ValueError):
            return None
        index = cls(
            **arrays,
            **strings,
            identifiers=meta.get("identifiers", {}),
            watermark=Watermark(**meta.get("watermark", {})),
        )
        try:
            delta = json.loads((directory / "delta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            delta = None
        if delta:
            index.watermark = Watermark(**delta["watermark"])
            index.identifiers = delta.get("identifiers", index.identifiers)
            index.add_records(NameRecord(**r) for r in delta.get("records", []))
        return index

    # ------------------------------------------------------------------ incremental

    def add_records(self, records: Iterable[NameRecord]) -> int:
        """Index more names on top of the base (kept in memory and in ``delta.json``)."""
        added = 0
        for record in records:
            text = " ".join(record.name.split())
            if not text:
                continue
            analyzed = analyze_name(text, record.schema)
            token_groups, whole = blocking_hashes(analyzed)
            keys = {key for group in token_groups for key in group}
            keys.update(key for group in whole for key in group)
            position = len(self.names) + len(self.delta_records)
            self._delta_forms.append(analyzed.normalized)
            self._delta_shapes.append(name_shape(analyzed))
            self._delta_natives.append(analyzed.native or "")
            self.delta_records.append(
                NameRecord(record.entity_id, text, record.schema, record.kind, record.country)
            )
            for key in keys:
                self._delta_keys.setdefault(key, []).append(position)
            # its norm as a base name's: the summed rarity of its identifying tokens
            self._delta_norms.append(sum(self._rarity(group[0]) for group in token_groups))
            added += 1
        return added

    @property
    def size(self) -> int:
        """Number of names indexed (base and delta)."""
        return len(self.names) + len(self.delta_records)

    def needs_rebuild(self) -> bool:
        """Whether the delta has grown large enough that a rebuild pays off."""
        return len(self.delta_records) > max(1000, DELTA_SHARE * len(self.names))

    # ------------------------------------------------------------------ lookup

    def record(self, name_index: int) -> NameRecord:
        """The stored name behind an index position."""
        base = len(self.names)
        if name_index >= base:
            return self.delta_records[name_index - base]
        entity = int(self.name_entity[name_index])
        return NameRecord(
            entity_id=self.entity_ids[entity],
            name=self.names[name_index],
            schema=self.entity_schemas[entity],
            kind=KINDS[int(self.name_kind[name_index])],
            country=self.entity_countries[entity] or None,
        )

    def _postings_of(self, key_hash: int) -> np.ndarray:
        """The names filed under a hashed key (base and delta)."""
        position = int(np.searchsorted(self.key_hashes, np.uint64(key_hash)))
        if position < len(self.key_hashes) and int(self.key_hashes[position]) == key_hash:
            found = np.asarray(
                self.postings[self.key_offsets[position] : self.key_offsets[position + 1]]
            )
        else:
            found = np.zeros(0, dtype=np.int32)
        extra = self._delta_keys.get(key_hash)
        if extra:
            found = np.concatenate([found, np.asarray(extra, dtype=np.int32)])
        return found

    def _rarity(self, key_hash: int) -> float:
        found = len(self._postings_of(key_hash))
        return math.log1p(max(1, self.size) / max(1, found))

    def _norms(self, ids: np.ndarray) -> np.ndarray:
        base = len(self.names)
        if not self._delta_norms or int(ids.max(initial=0)) < base:
            return np.asarray(self.name_norms[ids], dtype=np.float64)
        delta = np.asarray(self._delta_norms, dtype=np.float64)
        inside = ids < base
        out = np.empty(len(ids), dtype=np.float64)
        out[inside] = self.name_norms[ids[inside]]
        out[~inside] = delta[ids[~inside] - base]
        return out

    def analysis(self, name_index: int, name: str, schema: str) -> AnalyzedName:
        """The stored analysis of an indexed name (rebuilt without normalising again)."""
        found = self._analyses.get(name_index)
        if found is not None and found.original == name and found.schema == schema:
            return found
        base = len(self.names)
        if name_index >= base:
            form = self._delta_forms[name_index - base]
            shape = self._delta_shapes[name_index - base]
            native = self._delta_natives[name_index - base]
        else:
            form, shape = self.forms[name_index], self.shapes[name_index]
            native = self.natives[name_index]
        analyzed = restore_analysis(name, schema, form, shape, native or None)
        if len(self._analyses) >= ANALYSES_KEPT:
            self._analyses.clear()
        self._analyses[name_index] = analyzed
        return analyzed

    def form(self, name_index: int) -> str:
        """The matching form (ASCII tokens) of an indexed name."""
        base = len(self.names)
        if name_index >= base:
            return self._delta_forms[name_index - base]
        return self.forms[name_index]

    def _lookup(self, hashes: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Where the postings of each hashed key start and end (an empty range when absent)."""
        wanted = np.asarray(hashes, dtype=np.uint64)
        position = np.searchsorted(self.key_hashes, wanted)
        position = np.minimum(position, max(0, len(self.key_hashes) - 1))
        present = (
            self.key_hashes[position] == wanted
            if len(self.key_hashes)
            else np.zeros(len(wanted), dtype=bool)
        )
        starts = np.where(present, self.key_offsets[position], 0)
        after = np.minimum(position + 1, len(self.key_offsets) - 1)
        ends = np.where(present, self.key_offsets[after], 0)
        return starts, ends

    def _buffers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Per-thread scratch arrays of the Python ranking, one cell per indexed name (all
        zero between uses)."""
        scratch = self._scratch
        buffers = getattr(scratch, "buffers", None)
        if buffers is None or len(buffers[0]) < self.size:
            size = self.size + 1024  # room for names indexed incrementally
            buffers = (
                np.zeros(size, dtype=np.float64),  # best weight of the current key group
                np.zeros(size, dtype=np.float64),  # summed weights of shared token groups
                np.zeros(size, dtype=np.int8),  # shares a key of the whole name
                np.zeros(size, dtype=np.int32),  # first position in the gathered postings
            )
            scratch.buffers = buffers
        return buffers

    def _postings_slice(self, key: int, start: int, end: int) -> np.ndarray:
        """The names under a hashed key, in increasing order (base, then delta)."""
        extra = self._delta_keys.get(key) if self._delta_keys else None
        found = np.asarray(self.postings[start:end])
        if extra:
            found = np.concatenate([found, np.asarray(extra, dtype=np.int32)])
        return found

    def candidates(self, query: AnalyzedName, limit: int = 12) -> list[Candidate]:
        """The names most like ``query`` (at most ``limit``), best first.

        A name's rank is a weighted Dice overlap: for each identifying token of the query,
        the rarity (``log(1 + N / df)``) of the best key of that token the name shares,
        summed, against both names' summed token rarities; sharing a key of the whole name
        (run-together form, initials, native script) adds 0.5.

        Rare keys generate the candidates: their postings are read, rarest first, up to
        ``MAX_POSTINGS``. Keys too common to read are not scanned; instead the names
        still able to reach the ``limit`` best (by an upper bound on what the common
        tokens could add) are looked up in their postings (which are sorted), so a
        common word such as "Investment" still tells "Kinnor Investment Oy" from
        "Kinnor Trading Oy" at the cost of a binary search per name.
        """
        positions, ranks = self.rank(query, limit)
        return self._candidates(positions, ranks)

    def rank(self, query: AnalyzedName, limit: int = 12) -> tuple[list[int], list[float]]:
        """The positions of the names :meth:`candidates` returns, best first, and their
        ranks (compiled; the names of a delta segment take :meth:`_rank_python`)."""
        if self._delta_keys:
            plan = self._plan(query)
            return ([], []) if plan is None else self._rank_python(plan, limit)
        from listwatch.screening.kernels import rank_query

        token_groups, whole_groups = blocking_hashes(query)
        groups = [*token_groups, *whole_groups]
        positions, ranks = rank_query(
            self.key_hashes,
            self.key_offsets,
            self.postings,
            self.name_norms,
            np.fromiter((key for group in groups for key in group), dtype=np.uint64),
            np.fromiter((n for n, group in enumerate(groups) for _key in group), dtype=np.int64),
            len(token_groups),
            max(1, self.size),
            MAX_POSTINGS,
            limit,
        )
        return positions.tolist(), ranks.tolist()

    def _plan(self, query: AnalyzedName) -> _Plan | None:
        """Which postings a query reads, and what it knows of the others (their sizes)."""
        total = max(1, self.size)
        token_groups, whole_groups = blocking_hashes(query)
        groups = [*token_groups, *whole_groups]
        flat = [key for group in groups for key in group]
        if not flat:
            return None
        numbers = [number for number, group in enumerate(groups) for _key in group]
        starts, ends = self._lookup(flat)
        sizes = (ends - starts).tolist()
        if self._delta_keys:
            sizes = [
                size + len(self._delta_keys.get(key, ()))
                for key, size in zip(flat, sizes, strict=True)
            ]
        token_count = len(token_groups)
        # The norm of the query: the rarity of its tokens' own keys (the first of each group).
        query_norm = sum(
            math.log1p(total / max(1, sizes[flat.index(group[0])])) for group in token_groups
        )
        present = [k for k in range(len(flat)) if sizes[k] > 0]
        if not present:
            return None
        present.sort(key=lambda k: sizes[k])
        read: list[int] = []
        budget = 0
        for k in present:
            if read and budget + sizes[k] > MAX_POSTINGS:
                continue
            read.append(k)
            budget += sizes[k]
        by_group: dict[int, list[int]] = {}
        for k in read:
            by_group.setdefault(numbers[k], []).append(k)
        # Common keys not read: the exact token of each identifying token not read yet, and
        # the keys of the whole name not read.
        pending_tokens = [
            flat.index(group[0])
            for number, group in enumerate(token_groups)
            if number not in by_group and sizes[flat.index(group[0])] > 0
        ]
        pending_whole = [
            k for k in present if numbers[k] >= token_count and numbers[k] not in by_group
        ]
        return _Plan(
            flat=flat,
            numbers=numbers,
            sizes=sizes,
            starts=starts.tolist(),
            ends=ends.tolist(),
            token_count=token_count,
            token_groups=token_groups,
            query_norm=query_norm,
            present=present,
            by_group=by_group,
            pending_tokens=pending_tokens,
            pending_whole=pending_whole,
            total=total,
        )

    def _plan_postings(self, plan: _Plan, k: int) -> np.ndarray:
        return self._postings_slice(plan.flat[k], plan.starts[k], plan.ends[k])

    def _rank_python(self, plan: _Plan, limit: int) -> tuple[list[int], list[float]]:
        """The ranking of :meth:`rank` with numpy (names of a delta segment included)."""
        token_count, query_norm = plan.token_count, plan.query_norm
        best, shared, whole, first = self._buffers()
        by_group = plan.by_group
        gathered: list[np.ndarray] = []
        for number in sorted(by_group):
            members = by_group[number]
            if number >= token_count:
                for k in members:
                    found = self._plan_postings(plan, k)
                    whole[found] = 1
                    gathered.append(found)
                continue
            if len(members) == 1:
                found = self._plan_postings(plan, members[0])
                shared[found] += plan.weight(members[0])
                gathered.append(found)
                continue
            # the best key of the group counts: lighter keys are written first, then heavier
            lists = sorted(
                ((plan.weight(k), self._plan_postings(plan, k)) for k in members),
                key=lambda item: item[0],
            )
            for w, found in lists:
                best[found] = w
            ids_of_group = np.concatenate([found for _w, found in lists])
            shared[ids_of_group] += best[ids_of_group]
            best[ids_of_group] = 0.0
            gathered.append(ids_of_group)
        every = np.concatenate(gathered) if len(gathered) > 1 else gathered[0]
        places = np.arange(len(every), dtype=np.int32)
        first[every] = places
        ids = every[first[every] == places].astype(np.int64)
        shared_ids = shared[ids]
        whole_ids = whole[ids].astype(np.float64)
        shared[ids] = 0.0
        whole[ids] = 0
        denominator = query_norm + np.maximum(self._norms(ids), 1e-3)
        pending_tokens, pending_whole = plan.pending_tokens, plan.pending_whole
        if (pending_tokens or pending_whole) and len(ids):
            extra = sum(plan.weight(k) for k in pending_tokens)
            lower = 2 * shared_ids / denominator + 0.5 * whole_ids
            upper = 2 * (shared_ids + extra) / denominator + 0.5 * (
                1.0 if pending_whole else whole_ids
            )
            if len(ids) > limit:
                cut = np.partition(lower, len(lower) - limit)[len(lower) - limit]
                keep = np.flatnonzero(upper >= cut)
                ids, shared_ids, whole_ids, denominator = (
                    ids[keep],
                    shared_ids[keep],
                    whole_ids[keep],
                    denominator[keep],
                )
            for k in pending_tokens:
                shared_ids = shared_ids + plan.weight(k) * _members(
                    self._plan_postings(plan, k), ids
                )
            for k in pending_whole:
                whole_ids = np.maximum(whole_ids, _members(self._plan_postings(plan, k), ids))
        rank = 2 * shared_ids / denominator + 0.5 * (whole_ids > 0)
        if len(ids) > limit:
            # every name ranked at least as high as the limit-th (ties broken by position)
            cut = np.partition(rank, len(rank) - limit)[len(rank) - limit]
            top = np.flatnonzero(rank >= cut)
        else:
            top = np.arange(len(ids))
        ranks, positions = rank[top].tolist(), ids[top].tolist()
        ordered = sorted(zip(ranks, positions, strict=True), key=lambda item: (-item[0], item[1]))
        return [p for _r, p in ordered[:limit]], [r for r, _p in ordered[:limit]]

    def _candidates(self, positions: list[int], ranks: list[float]) -> list[Candidate]:
        """Candidates for index positions (the stored strings gathered in one go)."""
        base = len(self.names)
        inside = np.asarray([p for p in positions if p < base], dtype=np.int64)
        names = self.names.many(inside)
        entities = np.asarray(self.name_entity[inside], dtype=np.int64)
        entity_ids = self.entity_ids.many(entities)
        schemas = self.entity_schemas.many(entities)
        countries = self.entity_countries.many(entities)
        kinds = self.name_kind[inside].tolist()
        out: list[Candidate] = []
        k = 0
        for position, rank in zip(positions, ranks, strict=True):
            if position >= base:
                record = self.record(position)
                out.append(
                    Candidate(
                        position,
                        record.entity_id,
                        record.name,
                        record.schema,
                        record.kind,
                        record.country,
                        rank,
                    )
                )
                continue
            out.append(
                Candidate(
                    position,
                    entity_ids[k],
                    names[k],
                    schemas[k],
                    KINDS[kinds[k]],
                    countries[k] or None,
                    rank,
                )
            )
            k += 1
        return out

    def entities_at(self, positions: list[int], countries: bool = False) -> list[tuple[str, str]]:
        """The entity id of each indexed name and, with ``countries``, the entity's country
        ("" when unknown or not asked for): what choosing hits needs, before the names."""
        base = len(self.names)
        inside = np.asarray([p for p in positions if p < base], dtype=np.int64)
        entities = np.asarray(self.name_entity[inside], dtype=np.int64)
        ids = iter(self.entity_ids.many(entities))
        found = iter(self.entity_countries.many(entities) if countries else [""] * len(inside))
        out: list[tuple[str, str]] = []
        for position in positions:
            if position >= base:
                record = self.record(position)
                out.append((record.entity_id, (record.country or "") if countries else ""))
            else:
                out.append((next(ids), next(found)))
        return out

    def candidates_at(self, positions: list[int], ranks: list[float]) -> list[Candidate]:
        """The candidates at index positions (as :meth:`candidates` returns them)."""
        return self._candidates(positions, ranks)

    def groups_of(self, positions: list[int]) -> list[str]:
        """The schema group (``person``, ``org``, ``object``, ``any``) of each name's entity."""
        base = len(self.names)
        inside = np.asarray([p for p in positions if p < base], dtype=np.int64)
        codes = self.entity_groups[self.name_entity[inside]].tolist() if len(inside) else []
        out: list[str] = []
        k = 0
        for position in positions:
            if position >= base:
                out.append(schema_group(self.delta_records[position - base].schema))
            else:
                out.append(GROUP_NAMES[codes[k]])
                k += 1
        return out

    def score_names(
        self, query: NameBytes, positions: list[int], groups: list[str], model: Model | None = None
    ) -> tuple[list[float], list[int]]:
        """Compiled scores of a query against base names (``groups``: the model's group for
        each), and for each 1 where the tokens are the same (see
        :func:`listwatch.screening.kernels.score_names`; -1: score it in Python)."""
        from listwatch.screening.compare import compiled_tables
        from listwatch.screening.kernels import GROUP_CODES as ROWS
        from listwatch.screening.kernels import score_names

        tables = compiled_tables(model)
        scores, same = score_names(
            query.form,
            query.shape,
            query.weights,
            query.phonetics,
            self.forms.blob,
            self.forms.offsets,
            self.shapes.blob,
            self.shapes.offsets,
            self.phonetics.blob,
            self.phonetics.offsets,
            np.asarray(positions, dtype=np.int64),
            np.asarray([ROWS[g] for g in groups], dtype=np.int8),
            tables.legal_blob,
            tables.legal_offsets,
            tables.legal_weights,
            tables.default_legal,
            tables.model_weights,
            tables.model_bias,
        )
        return scores.tolist(), same.tolist()

    def lookup_identifier(self, keys: Iterable[str]) -> list[tuple[str, str]]:
        """Entities holding any of the identifier keys: (entity id, key) pairs."""
        found: list[tuple[str, str]] = []
        for key in keys:
            for entity_id in self.identifiers.get(key, []):
                found.append((entity_id, key))
        return found


# --------------------------------------------------------------------------- registry


def index_dir_for(url: str, base: Path | None = None) -> Path:
    """Where the index of the registry at ``url`` lives."""
    from listwatch.registry.db import default_data_dir

    digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
    return (base or default_data_dir() / "screening") / digest


def _watermark(session: Session) -> Watermark:
    from sqlalchemy import func, select

    from listwatch.registry.models import Entity, EntityName, Identifier

    max_name, count_name = session.execute(
        select(func.coalesce(func.max(EntityName.id), 0), func.count(EntityName.id))
    ).one()
    max_ident, count_ident = session.execute(
        select(func.coalesce(func.max(Identifier.id), 0), func.count(Identifier.id))
    ).one()
    entities = session.scalar(select(func.count(Entity.id))) or 0
    return Watermark(int(max_name), int(count_name), int(max_ident), int(count_ident), entities)


def _registry_records(session: Session, after_name_id: int = 0) -> Iterator[NameRecord]:
    from sqlalchemy import select

    from listwatch.registry.models import Entity, EntityName

    # Every entity's primary name is also a row of entity_names (kind "primary").
    rows = session.execute(
        select(
            EntityName.entity_id, EntityName.name, EntityName.kind, Entity.schema, Entity.country
        )
        .join(Entity, Entity.id == EntityName.entity_id)
        .where(EntityName.id > after_name_id)
        .order_by(EntityName.id)
    )
    for entity_id, name, kind, schema, country in rows:
        yield NameRecord(entity_id, name, schema, kind, country)


def _registry_identifiers(session: Session) -> dict[str, list[str]]:
    from sqlalchemy import select

    from listwatch.registry.models import Identifier
    from listwatch.screening.identifiers import stored_identifier_keys

    found: dict[str, list[str]] = defaultdict(list)
    for entity_id, scheme, value in session.execute(
        select(Identifier.entity_id, Identifier.scheme, Identifier.value)
    ):
        for key in stored_identifier_keys(scheme, value):
            if entity_id not in found[key]:
                found[key].append(entity_id)
    return dict(found)


def build_from_registry(session: Session, progress: Any = None) -> NameIndex:
    """A fresh index of every name and identifier in the registry."""
    watermark = _watermark(session)
    return NameIndex.build(
        _registry_records(session),
        identifiers=_registry_identifiers(session),
        watermark=watermark,
        progress=progress,
    )


@dataclass
class IndexState:
    """What :func:`open_index` did: loaded, updated incrementally or rebuilt."""

    index: NameIndex
    directory: Path
    action: str  # loaded, updated, built
    added: int = 0


def open_index(
    registry: Registry, directory: Path | None = None, rebuild: bool = False
) -> IndexState:
    """The registry's index, brought up to date (incrementally when only names were added)."""
    directory = directory or index_dir_for(registry.url)
    with registry.transaction() as session:
        current = _watermark(session)
        index = None if rebuild else NameIndex.load(directory)
        if index is not None:
            seen = index.watermark
            if current.to_dict() == seen.to_dict():
                return IndexState(index, directory, "loaded")
            grew_only = (
                current.max_name_id >= seen.max_name_id
                and current.name_count - seen.name_count == _count_after(session, seen.max_name_id)
                and current.entity_count >= seen.entity_count
                and current.identifier_count >= seen.identifier_count
            )
            if grew_only:
                added = index.add_records(_registry_records(session, seen.max_name_id))
                index.watermark = current
                if current.identifier_count != seen.identifier_count:
                    index.identifiers = _registry_identifiers(session)
                if not index.needs_rebuild():
                    index.save_delta(directory)
                    return IndexState(index, directory, "updated", added)
        index = build_from_registry(session)
    index.save(directory)
    loaded = NameIndex.load(directory) or index
    return IndexState(loaded, directory, "built", loaded.size)


def _count_after(session: Session, name_id: int) -> int:
    from sqlalchemy import func, select

    from listwatch.registry.models import EntityName

    return int(
        session.scalar(select(func.count(EntityName.id)).where(EntityName.id > name_id)) or 0
    )
