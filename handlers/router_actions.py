"""Buttons and commands that change or read routers: Configure, Config Manager, Admin Up/Down,
Refresh, Delete (session detail), the bulk controls and Refresh of the list, `/peering refresh`.

Every listener acks at once; the SSH work runs in a lazy listener through bot.services.changes,
and the result replaces the message the button was on (`respond(replace_original=True)`).
"""
from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import Core
from bot.errors import InvalidInput, NotFound, PeerbotError
from bot.services.catalog import list_routers
from bot.services.changes import ChangeResult, Changes
from bot.services.config_manager import check_edited_commands
from bot.services.router_config import plan
from bot.services.sessions import get_session, list_sessions
from bot.services.views import SessionView
from handlers.errors import reports_errors, user_text
from handlers.ids import Action, Callback
from handlers.views.changes import (
    ConfigManagerMeta, bulk_summary, commands_value, config_manager_modal, deleted_message, error_note, follow_note,
    in_progress_note, poll_summary, refresh_note, result_note, with_note,
)
from handlers.views.sessions import BULK_BLOCK, error_message, parse_page_value, session_detail, session_list

log = logging.getLogger("peerbot.handlers.router")

DETAIL_ACTIONS = frozenset({Action.CONFIGURE, Action.CONFIG_MANAGER, Action.ADMIN_UP, Action.ADMIN_DOWN,
                            Action.REFRESH, Action.DELETE})
BULK_ACTIONS = ("admin_up", "admin_down", "deconfigure")
# After Admin Up/Down: read the neighbor again every FOLLOW_INTERVAL s, for at most FOLLOW_TIMEOUT s,
# until it reaches the state the action leads to.
FOLLOW_INTERVAL = 2.0
FOLLOW_TIMEOUT = 20.0


def _sid(body: dict) -> int:
    value = body["actions"][0].get("value", "")
    if not value.isdigit():
        raise InvalidInput({"session": "this button carries no session id"})
    return int(value)


def _actor(body: dict) -> str:
    return (body.get("user") or {}).get("id", "unknown")


def _reached(action: str, view: SessionView) -> bool:
    if action == "admin_up":
        return view.bgp_state == "Established"
    return view.bgp_state != "Established"  # admin_down: Idle (Admin)


def register(app: App, core: Core, ui: Any, table: Any = None, changes: Changes | None = None) -> None:
    changes = changes or Changes(core)

    def ack_now(ack: Ack) -> None:
        ack()

    def detail(view: SessionView, note: str | None = None, buttons: bool = True) -> dict[str, Any]:
        return session_detail(view, ui.detail_actions if buttons else (), note=note)

    # -- detail buttons -------------------------------------------------------------------------
    def change_listener(action: str, call: Callable[[int, str], ChangeResult]) -> Callable[..., None]:
        @reports_errors
        def work(body: dict, respond: Respond) -> None:
            sid, actor = _sid(body), _actor(body)
            before = get_session(core.db, sid)
            # buttons off while the router is being changed: no double clicks. Configure shows the
            # exact (masked) commands it is about to push.
            commands = planned(sid) if action == "configure" else None
            respond(replace_original=True, **detail(before, in_progress_note(action, actor, commands), buttons=False))
            try:
                res = call(sid, actor)
            except Exception as exc:  # noqa: BLE001 - put the buttons back, with the reason
                respond(replace_original=True, **detail(get_session(core.db, sid), error_note(action, user_text(exc))))
                return
            if action == "deconfigure" and res.ok:
                respond(replace_original=True, **deleted_message(res, before, actor))
                return
            note = result_note(res, actor)
            view = res.session or get_session(core.db, sid)
            respond(replace_original=True, **detail(view, note))
            if res.ok and action in ("admin_up", "admin_down") and view.configured and not _reached(action, view):
                follow(sid, action, view, note, respond)

        work.__name__ = f"router_{action}"
        return work

    def planned(sid: int) -> list[str] | None:
        try:
            return plan(core, sid, "configure").masked
        except Exception:  # noqa: BLE001 - the push renders again and reports this failure itself
            log.warning("cannot show the commands for session %s", sid, exc_info=True)
            return None

    def follow(sid: int, action: str, view: SessionView, note: str, respond: Respond) -> None:
        """Poll the neighbor until the state the action leads to (bounded), then update the message."""
        deadline = time.monotonic() + FOLLOW_TIMEOUT
        current = view
        while time.monotonic() < deadline:
            time.sleep(FOLLOW_INTERVAL)
            try:
                current = changes.poll_session(sid)
            except PeerbotError as exc:
                respond(replace_original=True, **detail(current, note + "\n" + error_note("refresh", str(exc))))
                return
            if _reached(action, current):
                respond(replace_original=True, **detail(current, follow_note(note, current, done=True)))
                return
        respond(replace_original=True, **detail(current, follow_note(note, current, done=False)))

    @reports_errors
    def refresh_one(body: dict, respond: Respond) -> None:
        sid, actor = _sid(body), _actor(body)
        try:
            view = changes.poll_session(sid)
            note = refresh_note(view, actor)
        except NotFound:
            raise
        except PeerbotError as exc:
            view, note = get_session(core.db, sid), error_note("refresh", str(exc))
        respond(replace_original=True, **detail(view, note))

    # -- Config Manager ---------------------------------------------------------------------------
    def open_config_manager(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        # trigger_id is valid for 3 s: open the modal right here (rendering is a local DB read)
        ack()
        try:
            sid = _sid(body)
            container = body.get("container") or {}
            channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
            meta = ConfigManagerMeta(sid, channel, container.get("message_ts"))
            modal = config_manager_modal(plan(core, sid, "configure"), get_session(core.db, sid), meta)
            client.views_open(trigger_id=body["trigger_id"], view=modal)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user
            respond(response_type="ephemeral", replace_original=False, **error_message(user_text(exc)))

    def edited(view: dict) -> tuple[ConfigManagerMeta, list[str]]:
        """The submitted session and commands, checked (raises when they may not be pushed)."""
        meta = ConfigManagerMeta.load(view.get("private_metadata", ""))
        text = commands_value(view)
        check_edited_commands(core, meta.session_id, text)
        return meta, text.replace("\r\n", "\n").split("\n")

    def validate_config_manager(ack: Ack, view: dict) -> None:
        try:
            edited(view)
        except Exception as exc:  # noqa: BLE001 - shown next to the field rather than lost
            ack(response_action="errors", errors={Action.CONFIG_COMMANDS: user_text(exc)[:250]})
            return
        ack()  # closes the modal; the push runs in push_config_manager

    def push_config_manager(body: dict, view: dict, client: WebClient) -> None:
        # Bolt runs this lazy listener even when the ack answered `errors` (the modal stays open
        # with the error shown): check again, quietly, and leave the detail message alone.
        try:
            meta, lines = edited(view)
        except Exception:  # noqa: BLE001 - already reported inline by validate_config_manager
            return
        actor, sid = _actor(body), meta.session_id
        try:
            show(client, meta, actor, detail(get_session(core.db, sid), in_progress_note("configure", actor),
                                             buttons=False))
            # the lines as edited (MD5 masked): Changes.configure checks them again and puts the key back
            res = changes.configure(sid, actor, commands=lines)
            msg = detail(res.session or get_session(core.db, sid), result_note(res, actor))
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user
            text = user_text(exc)
            try:
                msg = detail(get_session(core.db, sid), error_note("configure", text))
            except Exception:  # noqa: BLE001 - e.g. deleted meanwhile
                msg = error_message(text)
        show(client, meta, actor, msg)

    def show(client: WebClient, meta: ConfigManagerMeta, actor: str, msg: dict[str, Any]) -> None:
        """Update the detail message the modal came from; else post in its channel; else DM the user."""
        if meta.channel and meta.message_ts:
            try:
                client.chat_update(channel=meta.channel, ts=meta.message_ts, **msg)
                return
            except SlackApiError as exc:
                log.info("chat.update of %s failed (%s); posting instead", meta.message_ts, exc.response.get("error"))
        try:
            client.chat_postMessage(channel=meta.channel or actor, **msg)
        except SlackApiError:
            client.chat_postMessage(channel=actor, **msg)

    # -- list: bulk and refresh -------------------------------------------------------------------
    def relist(query: str, page: int, note: str) -> dict[str, Any]:
        result = list_sessions(core.db, query, page=page, page_size=core.settings.list_page_size)
        return with_note(session_list(result, can_add=ui.can_add, bulk=getattr(ui, "bulk", False)), note)

    @reports_errors
    def bulk(body: dict, respond: Respond) -> None:
        act = body["actions"][0]
        action = act["action_id"].rsplit("-", 1)[-1]
        query, page = parse_page_value(act.get("value", ""))
        picked = (((body.get("state") or {}).get("values") or {}).get(BULK_BLOCK) or {}).get(Action.BULK_SELECT) or {}
        ids = [int(o["value"]) for o in picked.get("selected_options") or [] if str(o.get("value", "")).isdigit()]
        if action not in BULK_ACTIONS:
            raise InvalidInput({"action": "unknown bulk action"})
        if not ids:
            respond(response_type="ephemeral", replace_original=False,
                    **error_message("Select one or more sessions first."))
            return
        actor = _actor(body)
        names = {}
        for sid in ids:
            try:
                v = get_session(core.db, sid)
                names[sid] = f"{v.peer_name} {v.peer_ip}"
            except NotFound:
                names[sid] = "(gone)"
        results = changes.run(action, ids, actor)
        respond(replace_original=True, **relist(query, page, bulk_summary(action, results, names, actor)))

    @reports_errors
    def refresh_list(body: dict, respond: Respond) -> None:
        query, page = parse_page_value(body["actions"][0].get("value", ""))
        summary = poll_summary(changes.poll_all(), _actor(body))
        respond(replace_original=True, **relist(query, page, summary))

    def cmd_refresh(ctx: Any) -> None:
        name = ctx.args.split()[0] if ctx.args else ""
        if name:
            router = next((r for r in list_routers(ctx.core.db) if r.name.lower() == name.lower()), None)
            if router is None:
                raise NotFound(f"No router named {name[:40]}.")
            results, query = [changes.poll_router(router.id)], f"router:{router.name}"
        else:
            results, query = changes.poll_all(), ""
        ctx.respond(response_type="ephemeral", **relist(query, 1, poll_summary(results, ctx.user_id)))

    # -- wiring -----------------------------------------------------------------------------------
    for action_id, action, call in (
        (Action.CONFIGURE, "configure", lambda sid, actor: changes.configure(sid, actor)),
        (Action.ADMIN_DOWN, "admin_down", changes.admin_down),
        (Action.ADMIN_UP, "admin_up", changes.admin_up),
        (Action.DELETE, "deconfigure", changes.delete),
    ):
        app.action(action_id)(ack=ack_now, lazy=[change_listener(action, call)])
    app.action(Action.REFRESH)(ack=ack_now, lazy=[refresh_one])
    app.action(Action.CONFIG_MANAGER)(open_config_manager)
    app.view(Callback.CONFIG_MANAGER)(ack=validate_config_manager, lazy=[push_config_manager])
    app.action(Action.BULK_SELECT)(ack_now)  # selecting only changes the menu's state
    app.action(re.compile(rf"^{Action.BULK_ACTION}-(\w+)$"))(ack=ack_now, lazy=[bulk])
    app.action(Action.LIST_REFRESH)(ack=ack_now, lazy=[refresh_list])
    if table is not None:
        table.add("refresh", cmd_refresh)
    ui.bulk = True
    ui.detail_actions |= DETAIL_ACTIONS
