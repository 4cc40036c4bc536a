"""`/peering <subcommand>`: ack at once, then do the work on the same thread (in HTTP mode the
answer leaves at ack(), bot/serve/wsgi.py; in Socket Mode Bolt sends the ack while the listener runs)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import Core
from bot.polling.history import session_history
from bot.sessions.queries import get_session, list_sessions
from handlers.errors import reports_errors
from handlers.timeline import upload_timeline
from handlers.views.common import escape
from handlers.views.history import with_history
from handlers.views.sessions import help_message, session_detail, session_list


@dataclass
class CommandContext:
    core: Core
    command: dict[str, Any]
    args: str  # the text after the subcommand
    respond: Respond
    client: WebClient
    ui: Any  # handlers.UiConfig
    runner: Any = None  # bot.changes.runner.ChangeRunner: polls and changes run on its pool

    @property
    def user_id(self) -> str:
        return self.command.get("user_id", "")


Subcommand = Callable[[CommandContext], None]


def cmd_list(ctx: CommandContext) -> None:
    page = list_sessions(ctx.core.db, ctx.args, page=1, page_size=ctx.core.settings.list_page_size)
    ctx.respond(response_type="ephemeral", **session_list(page, can_add=ctx.ui.can_add, bulk=ctx.ui.bulk))


def cmd_show(ctx: CommandContext) -> None:
    if not ctx.args:
        ctx.respond(response_type="ephemeral", text="Usage: `/peering show <id|ip>`")
        return
    view = get_session(ctx.core.db, ctx.args.split()[0])
    history = session_history(ctx.core.db, view.id)
    ctx.respond(response_type="in_channel", **with_history(session_detail(view, ctx.ui.detail_actions), history))
    channel = ctx.command.get("channel_id")
    if ctx.runner is not None and channel:  # the picture follows, rendered on the worker pool

        def picture() -> None:
            if not upload_timeline(ctx.client, channel, history, f"{view.peer_name} {view.peer_ip} on {view.router_name}"):
                ctx.respond(response_type="ephemeral", replace_original=False,
                            text=":warning: The 7-day timeline image could not be uploaded here "
                                 "(is peerbot a member of this channel?).")

        ctx.runner.workers.submit(f"timeline of session #{view.id}", picture)


def cmd_help(ctx: CommandContext) -> None:
    ctx.respond(response_type="ephemeral", **help_message(ctx.command.get("command") or "/peering"))


class CommandTable:
    """Subcommands by name; feature modules add theirs when they register."""

    def __init__(self) -> None:
        self._table: dict[str, Subcommand] = {"list": cmd_list, "ls": cmd_list, "show": cmd_show, "help": cmd_help}

    def add(self, name: str, fn: Subcommand) -> None:
        self._table[name] = fn

    def dispatch(self, ctx_factory: Callable[[str], CommandContext], text: str) -> None:
        name, _, rest = (text or "").strip().partition(" ")
        fn = self._table.get(name.lower() or "help")
        ctx = ctx_factory(rest.strip())
        if fn is None:
            ctx.respond(response_type="ephemeral", text=f"Unknown subcommand `{escape(name[:30])}`.",
                        blocks=help_message(ctx.command.get("command") or "/peering")["blocks"])
            return
        fn(ctx)


def register(app: App, core: Core, ui: Any, table: CommandTable, runner: Any = None) -> None:
    # Not a lazy listener: Bolt would deep-copy the whole request for it and hand it to another
    # pool. Every subcommand is bounded after its ack (a page, a session, a modal, a job handed to
    # the worker pool), so it may hold this listener thread; the answer is out already.
    @reports_errors
    def run(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        ack()
        table.dispatch(lambda rest: CommandContext(core, command, rest, respond, client, ui, runner), command.get("text", ""))

    app.command("/peering")(run)
