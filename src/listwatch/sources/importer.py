"""One entry point for every import: snapshot files, curated event files, registry restores."""

from __future__ import annotations

from pathlib import Path

from listwatch.registry.db import Registry
from listwatch.sources.catalog import detect_format, open_snapshot, source_spec
from listwatch.sources.engine import ImportOptions, ImportResult, import_snapshot
from listwatch.sources.errors import SourceError
from listwatch.sources.fileio import inspect_file


def import_file(
    registry: Registry,
    source_id: str,
    path: Path | str,
    options: ImportOptions | None = None,
) -> ImportResult:
    """Import ``path`` as a snapshot of ``source_id`` (format detected from the file).

    A listwatch FollowTheMoney export given to the ``ftm`` source restores the registry
    it came from; a curated events file given to ``dod-cmc`` adds its cited events.
    """
    options = options or ImportOptions()
    spec = source_spec(source_id)
    path = Path(path)
    if spec.id in ("ftm", "dod-cmc"):
        facts = inspect_file(path)
        facts.check_not_empty()
        fmt = detect_format(facts)
        if spec.id == "ftm" and fmt == "ftm-restore":
            from listwatch.sources.ftm_export import restore

            return restore(registry, path, progress=options.progress)
        if spec.id == "dod-cmc":
            if fmt != "curated-yaml":
                raise SourceError(
                    path,
                    "the dod-cmc source reads a curated events file (YAML): the DoD publishes "
                    "its list only as releases and PDFs",
                )
            from listwatch.sources.dod import import_curated_events

            return import_curated_events(registry, path)
    reader = open_snapshot(spec.id, path)
    return import_snapshot(registry, spec.id, reader, options)
