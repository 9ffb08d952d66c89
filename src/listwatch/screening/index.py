"""The screening index: every name and identifier of the registry, blocked for fast lookup.

Built once from the registry and persisted as flat arrays (numpy ``.npy`` files opened by
memory map, so a worker process loads it in milliseconds and processes share its pages).
Names are blocked under several keys each — identifying tokens, their metaphone, their
first four letters, Arabic-script consonant skeletons, the run-together core ("xiaomi"),
initials ("smic") and the native Han/Kana/Hangul form — hashed to 64 bits. A query
collects the postings of its own keys (rarest first, within a budget), ranks names by the
summed rarity of the keys they share, and only the best few are scored in full.

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
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from listwatch.screening.normalize import (
    LEGAL,
    PARTICLE,
    AnalyzedName,
    analyze_name,
    name_shape,
    phonetic_key,
    restore_analysis,
    skeleton,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from listwatch.registry.db import Registry

INDEX_VERSION = 11
MAX_POSTINGS = 60_000  # postings read per query before common keys are skipped
DELTA_SHARE = 0.05


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "little")


def blocking_groups(name: AnalyzedName) -> list[list[str]]:
    """The keys a name is filed under, grouped: one group per identifying token (the token,
    its metaphone, its first letters, its consonant skeleton), then one group per key of
    the whole name (run-together core, initials, native script). A query counts the best
    key of each group once, so a common word does not weigh four times."""
    groups: list[list[str]] = []
    core = name.core or tuple(t for t, k in zip(name.tokens, name.kinds, strict=True) if k != LEGAL)
    core = core or name.tokens
    for token in dict.fromkeys(core):
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
            loose = loose_skeleton(token)
            if len(loose) >= 2 and len(token) >= 4:
                group.append("l:" + loose[:5])
        groups.append(group)
    if name.script == "Hani" and len(core) > 1:
        # pinyin syllables: "da lian" is written "Dalian" in Latin names
        groups.append(["t:" + a + b for a, b in itertools.pairwise(core)])
    if name.compact:
        groups.append(["c:" + name.compact])
    # The consonants of the whole name run together: spellings that split or join words
    # differently, or drop vowels (Arabic script), still agree ("hdayt allh", "hidayatullah").
    every = "".join(t for t, k in zip(name.tokens, name.kinds, strict=True) if k != LEGAL)
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


_LOOSE = (
    ("kh", "h"),
    ("ch", "h"),
    ("sh", "h"),
    ("zh", "h"),
    ("ts", "c"),
    ("ck", "k"),
    ("c", "k"),
    ("q", "k"),
    ("ph", "f"),
    ("w", "v"),
    ("j", "y"),
    ("x", "ks"),
)


def loose_skeleton(token: str) -> str:
    """Consonants of a token after folding transliteration variants (kh/ch/h, ts/c/k, w/v):
    "tekhnodron" and "technodron" both give ``thndrn``."""
    for source, target in _LOOSE:
        token = token.replace(source, target)
    return skeleton(token)


def token_group_count(name: AnalyzedName) -> int:
    """How many identifying tokens a name has (its token groups in :func:`blocking_groups`)."""
    core = name.core or tuple(t for t, k in zip(name.tokens, name.kinds, strict=True) if k != LEGAL)
    return len(dict.fromkeys(core or name.tokens))


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

    def __getitem__(self, index: int) -> str:
        start, end = int(self.offsets[index]), int(self.offsets[index + 1])
        return bytes(self.blob[start:end]).decode("utf-8")

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
class NameIndex:
    """Blocked names and identifiers of a registry (see the module docstring)."""

    entity_ids: _Strings
    entity_schemas: _Strings
    entity_countries: _Strings
    names: _Strings
    forms: _Strings
    shapes: _Strings
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
    _delta_tokens: list[int] = field(default_factory=list)
    _delta_keys: dict[int, list[int]] = field(default_factory=dict)

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        records: Iterable[NameRecord],
        identifiers: dict[str, list[str]] | None = None,
        watermark: Watermark | None = None,
        progress: Any = None,
    ) -> NameIndex:
        """Index names (each analysed under its entity's schema) and identifier keys."""
        entity_pos: dict[str, int] = {}
        entity_ids: list[str] = []
        entity_schemas: list[str] = []
        entity_countries: list[str] = []
        names: list[str] = []
        forms: list[str] = []
        shapes: list[str] = []
        name_entity: list[int] = []
        name_kind: list[int] = []
        token_rows: list[np.ndarray] = []
        key_rows: list[np.ndarray] = []
        name_rows: list[np.ndarray] = []
        seen: set[tuple[int, str]] = set()
        kind_code = {k: i for i, k in enumerate(KINDS)}
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
            analyzed = analyze_name(text, record.schema)
            groups = blocking_groups(analyzed)
            keys = {key for group in groups for key in group}
            if not keys:
                continue
            index = len(names)
            names.append(text)
            forms.append(analyzed.normalized)
            shapes.append(name_shape(analyzed))
            name_entity.append(pos)
            name_kind.append(kind_code.get(record.kind, kind_code["other"]))
            token_rows.append(
                np.fromiter(
                    (_hash(g[0]) for g in groups[: token_group_count(analyzed)]),
                    dtype=np.uint64,
                )
            )
            hashes = np.fromiter((_hash(k) for k in keys), dtype=np.uint64, count=len(keys))
            key_rows.append(hashes)
            name_rows.append(np.full(len(hashes), index, dtype=np.int32))
            if progress is not None:
                progress(1)
        if key_rows:
            all_keys = np.concatenate(key_rows)
            all_names = np.concatenate(name_rows)
        else:
            all_keys = np.zeros(0, np.uint64)
            all_names = np.zeros(0, np.int32)
        order = np.lexsort((all_names, all_keys))
        all_keys, all_names = all_keys[order], all_names[order]
        unique_keys, starts = np.unique(all_keys, return_index=True)
        offsets = np.append(starts, len(all_keys)).astype(np.int64)
        # Each name's norm: the summed rarity of its identifying tokens (for a weighted Dice).
        frequencies = np.diff(offsets)
        norms = np.zeros(len(names), dtype=np.float32)
        if token_rows:
            lengths = np.array([len(r) for r in token_rows])
            token_hashes = np.concatenate(token_rows)
            position = np.searchsorted(unique_keys, token_hashes)
            rarity = np.log1p(max(1, len(names)) / frequencies[position])
            owners = np.repeat(np.arange(len(names)), lengths)
            norms = np.bincount(owners, weights=rarity, minlength=len(names)).astype(np.float32)
        return cls(
            entity_ids=_Strings.build(entity_ids),
            entity_schemas=_Strings.build(entity_schemas),
            entity_countries=_Strings.build(entity_countries),
            names=_Strings.build(names),
            forms=_Strings.build(forms),
            shapes=_Strings.build(shapes),
            name_entity=np.asarray(name_entity, dtype=np.int32),
            name_kind=np.asarray(name_kind, dtype=np.int8),
            name_norms=norms,
            key_hashes=unique_keys,
            key_offsets=offsets,
            postings=all_names.astype(np.int32),
            identifiers=identifiers or {},
            watermark=watermark or Watermark(),
        )

    # ------------------------------------------------------------------ persistence

    _ARRAYS = (
        "name_entity",
        "name_kind",
        "name_norms",
        "key_hashes",
        "key_offsets",
        "postings",
    )
    _STRINGS = ("entity_ids", "entity_schemas", "entity_countries", "names", "forms", "shapes")

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
            keys = blocking_keys(analyzed)
            position = len(self.names) + len(self.delta_records)
            self._delta_forms.append(analyzed.normalized)
            self._delta_shapes.append(name_shape(analyzed))
            self._delta_tokens.append(token_group_count(analyzed))
            self.delta_records.append(
                NameRecord(record.entity_id, text, record.schema, record.kind, record.country)
            )
            for key in keys:
                self._delta_keys.setdefault(_hash(key), []).append(position)
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

    def _rarity(self, key: str) -> float:
        found = len(self._key_postings(key))
        return math.log1p(max(1, self.size) / max(1, found))

    def _norm(self, name: AnalyzedName) -> float:
        groups = blocking_groups(name)[: token_group_count(name)]
        return sum(self._rarity(group[0]) for group in groups)

    def _norms(self, ids: np.ndarray) -> np.ndarray:
        base = len(self.names)
        if not self._delta_tokens or int(ids.max(initial=0)) < base:
            return np.asarray(self.name_norms[ids], dtype=np.float64)
        delta = np.asarray(self._delta_tokens, dtype=np.int64)
        inside = ids < base
        out = np.empty(len(ids), dtype=np.float64)
        out[inside] = self.name_norms[ids[inside]]
        out[~inside] = delta[ids[~inside] - base]
        return out

    def analysis(self, name_index: int, name: str, schema: str) -> AnalyzedName:
        """The stored analysis of an indexed name (rebuilt without normalising again)."""
        base = len(self.names)
        if name_index >= base:
            form, shape = (
                self._delta_forms[name_index - base],
                self._delta_shapes[name_index - base],
            )
        else:
            form, shape = self.forms[name_index], self.shapes[name_index]
        return restore_analysis(name, schema, form, shape)

    def form(self, name_index: int) -> str:
        """The matching form (ASCII tokens) of an indexed name."""
        base = len(self.names)
        if name_index >= base:
            return self._delta_forms[name_index - base]
        return self.forms[name_index]

    def _postings(self, key_hash: int) -> np.ndarray:
        position = int(np.searchsorted(self.key_hashes, np.uint64(key_hash)))
        if position < len(self.key_hashes) and int(self.key_hashes[position]) == key_hash:
            return np.asarray(
                self.postings[self.key_offsets[position] : self.key_offsets[position + 1]]
            )
        return np.zeros(0, dtype=np.int32)

    def _key_postings(self, key: str) -> np.ndarray:
        key_hash = _hash(key)
        found = self._postings(key_hash)
        extra = self._delta_keys.get(key_hash)
        if extra:
            found = np.concatenate([found, np.asarray(extra, dtype=np.int32)])
        return found

    def candidates(self, query: AnalyzedName, limit: int = 12) -> list[Candidate]:
        """The names most like ``query`` among those sharing its rarest keys (at most ``limit``).

        Each name sharing keys gets the sum over the query's key groups of the rarity
        (``log(1 + N / df)``) of the best key it shares in that group, relative to the best
        such sum, plus the Dice overlap of identifying tokens (matched token groups against
        both names' token counts), so a short name inside a long one ranks high.
        """
        total = max(1, self.size)
        groups = blocking_groups(query)
        token_groups = token_group_count(query)
        lists: list[tuple[int, float, np.ndarray]] = []
        for number, group in enumerate(groups):
            for key in group:
                found = self._key_postings(key)
                if len(found):
                    weight = math.log(1 + total / len(found))
                    if key.startswith(("c:", "n:")):
                        weight *= 2  # the whole name agrees
                    lists.append((number, weight, found))
        if not lists:
            return []
        lists.sort(key=lambda item: len(item[2]))
        chosen: list[tuple[int, float, np.ndarray]] = []
        budget = 0
        for item in lists:
            if chosen and budget + len(item[2]) > MAX_POSTINGS:
                continue
            chosen.append(item)
            budget += len(item[2])
        all_ids = np.concatenate([f for _, _, f in chosen]).astype(np.int64)
        all_weights = np.concatenate([np.full(len(f), w) for _, w, f in chosen])
        all_groups = np.concatenate([np.full(len(f), g, dtype=np.int64) for g, _, f in chosen])
        # best key per (name, group), then sums over groups
        pair = all_ids * 1024 + all_groups
        order = np.lexsort((-all_weights, pair))
        pair, all_weights, all_ids, all_groups = (
            pair[order],
            all_weights[order],
            all_ids[order],
            all_groups[order],
        )
        first = np.ones(len(pair), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        ids, inverse = np.unique(all_ids[first], return_inverse=True)
        np.bincount(inverse, weights=all_weights[first])
        in_token_group = all_groups[first] < token_groups
        shared = np.bincount(inverse, weights=all_weights[first] * in_token_group)
        whole = np.bincount(inverse, weights=(~in_token_group).astype(np.float64))
        query_norm = sum(self._rarity(g[0]) for g in groups[:token_groups])
        rank = 2 * shared / (query_norm + np.maximum(self._norms(ids), 1e-3)) + 0.5 * (whole > 0)
        top = np.argpartition(-rank, limit - 1)[:limit] if len(ids) > limit else np.arange(len(ids))
        ordered = sorted(top.tolist(), key=lambda i: (-float(rank[i]), int(ids[i])))
        out = []
        for i in ordered:
            record = self.record(int(ids[i]))
            out.append(
                Candidate(
                    name_index=int(ids[i]),
                    entity_id=record.entity_id,
                    name=record.name,
                    schema=record.schema,
                    kind=record.kind,
                    country=record.country,
                    blocking=float(rank[i]),
                )
            )
        return out

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
