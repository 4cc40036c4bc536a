"""`peerbot` command line: serve the bot, migrate the DB, load the inventory, list sessions."""
from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr

from bot.base.errors import PeerbotError
from bot.base.logs import setup_logging
from bot.core.settings import ConfigError, Settings
from bot.cli.adoption import drift_cli, routers_discover
from bot.cli.catalog import exchanges_list, routers_cli, sessions_add, sessions_show
from bot.cli.changes import audit, carry_out, changes_cli
from bot.cli.context import fail, load_settings, make_core
from bot.cli.edit import sessions_edit
from bot.cli.irr import irr_cli

# No local variables in tracebacks: they would print tokens and keys.
cli = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_show_locals=False,
                  help="peerbot: BGP peering sessions from Slack.")
db_cli = typer.Typer(no_args_is_help=True, help="Database schema.")
inventory_cli = typer.Typer(no_args_is_help=True, help="Routers, peer groups and exchanges.")
sessions_cli = typer.Typer(no_args_is_help=True, help="Peering sessions.")
cli.add_typer(db_cli, name="db")
cli.add_typer(inventory_cli, name="inventory")
cli.add_typer(sessions_cli, name="sessions")
peeringdb_cli = typer.Typer(no_args_is_help=True, help="The local PeeringDB mirror.")
exchanges_cli = typer.Typer(no_args_is_help=True, help="Exchanges (from the PeeringDB mirror).")
cli.add_typer(peeringdb_cli, name="peeringdb")
cli.add_typer(exchanges_cli, name="exchanges")

log = logging.getLogger("peerbot")


@cli.command()
def serve(
    http: Annotated[bool, typer.Option("--http", help="Serve HTTP (POST /slack/events) even if SLACK_APP_TOKEN is set.")] = False,
    host: Annotated[str, typer.Option(help="HTTP mode: address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="HTTP mode: port to listen on.")] = 3000,
    processes: Annotated[int | None, typer.Option(
        "--processes", min=1, help="HTTP mode: N worker processes on one port (gunicorn's master replaces a "
        "worker that dies); N > 1 needs PostgreSQL. Left out: one process (waitress).")] = None,
    access_log: Annotated[bool, typer.Option(
        "--access-log", help="With --processes: a line per request on stderr, with the worker's pid.")] = False,
) -> None:
    """Run the bot: Socket Mode when SLACK_APP_TOKEN is set, else HTTP (--processes N: N worker processes)."""
    settings = load_settings()
    setup_logging(settings.log_level)
    socket_mode = bool(settings.slack_app_token) and not http
    if processes is not None:
        _check_processes(settings, processes, socket_mode)
    try:
        settings.require_slack(socket_mode)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    slack_status = _check_slack(settings, socket_mode)
    core = make_core(settings)  # (migrates the database: once, here, not in each worker)
    if settings.inventory:
        _load_inventory(core, settings.inventory)
    if processes is not None:
        core.db.dispose()  # nothing of the master's pool may reach the forked workers
        from bot.serve.processes import run_processes

        log.info("peerbot serving HTTP on http://%s:%s with %s worker process(es) (health: /healthz)",
                 host, port, processes)
        run_processes(lambda: _worker_app(settings), host, port, processes, access_log=access_log)
        return
    from bot.serve.app import build_app

    app = build_app(core, socket_mode=socket_mode)
    _start_background(core, app)
    if socket_mode:
        _run_socket_mode(app, settings.slack_app_token.get_secret_value())  # type: ignore[union-attr]
    else:
        _run_http(app, core, slack_status, host, port)


def _check_processes(settings: Settings, processes: int, socket_mode: bool) -> None:
    """`--processes` serves HTTP; more than one process needs a database they can share."""
    from sqlalchemy.engine import make_url

    if socket_mode:
        raise fail("--processes serves HTTP: add --http (Socket Mode runs in one process)")
    try:
        backend = make_url(settings.database_url).get_backend_name()
    except Exception:  # noqa: BLE001 - make_core says what is wrong with the URL
        return
    if processes > 1 and backend != "postgresql":
        raise fail(f"--processes {processes} needs PostgreSQL (PEERBOT_DATABASE_URL is {backend}): "
                   "SQLite serves one process; leave --processes out or use --processes 1")


def _start_background(core, app) -> None:  # noqa: ANN001
    """Polls, notice sender, history pruning, PeeringDB sync, IRR re-import, drift check. With
    several processes each starts them all; each job guards itself through the database."""
    _start_polling(core, app)
    from bot.serve.scheduler import start_peeringdb_sync

    if start_peeringdb_sync(core, core.settings.peeringdb_sync_hours):
        log.info("PeeringDB mirror synced every %sh", core.settings.peeringdb_sync_hours)
    _start_irr_refresh(core, app)
    _start_drift_check(core, app)


def _worker_app(settings: Settings):  # noqa: ANN202
    """One worker of `serve --processes N`, built in the worker after gunicorn forked it: its own
    database pool, Bolt app, change runner and background jobs. Returns its WSGI app."""
    import os
    import signal

    from bot.core import Core
    from bot.serve.app import build_app
    from bot.serve.slack_status import SlackStatus, TokenRejected, check_client
    from bot.serve.wsgi import make_wsgi_app

    core = Core.from_settings(settings, upgrade=False)
    app = build_app(core)
    _start_background(core, app)
    token = settings.slack_bot_token
    status = SlackStatus(check_client(token.get_secret_value() if token else None, settings.slack_api_url))

    def on_rejected(message: str) -> None:
        log.error("peerbot: %s; stopping every process", message)
        os.kill(os.getppid(), signal.SIGTERM)  # the master stops its workers and exits

    try:
        if not status.check():
            status.retry_in_background(on_rejected)
    except TokenRejected as exc:
        on_rejected(str(exc))
    log.info("worker %s ready", os.getpid())
    return make_wsgi_app(app, core, status)


def _check_slack(settings: Settings, socket_mode: bool):  # noqa: ANN202
    """Ask Slack before anything starts. A rejected token stops here (exit 2). Slack unreachable:
    Socket Mode cannot work without it (exit 1, a supervisor may retry); HTTP mode serves anyway
    with /healthz "not ready" and keeps trying in the background."""
    from bot.serve.slack_status import SlackStatus, TokenRejected, check_client

    def client(token: SecretStr | None):  # noqa: ANN202
        return check_client(token.get_secret_value() if token else None, settings.slack_api_url)

    checks = [SlackStatus(client(settings.slack_bot_token))]
    if socket_mode:
        checks.append(SlackStatus(client(settings.slack_app_token), variable="SLACK_APP_TOKEN",
                                  method="apps.connections.open"))
    for status in checks:
        try:
            ready = status.check()
        except TokenRejected as exc:
            raise fail(str(exc)) from None
        if not ready:
            if socket_mode:
                raise fail(status.reason, 1)
            log.warning("%s; serving anyway: /healthz answers 503 until Slack accepts the token", status.reason)
    return checks[0]


def _run_socket_mode(app, app_token: str) -> None:  # noqa: ANN001
    import threading

    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError, SlackClientError

    from bot.serve.slack_status import TRANSIENT_ERRORS

    handler = SocketModeHandler(app, app_token)
    try:
        handler.connect()  # apps.connections.open with SLACK_APP_TOKEN, then the WebSocket
    except SlackApiError as exc:
        code = str(exc.response.get("error") or "") if isinstance(exc.response.data, dict) else ""
        if code and code not in TRANSIENT_ERRORS:
            raise fail(f"Slack rejected SLACK_APP_TOKEN ({code[:60]})") from None
        raise fail(f"Slack unreachable: apps.connections.open answered {code or exc.response.status_code}", 1) from None
    except (OSError, SlackClientError) as exc:
        raise fail(f"Slack unreachable: cannot open the Socket Mode connection ({type(exc).__name__})", 1) from None
    log.info("peerbot connected in Socket Mode")
    threading.Event().wait()  # the Socket Mode client runs (and reconnects) in its own threads


def _run_http(app, core, slack_status, host: str, port: int) -> None:  # noqa: ANN001
    import signal

    from bot.serve.wsgi import EVENTS_PATH, create_server

    rejected: list[str] = []

    def on_rejected(message: str) -> None:
        rejected.append(message)
        signal.raise_signal(signal.SIGINT)  # ends server.run() in the main thread

    server = create_server(app, core, host, port, slack_status=slack_status)
    if not slack_status.ready:
        slack_status.retry_in_background(on_rejected)
    log.info("peerbot serving HTTP on http://%s:%s%s (health: /healthz)", host, port, EVENTS_PATH)
    server.run()
    if rejected:
        raise fail(rejected[0])


def _start_polling(core, app) -> list:  # noqa: ANN001
    """Scheduled refreshes (PEERBOT_POLL_INTERVAL seconds; 0 = off) with their notices to
    PEERBOT_NOTIFY_CHANNEL, and the state history pruning. Returns the schedulers started."""
    from bot.notices.sender import NoticeSender
    from bot.notices.poster import Notifier
    from bot.serve.scheduler import Poller, start_history_pruning, start_notice_sender, start_scheduler
    from bot.changes.executor import Changes
    from handlers.views.notices import render_notice

    channel = core.settings.notify_channel
    sender = NoticeSender(core, Notifier(app.client), render_notice) if channel else None
    poller = Poller(Changes(core), sender)
    started = [start_history_pruning(core)]
    if sender is not None:
        app.runner.workers.submit("send notices left by the last run", sender.deliver)
        started.append(start_notice_sender(sender))
    polling = start_scheduler(poller, core.settings.poll_interval)
    if polling:
        started.append(polling)
        log.info("polling routers every %ss%s", core.settings.poll_interval,
                 f", state changes to {channel}" if channel else " (no PEERBOT_NOTIFY_CHANNEL: not posting)")
    return started


def _start_irr_refresh(core, app) -> None:  # noqa: ANN001
    """Scheduled AS-SET re-import (PEERBOT_IRR_REFRESH_HOURS; 0 = off), summary to PEERBOT_NOTIFY_CHANNEL."""
    from bot.irr.refresh import IrrRefresher
    from bot.irr.service import IrrImports
    from bot.notices.poster import Notifier
    from bot.serve.scheduler import start_irr_refresh
    from handlers.views.irr import refresh_notice

    channel = core.settings.notify_channel
    refresher = IrrRefresher(IrrImports(core), max_change_percent=core.settings.irr_max_change_percent,
                             workers=app.runner.workers, notifier=Notifier(app.client) if channel else None,
                             channel=channel, render=refresh_notice)
    if start_irr_refresh(refresher, core.settings.irr_refresh_hours, core):
        log.info("AS-SETs re-imported from %s every %sh", core.settings.irr_host, core.settings.irr_refresh_hours)


def _start_drift_check(core, app) -> None:  # noqa: ANN001
    """Scheduled drift check (PEERBOT_DRIFT_HOURS; 0 = off), reports to PEERBOT_NOTIFY_CHANNEL."""
    from bot.adoption.drift import Drift
    from bot.serve.scheduler import start_drift_check

    if start_drift_check(core, Drift(core, app.runner.requests), core.settings.drift_hours):
        log.info("routers compared with the database every %sh (drift)", core.settings.drift_hours)


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
    from bot.sessions.inventory import load_inventory

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
    from itertools import islice

    from bot.sessions.queries import BATCH, iter_sessions
    from handlers.views.common import ago

    core = make_core(settings)
    # Streamed: every matching session, BATCH rows a query, printed as they come; the column
    # widths are those of the first batch (a longer value later just pushes its line out).
    rows = iter_sessions(core.db, " ".join(query or []))
    header = ("ID", "PEER", "ASN", "PEER IP", "ROUTER", "EXCHANGE", "STATE", "PFX RCVD", "SINCE")

    def line(v) -> tuple[str, ...]:  # noqa: ANN001
        return (str(v.id), v.peer_name, f"AS{v.peer_asn}", v.peer_ip, v.router_name, v.exchange_name,
                v.display_state, "-" if v.prefixes_received is None else str(v.prefixes_received),
                ago(v.last_state_change) if v.last_state_change else "-")

    try:
        first = [line(v) for v in islice(rows, BATCH)]
    except PeerbotError as exc:
        raise fail(str(exc)) from None
    widths = [max(len(r[i]) for r in [header, *first]) for i in range(len(header))]
    for r in (header, *first):
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    count = len(first)
    for v in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(line(v), widths)).rstrip())
        count += 1
    typer.echo(f"{count} session(s)")


def _change(action: str, session_id: int) -> None:
    """Ask for a router change through the same change requests the Slack buttons use."""

    carry_out(action, session_id)


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
    _change("delete", session_id)


@cli.command()
def refresh(router: Annotated[str | None, typer.Argument(help="Router name; all routers when left out.")] = None) -> None:
    """Poll routers now and store the BGP state of their sessions."""
    settings = load_settings()
    setup_logging("WARNING")
    from bot.sessions.catalog import list_routers
    from bot.changes.executor import Changes

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
    if not all(r.ok or r.skipped for r in results):  # skipped: a change to it runs; not a failure
        raise typer.Exit(1)


@peeringdb_cli.command("sync")
def peeringdb_sync(full: Annotated[bool, typer.Option("--full", help="Reload everything, not only changes.")] = False) -> None:
    """Fetch PeeringDB into the local mirror: everything the first time, changes after."""
    settings = load_settings()
    setup_logging("WARNING")
    from bot.peeringdb.client import PeeringDBClient
    from bot.peeringdb.sync import OBJECT_TYPES, sync

    core = make_core(settings)
    with typer.progressbar(length=len(OBJECT_TYPES), label="PeeringDB", show_pos=True) as bar:
        def progress(object_type: str, done: int, total: int) -> None:
            bar.label = f"PeeringDB {object_type or 'done'}".ljust(19)
            bar.update(done - bar.pos)

        report = sync(core.db, PeeringDBClient.from_settings(settings), full=full, progress=progress)
    for r in report.results:
        typer.echo(f"  {r.object_type:9s} {'loaded' if r.full else 'updated'} {r.upserted}"
                   + (f", deleted {r.deleted}" if r.deleted else ""))
    for name in report.exchanges_updated:
        typer.echo(f"  ~ exchange {name}")
    if not report.ok:
        raise fail(f"{report.error} (the mirror keeps what it had for the rest; run again later)", 1)


@exchanges_cli.command("import")
def exchanges_import(
    ix: Annotated[int, typer.Option("--ix", help="PeeringDB exchange id (peeringdb.com/ix/<id>).")],
    name: Annotated[str | None, typer.Option(help="Name for a new exchange (default: PeeringDB's).")] = None,
) -> None:
    """Create or update an exchange from the PeeringDB mirror; each sync keeps it current."""
    settings = load_settings()
    setup_logging("WARNING")
    from bot.peeringdb.exchanges import import_exchange

    core = make_core(settings)
    try:
        ex, created, found = import_exchange(core.db, ix, name)
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None
    typer.echo(f"{'created' if created else 'updated'} exchange {ex.name} (PeeringDB ix {ix}): "
               f"IPv4 {ex.lan_prefix_v4 or '-'}, IPv6 {ex.lan_prefix_v6 or '-'}")
    if found.other_prefixes:
        typer.echo("  further LAN prefixes not used: " + ", ".join(found.other_prefixes))


# the command groups of their own modules (each imports bot/cli/context.py only)
cli.add_typer(changes_cli, name="changes")
cli.command("audit")(audit)
cli.add_typer(routers_cli, name="routers")
routers_cli.command("discover")(routers_discover)
cli.add_typer(drift_cli, name="drift")
cli.add_typer(irr_cli, name="irr")
exchanges_cli.command("list")(exchanges_list)
sessions_cli.command("show")(sessions_show)
sessions_cli.command("add")(sessions_add)
sessions_cli.command("edit")(sessions_edit)


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
