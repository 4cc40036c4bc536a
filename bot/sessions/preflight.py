"""Pre-flight checks for a BGP session, answered from the database and the PeeringDB mirror only
(no network): is the peer IP on the exchange LAN, does PeeringDB list this ASN with this IP
there, is the IP someone else's, the peer's peering policy, whether its prefix counts are known,
and whether it has the other address family at the exchange too.

Each check is a (status, text) pair; status is one of ✅ ⚠️ ❌. A ❌ means "do not create this
without a second thought": the wizard asks for an explicit "create anyway" (and records it).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import NamedTuple

from sqlalchemy import or_, select

from bot.core import Core
from bot.base.errors import NotFound
from bot.base.validation import FieldError, parse_asn, parse_ip
from storage.models import AsSet, Exchange, PdbIx, PdbNet, PdbNetIxLan, Session

OK, WARN, FAIL = "✅", "⚠️", "❌"


class Check(NamedTuple):
    status: str  # OK | WARN | FAIL
    text: str  # plain text, safe to show (the surface escapes it)


@dataclass
class Preflight:
    checks: list[Check] = field(default_factory=list)
    # The peer's address of the other family at the same exchange (from PeeringDB), when the
    # router has no session with it yet: a second session the wizard can offer.
    other_family_ip: str | None = None

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def blocked(self) -> bool:
        return bool(self.failed)

    def add(self, status: str, text: str) -> None:
        self.checks.append(Check(status, text))


def preflight_checks(core: Core, session_id: int) -> list[Check]:
    """The checks for a stored session (e.g. before Configure)."""
    with core.db.session() as s:
        row = s.get(Session, session_id)
        if row is None:
            raise NotFound(f"No session #{session_id}.")
        args = dict(exchange_id=row.exchange_id, peer_asn=row.peer.asn, peer_ip=row.peer_ip,
                    peeringdb_net_id=row.peer.peeringdb_net_id, router_id=row.router_id, as_set=row.as_set)
    return run_checks(core, **args).checks


def run_checks(core: Core, *, exchange_id: int | None, peer_asn: int | str | None, peer_ip: str | None,
               peeringdb_net_id: int | None = None, router_id: int | None = None,
               as_set: str | None = None) -> Preflight:
    """The checks for a session that may not exist yet (the wizard's confirmation step)."""
    pf = Preflight()
    try:
        asn = parse_asn(peer_asn).value
        ip = parse_ip(peer_ip)
    except FieldError as exc:
        pf.add(FAIL, str(exc))
        return pf
    fam = ip.version
    with core.db.session() as s:
        exchange = s.get(Exchange, exchange_id) if exchange_id else None
        net = s.get(PdbNet, peeringdb_net_id) if peeringdb_net_id else None
        if net is None or net.asn != asn:
            net = s.scalar(select(PdbNet).where(PdbNet.asn == asn).order_by(PdbNet.id))
        at_ix = exchange is not None and not exchange.is_none

        if at_ix:
            assert exchange is not None
            lan = exchange.lan_prefix_v4 if fam == 4 else exchange.lan_prefix_v6
            if not lan:
                pf.add(WARN, f"{exchange.name} has no IPv{fam} peering LAN on record: cannot check {ip}.")
            elif ip in ipaddress.ip_network(lan, strict=False):
                pf.add(OK, f"{ip} is inside {exchange.name}'s LAN {lan}.")
            else:
                pf.add(FAIL, f"{ip} is outside {exchange.name}'s LAN {lan}.")
            _netixlan_checks(s, pf, exchange, asn, ip, router_id)

        name = f"AS{asn}"
        if net is None:
            pf.add(WARN, f"{name} is not in the PeeringDB mirror: no policy or prefix counts to check.")
        else:
            name = f"{net.name} (AS{asn})"
            policy = (net.policy_general or "").strip()
            if policy == "Open":
                pf.add(OK, f"{name}: general peering policy Open.")
            elif policy == "No":
                pf.add(FAIL, f"{name}: general peering policy No (they do not peer).")
            elif policy:
                pf.add(WARN, f"{name}: general peering policy {policy}: make sure they agreed.")
            else:
                pf.add(WARN, f"{name}: no general peering policy in PeeringDB.")
            count = net.info_prefixes4 if fam == 4 else net.info_prefixes6
            if count:
                pf.add(OK, f"IPv{fam} prefix count known for the max-prefix: {count}.")
            else:
                pf.add(WARN, f"PeeringDB has no IPv{fam} prefix count for {name}: set the max-prefix by hand.")
        if as_set:
            _as_set_check(s, pf, as_set, fam)
    return pf


def _as_set_check(s, pf: Preflight, name: str, fam: int) -> None:  # noqa: ANN001
    """Configure builds the inbound filter from the AS-SET as known locally, and refuses a session
    whose AS-SET is unknown or has no prefixes of its family (router_config.FilterUnavailable)."""
    known = s.scalar(select(AsSet).where(AsSet.name == name))
    if known is None:
        pf.add(WARN, f"AS-SET {name} is not known locally: Configure is refused until it is imported "
                     "(a session is never configured without its inbound filter).")
        return
    count = len((known.prefixes_v4 if fam == 4 else known.prefixes_v6) or [])
    if not count:
        pf.add(WARN, f"AS-SET {name} has no IPv{fam} prefixes: Configure is refused until a re-import finds some.")
    else:
        pf.add(OK, f"AS-SET {name}: {count} IPv{fam} prefix-filter entries for the inbound filter.")


def _netixlan_checks(s, pf: Preflight, exchange: Exchange, asn: int, ip, router_id: int | None) -> None:  # noqa: ANN001
    fam = ip.version
    col, other_col = (PdbNetIxLan.ipaddr4, PdbNetIxLan.ipaddr6) if fam == 4 else (PdbNetIxLan.ipaddr6, PdbNetIxLan.ipaddr4)
    if not exchange.peeringdb_ix_id:
        pf.add(WARN, f"{exchange.name} is not linked to PeeringDB: cannot check the IP against PeeringDB.")
        return
    ix = s.get(PdbIx, exchange.peeringdb_ix_id)
    if ix is None:
        pf.add(WARN, f"The PeeringDB mirror has no exchange {exchange.peeringdb_ix_id}: "
                     "run `peerbot peeringdb sync` to check the IP against PeeringDB.")
        return
    rows = s.scalars(select(PdbNetIxLan).where(PdbNetIxLan.ix_id == exchange.peeringdb_ix_id,
                                               PdbNetIxLan.status == "ok",
                                               or_(PdbNetIxLan.asn == asn, col.is_not(None)))).all()
    mine = [r for r in rows if r.asn == asn]
    listed = {_norm(getattr(r, col.key)) for r in mine} - {None}
    if str(ip) in listed:
        pf.add(OK, f"PeeringDB lists AS{asn} with {ip} at {ix.name}.")
    elif listed:
        pf.add(FAIL, f"PeeringDB lists AS{asn} at {ix.name} with {', '.join(sorted(listed))}, not {ip}.")
    elif mine:
        pf.add(WARN, f"PeeringDB lists AS{asn} at {ix.name} without an IPv{fam} address.")
    else:
        pf.add(WARN, f"PeeringDB does not list AS{asn} at {ix.name}.")
    others = sorted({r.asn for r in rows if r.asn != asn and _norm(getattr(r, col.key)) == str(ip)})
    if others:
        pf.add(FAIL, f"{ip} is listed at {ix.name} for " + ", ".join(f"AS{a}" for a in others) + f", not AS{asn}.")
    else:
        pf.add(OK, f"{ip} is not used by another network at {ix.name} (PeeringDB).")
    other_ips = sorted({_norm(getattr(r, other_col.key)) for r in mine} - {None})
    other_fam = 10 - fam
    if not other_ips:
        pf.add(WARN, f"No IPv{other_fam} address for AS{asn} at {ix.name} in PeeringDB (IPv{fam} only).")
        return
    taken = set()
    if router_id is not None:
        taken = set(s.scalars(select(Session.peer_ip).where(Session.router_id == router_id,
                                                            Session.peer_ip.in_(other_ips))))
    free = [a for a in other_ips if a not in taken]
    lan = exchange.lan_prefix_v6 if other_fam == 6 else exchange.lan_prefix_v4
    if free and lan:
        pf.other_family_ip = free[0]
        pf.add(OK, f"AS{asn} is also at {ix.name} with IPv{other_fam} {free[0]}: a session for it can be created too.")
    elif free:
        pf.add(WARN, f"AS{asn} is also at {ix.name} with IPv{other_fam} {free[0]}, but {exchange.name} "
                     f"has no IPv{other_fam} LAN on record.")
    else:
        pf.add(OK, f"The IPv{other_fam} session with AS{asn} at {ix.name} ({', '.join(other_ips)}) already exists.")


def _norm(text: str | None) -> str | None:
    """PeeringDB addresses in the form peerbot stores them (ipaddress's text)."""
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None
