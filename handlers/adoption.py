"""Discovery and drift in Slack: `/peering discover [router]`, `/peering drift [router]`, the
Discover buttons (App Home, router details), Import all / Choose…, and the drift report's
Adopt / Fix / Ignore. Every listener acks first; router reads run on the bot's workers and the
answer follows (respond, views.update, or a DM); the services are bot/adoption."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.adoption.discovery import Discovery, resolve_routers
from bot.adoption.drift import Drift
from bot.adoption.importer import import_neighbors
from bot.base.errors import InvalidInput, PeerbotError
from bot.changes.records import Origin
from bot.core import Core
from bot.core.access import Role
from handlers.approvals import after_request, reply_error
from handlers.errors import user_text
from handlers.ids import Action, Callback
from handlers.payloads import action_of, parse_id, user_of
from handlers.views.adoption import (
    decided, discovery_message, discovery_modal, drift_summary_message, import_modal, import_note,
)
from handlers.views.common import escape, section
from handlers.views.sessions import error_message

log = logging.getLogger(__name__)
ROUTERS_MAX = 500  # a Discover from Slack reads at most this many routers (the CLI has no limit)


def _submit(context: BoltContext, name: str, fn: Callable[[], None]) -> None:
    context["services"].runner.workers.submit(name, fn)


def _routers(core: Core, args: str) -> list[tuple[int, str]]:
    names = args.split()[:20]
    return resolve_routers(core, names)[:ROUTERS_MAX]


# -- discovery ------------------------------------------------------------------------------------
def cmd_discover(ctx: Any) -> None:
    """`/peering discover [router…]`: acked at once; the proposal follows when the routers answered."""
    core: Core = ctx.core
    core.access.require(ctx.user_id, Role.OPERATOR, "discover sessions")
    chosen = _routers(core, ctx.args)
    ctx.respond(response_type="ephemeral",
                text=f":mag: Reading the BGP configuration of {len(chosen)} router(s)… the proposal follows.")

    def run() -> None:
        try:
            found = Discovery(core).discover([i for i, _ in chosen])
            ctx.respond(response_type="ephemeral", replace_original=False, **discovery_message(found))
        except Exception as exc:  # noqa: BLE001 - the user must hear back
            reply_error(ctx.respond, exc)

    ctx.runner.workers.submit("discover", run)


def on_discover_all(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """App Home's Discover sessions: every router; the proposal comes as a DM."""
    ack()
    core: Core = context["services"].core
    user = user_of(body)

    def run() -> None:
        try:
            core.access.require(user, Role.OPERATOR, "discover sessions")
            found = Discovery(core).discover(None)
            client.chat_postMessage(channel=user, **discovery_message(found))
        except Exception as exc:  # noqa: BLE001
            _dm(client, user, f":warning: Discover failed: {user_text(exc)}")

    _submit(context, "discover (home)", run)


def on_discover_router(ack: Ack, body: dict, client: WebClient, context: BoltContext) -> None:
    """Router details' Discover: the modal says "reading…", then shows what was found."""
    ack()
    core: Core = context["services"].core
    view = body.get("view") or {}
    try:
        user = user_of(body)
        router_id = parse_id(action_of(body).get("value"))
        core.access.require(user, Role.OPERATOR, "discover sessions")
    except PeerbotError as exc:
        _update_modal(client, view, {"type": "modal", "title": {"type": "plain_text", "text": "Discover"},
                                     "close": {"type": "plain_text", "text": "Close"},
                                     "blocks": error_message(user_text(exc))["blocks"]})
        return

    def run() -> None:
        try:
            found = Discovery(core).discover([router_id])
            _update_modal(client, view, discovery_modal(found[0]) if found else
                          {"type": "modal", "title": {"type": "plain_text", "text": "Discover"},
                           "blocks": [section("That router is gone.")]})
        except Exception as exc:  # noqa: BLE001
            log.info("discover from router details failed: %s", type(exc).__name__)

    _submit(context, f"discover router #{router_id}", run)


def on_import(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    """Import all new neighbors of a router (a DB write, no router change)."""
    ack()
    core: Core = context["services"].core
    try:
        user = user_of(body)
        router_id = parse_id(action_of(body).get("value"))
        result = import_neighbors(core, user, router_id)
        found = Discovery(core).proposal(router_id)
        respond(replace_original=True, **discovery_message([found], note=import_note(result, user)))
    except Exception as exc:  # noqa: BLE001
        reply_error(respond, exc)


def on_choose(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    """Choose…: a modal listing the new neighbors (opened at once: the trigger_id lasts 3 s)."""
    ack()
    core: Core = context["services"].core
    try:
        core.access.require(user_of(body), Role.OPERATOR, "import sessions")
        router_id = parse_id(action_of(body).get("value"))
        channel = (body.get("channel") or {}).get("id")
        client.views_open(trigger_id=body.get("trigger_id", ""),
                          view=import_modal(Discovery(core).proposal(router_id), channel))
    except Exception as exc:  # noqa: BLE001
        reply_error(respond, exc)


def on_import_submit(ack: Ack, body: dict, view: dict, client: WebClient, context: BoltContext) -> None:
    """The Choose… modal submitted: import the chosen neighbors (inline error when none or refused)."""
    core: Core = context["services"].core
    user = body.get("user", {}).get("id", "")
    meta = str(view.get("private_metadata") or "")
    router_text, _, channel = meta.partition(":")
    chosen = [o.get("value", "") for o in ((view.get("state") or {}).get("values", {}).get("neighbors", {})
                                          .get("neighbors", {}).get("selected_options") or [])][:100]
    try:
        router_id = parse_id(router_text)
        if not chosen:
            raise InvalidInput({"neighbors": "Choose one or more neighbors."})
        result = import_neighbors(core, user, router_id, chosen)
    except InvalidInput as exc:
        ack(response_action="errors", errors={"neighbors": "; ".join(exc.errors.values())[:150]})
        return
    except PeerbotError as exc:
        ack(response_action="errors", errors={"neighbors": user_text(exc)[:150]})
        return
    ack()
    text = import_note(result, user)
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
        else:
            _dm(client, user, text)
    except SlackApiError:
        _dm(client, user, text)


# -- drift -----------------------------------------------------------------------------------------
def cmd_drift(ctx: Any) -> None:
    """`/peering drift [router…]`: read now, answer with the differences (and their buttons)."""
    core: Core = ctx.core
    core.access.require(ctx.user_id, Role.OPERATOR, "check drift")
    chosen = _routers(core, ctx.args)
    ctx.respond(response_type="ephemeral", text=f":mag: Comparing {len(chosen)} router(s) with peerbot…")

    def run() -> None:
        try:
            reports = Drift(core, ctx.runner.requests).check([i for i, _ in chosen])
            ctx.respond(response_type="ephemeral", replace_original=False, **drift_summary_message(reports))
        except Exception as exc:  # noqa: BLE001
            reply_error(ctx.respond, exc)

    ctx.runner.workers.submit("drift check", run)


def _on_decision(what: str) -> Callable[..., None]:
    def listener(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
        ack()
        services = context["services"]
        core: Core = services.core
        drift = Drift(core, services.runner.requests)
        try:
            user = user_of(body)
            item_id = parse_id(action_of(body).get("value"))
            if what == "fix":
                channel = (body.get("channel") or {}).get("id")
                ts = (body.get("container") or {}).get("message_ts")
                view = drift.fix(user, item_id, Origin(channel, ts))
                after_request(services.runner, view)
                note = f":wrench: <@{user}> asked for a Fix: request #{view.id} ({view.state.value.replace('_', ' ')})."
            else:
                done = drift.adopt(user, item_id) if what == "adopt" else drift.ignore(user, item_id)
                mark = ":inbox_tray:" if what == "adopt" else ":see_no_evil:"
                note = f"{mark} <@{user}>: {escape(done)}."
        except Exception as exc:  # noqa: BLE001 - refusals (role, already decided) reach the user
            reply_error(respond, exc)
            return
        blocks = (body.get("message") or {}).get("blocks")
        if blocks:
            try:
                respond(replace_original=True, text=(body.get("message") or {}).get("text") or "drift",
                        blocks=decided(blocks, item_id, note))
                return
            except Exception as exc:  # noqa: BLE001
                log.info("could not update the drift report (%s)", type(exc).__name__)
        respond(response_type="ephemeral", replace_original=False, text=note)

    return listener


# -- glue --------------------------------------------------------------------------------------------
def _dm(client: WebClient, user: str, text: str) -> None:
    try:
        client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.error("cannot tell %s (%s)", user, exc.response.get("error"))


def _update_modal(client: WebClient, view: dict[str, Any], new_view: dict[str, Any]) -> None:
    if not view.get("id"):
        return
    try:
        client.views_update(view_id=view["id"], view=new_view)
    except SlackApiError as exc:
        log.info("router details modal not updated (%s)", exc.response.get("error"))


def register(app: App, core: Core, ui: Any, table: Any, runner: Any) -> None:
    """Wire the subcommands, buttons and the Fix follow-up onto the app."""
    table.add("discover", cmd_discover)
    table.add("drift", cmd_drift)
    app.action(Action.DISCOVER_ALL)(on_discover_all)
    app.action(Action.DISCOVER_ROUTER)(on_discover_router)
    app.action(Action.DISCOVER_IMPORT)(on_import)
    app.action(Action.DISCOVER_CHOOSE)(on_choose)
    app.view(Callback.DISCOVER_IMPORT)(on_import_submit)
    app.action(Action.DRIFT_ADOPT)(_on_decision("adopt"))
    app.action(Action.DRIFT_FIX)(_on_decision("fix"))
    app.action(Action.DRIFT_IGNORE)(_on_decision("ignore"))
    runner.after_run.append(Drift(core, runner.requests).after_change)  # a Fix that ran: re-check its router
    ui.discover = True
