"""Name-matching evaluation: listwatch's scorer against nomenklatura's logic-v2 on labelled pairs.

    python -m benchmarks.eval_names [PAIRS.csv] [--fit]

Reads ``../shared/data/names/pairs_dev.csv`` (columns schema,name1,name2,is_match,source),
splits it deterministically into a tuning part and a held-out part (a hash of each pair),
scores every pair with listwatch (the same code as ``listwatch compare-batch``) and with
logic-v2 (a fresh entity id per comparison), and prints precision, recall and F1 at each
matcher's default threshold, per schema and split, the precision/recall curve, and the
blocking recall of the screening index. ``--fit`` refits the weights on the tuning part
first (``src/listwatch/screening/data/weights.json``). Figures go to the "names" section
of docs/benchmarks.md.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from benchmarks.common import SHARED, write_section
from listwatch.screening.compare import compare_names, default_model
from listwatch.screening.evaluate import (
    Metrics,
    Pair,
    fit_model,
    listwatch_scores,
    load_pairs,
    metrics,
    peer_scorer,
    pr_curve,
    save_model,
)
from listwatch.screening.screen import CANDIDATES

PEER = "logic-v2"
PEER_THRESHOLD = 0.7
CURVE = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def blocking_recall(pairs: Sequence[Pair], limit: int) -> tuple[int, int]:
    """Of the true pairs the scorer accepts, how many the index would not propose.

    Every distinct name is indexed once; each accepted pair is looked up from both sides.
    ``limit`` is the number of candidates screening scores in full (0: no cut, which
    measures candidate generation alone).
    """
    from listwatch.screening.index import NameIndex, NameRecord
    from listwatch.screening.normalize import analyze_name

    threshold = default_model().threshold
    records: dict[tuple[str, str], NameRecord] = {}
    for pair in pairs:
        for name in (pair.name1, pair.name2):
            records.setdefault(
                (name, pair.schema), NameRecord(f"{pair.schema}:{name}", name, pair.schema)
            )
    index = NameIndex.build(records.values())
    lost = total = 0
    for pair in pairs:
        if (
            not pair.is_match
            or compare_names(pair.name1, pair.name2, pair.schema).score < threshold
        ):
            continue
        for query, target in ((pair.name1, pair.name2), (pair.name2, pair.name1)):
            total += 1
            found = index.candidates(analyze_name(query, pair.schema), limit or index.size)
            if target not in {c.name for c in found}:
                lost += 1
    return lost, total


def _row(label: str, m: Metrics) -> str:
    count = m.tp + m.fp + m.fn + m.tn
    return f"| {label} | {m.precision:.3f} | {m.recall:.3f} | {m.f1:.3f} | {count} |"


def evaluate(path: Path, fit: bool = False) -> str:
    """Run the evaluation and return its Markdown report."""
    pairs = load_pairs(path)
    tune = [p for p in pairs if not p.held_out]
    held = [p for p in pairs if p.held_out]
    if fit:
        save_model(fit_model(tune))
        default_model.cache_clear()
    threshold = default_model().threshold
    start = time.perf_counter()
    ours = listwatch_scores(pairs)
    ours_time = (time.perf_counter() - start) / len(pairs)
    peer = peer_scorer(PEER)
    start = time.perf_counter()
    theirs = [peer(p) for p in pairs]
    peer_time = (time.perf_counter() - start) / len(pairs)

    lines = [
        f"Labelled pairs: `{path.name}` ({len(pairs)} pairs, "
        f"{sum(p.is_match for p in pairs)} true), "
        f"split by a hash of each pair into tuning ({len(tune)}) and held-out ({len(held)}); "
        "the weights were fitted on the tuning part only. listwatch at its default threshold "
        f"{threshold}, {PEER} (nomenklatura) at {PEER_THRESHOLD}.",
        "",
        "| split / matcher | precision | recall | F1 | pairs |",
        "|---|---|---|---|---|",
    ]
    summary: dict[str, tuple[Metrics, Metrics]] = {}
    for label, selector in (
        ("tuning", lambda p: not p.held_out),
        ("held-out", lambda p: p.held_out),
        ("all", lambda p: True),
    ):
        chosen = [i for i, p in enumerate(pairs) if selector(p)]
        labels = [pairs[i].is_match for i in chosen]
        m_ours = metrics(labels, [ours[i] for i in chosen], threshold)
        m_peer = metrics(labels, [theirs[i] for i in chosen], PEER_THRESHOLD)
        summary[label] = (m_ours, m_peer)
        lines.append(_row(f"{label} · listwatch", m_ours))
        lines.append(_row(f"{label} · {PEER}", m_peer))
    lines += ["", "F1 gain over the peer (goal ≥ +0.15, with precision not below the peer's):", ""]
    for label, (m_ours, m_peer) in summary.items():
        verdict = (
            "met"
            if m_ours.f1 - m_peer.f1 >= 0.15 and m_ours.precision >= m_peer.precision
            else "NOT met"
        )
        gain_f1 = m_ours.f1 - m_peer.f1
        gain_p = m_ours.precision - m_peer.precision
        lines.append(f"- {label}: F1 {gain_f1:+.3f}, precision {gain_p:+.3f} ({verdict})")
    lines += [
        "",
        "Per schema, held-out split:",
        "",
        "| schema | listwatch P / R / F1 | logic-v2 P / R / F1 | pairs |",
        "|---|---|---|---|",
    ]
    by_schema: dict[str, list[int]] = defaultdict(list)
    for i, p in enumerate(pairs):
        if p.held_out:
            by_schema[p.schema].append(i)
    for schema, chosen in sorted(by_schema.items()):
        labels = [pairs[i].is_match for i in chosen]
        a = metrics(labels, [ours[i] for i in chosen], threshold)
        b = metrics(labels, [theirs[i] for i in chosen], PEER_THRESHOLD)
        lines.append(
            f"| {schema} | {a.precision:.2f} / {a.recall:.2f} / {a.f1:.2f} | "
            f"{b.precision:.2f} / {b.recall:.2f} / {b.f1:.2f} | {len(chosen)} |"
        )
    lines += [
        "",
        "Precision / recall curve (all pairs):",
        "",
        "| threshold | listwatch P / R | logic-v2 P / R |",
        "|---|---|---|",
    ]
    labels = [p.is_match for p in pairs]
    for (t, a), (_, b) in zip(
        pr_curve(labels, ours, CURVE), pr_curve(labels, theirs, CURVE), strict=True
    ):
        lines.append(
            f"| {t:.1f} | {a.precision:.3f} / {a.recall:.3f} | {b.precision:.3f} / {b.recall:.3f} |"
        )
    lost_all, total = blocking_recall(pairs, 0)
    lost_cut, _ = blocking_recall(pairs, CANDIDATES)
    lines += [
        "",
        "Blocking recall on the true pairs listwatch accepts "
        f"({total} look-ups, each name indexed once): "
        f"candidate generation misses {lost_all} ({lost_all / max(1, total):.2%}); "
        f"after the cut to the {CANDIDATES} best-ranked candidates that screening scores, "
        f"{lost_cut} "
        f"({lost_cut / max(1, total):.2%}) are missed.",
        "",
        f"Time per pair: listwatch {ours_time * 1e6:.0f} µs, {PEER} {peer_time * 1e6:.0f} µs "
        f"(ratio {peer_time / ours_time:.1f}×; "
        + (
            "listwatch's names already analysed by the fit)."
            if fit
            else "each name analysed for the first time)."
        ),
        "",
        "Reproduce: `python -m benchmarks.eval_names` (add `--fit` to refit the weights on the "
        "tuning split first).",
    ]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    """Entry point."""
    args = [a for a in argv if not a.startswith("--")]
    path = Path(args[0]) if args else SHARED / "data" / "names" / "pairs_dev.csv"
    if not path.exists():
        print(f"labelled pairs not found at {path}; nothing to evaluate")
        return
    report = evaluate(path, fit="--fit" in argv)
    print(report)
    write_section("names", "## Names (matching evaluation)\n\n" + report)


if __name__ == "__main__":
    main(sys.argv[1:])
