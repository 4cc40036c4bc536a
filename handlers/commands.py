"""`/peering <subcommand>`. The reads (list, show, help, and an unknown subcommand's help) are
answered in the ack itself: Slack shows a slash command's immediate response as the message, so
no response_url post follows; their queries are bounded (a keyset page, one session). The other
subcommands ack at once and do their work in a lazy listener (router I/O, modals)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import Core
from bot.services.history import session_history
from bot.services.sessions import get_session, list_sessions
from handlers.errors import reports_errors, user_text
from handlers.timeline import upload_timeline
from handlers.views.common import escape
from handlers.views.history import with_history
from handlers.views.sessions import error_message, help_message, session_detail, session_list

@dataclass
class CommandContext:
    core: Core
    command: dict[str, Any]
    args: str  # the text after the subcommand
    respond: Respond
    client: WebClient
    ui: Any  # handlers.UiConfig
    runner: Any = None  # bot.change_runner.ChangeRunner: polls and changes run on its pool

    @property
    def user_id(self) -> str:
        return self.command.get("user_id", "")


@dataclass
class Answer:
    """A subcommand's message, sent as the slash command's HTTP response, and what (quick, or
    handed to a pool) follows once it has gone out."""

    message: dict[str, Any]  # with its response_type
    then: Callable[[], None] | None = None


Subcommand = Callable[[CommandContext], None]
AnsweringSubcommand = Callable[[CommandContext], Answer]


def cmd_list(ctx: CommandContext) -> Answer:
    page = list_sessions(ctx.core.db, ctx.args, page=1, page_size=ctx.core.settings.list_page_size)
    return Answer({"response_type": "ephemeral", **session_list(page, can_add=ctx.ui.can_add, bulk=ctx.ui.bulk)})


def cmd_show(ctx: CommandContext) -> Answer:
    if not ctx.args:
        return Answer({"response_type": "ephemeral", "text": "Usage: `/peering show <id|ip>`"})
    view = get_session(ctx.core.db, ctx.args.split()[0])
    history = session_history(ctx.core.db, view.id)
    answer = Answer({"response_type": "in_channel", **with_history(session_detail(view, ctx.ui.detail_actions), history)})
    channel = ctx.command.get("channel_id")
    if ctx.runner is not None and channel:  # the picture follows, rendered on the worker pool

        def picture() -> None:
            if not upload_timeline(ctx.client, channel, history, f"{view.peer_name} {view.peer_ip} on {view.router_name}"):
                ctx.respond(response_type="ephemeral", replace_original=False,
                            text=":warning: The 7-day timeline image could not be uploaded here "
                                 "(is peerbot a member of this channel?).")

        answer.then = lambda: ctx.runner.workers.submit(f"timeline of session #{view.id}", picture)
    return answer


def cmd_help(ctx: CommandContext) -> Answer:
    return Answer({"response_type": "ephemeral", **help_message(ctx.command.get("command") or "/peering")})


def _split(text: str) -> tuple[str, str]:
    name, _, rest = (text or "").strip().partition(" ")
    return name.lower() or "help", rest.strip()


class CommandTable:
    """Subcommands by name; feature modules add theirs when they register. `answering`: those
    answered in the ack; `after_ack`: those that ack first and work in a lazy listener."""

    def __init__(self) -> None:
        self.answering: dict[str, AnsweringSubcommand] = {"list": cmd_list, "ls": cmd_list, "show": cmd_show,
                                                          "help": cmd_help}
        self.after_ack: dict[str, Subcommand] = {}

    def add(self, name: str, fn: Subcommand) -> None:
        self.after_ack[name] = fn

    def answers_in_ack(self, text: str) -> bool:
        """Everything but the after-ack subcommands: an unknown one is answered with the help."""
        return _split(text)[0] not in self.after_ack

    def answer(self, ctx_factory: Callable[[str], CommandContext], text: str) -> Answer:
        name, rest = _split(text)
        ctx = ctx_factory(rest)
        fn = self.answering.get(name)
        if fn is None:
            return Answer({"response_type": "ephemeral", "text": f"Unknown subcommand `{escape(name[:30])}`.",
                           "blocks": help_message(ctx.command.get("command") or "/peering")["blocks"]})
        return fn(ctx)

    def dispatch(self, ctx_factory: Callable[[str], CommandContext], text: str) -> None:
        name, rest = _split(text)
        self.after_ack[name](ctx_factory(rest))


def register(app: App, core: Core, ui: Any, table: CommandTable, runner: Any = None) -> None:
    def context(command: dict, respond: Respond, client: WebClient) -> Callable[[str], CommandContext]:
        return lambda rest: CommandContext(core, command, rest, respond, client, ui, runner)

    def answers_in_ack(command: dict) -> bool:
        return table.answers_in_ack(command.get("text", ""))

    def answer_in_ack(ack: Ack, command: dict, respond: Respond, client: WebClient) -> None:
        try:
            answer = table.answer(context(command, respond, client), command.get("text", ""))
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user, as the answer
            ack({"response_type": "ephemeral", **error_message(user_text(exc))})
            return
        ack(answer.message)
        if answer.then is not None:
            try:
                answer.then()
            except Exception as exc:  # noqa: BLE001 - the answer is out: tell the user by response_url
                respond(response_type="ephemeral", replace_original=False, **error_message(user_text(exc)))

    def ack_now(ack: Ack) -> None:
        ack()

    @reports_errors
    def run(command: dict, respond: Respond, client: WebClient) -> None:
        table.dispatch(context(command, respond, client), command.get("text", ""))

    # Bolt runs the first listener whose matchers match: the answering one goes first
    app.command("/peering", matchers=[answers_in_ack])(answer_in_ack)
    app.command("/peering")(ack=ack_now, lazy=[run])
