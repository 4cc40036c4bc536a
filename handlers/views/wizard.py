"""The create-session wizard: its typed state (kept in the modal's `private_metadata`) and one pure
function per step view. Nothing here talks to Slack or the database: the handler loads what a step
needs from the catalog and passes it in, so every view is unit-testable as plain JSON.

State encoding (`WizardState.encode`): compact JSON with short keys, then a newline, then the notes
*unescaped*. Notes are the only long free text (≤ 1000 characters); JSON would double characters
such as `"` or `\\n`, so keeping them out of the JSON keeps the worst case well under Slack's 3000
character limit. The MD5 password is only ever stored encrypted (`md5_enc`, a Fernet token).
"""
from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.base.errors import PeerbotError
from bot.sessions.catalog import ExchangeView, PeerView, RouterView
from handlers.ids import Action, Callback
from handlers.views.common import (
    MAX_MODAL_TITLE, Block, actions, button, clip, clip_mrkdwn, context, escape, fields_section, plain, section,
)

STEPS = 5
METADATA_MAX = 3000  # Slack's limit for private_metadata
NOTES_MAX = 1000
PEER_NAME_MAX = 80
ASN_INPUT_MAX = 20
IP_INPUT_MAX = 45
AS_SET_INPUT_MAX = 140
MD5_MAX = 80
OPTIONS_MAX = 100  # Slack: at most 100 options in a select
OPTION_TEXT_MAX = 75
OPTION_VALUE_MAX = 150
MASK = "••••"
TYPE_LABELS = {"public": "Public (IXP)", "private": "Private (PNI)", "local": "Local / custom"}
STEP_TITLES = {1: "Common settings", 2: "Router settings", 3: "Peer settings", 4: "AS-SET (optional)", 5: "Confirmation"}
MD5_REMOVE = "remove"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class WizardExpired(PeerbotError):
    """The modal's state cannot be read back (an old or foreign view)."""


class WizardState(BaseModel):
    """Everything the wizard has collected. Short aliases keep private_metadata small."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")
    version: int = Field(1, alias="v")
    step: int = Field(1, alias="s", ge=1, le=STEPS)
    rev: int = Field(0, alias="r")  # bumped on every render: new block_ids make Slack show initial values
    nonce: str = Field(default_factory=lambda: secrets.token_hex(6), alias="k")
    channel: str | None = Field(None, alias="c")  # where the wizard was started: the detail goes there
    session_type: str | None = Field(None, alias="t")
    exchange_id: int | None = Field(None, alias="x")
    notes: str | None = Field(None, exclude=True)  # encoded after the JSON, see module docstring
    router_id: int | None = Field(None, alias="ro")
    peer_group_id: int | None = Field(None, alias="g")
    local_asn: int | None = Field(None, alias="la")
    md5_enc: str | None = Field(None, alias="m")  # Fernet token; the clear text never goes to Slack
    peer_id: int | None = Field(None, alias="p")
    peeringdb_net_id: int | None = Field(None, alias="pn")
    peer_name: str | None = Field(None, alias="n")
    peer_asn: str | None = Field(None, alias="a")
    peer_ip: str | None = Field(None, alias="i")
    as_set: str | None = Field(None, alias="as")
    max_prefixes_v4: str | None = Field(None, alias="m4")  # typed on step 5; None: the suggested limit
    max_prefixes_v6: str | None = Field(None, alias="m6")
    # Edit (handlers/edit.py): the session edited, and the detail message the Edit button was on
    edit_id: int | None = Field(None, alias="e")
    origin_ts: str | None = Field(None, alias="ot")

    def encode(self) -> str:
        head = self.model_dump_json(by_alias=True, exclude_none=True)
        text = f"{head}\n{self.notes}" if self.notes else head
        assert len(text) <= METADATA_MAX, f"wizard private_metadata too long ({len(text)} > {METADATA_MAX})"
        return text

    @classmethod
    def decode(cls, metadata: str | None) -> WizardState:
        head, _, notes = (metadata or "").partition("\n")
        try:
            state = cls.model_validate(json.loads(head))
        except (ValueError, ValidationError):
            raise WizardExpired("This form has expired. Start again with `/peering add`.") from None
        state.notes = notes or None
        return state

    def next_rev(self, **changes: Any) -> WizardState:
        return self.model_copy(update={"rev": self.rev + 1, **changes})


# -- block ids and values ---------------------------------------------------------------------
# Input blocks are "wz.<field>.<rev>". Slack keeps what the user typed in a block whose block_id
# did not change across views.update and ignores the new initial_value; a new rev on every render
# makes autofill (peer lookup, router change) and Previous show exactly the state's values.
FIELD_OF = {  # SessionDraft field -> wizard input name
    "session_type": "type", "exchange_id": "exchange", "notes": "notes", "router_id": "router",
    "peer_group_id": "peer_group", "local_asn": "local_asn", "md5": "md5", "peer_name": "peer_name",
    "peer_asn": "peer_asn", "peer_ip": "peer_ip", "as_set": "as_set",
    "max_prefixes_v4": "max_prefixes_v4", "max_prefixes_v6": "max_prefixes_v6",
}
STEP_INPUTS = {
    1: ("type", "exchange", "notes"),
    2: ("router", "peer_group", "local_asn", "md5", "md5_clear"),
    3: ("peeringdb", "pdb_ip", "local_peer", "peer_name", "peer_asn", "peer_ip"),
    4: ("as_set",),
    5: ("max_prefixes_v4", "max_prefixes_v6", "also", "anyway"),
}
LABELS = {
    "type": "Session type", "exchange": "Exchange", "notes": "Notes", "router": "Router", "peer_group": "Peer group",
    "local_asn": "Local ASN", "md5": "MD5 password", "peer_name": "Peer name", "peer_asn": "Peer ASN",
    "peer_ip": "Peer IP address", "as_set": "AS-SET", "max_prefixes_v4": "Max prefixes IPv4",
    "max_prefixes_v6": "Max prefixes IPv6", "anyway": "Create anyway", "also": "Other address family",
}
MAX_PREFIXES_INPUT_MAX = 10
ANYWAY = "anyway"
PDB_EMPTY = "PeeringDB mirror is empty: run `peerbot peeringdb sync`"


def block_id(name: str, rev: int) -> str:
    return f"wz.{name}.{rev}"


def block_name(bid: str) -> str | None:
    parts = bid.split(".")
    return parts[1] if len(parts) == 3 and parts[0] == "wz" else None


def read_values(state_values: dict[str, Any] | None) -> dict[str, Any]:
    """view.state.values -> {input name: value} (text, selected option value, or list for checkboxes)."""
    out: dict[str, Any] = {}
    for bid, elements in (state_values if isinstance(state_values, dict) else {}).items():
        name = block_name(bid)
        if name is None or not isinstance(elements, dict):
            continue
        for el in elements.values():
            if not isinstance(el, dict):
                continue
            kind = el.get("type")
            if kind == "checkboxes":  # a forged payload may hold anything at any level: skip what is not an option
                picked = el.get("selected_options")
                out[name] = [o.get("value") for o in picked if isinstance(o, dict)] if isinstance(picked, list) else []
            elif "selected_option" in el or kind in ("static_select", "external_select", "radio_buttons"):
                picked = el.get("selected_option")
                out[name] = picked.get("value") if isinstance(picked, dict) else None
            else:
                value = el.get("value")
                out[name] = value if value not in ("", None) else None
    return out


def _int(value: Any) -> int | None:
    """An id from a select value: None unless it is a positive number a database can hold
    (a forged or stale value must become an inline error, not an OverflowError)."""
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    return int(text) or None


def _keep(value: Any, limit: int, *, lenient: bool, single_line: bool = True) -> str | None:
    """What the user typed. On Next (`lenient=False`) exactly that: it is validated next, and an
    error is shown rather than anything being cut. When unvalidated values are only carried along
    (Previous, a lookup, a router change) they are bounded to the input's max_length (all a real
    client can send) and single-line inputs lose control characters (a real client cannot type
    them), so a forged value cannot overflow private_metadata. Create validates everything again."""
    if value is None:
        return None
    text = str(value)
    if lenient:
        if single_line:
            text = _CONTROL.sub("", text)
        text = text[:limit]
    return text if text.strip() else None


@dataclass
class StepInput:
    """The values of one step read from a submission: the new state and the transient extras."""

    state: WizardState
    md5_typed: str | None = None  # clear text, only in memory: the handler encrypts or rejects it
    md5_remove: bool = False
    picks: dict[str, str | None] = field(default_factory=dict)  # peeringdb / local_peer selections


def apply_step(state: WizardState, step: int, values: dict[str, Any], *, lenient: bool = False) -> StepInput:
    """Copy the inputs of `step` from `values` into the state (not validated here)."""
    upd: dict[str, Any] = {}
    lv = lenient
    extra = StepInput(state)
    if step == 1:
        upd = {"session_type": values.get("type"), "exchange_id": _int(values.get("exchange")),
               "notes": _keep(values.get("notes"), NOTES_MAX, lenient=lv, single_line=False)}
    elif step == 2:
        upd = {"router_id": _int(values.get("router")), "peer_group_id": _int(values.get("peer_group")),
               "local_asn": _int(values.get("local_asn"))}
        md5 = values.get("md5")
        extra.md5_typed = str(md5) if md5 else None
        extra.md5_remove = MD5_REMOVE in (values.get("md5_clear") or [])
    elif step == 3:
        upd = {"peer_name": _keep(values.get("peer_name"), PEER_NAME_MAX, lenient=lv),
               "peer_asn": _keep(values.get("peer_asn"), ASN_INPUT_MAX, lenient=lv),
               "peer_ip": _keep(values.get("peer_ip"), IP_INPUT_MAX, lenient=lv)}
        extra.picks = {"peeringdb": values.get("peeringdb"), "local_peer": values.get("local_peer"),
                       "pdb_ip": values.get("pdb_ip")}
    elif step == 4:
        upd = {"as_set": _keep(values.get("as_set"), AS_SET_INPUT_MAX, lenient=lv)}
    elif step == 5:  # only the limits shown on this view (a family without an input keeps its value)
        upd = {f: _keep(values[f], MAX_PREFIXES_INPUT_MAX, lenient=lv)
               for f in ("max_prefixes_v4", "max_prefixes_v6") if f in values}
    extra.state = state.model_copy(update=upd)
    return extra


# -- Block Kit helpers ------------------------------------------------------------------------
def option(text: str, value: str) -> dict[str, Any]:
    return {"text": {"type": "plain_text", "text": clip(text, OPTION_TEXT_MAX), "emoji": True},
            "value": value[:OPTION_VALUE_MAX]}


def _select(action_id: str, options: Sequence[dict[str, Any]], selected: str | None, placeholder: str) -> dict[str, Any]:
    opts = list(options)[:OPTIONS_MAX]
    el: dict[str, Any] = {"type": "static_select", "action_id": action_id, "placeholder": plain(placeholder),
                          "options": opts}
    chosen = next((o for o in opts if o["value"] == selected), None)
    if chosen is not None:
        el["initial_option"] = chosen
    return el


def _pick(action_id: str, options: Sequence[dict[str, Any]], selected: str | None, placeholder: str) -> dict[str, Any]:
    """A static select while the options fit Slack's 100; above that a type-ahead external_select
    (its options come from the handler's block_suggestion listener for `action_id`)."""
    if len(options) <= OPTIONS_MAX:
        return _select(action_id, options, selected, placeholder)
    el: dict[str, Any] = {"type": "external_select", "action_id": action_id, "placeholder": plain(placeholder),
                          "min_query_length": 0}
    chosen = next((o for o in options if o["value"] == selected), None)
    if chosen is not None:
        el["initial_option"] = chosen
    return el


def text_element(action_id: str, value: str | None, *, max_length: int, placeholder: str = "", multiline: bool = False) -> dict[str, Any]:
    """A plain-text input element, prefilled with `value` (cut to `max_length`)."""
    el: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id, "max_length": max_length}
    if multiline:
        el["multiline"] = True
    if placeholder:
        el["placeholder"] = plain(placeholder)
    if value:
        el["initial_value"] = value[:max_length]
    return el


def input_block(name: str, rev: int, element: dict[str, Any], *, label: str | None = None, optional: bool = False,
                hint: str | None = None, dispatch: bool = False) -> Block:
    """The input block of the wizard input `name` (its block id carries the view's `rev`)."""
    b: Block = {"type": "input", "block_id": block_id(name, rev), "label": plain(label or LABELS[name]),
                "element": element, "optional": optional}
    if hint:
        b["hint"] = plain(hint)
    if dispatch:
        b["dispatch_action"] = True
    return b


def problem_banner(errors: dict[str, str] | None, names: Iterable[str]) -> list[Block]:
    """Errors that cannot be inline (a view reached by `update`, not by `errors`): a banner."""
    lines = [f"• *{LABELS.get(n, n)}*: {escape(errors[n])}" for n in names if errors and n in errors]
    return [section(":warning: Please fix:\n" + "\n".join(lines))] if lines else []


def wizard_modal(state: WizardState, blocks: list[Block], *, submit: str = "Next") -> dict[str, Any]:
    """The wizard's modal around `blocks`: title, Previous (after step 1), the state as metadata."""
    if state.step > 1:
        blocks = blocks + actions([button("◀ Previous", Action.WIZARD_PREV, str(state.step))], block_id="wz_nav")
    assert len(blocks) <= 100, "Slack allows at most 100 blocks in a modal"
    return {
        "type": "modal", "callback_id": Callback.WIZARD,
        "title": plain(_title(state), limit=MAX_MODAL_TITLE),
        "submit": plain(submit, limit=MAX_MODAL_TITLE), "close": plain("Cancel", limit=MAX_MODAL_TITLE),
        "private_metadata": state.encode(), "blocks": blocks,
    }


def _title(state: WizardState) -> str:
    if not state.edit_id:
        return f"Add session · {state.step}/{STEPS}"
    title = f"Edit session #{state.edit_id} · {state.step}/{STEPS}"
    return title if len(title) <= MAX_MODAL_TITLE else f"Edit session #{state.edit_id}"  # Slack: 24 characters


def progress_block(step: int) -> Block:
    """Where the wizard is: "Step 2 of 5: …" with the current step in bold."""
    marks = " → ".join(f"*{STEP_TITLES[i]}*" if i == step else STEP_TITLES[i] for i in range(1, STEPS + 1))
    return context(f"Step {step} of {STEPS}: {marks}")


# -- the steps -------------------------------------------------------------------------------
def step1_view(state: WizardState, exchanges: Sequence[ExchangeView], errors: dict[str, str] | None = None) -> dict[str, Any]:
    r = state.rev
    types = [option(label, value) for value, label in TYPE_LABELS.items()]
    type_el: dict[str, Any] = {"type": "radio_buttons", "action_id": "type", "options": types}
    chosen = next((o for o in types if o["value"] == state.session_type), None)
    if chosen:
        type_el["initial_option"] = chosen
    ix_opts = [option("No Exchange" if x.is_none else x.name, str(x.id)) for x in exchanges]
    blocks = [
        progress_block(1), *problem_banner(errors, ("type", "exchange", "notes")),
        input_block("type", r, type_el),
        input_block("exchange", r, _pick(Action.WIZARD_EXCHANGE, ix_opts, str(state.exchange_id) if state.exchange_id else None,
                                         "Choose an exchange"),
                    hint="A local/custom peer uses “No Exchange”; a public (IXP) session needs an exchange."),
        input_block("notes", r, text_element("notes", state.notes, max_length=NOTES_MAX, multiline=True,
                                             placeholder="Ticket, contact, anything useful"), optional=True,
                    hint=f"Optional, at most {NOTES_MAX} characters."),
    ]
    if len(exchanges) > OPTIONS_MAX:
        blocks.append(context(f"{len(exchanges)} exchanges: type part of a name to find one."))
    return wizard_modal(state, blocks)


def step2_view(state: WizardState, routers: Sequence[RouterView], groups: Sequence[tuple[int, str]],
               errors: dict[str, str] | None = None) -> dict[str, Any]:
    r = state.rev
    router = next((x for x in routers if x.id == state.router_id), None)
    blocks: list[Block] = [progress_block(2), *problem_banner(errors, ("router", "peer_group", "local_asn", "md5"))]
    if not routers:
        blocks.append(section(":warning: No routers in the inventory yet: load them with `peerbot inventory load`."))
    else:
        r_opts = [option(f"{x.name} ({x.platform})", str(x.id)) for x in routers]
        blocks.append(input_block("router", r, _pick(Action.WIZARD_ROUTER, r_opts, str(router.id) if router else None,
                                                     "Choose a router"), dispatch=True,
                                  hint="Its peer groups and local ASNs appear when you choose it."))
    if router is None:
        if routers:
            blocks.append(context("Choose a router to see its peer groups and local ASNs."))
    else:
        if groups:
            g_opts = [option(name, str(gid)) for gid, name in groups]
            blocks.append(input_block("peer_group", r, _pick(Action.WIZARD_PEER_GROUP, g_opts,
                                                             str(state.peer_group_id) if state.peer_group_id else None,
                                                             "Choose a peer group"), optional=True))
        else:
            blocks.append(context(f"{escape(router.name)} has no peer groups."))
        a_opts = [option(f"AS{a}", str(a)) for a in router.local_asns]
        if a_opts:
            blocks.append(input_block("local_asn", r, _select("local_asn", a_opts,
                                                              str(state.local_asn) if state.local_asn else None,
                                                              "Choose the local ASN")))
        else:
            blocks.append(context(f":warning: {escape(router.name)} has no local ASN in the inventory."))
    # Never an initial_value: the password is not sent back to Slack, not even encrypted.
    hint = (f"An MD5 password is set ({MASK}) — leave empty to keep it, or type a new one, or tick Remove."
            if state.md5_enc else f"Optional. At most {MD5_MAX} printable ASCII characters, no spaces.")
    blocks.append(input_block("md5", r, text_element("md5", None, max_length=MD5_MAX, placeholder="Optional"),
                              optional=True, hint=hint))
    if state.md5_enc:
        blocks.append(input_block("md5_clear", r, {"type": "checkboxes", "action_id": "md5_clear",
                                                   "options": [option("Remove the MD5 password", MD5_REMOVE)]},
                                  label="Remove MD5", optional=True))
    return wizard_modal(state, blocks)


def local_peer_options(peers: Sequence[PeerView], limit: int = OPTIONS_MAX) -> list[dict[str, Any]]:
    """One option per (local peer, IP already used with it); a peer without sessions once."""
    opts: list[dict[str, Any]] = []
    for p in peers:
        for ip in p.ips or [""]:
            label = f"{p.name} AS{p.asn}" + (f" · {ip}" if ip else "")
            opts.append(option(label, f"{p.id}|{ip}"))
            if len(opts) >= limit:
                return opts
    return opts


@dataclass(frozen=True)
class NetworkOption:
    """A PeeringDB network as the lookup offers it (from bot.peeringdb.search.NetworkHit)."""

    id: int
    asn: int
    name: str
    irr_as_set: str | None = None


@dataclass(frozen=True)
class IpAtExchange:
    """One of the chosen network's addresses at the session's exchange (a PeeringDB netixlan)."""

    ip: str
    family: int
    speed: int | None = None
    is_rs_peer: bool | None = None


@dataclass(frozen=True)
class PeeringDBInfo:
    """What step 3 says about the lookup: is the mirror filled, when was it synced, and (after a
    network was chosen) its addresses at the session's exchange."""

    empty: bool = True
    synced: str | None = None  # "3 h ago"
    exchange: str | None = None  # the session's exchange, when linked to PeeringDB
    ips: tuple[IpAtExchange, ...] = ()
    network: str | None = None  # "Cloudflare (AS13335)" once chosen


def pdb_search_options(hits: Sequence[NetworkOption], *, mirror_empty: bool) -> list[dict[str, Any]]:
    """block_suggestion options for the PeeringDB lookup: value "net:<id>"; a mirror that is not
    synced yet says so as the only option (choosing it does nothing)."""
    if mirror_empty:
        return [option(PDB_EMPTY, "none:empty")]
    return [option(f"AS{h.asn} {h.name}" + (f" · {h.irr_as_set}" if h.irr_as_set else ""), f"net:{h.id}")
            for h in hits[:OPTIONS_MAX]]


def _speed(mbps: int | None) -> str:
    if not mbps:
        return ""
    return f"{mbps // 1000}G" if mbps >= 1000 and mbps % 1000 == 0 else f"{mbps}M"


def _ip_options(ips: Sequence[IpAtExchange]) -> list[dict[str, Any]]:
    out = []
    for a in ips[:OPTIONS_MAX]:
        extra = " · ".join(x for x in (f"IPv{a.family}", _speed(a.speed), "RS peer" if a.is_rs_peer else "") if x)
        out.append(option(f"{a.ip} ({extra})", a.ip))
    return out


def step3_view(state: WizardState, local_peers: Sequence[PeerView], errors: dict[str, str] | None = None,
               note: str | None = None, warning: str | None = None, pdb: PeeringDBInfo | None = None) -> dict[str, Any]:
    r = state.rev
    pdb = pdb or PeeringDBInfo()
    blocks: list[Block] = [progress_block(3), *problem_banner(errors, ("peer_name", "peer_asn", "peer_ip"))]
    if pdb.empty:
        hint = PDB_EMPTY + "."
    else:
        hint = ("Answered from the local PeeringDB mirror" + (f" (synced {pdb.synced})" if pdb.synced else "")
                + ": by name, ASN or AS-SET.")
    lookup: dict[str, Any] = {"type": "external_select", "action_id": Action.WIZARD_PEERINGDB,
                              "placeholder": plain("Type a name, ASN or AS-SET"), "min_query_length": 1}
    blocks.append(input_block("peeringdb", r, lookup, label="PeeringDB lookup", optional=True, dispatch=True, hint=hint))
    if pdb.ips and pdb.exchange:
        blocks.append(input_block("pdb_ip", r, _select(Action.WIZARD_PEERINGDB_IP, _ip_options(pdb.ips), state.peer_ip,
                                                       "Choose an address"),
                                  label=clip(f"{pdb.network or 'Its'} addresses at {pdb.exchange}", 2000), optional=True,
                                  dispatch=True, hint="From PeeringDB: choosing one fills the peer IP below."))
    elif pdb.network and pdb.exchange:
        blocks.append(context(f"PeeringDB lists no address for {escape(pdb.network)} at {escape(pdb.exchange)}."))
    opts = local_peer_options(local_peers, limit=OPTIONS_MAX + 1)  # one more: does it still fit a static select?
    if opts:
        blocks.append(input_block("local_peer", r, _pick(Action.WIZARD_LOCAL_PEER, opts, None, "Choose a local peer"),
                                  label="Local peer lookup", optional=True, dispatch=True,
                                  hint="An existing local/custom peer and one of its addresses."))
    else:
        blocks.append(context("No local peers yet: enter the peer below."))
    if note:
        blocks.append(context(note))
    blocks.append(section("*Session details* — filled in by a lookup, or type them (you can edit them)."))
    blocks += [
        input_block("peer_name", r, text_element("peer_name", state.peer_name, max_length=PEER_NAME_MAX,
                                                 placeholder="Example Networks")),
        input_block("peer_asn", r, text_element("peer_asn", state.peer_asn, max_length=ASN_INPUT_MAX, placeholder="AS65001"),
                    hint="65001 or AS65001."),
        input_block("peer_ip", r, text_element("peer_ip", state.peer_ip, max_length=IP_INPUT_MAX, placeholder="192.0.2.10"),
                    hint="The peer's address; for an IXP session it must be inside the exchange LAN."),
    ]
    if warning:
        blocks.append(context(f":warning: {escape(warning)}"))
    return wizard_modal(state, blocks)


def step4_view(state: WizardState, errors: dict[str, str] | None = None, message: str | None = None) -> dict[str, Any]:
    r = state.rev
    blocks: list[Block] = [progress_block(4), *problem_banner(errors, ("as_set",))]
    blocks.append(input_block("as_set", r, text_element("as_set", state.as_set, max_length=AS_SET_INPUT_MAX,
                                                        placeholder="AS-EXAMPLE or RIPE::AS65001:AS-CUSTOMERS"),
                              optional=True, hint="Optional: enables prefix filtering. Validate checks whether peerbot knows it; "
                                              "Import fetches it from the IRR."))
    blocks += actions([button("Validate", Action.WIZARD_AS_SET_VALIDATE, "validate"),
                       button("Import", Action.WIZARD_AS_SET_IMPORT, "import")], block_id="wz_as_set_actions")
    blocks.append({**context(message or "Leave empty to create the session without prefix filtering."),
                   "block_id": f"wz_as_set_msg.{r}"})
    return wizard_modal(state, blocks)


@dataclass(frozen=True)
class LimitInput:
    """A max-prefix limit the confirmation step shows and lets the user change."""

    family: int
    suggested: int  # bot.sessions.max_prefix.suggested_limit
    basis: str  # where `suggested` comes from (PeeringDB count or the default, with headroom)
    warn_percent: int


@dataclass(frozen=True)
class Summary:
    """Display names the handler looked up for the confirmation step."""

    exchange: str
    router: str
    peer_group: str | None
    peer_known: str | None = None  # "existing peer #12" when a lookup chose one
    warnings: tuple[str, ...] = ()
    checks: tuple[tuple[str, str], ...] = ()  # pre-flight (status ✅/⚠️/❌, text)
    other_family_ip: str | None = None  # offered as a second session
    limits: tuple[LimitInput, ...] = ()  # the session's family (and the second session's)


def _limit_input(state: WizardState, lim: LimitInput) -> Block:
    name = f"max_prefixes_v{lim.family}"
    typed = getattr(state, name)
    return input_block(name, state.rev, text_element(name, typed or str(lim.suggested), max_length=MAX_PREFIXES_INPUT_MAX),
                       hint=clip(f"Suggested {lim.suggested:,} ({lim.basis}). The router warns at {lim.warn_percent} % "
                            "and tears the session down above the limit.", 2000))


def step5_view(state: WizardState, summary: Summary, errors: dict[str, str] | None = None) -> dict[str, Any]:
    s = state
    blocks: list[Block] = [
        progress_block(5), *problem_banner(errors, ("max_prefixes_v4", "max_prefixes_v6")),
        section("Check the session, then *Create Session*. Nothing is saved before that."),
        fields_section([
            ("Type", TYPE_LABELS.get(s.session_type or "", s.session_type or "–")),
            ("Exchange", escape(summary.exchange)),
            ("Router", escape(summary.router)),
            ("Peer group", escape(summary.peer_group) or "–"),
            ("Local ASN", f"AS{s.local_asn}" if s.local_asn else "–"),
            ("MD5", f"{MASK} (set)" if s.md5_enc else "none"),
            ("Peer", escape(s.peer_name) + (f" ({escape(summary.peer_known)})" if summary.peer_known else "")),
            ("Peer ASN", escape(s.peer_asn)),
            ("Peer IP", f"`{escape(s.peer_ip)}`"),
            ("AS-SET", escape(s.as_set) or "–"),
        ]),
    ]
    if s.notes:
        blocks.append(section(f"*Notes*\n{escape(s.notes)}"))
    blocks += [_limit_input(s, lim) for lim in summary.limits]
    for w in summary.warnings:
        blocks.append(context(f":warning: {escape(w)} (not an error: you can still create the session)"))
    if summary.checks:
        lines = [f"{status} {escape(text)}" for status, text in summary.checks[:20]]
        blocks.append(section(clip_mrkdwn("*Pre-flight checks*\n" + "\n".join(lines), 3000)))
    if summary.other_family_ip:
        family = 6 if ":" in summary.other_family_ip else 4
        blocks.append(input_block("also", s.rev, {"type": "checkboxes", "action_id": "also", "options": [
            option(f"Also create the IPv{family} session ({summary.other_family_ip})", summary.other_family_ip)]},
            optional=True))
    if any(status == "❌" for status, _ in summary.checks):
        blocks.append(input_block("anyway", s.rev, {"type": "checkboxes", "action_id": "anyway", "options": [
            option("Create anyway, despite the ❌ checks", ANYWAY)]}, optional=True,
            hint="Recorded in the audit trail with the failed checks."))
    blocks.append(context("The session is stored but not configured on the router: use *Configure* on its detail message."))
    return wizard_modal(state, blocks, submit="Create Session")


def error_view(text: str) -> dict[str, Any]:
    """A terminal modal for a wizard that cannot continue (e.g. unreadable state)."""
    return {"type": "modal", "callback_id": f"{Callback.WIZARD}_error", "title": plain("Add session"),
            "close": plain("Close"), "blocks": [section(f":warning: {escape(text)}")]}
