"""Buttons on the list and detail messages that only read: paging, View, router/peer details."""
from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import Core
from bot.services.catalog import get_peer, get_router
from bot.services.sessions import get_session, list_sessions
from handlers.errors import reports_errors
from handlers.ids import Action
from handlers.views.sessions import parse_page_value, peer_details_modal, router_details_modal, session_detail, session_list




def register(app: App, core: Core, ui: Any) -> None:
    def ack_now(ack: Ack) -> None:
        ack()

    @reports_errors
    def page(body: dict, respond: Respond) -> None:
        query, number = parse_page_value(body["actions"][0].get("value", ""))
        result = list_sessions(core.db, query, page=number, page_size=core.settings.list_page_size)
        respond(replace_original=True, **session_list(result, can_add=ui.can_add, bulk=ui.bulk))

    @reports_errors
    def show(body: dict, respond: Respond) -> None:
        view = get_session(core.db, body["actions"][0]["value"])
        respond(response_type="in_channel", replace_original=False, **session_detail(view, ui.detail_actions))

    def router_details(ack: Ack, body: dict, client: WebClient) -> None:
        # Opening a modal needs the trigger_id, valid for 3 s: do it before acking; it is a DB read.
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=router_details_modal(get_router(core.db, int(body["actions"][0]["value"]))))

    def peer_details(ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        client.views_open(trigger_id=body["trigger_id"], view=peer_details_modal(get_peer(core.db, int(body["actions"][0]["value"]))))

    app.action(re.compile(rf"^{Action.LIST_PAGE}-(prev|next)$"))(ack=ack_now, lazy=[page])
    # Action.LIST_REFRESH polls the routers first: handlers/router_actions.py
    app.action(Action.LIST_SHOW)(ack=ack_now, lazy=[show])
    app.action(Action.ROUTER_DETAILS)(router_details)
    app.action(Action.PEER_DETAILS)(peer_details)


DETAIL_ACTIONS = frozenset({Action.ROUTER_DETAILS, Action.PEER_DETAILS})
