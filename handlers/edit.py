"""Edit on the session detail message: the create wizard's steps, prefilled from the session
(same inputs, validation, Previous/Next and inline errors; handlers/wizard.py routes an edit's
last step here: the max-prefix limit and the preview), and Save, which calls
bot.changes.editing.edit_session:

- updated directly (not configured, or nothing on the router changes): the detail message the
  Edit button was on is redrawn with a note;
- a router change: a change request (approval message, the detail message follows it).

The stored MD5 key never goes to Slack, not even encrypted: the modal carries STORED_MD5 (keep
it) until a new key is typed (encrypted, as in the create wizard) or Remove is ticked.
"""
from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.access import Role
from bot.core import Core
from bot.base.errors import Conflict, InvalidInput
from bot.changes.records import Origin
from bot.changes.editing import EditResult, draft_from_session, edit_session
from bot.sessions.provisioning import check_draft, parse_max_prefixes
from bot.base.validation import FieldError
from bot.sessions.queries import get_session
from handlers.approvals import after_request, reply_error
from handlers.ids import Action
from handlers.payloads import action_of, parse_id, user_of
from handlers.views.common import escape
from handlers.views.edit import edit_confirm_view
from handlers.views.sessions import session_detail
from handlers.router_actions import origin_of
from handlers.views.wizard import FIELD_OF, WizardState, apply_step
from handlers.wizard_steps import STORED_MD5, back_to_errors, changes_of, confirm_view, draft_of, inline_errors, render

log = logging.getLogger("peerbot.handlers.edit")
REQUEST_KEY_MAX = 128


def state_for_session(core: Core, session_id: int, channel: str | None = None, ts: str | None = None) -> WizardState:
    """The wizard's state for editing the session: its values, step 1."""
    d = draft_from_session(core, session_id)
    view = get_session(core.db, session_id)
    return WizardState(
        edit_id=session_id, channel=channel or None, origin_ts=ts or None, session_type=d.session_type,
        exchange_id=d.exchange_id, notes=d.notes, router_id=d.router_id, peer_group_id=d.peer_group_id,
        local_asn=d.local_asn, md5_enc=STORED_MD5 if view.has_md5 else None, peer_id=d.peer_id,
        peeringdb_net_id=d.peeringdb_net_id, peer_name=d.peer_name, peer_asn=d.peer_asn, peer_ip=d.peer_ip,
        as_set=d.as_set, max_prefixes_v4=d.max_prefixes_v4, max_prefixes_v6=d.max_prefixes_v6,
    )


def _typed_limits(core: Core, state: WizardState, values: dict[str, Any],
                  view_blocks: list[dict]) -> tuple[WizardState, dict[str, Any] | None]:
    """The limits typed on this step: (the state with them, an ack payload when Save must not go
    on: inline errors, or the step drawn again because the preview was for other limits)."""
    typed = apply_step(state, 5, values).state
    errors = {FIELD_OF[f]: msg for f, msg in check_draft(core, draft_of(typed), steps=(5,)).errors.items()}
    if errors:
        return typed, {"response_action": "errors", "errors": inline_errors(errors, view_blocks)}
    # as numbers from here on ("2,500" -> "2500"): what the preview shows and the metadata carries
    typed = typed.model_copy(update={f: (str(v) if v is not None else None) for f, v in
                                     zip(("max_prefixes_v4", "max_prefixes_v6"), _limit_values(typed))})
    if _limit_values(typed) != _limit_values(state):
        view = confirm_view(core, typed.next_rev(), note="Max-prefix limit changed: the changes and commands "
                                                         "below are for the new limit. Check them, then save.")
        return typed, {"response_action": "update", "view": view}
    return typed, None


def _limit_values(state: WizardState) -> list[int | str | None]:
    """The limits as numbers ("1,000" and "1000" are one limit); text that is not one stays text."""
    out: list[int | str | None] = []
    for f in ("max_prefixes_v4", "max_prefixes_v6"):
        try:
            out.append(parse_max_prefixes(getattr(state, f), 4))
        except FieldError:
            out.append(getattr(state, f))
    return out


def save(core: Core, state: WizardState, *, view_id: str, user: str, values: dict[str, Any] | None = None,
         view_blocks: list[dict] | None = None) -> tuple[dict[str, Any], EditResult | None]:
    """Step 5 submitted: (the ack payload, the result when something was done)."""
    state, stop = _typed_limits(core, state, values or {}, view_blocks or [])
    if stop is not None:
        return stop, None
    key = f"edit:{view_id}:{state.nonce}"[:REQUEST_KEY_MAX]
    try:
        result = edit_session(core, user, int(state.edit_id or 0), changes_of(core, state), idempotency_key=key,
                              origin=Origin(state.channel, state.origin_ts))
    except InvalidInput as exc:
        return back_to_errors(core, state, exc.errors), None
    except ValueError:
        return back_to_errors(core, state.model_copy(update={"md5_enc": None}), {
            "md5": "The MD5 password entered earlier can no longer be read; type it again."}), None
    except Conflict as exc:
        return {"response_action": "update", "view": edit_confirm_view(state.next_rev(), None, str(exc))}, None
    return {"response_action": "clear"}, result


def report(client: WebClient, runner: Any, ui: Any, state: WizardState, result: EditResult, user: str) -> None:
    """After the ack: start/show the request, or redraw the detail message with the update."""
    if result.request is not None:
        after_request(runner, result.request)  # type: ignore[arg-type]
        return
    if result.outcome != "updated":
        return
    note = f":pencil2: Edited by <@{user}>: " + escape("; ".join(result.preview.changes))[:1500]
    msg = session_detail(result.session, ui.detail_actions, note=note)
    if state.channel and state.origin_ts:
        try:
            client.chat_update(channel=state.channel, ts=state.origin_ts, **msg)
            return
        except SlackApiError as exc:
            log.info("could not update the detail message of session #%s (%s)", result.session.id,
                     exc.response.get("error"))
    try:  # the original message is gone or cannot be edited: a new one, to the user alone if need be
        client.chat_postMessage(channel=state.channel or user, **msg)
    except SlackApiError:
        client.chat_postMessage(channel=user, **msg)


def on_edit(ack: Ack, body: dict, client: WebClient, respond: Respond, context: BoltContext) -> None:
    """The Edit button: open the wizard prefilled (the trigger_id is valid for 3 s; DB reads only)."""
    ack()

    core: Core = context["services"].core
    try:
        core.access.require(user_of(body), Role.OPERATOR, "edit sessions")
        sid = parse_id(action_of(body).get("value"))
        origin = origin_of(body)
        client.views_open(trigger_id=body.get("trigger_id", ""),
                          view=render(core, state_for_session(core, sid, origin.channel, origin.ts)))
    except Exception as exc:  # noqa: BLE001 - every failure must reach the user
        reply_error(respond, exc)


def register(app: App, ui: Any) -> None:
    app.action(Action.EDIT)(on_edit)
    ui.detail_actions.add(Action.EDIT)
