"""What every loader provides: a streaming reader of records over one snapshot's files."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from listwatch.registry.domain import PartialDate
from listwatch.sources.errors import SourceError
from listwatch.sources.fileio import Counting, FileFacts
from listwatch.sources.records import RecordData


@dataclass
class LazyRecord:
    """A record known by its key and the digest of its raw content, parsed only if needed."""

    key: str
    digest: str
    parse: Callable[[], RecordData]


@dataclass
class Reader:
    """A snapshot being read: its files, its format and, as parsing goes, its records.

    Subclasses implement :meth:`records`. ``published`` is the snapshot's publication
    date when the file states one (found while reading, usually in a header);
    ``expected`` is the record count the file declares, checked at the end.
    """

    path: Path
    files: list[FileFacts]
    format: str
    key_label: str = "record"
    published: PartialDate | None = None
    expected: int | None = None
    warnings: list[str] = field(default_factory=list)
    streams: list[Counting] = field(default_factory=list)
    #: Each record describes its own entity (no entity is described by several records).
    one_record_per_entity: bool = False

    def records(self) -> Iterator[RecordData]:
        """The snapshot's records, one at a time."""
        raise NotImplementedError

    def lazy_records(self) -> Iterator[LazyRecord] | None:
        """The records as raw digests with a parser (None when the reader cannot do that)."""
        return None

    @property
    def total(self) -> int:
        """Bytes to read in all."""
        return sum(f.size for f in self.files)

    def position(self) -> int:
        """Bytes read so far (for progress bars)."""
        done = sum(s.consumed for s in self.streams)
        return min(done, self.total)

    def close(self) -> None:
        """Release the open files."""
        for stream in self.streams:
            stream.close()

    def fail(
        self, message: str, *, line: int | None = None, record: str | None = None
    ) -> SourceError:
        """An error about the main file at a line and record."""
        return SourceError(self.path, message, line=line, record=record)

    def require_utf8(self) -> None:
        """Refuse a file that should be UTF-8 but is not (naming the first bad line)."""
        for facts in self.files:
            if not facts.utf8:
                raise SourceError(
                    facts.path,
                    "not valid UTF-8 text (wrong encoding?); the official file is UTF-8",
                    line=facts.bad_utf8_line,
                )
