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

from bot.core.access import Role
from bot.core import Core
from bot.base.errors import Conflict, InvalidInput, NotFound
from bot.base.errors import PeerbotError  # noqa: I001 - kept apart: a small, local edit
from bot.irr.service import IrrImports
from bot.peeringdb import search as pdb
from bot.sessions import catalog, pickers
from bot.sessions.provisioning import (
    check_draft, create_session_once,
)
from bot.sessions.views import SessionView
from bot.base.validation import FieldError, first_as_set, outside_name, parse_as_set, parse_as_set_name, parse_ip, parse_md5
from handlers.errors import user_text
from handlers.ids import Action, Callback
from handlers.views import irr as irr_views
from handlers.views.common import escape
from handlers.views.sessions import session_detail
from handlers.wizard_steps import (
    back_to_errors, draft_of, exchange_ix, inline_errors, input_errors, norm_ip, preflight, render,
)
from handlers import edit
from handlers.views.wizard import (
    ANYWAY, FIELD_OF, OPTIONS_MAX, NetworkOption, StepInput, WizardExpired, WizardState, apply_step, block_name, error_view, local_peer_options, option, pdb_search_options,
    read_values,
)

log = logging.getLogger("peerbot.wizard")
REQUEST_KEY_MAX = 128  # IdempotencyKey.key
# chat.postMessage errors after which the detail goes to the user's DM instead of the channel.
DM_FALLBACK = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action", "cannot_dm_bot"}


# -- state <-> domain ------------------------------------------------------------------------
def request_key(view_id: str, state: WizardState) -> str:
    return f"wizard:{view_id}:{state.nonce}"[:REQUEST_KEY_MAX]


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
    """A lookup chose an existing peer; if the user then edited its name or ASN, it is a new peer.
    A PeeringDB network stays linked while the ASN is its ASN (the name may be edited)."""
    if state.peer_id is None:
        if state.peeringdb_net_id is not None:
            net = pdb.get_network(core.db, state.peeringdb_net_id)
            typed = (state.peer_asn or "").strip().upper().removeprefix("AS")
            if net is None or typed != str(net.asn):
                return state.model_copy(update={"peeringdb_net_id": None})
        return state
    try:
        peer = catalog.get_peer(core.db, state.peer_id)
    except NotFound:
        peer = None
    typed_asn = (state.peer_asn or "").strip().upper().removeprefix("AS")
    if peer is None or (state.peer_name or "").strip().lower() != peer.name.lower() or typed_asn != str(peer.asn):
        return state.model_copy(update={"peer_id": None, "peeringdb_net_id": None})
    return state


def fill_from_network(core: Core, state: WizardState, net_id: int) -> tuple[WizardState, str]:
    """A PeeringDB network chosen in step 3: name, ASN, AS-SET and max-prefixes from the mirror;
    for an IXP session, its first address of the session's family at the exchange."""
    net = pdb.get_network(core.db, net_id)
    if net is None:
        return state.next_rev(), ":warning: That network is no longer in the PeeringDB mirror."
    ix_id, ix_name = exchange_ix(core, state)
    ip = state.peer_ip
    where = ""
    if ix_id is not None:
        ports = pdb.network_at_exchange(core.db, net.id, ix_id)
        v4 = [p.ipaddr4 for p in ports if p.ipaddr4]
        v6 = [p.ipaddr6 for p in ports if p.ipaddr6]
        choice = (v4 or v6 or [None])[0]
        ip = norm_ip(choice) if choice else ip
        where = (f" · {len(v4) + len(v6)} address(es) at {ix_name}, `{ip}` chosen" if choice
                 else f" · not listed at {ix_name} in PeeringDB")
    new = state.next_rev(
        peer_id=None, peeringdb_net_id=net.id, peer_name=outside_name(net.name), peer_asn=f"AS{net.asn}",
        peer_ip=ip or None, as_set=first_as_set(net.irr_as_set) or state.as_set,
        # the confirmation step suggests limits from this network's PeeringDB counts
        max_prefixes_v4=None, max_prefixes_v6=None)
    note = (f"Filled in from PeeringDB: *{escape(net.name)}* AS{net.asn}{where}. "
            "You can still edit the fields.")
    return new, note


def as_set_message(imports: IrrImports, text: str | None) -> str:
    """Validate: the AS-SET is well formed and known locally (its counts), or why not."""
    if not (text or "").strip():
        return ":grey_question: Type an AS-SET first, then Validate."
    try:
        target = parse_as_set_name(text)
    except FieldError as exc:
        return f":x: {escape(str(exc))}"
    known = imports.show(target.name) if target else None
    return irr_views.known_text(known) if known else irr_views.unknown_text(target.name if target else "")


def typed_as_set(values: dict[str, Any], state: WizardState) -> str | None:
    """The AS-SET as typed, for Validate and Import: the carried-along state has control
    characters removed ("AS-FOO<tab>-h" would become AS-FOO-H, another set)."""
    typed = values.get("as_set")
    return str(typed)[:256] if isinstance(typed, str) else state.as_set


def import_as_set(imports: IrrImports, text: str | None, actor: str) -> str:
    """Import (on a worker): the result as the step's message, never left at "importing". IRR
    problems come back in the ImportResult; domain errors are shown as they are, anything else
    with a reference id (handlers/errors.py)."""
    try:
        return irr_views.import_result_text(imports.import_set(text, actor))
    except Exception as exc:  # noqa: BLE001 - the modal must say something
        return f":x: {escape(user_text(exc))}"


# -- the steps: pure-ish functions returning the ack payload ---------------------------------
def next_step(core: Core, state: WizardState, values: dict[str, Any], view_blocks: list[dict]) -> dict[str, Any]:
    """Validate the current step's inputs: inline errors, or the next step."""
    step = state.step
    inp = apply_step(state, step, values)
    new, md5_error = absorb_md5(core, inp)
    errors = input_errors(check_draft(core, draft_of(new), steps=(step,), editing=state.edit_id).errors)
    errors.pop("md5", None)  # the MD5 was checked in clear text above; the draft carries none
    if md5_error:
        errors["md5"] = md5_error
    if errors:
        placed = inline_errors(errors, view_blocks)
        if not placed:  # no input of this step in the submitted view (a forged or foreign view): show the step again
            return {"response_action": "update", "view": render(core, new.next_rev(), errors=errors)}
        return {"response_action": "errors", "errors": placed}
    new = _normalised(new, step)
    if step == 3:
        new = _keep_peer_if_same(core, new)
    return {"response_action": "update", "view": render(core, new.next_rev(step=step + 1))}


def create(core: Core, state: WizardState, *, view_id: str, user: str, values: dict[str, Any] | None = None,
           view_blocks: list[dict] | None = None) -> tuple[dict[str, Any], SessionView | None]:
    """Step 5: store the session once. Returns the ack payload and the session if this call made it.

    The pre-flight checks run again here (the mirror or the sessions may have changed since the
    view was drawn): a ❌ needs the "create anyway" box, and that choice is recorded."""
    values = values or {}
    state = apply_step(state, 5, values).state  # the limits as typed on this step
    limit_errors = {FIELD_OF[f]: msg for f, msg in check_draft(core, draft_of(state), steps=(5,)).errors.items()}
    if limit_errors:
        return {"response_action": "errors", "errors": inline_errors(limit_errors, view_blocks or [])}, None
    pf = preflight(core, state)
    override: list[str] | None = None
    if pf.blocked:
        ticked = ANYWAY in (values.get("anyway") or [])
        has_box = any(block_name(b.get("block_id", "")) == "anyway" for b in view_blocks or [])
        if not has_box:  # drawn before the check failed: show it now
            return {"response_action": "update", "view": render(core, state.next_rev())}, None
        if not ticked:
            return {"response_action": "errors", "errors": inline_errors(
                {"anyway": "A pre-flight check failed (❌): tick “Create anyway” to create the session regardless."},
                view_blocks or [])}, None
        override = [f"{c.status} {c.text}" for c in pf.failed]
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
                                               request_key=request_key(view_id, state), preflight_override=override)
    except InvalidInput as exc:
        return back_to_errors(core, state, exc.errors), None
    except Conflict as exc:
        return back_to_errors(core, state, {"peer_ip": str(exc)}), None
    return {"response_action": "clear"}, (session if created else None)


def create_other_family(core: Core, state: WizardState, values: dict[str, Any], *, view_id: str,
                        user: str) -> SessionView | None:
    """The second session the confirmation step offered (the peer's other address family at the
    exchange), when ticked. Only the address pre-flight offers is used, never the submitted text."""
    wanted = values.get("also") or []
    if not wanted:
        return None
    state = apply_step(state, 5, values).state  # the limits as typed on the confirmation step
    offered = preflight(core, state).other_family_ip
    if offered is None or offered not in wanted:
        return None
    md5 = core.secrets.decrypt(state.md5_enc) if state.md5_enc else None
    draft = draft_of(state.model_copy(update={"peer_ip": offered}), md5)
    session, created = create_session_once(core, draft, actor=user, request_key=request_key(view_id, state) + ":af")
    return session if created else None


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
    tell_user(client, f":warning: Session #{session_id} created, but its message could not be posted: "
                      f"{reason.rstrip('.')}. Use `/peering show {session_id}`.", channel=channel, user=user)


def tell_user(client: WebClient, text: str, *, channel: str | None, user: str) -> None:
    """A message only the user sees: ephemeral in the channel, else a DM."""
    if channel:
        try:
            client.chat_postEphemeral(channel=channel, user=user, text=text)
            return
        except SlackApiError as exc:
            log.info("cannot tell %s in %s (%s): sending a DM", user, channel, exc.response.get("error"))
    try:
        client.chat_postMessage(channel=user, text=text)
    except SlackApiError as exc:
        log.error("cannot tell %s something (%s)", user, exc.response.get("error"))


def _update(client: WebClient, view: dict[str, Any], new_view: dict[str, Any]) -> dict[str, Any] | None:
    """views.update checked against the hash of the view the action came from; returns the view
    as Slack now shows it (with its new hash), or None when it had moved on meanwhile."""
    try:
        answer = client.views_update(view_id=view["id"], hash=view.get("hash"), view=new_view)
    except SlackApiError as exc:
        if exc.response.get("error") == "hash_conflict":  # the view moved on meanwhile: theirs wins
            log.info("wizard view %s changed meanwhile; update skipped", view.get("id"))
            return None
        raise
    shown = answer.get("view") if hasattr(answer, "get") else None
    return {**(shown or {}), "id": (shown or {}).get("id") or view["id"], "hash": (shown or {}).get("hash")}


def _view_state(body: dict[str, Any]) -> tuple[dict[str, Any], WizardState, dict[str, Any]]:
    view = body["view"]
    return view, WizardState.decode(view.get("private_metadata")), read_values((view.get("state") or {}).get("values"))


def _show_error(client: WebClient, view: dict, exc: Exception) -> None:
    """A wizard button or select failed: the modal says why (when there is one to update)."""
    if view.get("id"):
        try:
            client.views_update(view_id=view["id"], view=error_view(user_text(exc)))
        except Exception:  # noqa: BLE001
            log.exception("could not report a wizard error")


def register(app: App, core: Core, ui: Any, table: Any) -> None:
    def cmd_add(ctx: Any) -> None:
        core.access.require(ctx.user_id, Role.OPERATOR, "create sessions")
        open_wizard(core, ctx.client, ctx.command["trigger_id"], ctx.command.get("channel_id"))

    table.add("add", cmd_add)

    def add_button(ack: Ack, body: dict, client: WebClient, respond: Any) -> None:
        ack()
        channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
        try:
            core.access.require((body.get("user") or {}).get("id", ""), Role.OPERATOR, "create sessions")
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
                _show_error(client, view, exc)

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
        ref, _, ip = value.partition("|")
        if not (ref.isascii() and ref.isdigit()) or len(ref) > 9:  # 9: past 32 bits the database driver overflows
            return  # cleared the selection: nothing to fill in
        try:
            peer = catalog.get_peer(core.db, int(ref))
        except NotFound:
            _update(client, view, render(core, new.next_rev(), note=":warning: That peer no longer exists."))
            return
        ip = ip or (peer.ips[0] if len(peer.ips) == 1 else new.peer_ip or "")
        new = new.next_rev(peer_id=peer.id, peeringdb_net_id=peer.peeringdb_net_id, peer_name=peer.name,
                           peer_asn=f"AS{peer.asn}", peer_ip=ip or None)
        _update(client, view, render(core, new, note=f"Filled in from local peers: *{escape(peer.name)}* AS{peer.asn}"
                                                      + (f" · `{ip}`" if ip else "") + ". You can still edit the fields."))

    @modal_action
    def network_picked(client: WebClient, view: dict, state: WizardState, values: dict, action: dict) -> None:
        new = apply_step(state, 3, values, lenient=True).state
        value = (action.get("selected_option") or {}).get("value") or ""
        ref = value.removeprefix("net:")
        if not value.startswith("net:") or not (ref.isascii() and ref.isdigit()) or len(ref) > 9:
            return  # cleared, or the "mirror is empty" notice: nothing to fill in
        new, note = fill_from_network(core, new, int(ref))
        _update(client, view, render(core, new, note=note))

    @modal_action
    def network_ip_picked(client: WebClient, view: dict, state: WizardState, values: dict, action: dict) -> None:
        new = apply_step(state, 3, values, lenient=True).state
        ip = (action.get("selected_option") or {}).get("value") or ""
        try:
            ip = str(parse_ip(ip))
        except FieldError:
            return
        _update(client, view, render(core, new.next_rev(peer_ip=ip), note=f"Peer IP set to `{ip}` (from PeeringDB)."))

    imports = IrrImports(core)

    @modal_action
    def as_set_validate(client: WebClient, view: dict, state: WizardState, values: dict, action: dict) -> None:
        new = apply_step(state, 4, values, lenient=True).state.next_rev()
        _update(client, view, render(core, new, message=as_set_message(imports, typed_as_set(values, new))))

    def as_set_import(ack: Ack, body: dict, client: WebClient, context: dict) -> None:
        """Import: ack, show "importing" at once, run bgpq4 on the worker pool, then show the
        result, hash-checked against the "importing" view: a wizard moved on meanwhile (Next,
        Previous) keeps its view, the import is stored all the same."""
        ack()
        view = body.get("view") or {}
        user = (body.get("user") or {}).get("id", "")
        try:
            view, state, values = _view_state(body)
            new = apply_step(state, 4, values, lenient=True).state.next_rev()
            try:
                target = parse_as_set_name(typed_as_set(values, new))
            except FieldError as exc:
                _update(client, view, render(core, new, message=f":x: {escape(str(exc))}"))
                return
            if target is None:
                _update(client, view, render(core, new, message=":grey_question: Type an AS-SET first, then Import."))
                return
            core.access.require(user, Role.OPERATOR, "import AS-SETs")
            where = imports.bgpq4.where(target)
            shown = _update(client, view, render(core, new, message=irr_views.importing_text(target.query, where)))
            if shown is None:
                return  # the view moved on before the import started: nobody is waiting for it
            workers = context["services"].runner.workers
            workers.submit(f"IRR import {target.query}", _finish_import, client, shown, new, target.query, user)
        except Exception as exc:  # noqa: BLE001 - the user sees what happened
            _show_error(client, view, exc)

    def _finish_import(client: WebClient, shown: dict, state: WizardState, query: str, user: str) -> None:
        text = import_as_set(imports, query, user)
        _update(client, shown, render(core, state.next_rev(), message=text))

    def suggestions(fn: Callable[[str, dict], list[dict[str, Any]]]) -> Callable[..., None]:
        """A block_suggestion listener: options for the typed text; an empty list if it fails
        rather than a select that spins."""

        def listener(ack: Ack, body: dict) -> None:
            try:
                options = fn(str(body.get("value") or "")[:100], body)[:OPTIONS_MAX]
            except PeerbotError as exc:  # e.g. an expired form: expected, no traceback
                log.info("%s suggestions: %s", fn.__name__, type(exc).__name__)
                options = []
            except Exception:  # noqa: BLE001
                log.exception("%s suggestions failed", fn.__name__)
                options = []
            ack(options=options)

        listener.__name__ = fn.__name__
        return listener

    @suggestions
    def network_options(text: str, body: dict) -> list[dict[str, Any]]:
        if pdb.mirror_is_empty(core.db):
            return pdb_search_options([], mirror_empty=True)
        hits = pdb.search_networks(core.db, text)
        return pdb_search_options([NetworkOption(h.id, h.asn, h.name, h.irr_as_set) for h in hits], mirror_empty=False)

    @suggestions
    def exchange_options(text: str, body: dict) -> list[dict[str, Any]]:
        return [option("No Exchange" if x.is_none else x.name, str(x.id)) for x in pickers.search_exchanges(core.db, text)]

    @suggestions
    def router_options(text: str, body: dict) -> list[dict[str, Any]]:
        return [option(f"{name} ({platform})", str(rid)) for rid, name, platform in pickers.search_routers(core.db, text)]

    @suggestions
    def peer_group_options(text: str, body: dict) -> list[dict[str, Any]]:
        state = WizardState.decode((body.get("view") or {}).get("private_metadata"))
        return [option(name, str(gid)) for gid, name in pickers.search_peer_groups(core.db, state.router_id, text)]

    @suggestions
    def local_peer_options_for(text: str, body: dict) -> list[dict[str, Any]]:
        return local_peer_options(pickers.search_local_peers(core.db, text))

    def submit(ack: Ack, body: dict, client: WebClient, context: Any) -> None:
        user = (body.get("user") or {}).get("id", "")
        try:
            view, state, values = _view_state(body)
            if state.step < 5:
                ack(**next_step(core, state, values, view.get("blocks") or []))
                return
            if state.edit_id:  # Edit's Save: handlers/edit.py

                answer, result = edit.save(core, state, view_id=view.get("id", ""), user=user, values=values,
                                           view_blocks=view.get("blocks") or [])
                ack(**answer)
                if result is not None:
                    try:
                        edit.report(client, context["services"].runner, ui, state, result, user)
                    except Exception as exc:  # noqa: BLE001 - saved or requested already: say how to see it
                        log.warning("could not report the edit of session #%s", state.edit_id)
                        tell_user(client, f":warning: Session #{state.edit_id}: {result.outcome}, but Slack could not "
                                          f"be updated: {user_text(exc)}", channel=state.channel, user=user)
                return
            answer, session = create(core, state, view_id=view.get("id", ""), user=user, values=values,
                                     view_blocks=view.get("blocks") or [])
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
            _second_session(client, state, values, view_id=view.get("id", ""), user=user)

    def _second_session(client: WebClient, state: WizardState, values: dict, *, view_id: str, user: str) -> None:
        """The other address family's session, when the user ticked it on the confirmation step."""
        try:
            other = create_other_family(core, state, values, view_id=view_id, user=user)
        except Exception as exc:  # noqa: BLE001 - the first session exists; say why the second does not
            log.info("second session not created: %s", type(exc).__name__)
            tell_user(client, f":warning: The other address family's session was not created: {user_text(exc)}",
                      channel=state.channel, user=user)
            return
        if other is not None:
            try:
                post_detail(client, ui, other, channel=state.channel, user=user)
            except Exception as exc:  # noqa: BLE001
                report_not_posted(client, other.id, channel=state.channel, user=user, reason=user_text(exc))

    app.action(Action.ADD_SESSION)(add_button)
    app.action(Action.WIZARD_PREV)(previous)
    app.action(Action.WIZARD_ROUTER)(router_changed)
    app.action(Action.WIZARD_PEERINGDB)(network_picked)
    app.action(Action.WIZARD_PEERINGDB_IP)(network_ip_picked)
    app.action(Action.WIZARD_LOCAL_PEER)(peer_picked)
    app.action(Action.WIZARD_AS_SET_VALIDATE)(as_set_validate)
    app.action(Action.WIZARD_AS_SET_IMPORT)(as_set_import)
    app.options(Action.WIZARD_PEERINGDB)(network_options)
    app.options(Action.WIZARD_EXCHANGE)(exchange_options)
    app.options(Action.WIZARD_ROUTER)(router_options)
    app.options(Action.WIZARD_PEER_GROUP)(peer_group_options)
    app.options(Action.WIZARD_LOCAL_PEER)(local_peer_options_for)
    app.view(Callback.WIZARD)(submit)


__all__ = ["register", "render", "next_step", "create", "request_key", "WizardExpired"]
