"""The one error an import raises for a file it cannot take: it names the file and the record."""

from __future__ import annotations

from pathlib import Path

from listwatch.registry.db import RegistryError


class SourceError(RegistryError):
    """A file that cannot be imported (empty, truncated, hostile, wrong encoding, wrong shape).

    The message is one line: the file, where in it (line and record) when known, and what
    is wrong. Nothing has been written when it is raised inside an import.
    """

    def __init__(
        self,
        path: Path | str,
        message: str,
        *,
        line: int | None = None,
        record: str | None = None,
    ) -> None:
        where = str(path)
        if line is not None:
            where += f", line {line}"
        if record:
            where += f", record {record}"
        self.path = str(path)
        self.line = line
        self.record = record
        # One line whatever the cause says (parsers' own messages can span several).
        super().__init__(" ".join(f"{where}: {message}".split()))
