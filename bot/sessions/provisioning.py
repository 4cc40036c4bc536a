"""Create a session from a draft (what the wizard or CLI collected), validating every field.

Validation returns errors keyed by draft field name so that each surface can put the message
next to the right input (the wizard uses Slack's `response_action: errors`).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from bot.core.access import Role
from bot.core import Core
from bot.base.errors import Conflict, InvalidInput
from bot.core import audit
from bot.sessions.max_prefix import suggested_limit
from bot.sessions.views import SessionView
from bot.base.validation import FieldError, check_ip_in_subnet, cli_safe_text, clean_text, parse_as_set, parse_asn, parse_ip, parse_md5
from storage.models import Exchange, IdempotencyKey, Peer, PeerGroup, Router, Session, SessionType

NOTES_MAX = 1000
PEER_NAME_MAX = 80


class SessionDraft(BaseModel):
    """Everything needed to create a session. Values are raw user input until validated."""

    model_config = ConfigDict(extra="forbid")
    session_type: str | None = None  # SessionType value
    exchange_id: int | None = None
    notes: str | None = None
    router_id: int | None = None
    peer_group_id: int | None = None
    local_asn: int | None = None
    md5: str | None = None  # clear text only in memory; surfaces keep it encrypted
    peer_id: int | None = None  # an existing local peer
    peeringdb_net_id: int | None = None
    peer_name: str | None = None
    peer_asn: str | None = None
    peer_ip: str | None = None
    as_set: str | None = None
    max_prefixes_v4: str | None = None  # raw input; empty: bot.sessions.max_prefix.suggested_limit
    max_prefixes_v6: str | None = None


MAX_PREFIXES = 10_000_000


def parse_max_prefixes(text: str | int | None, family: int) -> int | None:
    """An optional max-prefix limit: empty, or a whole number 1-10,000,000."""
    raw = str(text if text is not None else "").strip().replace(",", "").replace("_", "")
    if not raw:
        return None
    significant = raw.lstrip("0") or "0"  # length first: int() refuses strings of more than 4300 digits
    if not (raw.isascii() and raw.isdigit()) or len(significant) > 8 or not 1 <= int(significant) <= MAX_PREFIXES:
        raise FieldError(f"IPv{family} max-prefix: a whole number from 1 to {MAX_PREFIXES:,}, or empty.")
    return int(significant)


@dataclass
class DraftCheck:
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


STEP_FIELDS = {
    1: ("session_type", "exchange_id", "notes"),
    2: ("router_id", "peer_group_id", "local_asn", "md5"),
    3: ("peer_name", "peer_asn", "peer_ip"),
    4: ("as_set",),
    5: ("max_prefixes_v4", "max_prefixes_v6"),  # the confirmation step shows and edits the limits
}


def check_draft(core: Core, draft: SessionDraft, steps: tuple[int, ...] = (1, 2, 3, 4, 5),
                editing: int | None = None) -> DraftCheck:
    """Validate the fields of the given wizard steps (all by default) against the database.
    `editing`: the id of the session being edited (its own address is not "already used")."""
    chk = DraftCheck()
    wanted = {f for st in steps for f in STEP_FIELDS[st]}

    def attempt(name: str, fn):  # noqa: ANN001, ANN202
        if name not in wanted:
            return None
        try:
            return fn()
        except FieldError as exc:
            chk.errors[name] = str(exc)
            return None

    with core.db.session() as s:
        exchange = s.get(Exchange, draft.exchange_id) if draft.exchange_id else None
        router = s.get(Router, draft.router_id) if draft.router_id else None

        def _type() -> None:
            if draft.session_type not in {t.value for t in SessionType}:
                raise FieldError("Choose a session type.")

        def _exchange() -> None:
            if exchange is None:
                raise FieldError("Choose an exchange, or No Exchange.")
            if draft.session_type == SessionType.LOCAL.value and not exchange.is_none:
                raise FieldError("A local/custom peer uses No Exchange.")
            if draft.session_type == SessionType.PUBLIC.value and exchange.is_none:
                raise FieldError("A public (IXP) session needs an internet exchange.")

        attempt("session_type", _type)
        attempt("exchange_id", _exchange)
        attempt("notes", lambda: clean_text(draft.notes, field="Notes", max_len=NOTES_MAX, multiline=True))

        def _router() -> None:
            if router is None:
                raise FieldError("Choose a router.")

        def _group() -> None:
            if draft.peer_group_id is None:
                return
            g = s.get(PeerGroup, draft.peer_group_id)
            if g is None or router is None or g.router_id != router.id:
                raise FieldError("That peer group does not exist on the chosen router.")

        def _local_asn() -> None:
            if draft.local_asn is None:
                raise FieldError("Choose the local ASN.")
            if router is not None and draft.local_asn not in router.local_asns:
                raise FieldError(f"AS{draft.local_asn} is not configured on {router.name}.")

        attempt("router_id", _router)
        attempt("peer_group_id", _group)
        attempt("local_asn", _local_asn)
        attempt("md5", lambda: parse_md5(draft.md5))

        def _peer_asn() -> None:
            asn = parse_asn(draft.peer_asn)
            if asn.warning:
                chk.warnings["peer_asn"] = asn.warning

        def _peer_ip() -> None:
            ip = parse_ip(draft.peer_ip)
            if exchange is not None and not exchange.is_none:
                prefix = exchange.lan_prefix_v4 if ip.version == 4 else exchange.lan_prefix_v6
                if prefix:
                    check_ip_in_subnet(ip, prefix, exchange.name)
                elif draft.session_type == SessionType.PUBLIC.value:
                    raise FieldError(f"{exchange.name} has no IPv{ip.version} peering LAN.")
            if router is not None:
                if str(ip) in router.addresses:
                    raise FieldError(f"{ip} is an address of {router.name} itself.")
                dup = s.scalar(select(Session.id).where(Session.router_id == router.id, Session.peer_ip == str(ip),
                                                        Session.id != (editing or 0)))
                if dup is not None:
                    raise FieldError(f"{router.name} already has a session with {ip} (#{dup}).")

        attempt("peer_name", lambda: cli_safe_text(draft.peer_name, field="Peer name", max_len=PEER_NAME_MAX, required=True))
        attempt("peer_asn", _peer_asn)
        attempt("peer_ip", _peer_ip)
        attempt("max_prefixes_v4", lambda: parse_max_prefixes(draft.max_prefixes_v4, 4))
        attempt("max_prefixes_v6", lambda: parse_max_prefixes(draft.max_prefixes_v6, 6))
        attempt("as_set", lambda: parse_as_set(draft.as_set))
    return chk


def create_session(core: Core, draft: SessionDraft, *, actor: str, request_key: str | None = None) -> SessionView:
    """Validate and store a new session (not yet configured on the router).

    `request_key` makes the call idempotent: a retried or double-clicked Create returns the
    session the first call made instead of making a second one.
    """
    return create_session_once(core, draft, actor=actor, request_key=request_key)[0]


def create_session_once(core: Core, draft: SessionDraft, *, actor: str, request_key: str | None = None,
                        preflight_override: list[str] | None = None) -> tuple[SessionView, bool]:
    """`create_session`, also saying whether this call made the session (False: an earlier call
    with the same `request_key` did), so that a surface announces a new session only once.

    `preflight_override`: the failed pre-flight checks the user chose to create anyway; recorded
    as an audit event in the same transaction."""
    core.access.require(actor, Role.OPERATOR, "create sessions")
    if request_key:
        existing = _session_for_key(core, request_key)
        if existing is not None:
            return existing, False
    chk = check_draft(core, draft)
    if not chk.ok:
        # A concurrent call with the same key may have just made the session (and so taken the IP).
        existing = _session_for_key(core, request_key) if request_key else None
        if existing is not None:
            return existing, False
        raise InvalidInput(chk.errors)
    ip = parse_ip(draft.peer_ip)
    asn = parse_asn(draft.peer_asn).value
    name = cli_safe_text(draft.peer_name, field="Peer name", max_len=PEER_NAME_MAX, required=True)
    as_set = parse_as_set(draft.as_set)
    md5 = parse_md5(draft.md5)
    limits = {4: parse_max_prefixes(draft.max_prefixes_v4, 4), 6: parse_max_prefixes(draft.max_prefixes_v6, 6)}
    if limits[ip.version] is None:  # every new session gets a limit for its family (issue 10)
        limits[ip.version] = suggested_limit(core, ip.version, asn=asn,
                                             peeringdb_net_id=draft.peeringdb_net_id).limit
    try:
        with core.db.session() as s:
            peer = peer_for(s, draft, name=name, asn=asn, as_set=as_set)
            row = Session(
                session_type=SessionType(draft.session_type), exchange_id=draft.exchange_id,
                router_id=draft.router_id, peer_group_id=draft.peer_group_id, local_asn=draft.local_asn,
                peer=peer, peer_ip=str(ip), address_family=ip.version,
                md5_encrypted=core.secrets.encrypt(md5) if md5 else None, as_set=as_set,
                notes=clean_text(draft.notes, field="Notes", max_len=NOTES_MAX, multiline=True), created_by=actor,
                max_prefixes_v4=limits[4], max_prefixes_v6=limits[6],
            )
            s.add(row)
            s.flush()
            if request_key:
                s.add(IdempotencyKey(key=request_key, result_id=row.id))
            audit.record(s, actor=actor, action="session.create", object_type="session", object_id=row.id,
                         after=audit_fields(row))
            if preflight_override:
                audit.record(s, actor=actor, action="session.preflight_override", object_type="session",
                             object_id=row.id, after={"failed_checks": list(preflight_override)},
                             detail="created despite failed pre-flight checks")
            s.flush()
            s.refresh(row)
            view = SessionView.of(row)
    except IntegrityError:
        # Lost a race: a concurrent request with the same key, or the same (router, IP).
        if request_key:
            existing = _session_for_key(core, request_key)
            if existing is not None:
                return existing, False
        raise Conflict(f"A session with {ip} already exists on that router.") from None
    return view, True


def _session_for_key(core: Core, key: str) -> SessionView | None:
    from bot.sessions.queries import get_session

    with core.db.session() as s:
        done = s.get(IdempotencyKey, key)
        session_id = done.result_id if done else None
    if session_id is None:
        return None
    return get_session(core.db, session_id)


def peer_for(s, draft: SessionDraft, *, name: str, asn: int, as_set: str | None) -> Peer:  # noqa: ANN001
    """The peer a session with this name and ASN belongs to (in `s`): the chosen one when its ASN
    matches, else the known peer of that name and ASN, else a new one (added to `s`)."""
    if draft.peer_id is not None:
        peer = s.get(Peer, draft.peer_id)
        if peer is not None and peer.asn == asn:
            if as_set and not peer.as_set:
                peer.as_set = as_set
            return peer
    peer = s.scalar(select(Peer).where(Peer.asn == asn, func.lower(Peer.name) == name.lower()))
    if peer is None:
        peer = Peer(name=name, asn=asn, peeringdb_net_id=draft.peeringdb_net_id, as_set=as_set,
                    is_local=draft.peeringdb_net_id is None)
        s.add(peer)
    elif as_set and not peer.as_set:
        peer.as_set = as_set
    return peer


def audit_fields(row: Session) -> dict:
    """The session's fields as the audit trail records them. Never the MD5 itself: only whether one is set."""
    return {
        "session_type": row.session_type.value, "exchange_id": row.exchange_id, "router_id": row.router_id,
        "peer_group_id": row.peer_group_id, "local_asn": row.local_asn, "peer_ip": row.peer_ip,
        "peer_asn": row.peer.asn, "peer_name": row.peer.name, "as_set": row.as_set,
        "md5": "set" if row.md5_encrypted else None,
        "max_prefixes_v4": row.max_prefixes_v4, "max_prefixes_v6": row.max_prefixes_v6,
    }
