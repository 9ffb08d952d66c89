"""Screening commands: screen, compare, compare-batch, screen-batch, portfolio."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table as RichTable

from listwatch.cli.common import (
    console,
    emit_json,
    err_console,
    fail,
    open_registry,
    parse_date,
    today,
    user_errors,
)

if TYPE_CHECKING:
    from listwatch.screening.batch import InputFile, ScreenJob
    from listwatch.screening.index import IndexState

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Date of the list status (YYYY-MM-DD, default today).")
]
KnownAtOpt = Annotated[
    str | None, typer.Option("--known-at", help="Answer with only what was recorded by this date.")
]
RoleOpt = Annotated[
    str | None,
    typer.Option("--role", help="Show the duties of this kind of user (e.g. us-investor)."),
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option("--threshold", min=0.0, max=1.0, help="Minimum score (default: the matcher's)."),
]
TypeOpt = Annotated[
    str, typer.Option("--type", help="company, person, organization, vessel or any.")
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="Processes (default: all cores).")
]

_TYPES = {
    "any": "any",
    "company": "Company",
    "person": "Person",
    "organization": "Organization",
    "organisation": "Organization",
    "legalentity": "LegalEntity",
    "vessel": "Vessel",
    "airplane": "Airplane",
}

STATUS_STYLE = {
    "listed": "bold red",
    "listed_suspended": "bold yellow",
    "removed": "green",
    "never_listed": "dim",
}


def _schema(value: str) -> str:
    schema = _TYPES.get(value.strip().lower().replace("-", "").replace("_", ""))
    if schema is None:
        fail(f"--type: unknown type {value!r} (one of: {', '.join(sorted(set(_TYPES)))})")
    return schema


def _open_index(registry: Any, rebuild: bool = False) -> IndexState:
    from listwatch.screening.index import open_index

    state = open_index(registry, rebuild=rebuild)
    if state.action == "built":
        err_console.print(
            f"[dim]built the screening index: {state.index.size} names in {state.directory}[/]"
        )
    elif state.action == "updated":
        err_console.print(f"[dim]screening index: {state.added} new names indexed[/]")
    return state


def screen_command(
    name: Annotated[str, typer.Argument(help="Name, or an identifier (ISIN, LEI, 1810.HK).")],
    entity_type: TypeOpt = "any",
    country: Annotated[
        str | None, typer.Option("--country", help="ISO country code; the same country ranks up.")
    ] = None,
    identifier: Annotated[
        list[str] | None,
        typer.Option("--id", help="An identifier to look up as well (repeatable)."),
    ] = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    role: RoleOpt = None,
    threshold: ThresholdOpt = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many hits.")] = 10,
    reindex: Annotated[
        bool, typer.Option("--reindex", help="Rebuild the screening index first.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Screen a name or identifier: matching entities, why, and their list status as of a date."""
    from listwatch.screening.screen import Query, Screener

    day = parse_date(as_of, "--as-of") or today()
    known = parse_date(known_at, "--known-at")
    schema = _schema(entity_type)
    query = Query(
        name=name,
        schema=schema,
        country=country,
        identifiers=list(identifier or []),
        threshold=threshold,
        limit=limit,
    )
    with user_errors():
        if not name.strip() and not identifier:
            fail("nothing to screen: give a name or --id")
        registry = open_registry()
        state = _open_index(registry, reindex)
        with registry.transaction() as session:
            from listwatch.obligations.engine import duty_dates, role_scope
            from listwatch.registry.entities import canonical_map
            from listwatch.registry.status import since_text, status_words

            if role:
                role_scope(role)
            screener = Screener(state.index, canonical_map(session))
            hits = screener.screen(query, session, day, known, role)
            payload: dict[str, Any] = {
                "query": {
                    "name": name,
                    "type": schema,
                    "country": country,
                    "identifiers": list(identifier or []),
                    "as_of": day.isoformat(),
                    "known_at": known.isoformat() if known else None,
                    "role": role,
                    "threshold": threshold,
                },
                "hits": [h.to_dict() for h in hits],
            }
    if as_json:
        emit_json(payload)
        return
    if not hits:
        console.print(f"no match for [bold]{name}[/] above the threshold", highlight=False)
        return
    for number, hit in enumerate(payload["hits"], 1):
        entity = hit["entity"]
        where = f", {entity['country']}" if entity["country"] else ""
        console.print(
            f"{number}. [bold]{entity['name']}[/] [dim]({entity['id']}, {entity['schema']}"
            f"{where})[/]  score {hit['score']:.3f}",
            highlight=False,
        )
        console.print(f"   [dim]why:[/] {hit['explanation']}", highlight=False, soft_wrap=True)
        if not hit["statuses"]:
            console.print(f"   not on any list as of {day}")
        for status in hit["statuses"]:
            style = STATUS_STYLE.get(status["status"], "")
            line = f"   {status['list']}: [{style}]{status_words(status)}[/]"
            line += since_text(status)
            if status["uncertain"]:
                line += " [yellow](uncertain)[/]"
            console.print(line, highlight=False)
            for note in status["notes"]:
                console.print(f"     [dim]note: {note}[/]", highlight=False)
        for duty in hit["obligations"]:
            line = f"   [cyan]{duty['duty']}[/] ({duty['list']}, {duty['state']})"
            line += "".join(" " + text for text in duty_dates(duty))
            if duty["uncertain"] and duty["state"] != "uncertain":
                line += " [yellow](uncertain)[/]"
            console.print(line, highlight=False)
            if duty["uncertain"] and duty["state"] != "uncertain":
                console.print(f"     [dim]note: {duty['note']}[/]", highlight=False)


def compare_command(
    name1: Annotated[str, typer.Argument(help="First name.")],
    name2: Annotated[str, typer.Argument(help="Second name.")],
    entity_type: TypeOpt = "company",
    as_json: JsonOpt = False,
) -> None:
    """Score two names (0..1) and explain the score: aligned tokens, steps, score parts."""
    from listwatch.screening.compare import compare_names, default_threshold

    schema = _schema(entity_type)
    if schema == "any":
        schema = "LegalEntity"
    if not name1.strip() or not name2.strip():
        fail("both names must be given")
    comparison = compare_names(name1, name2, schema)
    threshold = default_threshold()
    payload = comparison.to_dict() | {
        "match": comparison.score >= threshold,
        "threshold": threshold,
        "schema": schema,
    }
    if as_json:
        emit_json(payload)
        return
    verdict = "[bold red]match[/]" if payload["match"] else "[green]no match[/]"
    console.print(f"score {comparison.score:.3f} ({verdict} at threshold {threshold})")
    console.print(
        f"  {name1!r} → {comparison.query.normalized!r}\n"
        f"  {name2!r} → {comparison.candidate.normalized!r}",
        highlight=False,
    )
    for match in comparison.matches:
        console.print(
            f"  {match.query} ~ {match.candidate}: {match.how} {match.similarity:.2f}",
            highlight=False,
        )
    if comparison.unmatched_query:
        console.print(f"  only in first: {' '.join(comparison.unmatched_query)}", highlight=False)
    if comparison.unmatched_candidate:
        console.print(
            f"  only in second: {' '.join(comparison.unmatched_candidate)}", highlight=False
        )
    for step in dict.fromkeys([*comparison.query.steps, *comparison.candidate.steps]):
        console.print(f"  step: {step}", highlight=False)
    parts = ", ".join(f"{k} {v:+.2f}" for k, v in comparison.parts.items() if v)
    console.print(f"  score parts (log-odds): {parts}", highlight=False, soft_wrap=True)


def _progress(total: int, label: str) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    return Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    )


def compare_batch_command(
    pairs: Annotated[Path, typer.Argument(help="CSV or Parquet with schema,name1,name2.")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV, Parquet or JSON.")],
) -> None:
    """Score name pairs from a file; adds score, match (at the default threshold), explanation."""
    from listwatch.screening.batch import compare_table, read_table, write_table

    with user_errors():
        table = read_table(pairs, ("name1", "name2"))
        columns, rows = compare_table(table)
        write_table(out, columns, rows)
    matches = sum(1 for r in rows if r["match"])
    console.print(f"{len(rows)} pairs scored, {matches} matches → {out}")


def _run_batch(
    path: Path,
    required: tuple[str, ...],
    as_of: str | None,
    known_at: str | None,
    role: str | None,
    schema: str,
    threshold: float | None,
    limit: int,
) -> tuple[InputFile, int, ScreenJob]:
    """Check the input file whole, open the index: what a batch run needs before it starts."""
    from listwatch.screening.batch import InputFile, ScreenJob

    day = parse_date(as_of, "--as-of") or today()
    known = parse_date(known_at, "--known-at")
    source = InputFile(path, required)
    total = source.check()
    registry = open_registry()
    if role:
        from listwatch.obligations.engine import role_scope

        role_scope(role)
    state = _open_index(registry)
    registry.dispose()
    job = ScreenJob(
        url=registry.url,
        index_dir=str(state.directory),
        as_of=day,
        known_at=known,
        role=role,
        schema=schema,
        threshold=threshold,
        limit=limit,
    )
    return source, total, job


def screen_batch_command(
    infile: Annotated[Path, typer.Argument(help="CSV or Parquet with a name column.")],
    out: Annotated[Path, typer.Option("--out", help="Output CSV, Parquet or JSON.")],
    entity_type: TypeOpt = "any",
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    role: RoleOpt = None,
    threshold: ThresholdOpt = None,
    workers: WorkersOpt = None,
) -> None:
    """Screen every row of a file (columns name, country, identifiers) on all cores."""
    from listwatch.screening.batch import TableWriter, run_parallel, screen_columns, screen_record

    schema = _schema(entity_type)
    matched = errors = 0
    with user_errors():
        source, total, job = _run_batch(
            infile, ("name",), as_of, known_at, role, schema, threshold, 5
        )
        with (
            _progress(total, "screening") as progress,
            TableWriter(out, screen_columns(source.columns)) as writer,
        ):
            task = progress.add_task("screening", total=total)
            screened = run_parallel(
                job, source.rows(), workers, lambda n: progress.advance(task, n)
            )
            for _line, row, result in screened:
                record = screen_record(row, result)
                matched += bool(record["match"])
                errors += bool(record["error"])
                writer.write(record)
    console.print(
        f"{writer.count} rows screened, {matched} with a match"
        + (f", {errors} with an error (see the error column)" if errors else "")
        + f" → {out}"
    )


def portfolio_command(
    holdings: Annotated[
        Path, typer.Argument(help="CSV or Parquet of holdings: name and/or identifiers.")
    ],
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    role: Annotated[str, typer.Option("--role", help="Kind of holder.")] = "us-investor",
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write CSV, Parquet or JSON.")
    ] = None,
    threshold: ThresholdOpt = None,
    workers: WorkersOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Exposure of a portfolio: which holdings are listed, where, and the duties with deadlines."""
    from listwatch.screening.batch import BatchError, portfolio_rows, run_parallel, write_table

    with user_errors():
        source, total, job = _run_batch(holdings, (), as_of, known_at, role, "any", threshold, 3)
        if not any(c.lower() in ("name", "identifiers", "isin", "ticker") for c in source.columns):
            raise BatchError(f"{holdings}: line 1: need a name or identifiers column")
        day = job.as_of
        with _progress(total, "screening") as progress:
            task = progress.add_task("screening", total=total)
            screened = run_parallel(
                job, source.rows(), workers, lambda n: progress.advance(task, n)
            )
            columns, rows = portfolio_rows(source.columns, screened)
        if out is not None:
            write_table(out, columns, rows)
    if as_json:
        emit_json(
            {
                "as_of": day.isoformat(),
                "role": role,
                "holdings": [
                    {k: v for k, v in r.items() if not k.startswith("_")}
                    | {"duties": r["_duties"], "statuses": r["_statuses"]}
                    for r in rows
                ],
            }
        )
        return
    grid = RichTable(title=f"Portfolio exposure as of {day} ({role})")
    for column in ("holding", "entity", "score", "lists", "duties"):
        grid.add_column(column)
    for row in rows:
        label = row.get("name") or row.get("Name") or row.get("identifiers") or ""
        grid.add_row(
            str(label),
            str(row["entity_name"] or "—"),
            f"{row['match_score']:.2f}" if row["match_score"] != "" else "",
            f"[bold red]{row['listed_on']}[/]" if row["exposed"] else _not_listed(row),
            row["duties"].replace(";", "\n") or "—",
        )
    console.print(grid)
    exposed = sum(1 for r in rows if r["exposed"])
    console.print(f"{exposed} of {len(rows)} holdings exposed" + (f" → {out}" if out else ""))


def _not_listed(row: dict[str, Any]) -> str:
    doubtful = [s["list"] for s in row["_statuses"] if s["uncertain"]]
    return (
        f"not listed ([yellow]uncertain on {', '.join(doubtful)}[/])" if doubtful else "not listed"
    )


def register(app: typer.Typer) -> None:
    """Add the screening commands to the ``listwatch`` app."""
    app.command("screen")(screen_command)
    app.command("compare")(compare_command)
    app.command("compare-batch")(compare_batch_command)
    app.command("screen-batch")(screen_batch_command)
    app.command("portfolio")(portfolio_command)
