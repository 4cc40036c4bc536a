"""What every command module of the CLI shares: settings and the core, the actor, one-line errors,
tables and times, the session options' names-to-ids. Command modules import this, never each other;
bot/cli/__init__.py assembles them into the `peerbot` command."""
from __future__ import annotations

import getpass
import os
import time
from collections.abc import Iterable, Sequence
from datetime import datetime

import typer
from pydantic import ValidationError

from bot.base.logs import setup_logging
from bot.core.settings import Settings
from storage.models import ChangeState

WAIT_FOR_OTHER_RUNNER = 600.0  # seconds to wait when another process claimed the request


def fail(message: str, code: int = 2) -> typer.Exit:
    """The exit for a command that cannot go on: the message on stderr, then exit `code`."""
    typer.echo(f"peerbot: {message}", err=True)
    return typer.Exit(code)


def load_settings() -> Settings:
    """Settings from the environment; a malformed variable is one line, never a traceback."""
    try:
        return Settings()
    except ValidationError as exc:
        err = exc.errors()[0]
        name = err.get("loc", ["?"])[0]
        raise fail(f"{name} is malformed: {err.get('msg')}") from None


def make_core(settings: Settings):  # noqa: ANN201
    """The core on the configured database; a connection problem is one line."""
    from bot.core import Core

    try:
        return Core.from_settings(settings)
    except Exception as exc:  # noqa: BLE001 - a DB URL or connection problem: say so in one line
        raise fail(f"cannot open the database (PEERBOT_DATABASE_URL): {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None


def actor() -> str:
    """Who the CLI acts as: `cli:<unix user>` (its roles come from PEERBOT_CLI_ROLES)."""
    return f"cli:{getpass.getuser()}"


# check_draft's field names, as the options that set them are called here
OPTION_OF = {
    "session_type": "--type", "exchange_id": "--exchange", "notes": "--notes", "router_id": "--router",
    "peer_group_id": "--peer-group", "local_asn": "--local-asn", "md5": "--md5-env/--md5-prompt",
    "peer_name": "--peer-name", "peer_asn": "--peer-asn", "peer_ip": "--peer-ip",
    "max_prefixes_v4": "--max-prefixes-v4", "max_prefixes_v6": "--max-prefixes-v6", "as_set": "--as-set",
}


def open_core():  # noqa: ANN201
    """The core for one command (settings from the environment, warnings-only logs)."""
    settings = load_settings()
    setup_logging("WARNING")
    return make_core(settings)


def table(rows: Sequence[Sequence[str]]) -> None:
    """Rows as left-aligned columns."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())


def when(value: datetime | None) -> str:
    """A time as `YYYY-mm-dd HH:MM:SS (3 min ago)`, or `-`."""
    from handlers.views.common import ago

    return f"{value:%Y-%m-%d %H:%M:%S} ({ago(value)})" if value else "-"


def dash(value: object) -> str:
    """A value, or `-` when it has none."""
    return "-" if value is None or value == "" else str(value)


def one_line(text: str | None, limit: int = 60) -> str:
    """Text on one line, cut to `limit` characters, or `-`."""
    from bot.base.validation import short

    return short(" ".join((text or "").split()), limit) if text else "-"


def md5_from(env_var: str | None, prompt: bool) -> str | None:
    """The TCP-MD5 key from --md5-env or --md5-prompt (never from a command-line argument)."""
    if env_var and prompt:
        raise fail("give --md5-env or --md5-prompt, not both")
    if env_var:
        value = os.environ.get(env_var)
        if not value:
            raise fail(f"--md5-env: the environment variable {env_var[:60]} is not set or empty")
        return value
    if prompt:
        return typer.prompt("TCP-MD5 key", hide_input=True, confirmation_prompt=True)
    return None


def local_asn_of(text: str, errors: dict[str, str]) -> int | None:
    """--local-asn as a number; a malformed one goes into `errors`."""
    from bot.base.validation import FieldError, parse_asn

    try:
        return parse_asn(text).value
    except FieldError as exc:
        errors["local_asn"] = str(exc)
        return None


def resolve_names(core, session_type: str, exchange: str | None, router: str, peer_group: str | None,  # noqa: ANN001
             errors: dict[str, str]) -> tuple[int | None, int | None, int | None]:
    """Names -> ids, as the wizard's pickers would give them; unknown names are field errors."""
    from bot.sessions.catalog import list_exchanges, list_peer_groups, list_routers

    exchanges = list_exchanges(core.db)
    if exchange is None and session_type.strip().lower() in ("private", "local"):
        exchange_id = next((x.id for x in exchanges if x.is_none), None)
    else:
        exchange_id = by_name(((x.id, x.name) for x in exchanges), exchange, "exchange", "peerbot exchanges list",
                               "exchange_id", errors)
    router_id = by_name(((r.id, r.name) for r in list_routers(core.db)), router, "router", "peerbot routers list",
                         "router_id", errors)
    group_id = None
    if peer_group and router_id is not None:
        group_id = by_name(list_peer_groups(core.db, router_id), peer_group, "peer group", f"on {router}",
                            "peer_group_id", errors)
    return exchange_id, router_id, group_id


def by_name(choices: Iterable[tuple[int, str]], name: str | None, what: str, hint: str, field_name: str,
             errors: dict[str, str]) -> int | None:
    """The id of the choice called `name` (case-insensitive); an unknown one goes into `errors`."""
    from bot.base.validation import short

    wanted = (name or "").strip().lower()
    if not wanted:
        return None  # check_draft says it is required
    pairs = list(choices)
    match = [i for i, n in pairs if n.lower() == wanted]
    if match:
        return match[0]
    known = ", ".join(n for _i, n in pairs[:10]) or "none"
    errors[field_name] = f"no {what} named '{short(name or '')}' ({hint}: {known})"
    return None


def report_field_errors(errors: dict[str, str]) -> None:
    """Print each field error under its option's name, then exit 2."""
    for field_name, message in errors.items():
        typer.echo(f"peerbot: {OPTION_OF.get(field_name, field_name)}: {message}", err=True)
    raise typer.Exit(2)


def print_request(view) -> None:  # noqa: ANN001
    """One line: the request, its state and outcome."""
    from bot.changes.records import state_words

    typer.echo(f"#{view.id} {view.summary}: {state_words(view.state)}"
               + (f" — {view.outcome}" if view.outcome else "") + (f" ({view.reason})" if view.reason and
                                                                     view.state == ChangeState.REJECTED else ""))


def run_and_report(requests, request_id: int) -> None:  # noqa: ANN001
    """Run an approved request here (or wait for the bot that claimed it) and print the outcome."""
    view = requests.run(request_id)
    deadline = time.monotonic() + WAIT_FOR_OTHER_RUNNER
    while view is None or view.is_open:  # claimed by the bot (or the router was busy): wait for it
        if time.monotonic() > deadline:
            raise fail(f"request #{request_id} is still {requests.get(request_id).state.value}; "
                        f"see `peerbot changes show {request_id}`", 1)
        time.sleep(1)
        view = requests.get(request_id)
        if view.state == ChangeState.APPROVED:
            view = requests.run(request_id) or view
    print_request(view)
    if view.state != ChangeState.DONE:
        raise typer.Exit(1)
