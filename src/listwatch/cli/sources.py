"""Official-list commands: fetch, import, export, imports, merge, unmerge, merges, sources."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from listwatch.cli.common import (
    console,
    emit_json,
    err_console,
    fail,
    open_registry,
    parse_date,
    user_errors,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _progress_bar(enabled: bool) -> Any:
    """A Rich progress bar on stderr (silent when stderr is not a terminal or with --json)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=not enabled,
    )


def import_command(
    source: Annotated[str, typer.Argument(help="Source id: ofac-sdn, ofac-cons, us-csl, ...")],
    file: Annotated[Path, typer.Argument(help="The file (its format is detected).")],
    published: Annotated[
        str | None,
        typer.Option(
            "--published",
            help="Publication date of the snapshot (YYYY-MM-DD) when the file does not state it.",
        ),
    ] = None,
    url: Annotated[
        str | None, typer.Option("--url", help="Where the file was downloaded from.")
    ] = None,
    no_resolve: Annotated[
        bool, typer.Option("--no-resolve", help="Do not merge entities across sources.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import a snapshot of an official list (offline); newer snapshots become dated events."""
    day = parse_date(published, "--published")
    with user_errors():
        from listwatch.sources.engine import ImportOptions
        from listwatch.sources.importer import import_file

        registry = open_registry()
        bar = _progress_bar(not as_json and err_console.is_terminal)
        with bar:
            task = bar.add_task(f"importing {file.name}", total=None)
            options = ImportOptions(
                published=day,
                url=url,
                resolve=not no_resolve,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
            result = import_file(registry, source, file, options)
        registry.dispose()
    payload = result.to_dict()
    if as_json:
        emit_json(payload)
        return
    _print_import(payload)


def _print_import(payload: dict[str, Any]) -> None:
    if payload.get("unchanged"):
        console.print(
            f"[bold]{payload['source']}[/]: this snapshot was already imported "
            f"(import {payload['import_id']}); nothing changed"
        )
        return
    first = " (first snapshot of this source)" if payload.get("first_snapshot") else ""
    console.print(
        f"[bold]{payload['source']}[/] snapshot of {payload['published']} "
        f"({payload['format']}){first}: {payload['records']} records, "
        f"{payload['entities_created']} new entities, {payload['entities_updated']} updated, "
        f"in {payload['seconds']} s"
    )
    table = Table("list", "records", "events")
    for list_id, count in payload["records_per_list"].items():
        kinds = payload["events"].get(list_id, {})
        events = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "no change"
        table.add_row(list_id, str(count), events)
    for list_id, kinds in payload["events"].items():
        if list_id not in payload["records_per_list"]:
            table.add_row(list_id, "0", ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    console.print(table)
    for merge in payload.get("merges", []):
        console.print(
            f"  merged {merge['source_id']} into {merge['target_id']} (merge {merge['merge_id']})",
            highlight=False,
        )
    for warning in payload.get("warnings", []):
        console.print(f"  [yellow]note:[/] {warning}", highlight=False)


def fetch_command(
    source: Annotated[str, typer.Argument(help="Source id: ofac-sdn, us-csl, un-sc, ...")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Directory to save into (default: data dir).")
    ] = None,
    base_url: Annotated[
        str | None,
        typer.Option("--base-url", help="Fetch from a mirror: replaces the official directory."),
    ] = None,
    then_import: Annotated[
        bool, typer.Option("--import", help="Import the snapshot once it is downloaded.")
    ] = False,
    published: Annotated[
        str | None,
        typer.Option("--published", help="Publication date, when importing (default: today)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Download the current official file(s) of a source (needs a network)."""
    day = parse_date(published, "--published")
    with user_errors():
        from listwatch.sources.fetch import fetch

        bar = _progress_bar(not as_json and err_console.is_terminal)
        tasks: dict[str, Any] = {}

        def report(name: str, done: int, total: int | None) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(f"fetching {name}", total=total)
            bar.update(tasks[name], completed=done, total=total)

        with bar:
            fetched = fetch(source, out, base_url=base_url, progress=report)
        payload: dict[str, Any] = fetched.to_dict()
        if then_import:
            import datetime as dt

            from listwatch.sources.engine import ImportOptions
            from listwatch.sources.importer import import_file

            registry = open_registry()
            result = import_file(
                registry,
                source,
                fetched.main,
                ImportOptions(published=day or dt.date.today(), url=fetched.urls[0]),
            )
            registry.dispose()
            payload["import"] = result.to_dict()
    if as_json:
        emit_json(payload)
        return
    for item in payload["files"]:
        console.print(
            f"  {item['path']}  {item['bytes']} bytes  from {item['url']}", highlight=False
        )
    if "import" in payload:
        _print_import(payload["import"])


def export_command(
    out: Annotated[Path, typer.Argument(help="Output file (FollowTheMoney JSON lines).")],
    fmt: Annotated[str, typer.Option("--format", help="Export format (ftm).")] = "ftm",
    as_json: JsonOpt = False,
) -> None:
    """Export the whole registry as FollowTheMoney entities (events and evidence included)."""
    if fmt != "ftm":
        fail(f"unknown export format {fmt!r} (known: ftm)")
    with user_errors():
        from listwatch.sources.ftm_export import export

        registry = open_registry()
        counts = export(registry, out)
        registry.dispose()
    if as_json:
        emit_json({"path": str(out), "format": fmt, "counts": counts})
        return
    summary = ", ".join(f"{n} {k}" for k, n in counts.items())
    console.print(f"wrote {out}: {summary}", highlight=False)


def merge_command(
    first: Annotated[str, typer.Argument(help="Entity merged away (name or id).")],
    into: Annotated[str, typer.Argument(help="Entity it is merged into (name or id).")],
    reason: Annotated[str, typer.Option("--reason", help="Why they are the same entity.")],
    as_json: JsonOpt = False,
) -> None:
    """Record that two entities are the same real-world entity (undone with `unmerge`)."""
    with user_errors():
        from listwatch.registry.entities import resolve_entity
        from listwatch.registry.store import merge_entities

        registry = open_registry()
        with registry.transaction() as session:
            source_entity = resolve_entity(session, first)
            target_entity = resolve_entity(session, into)
            merge = merge_entities(session, source_entity.id, target_entity.id, reason, score=None)
            payload = _merge_json(merge)
        registry.dispose()
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"merge {payload['id']}: {payload['source_id']} is now part of {payload['target_id']}",
        highlight=False,
    )


def unmerge_command(
    merge_id: Annotated[int, typer.Argument(help="The merge's number (see `listwatch merges`).")],
    reason: Annotated[str, typer.Option("--reason", help="Why the merge was wrong.")],
    as_json: JsonOpt = False,
) -> None:
    """Undo a merge: the two entities are separate again (the decision is kept, marked undone)."""
    with user_errors():
        from listwatch.registry.store import undo_merge

        registry = open_registry()
        with registry.transaction() as session:
            payload = _merge_json(undo_merge(session, merge_id, reason))
        registry.dispose()
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"merge {merge_id} undone: {payload['source_id']} and {payload['target_id']} are separate",
        highlight=False,
    )


def merges_command(
    name: Annotated[
        str | None, typer.Argument(help="Only merges involving this entity (name or id).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Merge decisions (automatic and manual, active and undone), with their reasons."""
    with user_errors():
        from sqlalchemy import or_, select

        from listwatch.registry.entities import member_ids, resolve_entity
        from listwatch.registry.models import EntityMerge

        registry = open_registry()
        with registry.transaction() as session:
            query = select(EntityMerge).order_by(EntityMerge.id)
            if name is not None:
                entity = resolve_entity(session, name)
                ids = member_ids(session, entity.id)
                query = query.where(
                    or_(EntityMerge.source_id.in_(ids), EntityMerge.target_id.in_(ids))
                )
            payload = [_merge_json(m) for m in session.scalars(query)]
        registry.dispose()
    if as_json:
        emit_json(payload)
        return
    table = Table("id", "merged", "into", "score", "state", "reason")
    for item in payload:
        state = "undone" if item["undone_at"] else "active"
        table.add_row(
            str(item["id"]),
            item["source_id"],
            item["target_id"],
            f"{item['score']:.2f}" if item["score"] is not None else "manual",
            state,
            item["undo_reason"] or item["reason"],
        )
    console.print(table)


def imports_command(as_json: JsonOpt = False) -> None:
    """The snapshots imported so far, per source, with what each changed."""
    with user_errors():
        from sqlalchemy import select

        from listwatch.registry.models import Import

        registry = open_registry()
        with registry.transaction() as session:
            payload = [
                {
                    "id": row.id,
                    "source": row.source,
                    "published": row.published.isoformat() if row.published else None,
                    "published_from": row.published_from,
                    "imported_at": row.imported_at.isoformat(),
                    "file": row.filename,
                    "sha256": row.sha256,
                    "records": row.records,
                    "events": row.stats.get("events", {}),
                }
                for row in session.scalars(select(Import).order_by(Import.id))
            ]
        registry.dispose()
    if as_json:
        emit_json(payload)
        return
    table = Table("id", "source", "published", "records", "events", "file")
    for item in payload:
        events = "; ".join(
            f"{lid}: " + ", ".join(f"{n} {k}" for k, n in kinds.items())
            for lid, kinds in item["events"].items()
        )
        table.add_row(
            str(item["id"]),
            item["source"],
            item["published"] or "",
            str(item["records"]),
            events or "no change",
            Path(item["file"] or "").name,
        )
    console.print(table)


def sources_command(as_json: JsonOpt = False) -> None:
    """The official sources listwatch reads, their formats and download addresses."""
    from listwatch.sources.catalog import SOURCES

    payload: list[dict[str, Any]] = [
        {
            "id": spec.id,
            "title": spec.title,
            "publisher": spec.publisher,
            "lists": list(spec.lists),
            "formats": list(spec.formats),
            "files": spec.note,
            "downloads": [{"name": d.name, "url": d.url} for d in spec.downloads],
        }
        for spec in SOURCES.values()
    ]
    if as_json:
        emit_json(payload)
        return
    table = Table("source", "what", "files")
    for item in payload:
        table.add_row(item["id"], item["title"], item["files"])
    console.print(table)


def _merge_json(merge: Any) -> dict[str, Any]:
    return {
        "id": merge.id,
        "source_id": merge.source_id,
        "target_id": merge.target_id,
        "reason": merge.reason,
        "score": merge.score,
        "created_at": merge.created_at.isoformat() if merge.created_at else None,
        "undone_at": merge.undone_at.isoformat() if merge.undone_at else None,
        "undo_reason": merge.undo_reason,
    }


def register(app: typer.Typer) -> None:
    """Add the official-list commands to the CLI."""
    app.command("import")(import_command)
    app.command("fetch")(fetch_command)
    app.command("export")(export_command)
    app.command("imports")(imports_command)
    app.command("sources")(sources_command)
    app.command("merge")(merge_command)
    app.command("unmerge")(unmerge_command)
    app.command("merges")(merges_command)
