"""Buttons and commands that change or read routers: Configure, Config Manager, Admin Up/Down,
Delete (session detail), the bulk controls of the list, Refresh, `/peering refresh`.

A button that changes a router never touches it: the listener asks the change-request service
(authorize → store the request with its exact commands → ack), and the change runner carries it
out on peerbot's worker pool once it may run (approved, or no approval needed). Refresh also runs
on that pool. Nothing here waits on SSH, so Bolt's listener threads stay free.
"""
from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient

from bot.core.access import Role
from bot.changes.runner import ChangeRunner
from bot.core import Core
from bot.base.errors import NotFound, PeerbotError
from bot.sessions.catalog import list_routers
from bot.changes.records import Origin, RequestView
from bot.changes.router_config import plan
from bot.sessions.queries import get_session, list_sessions
from bot.sessions.views import SessionView
from handlers.approvals import after_request, move_request, reply_error
from handlers.errors import user_text
from handlers.ids import Action, Callback
from handlers.payloads import BadPayload, action_of, idempotency_key, parse_id, user_of
from handlers.views.changes import (
    ConfigManagerMeta, commands_value, config_manager_modal, error_note, poll_summary, refresh_note, with_note,
)
from handlers.views.sessions import BULK_BLOCK, parse_page_value, session_detail, session_list

log = logging.getLogger("peerbot.handlers.router")

DETAIL_ACTIONS = frozenset({Action.CONFIGURE, Action.CONFIG_MANAGER, Action.ADMIN_UP, Action.ADMIN_DOWN,
                            Action.REFRESH, Action.DELETE})
BUTTON_ACTIONS = {Action.CONFIGURE: "configure", Action.ADMIN_DOWN: "admin_down", Action.ADMIN_UP: "admin_up",
                  Action.DELETE: "delete"}
BULK_ACTIONS = {"admin_up": "admin_up", "admin_down": "admin_down", "deconfigure": "delete"}
MAX_BULK = 100


def origin_of(body: dict[str, Any]) -> Origin:
    """The message a button was on: updated in place as the request moves on."""
    container = body.get("container") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
    ts = None if container.get("is_ephemeral") else container.get("message_ts")
    return Origin(channel, ts, body.get("response_url"))


# -- detail buttons -------------------------------------------------------------------------------
def on_change_button(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    """Configure / Admin Down / Admin Up / Delete: store a change request, then ack."""
    runner: ChangeRunner = context["services"].runner

    def ask() -> RequestView:
        act = action_of(body)
        return runner.requests.request(user_of(body), BUTTON_ACTIONS[Action(act.get("action_id"))],
                                       [parse_id(act.get("value"))], idempotency_key=idempotency_key(body, act),
                                       origin=origin_of(body))

    move_request(ack, respond, runner, ask)


# -- Config Manager -------------------------------------------------------------------------------
def on_open_config_manager(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    # the trigger_id is valid for 3 s: open the modal right here (rendering is a local DB read)
    ack()
    core: Core = context["services"].core
    try:
        core.access.require(user_of(body), Role.OPERATOR, "use Config Manager")
        sid = parse_id(action_of(body).get("value"))
        origin = origin_of(body)
        meta = ConfigManagerMeta(sid, origin.channel, origin.ts)
        modal = config_manager_modal(plan(core, sid, "configure"), get_session(core.db, sid), meta)
        client.views_open(trigger_id=body.get("trigger_id", ""), view=modal)
    except Exception as exc:  # noqa: BLE001 - every failure must reach the user
        reply_error(respond, exc)


def on_config_manager_submit(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    """Push = a change request with the edited lines, checked here (errors shown inline)."""
    runner: ChangeRunner = context["services"].runner
    try:
        meta = ConfigManagerMeta.load(view.get("private_metadata", ""))
        text = commands_value(view).replace("\r\n", "\n")
        # a retry of the same submission (same modal, same text) is the same request
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        request = runner.requests.request(
            user_of(body), "config_push", [meta.session_id], lines=text.split("\n"),
            idempotency_key=f"config_manager:{str(view.get('id', ''))[:40]}:{digest}",
            origin=Origin(meta.channel, meta.message_ts))
    except (ValueError, KeyError, TypeError):
        ack(response_action="errors", errors={Action.CONFIG_COMMANDS: "This form lost its session: open it again."})
        return
    except PeerbotError as exc:  # shown next to the field; nothing stored
        ack(response_action="errors", errors={Action.CONFIG_COMMANDS: user_text(exc)[:250]})
        return
    ack()
    after_request(runner, request)


# -- list: bulk -----------------------------------------------------------------------------------
def on_bulk(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    runner: ChangeRunner = context["services"].runner

    def ask() -> RequestView:
        act = action_of(body)
        action = BULK_ACTIONS.get(str(act.get("action_id", "")).rsplit("-", 1)[-1])
        if action is None:
            raise BadPayload("Unknown bulk action.")
        picked: Any = body.get("state")
        for key in ("values", BULK_BLOCK, Action.BULK_SELECT, "selected_options"):  # any level may be forged
            picked = picked.get(key) if isinstance(picked, dict) else None
        picked = picked or []
        if not isinstance(picked, list) or len(picked) > MAX_BULK:
            raise BadPayload(f"Select at most {MAX_BULK} sessions.")
        ids = [parse_id(o.get("value") if isinstance(o, dict) else None) for o in picked]
        return runner.requests.request(user_of(body), action, ids, idempotency_key=idempotency_key(body, act),
                                       origin=Origin(None, None, body.get("response_url")))

    move_request(ack, respond, runner, ask)


# -- Refresh: polls on the worker pool --------------------------------------------------------------
def on_refresh_session(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    ack()
    runner: ChangeRunner = context["services"].runner
    ui = context["services"].ui
    try:
        actor = user_of(body)
        sid = parse_id(action_of(body).get("value"))
    except PeerbotError as exc:
        reply_error(respond, exc)
        return

    def done(result: object) -> None:
        try:
            if isinstance(result, SessionView):
                view, note = result, refresh_note(result, actor)
            elif isinstance(result, PeerbotError) and not isinstance(result, NotFound):
                view, note = get_session(runner.core.db, sid), error_note("refresh", str(result))
            else:
                raise result if isinstance(result, Exception) else TypeError("no result")
            respond(replace_original=True, **session_detail(view, ui.detail_actions, note=note))
        except Exception as exc:  # noqa: BLE001
            reply_error(respond, exc)

    runner.poll(lambda changes: changes.poll_session(sid), done, key=f"session:{sid}")


def relist(core: Core, ui: Any, query: str, page: int, note: str) -> dict[str, Any]:
    result = list_sessions(core.db, query, page=page, page_size=core.settings.list_page_size)
    return with_note(session_list(result, can_add=ui.can_add, bulk=ui.bulk), note)


def on_refresh_list(ack: Ack, body: dict, respond: Respond, context: BoltContext, client: WebClient) -> None:
    ack()
    runner: ChangeRunner = context["services"].runner
    if (body.get("view") or {}).get("type") == "home":  # the App Home tab's Refresh: it has no response_url
        from handlers.home import refresh_home

        refresh_home(body, client, context)
        return
    if not body.get("response_url"):  # forged (a modal has no list): no poll of every router for nobody
        log.info("list refresh without a response_url ignored")
        return
    try:
        actor = user_of(body)
        query, page = parse_page_value(str(action_of(body).get("value", "")))
    except PeerbotError as exc:
        reply_error(respond, exc)
        return
    runner.poll(lambda changes: changes.poll_all(),
                _respond_polls(runner.core, context["services"].ui, respond, query, page, actor), key="all")


def _respond_polls(core: Core, ui: Any, respond: Respond, query: str, page: int, actor: str):  # noqa: ANN202
    def done(result: object) -> None:
        try:
            if isinstance(result, Exception):
                raise result
            respond(replace_original=True, **relist(core, ui, query, page, poll_summary(result, actor)))  # type: ignore[arg-type]
        except Exception as exc:  # noqa: BLE001
            reply_error(respond, exc)

    return done


def cmd_refresh(ctx: Any) -> None:
    """`/peering refresh [router]`: acknowledged at once; the answer comes when the polls are done."""
    name = ctx.args.split()[0] if ctx.args else ""
    if name:
        router = next((r for r in list_routers(ctx.core.db) if r.name.lower() == name.lower()), None)
        if router is None:
            raise NotFound(f"No router named {name[:40]}.")
        job, query, key = (lambda changes: [changes.poll_router(router.id)]), f"router:{router.name}", f"router:{router.id}"
    else:
        job, query, key = (lambda changes: changes.poll_all()), "", "all"
    ctx.respond(response_type="ephemeral", text=":arrows_counterclockwise: Polling… the list follows when the routers answer.")
    ctx.runner.poll(job, _respond_polls(ctx.core, ctx.ui, ctx.respond, query, 1, ctx.user_id), key=key)


def _ack_only(ack: Ack) -> None:
    ack()


def register(app: App, core: Core, ui: Any, table: Any = None) -> None:
    for action_id in BUTTON_ACTIONS:
        app.action(action_id)(on_change_button)
    app.action(Action.REFRESH)(on_refresh_session)
    app.action(Action.CONFIG_MANAGER)(on_open_config_manager)
    app.view(Callback.CONFIG_MANAGER)(on_config_manager_submit)
    app.action(Action.BULK_SELECT)(_ack_only)  # selecting only changes the menu's state
    app.action(re.compile(rf"^{Action.BULK_ACTION}-(\w+)$"))(on_bulk)
    app.action(Action.LIST_REFRESH)(on_refresh_list)
    if table is not None:
        table.add("refresh", cmd_refresh)
    ui.bulk = True
    ui.detail_actions |= DETAIL_ACTIONS

