"""Spark commands: ``spark screen``, ``spark news`` and ``spark load-news``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

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

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
MasterOpt = Annotated[
    str,
    typer.Option(
        "--master",
        help="Spark master: local[*] (this machine), local[N], spark://host:7077, yarn, "
        "k8s://... (default: $LISTWATCH_SPARK_MASTER or local[*]).",
        envvar="LISTWATCH_SPARK_MASTER",
    ),
]
ConfOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--conf", help="Spark setting KEY=VALUE (repeatable), e.g. spark.executor.memory=4g."
    ),
]
FormatOpt = Annotated[
    str, typer.Option("--format", help="Output format: parquet, csv or json (JSON lines).")
]
PartitionsOpt = Annotated[
    int | None, typer.Option("--partitions", min=1, help="Tasks to split the input into.")
]
OverwriteOpt = Annotated[
    bool, typer.Option("--overwrite", help="Replace OUTPUT if it exists (default: refuse).")
]

spark_app = typer.Typer(
    help="Batch jobs on Apache Spark: screening and news extraction at scale.",
    no_args_is_help=True,
)


def _session(master: str, conf: list[str] | None, name: str) -> Any:
    from listwatch.scale.session import parse_conf, spark_session

    return spark_session(master, f"listwatch {name}", parse_conf(conf))


@spark_app.command("screen")
def screen_command(
    infile: Annotated[str, typer.Argument(help="CSV (header row) or Parquet with a name column.")],
    output: Annotated[str, typer.Argument(help="Output directory (part files).")],
    master: MasterOpt = "local[*]",
    entity_type: Annotated[
        str, typer.Option("--type", help="company, person, organization, vessel or any.")
    ] = "any",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Date of the list status (default today).")
    ] = None,
    known_at: Annotated[
        str | None, typer.Option("--known-at", help="Only what was recorded by this date.")
    ] = None,
    role: Annotated[
        str | None, typer.Option("--role", help="Add the duties of this kind of user.")
    ] = None,
    threshold: Annotated[
        float | None, typer.Option("--threshold", min=0.0, max=1.0, help="Minimum score.")
    ] = None,
    output_format: FormatOpt = "parquet",
    partitions: PartitionsOpt = None,
    overwrite: OverwriteOpt = False,
    conf: ConfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Screen every row of a file on Spark: the columns of screen-batch, scored by the same code.

    The registry is read on the driver; the screening index is broadcast to the executors.
    """
    from listwatch.cli.screening import _schema  # the --type names every screening command takes
    from listwatch.scale.screen import FORMATS, ScreenOptions, run_screen

    if output_format not in FORMATS:
        fail(f"--format: one of {', '.join(FORMATS)}, not {output_format!r}")
    options = ScreenOptions(
        as_of=parse_date(as_of, "--as-of") or today(),
        known_at=parse_date(known_at, "--known-at"),
        role=role,
        schema=_schema(entity_type),
        threshold=threshold,
        output_format=output_format,
        partitions=partitions,
        overwrite=overwrite,
    )
    _check_input(infile)
    with user_errors():
        if role:
            from listwatch.obligations.engine import role_scope

            role_scope(role)
        registry = open_registry()
        with _session(master, conf, "screen") as spark:
            report = run_screen(spark, registry, infile, output, options)
    if as_json:
        emit_json(report.to_dict())
        return
    console.print(
        f"{report.rows} rows screened on {master} in {report.seconds:.1f} s "
        f"({report.partitions} tasks), {report.matched} with a match"
        + (f", {report.errors} with an error (see the error column)" if report.errors else "")
        + f" → {output}",
        highlight=False,
    )


@spark_app.command("news")
def news_command(
    infile: Annotated[
        str,
        typer.Argument(
            help="JSON lines (.jsonl, .ndjson, .json) or Parquet corpus: file or directory."
        ),
    ],
    output: Annotated[str, typer.Argument(help="Output directory (part files).")],
    master: MasterOpt = "local[*]",
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", help="Report events at least this confident.")
    ] = 0.5,
    max_mb: Annotated[
        float, typer.Option("--max-mb", help="Largest article accepted, in MB.")
    ] = 20.0,
    output_format: Annotated[
        str, typer.Option("--format", help="Output format: parquet or json (JSON lines).")
    ] = "parquet",
    partitions: PartitionsOpt = None,
    overwrite: OverwriteOpt = False,
    load: Annotated[
        bool, typer.Option("--load", help="Then store the results in the registry (load-news).")
    ] = False,
    conf: ConfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Extract the events of every article of a corpus on Spark (listwatch's news pipeline).

    Each record is {"text" | "html", "url"?, "published"?, "language"?, "title"?, "id"?}.
    A record that cannot be read is reported in the output's error column, not fatal.
    """
    from listwatch.scale.news import FORMATS, NewsOptions, run_news

    if output_format not in FORMATS:
        fail(f"--format: one of {', '.join(FORMATS)}, not {output_format!r}")
    options = NewsOptions(
        min_confidence=min_confidence,
        max_bytes=int(max_mb * 1024 * 1024),
        output_format=output_format,
        partitions=partitions,
        overwrite=overwrite,
    )
    _check_input(infile)
    with user_errors():
        registry = open_registry()
        with _session(master, conf, "news") as spark:
            report = run_news(spark, registry, infile, output, options)
        payload: dict[str, Any] = {"extract": report.to_dict()}
        if load:
            payload["load"] = _load(registry, output, 500).to_json()
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"{report.records} records read on {master} in {report.seconds:.1f} s: "
        f"{report.documents} articles, {report.events} events"
        + (
            f", {report.errors} records with an error (see the error column)"
            if report.errors
            else ""
        )
        + f" → {output}",
        highlight=False,
    )
    for problem in report.first_errors:
        err_console.print(f"  [yellow]{problem}[/]", highlight=False)
    if load:
        _print_load(payload["load"])


def _load(registry: Any, output: str, batch: int) -> Any:
    from listwatch.scale.news import load_news

    return load_news(registry, Path(output), batch=batch)


def _print_load(summary: dict[str, Any]) -> None:
    console.print(
        f"loaded: {summary['documents']} articles stored ({summary['duplicates']} already known), "
        f"{len(summary['events_created'])} events proposed, "
        f"{len(summary['evidence_added'])} events with more evidence, "
        f"{len(summary['entities_proposed'])} new entities proposed, "
        f"{len(summary['confirmed'])} confirmed by the official record, "
        f"{summary['skipped']} records with an error skipped",
        highlight=False,
    )


@spark_app.command("load-news")
def load_news_command(
    output: Annotated[Path, typer.Argument(help="The output directory of `spark news`.")],
    batch: Annotated[int, typer.Option("--batch", min=1, help="Articles per transaction.")] = 500,
    as_json: JsonOpt = False,
) -> None:
    """Store the articles and events of a `spark news` output in the registry.

    Each batch of articles is one transaction; articles already stored are skipped, so an
    interrupted load is completed by running it again.
    """
    with user_errors():
        registry = open_registry()
        summary = _load(registry, str(output), batch).to_json()
    if as_json:
        emit_json(summary)
        return
    _print_load(summary)


def _check_input(path: str) -> None:
    if "://" not in path and not Path(path).exists():
        fail(f"no such file or directory: {path}")


def register(app: typer.Typer) -> None:
    """Add ``spark`` to the ``listwatch`` command."""
    app.add_typer(spark_app, name="spark")
