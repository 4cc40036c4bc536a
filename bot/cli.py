"""`peerbot` command line: serve the bot, migrate the DB, load the inventory, list sessions."""
from __future__ import annotations

import getpass
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from bot.errors import PeerbotError
from bot.logs import setup_logging
from bot.settings import ConfigError, Settings

cli = typer.Typer(no_args_is_help=True, add_completion=False, help="peerbot: BGP peering sessions from Slack.")
db_cli = typer.Typer(no_args_is_help=True, help="Database schema.")
inventory_cli = typer.Typer(no_args_is_help=True, help="Routers, peer groups and exchanges.")
sessions_cli = typer.Typer(no_args_is_help=True, help="Peering sessions.")
cli.add_typer(db_cli, name="db")
cli.add_typer(inventory_cli, name="inventory")
cli.add_typer(sessions_cli, name="sessions")

log = logging.getLogger("peerbot")


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"peerbot: {message}", err=True)
    return typer.Exit(code)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = err.get("loc", ["?"])[0]
        raise fail(f"{name} is malformed: {err.get('msg')}") from None


def make_core(settings: Settings):  # noqa: ANN201
    from bot.core import Core

    try:
        return Core.from_settings(settings)
    except Exception as exc:  # noqa: BLE001 - a DB URL or connection problem: say so in one line
        raise fail(f"cannot open the database (PEERBOT_DATABASE_URL): {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None


def actor() -> str:
    return f"cli:{getpass.getuser()}"


@cli.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve HTTP (POST /slack/events) even if SLACK_APP_TOKEN is set.")] = False,
    host: Annotated[str, typer.Option(help="HTTP mode: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP mode: port to listen on.")] = 3000,
) -> None:
    """Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP."""
    settings = load_settings()
    setup_logging(settings.log_level)
    socket_mode = bool(settings.slack_app_token) and not http
    try:
        settings.require_slack(socket_mode)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    core = make_core(settings)
    if settings.inventory:
        _load_inventory(core, settings.inventory)
    from bot.app import build_app

    try:
        app = build_app(core, socket_mode=socket_mode)
    except Exception as exc:  # noqa: BLE001 - e.g. auth.test rejected the token
        raise fail(f"Slack rejected SLACK_BOT_TOKEN or is unreachable ({type(exc).__name__})") from None
    _start_polling(core, app)
    if socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("peerbot starting in Socket Mode")
        SocketModeHandler(app, settings.slack_app_token.get_secret_value()).start()  # type: ignore[union-attr]
    else:
        from bot.server import EVENTS_PATH, create_server

        server = create_server(app, core, host, port)
        log.info("peerbot serving HTTP on http://%s:%s%s (health: /healthz)", host, port, EVENTS_PATH)
        server.run()


def _start_polling(core, app) -> None:  # noqa: ANN001
    """Scheduled refreshes (PEERBOT_POLL_INTERVAL seconds; 0 = off) posting to PEERBOT_NOTIFY_CHANNEL."""
    from bot.notify import Notifier
    from bot.scheduler import Poller, start_scheduler
    from bot.services.changes import Changes
    from handlers.views.notices import poll_notice

    channel = core.settings.notify_channel
    notifier = Notifier(app.client) if channel else None
    poller = Poller(Changes(core), notifier, channel, poll_notice)
    if start_scheduler(poller, core.settings.poll_interval):
        log.info("polling routers every %ss%s", core.settings.poll_interval,
                 f", state changes to {channel}" if channel else " (no PEERBOT_NOTIFY_CHANNEL: not posting)")


@db_cli.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Create or migrate the schema (Alembic)."""
    settings = load_settings()
    setup_logging("WARNING")
    from storage.db import Database

    try:
        Database(settings.database_url).upgrade(revision)
    except Exception as exc:  # noqa: BLE001
        raise fail(f"migration failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None
    typer.echo(f"database at {revision}")


def _load_inventory(core, path: Path) -> None:  # noqa: ANN001
    from bot.services.inventory import load_inventory

    try:
        report = load_inventory(core.db, path)
    except PeerbotError as exc:
        raise fail(str(exc)) from None
    typer.echo(f"inventory {path}: {len(report.created)} created, {len(report.updated)} updated, "
               f"{len(report.unchanged)} unchanged")
    for label in report.created:
        typer.echo(f"  + {label}")
    for label in report.updated:
        typer.echo(f"  ~ {label}")


@inventory_cli.command("load")
def inventory_load(path: Path) -> None:
    """Create/update routers, peer groups and exchanges from a YAML file (idempotent)."""
    settings = load_settings()
    setup_logging("WARNING")
    _load_inventory(make_core(settings), path)


@sessions_cli.command("list")
def sessions_list(query: Annotated[list[str] | None, typer.Argument(help="Filter, as in /peering list.")] = None) -> None:
    """Print the sessions with their state (same filters as /peering list)."""
    settings = load_settings()
    setup_logging("WARNING")
    from bot.services.sessions import list_sessions

    core = make_core(settings)
    try:
        page = list_sessions(core.db, " ".join(query or []), page=1, page_size=10_000)
    except PeerbotError as exc:
        raise fail(str(exc)) from None
    rows = [("ID", "PEER", "ASN", "PEER IP", "ROUTER", "EXCHANGE", "STATE", "PFX RCVD", "SINCE")]
    from handlers.views.common import ago

    for v in page.items:
        rows.append((str(v.id), v.peer_name, f"AS{v.peer_asn}", v.peer_ip, v.router_name, v.exchange_name,
                     v.display_state, "-" if v.prefixes_received is None else str(v.prefixes_received),
                     ago(v.last_state_change) if v.last_state_change else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    typer.echo(f"{page.total} session(s)")


def _change(action: str, session_id: int) -> None:
    """Run one router change through the same service the Slack buttons use."""
    settings = load_settings()
    setup_logging("WARNING")
    from bot.services.changes import Changes
    from bot.services.router_config import plan

    core = make_core(settings)
    changes = Changes(core)
    try:
        if action == "configure":
            typer.echo("Pushing:\n  " + "\n  ".join(plan(core, session_id, "configure").masked))
        result = {"configure": changes.configure, "admin_down": changes.admin_down, "admin_up": changes.admin_up,
                  "deconfigure": changes.delete}[action](session_id, actor())
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None
    if not result.ok:
        raise fail(result.message, 1)
    typer.echo(result.message)


@sessions_cli.command("configure")
def sessions_configure(session_id: int) -> None:
    """Render, push, save and verify a session's neighbor config on its router."""
    _change("configure", session_id)


@sessions_cli.command("admin-down")
def sessions_admin_down(session_id: int) -> None:
    """Shut the BGP session down on the router."""
    _change("admin_down", session_id)


@sessions_cli.command("admin-up")
def sessions_admin_up(session_id: int) -> None:
    """Enable the BGP session on the router again."""
    _change("admin_up", session_id)


@sessions_cli.command("delete")
def sessions_delete(session_id: int, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False) -> None:
    """Remove the neighbor from the router (when configured), then the session."""
    if not yes:
        typer.confirm(f"Delete session #{session_id} (and its neighbor on the router)?", abort=True)
    _change("deconfigure", session_id)


@cli.command()
def refresh(router: Annotated[str | None, typer.Argument(help="Router name; all routers when left out.")] = None) -> None:
    """Poll routers now and store the BGP state of their sessions."""
    settings = load_settings()
    setup_logging("WARNING")
    from bot.services.catalog import list_routers
    from bot.services.changes import Changes

    core = make_core(settings)
    changes = Changes(core)
    if router:
        match = [r for r in list_routers(core.db) if r.name.lower() == router.lower()]
        if not match:
            raise fail(f"no router named {router}")
        results = [changes.poll_router(match[0].id)]
    else:
        results = changes.poll_all()
    for r in results:
        typer.echo(r.message)
        for c in r.changes:
            typer.echo(f"  #{c.session_id} {c.peer_ip}: {c.old or 'Unknown'} -> {c.new or 'Unknown'}")
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
