"""Screening speed: single-query latency, batch throughput, index build time and memory.

    python -m benchmarks.bench_screening [--size N] [--queries Q]

(a) the registry with the sample official lists loaded through listwatch's own loaders
    (OFAC SDN, Consolidated Screening List, UN, BIS DPL from ../shared/data/lists), and
(b) a generated set of N (default 1,000,000) company names with legal forms of many
    countries, some in Cyrillic and Han script, indexed directly.

Compared in the same run with a brute-force ``rapidfuzz.process.extract`` over every
indexed matching form (what a screener without blocking does). Figures go to the
"screening" section of docs/benchmarks.md.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHARED, percentile, write_section

LEGAL_FORMS = [
    "Co., Ltd.", "Limited", "LLC", "Inc.", "Corp.", "Corporation", "GmbH", "AG", "GmbH & Co. KG",
    "S.A.", "S.p.A.", "S.R.L.", "B.V.", "N.V.", "A/S", "ApS", "AB", "Oy", "AS", "OOO", "AO",
    "PJSC", "JSC", "Sp. z o.o.", "Kft.", "Pte. Ltd.", "Sdn Bhd", "S.A. de C.V.", "Ltda.", "PLC",
    "SARL", "SAS", "K.K.", "Group Co., Ltd.", "Holdings Limited",
]  # fmt: skip
WORDS = [
    "Technology", "Trading", "Industrial", "Electronics", "Shipping", "Energy", "Mining",
    "International", "Engineering", "Logistics", "Machinery", "Aerospace", "Chemical", "Import",
    "Export", "Investment", "Development", "Construction", "Semiconductor", "Precision",
    "Optical", "Marine", "Petroleum", "Systems", "Software", "Medical", "Research", "Instruments",
]  # fmt: skip
PLACES = [
    "Shenzhen", "Beijing", "Shanghai", "Hangzhou", "Moscow", "Hamburg", "Rotterdam", "Dubai",
    "Tehran", "Istanbul", "Minsk", "Almaty", "Singapore", "Hong Kong", "Caracas", "Pyongyang",
]  # fmt: skip
SYLLABLES = [
    "ka", "ro", "vin", "tek", "sa", "lo", "mar", "zen", "do", "tri", "bel", "an", "gor", "ix",
    "ne", "ul", "pra", "vo", "sti", "mek", "ra", "lin", "dor", "ha", "qi", "xu", "zhi", "yun",
    "feng", "long", "hua", "tai", "sun", "kor", "ev", "ost", "nor", "dal", "ber", "kin",
]  # fmt: skip
CYRILLIC = str.maketrans("aekmnoprstuvl", "аекмнорпстувл")
HAN = "华中国海天龙新东方科技电子能源机械贸易航运化工光学精密软件医疗研究仪器"


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 2, 3, 3, 4)))).title()


def generate_names(count: int, seed: int = 7) -> list[str]:
    """Company names: 1-2 invented words, often a place and trade words, a legal form."""
    rng = random.Random(seed)
    brands = [_word(rng) for _ in range(max(1000, count // 4))]
    names = []
    for _ in range(count):
        roll = rng.random()
        if roll < 0.04:
            han = "".join(rng.choice(HAN) for _ in range(rng.randint(3, 7)))
            names.append(han + rng.choice(("有限公司", "股份有限公司", "集团有限公司")))
            continue
        parts = [rng.choice(brands)]
        if rng.random() < 0.4:
            parts.append(rng.choice(brands))
        if rng.random() < 0.35:
            parts.insert(0, rng.choice(PLACES))
        parts += rng.sample(WORDS, rng.choice((0, 1, 1, 2)))
        name = " ".join(parts) + " " + rng.choice(LEGAL_FORMS)
        if roll < 0.08:
            name = "ООО " + " ".join(parts).lower().translate(CYRILLIC).title()
        names.append(name)
    return names


def perturb(name: str, rng: random.Random) -> str:
    """A query as an analyst might type it: a typo, another legal form, words reordered."""
    words = name.split()
    kind = rng.random()
    if kind < 0.3 and len(words) > 2:
        words[0], words[1] = words[1], words[0]
    elif kind < 0.6:
        words = [w for w in words if w.rstrip(".,") not in ("Ltd", "Co", "LLC", "GmbH", "AG")]
        words.append(rng.choice(LEGAL_FORMS))
    else:
        i = rng.randrange(len(words))
        word = words[i]
        if len(word) > 4:
            j = rng.randrange(1, len(word) - 1)
            words[i] = word[:j] + word[j + 1 :]
    return " ".join(words).upper() if rng.random() < 0.3 else " ".join(words)


def unrelated(count: int, rng: random.Random) -> list[str]:
    """Names of companies that are on no list."""
    return [f"{_word(rng)}{_word(rng).lower()} {rng.choice(LEGAL_FORMS)}" for _ in range(count)]


# --------------------------------------------------------------------------- measurement


def _maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build_generated(size: int, directory: str, queue: Any) -> None:
    """Child process: generate, build and save the index; report time and peak memory."""
    from listwatch.screening.index import NameIndex, NameRecord

    names = generate_names(size)
    before = _maxrss_mib()
    start = time.perf_counter()
    records = (NameRecord(f"gen-{i}", n, "Company", "primary") for i, n in enumerate(names))
    index = NameIndex.build(records)
    index.save(Path(directory))
    seconds = time.perf_counter() - start
    queue.put({"seconds": seconds, "peak_mib": _maxrss_mib(), "before_mib": before})


def _latency(index: Any, queries: list[str]) -> tuple[list[float], int]:
    from listwatch.screening.screen import Query, Screener

    screener = Screener(index)
    times = []
    found = 0
    for text in queries:
        start = time.perf_counter()
        hits = screener.match(Query(name=text, limit=5))
        times.append(time.perf_counter() - start)
        found += bool(hits)
    return times, found


_bench_index: dict[str, Any] = {}


def _batch_init(directory: str) -> None:
    from listwatch.screening.index import NameIndex
    from listwatch.screening.screen import Screener

    index = NameIndex.load(Path(directory))
    assert index is not None
    _bench_index["screener"] = Screener(index)


def _batch_chunk(names: list[str]) -> int:
    from listwatch.screening.screen import Query

    screener = _bench_index["screener"]
    return sum(bool(screener.match(Query(name=n, limit=5))) for n in names)


def batch_throughput(directory: Path, names: list[str], workers: int) -> float:
    """Names per second per core over ``workers`` processes (index loaded once per worker)."""
    chunks = [names[i : i + 200] for i in range(0, len(names), 200)]
    context = multiprocessing.get_context("fork")
    with context.Pool(workers, initializer=_batch_init, initargs=(str(directory),)) as pool:
        pool.map(_batch_chunk, chunks[:workers])  # warm up: each worker maps the index
        start = time.perf_counter()
        pool.map(_batch_chunk, chunks)
        seconds = time.perf_counter() - start
    return len(names) / seconds / workers


def brute_force(forms: list[str], queries: list[str]) -> list[float]:
    """Seconds per query of rapidfuzz.process.extract over every form."""
    from rapidfuzz import fuzz, process

    from listwatch.screening.normalize import normalize_name

    times = []
    for text in queries:
        start = time.perf_counter()
        process.extract(normalize_name(text), forms, scorer=fuzz.WRatio, limit=5)
        times.append(time.perf_counter() - start)
    return times


def _ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:.2f}"


def load_sample_lists(registry: Any) -> list[str]:
    """Import the sample official lists with listwatch's loaders; returns what was loaded."""
    from listwatch.sources.engine import ImportOptions
    from listwatch.sources.importer import import_file

    lists = SHARED / "data" / "lists"
    loaded = []
    # The publication dates are those of the snapshots (see ../shared/data/MANIFEST.md).
    for source, path, published in (
        ("ofac-sdn", lists / "ofac_sdn" / "2021-07-07" / "sdn.csv", dt.date(2021, 7, 7)),
        ("us-csl", lists / "csl" / "consolidated_screening_list_2022-04.csv", dt.date(2022, 4, 22)),
        ("un-sc", lists / "un" / "un_consolidated_2026-02-27.xml", dt.date(2026, 2, 27)),
        ("bis-dpl", lists / "bis_dpl" / "dpl_2023-11.txt", dt.date(2023, 11, 16)),
    ):
        if path.exists():
            import_file(registry, source, path, ImportOptions(published=published))
            loaded.append(f"{source} ({path.name})")
    return loaded


def main(argv: list[str]) -> None:
    """Run both cases and write the section."""
    size = int(argv[argv.index("--size") + 1]) if "--size" in argv else 1_000_000
    count = int(argv[argv.index("--queries") + 1]) if "--queries" in argv else 1000
    workers = multiprocessing.cpu_count()
    rng = random.Random(11)
    from listwatch.registry.db import Registry
    from listwatch.screening.index import NameIndex, open_index

    lines = ["## Screening", ""]
    with tempfile.TemporaryDirectory() as tmp:
        # (a) the registry with the sample lists
        registry = Registry(str(Path(tmp) / "registry.db"))
        start = time.perf_counter()
        loaded = load_sample_lists(registry)
        load_seconds = time.perf_counter() - start
        start = time.perf_counter()
        state = open_index(registry, Path(tmp) / "index-a", rebuild=True)
        build_a = time.perf_counter() - start
        index_a = state.index
        names_a = [index_a.record(i).name for i in range(index_a.size)]
        queries_a = [perturb(rng.choice(names_a), rng) for _ in range(count // 2)]
        queries_a += unrelated(count - len(queries_a), rng)
        rng.shuffle(queries_a)
        _latency(index_a, queries_a[:50])  # warm caches of the code, not of the answers
        lat_a, found_a = _latency(index_a, queries_a)
        forms_a = [index_a.form(i) for i in range(index_a.size)]
        brute_a = brute_force(forms_a, queries_a[:200])
        batch_a = batch_throughput(Path(tmp) / "index-a", queries_a * 2, workers)
        registry.dispose()
        lines += [
            f"**(a) sample lists** ({', '.join(loaded) or 'curated registry only'}; "
            f"loaded in {load_seconds:.0f} s): {index_a.size:,} names indexed in "
            f"{build_a:.1f} s.",
            "",
            "| measure | listwatch index | brute force `rapidfuzz.process.extract` | ratio |",
            "|---|---|---|---|",
            f"| single query p50 (ms) | {_ms(lat_a, 50)} | {_ms(brute_a, 50)} | "
            f"{percentile(brute_a, 50) / percentile(lat_a, 50):.0f}× |",
            f"| single query p99 (ms) | {_ms(lat_a, 99)} | {_ms(brute_a, 99)} | "
            f"{percentile(brute_a, 99) / percentile(lat_a, 99):.0f}× |",
            f"| batch (names/s per core, {workers} workers) | {batch_a:,.0f} | "
            f"{1 / (sum(brute_a) / len(brute_a)):,.0f} (one core) | "
            f"{batch_a * sum(brute_a) / len(brute_a):.0f}× |",
            "",
            f"Goals (a): p50 < 2 ms, p99 < 20 ms. {len(queries_a)} queries, half of them "
            f"perturbed list names (typo, word order, other legal form, case), half unrelated "
            f"names; {found_a} returned a hit.",
            "",
        ]

        # (b) a generated set of company names
        directory = Path(tmp) / "index-b"
        queue: Any = multiprocessing.get_context("fork").Queue()
        child = multiprocessing.get_context("fork").Process(
            target=_build_generated, args=(size, str(directory), queue)
        )
        child.start()
        built = queue.get()
        child.join()
        index_b = NameIndex.load(directory)
        assert index_b is not None
        generated = generate_names(size)
        queries_b = [perturb(rng.choice(generated), rng) for _ in range(count // 2)]
        queries_b += unrelated(count - len(queries_b), rng)
        rng.shuffle(queries_b)
        _latency(index_b, queries_b[:50])
        lat_b, found_b = _latency(index_b, queries_b)
        forms_b = [index_b.form(i) for i in range(index_b.size)]
        brute_b = brute_force(forms_b, queries_b[:10])
        del forms_b
        batch_b = batch_throughput(directory, queries_b * 3, workers)
        size_mib = sum(f.stat().st_size for f in directory.iterdir()) / 2**20
        lines += [
            f"**(b) {size:,} generated company names** (invented brands, places and trade "
            "words, 35 legal forms of many countries, 4 % in Han and 4 % in Cyrillic script): "
            f"index built in {built['seconds']:.0f} s, peak memory of the building process "
            f"{built['peak_mib']:,.0f} MiB, {size_mib:,.0f} MiB on disk (memory-mapped by "
            "each worker).",
            "",
            "| measure | listwatch index | brute force `rapidfuzz.process.extract` | ratio |",
            "|---|---|---|---|",
            f"| single query p50 (ms) | {_ms(lat_b, 50)} | {_ms(brute_b, 50)} | "
            f"{percentile(brute_b, 50) / percentile(lat_b, 50):.0f}× |",
            f"| single query p99 (ms) | {_ms(lat_b, 99)} | {_ms(brute_b, 99)} | "
            f"{percentile(brute_b, 99) / percentile(lat_b, 99):.0f}× |",
            f"| batch (names/s per core, {workers} workers) | {batch_b:,.0f} | "
            f"{1 / (sum(brute_b) / len(brute_b)):,.1f} (one core) | "
            f"{batch_b * sum(brute_b) / len(brute_b):,.0f}× |",
            "",
            "Goals (b): p50 < 5 ms, p99 < 25 ms, batch ≥ 2,000 names/s per core, index built "
            f"in < 2 min and < 3 GB. {len(queries_b)} queries as in (a); {found_b} returned "
            "a hit. Brute force timed on 10 queries.",
            "",
            f"Reproduce: `python -m benchmarks.bench_screening` (`--size {size}` "
            f"`--queries {count}`). Run on {dt.date.today().isoformat()}.",
        ]
    report = "\n".join(lines)
    print(report)
    write_section("screening", report)


if __name__ == "__main__":
    main(sys.argv[1:])
