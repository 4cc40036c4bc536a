"""Discovery: read every router's BGP neighbor configuration and store what it holds.

The read goes the pollers' way: one job a router on the bounded router pool (PEERBOT_POLL_CONCURRENCY
at once, each within PEERBOT_POLL_TIMEOUT, so a router that hangs fails only itself), under the
router's change lock (a configuration read half-way through a push would be neither the old nor
the new one), through the child reader processes when polls use them. What a router answered
replaces its RouterNeighbor rows in one transaction; a failed read keeps the previous rows and
records the error. Nothing here writes a session: importing is importer.py, drift is drift.py.
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

from sqlalchemy import delete, insert, select

from bot.adoption.compare import Expected, differences
from bot.base.errors import NotFound
from bot.core import Core
from bot.routers import RouterError, RouterTimeout, state_readers
from bot.routers.base import Platform
from bot.routers.render import JUNOS_DEFAULT_GROUP, XR_PASS_POLICY
from bot.routers.bgp_config.model import BgpConfig
from bot.routers.parsers.common import norm_ip
from bot.routers.connect import ChangeError, DriverFactory, credentials_for, open_router
from bot.routers.pool import run_each
from storage.models import AdminStatus, Peer, PeerGroup, Router, RouterNeighbor, Session

log = logging.getLogger(__name__)
NEW, KNOWN, DIFFERS = "new", "known", "differs"


@dataclass(frozen=True)
class FoundNeighbor:
    """One neighbor of a router's configuration and what it is to peerbot."""

    peer_ip: str
    status: str  # NEW | KNOWN | DIFFERS
    remote_asn: int | None
    description: str | None
    session_id: int | None = None
    differences: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouterDiscovery:
    """What discovery found on one router: a proposal, not a write."""

    router_id: int
    router: str
    ok: bool
    error: str | None = None
    read_at: datetime | None = None
    neighbors: tuple[FoundNeighbor, ...] = ()
    skipped: tuple[dict, ...] = ()  # [{"peer": ..., "reason": ...}]: not understood, never imported
    gone: tuple[tuple[int, str], ...] = field(default=())  # configured sessions whose neighbor is not there

    def count(self, status: str) -> int:
        return sum(1 for n in self.neighbors if n.status == status)

    @property
    def summary(self) -> str:
        if not self.ok:
            return f"{self.router}: {self.error}"
        text = (f"{self.router}: {self.count(NEW)} new neighbor(s), {self.count(KNOWN)} already known, "
                f"{self.count(DIFFERS)} differ")
        if self.skipped:
            text += f", {len(self.skipped)} not understood"
        return text


def resolve_routers(core: Core, names: Sequence[str] = ()) -> list[tuple[int, str]]:
    """(id, name) of the named routers (case-insensitive), or of every router; NotFound names the
    unknown ones."""
    with core.db.session() as s:
        rows = [(r.id, r.name) for r in s.execute(select(Router.id, Router.name).order_by(Router.name))]
    if not names:
        return rows
    by_name = {n.lower(): (i, n) for i, n in rows}
    unknown = [n for n in names if n.strip().lower() not in by_name]
    if unknown:
        known = ", ".join(n for _i, n in rows[:10]) or "none"
        raise NotFound(f"No router named {', '.join(repr(u[:64]) for u in unknown[:5])} (routers: {known}).")
    return list(dict.fromkeys(by_name[n.strip().lower()] for n in names))


class Discovery:
    """Reads routers' BGP configuration (tests inject a driver factory; else the core's)."""

    def __init__(self, core: Core, driver_factory: DriverFactory | None = None):
        self.core = core
        self.driver_factory = driver_factory
        self._processes, self._threads = state_readers.sizes(core.settings.poll_processes,
                                                             core.settings.poll_concurrency)

    # -- reading ------------------------------------------------------------------------------------
    def discover(self, router_ids: Sequence[int] | None = None) -> list[RouterDiscovery]:
        """Read the routers (all when None), store what each answered, and say per router what
        is new, known and different. In router name order."""
        ids = list(router_ids) if router_ids is not None else [i for i, _ in resolve_routers(self.core)]
        jobs, failed = [], {}
        with self.core.db.session() as s:
            for router in s.scalars(select(Router).where(Router.id.in_(ids))):
                try:
                    jobs.append((router.id, router.name, credentials_for(router)))
                except ChangeError as exc:
                    failed[router.id] = (router.name, str(exc))
        st = self.core.settings
        outcomes = run_each(self._read, jobs, concurrency=st.poll_concurrency,
                            timeout=st.poll_timeout + st.router_timeout)
        answered: dict[int, BgpConfig] = {}
        for o in outcomes:
            router_id, name, _creds = o.item
            if o.timed_out:
                failed[router_id] = (name, f"no answer within {st.poll_timeout + st.router_timeout:g} s")
            elif o.error is not None:
                why = str(o.error) if isinstance(o.error, RouterError) else f"read failed ({type(o.error).__name__})"
                failed[router_id] = (name, why)
            else:
                answered[router_id] = o.result
        self.store_many(answered, errors={i: error for i, (_name, error) in failed.items()})
        found = self.proposals([i for i in ids if i not in failed])
        found += [RouterDiscovery(i, name, False, error) for i, (name, error) in failed.items()]
        return sorted(found, key=lambda d: d.router.lower())

    def warm_up(self) -> None:
        """Start the reader processes now (a running bot has: its poller started them)."""
        if self._uses_readers():
            state_readers.readers(self._processes, self._threads).start()

    def _read(self, job: tuple) -> BgpConfig:
        router_id, name, creds = job
        st = self.core.settings
        if not self.core.locks.try_router(router_id, timeout=st.router_timeout):
            raise RouterError("a change to it is in progress; discover it again when it has finished")
        try:
            if self._uses_readers():
                return state_readers.readers(self._processes, self._threads).read(
                    creds, st.router_timeout, wait=st.poll_timeout + st.router_timeout, kind=state_readers.CONFIG)
            with open_router(self.core, creds, self.driver_factory) as drv:
                return drv.bgp_config()
        except RouterTimeout as exc:
            raise RouterError(str(exc)) from None
        finally:
            self.core.locks.release_router(router_id)

    def _uses_readers(self) -> bool:
        return self.driver_factory is None and self.core.driver_factory is None and self._processes > 0

    # -- storing ------------------------------------------------------------------------------------
    def store(self, router_id: int, config: BgpConfig) -> None:
        """Replace the router's stored neighbors with `config`'s."""
        self.store_many({router_id: config})

    def store_many(self, configs: dict[int, BgpConfig], errors: dict[int, str] | None = None) -> None:
        """Replace the stored neighbors of every router that answered and record why the others
        could not be read (their previous rows stay): one transaction for a whole discovery."""
        now = datetime.now(timezone.utc)
        errors = errors or {}
        with self.core.db.session() as s:
            ids = list(configs)
            for chunk in _chunks(ids):
                s.execute(delete(RouterNeighbor).where(RouterNeighbor.router_id.in_(chunk)))
            # the router's own AS goes with each neighbor: the AS an imported session is configured under
            rows = [{"router_id": router_id, "peer_ip": n.peer_ip, "settings": {**n.settings(), "router_asn": c.local_asn},
                     "lines": list(n.lines)[:200], "fingerprint": n.fingerprint(), "read_at": now}
                    for router_id, c in configs.items() for n in c.neighbors.values()]
            if rows:
                s.execute(insert(RouterNeighbor), rows)
            for chunk in _chunks([*ids, *errors]):
                for router in s.scalars(select(Router).where(Router.id.in_(chunk))):
                    if router.id in errors:
                        router.config_error = errors[router.id][:1000]
                        continue
                    c = configs[router.id]
                    router.config_read_at, router.config_error = now, None
                    router.config_skipped = [{"peer": k.peer[:64], "reason": k.reason[:300]} for k in c.skipped][:200]
                    if c.local_asn is not None and c.local_asn not in (router.local_asns or []):
                        log.info("router %s runs AS%s, not one of its inventory ASNs", router.name, c.local_asn)

    # -- what it means --------------------------------------------------------------------------------
    def proposal(self, router_id: int) -> RouterDiscovery:
        """The stored neighbors of a router against its sessions (no router read)."""
        found = self.proposals([router_id])
        if not found:
            raise NotFound(f"No router #{router_id}.")
        return found[0]

    def proposals(self, router_ids: Sequence[int]) -> list[RouterDiscovery]:
        """proposal() of each router, with a few queries for all of them."""
        out = []
        with self.core.db.session() as s:
            for chunk in _chunks(list(router_ids)):
                routers = {r.id: r for r in s.scalars(select(Router).where(Router.id.in_(chunk)))}
                stored: dict[int, list[RouterNeighbor]] = {i: [] for i in routers}
                for row in s.scalars(select(RouterNeighbor).where(RouterNeighbor.router_id.in_(chunk))):
                    stored[row.router_id].append(row)
                expected = expected_for_routers(s, list(routers))
                for router_id in chunk:
                    router = routers.get(router_id)
                    if router is not None:
                        out.append(_proposal(router, stored[router_id], expected.get(router_id, {})))
        return out


def _proposal(router: Router, rows: list[RouterNeighbor], expected: dict[str, Expected]) -> RouterDiscovery:
    if router.config_read_at is None:
        return RouterDiscovery(router.id, router.name, False, router.config_error or "not discovered yet: run Discover first")
    neighbors = []
    for row in sorted(rows, key=lambda r: _ip_key(r.peer_ip)):
        exp = expected.get(row.peer_ip)
        if exp is None:
            neighbors.append(FoundNeighbor(row.peer_ip, NEW, row.settings.get("remote_asn"), row.settings.get("description")))
            continue
        diff = tuple(differences(exp, row.settings))
        neighbors.append(FoundNeighbor(row.peer_ip, DIFFERS if diff else KNOWN, row.settings.get("remote_asn"),
                                       row.settings.get("description"), exp.session_id, diff))
    present = {r.peer_ip for r in rows}
    gone = tuple((e.session_id, ip) for ip, e in sorted(expected.items()) if e.configured and ip not in present)
    return RouterDiscovery(router.id, router.name, True, None, router.config_read_at, tuple(neighbors),
                           tuple(router.config_skipped or ()), gone)


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i:i + size] for i in range(0, len(ids), size)]


def _ip_key(ip: str) -> tuple:
    try:
        a = ipaddress.ip_address(ip)
        return (a.version, int(a))
    except ValueError:
        return (9, 0)


def expected_for_router(s, router_id: int) -> dict[str, Expected]:  # noqa: ANN001
    """What peerbot would render for each session of the router, by normalised peer address."""
    return expected_for_routers(s, [router_id]).get(router_id, {})


def expected_for_routers(s, router_ids: Sequence[int]) -> dict[int, dict[str, Expected]]:  # noqa: ANN001
    """expected_for_router() of several routers in one query, as plain values (the drift
    comparison of a large fleet is a loop over these)."""
    out: dict[int, dict[str, Expected]] = {i: {} for i in router_ids}
    if not router_ids:
        return out
    rows = s.execute(
        select(Session.router_id, Router.platform, Session.id, Session.peer_ip, Session.configured, Peer.asn,
               PeerGroup.name, Session.admin_status, Session.prefix_filter, Session.address_family,
               Session.max_prefixes_v4, Session.max_prefixes_v6, Session.md5_encrypted, Session.md5_unknown)
        .join(Peer, Peer.id == Session.peer_id).join(Router, Router.id == Session.router_id)
        .outerjoin(PeerGroup, PeerGroup.id == Session.peer_group_id)
        .where(Session.router_id.in_(list(router_ids))))
    for rid, platform, sid, ip, configured, asn, group, admin, pfilter, fam, v4, v6, md5, md5_unknown in rows:
        # what the templates render when the session has none: Junos puts a neighbor without a peer
        # group in PEERBOT, IOS-XR binds PEERBOT-PASS inbound when there is no filter
        if platform == Platform.JUNOS.value and not group:
            group = JUNOS_DEFAULT_GROUP
        if platform == Platform.IOS_XR.value and not pfilter:
            pfilter = XR_PASS_POLICY
        out[rid][norm_ip(ip)] = Expected(sid, norm_ip(ip), bool(configured), asn, group, admin == AdminStatus.DOWN,
                                         pfilter, v4 if fam == 4 else v6, bool(md5) or bool(md5_unknown))
    return out
