"""Registry commands: status, history, diff, obligations, lists, entity."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Column, Table

from listwatch.cli.common import (
    console,
    emit_json,
    fail,
    open_registry,
    parse_date,
    today,
    user_errors,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Date of the status (YYYY-MM-DD).")]
KnownAtOpt = Annotated[
    str | None,
    typer.Option("--known-at", help="Answer with only what was recorded by this date."),
]

STATUS_STYLE = {
    "listed": "bold red",
    "listed_suspended": "bold yellow",
    "removed": "green",
    "never_listed": "dim",
}


def _entity_json(entity: Any) -> dict[str, Any]:
    return {
        "id": entity.id,
        "schema": entity.schema,
        "name": entity.name,
        "country": entity.country,
    }


def _source_line(event: dict[str, Any]) -> str:
    evidence = event.get("evidence") or []
    if not evidence:
        return "no evidence recorded"
    first = evidence[0]
    return first.get("citation") or first.get("title") or first.get("url") or "source"


def _check_list(session: Any, list_id: str | None) -> None:
    from listwatch.registry.models import RestrictionList

    if list_id is not None and session.get(RestrictionList, list_id) is None:
        fail(f"unknown list id {list_id!r} (see `listwatch lists`)")


def status_command(
    name: Annotated[str, typer.Argument(help="Entity name, alias, identifier or id.")],
    list_id: Annotated[str | None, typer.Option("--list", help="Only this list id.")] = None,
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Status of an entity on each list as of a date (listed, suspended by court, removed)."""
    day = parse_date(as_of, "--as-of") or today()
    known = parse_date(known_at, "--known-at")
    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            from listwatch.registry.entities import resolve_entity
            from listwatch.registry.status import since_text, status, status_words, statuses

            _check_list(session, list_id)
            entity = resolve_entity(session, name)
            if list_id:
                results = [status(session, entity.id, list_id, day, known)]
            else:
                results = statuses(session, entity.id, day, known)
            payload: dict[str, Any] = {
                "entity": _entity_json(entity),
                "as_of": day.isoformat(),
                "known_at": known.isoformat() if known else None,
                "statuses": [r.to_dict() for r in results],
            }
    if as_json:
        emit_json(payload)
        return
    header = f"[bold]{entity.name}[/] [dim]({entity.id})[/] as of {day}"
    if known:
        header += f", as known on {known}"
    console.print(header)
    if not results:
        console.print("  not on any list known to the registry")
    for result in payload["statuses"]:
        style = STATUS_STYLE[result["status"]]
        line = f"  {result['list']}: [{style}]{status_words(result)}[/]"
        line += since_text(result)
        if result["uncertain"]:
            line += " [yellow](uncertain)[/]"
        console.print(line)
        for event in result["events"]:
            console.print(
                f"    {event['kind']} {event['date']}: {_source_line(event)}", highlight=False
            )
        for note in result["notes"]:
            console.print(f"    [yellow]note:[/] {note}")


def history_command(
    name: Annotated[str, typer.Argument(help="Entity name, alias, identifier or id.")],
    known_at: KnownAtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Status intervals of an entity on every list, with the events and their sources."""
    known = parse_date(known_at, "--known-at")
    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            from listwatch.registry.domain import qualified
            from listwatch.registry.entities import resolve_entity
            from listwatch.registry.status import history

            entity = resolve_entity(session, name)
            histories = history(session, entity.id, known)
            payload: dict[str, Any] = {
                "entity": _entity_json(entity),
                "known_at": known.isoformat() if known else None,
                "lists": [h.to_dict() for h in histories],
            }
    if as_json:
        emit_json(payload)
        return
    console.print(f"[bold]{entity.name}[/] [dim]({entity.id})[/]")
    for item in payload["lists"]:
        console.print(f"\n[bold]{item['list'] or 'not list-specific'}[/]")
        for interval in item["intervals"]:
            style = STATUS_STYLE[interval["status"]]
            began = qualified(interval["from"], interval["from_qualifier"])
            end = qualified(interval["to"], interval["to_qualifier"]) if interval["to"] else "now"
            console.print(
                f"  [{style}]{interval['status'].replace('_', ' '):<17}[/] "
                f"{began} → {end}   {_source_line(interval['event'])}",
                highlight=False,
            )
        for event in item["events"]:
            when = qualified(event["date"], event["date_qualifier"]) if event["date"] else "undated"
            console.print(
                f"  [cyan]{event['kind']:<17}[/] {when}   {_source_line(event)}",
                highlight=False,
            )


def diff_command(
    list_id: Annotated[str, typer.Argument(help="List id, e.g. us-dod-cmc.")],
    date_from: Annotated[str, typer.Option("--from", help="Start date (exclusive).")],
    date_to: Annotated[str, typer.Option("--to", help="End date (inclusive).")],
    known_at: KnownAtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Who was added, suspended, reinstated, removed or amended on a list between two dates."""
    start = parse_date(date_from, "--from")
    end = parse_date(date_to, "--to")
    known = parse_date(known_at, "--known-at")
    assert start is not None and end is not None
    if end < start:
        fail("--to is before --from")
    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            from listwatch.registry.domain import qualified
            from listwatch.registry.models import Entity
            from listwatch.registry.status import diff

            _check_list(session, list_id)
            changes = diff(session, list_id, start, end, known)
            names = {c.entity_id: session.get(Entity, c.entity_id) for c in changes}
            rows = []
            for change in changes:
                row = change.to_dict()
                entity = names[change.entity_id]
                row["entity_name"] = entity.name if entity else change.entity_id
                rows.append(row)
    summary: dict[str, int] = {}
    for row in rows:
        summary[row["change"]] = summary.get(row["change"], 0) + 1
    payload: dict[str, Any] = {
        "list": list_id,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "summary": summary,
        "changes": rows,
    }
    if as_json:
        emit_json(payload)
        return
    counts = ", ".join(f"{n} {k}" for k, n in sorted(summary.items())) or "no changes"
    console.print(f"[bold]{list_id}[/] from {start} to {end}: {counts}")
    table = Table(Column("date", no_wrap=True), "change", "entity", "source")
    for row in rows:
        when = qualified(row["date"], row["event"]["date_qualifier"])
        table.add_row(when, row["change"], row["entity_name"], _source_line(row["event"]))
    if rows:
        console.print(table)


def obligations_command(
    name: Annotated[str, typer.Argument(help="Entity name, alias, identifier or id.")],
    role: Annotated[
        str, typer.Option("--role", help="us-investor, us-exporter, us-federal-buyer, ...")
    ],
    as_of: AsOfOpt = None,
    known_at: KnownAtOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Concrete dated duties a user of a role has towards an entity on a date."""
    day = parse_date(as_of, "--as-of") or today()
    known = parse_date(known_at, "--known-at")
    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            from listwatch.obligations import duty_dates, obligations
            from listwatch.registry.entities import resolve_entity

            entity = resolve_entity(session, name)
            duties = obligations(session, entity.id, day, role, known)
            payload: dict[str, Any] = {
                "entity": _entity_json(entity),
                "as_of": day.isoformat(),
                "role": role,
                "duties": [d.to_dict() for d in duties],
            }
    if as_json:
        emit_json(payload)
        return
    console.print(f"[bold]{entity.name}[/] — duties of a {role} as of {day}")
    if not duties:
        console.print("  no duty: the entity is not on a list whose rules bind this role")
    for duty in payload["duties"]:
        console.print(
            f"  [{'bold red' if duty['state'] == 'in_force' else 'yellow'}]{duty['state']}[/] "
            f"{duty['duty']} ({duty['list']}) {' · '.join(duty_dates(duty))}"
            + (
                " [yellow](uncertain)[/]"
                if duty["uncertain"] and duty["state"] != "uncertain"
                else ""
            ),
            highlight=False,
        )
        console.print(f"    {duty['summary']}", highlight=False)
        if duty["note"]:
            console.print(f"    [dim]{duty['note']}[/]", highlight=False)
        console.print(f"    [dim]basis: {duty['legal_basis']}[/]", highlight=False)


def lists_command(as_json: JsonOpt = False) -> None:
    """The lists known to the registry, with their authority and names."""
    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            from sqlalchemy import func, select

            from listwatch.registry.models import Event, RestrictionList

            rows = session.execute(
                select(Event.list_id, func.count(func.distinct(Event.entity_id))).group_by(
                    Event.list_id
                )
            )
            counts = {list_id: count for list_id, count in rows}
            payload: list[dict[str, Any]] = [
                {
                    "id": r.id,
                    "name": r.name,
                    "short_name": r.short_name,
                    "authority": r.authority_id,
                    "url": r.url,
                    "legal_basis": r.legal_basis,
                    "names": [{"lang": n.lang, "name": n.name} for n in r.names],
                    "entities_with_events": counts.get(r.id, 0),
                }
                for r in session.scalars(select(RestrictionList).order_by(RestrictionList.id))
            ]
    if as_json:
        emit_json(payload)
        return
    table = Table("id", "name", "authority", "entities")
    for item in payload:
        table.add_row(
            item["id"], item["name"], item["authority"], str(item["entities_with_events"])
        )
    console.print(table)


def entity_command(
    name: Annotated[str, typer.Argument(help="Entity name, alias, identifier or id.")],
    as_json: JsonOpt = False,
) -> None:
    """An entity's names, identifiers, relations and merged records."""
    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            from sqlalchemy import or_, select

            from listwatch.registry.entities import member_ids, resolve_entity
            from listwatch.registry.models import Relation

            entity = resolve_entity(session, name)
            relations = session.scalars(
                select(Relation).where(
                    or_(Relation.subject_id == entity.id, Relation.object_id == entity.id)
                )
            ).all()
            payload: dict[str, Any] = {
                **_entity_json(entity),
                "names": [
                    {"name": n.name, "kind": n.kind, "lang": n.lang, "script": n.script}
                    for n in entity.names
                ],
                "identifiers": [{"scheme": i.scheme, "value": i.value} for i in entity.identifiers],
                "relations": [
                    {"subject": r.subject_id, "kind": r.kind, "object": r.object_id}
                    for r in relations
                ],
                "merged_records": sorted(member_ids(session, entity.id) - {entity.id}),
            }
    if as_json:
        emit_json(payload)
        return
    console.print(f"[bold]{payload['name']}[/] [dim]({payload['id']}, {payload['schema']})[/]")
    for item in payload["names"]:
        console.print(f"  {item['kind']:<8} {item['name']} [dim]{item['lang'] or ''}[/]")
    for item in payload["identifiers"]:
        console.print(f"  {item['scheme']:<8} {item['value']}")
    for item in payload["relations"]:
        console.print(f"  {item['subject']} {item['kind']} {item['object']}")
    if payload["merged_records"]:
        console.print(f"  merged records: {', '.join(payload['merged_records'])}")


def register(app: typer.Typer) -> None:
    """Add the registry commands to the CLI."""
    app.command("status")(status_command)
    app.command("history")(history_command)
    app.command("diff")(diff_command)
    app.command("obligations")(obligations_command)
    app.command("lists")(lists_command)
    app.command("entity")(entity_command)
