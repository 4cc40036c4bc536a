"""Drift: keep router and database in step after adoption.

A check reads the routers (discovery), then compares each with what peerbot would render for its
sessions and keeps one DriftItem a (router, neighbor address):
- unknown: a neighbor on the router that is no session (someone configured it by hand);
- gone: a session marked configured whose neighbor is not on the router;
- differs: remote AS, peer group, shutdown, inbound filter binding, limit or password presence.
An item that no longer differs is resolved; an ignored one stays ignored until what it compares
changes (its fingerprint). When a router's set of open items changed since its last report, the
report goes to the notify channel through the notice outbox (one thread a router, later reports
reply in it), so a restart neither loses nor repeats it.

Decisions, each audited with the actor:
- Adopt: the router's value into the database (unknown: import the neighbor; gone: mark the
  session not configured; differs: take the router's values). No router change.
- Fix: a Configure change request for the session (through the approvals, with the exact
  commands), which renders the database's values; the item is re-checked when it has run.
  Not offered for unknown neighbors: peerbot never deletes a neighbor it did not make.
- Ignore: remembered until the item's fingerprint changes.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.adoption.compare import Expected, differences
from bot.adoption.discovery import Discovery, RouterDiscovery, expected_for_router, resolve_routers
from bot.changes.router_config import plan
from bot.routers.base import Platform
from bot.routers.bgp_config.model import ROUTE_MAP
from bot.adoption.importer import import_neighbors
from bot.base.errors import Conflict, InvalidInput, NotFound
from bot.changes.records import Origin, RequestView
from bot.changes.requests import ChangeRequests
from bot.core import Core, audit
from bot.core.access import Role
from bot.notices.outbox import add_notice
from storage.models import (
    OPEN_CHANGE_STATES, AdminStatus, ChangeRequest, ChangeState, DriftItem, Peer, PeerGroup, Router, RouterNeighbor,
    Session,
)

log = logging.getLogger(__name__)
UNKNOWN, GONE, DIFFERS = "unknown", "gone", "differs"
OPEN, IGNORED, FIXING, ADOPTED, RESOLVED = "open", "ignored", "fixing", "adopted", "resolved"
REPORT_ITEMS_MAX = 12  # items with buttons in one report message (3 blocks each, 50 a message)


@dataclass(frozen=True)
class DriftView:
    """One open difference, as the report and the CLI show it."""
    id: int
    router_id: int
    router: str
    peer_ip: str
    kind: str
    status: str
    session_id: int | None
    differences: tuple[str, ...]
    change_request_id: int | None = None

    @property
    def text(self) -> str:
        what = {UNKNOWN: "on the router, not in peerbot", GONE: "in peerbot (configured), not on the router",
                DIFFERS: "differs"}[self.kind]
        sid = f" (session #{self.session_id})" if self.session_id else ""
        return f"{self.peer_ip}{sid}: {what}" + (": " + "; ".join(self.differences) if self.differences else "")


@dataclass(frozen=True)
class DriftReport:
    """What one router's check found: its open items, and whether a report was queued."""
    router_id: int
    router: str
    ok: bool
    error: str | None
    items: tuple[DriftView, ...]  # open ones
    reported: bool  # a report was queued for the channel


def _view(item: DriftItem, router: str) -> DriftView:
    return DriftView(item.id, item.router_id, router, item.peer_ip, item.kind, item.status, item.session_id,
                     tuple(item.differences or ()), item.change_request_id)


def _fingerprint(kind: str, expected: dict | None, found: dict | None) -> str:
    text = json.dumps([kind, expected, found], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class Drift:
    """Checks and decisions (see the module docstring); Fix goes through ChangeRequests."""
    def __init__(self, core: Core, requests: ChangeRequests | None = None, discovery: Discovery | None = None):
        self.core = core
        self.requests = requests or ChangeRequests(core)
        self.discovery = discovery or Discovery(core)

    # -- checking -----------------------------------------------------------------------------------
    def check(self, router_ids: Sequence[int] | None = None, *, read: bool = True,
              report: bool = True) -> list[DriftReport]:
        """Read the routers (unless `read` is False: the last discovery's rows), compare, store
        the items, and queue a report for each router whose open items changed."""
        found: list[RouterDiscovery]
        if read:
            found = self.discovery.discover(router_ids)
        else:
            ids = router_ids if router_ids is not None else self.discovery_router_ids()
            found = [self.discovery.proposal(i) for i in ids]
        return [self._compare_once(d, report=report) if d.ok else
                DriftReport(d.router_id, d.router, False, d.error, (), False) for d in found]

    def _compare_once(self, d: RouterDiscovery, *, report: bool) -> DriftReport:
        """_compare, once more when another check (a second process, /peering drift during the
        scheduled one) stored the same new item first: the second pass finds its row."""
        try:
            return self._compare(d, report=report)
        except IntegrityError:
            return self._compare(d, report=report)

    def discovery_router_ids(self) -> list[int]:
        return [i for i, _ in resolve_routers(self.core)]

    def _compare(self, d: RouterDiscovery, *, report: bool) -> DriftReport:
        now = datetime.now(timezone.utc)
        with self.core.db.session() as s:
            expected = expected_for_router(s, d.router_id)
            found = {r.peer_ip: r.settings for r in
                     s.scalars(select(RouterNeighbor).where(RouterNeighbor.router_id == d.router_id))}
            current = compare_router(expected, found)
            items = {i.peer_ip: i for i in s.scalars(select(DriftItem).where(DriftItem.router_id == d.router_id))}
            running = _open_fix_requests(s, [i.change_request_id for i in items.values() if i.status == FIXING])
            for ip, item in items.items():
                if ip not in current and item.status in (OPEN, FIXING, IGNORED):
                    if item.status == FIXING and item.change_request_id in running:
                        continue  # its Fix has not run yet
                    item.status, item.decided_at = RESOLVED, item.decided_at or now
            for ip, (kind, sid, diff, fp) in current.items():
                item = items.get(ip)
                if item is None:
                    item = DriftItem(router_id=d.router_id, peer_ip=ip, status=OPEN, found_at=now)
                    s.add(item)
                    items[ip] = item
                elif item.status == FIXING and item.change_request_id in running:
                    continue
                elif item.status == IGNORED and item.fingerprint == fp:
                    continue
                elif item.status in (OPEN,) and item.fingerprint == fp:
                    item.differences, item.session_id = diff, sid
                    continue
                else:  # new, changed since Ignore, back after a Fix or an Adopt, or resolved earlier
                    item.status, item.found_at, item.decided_by, item.decided_at = OPEN, now, None, None
                    item.change_request_id = None
                item.kind, item.session_id, item.differences, item.fingerprint = kind, sid, diff, fp
            s.flush()
            open_items = sorted((i for i in items.values() if i.status == OPEN), key=lambda i: i.peer_ip)
            views = tuple(_view(i, d.router) for i in open_items)
            reported = False
            shown = {i.id: i.fingerprint for i in open_items}
            last = {i.id: i.reported_fingerprint for i in items.values() if i.reported_fingerprint}
            if report and shown != last and (shown or last) and self.core.settings.notify_channel:
                add_notice(s, "drift", self.core.settings.notify_channel, f"drift:{d.router_id}", broadcast=True,
                           payload=report_payload(d.router_id, d.router, views, tuple(d.skipped)))
                reported = True
            if reported or not self.core.settings.notify_channel:
                for i in items.values():
                    i.reported_fingerprint = i.fingerprint if i.status == OPEN else None
            return DriftReport(d.router_id, d.router, True, None, views, reported)

    def open_items(self, router_id: int | None = None) -> list[DriftView]:
        with self.core.db.session() as s:
            q = select(DriftItem, Router.name).join(Router, Router.id == DriftItem.router_id).where(
                DriftItem.status == OPEN)
            if router_id is not None:
                q = q.where(DriftItem.router_id == router_id)
            return [_view(i, name) for i, name in s.execute(q.order_by(Router.name, DriftItem.peer_ip))]

    def get(self, item_id: int) -> DriftView:
        with self.core.db.session() as s:
            item = s.get(DriftItem, item_id)
            if item is None:
                raise NotFound(f"No drift item #{item_id}.")
            return _view(item, s.get(Router, item.router_id).name)

    # -- deciding -----------------------------------------------------------------------------------
    def _decidable(self, s, item_id: int) -> DriftItem:  # noqa: ANN001
        item = s.get(DriftItem, item_id, with_for_update=True)
        if item is None:
            raise NotFound(f"No drift item #{item_id}.")
        if item.status != OPEN:
            raise Conflict(f"{item.peer_ip} on this router is already {item.status}"
                           + (f" by {item.decided_by}" if item.decided_by else "") + ".")
        return item

    def adopt(self, actor: str, item_id: int) -> str:
        """Take the router's value into the database; no router change. Returns what was done."""
        self.core.access.require(actor, Role.OPERATOR, "adopt what a router holds")
        with self.core.db.session() as s:
            item = self._decidable(s, item_id)
            kind, router_id, ip, sid = item.kind, item.router_id, item.peer_ip, item.session_id
        if kind == UNKNOWN:
            result = import_neighbors(self.core, actor, router_id, [ip])
            if result.failed and not result.existing:
                raise InvalidInput({"neighbor": result.failed[0][1]})
            done = (f"imported as session #{result.created[0][0]} ({result.created[0][2]})" if result.created
                    else "already a session")
        with self.core.db.session() as s:
            item = self._decidable(s, item_id)
            if kind == GONE:
                row = s.get(Session, sid)
                if row is None:
                    done = "the session is gone too"
                else:
                    before = {"configured": row.configured}
                    row.configured, row.bgp_state, row.prefix_filter = False, None, None
                    audit.record(s, actor=actor, action="session.adopt", object_type="session", object_id=row.id,
                                 before=before, after={"configured": False},
                                 detail=f"drift: neighbor {ip} is not on the router; marked not configured")
                    done = f"session #{row.id} marked not configured"
            elif kind == DIFFERS:
                done = self._take_router_values(s, actor, item)
            item.status, item.decided_by, item.decided_at = ADOPTED, actor[:64], datetime.now(timezone.utc)
            return done

    def _take_router_values(self, s, actor: str, item: DriftItem) -> str:  # noqa: ANN001
        row = s.get(Session, item.session_id)
        found = s.scalar(select(RouterNeighbor).where(RouterNeighbor.router_id == item.router_id,
                                                      RouterNeighbor.peer_ip == item.peer_ip))
        if row is None or found is None:
            raise Conflict("The session or the router's neighbor is gone since the report: check again.")
        f = found.settings
        before = {"peer_asn": row.peer.asn, "peer_group": row.peer_group.name if row.peer_group else None,
                  "admin_status": row.admin_status.value, "prefix_filter": row.prefix_filter,
                  "max_prefixes": row.max_prefixes_v4 if row.address_family == 4 else row.max_prefixes_v6,
                  "md5": bool(row.md5_encrypted) or row.md5_unknown}
        asn = f.get("remote_asn")
        if isinstance(asn, int) and asn != row.peer.asn:
            peer = s.scalar(select(Peer).where(Peer.asn == asn).order_by(Peer.id))
            if peer is None:
                peer = Peer(name=f"AS{asn}", asn=asn, is_local=True)
                s.add(peer)
            row.peer = peer
        group = f.get("peer_group")
        if (group or None) != (row.peer_group.name if row.peer_group else None):
            pg = None
            if group:
                pg = s.scalar(select(PeerGroup).where(PeerGroup.router_id == row.router_id, PeerGroup.name == group))
                if pg is None:
                    pg = PeerGroup(router_id=row.router_id, name=group[:64], description="found on the router")
                    s.add(pg)
            row.peer_group = pg
        row.admin_status = AdminStatus.DOWN if f.get("admin_down") else AdminStatus.UP
        row.prefix_filter = f.get("inbound_filter") or None
        limit = f.get("max_prefixes")
        if row.address_family == 4:
            row.max_prefixes_v4 = limit
        else:
            row.max_prefixes_v6 = limit
        if f.get("password_set") and not row.md5_encrypted:
            row.md5_unknown = True
        elif not f.get("password_set"):
            row.md5_encrypted, row.md5_unknown = None, False
        s.flush()
        audit.record(s, actor=actor, action="session.adopt", object_type="session", object_id=row.id, before=before,
                     after={"peer_asn": row.peer.asn, "peer_group": row.peer_group.name if row.peer_group else None,
                            "admin_status": row.admin_status.value, "prefix_filter": row.prefix_filter,
                            "max_prefixes": limit, "md5": bool(row.md5_encrypted) or row.md5_unknown},
                     detail="drift: the router's values taken into the database (" + "; ".join(item.differences) + ")")
        return f"session #{row.id} now has the router's values"

    def fix(self, actor: str, item_id: int, origin: Origin = Origin()) -> RequestView:
        """A change request that brings the router back to the database's values: Configure (it
        renders them); on FRR, IOS-XE and EOS, when the router has something the session does
        not (a key, a peer group, an inbound filter: Configure renders nothing that removes
        it), the same lines with those negations, as a Config Manager push."""
        with self.core.db.session() as s:
            item = self._decidable(s, item_id)
            if item.kind == UNKNOWN or item.session_id is None:
                raise Conflict(f"{item.peer_ip} is not a session: peerbot does not remove neighbors it did not make. "
                               "Adopt it, or remove it on the router.")
            sid, fp = item.session_id, item.fingerprint
            extra: tuple[list[str], list[str]] = ([], [])
            router = s.get(Router, item.router_id)
            found = s.scalar(select(RouterNeighbor.settings).where(RouterNeighbor.router_id == item.router_id,
                                                                   RouterNeighbor.peer_ip == item.peer_ip))
            expected = expected_for_router(s, item.router_id).get(item.peer_ip)
            if item.kind == DIFFERS and found and expected and router.platform in CLI_NEGATION_PLATFORMS:
                extra = negations(item.peer_ip, found, expected)
        key = f"drift:{item_id}:{fp}"
        if extra[0] or extra[1]:
            family = 6 if ":" in item.peer_ip else 4
            lines = with_negations(plan(self.core, sid, "configure").masked, *extra, family=family)
            view = self.requests.request(actor, "config_push", [sid], lines=lines, idempotency_key=key,
                                         origin=origin, drift_fix=True)
        else:
            view = self.requests.request(actor, "configure", [sid], idempotency_key=key, origin=origin,
                                         drift_fix=True)
        with self.core.db.session() as s:
            item = s.get(DriftItem, item_id)
            if item is not None and item.status == OPEN:
                item.status, item.change_request_id = FIXING, view.id
                item.decided_by, item.decided_at = actor[:64], datetime.now(timezone.utc)
        return view

    def ignore(self, actor: str, item_id: int) -> str:
        self.core.access.require(actor, Role.OPERATOR, "ignore a difference")
        with self.core.db.session() as s:
            item = self._decidable(s, item_id)
            item.status, item.decided_by, item.decided_at = IGNORED, actor[:64], datetime.now(timezone.utc)
            audit.record(s, actor=actor, action="drift.ignore", object_type="router", object_id=item.router_id,
                         after={"peer_ip": item.peer_ip, "kind": item.kind}, detail="; ".join(item.differences)[:500])
            return f"{item.peer_ip} ignored until it changes again"

    def after_change(self, request: RequestView) -> None:
        """A finished change request: re-check the routers of the drift items it was the Fix of."""
        if request.state not in (ChangeState.DONE, ChangeState.FAILED):
            return
        with self.core.db.session() as s:
            routers = sorted(set(s.scalars(select(DriftItem.router_id).where(DriftItem.change_request_id == request.id))))
        if routers:
            self.check(routers)


def _open_fix_requests(s, ids: list[int | None]) -> set[int]:  # noqa: ANN001
    wanted = [i for i in ids if i]
    if not wanted:
        return set()
    return set(s.scalars(select(ChangeRequest.id).where(ChangeRequest.id.in_(wanted),
                                                       ChangeRequest.state.in_(OPEN_CHANGE_STATES))))


def compare_router(expected: dict[str, Expected], found: dict[str, dict]) -> dict[str, tuple]:
    """{peer ip: (kind, session id, differences, fingerprint)} of what differs on one router:
    pure, over plain values (bench/discover.py times it for 10,000 sessions)."""
    out: dict[str, tuple] = {}
    for ip, settings in found.items():
        exp = expected.get(ip)
        if exp is None:
            out[ip] = (UNKNOWN, None, [], _fingerprint(UNKNOWN, None, settings))
            continue
        diff = differences(exp, settings)
        if diff:
            out[ip] = (DIFFERS, exp.session_id, diff, _fingerprint(DIFFERS, exp.settings(), settings))
    for ip, exp in expected.items():
        if exp.configured and ip not in found:
            out[ip] = (GONE, exp.session_id, [], _fingerprint(GONE, exp.settings(), None))
    return out


def report_payload(router_id: int, router: str, items: Sequence[DriftView], skipped: Sequence[dict]) -> dict:
    """What the drift notice shows (handlers/views/notices.py renders it)."""
    return {"router_id": router_id, "router": router, "total": len(items),
            "items": [{"id": i.id, "peer_ip": i.peer_ip, "kind": i.kind, "session_id": i.session_id,
                       "differences": list(i.differences)[:8]} for i in list(items)[:REPORT_ITEMS_MAX]],
            "skipped": [dict(k) for k in list(skipped)[:5]], "skipped_total": len(skipped)}


# The platforms whose CLI removes a neighbor's setting with "no <the line>": FRR, IOS-XE, EOS.
CLI_NEGATION_PLATFORMS = frozenset({Platform.FRR.value, Platform.IOS_XE.value, Platform.EOS.value})


def negations(ip: str, found: dict, expected: Expected) -> tuple[list[str], list[str]]:
    """(lines under `router bgp`, lines in the session's address family) that remove what the
    router has and the session has not: Configure renders the session's values, never these."""
    top, family = [], []
    if found.get("password_set") and not expected.password_set:
        top.append(f"no neighbor {ip} password")
    group = found.get("peer_group")
    if group and group != expected.peer_group:
        top.append(f"no neighbor {ip} peer-group {group}")
    bound = found.get("inbound_filter")
    if bound and not expected.inbound_filter:
        keyword = "route-map" if found.get("filter_kind") == ROUTE_MAP else "prefix-list"
        family.append(f"no neighbor {ip} {keyword} {bound} in")
    return top, family


def with_negations(lines: Sequence[str], top: Sequence[str], family_lines: Sequence[str], *, family: int) -> list[str]:
    """The Configure lines with the negations placed: right after `router bgp`, and first in
    the session's address family (a family without one in the lines gets its own block)."""
    out: list[str] = []
    placed = not family_lines
    for line in lines:
        out.append(line)
        text = line.strip()
        if text.startswith("router bgp"):
            out += top
        elif not placed and text.startswith("address-family") and ("ipv6" in text) == (family == 6):
            out += family_lines
            placed = True
    if not placed:
        at = next((i + 1 for i, ln in enumerate(out) if ln.strip().startswith("router bgp")), len(out))
        afi = "ipv6" if family == 6 else "ipv4"
        out[at:at] = [f"address-family {afi} unicast", *family_lines, "exit-address-family"]
    return out
