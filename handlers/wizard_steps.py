"""The steps the create wizard (handlers/wizard.py) and Edit (handlers/edit.py) both walk through:
the wizard's state as a draft, each step's view with what it needs from the catalog (step 5 is the
create confirmation or, for an edit, the preview of what Save does), and errors placed on the
inputs of the submitted view. Both flows import this; neither imports the other's internals.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.base.errors import InvalidInput, NotFound
from bot.base.validation import FieldError, parse_asn, parse_ip
from bot.changes.editing import SessionChanges, preview_edit
from bot.core import Core
from bot.peeringdb import search as pdb
from bot.sessions import catalog, pickers
from bot.sessions.max_prefix import suggested_limit
from bot.sessions.preflight import Preflight, run_checks
from bot.sessions.provisioning import STEP_FIELDS, SessionDraft, check_draft
from handlers.views.common import ago
from handlers.views.edit import edit_confirm_view
from handlers.views.wizard import (
    FIELD_OF, LABELS, OPTIONS_MAX, IpAtExchange, LimitInput, PeeringDBInfo, Summary, WizardState, block_name,
    step1_view, step2_view, step3_view, step4_view, step5_view,
)

STORED_MD5 = "stored"  # WizardState.md5_enc of an edit: the session's own key, kept


def draft_of(state: WizardState, md5: str | None = None) -> SessionDraft:
    """The wizard's state as the provisioning service's draft (the MD5 in clear only when given)."""
    return SessionDraft(
        session_type=state.session_type, exchange_id=state.exchange_id, notes=state.notes,
        router_id=state.router_id, peer_group_id=state.peer_group_id, local_asn=state.local_asn, md5=md5,
        peer_id=state.peer_id, peeringdb_net_id=state.peeringdb_net_id, peer_name=state.peer_name,
        peer_asn=state.peer_asn, peer_ip=state.peer_ip, as_set=state.as_set,
        max_prefixes_v4=state.max_prefixes_v4, max_prefixes_v6=state.max_prefixes_v6,
    )


def input_errors(errors: dict[str, str]) -> dict[str, str]:
    """Draft field names -> wizard input names."""
    return {FIELD_OF.get(f, f): msg for f, msg in errors.items()}


# -- rendering ------------------------------------------------------------------------------
def render(core: Core, state: WizardState, *, errors: dict[str, str] | None = None, note: str | None = None,
           message: str | None = None) -> dict[str, Any]:
    """The view of `state.step`, with what it needs loaded from the catalog."""
    if state.step == 1:
        return step1_view(state, catalog.list_exchanges(core.db), errors)
    if state.step == 2:
        routers = catalog.list_routers(core.db, counts=False)  # step 2 shows no counts
        groups = catalog.list_peer_groups(core.db, state.router_id) if state.router_id else []
        return step2_view(state, routers, groups, errors)
    if state.step == 3:
        # One more than a select shows: the view switches to a type-ahead when they do not fit.
        local = pickers.search_local_peers(core.db, "", limit=OPTIONS_MAX + 1)
        try:
            warning = parse_asn(state.peer_asn).warning if state.peer_asn else None
        except FieldError:
            warning = None  # Next reports it inline
        return step3_view(state, local, errors, note=note, warning=warning, pdb=_pdb_info(core, state))
    if state.step == 4:
        return step4_view(state, errors, message)
    if state.edit_id:  # Edit: what Save would change
        return confirm_view(core, state, errors=errors)
    return step5_view(state, _summary(core, state), errors)


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
    elif state.peeringdb_net_id and (net := pdb.get_network(core.db, state.peeringdb_net_id)):
        known = f"PeeringDB: {net.name}"
    warnings = tuple(check_draft(core, draft_of(state), steps=(1, 2, 3, 4)).warnings.values())
    pf = preflight(core, state)
    return Summary(exchange=exchange, router=router, peer_group=group, peer_known=known, warnings=warnings,
                   checks=tuple(pf.checks), other_family_ip=pf.other_family_ip,
                   limits=_limits(core, state, pf.other_family_ip))


def _limits(core: Core, state: WizardState, other_ip: str | None) -> tuple[LimitInput, ...]:
    """The max-prefix limits step 5 shows: the session's family, and the other one when a second
    session is offered."""
    try:
        asn = parse_asn(state.peer_asn).value
        families = [parse_ip(state.peer_ip).version]
    except FieldError:
        return ()
    if other_ip:
        families.append(10 - families[0])
    out = []
    for fam in families:
        s = suggested_limit(core, fam, asn=asn, peeringdb_net_id=state.peeringdb_net_id)
        out.append(LimitInput(fam, s.limit, s.basis, core.settings.max_prefix_warn_percent))
    return tuple(out)


def preflight(core: Core, state: WizardState) -> Preflight:
    """The pre-flight checks (✅/⚠️/❌) of the session the state describes."""
    return run_checks(core, exchange_id=state.exchange_id, peer_asn=state.peer_asn, peer_ip=state.peer_ip,
                      peeringdb_net_id=state.peeringdb_net_id, router_id=state.router_id, as_set=state.as_set)


def exchange_ix(core: Core, state: WizardState) -> tuple[int | None, str | None]:
    """The PeeringDB ix id and name of the session's exchange (None for No Exchange / unlinked)."""
    if not state.exchange_id:
        return None, None
    try:
        x = catalog.get_exchange(core.db, state.exchange_id)
    except NotFound:
        return None, None
    return (None, None) if x.is_none or not x.peeringdb_ix_id else (x.peeringdb_ix_id, x.name)


def _pdb_info(core: Core, state: WizardState) -> PeeringDBInfo:
    from bot.peeringdb.sync import last_synced

    synced = last_synced(core.db).get("net")
    info = PeeringDBInfo(empty=pdb.mirror_is_empty(core.db), synced=ago(synced) if synced else None)
    ix_id, ix_name = exchange_ix(core, state)
    net = pdb.get_network(core.db, state.peeringdb_net_id) if state.peeringdb_net_id else None
    if net is None or ix_id is None:
        return info
    ips: list[IpAtExchange] = []
    for port in pdb.network_at_exchange(core.db, net.id, ix_id):
        for fam, ip in ((4, port.ipaddr4), (6, port.ipaddr6)):
            if ip:
                ips.append(IpAtExchange(ip=norm_ip(ip), family=fam, speed=port.speed, is_rs_peer=port.is_rs_peer))
    ips.sort(key=lambda a: (a.family, a.ip))
    return PeeringDBInfo(empty=info.empty, synced=info.synced, exchange=ix_name, ips=tuple(ips),
                         network=f"{net.name} (AS{net.asn})")


def norm_ip(text: str) -> str:
    """An address in its normal form, or the text as it is when it is none."""
    try:
        return str(parse_ip(text))
    except FieldError:
        return text


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


def back_to_errors(core: Core, state: WizardState, field_errors: dict[str, str]) -> dict[str, Any]:
    """Something became invalid since its step (e.g. the IP was taken meanwhile): go back to the
    first step with an error, showing the errors there (a view reached by update cannot carry
    inline errors, so they are a banner above the inputs)."""
    step = min((st for st, fields in STEP_FIELDS.items() if set(fields) & set(field_errors)), default=1)
    return {"response_action": "update",
            "view": render(core, state.next_rev(step=step), errors=input_errors(field_errors))}


def changes_of(core: Core, state: WizardState) -> SessionChanges:
    """The wizard's state as the service's input. ValueError: a typed key can no longer be read."""
    md5, remove = None, False
    if state.md5_enc == STORED_MD5:
        pass
    elif state.md5_enc:
        md5 = core.secrets.decrypt(state.md5_enc)
    else:
        remove = True  # no key in the form: none stays (a no-op when the session had none)
    draft = draft_of(state)
    return SessionChanges(**draft.model_dump(exclude={"md5"}), md5=md5, remove_md5=remove)


def _problem(errors: dict[str, str]) -> str:
    return "; ".join(f"{LABELS.get(FIELD_OF.get(k, k), k)}: {v}" for k, v in errors.items())


def _edit_limits(core: Core, state: WizardState) -> tuple[LimitInput, ...]:
    """The max-prefix input of the session's family (of its address after the edit)."""
    try:
        family = parse_ip(state.peer_ip).version
        asn = parse_asn(state.peer_asn).value
    except FieldError:
        return ()
    suggested = suggested_limit(core, family, asn=asn, peeringdb_net_id=state.peeringdb_net_id)
    return (LimitInput(family, suggested.limit, suggested.basis, core.settings.max_prefix_warn_percent),)


def confirm_view(core: Core, state: WizardState, *, errors: dict[str, str] | None = None,
                 note: str | None = None) -> dict[str, Any]:
    """Step 5 of an edit: the max-prefix limit, and the preview of what Save does."""
    limits = _edit_limits(core, state)
    try:
        preview = preview_edit(core, int(state.edit_id or 0), changes_of(core, state))
    except InvalidInput as exc:
        return edit_confirm_view(state, None, _problem(exc.errors), limits=limits, errors=errors)
    except (NotFound, ValueError) as exc:
        text = str(exc) if isinstance(exc, NotFound) else "The MD5 password typed earlier can no longer be read."
        return edit_confirm_view(state, None, text, limits=limits, errors=errors)
    return edit_confirm_view(state, preview, limits=limits, errors=errors, note=note)
