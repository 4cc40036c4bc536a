"""Edit a session: the Edit button's wizard and `peerbot sessions edit` both end here.

    edit_session(core, actor, session_id, changes) -> EditResult

- The new values are validated exactly as at creation (bot.sessions.provisioning.check_draft; the
  session's own address does not count as taken).
- A session not configured on a router, or an edit that changes nothing a router holds (notes,
  exchange, type; a Junos local ASN), is simply updated: one `session.edit` audit event.
- A configured session whose router configuration changes becomes a change request ("edit") that
  carries the exact commands (secrets masked) and the pending new values, encrypted with
  core.secrets in the request's `edited_encrypted` (the Config Manager's column: an MD5 key in
  the edit is never in the database in clear). The session row changes only when the commands
  ran OK on the router (bot/changes/edit_runner.py); a request whose session changed meanwhile
  is stale (its fingerprint, `state_token`).
- A different router or peer address of a configured session is a MOVE: the neighbor is removed
  from the old place (delete template) and added at the new one (create template), one request
  with one item per step; the runner holds both router locks.

What the router would get: bot/routers/update.py (per-platform neighbor_update.j2, or delete +
create where a platform cannot change a setting in place).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from types import SimpleNamespace
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.base.errors import Conflict, InvalidInput, NotFound
from bot.base.validation import cli_safe_text, clean_text, parse_as_set, parse_asn, parse_ip, parse_md5
from bot.changes import records
from bot.changes.records import ACTIONS, Origin, RequestView
from bot.changes.router_config import FilterUnavailable, mask_lines, neighbor_spec
from bot.core import Core, audit
from bot.core.access import Role
from bot.routers import NeighborSpec, Platform, render
from bot.routers.update import config_difference, update_commands
from bot.sessions.provisioning import (
    NOTES_MAX, PEER_NAME_MAX, SessionDraft, audit_fields, check_draft, parse_max_prefixes, peer_for,
)
from bot.sessions.queries import load_session
from bot.sessions.views import SessionView
from storage.models import ChangeAction, ChangeRequestItem, Exchange, PeerGroup, Router, Session, SessionType

ACTION = ChangeAction.EDIT.value  # the change-request action of an edit ("edit")
Md5Change = Literal["keep", "set", "remove"]


class SessionChanges(SessionDraft):
    """The session's values after the edit (a full draft: start from `draft_from_session`).
    `md5`: None keeps the stored key unless `remove_md5`; a string sets a new one."""

    remove_md5: bool = False


class PendingEdit(BaseModel):
    """The validated new values, as a change request carries them until the change has run."""

    model_config = ConfigDict(extra="forbid")
    session_type: str
    exchange_id: int
    notes: str | None
    router_id: int
    peer_group_id: int | None
    local_asn: int
    peer_id: int | None
    peeringdb_net_id: int | None
    peer_name: str
    peer_asn: int
    peer_ip: str
    as_set: str | None
    max_prefixes_v4: int | None
    max_prefixes_v6: int | None
    md5: Md5Change = "keep"
    md5_encrypted: str | None = None  # core.secrets ciphertext of the new key (md5 == "set")

    def public(self) -> dict:
        """For the audit trail: everything but the key."""
        return {**self.model_dump(exclude={"md5_encrypted"}), "md5": self.md5}


@dataclass(frozen=True)
class PushStep:
    """One router's part of the edit: an update in place, or the remove / add of a move."""

    router_id: int
    router_name: str
    platform: str
    kind: Literal["update", "remove", "add"]
    label: str
    lines: list[str] = field(repr=False)  # clear text: for the push only
    masked: list[str] = field(default_factory=list)
    spec: NeighborSpec | None = field(default=None, repr=False)  # the neighbor as it is after this step


@dataclass(frozen=True)
class EditPreview:
    """What the edit does: field changes, configuration lines removed/added (masked), and the
    commands each router would get (masked). `steps` is empty when no router changes."""

    session_id: int
    configured: bool
    move: bool
    changes: list[str]  # "Peer group: TRANSIT → IX-PEERS"
    removed: list[str]
    added: list[str]
    steps: list[PushStep]

    @property
    def touches_router(self) -> bool:
        return self.configured and bool(self.steps)


@dataclass(frozen=True)
class EditResult:
    outcome: Literal["updated", "requested", "unchanged"]
    session: SessionView
    preview: EditPreview
    request: RequestView | None = None  # when requested


# ------------------------------------------------------------------------------------ drafts
def draft_from_session(core: Core, session_id: int) -> SessionChanges:
    """The session's current values as a draft (what the Edit wizard and the CLI start from)."""
    with core.db.session() as s:
        row = load_session(s, session_id)
        return SessionChanges(
            session_type=row.session_type.value, exchange_id=row.exchange_id, notes=row.notes,
            router_id=row.router_id, peer_group_id=row.peer_group_id, local_asn=row.local_asn, md5=None,
            peer_id=row.peer_id, peeringdb_net_id=row.peer.peeringdb_net_id, peer_name=row.peer.name,
            peer_asn=f"AS{row.peer.asn}", peer_ip=row.peer_ip, as_set=row.as_set,
            max_prefixes_v4=str(row.max_prefixes_v4) if row.max_prefixes_v4 else None,
            max_prefixes_v6=str(row.max_prefixes_v6) if row.max_prefixes_v6 else None,
        )


def validate(core: Core, session_id: int, changes: SessionChanges) -> PendingEdit:
    """The checks of the create wizard (errors keyed by draft field, InvalidInput), then the
    normalised values. The MD5 key is encrypted here; the clear text goes no further."""
    draft = SessionDraft(**changes.model_dump(exclude={"remove_md5"}))
    chk = check_draft(core, draft, editing=session_id)
    if not chk.ok:
        raise InvalidInput(chk.errors)
    md5 = parse_md5(changes.md5) if changes.md5 else None
    md5_change: Md5Change = "set" if md5 else ("remove" if changes.remove_md5 else "keep")
    return PendingEdit(
        session_type=SessionType(draft.session_type).value, exchange_id=draft.exchange_id, router_id=draft.router_id,
        notes=clean_text(draft.notes, field="Notes", max_len=NOTES_MAX, multiline=True),
        peer_group_id=draft.peer_group_id, local_asn=draft.local_asn, peer_id=draft.peer_id,
        peeringdb_net_id=draft.peeringdb_net_id,
        peer_name=cli_safe_text(draft.peer_name, field="Peer name", max_len=PEER_NAME_MAX, required=True),
        peer_asn=parse_asn(draft.peer_asn).value, peer_ip=str(parse_ip(draft.peer_ip)),
        as_set=parse_as_set(draft.as_set), max_prefixes_v4=parse_max_prefixes(draft.max_prefixes_v4, 4),
        max_prefixes_v6=parse_max_prefixes(draft.max_prefixes_v6, 6), md5=md5_change,
        md5_encrypted=core.secrets.encrypt(md5) if md5 else None,
    )


# ------------------------------------------------------------------------------------ planning
def _shadow(row: Session, edit: PendingEdit, s) -> SimpleNamespace:  # noqa: ANN001
    """The session as it would be after the edit, as a plain object that reads like the row (so
    that neighbor_spec builds its spec the same way, whatever it reads), never added to the DB."""
    values = {c.key: getattr(row, c.key) for c in Session.__table__.columns}
    router = s.get(Router, edit.router_id)
    group = s.get(PeerGroup, edit.peer_group_id) if edit.peer_group_id else None
    if router is None:
        raise NotFound(f"No router #{edit.router_id}.")
    md5 = {"keep": row.md5_encrypted, "set": edit.md5_encrypted, "remove": None}[edit.md5]
    values.update(
        session_type=SessionType(edit.session_type), exchange_id=edit.exchange_id, notes=edit.notes,
        router_id=edit.router_id, peer_group_id=group.id if group else None, local_asn=edit.local_asn,
        peer_ip=edit.peer_ip, address_family=parse_ip(edit.peer_ip).version, md5_encrypted=md5, as_set=edit.as_set,
        max_prefixes_v4=edit.max_prefixes_v4, max_prefixes_v6=edit.max_prefixes_v6,
    )
    peer = SimpleNamespace(id=edit.peer_id, name=edit.peer_name, asn=edit.peer_asn,
                           peeringdb_net_id=edit.peeringdb_net_id, as_set=edit.as_set)
    exchange = s.get(Exchange, edit.exchange_id) or row.exchange
    return SimpleNamespace(**values, router=router, peer_group=group, peer=peer, exchange=exchange)


def _label(name: str, asn: int, ip: str, router: str) -> str:
    return f"{name} AS{asn} {ip} on {router}"[:255]


def plan_edit(core: Core, s, row: Session, edit: PendingEdit) -> EditPreview:  # noqa: ANN001
    """What `edit` changes for `row` (in `s`): field changes, configuration difference, and the
    commands per router (clear in `lines`, masked in `masked`). ValueError: cannot render safely;
    InvalidInput (AS-SET): a configured session's new AS-SET cannot be its inbound filter.

    Inbound filters (bot/routers/filters.py): `old` binds the object the router holds
    (Session.prefix_filter); `new` the object of the new AS-SET and entries. When they differ the
    new one is written complete and the neighbor switched to it; the old one is removed only when
    no other configured session on its router uses it (in place: `new.remove_filters`; a move: with
    the neighbor on the old router)."""
    tdir = core.settings.templates_dir
    new_row = _shadow(row, edit, s)
    old = neighbor_spec(core, row, s, "held")
    new = _new_spec(core, s, row, new_row)
    old_platform, new_platform = Platform(row.router.platform), Platform(new_row.router.platform)
    changes = _field_changes(row, new_row, edit)
    move = row.router_id != edit.router_id or row.peer_ip != edit.peer_ip
    removed, added = config_difference(old_platform, old, new_platform, new, tdir)
    steps: list[PushStep] = []
    if row.configured and move:
        # the old object goes with the neighbor, unless the new place on the same router binds it again
        gone = tuple(name for name in neighbor_spec(core, row, s, "deconfigure").remove_filters
                     if row.router_id != edit.router_id or name != new.prefix_list_name)
        leaving = replace(old, remove_filters=gone)
        arriving = replace(new, exists_on_router=False, remove_filters=())
        rm = render(old_platform, "delete", leaving, tdir)
        add = render(new_platform, "neighbor_create", arriving, tdir)
        steps = [
            PushStep(row.router_id, row.router.name, old_platform.value, "remove",
                     "Remove " + _label(row.peer.name, row.peer.asn, row.peer_ip, row.router.name),
                     rm, mask_lines(rm, old), leaving),
            PushStep(edit.router_id, new_row.router.name, new_platform.value, "add",
                     "Add " + _label(edit.peer_name, edit.peer_asn, edit.peer_ip, new_row.router.name),
                     add, mask_lines(add, new), arriving),
        ]
        removed, added = render(old_platform, "neighbor_create", replace(old, exists_on_router=True), tdir), \
            render(new_platform, "neighbor_create", replace(arriving, exists_on_router=True), tdir)
    elif row.configured and (removed or added):
        lines = update_commands(old_platform, old, new, tdir)
        steps = [PushStep(row.router_id, row.router.name, old_platform.value, "update",
                          "Edit " + _label(edit.peer_name, edit.peer_asn, edit.peer_ip, row.router.name),
                          lines, mask_lines(lines, new), new)]
    return EditPreview(row.id, row.configured, move, changes, mask_lines(removed, old), mask_lines(added, new), steps)


def _new_spec(core: Core, s, row: Session, new_row) -> NeighborSpec:  # noqa: ANN001
    """The neighbor after the edit, as Configure would render it. A new AS-SET that cannot be an
    inbound filter (FilterUnavailable) refuses the edit of a configured session, as Configure
    would be refused; a session not on a router is only stored (Configure says it later)."""
    try:
        return neighbor_spec(core, new_row, s)
    except FilterUnavailable as exc:
        if row.configured:
            raise InvalidInput({"as_set": str(exc)}) from None
    return neighbor_spec(core, SimpleNamespace(**{**vars(new_row), "as_set": None}), s)


def _field_changes(row: Session, new, edit: PendingEdit) -> list[str]:  # noqa: ANN001
    def show(v: object) -> str:
        return "–" if v in (None, "") else str(v)

    pairs = [
        ("Type", row.session_type.value, edit.session_type),
        ("Exchange", row.exchange.name, new.exchange.name),
        ("Router", row.router.name, new.router.name),
        ("Peer group", row.peer_group.name if row.peer_group else None, new.peer_group.name if new.peer_group else None),
        ("Local ASN", f"AS{row.local_asn}", f"AS{edit.local_asn}"),
        ("Peer name", row.peer.name, edit.peer_name),
        ("Peer ASN", f"AS{row.peer.asn}", f"AS{edit.peer_asn}"),
        ("Peer IP", row.peer_ip, edit.peer_ip),
        ("AS-SET", row.as_set, edit.as_set),
        ("Max prefixes IPv4", row.max_prefixes_v4, edit.max_prefixes_v4),
        ("Max prefixes IPv6", row.max_prefixes_v6, edit.max_prefixes_v6),
        ("Notes", row.notes, edit.notes),
    ]
    out = [f"{name}: {show(a)} → {show(b)}" for name, a, b in pairs if b is not None and a != b]
    if edit.md5 == "set":
        out.append("MD5: " + ("changed" if row.md5_encrypted else "set"))
    elif edit.md5 == "remove" and row.md5_encrypted:
        out.append("MD5: removed")
    return out


def state_token(core: Core, s, row: Session) -> str:  # noqa: ANN001
    """What an edit request was made against: the session's editable values, its key's ciphertext
    and its configuration as rendered now (masked). Part of the request's fingerprint: when it
    differs at approval or run time, the session changed meanwhile and the request is stale."""
    try:
        held = neighbor_spec(core, row, s, "held")
        masked = mask_lines(render(row.router.platform, "neighbor_create", held, core.settings.templates_dir), held)
    except ValueError:
        masked = ["<cannot render>"]
    values = {c.key: getattr(row, c.key) for c in Session.__table__.columns
              if c.key not in ("bgp_state", "prefixes_received", "prefixes_accepted", "prefixes_advertised",
                               "last_state_change", "last_polled", "last_error", "updated_at", "created_at")}
    values |= {"peer_name": row.peer.name, "peer_asn": row.peer.asn}
    return json.dumps([values, masked], default=str, sort_keys=True)


# ------------------------------------------------------------------------------------ the service
def preview_edit(core: Core, session_id: int, changes: SessionChanges) -> EditPreview:
    """Validate and describe the edit without storing anything (the wizard's last step)."""
    edit = validate(core, session_id, changes)
    with core.db.session() as s:
        row = load_session(s, session_id)
        try:
            return plan_edit(core, s, row, edit)
        except ValueError:
            raise InvalidInput({"peer_name": "These values cannot be rendered safely for the router."}) from None


def edit_session(core: Core, actor: str, session_id: int, changes: SessionChanges, *,
                 idempotency_key: str | None = None, origin: Origin | None = None) -> EditResult:
    """Validate, then update the session (not on a router, or no router difference) or store a
    change request for the router change (see the module docstring)."""
    core.access.require(actor, Role.OPERATOR, "edit sessions")
    key = idempotency_key[:160] if idempotency_key else None
    if key and (done := records.by_key(core, key)) is not None:  # a retried Save: the request made the first time
        with core.db.session() as s:
            row = load_session(s, session_id)
            return EditResult("requested", SessionView.of(row), _empty_preview(row), done)
    edit = validate(core, session_id, changes)
    with core.db.session() as s:
        row = load_session(s, session_id)
        try:
            preview = plan_edit(core, s, row, edit)
        except ValueError:
            raise InvalidInput({"peer_name": "These values cannot be rendered safely for the router."}) from None
        if preview.touches_router and row.needs_check:
            raise Conflict(f"Session #{session_id} is marked “unknown — check the router”: Refresh it first, so "
                           "that the edit starts from what the router really holds.")
        if preview.touches_router:
            records.refuse_if_drifted(s, [session_id])  # the router was changed by hand: Adopt or Fix first
            if row.md5_unknown and edit.md5 != "set" and preview.move:
                raise Conflict(f"Session #{session_id} has a TCP-MD5 key on its router that peerbot cannot read, and "
                               "this edit re-creates the neighbor: type the key in the form so it is not lost.")
        if not preview.touches_router:
            records.refuse_if_open(s, [session_id])  # an open request would push over this edit
            if not preview.changes:
                return EditResult("unchanged", SessionView.of(row), preview)
            apply_edit(core, s, row, edit, actor, detail="updated in the database only" + (
                "" if not row.configured else " (nothing on the router changes)"))
            s.flush()
            s.refresh(row)
            return EditResult("updated", SessionView.of(row), preview)
    request = _store_request(core, actor, session_id, edit, preview, key,
                             origin if origin is not None else Origin())
    with core.db.session() as s:
        return EditResult("requested", SessionView.of(load_session(s, session_id)), preview, request)


def _empty_preview(row: Session) -> EditPreview:
    return EditPreview(row.id, row.configured, False, [], [], [], [])


def _store_request(core: Core, actor: str, session_id: int, edit: PendingEdit, preview: EditPreview,
                   key: str | None, origin: Origin) -> RequestView:
    """The change request of an edit: one item per router step, the pending values encrypted."""
    with core.db.session() as s:
        records.lock_sessions(s, [session_id])
        row = load_session(s, session_id)
        if (retried := records.open_request_or_retry(core, s, [session_id], key)) is not None:
            return retried
        needs_approval = not ({ACTION, "all"} & core.settings.approval_skipped)
        what = "Move" if preview.move else ACTIONS[ACTION]
        summary = f"{what} {_label(row.peer.name, row.peer.asn, row.peer_ip, row.router.name)}"
        if preview.move:
            summary += f" → {edit.peer_ip} on {preview.steps[-1].router_name}"
        return records.store(
            core, s, actor=actor, action=ACTION, summary=summary[:2000],
            router_ids=sorted({st.router_id for st in preview.steps}),
            fingerprint=fingerprint(core, s, [session_id]), needs_approval=needs_approval,
            items=[ChangeRequestItem(session_id=session_id, router_id=st.router_id, label=st.label,
                                     commands=st.masked) for st in preview.steps],
            key=key, origin=origin,
            # the pending values (with the new key's ciphertext), encrypted as a whole
            edited_encrypted=core.secrets.encrypt(edit.model_dump_json()),
            note="waiting for approval" if needs_approval else "no approval needed (policy)",
            after={"commands": {str(session_id): [c for st in preview.steps for c in st.masked]},
                   "edit": edit.public(), "changes": preview.changes},
            duplicate=Conflict("This edit was asked for at the same moment by another request."))


def apply_edit(core: Core, s, row: Session, edit: PendingEdit, actor: str, detail: str) -> None:  # noqa: ANN001
    """Write the new values into the row (and its peer), with a `session.edit` audit event."""
    before = audit_fields(row)
    before_notes = row.notes
    draft = SessionDraft(peer_id=edit.peer_id, peeringdb_net_id=edit.peeringdb_net_id)
    peer = peer_for(s, draft, name=edit.peer_name, asn=edit.peer_asn, as_set=edit.as_set)
    if peer.asn != edit.peer_asn or peer.name.lower() != edit.peer_name.lower():
        # peer_for keeps a chosen peer whose ASN matches; an edited name is a peer of its own
        peer = peer_for(s, SessionDraft(peeringdb_net_id=edit.peeringdb_net_id), name=edit.peer_name,
                         asn=edit.peer_asn, as_set=edit.as_set)
    row.peer = peer
    row.session_type = SessionType(edit.session_type)
    row.exchange_id = edit.exchange_id
    row.notes = edit.notes
    row.router_id = edit.router_id
    row.peer_group_id = edit.peer_group_id
    row.local_asn = edit.local_asn
    row.peer_ip = edit.peer_ip
    row.address_family = parse_ip(edit.peer_ip).version
    row.as_set = edit.as_set
    row.max_prefixes_v4 = edit.max_prefixes_v4
    row.max_prefixes_v6 = edit.max_prefixes_v6
    if edit.md5 == "set":
        row.md5_encrypted = edit.md5_encrypted
        row.md5_unknown = False  # the key is known now
    elif edit.md5 == "remove":
        row.md5_encrypted = None  # (a key peerbot could not read stays marked: nothing removes it)
    s.flush()
    s.expire(row, ["router", "peer_group", "exchange"])
    after = audit_fields(row)
    if edit.md5 == "set":
        after["md5"] = "changed" if before.get("md5") else "set"
    if before_notes != row.notes:
        before["notes"], after["notes"] = before_notes, row.notes
    audit.record(s, actor=actor, action="session.edit", object_type="session", object_id=row.id,
                 before={k: v for k, v in before.items() if after.get(k) != v},
                 after={k: v for k, v in after.items() if before.get(k) != v}, detail=detail)


def fingerprint(core: Core, s, session_ids: Iterable[int]) -> str:  # noqa: ANN001
    """The fingerprint of an edit request on `session_ids` (ChangeRequests._fingerprint of the
    action "edit"): what each session's values and configuration are now (state_token)."""
    h = hashlib.sha256(ACTION.encode())
    for sid in sorted(set(session_ids)):  # a move lists its session twice (one item per router)
        h.update(fingerprint_part(core, s, sid))
    return h.hexdigest()


def fingerprint_part(core: Core, s, session_id: int) -> bytes:  # noqa: ANN001
    """One session's share of an edit request's fingerprint."""
    try:
        row = load_session(s, session_id)
    except NotFound:
        return f"gone:{session_id}".encode()
    return hashlib.sha256(state_token(core, s, row).encode()).hexdigest().encode()
