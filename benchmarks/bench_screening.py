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
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import SHARED, TreeMemory, percentile, write_section

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
    """Child process: generate, build and save the index; report time and peak memory
    (of this process and of the largest of its build workers)."""
    from listwatch.screening.index import NameIndex, NameRecord

    names = generate_names(size)
    before = _maxrss_mib()
    start = time.perf_counter()
    records = (NameRecord(f"gen-{i}", n, "Company", "primary") for i, n in enumerate(names))
    index = NameIndex.build(records)
    index.save(Path(directory))
    seconds = time.perf_counter() - start
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    queue.put(
        {"seconds": seconds, "peak_mib": _maxrss_mib(), "before_mib": before, "worker_mib": workers}
    )


def _latency(index: Any, queries: list[tuple[str, str | None]]) -> tuple[list[float], int, int]:
    """Seconds per query (matching and the explanation of every hit returned, as the API
    and the CLI give them), perturbed queries whose source entity is among the hits, and
    unrelated queries with a hit (false alarms)."""
    from listwatch.screening.screen import Query, Screener

    screener = Screener(index)
    times = []
    own = alarms = 0
    for text, source in queries:
        start = time.perf_counter()
        hits = screener.match(Query(name=text, limit=5))
        for hit in hits:
            hit.to_dict()
        times.append(time.perf_counter() - start)
        if source is None:
            alarms += bool(hits)
        else:
            own += any(h.entity_id == source for h in hits)
    return times, own, alarms


_bench_index: dict[str, Any] = {}


def _batch_init(directory: str) -> None:
    from listwatch.screening.index import NameIndex
    from listwatch.screening.screen import Screener

    index = NameIndex.load(Path(directory))
    assert index is not None
    _bench_index["screener"] = Screener(index)


def _batch_chunk(names: list[str]) -> float:
    """What screen-batch does with a chunk of rows, but the registry look-ups: match them
    together, and explain each row's best hit (the others are listed by id and score).
    Returns the CPU seconds taken."""
    from listwatch.screening.batch import collector_paused, hit_records
    from listwatch.screening.screen import Query

    screener = _bench_index["screener"]
    start = time.process_time()
    with collector_paused():
        for hits in screener.match_many([Query(name=name, limit=5) for name in names]):
            assert isinstance(hits, list)
            hit_records(hits)
    return time.process_time() - start


BATCH_RUNS = 3  # batch runs, each in fresh worker processes: the VM's noise is ±30 %
BATCH_NAMES = 10_000  # names of a batch run: 50 chunks, so the last round of chunks weighs little


def batch_throughput(
    directory: Path, names: list[str], warm_up: list[str], workers: int
) -> tuple[float, float, float, float]:
    """Names per second per core over ``workers`` processes (index loaded once per worker),
    by the clock and by the CPU time the workers used (the same when nothing else runs on
    the machine): the run with the median figure of :data:`BATCH_RUNS`, then the lowest
    and highest by the clock. Every name is distinct and each run has new workers, so no
    answer is remembered from an earlier row."""
    from listwatch.screening.batch import CHUNK

    chunks = [names[i : i + CHUNK] for i in range(0, len(names), CHUNK)]
    context = multiprocessing.get_context("fork")
    runs = []
    for _ in range(BATCH_RUNS):
        with context.Pool(workers, initializer=_batch_init, initargs=(str(directory),)) as pool:
            # warm up: each worker maps the index and loads its tables
            pool.map(_batch_chunk, [warm_up[i::workers] for i in range(workers)], chunksize=1)
            start = time.perf_counter()
            # one chunk per task, as screen-batch hands them out: a worker that is done
            # takes the next chunk instead of waiting with a share decided in advance
            cpu = sum(pool.map(_batch_chunk, chunks, chunksize=1))
            seconds = time.perf_counter() - start
        runs.append((len(names) / seconds / workers, len(names) / cpu))
    runs.sort()
    clock, per_cpu = runs[len(runs) // 2]
    return clock, per_cpu, runs[0][0], runs[-1][0]


def _queries(
    names: list[tuple[str, str]], count: int, rng: random.Random
) -> list[tuple[str, str | None]]:
    """Half perturbed names of the index (with their entity), half unrelated names."""
    queries: list[tuple[str, str | None]] = []
    for _ in range(count // 2):
        name, entity = rng.choice(names)
        queries.append((perturb(name, rng), entity))
    queries += [(u, None) for u in unrelated(count - len(queries), rng)]
    rng.shuffle(queries)
    return queries


def _distinct(queries: list[tuple[str, str | None]]) -> list[str]:
    """The query names, each once (in their order)."""
    return list(dict.fromkeys(q for q, _ in queries))


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


def _table(
    lat: list[float],
    brute: list[float],
    batch: tuple[float, float, float, float],
    workers: int,
    brute_digits: int,
) -> list[str]:
    brute_rate = 1 / (sum(brute) / len(brute))
    return [
        "| measure | listwatch index | brute force `rapidfuzz.process.extract` | ratio |",
        "|---|---|---|---|",
        f"| single query p50 (ms) | {_ms(lat, 50)} | {_ms(brute, 50)} | "
        f"{percentile(brute, 50) / percentile(lat, 50):,.0f}× |",
        f"| single query p99 (ms) | {_ms(lat, 99)} | {_ms(brute, 99)} | "
        f"{percentile(brute, 99) / percentile(lat, 99):,.0f}× |",
        f"| batch (names/s per core, {workers} workers; median of {BATCH_RUNS} runs, "
        f"{batch[2]:,.0f}–{batch[3]:,.0f}) | {batch[0]:,.0f} | "
        f"{brute_rate:,.{brute_digits}f} (one core) | {batch[0] / brute_rate:,.0f}× |",
        f"| batch (names per CPU-second of the workers) | {batch[1]:,.0f} | | |",
    ]


def _verdict(goals: list[tuple[str, bool]]) -> str:
    """Which goals this run met and which it did not, in one sentence."""
    met = [name for name, ok in goals if ok]
    missed = [name for name, ok in goals if not ok]
    parts = []
    if met:
        parts.append("met: " + ", ".join(met))
    if missed:
        parts.append("**not met: " + ", ".join(missed) + "**")
    return "In this run, " + "; ".join(parts) + "."


def main(argv: list[str]) -> None:
    """Run both cases and write the section."""
    size = int(argv[argv.index("--size") + 1]) if "--size" in argv else 1_000_000
    count = int(argv[argv.index("--queries") + 1]) if "--queries" in argv else 1000
    workers = multiprocessing.cpu_count()
    load_before = os.getloadavg()[0]
    rng = random.Random(11)
    from listwatch.registry.db import Registry
    from listwatch.screening.batch import CHUNK
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
        records_a = [index_a.record(i) for i in range(index_a.size)]
        names_a = [(r.name, r.entity_id) for r in records_a]
        warm_a = [q for q, _ in _queries(names_a, 100, rng)]
        queries_a = _queries(names_a, count, rng)
        _latency(index_a, [(q, None) for q in warm_a])  # the code's caches, not the answers
        lat_a, own_a, alarms_a = _latency(index_a, queries_a)
        forms_a = [index_a.form(i) for i in range(index_a.size)]
        brute_a = brute_force(forms_a, [q for q, _ in queries_a[:200]])
        batch_queries_a = _distinct(_queries(names_a, BATCH_NAMES, rng))
        batch_a = batch_throughput(Path(tmp) / "index-a", batch_queries_a, warm_a, workers)
        registry.dispose()
        lines += [
            f"**(a) sample lists** ({', '.join(loaded) or 'curated registry only'}; "
            f"loaded in {load_seconds:.0f} s): {index_a.size:,} names indexed in "
            f"{build_a:.1f} s.",
            "",
            *_table(lat_a, brute_a, batch_a, workers, 0),
            "",
            "Goals (a): p50 < 2 ms, p99 < 20 ms. "
            + _verdict(
                [
                    ("p50", percentile(lat_a, 50) < 0.002),
                    ("p99", percentile(lat_a, 99) < 0.020),
                ]
            )
            + f" {len(queries_a)} queries, half of them "
            "perturbed list names (typo, word order, other legal form, case), half unrelated "
            f"names: {own_a} of the {count // 2} perturbed names found the entity they came "
            f"from, and {alarms_a} of the {count - count // 2} unrelated names had a hit (a "
            "false alarm). A query's time includes the explanation "
            "of every hit returned (at most 5); a batch row's, the explanation of its best "
            f"hit. Batch: {len(batch_queries_a):,} other queries, all distinct, matched "
            f"{CHUNK} at a time as each worker of `screen-batch` matches its chunk, the chunks "
            "handed out one at a time to whichever worker is free (as `screen-batch` does). "
            "By the clock, a worker that finishes its last chunk early waits for the other; "
            "by the CPU time, it does not.",
            "",
        ]

        # (b) a generated set of company names
        directory = Path(tmp) / "index-b"
        queue: Any = multiprocessing.get_context("fork").Queue()
        child = multiprocessing.get_context("fork").Process(
            target=_build_generated, args=(size, str(directory), queue)
        )
        child.start()
        assert child.pid is not None
        with TreeMemory(child.pid) as tree:
            built = queue.get()
        child.join()
        index_b = NameIndex.load(directory)
        assert index_b is not None
        generated = [(n, f"gen-{i}") for i, n in enumerate(generate_names(size))]
        warm_b = [q for q, _ in _queries(generated, 100, rng)]
        queries_b = _queries(generated, count, rng)
        _latency(index_b, [(q, None) for q in warm_b])
        lat_b, own_b, alarms_b = _latency(index_b, queries_b)
        forms_b = [index_b.form(i) for i in range(index_b.size)]
        brute_b = brute_force(forms_b, [q for q, _ in queries_b[:10]])
        del forms_b
        batch_queries_b = _distinct(_queries(generated, BATCH_NAMES, rng))
        del generated
        batch_b = batch_throughput(directory, batch_queries_b, warm_b, workers)
        size_mib = sum(f.stat().st_size for f in directory.iterdir()) / 2**20
        bound = built["peak_mib"] + workers * built["worker_mib"]
        lines += [
            f"**(b) {size:,} generated company names** (invented brands, places and trade "
            "words, 35 legal forms of many countries, 4 % in Han and 4 % in Cyrillic script): "
            f"index built in {built['seconds']:.0f} s on {workers} processes; peak memory of "
            f"the build, all its processes together, **{tree.peak_mib:,.0f} MiB** "
            f"({tree.peak_mib * 2**20 / 1e9:.2f} GB; proportional set sizes summed, sampled "
            f"{tree.samples:,} times). Each process's own peak resident size: "
            f"{built['peak_mib']:,.0f} MiB for the building process (the generated names "
            f"included), {built['worker_mib']:,.0f} MiB for the largest of its {workers} "
            f"workers; their sum, {bound:,.0f} MiB, counts twice the pages a forked worker "
            f"shares with its parent. {size_mib:,.0f} MiB on disk (memory-mapped by each "
            "screening worker).",
            "",
            *_table(lat_b, brute_b, batch_b, workers, 1),
            "",
            "Goals (b): p50 < 5 ms, p99 < 25 ms, batch ≥ 2,000 names/s per core, index built "
            "in < 2 min and < 3 GB. "
            + _verdict(
                [
                    ("p50", percentile(lat_b, 50) < 0.005),
                    ("p99", percentile(lat_b, 99) < 0.025),
                    ("batch (the median run by the clock)", batch_b[0] >= 2000),
                    ("build time", built["seconds"] < 120),
                    ("build memory", tree.peak_mib * 2**20 < 3e9),
                ]
            )
            + f" {len(queries_b)} queries as in (a): {own_b} of the "
            f"{count // 2} perturbed names found the name they came from, and {alarms_b} of the "
            f"{count - count // 2} unrelated names had a hit. The unrelated names are two "
            "invented words run together, of the same syllables as the generated brands, so "
            "many begin with a brand of the registry. Batch: "
            f"{len(batch_queries_b):,} other queries, all distinct. Brute force timed on 10 "
            "queries.",
            "",
            f"Reproduce: `python -m benchmarks.bench_screening` (`--size {size}` "
            f"`--queries {count}`). Run on {dt.date.today().isoformat()}; 1-minute load "
            f"average {load_before:.1f} before the run (other work on the machine) and "
            f"{os.getloadavg()[0]:.1f} at its end (its own processes included).",
        ]
    report = "\n".join(lines)
    print(report)
    write_section("screening", report)


if __name__ == "__main__":
    main(sys.argv[1:])
