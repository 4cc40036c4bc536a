"""Import: the neighbors discovery found become sessions, with no router change.

Per neighbor, from what the router's configuration says and the local PeeringDB mirror:
- peer: by ASN (an existing peer is reused); its name from the neighbor's description (without a
  trailing " AS<n>", and only characters a router description may hold), else the PeeringDB
  network of the ASN, else "AS<n>"; AS-SET: the first valid one of PeeringDB's irr_as_set;
- exchange: the one whose IX LAN holds the address (a public session), else No Exchange: a private
  session for eBGP, a local one for iBGP;
- router facts recorded as they are: peer group (created when missing), admin state, the inbound
  filter's name, the limit, the router's local AS; configured, with the key marked unknown when
  the neighbor has a password (Configure then asks for it: a push never drops a key it could not
  read).
Everything of one router in one transaction, one audit event a session with the actor; a
neighbor already a session of that router is left alone, so a second import adds nothing.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.base.errors import InvalidInput, NotFound
from bot.base.validation import first_as_set, safe_peer_name
from bot.core import Core, audit
from bot.core.access import Role
from bot.routers.parsers.common import norm_ip
from storage.models import (
    AdminStatus, Exchange, PdbNet, Peer, PeerGroup, Router, RouterNeighbor, Session, SessionType,
)

_TRAILING_AS = re.compile(r"\s*[-–(]?\s*AS\s?\d+\)?\s*$", re.IGNORECASE)
_GROUP_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")


@dataclass
class ImportResult:
    """What an import of one router did, neighbor by neighbor."""
    router: str
    created: list[tuple[int, str, str]] = field(default_factory=list)  # (session id, peer ip, peer name)
    existing: list[str] = field(default_factory=list)  # already sessions of the router
    failed: list[tuple[str, str]] = field(default_factory=list)  # (peer ip, why)

    @property
    def summary(self) -> str:
        text = f"{self.router}: {len(self.created)} session(s) imported, {len(self.existing)} already known"
        if self.failed:
            text += f", {len(self.failed)} not imported"
        return text


def peer_name_for(description: str | None, asn: int, pdb_name: str | None) -> str:
    """The name an imported peer gets (see the module docstring); always a valid peer name."""
    if description:
        bare = _TRAILING_AS.sub("", description)
        name = safe_peer_name(bare) or safe_peer_name(description)
        if name:
            return name
    return safe_peer_name(pdb_name) or f"AS{asn}"


def import_neighbors(core: Core, actor: str, router_id: int, peer_ips: Sequence[str] | None = None) -> ImportResult:
    """Import the router's discovered neighbors (all, or those of `peer_ips`) as sessions."""
    core.access.require(actor, Role.OPERATOR, "import sessions")
    try:
        wanted = {str(ipaddress.ip_address(ip.strip())) for ip in peer_ips} if peer_ips is not None else None
    except ValueError:
        raise InvalidInput({"neighbors": "Give neighbor addresses (IPv4 or IPv6)."}) from None
    # one import of a router at a time, across processes: two clicks on Import all add nothing twice
    with core.locks.router(router_id, timeout=core.settings.router_timeout * 2), core.db.session() as s:
        router = s.get(Router, router_id)
        if router is None:
            raise NotFound(f"No router #{router_id}.")
        result = ImportResult(router.name)
        rows = [r for r in s.scalars(select(RouterNeighbor).where(RouterNeighbor.router_id == router_id)
                                     .order_by(RouterNeighbor.id)) if wanted is None or r.peer_ip in wanted]
        if wanted is not None:
            missing = wanted - {r.peer_ip for r in rows}
            result.failed += [(ip, "not found on the router at the last discovery") for ip in sorted(missing)]
        have = {norm_ip(ip) for ip in s.scalars(select(Session.peer_ip).where(Session.router_id == router_id))}
        asns = {r.settings.get("remote_asn") for r in rows if isinstance(r.settings.get("remote_asn"), int)}
        peers: dict[int, Peer] = {}
        for p in s.scalars(select(Peer).where(Peer.asn.in_(asns)).order_by(Peer.id)):
            peers.setdefault(p.asn, p)
        nets = {n.asn: n for n in s.scalars(select(PdbNet).where(PdbNet.asn.in_(asns), PdbNet.status == "ok"))}
        exchanges = _exchange_lans(s)
        none_exchange = s.scalar(select(Exchange).where(Exchange.is_none.is_(True)))
        groups = {g.name: g for g in s.scalars(select(PeerGroup).where(PeerGroup.router_id == router_id))}
        local_asn = next(iter(router.local_asns or []), None)
        new_sessions: list[Session] = []
        for row in rows:
            found = row.settings
            if row.peer_ip in have:
                result.existing.append(row.peer_ip)
                continue
            asn = found.get("remote_asn")
            if not isinstance(asn, int) or not 0 < asn < 2**32:
                result.failed.append((row.peer_ip, "no remote AS on the router (neither the neighbor nor its group)"))
                continue
            router_asn = found.get("router_asn") or local_asn
            if router_asn is None:
                result.failed.append((row.peer_ip, f"router {router.name} has no local ASN (inventory) or router bgp AS"))
                continue
            ip = ipaddress.ip_address(row.peer_ip)
            exchange = next((x for x, nets_ in exchanges if any(ip in n for n in nets_)), None)
            if exchange is None and none_exchange is None:
                result.failed.append((row.peer_ip, "no exchange holds the address and there is no 'No Exchange' row"))
                continue
            peer = peers.get(asn)
            net = nets.get(asn)
            if peer is None:
                peer = Peer(name=peer_name_for(found.get("description"), asn, net.name if net else None), asn=asn,
                            peeringdb_net_id=net.id if net else None,
                            as_set=first_as_set(net.irr_as_set) if net else None, is_local=net is None)
                s.add(peer)
                peers[asn] = peer
            group = None
            gname = found.get("peer_group")
            if gname and _GROUP_NAME.match(gname):
                group = groups.get(gname)
                if group is None:
                    group = PeerGroup(router_id=router_id, name=gname, description="found on the router by discovery")
                    s.add(group)
                    groups[gname] = group
            family = ip.version
            session_type = (SessionType.PUBLIC if exchange is not None
                            else SessionType.LOCAL if asn == router_asn else SessionType.PRIVATE)
            limit = found.get("max_prefixes")
            session = Session(
                session_type=session_type, exchange=exchange or none_exchange, router_id=router_id, peer_group=group,
                local_asn=router_asn, peer=peer, peer_ip=str(ip), address_family=family,
                as_set=peer.as_set, notes=f"Imported from {router.name} by discovery.",
                admin_status=AdminStatus.DOWN if found.get("admin_down") else AdminStatus.UP, configured=True,
                prefix_filter=(found.get("inbound_filter") or None), md5_unknown=bool(found.get("password_set")),
                max_prefixes_v4=limit if family == 4 else None, max_prefixes_v6=limit if family == 6 else None,
                created_by=actor[:64],
            )
            s.add(session)
            new_sessions.append(session)
            have.add(row.peer_ip)
        s.flush()  # ids for the audit events
        for session in new_sessions:
            audit.record(s, actor=actor, action="session.import", object_type="session", object_id=session.id,
                         after={"router": router.name, "peer_ip": session.peer_ip, "peer_asn": session.peer.asn,
                                "peer": session.peer.name, "exchange": session.exchange.name,
                                "md5_unknown": session.md5_unknown, "prefix_filter": session.prefix_filter},
                         detail="imported from the router's configuration; nothing sent to the router")
            result.created.append((session.id, session.peer_ip, session.peer.name))
        if wanted is not None:
            result.existing = [ip for ip in result.existing if ip in wanted]
        return result


def _exchange_lans(s) -> list[tuple[Exchange, list]]:  # noqa: ANN001
    out = []
    for x in s.scalars(select(Exchange).where(Exchange.is_none.is_(False)).order_by(Exchange.id)):
        nets = []
        for prefix in (x.lan_prefix_v4, x.lan_prefix_v6):
            try:
                if prefix:
                    nets.append(ipaddress.ip_network(prefix, strict=False))
            except ValueError:
                continue
        if nets:
            out.append((x, nets))
    return out
