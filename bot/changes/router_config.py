"""What a router is sent for a session: the NeighborSpec built from the stored session,
rendering through the platform's templates, and masking of secrets in what is shown (the
router's credentials and driver: bot/routers/connect.py)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from bot.core import Core
from bot.base.errors import PeerbotError
from bot.routers import NeighborSpec, mask_secrets, render
from bot.routers.filters import NAME_RE as FILTER_NAME_RE, filter_name
from bot.routers.prefixes import PrefixEntry, parse_entries
from bot.sessions.queries import load_session
from storage.models import AdminStatus, AsSet, Session

Action = str  # "configure" | "admin_down" | "admin_up" | "deconfigure"
TEMPLATE_FOR = {"configure": "neighbor_create", "admin_down": "admin_down", "admin_up": "admin_up",
                "deconfigure": "delete"}


class FilterUnavailable(PeerbotError):
    """The session's AS-SET cannot become an inbound filter (unknown locally, no prefixes of the
    session's family, or an entry that is not safe to send): Configure is refused rather than
    pushing a session that accepts everything, or nothing."""


def neighbor_spec(core: Core, row: Session, s, action: Action = "configure") -> NeighborSpec:  # noqa: ANN001
    """What the templates need for `action` on this session: a pure function of the session, the
    AsSet rows, the other sessions of its router (which filter objects are shared) and settings.

    configure: the inbound filter built from the session's AS-SET (FilterUnavailable when it
    cannot be), the max-prefix limit of its family, and the filter version it used before when
    nothing else on the router uses it. deconfigure: the filter to remove with the neighbor, when
    no other configured session on the router uses it. held: the neighbor as the router holds it
    now (held_filter; never FilterUnavailable), what an Edit starts from."""
    fam = row.address_family
    md5 = core.secrets.decrypt(row.md5_encrypted) if row.md5_encrypted else None
    fields: dict = {}
    if action in ("configure", "held"):
        name, entries = session_filter(s, row) if action == "configure" else held_filter(s, row)
        limit = row.max_prefixes_v4 if fam == 4 else row.max_prefixes_v6
        st = core.settings
        fields = dict(
            prefix_list_name=name, prefixes=tuple(str(e) for e in entries), max_prefixes=limit,
            max_prefix_warn=st.max_prefix_warn_percent if limit else None,
            max_prefix_restart=(st.max_prefix_restart or None) if limit else None,
            out_policy=st.iosxr_out_policy,
            remove_filters=tuple(old for old in (row.prefix_filter,) if action == "configure" and row.configured
                                 and old and old != name and peerbot_made(old) and not filter_users(s, row, old)),
        )
    elif action == "deconfigure":
        old = row.prefix_filter
        fields = dict(remove_filters=(old,) if old and peerbot_made(old) and not filter_users(s, row, old) else ())
    return NeighborSpec(
        local_asn=row.local_asn, peer_ip=row.peer_ip, remote_asn=row.peer.asn,
        description=description_of(row), address_family=fam,
        peer_group=row.peer_group.name if row.peer_group else None, md5_password=md5,
        admin_down=row.admin_status == AdminStatus.DOWN,
        # what peerbot believes; a push reads the router first and renders again if it differs
        exists_on_router=row.configured, **fields,
    )


def session_filter(s, row: Session) -> tuple[str | None, list[PrefixEntry]]:  # noqa: ANN001
    """(object name, entries) of the session's inbound filter; (None, []) without an AS-SET."""
    if not row.as_set:
        return None, []
    fam = row.address_family
    known = s.scalar(select(AsSet).where(AsSet.name == row.as_set))
    if known is None:
        raise FilterUnavailable(
            f"AS-SET {row.as_set} is not known locally, so {row.peer_ip} would have no inbound prefix filter: "
            "import it first (the wizard's AS-SET step), or remove the AS-SET from the session.")
    texts = (known.prefixes_v4 if fam == 4 else known.prefixes_v6) or []
    if not texts:
        raise FilterUnavailable(
            f"AS-SET {row.as_set} has no IPv{fam} prefixes, so {row.peer_ip} would accept nothing (or, on some "
            "routers, everything): re-import it, or remove the AS-SET from the session.")
    try:
        entries = parse_entries(texts, family=fam)
    except ValueError as exc:
        raise FilterUnavailable(f"AS-SET {row.as_set} holds an entry peerbot will not send to a router "
                                f"({str(exc)[:120]}): re-import it.") from None
    return filter_name(row.as_set, fam, entries), entries


def held_filter(s, row: Session) -> tuple[str | None, list[PrefixEntry]]:  # noqa: ANN001
    """(object name, entries) of the inbound filter the router holds for the session: the object
    last configured (Session.prefix_filter), with its entries when the AS-SET still resolves to
    exactly them (a name says what its object holds), else the name alone (re-imported or gone
    since). A session not configured: the filter Configure would build, or none when it cannot."""
    try:
        current = session_filter(s, row)
    except FilterUnavailable:
        current = (None, [])
    if not row.configured:
        return current
    name = row.prefix_filter
    return (name, current[1] if current[0] == name else []) if name else (None, [])


def peerbot_made(name: str) -> bool:
    """Whether peerbot made the filter object `name` (and may remove it): its own names only. A
    filter found on the router by discovery (an imported session's) is never removed: it may
    be hand-made and used by what peerbot does not know."""
    return bool(FILTER_NAME_RE.match(name)) or name.startswith(PREFIX_LIST_PREFIX)


def filter_users(s, row: Session, name: str) -> list[int]:  # noqa: ANN001
    """Other sessions configured on the same router that use the filter object `name`."""
    return list(s.scalars(select(Session.id).where(
        Session.router_id == row.router_id, Session.configured.is_(True), Session.prefix_filter == name,
        Session.id != row.id).order_by(Session.id)))


PREFIX_LIST_PREFIX = "PEERBOT-AS"


def mask_lines(lines: list[str], spec: NeighborSpec) -> list[str]:
    """`lines` (rendered, or edited in Config Manager) with the argument of each password line
    replaced by ********: by position, so that a typed key is masked as well as the stored one,
    and a key that also occurs elsewhere (an ASN, a single character) leaves those places alone."""
    return mask_secrets(lines, spec)




def prefix_list_name(asn: int, family: int) -> str:
    """The per-peer name used before issue 10 (filters are now per AS-SET: filter_name)."""
    return f"{PREFIX_LIST_PREFIX}{asn}-V{family}"


def description_of(row: Session) -> str:
    # The peer name is cli_safe_text-validated at creation; re-filter anyway, it is going to a CLI.
    name = re.sub(r"[^A-Za-z0-9 _.\-/()]", "", row.peer.name)[:60].strip()
    return f"{name} AS{row.peer.asn}".strip()


@dataclass(frozen=True)
class Plan:
    """What an action would send, masked for display; `lines` holds the clear text for the push."""

    session_id: int
    action: Action
    router_name: str
    masked: list[str]
    lines: list[str]


def plan(core: Core, session_id: int, action: Action) -> Plan:
    with core.db.session() as s:
        row = load_session(s, session_id)
        spec = neighbor_spec(core, row, s, action)
        lines = render(row.router.platform, TEMPLATE_FOR[action], spec, core.settings.templates_dir)
        return Plan(session_id, action, row.router.name, mask_lines(lines, spec), lines)

