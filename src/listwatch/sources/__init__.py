"""Official lists in their real formats: loaders, snapshot imports, resolution, FtM in and out.

``import_file(registry, source, path)`` is the entry point: it detects the file's
format, streams its records and turns the snapshot into entities and dated events (see
:mod:`listwatch.sources.engine`). ``SOURCES`` lists the sources, their official
download addresses and formats.
"""

from __future__ import annotations

from listwatch.sources.catalog import SOURCES, Download, SourceSpec, source_spec
from listwatch.sources.errors import SourceError
from listwatch.sources.importer import import_file

__all__ = ["SOURCES", "Download", "SourceError", "SourceSpec", "import_file", "source_spec"]
