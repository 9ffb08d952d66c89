"""News commands: ``news ingest``, ``news extract``, ``news follow``, ``news evaluate`` and
``review`` (list, accept, reject)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from listwatch.cli.common import console, emit_json, fail, open_registry, user_errors

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PathsArg = Annotated[
    list[str],
    typer.Argument(help="Files or directories (text, HTML, JSON lines, RSS/Atom); - for stdin."),
]
LanguageOpt = Annotated[
    str | None, typer.Option("--language", help="Language of every input (default: detected).")
]
PublishedOpt = Annotated[
    str | None,
    typer.Option(
        "--published", help="Publication date of every input (YYYY, YYYY-MM, YYYY-MM-DD)."
    ),
]
EncodingOpt = Annotated[
    str | None, typer.Option("--encoding", help="Encoding of text inputs (default: UTF-8).")
]
MaxMbOpt = Annotated[float, typer.Option("--max-mb", help="Largest document accepted, in MB.")]
MinConfidenceOpt = Annotated[
    float, typer.Option("--min-confidence", help="Report events at least this confident.")
]

news_app = typer.Typer(
    help="Read articles and extract what they say about listed entities.", no_args_is_help=True
)
review_app = typer.Typer(
    help="Review proposed (news-derived) events: list, accept, reject.", no_args_is_help=True
)


class _NewsErrors:
    """Turn input, language and registry errors into one line and exit code 2."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, _tb: Any) -> None:
        if exc is None:
            return
        from listwatch.news.documents import InputError
        from listwatch.news.langid import UnsupportedLanguageError
        from listwatch.news.langpack import LanguagePackError

        if isinstance(exc, InputError | UnsupportedLanguageError | LanguagePackError):
            fail(str(exc))


def _read(
    paths: list[str],
    language: str | None,
    published: str | None,
    encoding: str | None,
    max_mb: float,
) -> list[Any]:
    from listwatch.news.documents import parse_published, read_paths

    stdin = sys.stdin.buffer.read() if "-" in paths else None
    return read_paths(
        paths,
        stdin=stdin,
        encoding=encoding,
        published=parse_published(published, "--published"),
        language=language,
        max_bytes=int(max_mb * 1024 * 1024),
    )


@news_app.command("extract")
def extract_command(
    paths: PathsArg,
    as_json: JsonOpt = False,
    language: LanguageOpt = None,
    published: PublishedOpt = None,
    encoding: EncodingOpt = None,
    max_mb: MaxMbOpt = 20.0,
    min_confidence: MinConfidenceOpt = 0.5,
) -> None:
    """Print the events articles state (one JSON object per line with --json); store nothing."""
    with user_errors(), _NewsErrors():
        documents = _read(paths, language, published, encoding, max_mb)
        registry = open_registry()
        with registry.transaction() as session:
            from listwatch.news.ingest import annotate_conflicts
            from listwatch.news.pipeline import NewsPipeline

            pipeline = NewsPipeline.from_session(session, min_confidence=min_confidence)
            results = [pipeline.process(d) for d in documents]
            for result in results:
                annotate_conflicts(session, result.events)
            session.rollback()
        for result in results:
            for event in result.events:
                payload = event.to_json()
                if as_json:
                    sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
                else:
                    _print_event(payload)
        if not as_json:
            total = sum(len(r.events) for r in results)
            console.print(f"{total} events in {len(results)} documents", style="dim")


def _print_event(payload: dict[str, Any]) -> None:
    date = payload["date"] or (
        f"({payload['date_text']}, unresolved)" if payload["date_text"] else "undated"
    )
    where = payload["list"] or ",".join(payload["countries"]) or "-"
    flag = "  [bold red]conflict[/]: " + payload["conflict"]["note"] if payload["conflict"] else ""
    console.print(
        f"[bold]{payload['entity']}[/] {payload['kind']} {where} {date} "
        f"(confidence {payload['confidence']:.2f}, {payload['doc']}){flag}",
        highlight=False,
    )
    console.print(f"    “{payload['evidence']}”", style="dim", highlight=False)


@news_app.command("ingest")
def ingest_command(
    paths: PathsArg,
    as_json: JsonOpt = False,
    language: LanguageOpt = None,
    published: PublishedOpt = None,
    encoding: EncodingOpt = None,
    max_mb: MaxMbOpt = 20.0,
    min_confidence: MinConfidenceOpt = 0.5,
) -> None:
    """Store articles and the events they state (proposed until reviewed); all or nothing."""
    with user_errors(), _NewsErrors():
        documents = _read(paths, language, published, encoding, max_mb)
        registry = open_registry()
        with registry.transaction() as session:
            from listwatch.news.ingest import ingest
            from listwatch.news.pipeline import NewsPipeline

            report = ingest(
                session,
                documents,
                NewsPipeline.from_session(session, min_confidence=min_confidence),
            )
        _print_report(report.to_json(), as_json)


def _print_report(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(summary)
        return
    console.print(
        f"{summary['documents']} documents stored ({summary['duplicates']} already known), "
        f"{len(summary['events_created'])} events proposed, "
        f"{len(summary['evidence_added'])} events with more evidence, "
        f"{len(summary['entities_proposed'])} new entities proposed",
        highlight=False,
    )
    for item in summary["confirmed"]:
        console.print(
            f"event {item['event_id']} accepted: "
            f"confirmed by official event {item['confirmed_by']}",
            highlight=False,
        )
    if summary["conflicts"]:
        console.print(
            f"conflicting dates flagged on events {', '.join(map(str, summary['conflicts']))}",
            style="yellow",
            highlight=False,
        )


@news_app.command("follow")
def follow_command(
    feeds: Annotated[list[str], typer.Argument(help="RSS or Atom feed URLs.")],
    as_json: JsonOpt = False,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most this many new items per feed.")
    ] = None,
    max_mb: MaxMbOpt = 20.0,
) -> None:
    """Fetch new items of feeds (their pages) and ingest them."""
    with user_errors(), _NewsErrors():
        from sqlalchemy import select

        from listwatch.news.feeds import follow_feed, http_fetch
        from listwatch.news.ingest import ingest
        from listwatch.registry.models import Document

        registry = open_registry()
        fetch = http_fetch(max_bytes=int(max_mb * 1024 * 1024))
        with registry.transaction() as session:
            known = {
                u
                for u in session.scalars(select(Document.url).where(Document.url.is_not(None)))
                if u
            }
        documents, problems = [], []
        for feed in feeds:
            found, issues = follow_feed(
                feed, fetch, known, limit=limit, max_bytes=int(max_mb * 1024 * 1024)
            )
            documents += found
            problems += issues
        with registry.transaction() as session:
            from listwatch.news.pipeline import NewsPipeline

            pipeline = NewsPipeline.from_session(session)
            readable, skipped = [], []
            from listwatch.news.langid import UnsupportedLanguageError

            for document in documents:
                try:
                    pipeline.language_of(document, document.text)
                    readable.append(document)
                except UnsupportedLanguageError as exc:
                    skipped.append(str(exc))
            report = ingest(session, readable, pipeline)
        summary = report.to_json() | {"fetched": len(documents), "problems": problems + skipped}
        _print_report(summary, as_json)
        if not as_json:
            for problem in problems + skipped:
                console.print(f"skipped: {problem}", style="yellow", highlight=False)


@news_app.command("evaluate")
def evaluate_command(
    gold: Annotated[Path, typer.Argument(help="Gold events (JSON lines).")],
    documents: Annotated[Path, typer.Argument(help="Directory of the annotated articles.")],
    as_json: JsonOpt = False,
) -> None:
    """Precision, recall and F1 per kind and language, and date accuracy, against gold events."""
    with user_errors(), _NewsErrors():
        from listwatch.news.evaluate import run_evaluation

        registry = open_registry()
        with registry.transaction() as session:
            evaluation = run_evaluation(session, gold, documents)
            session.rollback()
        if as_json:
            emit_json(evaluation.to_json())
        else:
            console.print(evaluation.to_markdown(str(gold)), highlight=False)


@review_app.command("list")
def review_list(
    state: Annotated[
        str, typer.Option("--state", help="proposed, accepted, rejected or all.")
    ] = "proposed",
    entity: Annotated[
        str | None, typer.Option("--entity", help="Only this entity (name or id).")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Events waiting for review (or in another state), with their evidence."""
    from listwatch.registry.domain import ReviewState

    if state not in ("proposed", "accepted", "rejected", "all"):
        fail(f"--state must be proposed, accepted, rejected or all, not {state!r}")
    with user_errors():
        from listwatch.news.review import event_json, list_events

        registry = open_registry()
        with registry.transaction() as session:
            entity_id = None
            if entity:
                from listwatch.registry.entities import resolve_entity

                entity_id = resolve_entity(session, entity).id
            events = list_events(
                session,
                None if state == "all" else ReviewState(state),
                entity_id=entity_id,
                limit=limit,
            )
            rows = [event_json(session, e) for e in events]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        date = row["date"] or "undated"
        flag = f" [bold red]conflict[/] ({row['conflict']['note']})" if row["conflict"] else ""
        console.print(
            f"[bold]#{row['id']}[/] {row['state']} {row['entity']} {row['kind']} "
            f"{row['list'] or '-'} "
            f"{date} conf {row['confidence']:.2f}, {len(row['evidence'])} sources{flag}",
            highlight=False,
        )
        for evidence in row["evidence"][:3]:
            console.print(
                f"    “{evidence['text']}” — {evidence['document']}", style="dim", highlight=False
            )
    if not rows:
        console.print(f"no {state} events", style="dim")


def _decide(
    event_id: int, state: str, reason: str | None, reviewer: str | None, as_json: bool
) -> None:
    from listwatch.registry.domain import ReviewState

    with user_errors():
        from listwatch.news.review import decide, event_json

        registry = open_registry()
        with registry.transaction() as session:
            event = decide(session, event_id, ReviewState(state), reason, reviewer)
            row = event_json(session, event)
    if as_json:
        emit_json(row)
    else:
        console.print(f"event {event_id} {state}", highlight=False)


@review_app.command("accept")
def review_accept(
    event_id: Annotated[int, typer.Argument(help="Event id (see `listwatch review list`).")],
    reason: Annotated[str | None, typer.Option("--reason")] = None,
    reviewer: Annotated[str | None, typer.Option("--reviewer")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept a proposed event: it now counts in statuses."""
    _decide(event_id, "accepted", reason, reviewer, as_json)


@review_app.command("reject")
def review_reject(
    event_id: Annotated[int, typer.Argument(help="Event id (see `listwatch review list`).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    reviewer: Annotated[str | None, typer.Option("--reviewer")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a proposed event, with a reason."""
    _decide(event_id, "rejected", reason, reviewer, as_json)


def register(app: typer.Typer) -> None:
    """Add ``news`` and ``review`` to the ``listwatch`` command."""
    app.add_typer(news_app, name="news")
    app.add_typer(review_app, name="review")
