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


def dict_rows(
    reader: Reader,
    encoding: str,
    required: tuple[str, ...],
    *,
    delimiter: str = ",",
    record_column: str | None = None,
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of the reader's main file as dicts, by its header line.

    Decoding errors, malformed CSV, a header without the ``required`` columns and rows
    with missing or extra fields become one :class:`SourceError` naming the line (and the
    last good record, by ``record_column``).
    """
    import csv

    from listwatch.sources.fileio import open_binary, open_text

    stream = open_binary(reader.path)
    reader.streams.append(stream)
    text = open_text(stream, encoding)
    rows = csv.DictReader(text, delimiter=delimiter, restkey="_extra")
    previous: str | None = None

    def where() -> str | None:
        return f"after {record_column} {previous}" if previous and record_column else None

    try:
        fieldnames = rows.fieldnames or []
    except UnicodeDecodeError as exc:
        raise reader.fail(
            f"not valid {encoding} text ({exc.reason}); wrong encoding?", line=1
        ) from None
    except csv.Error as exc:
        raise reader.fail(f"malformed header ({exc})", line=1) from None
    missing = [c for c in required if c not in fieldnames]
    if missing:
        raise reader.fail(f"the header lacks the columns {', '.join(missing)}", line=1)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise reader.fail(
                f"not valid {encoding} text ({exc.reason}); wrong encoding?",
                line=rows.line_num + 1,
                record=where(),
            ) from None
        except csv.Error as exc:
            raise reader.fail(
                f"malformed CSV ({exc})", line=rows.line_num, record=where()
            ) from None
        if "_extra" in row or None in row.values():
            raise reader.fail(
                f"expected {len(fieldnames)} columns: missing columns, an unquoted delimiter "
                "or a truncated file",
                line=rows.line_num,
                record=where(),
            )
        yield rows.line_num, row
        if record_column:
            previous = row.get(record_column) or previous
