"""The create-session wizard: `/peering add` and the "Add Session" button open one modal that
walks through five steps (handlers/views/wizard.py renders them).

Flow: Next = view_submission answered with `response_action: update` (or `errors`); Previous,
router change, peer lookups and the AS-SET buttons = block_actions answered by views.update with
the view's hash. All state is in the view's private_metadata, so a bot restart between steps loses
nothing. Create calls `create_session_once` with a request key made of the view id and a nonce
drawn when the wizard opened: a retried or double-clicked Create makes one session and posts one
detail message.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core import Core
from bot.errors import Conflict, InvalidInput, NotFound
from bot.services import catalog
from bot.services.provisioning import STEP_FIELDS, SessionDraft, check_draft, create_session_once
from bot.services.views import SessionView
from bot.validation import FieldError, parse_as_set, parse_asn, parse_ip, parse_md5
from handlers.errors import user_text
from handlers.ids import Action, Callback
from handlers.views.common import ago, escape
from handlers.views.sessions import session_detail
from handlers.views.wizard import (
    FIELD_OF, LABELS, StepInput, Summary, WizardExpired, WizardState, apply_step, block_name, error_view,
    peer_search_options, read_values, step1_view, step2_view, step3_view, step4_view, step5_view,
)

log = logging.getLogger("peerbot.wizard")
REQUEST_KEY_MAX = 128  # IdempotencyKey.key
# chat.postMessage errors after which the detail goes to the user's DM instead of the channel.
DM_FALLBACK = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"}
IMPORT_NOT_CONFIGURED = (
    ":information_source: *IRR import is not configured yet*: peerbot cannot fetch AS-SETs from an IRR. "
    "You can still create the session with this AS-SET; its prefix filter is built once the AS-SET is imported."
)


# -- state <-> domain ------------------------------------------------------------------------
def request_key(view_id: str, state: WizardState) -> str:
    return f"wizard:{view_id}:{state.nonce}"[:REQUEST_KEY_MAX]


def draft_of(state: WizardState, md5: str | None = None) -> SessionDraft:
    return SessionDraft(
        session_type=state.session_type, exchange_id=state.exchange_id, notes=state.notes,
        router_id=state.router_id, peer_group_id=state.peer_group_id, local_asn=state.local_asn, md5=md5,
        peer_id=state.peer_id, peeringdb_net_id=state.peeringdb_net_id, peer_name=state.peer_name,
        peer_asn=state.peer_asn, peer_ip=state.peer_ip, as_set=state.as_set,
    )


def _input_errors(errors: dict[str, str]) -> dict[str, str]:
    """Draft field names -> wizard input names."""
    return {FIELD_OF.get(f, f): msg for f, msg in errors.items()}


def absorb_md5(core: Core, inp: StepInput) -> tuple[WizardState, str | None]:
    """Encrypt a typed MD5 into the state (the clear text stays in memory only).

    Returns the new state and an error for the MD5 field; an invalid key is never kept (it is not
    stored anywhere but in this call), so the caller must show the error."""
    state = inp.state
    if inp.md5_typed:
        try:
            md5 = parse_md5(inp.md5_typed)
        except FieldError as exc:
            return state, str(exc)
        return state.model_copy(update={"md5_enc": core.secrets.encrypt(md5) if md5 else None}), None
    if inp.md5_remove:
        return state.model_copy(update={"md5_enc": None}), None
    return state, None


def _fit_router(core: Core, state: WizardState) -> WizardState:
    """After a router change: drop a peer group / local ASN that is not the new router's."""
    if state.router_id is None:
        return state.model_copy(update={"peer_group_id": None, "local_asn": None})
    try:
        router = catalog.get_router(core.db, state.router_id)
    except NotFound:
        return state.model_copy(update={"router_id": None, "peer_group_id": None, "local_asn": None})
    groups = {gid for gid, _ in catalog.list_peer_groups(core.db, router.id)}
    asns = router.local_asns
    local = state.local_asn if state.local_asn in asns else (asns[0] if len(asns) == 1 else None)
    return state.model_copy(update={"peer_group_id": state.peer_group_id if state.peer_group_id in groups else None,
                                    "local_asn": local})


def _normalised(state: WizardState, step: int) -> WizardState:
    """After a step passed validation: show (and store) values the way they will be saved."""
    if step == 3:
        return state.model_copy(update={"peer_name": (state.peer_name or "").strip(),
                                        "peer_asn": (state.peer_asn or "").strip(),
                                        "peer_ip": str(parse_ip(state.peer_ip))})
    if step == 4:
        return state.model_copy(update={"as_set": parse_as_set(state.as_set)})
    return state


def _keep_peer_if_same(core: Core, state: WizardState) -> WizardState:
    """A lookup chose an existing peer; if the user then edited its name or ASN, it is a new peer."""
    if state.peer_id is None:
        return state
    try:
        peer = catalog.get_peer(core.db, state.peer_id)
    except NotFound:
        peer = None
    typed_asn = (state.peer_asn or "").strip().upper().removeprefix("AS")
    if peer is None or (state.peer_name or "").strip().lower() != peer.name.lower() or typed_asn != str(peer.asn):
        return state.model_copy(update={"peer_id": None, "peeringdb_net_id": None})
    return state


# -- rendering ------------------------------------------------------------------------------
def render(core: Core, state: WizardState, *, errors: dict[str, str] | None = None, note: str | None = None,
           message: str | None = None) -> dict[str, Any]:
    """The view of `state.step`, with what it needs loaded from the catalog."""
    if state.step == 1:
        return step1_view(state, catalog.list_exchanges(core.db), errors)
    if state.step == 2:
        routers = catalog.list_routers(core.db)
        groups = catalog.list_peer_groups(core.db, state.router_id) if state.router_id else []
        return step2_view(state, routers, groups, errors)
    if state.step == 3:
        local = [p for p in catalog.search_peers(core.db, "", limit=100) if p.is_local]
        try:
            warning = parse_asn(state.peer_asn).warning if state.peer_asn else None
        except FieldError:
            warning = None  # Next reports it inline
        return step3_view(state, local, errors, note=note, warning=warning)
    if state.step == 4:
        return step4_view(state, errors, message)
    return step5_view(state, _summary(core, state))


def _summary(core: Core, state: WizardState) -> Summary:
    def name(fn: Callable[[], str]) -> str:
        try:
            return fn()
        except NotFound:
            return "?"

    exchange = name(lambda: "No Exchange" if (x := catalog.get_exchange(core.db, state.exchange_id)).is_none else x.name) \
        if state.exchange_id else "–"
    router = name(lambda: catalog.get_router(core.db, state.router_id).name) if state.router_id else "–"
    group = dict(catalog.list_peer_groups(core.db, state.router_id)).get(state.peer_group_id) \
        if state.router_id and state.peer_group_id else None
    known = None
    if state.peer_id:
        known = f"existing peer #{state.peer_id}"
    warnings = tuple(check_draft(core, draft_of(state), steps=(1, 2, 3, 4)).warnings.values())
    return Summary(exchange=exchange, router=router, peer_group=group, peer_known=known, warnings=warnings)


def as_set_message(core: Core, text: str | None) -> str:
    if not (text or "").strip():
        return ":grey_question: Type an AS-SET first, then Validate."
    try:
        name = parse_as_set(text)
    except FieldError as exc:
        return f":x: {escape(str(exc))}"
    known = catalog.find_as_set(core.db, name or "")
    if known is None:
        return (f":grey_question: *{escape(name)}* is not known locally. Import it, or create the session anyway "
                "(its prefix filter waits for the import).")
    return (f":white_check_mark: *{escape(known.name)}* is known locally: {len(known.prefixes_v4 or [])} IPv4 / "
            f"{len(known.prefixes_v6 or [])} IPv6 prefixes, imported {ago(known.imported_at)}"
            + (f" from {escape(known.source)}" if known.source else "") + ".")


# -- the steps: pure-ish functions returning the ack payload ---------------------------------
def next_step(core: Core, state: WizardState, values: dict[str, Any], view_blocks: list[dict]) -> dict[str, Any]:
    """Validate the current step's inputs: inline errors, or the next step."""
    step = state.step
    inp = apply_step(state, step, values)
    new, md5_error = absorb_md5(core, inp)
    errors = _input_errors(check_draft(core, draft_of(new), steps=(step,)).errors)
    errors.pop("md5", None)  # the MD5 was checked in clear text above; the draft carries none
    if md5_error:
        errors["md5"] = md5_error
    if errors:
        return {"response_action": "errors", "errors": inline_errors(errors, view_blocks)}
    new = _normalised(new, step)
    if step == 3:
        new = _keep_peer_if_same(core, new)
    return {"response_action": "update", "view": render(core, new.next_rev(step=step + 1))}


def inline_errors(errors: dict[str, str], view_blocks: list[dict]) -> dict[str, str]:
    """{input name: message} -> {block_id: message} for the inputs of the submitted view; an error
    for a field that has no input there is added to the first input, so nothing is dropped."""
    ids = {block_name(b.get("block_id", "")): b["block_id"] for b in view_blocks if b.get("type") == "input"}
    out: dict[str, str] = {}
    orphans = []
    for name, msg in errors.items():
        if ids.get(name):
            out[ids[name]] = msg[:150]
        else:
            orphans.append(f"{LABELS.get(name, name)}: {msg}")
    if orphans:
        first = next((bid for bid in ids.values()), None)
        if first is not None:
            out[first] = " ".join([out.get(first, ""), *orphans]).strip()[:300]
    return out


def create(core: Core, state: WizardState, *, view_id: str, user: str) -> tuple[dict[str, Any], SessionView | None]:
    """Step 5: store the session once. Returns the ack payload and the session if this call made it."""
    md5 = None
    if state.md5_enc:
        try:
            md5 = core.secrets.decrypt(state.md5_enc)
        except ValueError:
            back = state.next_rev(step=2, md5_enc=None)
            return {"response_action": "update", "view": render(core, back, errors={
                "md5": "The MD5 password entered earlier can no longer be read; type it again."})}, None
    try:
        session, created = create_session_once(core, draft_of(state, md5), actor=user,
                                               request_key=request_key(view_id, state))
    except InvalidInput as exc:
        return _back_to_errors(core, state, exc.errors), None
    except Conflict as exc:
        return _back_to_errors(core, state, {"peer_ip": str(exc)}), None
    return {"response_action": "clear"}, (session if created else None)


def _back_to_errors(core: Core, state: WizardState, field_errors: dict[str, str]) -> dict[str, Any]:
    """Something became invalid since its step (e.g. the IP was taken meanwhile): go back to the
    first step with an error, showing the errors there (a view reached by update cannot carry
    inline errors, so they are a banner above the inputs)."""
    step = min((st for st, fields in STEP_FIELDS.items() if set(fields) & set(field_errors)), default=1)
    return {"response_action": "update",
            "view": render(core, state.next_rev(step=step), errors=_input_errors(field_errors))}


# -- Slack glue ------------------------------------------------------------------------------
def open_wizard(core: Core, client: WebClient, trigger_id: str, channel: str | None) -> None:
    client.views_open(trigger_id=trigger_id, view=render(core, WizardState(channel=channel or None)))


def post_detail(client: WebClient, ui: Any, session: SessionView, *, channel: str | None, user: str) -> None:
    """The new session's detail message, in the channel the wizard was started from; in the user's
    DM when the bot cannot post there (not invited to a private channel, archived...)."""
    msg = session_detail(session, ui.detail_actions,
                         note=f":white_check_mark: Created by <@{user}>. Not configured on the router yet.")
    if channel:
        try:
            client.chat_postMessage(channel=channel, **msg)
            return
        except SlackApiError as exc:
            err = exc.response.get("error")
            if err not in DM_FALLBACK:
                raise
            log.info("cannot post the new session to %s (%s): sending it to the user", channel, err)
    client.chat_postMessage(channel=user, **msg)


def report_not_posted(client: WebClient, session_id: int, *, channel: str | None, user: str, reason: str) -> None:
    """The session was created but its detail message could not be posted: say so, only to the
    user (ephemeral in the channel, else a DM)."""
    text = (f":warning: Session #{session_id} created, but its message could not be posted: {reason.rstrip('.')}. "
            f"Use `/peering show {session_id}`.")
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        except SlackApiError as exc:
            log.info("cannot tell %s in %s (%s): sending a DM", user, channel, exc.response.get("error"))
    try:
        client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.error("cannot tell %s that session #%s was not posted (%s)", user, session_id, exc.response.get("error"))


def _update(client: WebClient, view: dict[str, Any], new_view: dict[str, Any]) -> None:
    try:
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)
    except SlackApiError as exc:
        if exc.response.get("error") == "hash_conflict":  # the view moved on meanwhile: theirs wins
            log.info("wizard view %s changed meanwhile; update skipped", view.get("id"))
            return
        raise


def _view_state(body: dict[str, Any]) -> tuple[dict[str, Any], WizardState, dict[str, Any]]:
    view = body["view"]
    return view, WizardState.decode(view.get("private_metadata")), read_values((view.get("state") or {}).get("values"))


def register(app: App, core: Core, ui: Any, table: Any) -> None:
    def cmd_add(ctx: Any) -> None:
        open_wizard(core, ctx.client, ctx.command["trigger_id"], ctx.command.get("channel_id"))

    table.add("add", cmd_add)

    def add_button(ack: Ack, body: dict, client: WebClient, respond: Any) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        try:
            open_wizard(core, client, body["trigger_id"], channel)
        except Exception as exc:  # noqa: BLE001 - tell the user, do not lose it
            respond(response_type="ephemeral", replace_original=False, text=f":warning: {user_text(exc)}")

    def modal_action(fn: Callable[[WebClient, dict, WizardState, dict, dict], None]) -> Callable[..., None]:
        """A button/select inside the wizard: ack at once, then update the view (hash-checked)."""

        def listener(ack: Ack, body: dict, client: WebClient) -> None:
            ack()
            view = body.get("view") or {}
            try:
                view, state, values = _view_state(body)
                fn(client, view, state, values, body["actions"][0])
            except Exception as exc:  # noqa: BLE001 - the user sees what happened
                if view.get("id"):
                    try:
                        client.views_update(view_id=view["id"], view=error_view(user_text(exc)))
                    except Exception:  # noqa: BLE001
                        log.exception("could not report a wizard error")

        listener.__name__ = fn.__name__
        return listener

    @modal_action
    def previous(client: WebClient, view: dict, state: WizardState, values: dict, action: dict) -> None:
        inp = apply_step(state, state.step, values, lenient=True)  # keep what was typed on this step
        new, md5_error = absorb_md5(core, inp)
        if md5_error:  # not kept, so say so rather than drop it silently: stay here until fixed
            _update(client, view, render(core, new.next_rev(), errors={"md5": f"{md5_error} It was not kept."}))
            return
        _update(client, view, render(core, new.next_rev(step=max(1, state.step - 1))))

    @modal_action
    def router_changed(client: WebClient, view: dict, state: WizardState, values: dict, action: dict) -> None:
        values = {**values, "router": (action.get("selected_option") or {}).get("value", values.get("router"))}
        inp = apply_step(state, 2, values, lenient=True)
        new, md5_error = absorb_md5(core, inp)
        errors = {"md5": f"{md5_error} It was not kept: type it again."} if md5_error else None
        _update(client, view, render(core, _fit_router(core, new).next_rev(), errors=errors))

    @modal_action
    def peer_picked(client: WebClient, view: dict, state: WizardState, values: dict, action: dict) -> None:
        new = apply_step(state, 3, values, lenient=True).state
        value = (action.get("selected_option") or {}).get("value") or ""
        ref, _, ip = value.removeprefix("peer:").partition("|")
        if not (ref.isascii() and ref.isdigit()):
            return  # cleared the selection: nothing to fill in
        try:
            peer = catalog.get_peer(core.db, int(ref))
        except NotFound:
            _update(client, view, render(core, new.next_rev(), note=":warning: That peer no longer exists."))
            return
        ip = ip or (peer.ips[0] if len(peer.ips) == 1 else new.peer_ip or "")
        new = new.next_rev(peer_id=peer.id, peeringdb_net_id=peer.peeringdb_net_id, peer_name=peer.name,
                           peer_asn=f"AS{peer.asn}", peer_ip=ip or None)
        source = "PeeringDB lookup (known peers)" if action.get("action_id") == Action.WIZARD_PEERINGDB else "local peers"
        _update(client, view, render(core, new, note=f"Filled in from {source}: *{escape(peer.name)}* AS{peer.asn}"
                                                      + (f" · `{ip}`" if ip else "") + ". You can still edit the fields."))

    @modal_action
    def as_set_validate(client: WebClient, view: dict, state: WizardState, values: dict, action: dict) -> None:
        new = apply_step(state, 4, values, lenient=True).state.next_rev()
        _update(client, view, render(core, new, message=as_set_message(core, new.as_set)))

    @modal_action
    def as_set_import(client: WebClient, view: dict, state: WizardState, values: dict, action: dict) -> None:
        new = apply_step(state, 4, values, lenient=True).state.next_rev()
        _update(client, view, render(core, new, message=IMPORT_NOT_CONFIGURED))

    def peer_options(ack: Ack, body: dict) -> None:
        try:
            peers = catalog.search_peers(core.db, str(body.get("value") or "")[:100], limit=100)
        except Exception:  # noqa: BLE001 - an empty list rather than a spinning select
            log.exception("peer search failed")
            peers = []
        ack(options=peer_search_options(peers))

    def submit(ack: Ack, body: dict, client: WebClient) -> None:
        user = (body.get("user") or {}).get("id", "")
        try:
            view, state, values = _view_state(body)
            if state.step < 5:
                ack(**next_step(core, state, values, view.get("blocks") or []))
                return
            answer, session = create(core, state, view_id=view.get("id", ""), user=user)
        except Exception as exc:  # noqa: BLE001 - domain errors as they are; others with a reference id
            ack(response_action="update", view=error_view(user_text(exc)))
            return
        ack(**answer)
        if session is not None:  # after the ack: Slack has its answer, this may take a moment
            try:
                post_detail(client, ui, session, channel=state.channel, user=user)
            except Exception as exc:  # noqa: BLE001 - the session exists: tell the user how to see it
                log.warning("could not post session #%s detail", session.id)
                report_not_posted(client, session.id, channel=state.channel, user=user, reason=user_text(exc))

    app.action(Action.ADD_SESSION)(add_button)
    app.action(Action.WIZARD_PREV)(previous)
    app.action(Action.WIZARD_ROUTER)(router_changed)
    app.action(Action.WIZARD_PEERINGDB)(peer_picked)
    app.action(Action.WIZARD_LOCAL_PEER)(peer_picked)
    app.action(Action.WIZARD_AS_SET_VALIDATE)(as_set_validate)
    app.action(Action.WIZARD_AS_SET_IMPORT)(as_set_import)
    app.options(Action.WIZARD_PEERINGDB)(peer_options)
    app.view(Callback.WIZARD)(submit)


__all__ = ["register", "render", "next_step", "create", "request_key", "WizardExpired"]
