"""Server commands: ``serve``, ``token create/list/revoke``, ``watch ...``, ``alerts deliver``."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from listwatch.cli.common import console, emit_json, fail, open_registry, state, user_errors

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]

token_app = typer.Typer(help="API tokens for writes (imports, news, review, watches).")
watch_app = typer.Typer(help="Watches on entities and lists, delivered by webhook and Atom.")
alerts_app = typer.Typer(help="Alert dispatch and webhook delivery.")


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.", min=0, max=65535)] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.", min=1, max=64)] = 1,
    closed_reads: Annotated[
        bool, typer.Option("--closed-reads", help="Require a token to read, too.")
    ] = False,
    no_alerts: Annotated[
        bool, typer.Option("--no-alerts", help="Do not deliver alerts from this process.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the HTTP API and the web UI (creates and loads the database on first use)."""
    import os
    import socket

    import uvicorn

    from listwatch.api.settings import ServerSettings, SettingsError

    with user_errors():
        try:
            settings = ServerSettings.from_env(
                db=state.db,
                open_reads=False if closed_reads else None,
                deliver_alerts=False if no_alerts else None,
            )
        except SettingsError as exc:
            fail(str(exc))
        registry = open_registry()
    from listwatch.api.workers import can_share_port, reserve_port

    # Bind first, so the address printed is one that is really being served. Several
    # workers listen side by side on the port (each on a socket of its own) where the
    # system allows it, else on this one socket.
    share_port = workers > 1 and can_share_port()
    try:
        if share_port:
            sock = reserve_port(host, port)
        else:
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    # A plain line (not wrapped to the terminal) that scripts and people can both read.
    print(
        f"listwatch serving on http://{shown}:{bound_port} "
        f"(API /api/v1, reference /api, database {registry.dialect}); Ctrl+C stops",
        flush=True,
    )
    if workers > 1:
        # Build (or bring up to date) the screening index once, before the workers load it.
        from listwatch.screening.index import open_index

        with user_errors():
            open_index(registry)
        registry.dispose()
        os.environ["LISTWATCH_DB"] = registry.url
        os.environ["LISTWATCH_OPEN_READS"] = str(settings.open_reads).lower()
        os.environ["LISTWATCH_DELIVER_ALERTS"] = str(settings.deliver_alerts).lower()
        if share_port:
            from listwatch.api.workers import Supervisor, WorkerSpec

            Supervisor(WorkerSpec(host, bound_port, log_level), workers).run()
            sock.close()
            return
        config = uvicorn.Config(
            "listwatch.api.app:app_from_env",
            factory=True,
            workers=workers,
            log_level=log_level,
            proxy_headers=False,
        )
        from uvicorn.supervisors import Multiprocess

        sock.listen(2048)
        Multiprocess(config, sockets=[sock]).run()
        return
    from listwatch.api.app import create_app

    app = create_app(settings, registry)
    config = uvicorn.Config(app, log_level=log_level, proxy_headers=False)
    sock.listen(2048)
    uvicorn.Server(config).run(sockets=[sock])


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Argument(help="Who or what the token is for.")],
    scope: Annotated[
        list[str],
        typer.Option("--scope", help="read, import, news, review, watch or admin (repeat)."),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Create a token; it is printed once and stored only as a hash."""
    from listwatch.api.tokens import create_token

    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            row, text = create_token(session, name, scope)
            payload: dict[str, Any] = {
                "id": row.id,
                "name": row.name,
                "scopes": list(row.scopes or []),
                "token": text,
            }
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"token {payload['id']} for {payload['name']} ({', '.join(payload['scopes'])}):",
        highlight=False,
    )
    # The bare token on its own line, so that scripts can take the last line.
    print(text)


@token_app.command("list")
def token_list(as_json: JsonOpt = False) -> None:
    """Tokens with their scopes (never the tokens themselves)."""
    from listwatch.api.tokens import list_tokens

    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            rows: list[dict[str, Any]] = [
                {
                    "id": t.id,
                    "name": t.name,
                    "scopes": list(t.scopes or []),
                    "created_at": t.created_at.isoformat(),
                    "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
                }
                for t in list_tokens(session)
            ]
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "name", "scopes", "created", "revoked")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["name"],
            ", ".join(row["scopes"]),
            row["created_at"][:10],
            (row["revoked_at"] or "")[:10],
        )
    console.print(table)


@token_app.command("revoke")
def token_revoke(
    token: Annotated[str, typer.Argument(help="Token id or name.")], as_json: JsonOpt = False
) -> None:
    """Revoke a token: requests carrying it are refused from now on."""
    from listwatch.api.tokens import revoke_token

    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            row = revoke_token(session, token)
            payload = {"id": row.id, "name": row.name, "revoked_at": row.revoked_at}
    if as_json:
        emit_json(payload)
        return
    console.print(f"revoked token {payload['id']} ({payload['name']})", highlight=False)


@watch_app.command("add")
def watch_add(
    target: Annotated[str, typer.Argument(help="Entity name/id, or list id with --list.")],
    is_list: Annotated[bool, typer.Option("--list", help="TARGET is a list id.")] = False,
    webhook: Annotated[str | None, typer.Option("--webhook", help="http(s) URL.")] = None,
    secret: Annotated[
        str | None, typer.Option("--secret", help="HMAC secret (default: a random one).")
    ] = None,
    label: Annotated[str | None, typer.Option("--label", help="A label.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Watch an entity or a list; events recorded from now on become alerts."""
    from listwatch.alerts.watches import create_watch, watch_dict

    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            watch = create_watch(
                session,
                "list" if is_list else "entity",
                target,
                label=label,
                webhook_url=webhook,
                secret=secret,
            )
            payload = watch_dict(watch, with_secret=True)
    if as_json:
        emit_json(payload)
        return
    console.print(f"watch {payload['id']}: {payload['label']} ({payload['target_kind']})")
    console.print(f"  feed: {payload['feed_path']}", highlight=False)
    if payload.get("secret"):
        console.print(f"  webhook secret (shown once): {payload['secret']}", highlight=False)


@watch_app.command("list")
def watch_list(as_json: JsonOpt = False) -> None:
    """Active watches."""
    from listwatch.alerts.watches import list_watches, watch_dict

    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            rows = [watch_dict(w) for w in list_watches(session)]
    if as_json:
        emit_json(rows)
        return
    table = Table("id", "kind", "target", "label", "webhook", "feed")
    for row in rows:
        table.add_row(
            str(row["id"]),
            row["target_kind"],
            row["target_id"],
            row["label"] or "",
            row["webhook_url"] or "",
            row["feed_path"],
        )
    console.print(table)


@watch_app.command("remove")
def watch_remove(
    watch_id: Annotated[int, typer.Argument(help="Watch id.")], as_json: JsonOpt = False
) -> None:
    """Stop a watch (its alerts and feed stay)."""
    from listwatch.alerts.watches import delete_watch

    with user_errors():
        registry = open_registry()
        with registry.transaction() as session:
            watch = delete_watch(session, watch_id)
            payload: dict[str, Any] = {"id": watch.id, "active": watch.active}
    if as_json:
        emit_json(payload)
        return
    console.print(f"stopped watch {watch_id}")


@alerts_app.command("deliver")
def alerts_deliver(as_json: JsonOpt = False) -> None:
    """Create alerts for newly recorded events and send the webhook deliveries now due."""
    from listwatch.alerts.delivery import DeliveryPolicy
    from listwatch.alerts.worker import run_round
    from listwatch.api.settings import ServerSettings, SettingsError

    with user_errors():
        try:
            settings = ServerSettings.from_env()
        except SettingsError as exc:
            fail(str(exc))
        policy = DeliveryPolicy(
            retry_base=settings.retry_base,
            retry_max=settings.retry_max,
            max_attempts=settings.max_attempts,
            timeout=settings.webhook_timeout,
        )
        registry = open_registry()
        report = run_round(registry, policy)
    payload = {
        "alerts": report.alerts,
        "delivered": report.delivery.delivered,
        "retry": report.delivery.retried,
        "failed": report.delivery.failed,
        "errors": report.delivery.errors,
    }
    if as_json:
        emit_json(payload)
        return
    console.print(
        f"{payload['alerts']} new alert(s); {payload['delivered']} delivered, "
        f"{payload['retry']} to retry, {payload['failed']} given up"
    )
    for error in report.delivery.errors:
        console.print(f"  [yellow]{error}[/]", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the server commands to the CLI."""
    app.command("serve")(serve_command)
    app.add_typer(token_app, name="token")
    app.add_typer(watch_app, name="watch")
    app.add_typer(alerts_app, name="alerts")
