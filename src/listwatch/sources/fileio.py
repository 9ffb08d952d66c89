"""Reading official files safely: hashing, sniffing, text decoding and hardened XML parsing.

Every file is read twice at most: once to hash it (and check its encoding) and once to
parse it, both as streams. XML is parsed with lxml's iterparse with entity resolution,
DTD loading, network access and huge trees disabled; a document that declares a DOCTYPE
is refused before parsing, since official list files never carry one and a DTD is how
external entities (XXE) and entity expansion ("billion laughs") get in.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from listwatch.sources.errors import SourceError

CHUNK = 1 << 20
#: How far into a file its XML root element must start.
PROLOG_LIMIT = 1 << 20
#: Largest member of a ZIP archive that is read (the official archives are tens of MB).
ZIP_MEMBER_LIMIT = 2 << 30

_XML_ROOT = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)[\s/>]")


@dataclass
class FileFacts:
    """What one pass over a file's bytes tells: size, hash, whether it is valid UTF-8."""

    path: Path
    size: int
    sha256: str
    utf8: bool
    bad_utf8_line: int | None
    has_nul: bool
    head: bytes

    def check_not_empty(self) -> None:
        """Refuse an empty file, which is what a failed download often leaves behind."""
        if self.size == 0:
            raise SourceError(
                self.path, "empty file (0 bytes): a failed download? nothing imported"
            )
        if not self.head.strip(b" \t\r\n\x1a\xef\xbb\xbf"):
            raise SourceError(self.path, "the file holds only white space: nothing imported")


def inspect_file(path: Path) -> FileFacts:
    """Hash a file and check its encoding in one streaming pass."""
    if not path.exists():
        raise SourceError(path, "no such file")
    if not path.is_file():
        raise SourceError(path, "not a regular file")
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, bad_line, has_nul, lines = True, None, False, 1
    head = b""
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            if not head:
                head = chunk[:65536]
            size += len(chunk)
            digest.update(chunk)
            if not has_nul and b"\x00" in chunk:
                has_nul = True
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    utf8 = False
                    bad_line = lines + chunk.count(b"\n", 0, exc.start)
            lines += chunk.count(b"\n")
        if utf8:
            try:
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                utf8, bad_line = False, lines
    return FileFacts(path, size, digest.hexdigest(), utf8, bad_line, has_nul, head)


def combined_sha256(facts: list[FileFacts]) -> str:
    """The hash of a snapshot: the file's own hash, or a hash over several files' hashes."""
    if len(facts) == 1:
        return facts[0].sha256
    digest = hashlib.sha256()
    for item in facts:
        digest.update(f"{item.path.name.lower()}\0{item.sha256}\n".encode())
    return digest.hexdigest()


@dataclass
class Sniff:
    """A guess of a file's format from its first bytes."""

    kind: str  # xml, json, jsonl, csv, tsv, zip, yaml, binary
    root: str | None = None  # XML root element (local name)
    first_line: str = ""


def sniff(facts: FileFacts) -> Sniff:
    """Tell XML, JSON, JSON lines, CSV, TSV, ZIP and YAML apart from the head of a file."""
    head = facts.head
    if head.startswith(b"PK\x03\x04"):
        return Sniff("zip")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or facts.has_nul:
        return Sniff("binary")
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    first_line = text.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
    if text.startswith(b"<"):
        return Sniff("xml", xml_root(facts.path, head), first_line)
    if text.startswith(b"{"):
        try:
            whole_line = json.loads(first_line)
        except ValueError:
            whole_line = None
        if isinstance(whole_line, dict) and "schema" in whole_line:
            return Sniff("jsonl", None, first_line)
        return Sniff("json", None, first_line)
    if text.startswith(b"["):
        return Sniff("json", None, first_line)
    content = [
        line.strip()
        for line in text.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    looks_yaml = first_line.startswith("#") or re.match(r"^[\w\-]+\s*:", first_line)
    if looks_yaml and content and re.match(r"^[\w\-]+\s*:", content[0]):
        return Sniff("yaml", None, first_line)
    if "\t" in first_line and first_line.count("\t") >= 3:
        return Sniff("tsv", None, first_line)
    if first_line.count(",") >= 1:
        return Sniff("csv", None, first_line)
    return Sniff("binary", None, first_line)


def xml_root(path: Path, head: bytes) -> str:
    """The local name of the root element; refuses DOCTYPEs, which carry XXE and entity bombs."""
    position = 0
    text = head[:PROLOG_LIMIT]
    while True:
        start = text.find(b"<", position)
        if start < 0:
            raise SourceError(path, "no XML root element in the first bytes of the file")
        if text.startswith(b"<?", start):
            end = text.find(b"?>", start)
        elif text.startswith(b"<!--", start):
            end = text.find(b"-->", start)
        elif text[start : start + 9].upper() == b"<!DOCTYPE" or text.startswith(b"<!", start):
            raise SourceError(
                path,
                "XML with a DOCTYPE declaration is refused: official list files have none, and "
                "a DTD is how external entities (XXE) and entity expansion attacks get in",
            )
        else:
            match = _XML_ROOT.match(text, start)
            if not match:
                raise SourceError(path, "malformed XML: cannot read the root element")
            return match.group(2).decode("ascii")
        if end < 0:
            raise SourceError(path, "malformed XML prolog (unterminated declaration or comment)")
        position = end + 2


def local(tag: Any) -> str:
    """The local part of an lxml tag (``{ns}name`` → ``name``)."""
    text = tag if isinstance(tag, str) else ""
    return text.rsplit("}", 1)[-1]


class Counting(io.RawIOBase):
    """A binary stream that remembers how many bytes were read (for progress bars)."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.consumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.consumed += size
        return size

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.consumed += len(data)
        return data

    def close(self) -> None:
        self.raw.close()
        super().close()


def open_binary(path: Path, member: str | None = None) -> Counting:
    """Open a file (or one member of a ZIP archive) as a counting binary stream."""
    if member is None:
        return Counting(path.open("rb"))
    archive = zipfile.ZipFile(path)
    info = archive.getinfo(member)
    if info.file_size > ZIP_MEMBER_LIMIT:
        raise SourceError(path, f"archive member {member} is too large ({info.file_size} bytes)")
    return Counting(archive.open(info))


def zip_member(path: Path, suffixes: tuple[str, ...]) -> str:
    """The one member of an archive whose name ends with one of ``suffixes``."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(suffixes)]
    except zipfile.BadZipFile as exc:
        raise SourceError(path, f"not a readable ZIP archive: {exc}") from None
    if len(names) != 1:
        raise SourceError(
            path, f"expected one {'/'.join(suffixes)} file in the archive, found {names}"
        )
    return names[0]


def open_text(stream: Counting, encoding: str) -> io.TextIOWrapper:
    """A strictly decoding text view of a binary stream, with universal newlines off (CSV)."""
    return io.TextIOWrapper(
        io.BufferedReader(stream, CHUNK), encoding=encoding, errors="strict", newline=""
    )


@dataclass
class XmlStream:
    """Hardened incremental parsing of one XML document.

    ``records(tags)`` yields each element whose local name is in ``tags`` when it is
    complete; the caller reads it, and the element is then cleared so that memory stays
    bounded whatever the file's size. ``current`` names the last record read, so that an
    error in the middle of a file says where it happened.
    """

    path: Path
    stream: Counting
    root_tag: str = ""
    root_attrib: dict[str, str] = field(default_factory=dict)
    current: str | None = None

    def records(self, tags: set[str], header_tags: set[str] | None = None) -> Iterator[Any]:
        """Complete elements named in ``tags`` (and in ``header_tags``, not cleared)."""
        from lxml import etree

        header_tags = header_tags or set()
        parser_events = etree.iterparse(
            self.stream,
            events=("start", "end"),
            resolve_entities=False,
            load_dtd=False,
            no_network=True,
            huge_tree=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
        )
        depth = 0
        try:
            for event, element in parser_events:
                if event == "start":
                    if depth == 0:
                        self.root_tag = local(element.tag)
                        self.root_attrib = {local(k): v for k, v in element.attrib.items()}
                    depth += 1
                    continue
                depth -= 1
                name = local(element.tag)
                if name in tags:
                    yield element
                    element.clear(keep_tail=False)
                    parent = element.getparent()
                    if parent is not None:
                        while element.getprevious() is not None:
                            del parent[0]
                elif name in header_tags:
                    yield element
        except etree.XMLSyntaxError as exc:
            line = exc.position[0] if exc.position else None
            after = f"after {self.current}" if self.current else None
            message = str(exc.msg if hasattr(exc, "msg") else exc)
            if "Premature end" in message or "EndTag" in message or "end of data" in message:
                message = f"truncated or malformed XML ({message})"
            else:
                message = f"malformed XML ({message})"
            raise SourceError(self.path, message, line=line, record=after) from None
