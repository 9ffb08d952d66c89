"""What a loader and the news cleaner must do with any input: answer, or refuse with their
documented one-line error. Shared by the property tests and the fuzz targets.
"""

from __future__ import annotations

import resource
import tempfile
from pathlib import Path
from typing import Any

from tests.scale.seeds import Seed

#: Byte strings that break parsers: quoting, delimiters, markup, encodings, dates, numbers.
TOKENS: tuple[bytes, ...] = (
    b'"',
    b"'",
    b",",
    b";",
    b"\t",
    b"\n",
    b"\r",
    b"\r\n",
    b"\x00",
    b"\x1a",
    b"\x0c",
    b"<",
    b">",
    b"&",
    b"&amp;",
    b"&#0;",
    b"&#x110000;",
    b"&unknown;",
    b"]]>",
    b"<!--",
    b"<![CDATA[",
    b"<?xml version='1.0'?>",
    b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>",
    b'<!ENTITY xxe SYSTEM "file:///etc/passwd">',
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xc3\x28",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
    b"-0- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b'"\\ud800"',
    b"NaN",
    b"1e999",
    b"-1",
    b"99999999999999999999999",
    b"9999-99-99",
    b"2021-02-30",
    b"0000-00-00",
    b"31/02/2022",
    b"02/30/2021",
    b"12 Foo 1961",
    "小米集团".encode(),
    "Иво".encode(),
    "\u202e\u200f".encode(),
    "e\u0301".encode(),
    b"\\",
    b" " * 300,
)


def write_snapshot(directory: Path, seed: Seed, data: bytes) -> Path:
    """The main file (``data``) and the seed's companion files, in ``directory``."""
    path = directory / seed.filename
    path.write_bytes(data)
    for name, content in seed.companions:
        (directory / name).write_bytes(content)
    return path


def read_snapshot(seed: Seed, path: Path) -> int:
    """Open and read every record as an import does; returns the record count.

    Raises only :class:`~listwatch.sources.errors.SourceError` (one line) on bad input.
    """
    from listwatch.sources.catalog import open_snapshot

    reader = open_snapshot(seed.source, path)
    count = 0
    try:
        for record in reader.records():
            record.encode()
            count += 1
    finally:
        reader.close()
    return count


def check_loader(seed: Seed, data: bytes) -> str | None:
    """Read ``data`` as the seed's source; the error line, or None when it was read."""
    from listwatch.sources.errors import SourceError

    with tempfile.TemporaryDirectory(prefix="listwatch-hostile-") as directory:
        path = write_snapshot(Path(directory), seed, data)
        try:
            read_snapshot(seed, path)
        except SourceError as exc:
            message = str(exc)
            assert message and "\n" not in message, f"not one line: {message!r}"
            return message
    return None


def check_cleaner(text: str, packs: list[Any]) -> None:
    """Line classification of any text: every block is a span of the text, labelled."""
    from listwatch.news.clean import classify_blocks

    blocks = classify_blocks(text, packs)
    for number, block in enumerate(blocks):
        assert block.index == number
        assert 0 <= block.start <= block.end <= len(text)
        assert text[block.start : block.end] == block.text
        assert block.text.strip() == block.text and block.text
        assert block.label in ("title", "text", "heading") or block.label.startswith("noise:")


def check_document(data: bytes, name: str) -> str | None:
    """Read any bytes as an article (by name: text, HTML, JSON lines, feed); the error line."""
    from listwatch.news.documents import InputError, read_bytes

    try:
        documents = read_bytes(data, name, max_bytes=2 * 1024 * 1024)
    except InputError as exc:
        message = str(exc)
        assert message and "\n" not in message, f"not one line: {message!r}"
        return message
    for document in documents:
        assert document.text.strip()
        assert len(document.sha256) == 64
    return None


def limit_memory(extra_bytes: int) -> None:
    """Let this process allocate at most ``extra_bytes`` more address space (a forked child)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        pages = int(handle.read().split()[0])
    current = pages * resource.getpagesize()
    resource.setrlimit(resource.RLIMIT_AS, (current + extra_bytes, current + extra_bytes))
