"""Buttons on the list and detail messages that only read: paging, View, router/peer details."""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.core import Core
from bot.base.errors import InvalidInput
from bot.sessions.catalog import get_peer, get_router
from bot.sessions.queries import get_session, list_sessions
from handlers.errors import reports_errors, user_text
from handlers.payloads import parse_id
from handlers.ids import Action
from handlers.views.sessions import (
    error_message, parse_page_ref, peer_details_modal, router_details_modal, session_detail, session_list,
)


def register(app: App, core: Core, ui: Any) -> None:
    # Paging and View read one page / one session (bounded): they run right after their ack, on
    # the thread that acked, not as lazy listeners (Bolt would copy the whole request for one).
    @reports_errors
    def page(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        ref = parse_page_ref(body["actions"][0].get("value", ""))
        result = list_sessions(core.db, ref.query, page=ref.page, page_size=core.settings.list_page_size,
                               after=ref.after, before=ref.before)
        respond(replace_original=True, **session_list(result, can_add=ui.can_add, bulk=ui.bulk))

    @reports_errors
    def show(ack: Ack, body: dict, respond: Respond) -> None:
        ack()
        view = get_session(core.db, body["actions"][0]["value"])
        respond(response_type="in_channel", replace_original=False, **session_detail(view, ui.detail_actions))

    def details(modal: Callable[[int], dict[str, Any]]) -> Callable[..., None]:
        """Router/Peer details: a modal, opened here (the trigger_id is valid for 3 s; it is a DB read)."""

        def listener(ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
            ack()
            try:
                try:  # parse_id: ASCII digits, bounded (not "²", 5000 digits or past 64 bits)
                    ref = parse_id(body["actions"][0].get("value"))
                except InvalidInput:
                    raise InvalidInput({"id": "this button carries no id"}) from None
                client.views_open(trigger_id=body.get("trigger_id", ""), view=modal(ref))
            except Exception as exc:  # noqa: BLE001 - a deleted router/peer or a refused modal: say so
                respond(response_type="ephemeral", replace_original=False, **error_message(user_text(exc)))

        return listener

    router_details = details(lambda rid: router_details_modal(get_router(core.db, rid), discover=ui.discover))
    peer_details = details(lambda pid: peer_details_modal(get_peer(core.db, pid)))

    app.action(re.compile(rf"^{Action.LIST_PAGE}-(prev|next|first|last)$"))(page)
    # Action.LIST_REFRESH polls the routers first: handlers/router_actions.py
    app.action(Action.LIST_SHOW)(show)
    app.action(Action.ROUTER_DETAILS)(router_details)
    app.action(Action.PEER_DETAILS)(peer_details)


DETAIL_ACTIONS = frozenset({Action.ROUTER_DETAILS, Action.PEER_DETAILS})
