"""Coverage-guided fuzzing of the official-list loaders and the article readers (atheris).

    python -m tests.scale.fuzz loaders -max_total_time=600        # every loader
    python -m tests.scale.fuzz loaders:un-xml -max_total_time=600 # one format
    python -m tests.scale.fuzz news -max_total_time=600           # readers + cleaner

Arguments after the target go to libFuzzer (``-max_total_time``, ``-jobs``, ``-dict`` ...).
The corpus starts from the valid files of :mod:`tests.scale.seeds` (written to
``$TMPDIR/listwatch-fuzz/<target>/`` unless a corpus directory is given); a crash — any
exception other than the documented one-line errors, or an error of several lines — is
saved by libFuzzer as
``crash-<hash>`` in the working directory. Replay one with
``python -m tests.scale.fuzz loaders crash-<hash>``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

NEWS_NAMES = ("a.txt", "a.html", "a.jsonl", "a.rss")


def _corpus(target: str, formats: list[str]) -> Path:
    from tests.scale.seeds import SEEDS

    directory = Path(tempfile.gettempdir()) / "listwatch-fuzz" / target.replace(":", "-")
    directory.mkdir(parents=True, exist_ok=True)
    if target.startswith("loaders"):
        for number, fmt in enumerate(formats):
            (directory / f"seed-{fmt}").write_bytes(bytes([number]) + SEEDS[fmt].data)
    else:
        samples = (
            b"date 2021-01-15\nPentagon adds Xiaomi\n\nThe Pentagon added Xiaomi to its list.",
            b"<html><body><article><p>Xiaomi was added to the Entity List.</p></article>",
            b'{"text": "Xiaomi was removed from the list.", "published": "2021-05"}\n',
            b"<rss><channel><item><title>DJI</title><link>https://x.example/a</link></item>"
            b"</channel></rss>",
        )
        for number, sample in enumerate(samples):
            (directory / f"seed-{number}").write_bytes(bytes([number]) + sample)
    return directory


def main() -> None:
    """Run one target under atheris."""
    import atheris

    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    target = sys.argv[1]
    # Only listwatch's readers are instrumented; what they build on is imported first.
    import lxml.etree  # noqa: F401
    import sqlalchemy  # noqa: F401
    import trafilatura  # noqa: F401

    import listwatch.registry.db  # noqa: F401

    with atheris.instrument_imports(include=["listwatch.sources", "listwatch.news"]):
        from tests.scale.hostile import check_cleaner, check_document, check_loader
        from tests.scale.seeds import SEEDS

        from listwatch.news import clean, documents  # noqa: F401
        from listwatch.sources import (  # noqa: F401
            bis_dpl,
            catalog,
            csl,
            eu,
            fileio,
            ftm,
            ofac_csv,
            ofac_xml,
            uk,
            un,
        )

    formats = sorted(SEEDS)
    if target.startswith("loaders:"):
        formats = [target.split(":", 1)[1]]
        if formats[0] not in SEEDS:
            raise SystemExit(f"unknown format {formats[0]!r} (one of {', '.join(sorted(SEEDS))})")
    elif target not in ("loaders", "news"):
        raise SystemExit(f"unknown target {target!r}: loaders, loaders:FORMAT or news")

    if target == "news":
        from listwatch.news.langpack import load_pack, supported_languages

        packs = [load_pack(code) for code in supported_languages()]

        def one_input(data: bytes) -> None:
            if not data:
                return
            check_document(data[1:], NEWS_NAMES[data[0] % len(NEWS_NAMES)])
            check_cleaner(data[1:].decode("utf-8", "replace"), packs)

    else:

        def one_input(data: bytes) -> None:
            if not data:
                return
            check_loader(SEEDS[formats[data[0] % len(formats)]], data[1:])

    arguments = [sys.argv[0], *sys.argv[2:]]
    if not any(not a.startswith("-") for a in sys.argv[2:]):
        arguments.append(str(_corpus(target, formats)))
    atheris.Setup(arguments, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
