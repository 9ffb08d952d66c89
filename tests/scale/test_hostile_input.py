"""Hostile input, property-based: every official-list loader and the news cleaner answer any
input with a result or their documented one-line error, never another exception, and
within bounded memory.

Loaders get damaged copies of a valid file of their format (:mod:`tests.scale.seeds`):
truncated, cut, spliced with parser-breaking tokens and random bytes, re-encoded. The
news cleaner and the article readers get arbitrary text, markup and bytes. Bombs (a huge
text node, deep nesting, a huge CSV field or JSON line) are read in a child process
whose address space is capped.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import zipfile
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.scale.hostile import (
    TOKENS,
    check_cleaner,
    check_document,
    check_loader,
    limit_memory,
    read_snapshot,
    write_snapshot,
)
from tests.scale.seeds import SEEDS, Seed

#: Examples per property: modest for CI; ``LISTWATCH_EXAMPLES=2000`` searches harder by hand.
EXAMPLES = int(os.environ.get("LISTWATCH_EXAMPLES", "40"))
BOUNDED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """``data`` after one to four damaging edits."""
    for _ in range(draw(st.integers(1, 4))):
        size = len(data)
        at = draw(st.integers(0, size))
        edit = draw(
            st.sampled_from(("truncate", "cut", "token", "bytes", "flip", "repeat", "encode"))
        )
        if edit == "truncate":
            data = data[:at]
        elif edit == "cut":
            data = data[:at] + data[at + draw(st.integers(1, 200)) :]
        elif edit == "token":
            data = data[:at] + draw(st.sampled_from(TOKENS)) + data[at:]
        elif edit == "bytes":
            data = data[:at] + draw(st.binary(min_size=1, max_size=24)) + data[at:]
        elif edit == "flip" and size:
            position = min(at, size - 1)
            data = data[:position] + bytes([draw(st.integers(0, 255))]) + data[position + 1 :]
        elif edit == "repeat":
            end = min(size, at + draw(st.integers(1, 400)))
            data = data[:end] + data[at:end] + data[end:]
        elif edit == "encode":
            text = data.decode("utf-8", "replace")
            codec = draw(st.sampled_from(("utf-16", "utf-16-be", "latin-1", "cp1252", "utf-32")))
            data = text.encode(codec, "replace")
    return data


def _loader_property(seed: Seed) -> Any:
    @BOUNDED
    @given(data=damaged(seed.data))
    def check(data: bytes) -> None:
        check_loader(seed, data)

    return check


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_loaders_on_damaged_files(fmt: str) -> None:
    seed = SEEDS[fmt]
    assert check_loader(seed, seed.data) is None, "the seed itself must be valid"
    _loader_property(seed)()


@BOUNDED
@given(data=st.binary(max_size=2000), fmt=st.sampled_from(sorted(SEEDS)))
def test_loaders_on_random_bytes(data: bytes, fmt: str) -> None:
    check_loader(SEEDS[fmt], data)


@settings(max_examples=15, deadline=None)
@given(data=damaged(SEEDS["ofac-enhanced-xml"].data), compress=st.booleans())
def test_enhanced_xml_archive(data: bytes, compress: bool) -> None:
    seed = SEEDS["ofac-enhanced-xml"]
    buffer = BytesIO()
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(buffer, "w", method) as archive:
        archive.writestr("CONS_ENHANCED.XML", data)
    check_loader(Seed(seed.source, "CONS_ENHANCED.ZIP", buffer.getvalue()), buffer.getvalue())


@BOUNDED
@given(data=damaged(SEEDS["ofac-legacy-csv"].companions[1][1]))
def test_ofac_companion_files(data: bytes) -> None:
    seed = SEEDS["ofac-legacy-csv"]
    damaged_seed = Seed(seed.source, seed.filename, seed.data, seed.published, (
        seed.companions[0], ("alt.csv", data)
    ))  # fmt: skip
    check_loader(damaged_seed, seed.data)


# --------------------------------------------------------------------------- imports


@pytest.mark.slow
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=damaged(SEEDS["csl-csv"].data) | damaged(SEEDS["un-xml"].data),
)
def test_a_refused_import_leaves_the_registry_as_it_was(data: bytes, sqlite_template: Path) -> None:
    """Through the whole import: refused means nothing written; taken means taken once."""
    import datetime as dt
    import shutil
    import tempfile

    from tests.scale.test_faults import table_counts

    from listwatch.registry.db import Registry
    from listwatch.sources import SourceError, import_file
    from listwatch.sources.engine import ImportOptions

    seed = (
        SEEDS["un-xml"]
        if data.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(b"<")
        else SEEDS["csl-csv"]
    )
    with tempfile.TemporaryDirectory() as directory:
        database = Path(directory) / "registry.db"
        shutil.copy(sqlite_template, database)
        path = write_snapshot(Path(directory), seed, data)
        before = table_counts(str(database))
        registry = Registry(str(database))
        options = ImportOptions(published=dt.date(2026, 2, 28))
        try:
            import_file(registry, seed.source, path, options)
        except SourceError as exc:
            assert "\n" not in str(exc)
            assert table_counts(str(database)) == before
        else:
            assert import_file(registry, seed.source, path, options).unchanged
        finally:
            registry.dispose()


# --------------------------------------------------------------------------- news


@pytest.fixture(scope="module")
def packs() -> list[Any]:
    from listwatch.news.langpack import load_pack, supported_languages

    return [load_pack(code) for code in supported_languages()]


LINES = st.lists(
    st.one_of(
        st.text(max_size=120),
        st.sampled_from(
            (
                "Læs også: Huawei sortlistet igen",
                "Navnenyt fra Børsen",
                "Lees ook: Xiaomi",
                "Read more",
                "Nyt job",
                "Anzeige",
                "",
                "   ",
                "\u2028",
                "\x00",
            )
        ),
    ),
    max_size=30,
)


@BOUNDED
@given(lines=LINES, ending=st.sampled_from(("\n", "\r\n", "\r", "\u2029", "\x0b")))
def test_news_cleaner_on_any_text(lines: list[str], ending: str, packs: list[Any]) -> None:
    check_cleaner(ending.join(lines), packs)


ODDITIES = (
    "&nbsp;",
    "&#0;",
    "&bogus;",
    "<!-- x",
    "-->",
    "<![CDATA[",
    "<?php",
    "<br/>",
    '<meta charset="x-unknown">',
)


@st.composite
def markup(draw: st.DrawFn) -> str:
    """HTML-ish text: nested tags (some unclosed), attributes, entities, scripts, text."""
    tags = ("html", "body", "article", "div", "p", "span", "script", "style", "title", "h1", "a")
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.integers(0, 5))
        tag = draw(st.sampled_from(tags))
        if kind == 0:
            attribute = draw(st.text(max_size=30)).replace('"', "&quot;")
            parts.append(f'<{tag} class="{attribute}">')
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(draw(st.text(max_size=200)))
        elif kind == 3:
            parts.append(draw(st.sampled_from(ODDITIES)))
        else:
            parts.append(
                "<p>Xiaomi was added to the Entity List by the Commerce Department on Friday.</p>"
            )
    return "".join(parts)


@BOUNDED
@given(html=markup())
def test_news_html_extraction(html: str) -> None:
    from listwatch.news.clean import HtmlExtractionError, extract_html

    try:
        article = extract_html(html)
    except HtmlExtractionError:
        return
    assert article.text.strip()


@BOUNDED
@given(
    data=st.one_of(
        st.binary(max_size=3000),
        markup().map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.text(max_size=2000).map(lambda text: text.encode("utf-8", "surrogatepass")),
    ),
    name=st.sampled_from(("a.txt", "a.html", "a.jsonl", "a.rss", "feed.atom", "noext")),
)
def test_article_readers_on_any_bytes(data: bytes, name: str) -> None:
    check_document(data, name)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    body=st.text(min_size=1, max_size=1500),
    published=st.one_of(
        st.none(),
        st.dates(max_value=dt.date(2025, 12, 31)).map(str),
        st.sampled_from(["2021", "2021-03"]),
    ),
)
def test_news_pipeline_on_any_text(body: str, published: str | None, pipeline: Any) -> None:
    """The whole extraction: any text gives events or a clear language error."""
    import hashlib

    from listwatch.news.documents import NewsDocument, parse_published
    from listwatch.news.langid import UnsupportedLanguageError

    if not body.strip():
        return
    document = NewsDocument(
        name="any",
        text=body,
        sha256=hashlib.sha256(body.encode("utf-8", "surrogatepass")).hexdigest(),
        published=parse_published(published, "any") if published else None,
    )
    try:
        result = pipeline.process(document)
    except UnsupportedLanguageError as exc:
        assert "\n" not in str(exc)
        return
    for event in result.events:
        assert event.evidence and all(0 <= e.start <= e.end <= len(body) for e in event.evidence)


# --------------------------------------------------------------------------- bombs

MEMORY = 768 * 1024 * 1024  # what a bomb of a few tens of MB may cost a reader, at most


def _bomb_child(results: Any, kind: str, fmt: str, directory: str) -> None:
    try:
        limit_memory(MEMORY)
        if kind == "article":
            message = check_document(Path(directory, fmt).read_bytes(), fmt)
            results.put(("ok", message))
            return
        seed = SEEDS[fmt]
        path = Path(directory) / seed.filename
        try:
            count = read_snapshot(seed, path)
        except Exception as exc:
            from listwatch.sources.errors import SourceError

            if isinstance(exc, SourceError) and "\n" not in str(exc):
                results.put(("ok", str(exc)))
            else:
                results.put(("crash", f"{type(exc).__name__}: {str(exc)[:300]}"))
            return
        results.put(("ok", f"{count} records"))
    except MemoryError:
        results.put(("crash", "MemoryError: the reader's memory grew past the cap"))
    except BaseException as exc:
        results.put(("crash", f"{type(exc).__name__}: {str(exc)[:300]}"))


def _run_bomb(kind: str, fmt: str, directory: Path) -> str:
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_bomb_child, args=(results, kind, fmt, str(directory)))
    child.start()
    child.join(300)
    if child.is_alive():
        child.kill()
        raise AssertionError(f"{fmt}: reading the bomb took more than 300 s")
    assert child.exitcode == 0, f"{fmt}: the reader died (exit code {child.exitcode})"
    status, message = results.get(timeout=5)
    assert status == "ok", f"{fmt}: {message}"
    return str(message)


XML_FORMATS = ("ofac-classic-xml", "ofac-enhanced-xml", "un-xml", "eu-fsf-xml", "uk-xml")
TEXT_FORMATS = (
    "ofac-legacy-csv",
    "csl-csv",
    "dpl-txt",
    "opensanctions-csv",
    "ftm-json",
    "csl-json",
)
HUGE = 40 * 1024 * 1024


def _xml_bomb(seed: Seed, kind: str) -> bytes:
    text = seed.data.decode("utf-8")
    root_end = text.index(">", text.index("<", text.index("?>") + 2)) + 1
    head, tail = text[:root_end], text[root_end:]
    if kind == "text":
        return (head + "<x>" + "A" * HUGE + "</x>" + tail).encode()
    if kind == "nesting":
        return (head + "<x>" * 200_000 + "</x>" * 200_000 + tail).encode()
    if kind == "attribute":
        return (head + '<x a="' + "B" * HUGE + '"/>' + tail).encode()
    if kind == "laughs":
        entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
            f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
        )
        return (f"<!DOCTYPE r [{entities}]>" + head + "&j;" + tail).encode()
    raise ValueError(kind)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", XML_FORMATS)
@pytest.mark.parametrize("kind", ["text", "nesting", "attribute", "laughs"])
def test_xml_bombs(fmt: str, kind: str, tmp_path: Path) -> None:
    seed = SEEDS[fmt]
    write_snapshot(tmp_path, seed, _xml_bomb(seed, kind))
    _run_bomb("loader", fmt, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_huge_field_and_line(fmt: str, tmp_path: Path) -> None:
    seed = SEEDS[fmt]
    lines = seed.data.split(b"\n")
    middle = len(lines) // 2
    giant = b"Z" * HUGE
    lines[middle] = (
        lines[middle][: len(lines[middle]) // 2] + giant + lines[middle][len(lines[middle]) // 2 :]
    )
    write_snapshot(tmp_path, seed, b"\n".join(lines))
    _run_bomb("loader", fmt, tmp_path)
    write_snapshot(tmp_path, seed, seed.data + b"Y" * HUGE)  # a last line without its end
    _run_bomb("loader", fmt, tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("deep.html", b"<html><body>" + b"<div>" * 100_000 + b"Xiaomi " * 50 + b"</div>" * 100_000),
        ("wide.html", b"<html><body>" + b"<p>Xiaomi was added to the list.</p>" * 50_000),
        ("huge.txt", b"Xiaomi was added to the Entity List. " * 1_000_000),
        ("long.jsonl", b'{"text": "' + b"x" * HUGE + b'"}\n'),
        (
            "feed.rss",
            b"<rss><channel>" + b"<item><title>t</title></item>" * 100_000 + b"</channel></rss>",
        ),
    ],
)
def test_article_bombs(name: str, content: bytes, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(content)
    _run_bomb("article", name, tmp_path)
