"""Changes to routers: configure, admin up/down, deconfigure (delete), and polling state.

One function per action. Slack buttons, bulk actions, approvals and the CLI all call these,
so the rules live here: render from validated fields only, push, save, read back, record the
outcome and an audit event, and on failure leave the database as it was and say why.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from bot.core import Core
from bot.errors import InvalidInput, NotFound, PeerbotError
from bot.routers import (
    ConfigRejected, NeighborSpec, NeighborState, Platform, RouterCredentials, RouterDriver, RouterError, get_driver,
    mask_secrets, render,
)
from bot.routers.base import MASK
from bot.services import audit
from bot.services.views import SessionView
from storage.models import AdminStatus, AsSet, Router, Session

log = logging.getLogger(__name__)

Action = str  # "configure" | "admin_down" | "admin_up" | "deconfigure"
TEMPLATE_FOR = {"configure": "neighbor_create", "admin_down": "admin_down", "admin_up": "admin_up",
                "deconfigure": "delete"}
DriverFactory = Callable[[RouterCredentials, float], RouterDriver]


def default_driver_factory(creds: RouterCredentials, timeout: float) -> RouterDriver:
    return get_driver(creds, timeout=timeout)


@dataclass
class ChangeResult:
    session_id: int
    action: Action
    ok: bool
    message: str  # safe to show: no secrets, no raw tracebacks
    commands: list[str] = field(default_factory=list)  # masked
    state: NeighborState | None = None
    session: SessionView | None = None  # after the change (None once deleted)


@dataclass
class StateChange:
    session_id: int
    peer_name: str
    peer_ip: str
    router_name: str
    old: str | None
    new: str | None


@dataclass
class PollResult:
    router_id: int
    router_name: str
    ok: bool
    message: str
    changes: list[StateChange] = field(default_factory=list)
    polled: int = 0


@dataclass(frozen=True)
class _Job:
    sid: int
    ip: str
    spec: NeighborSpec
    lines: list[str]
    platform: Platform
    router_name: str

    @property
    def masked(self) -> list[str]:
        return mask_lines(self.lines, self.spec)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Passed to the driver so that it masks the MD5 key in router output and errors."""
        return (self.spec.md5_password,) if self.spec.md5_password else ()


class ChangeError(PeerbotError):
    """A change failed; the message says what happened to the router and to the database."""


# ----------------------------------------------------------------------------- credentials
def credentials_for(router: Router) -> RouterCredentials:
    password = None
    if router.password_env:
        password = os.environ.get(router.password_env)
        if password is None and not router.key_file:
            raise ChangeError(f"No password for {router.name}: environment variable {router.password_env} is not set.")
    return RouterCredentials(host=router.host, port=router.port, username=router.username, password=password,
                             key_file=router.key_file, platform=Platform(router.platform))


# ----------------------------------------------------------------------------- rendering
def neighbor_spec(core: Core, row: Session, s) -> NeighborSpec:  # noqa: ANN001
    prefixes: tuple[str, ...] = ()
    prefix_list = None
    if row.as_set:
        known = s.scalar(select(AsSet).where(AsSet.name == row.as_set))
        if known is not None:
            fam = known.prefixes_v4 if row.address_family == 4 else known.prefixes_v6
            if fam:
                prefixes = tuple(fam)
                prefix_list = _prefix_list_name(row.peer.asn, row.address_family)
    md5 = core.secrets.decrypt(row.md5_encrypted) if row.md5_encrypted else None
    return NeighborSpec(
        local_asn=row.local_asn, peer_ip=row.peer_ip, remote_asn=row.peer.asn,
        description=_description(row), address_family=row.address_family,
        peer_group=row.peer_group.name if row.peer_group else None, md5_password=md5,
        prefix_list_name=prefix_list, prefixes=prefixes, admin_down=row.admin_status == AdminStatus.DOWN,
    )


PREFIX_LIST_PREFIX = "PEERBOT-AS"
# A secret typed into Config Manager (e.g. a new MD5 when none is stored) is not in the spec:
# mask whatever follows a password keyword too, before a line is shown, logged or audited.
_SECRET_IN_LINE = re.compile(
    r"(?P<kw>\b(?:password|authentication-key|secret)\s+(?:(?:clear|encrypted|0|7)\s+)?)(?P<val>\"[^\"]*\"|\S+)",
    re.I)


def mask_lines(lines: list[str], spec: NeighborSpec) -> list[str]:
    """`lines` with the session's MD5 and anything after a password keyword replaced by ********."""
    return [_SECRET_IN_LINE.sub(lambda m: m.group("kw") + MASK, ln) for ln in mask_secrets(lines, spec)]


def _scrub(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    return _SECRET_IN_LINE.sub(lambda m: m.group("kw") + MASK, text)


_DANGEROUS = re.compile(r"(?i)\b(router bgp \d+|no router|write erase|erase|reload|rollback|load)\b")


def _prefix_list_name(asn: int, family: int) -> str:
    return f"{PREFIX_LIST_PREFIX}{asn}-V{family}"


def _description(row: Session) -> str:
    # The peer name is cli_safe_text-validated at creation; re-filter anyway, it is going to a CLI.
    name = re.sub(r"[^A-Za-z0-9 _.\-/()]", "", row.peer.name)[:60].strip()
    return f"{name} AS{row.peer.asn}".strip()


def _load(s, session_id: int) -> Session:  # noqa: ANN001
    row = s.scalar(select(Session).where(Session.id == session_id).options(
        joinedload(Session.router), joinedload(Session.peer), joinedload(Session.peer_group),
        joinedload(Session.exchange)))
    if row is None:
        raise NotFound(f"No session #{session_id}.")
    return row


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
        row = _load(s, session_id)
        spec = neighbor_spec(core, row, s)
        lines = render(row.router.platform, TEMPLATE_FOR[action], spec, core.settings.templates_dir)
        return Plan(session_id, action, row.router.name, mask_lines(lines, spec), lines)


# ----------------------------------------------------------------------------- config manager
# Control characters (tab included: it triggers completion in an interactive CLI), ";" (a
# second command on some CLIs) and "?" (inline help in vtysh/IOS/Junos) never reach a router.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029;?]")
MAX_EDITED_LINES = 200


def check_edited_commands(core: Core, session_id: int, text: str) -> list[str]:
    """Validate a user-edited command set (Config Manager) and return the lines to push.

    Allowed: any line the template renders for this session (context lines such as
    `router bgp 64500`, `address-family ipv4 unicast`, `exit`, shown masked), lines that act on
    this session's neighbor (`[no] neighbor <its IP> ...`, and no other IP address in them),
    and lines about its own prefix list. The masked MD5 (********) is replaced by the stored
    key. Anything else is rejected with the offending line named.
    """
    p = plan(core, session_id, "configure")
    with core.db.session() as s:
        row = _load(s, session_id)
        peer_ip, secret_spec = row.peer_ip, neighbor_spec(core, row, s)
    own_prefix_list = _prefix_list_name(row.peer.asn, row.address_family)
    lines = [ln.strip(" \t") for ln in (text or "").replace("\r\n", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise InvalidInput({"commands": "There are no commands to push."})
    if len(lines) > MAX_EDITED_LINES:
        raise InvalidInput({"commands": f"At most {MAX_EDITED_LINES} lines can be pushed at once."})
    rendered = {ln.strip() for ln in p.masked}
    out = []
    for ln in lines:
        if _CONTROL.search(ln):
            raise InvalidInput({"commands": f"Control characters (tabs included), ';' and '?' are not allowed: {_shown(ln)}"})
        if len(ln) > 250:
            raise InvalidInput({"commands": f"Line too long: {_shown(ln)}"})
        in_scope = ln in rendered or (
            not _DANGEROUS.search(ln) and (_targets_neighbor(ln, peer_ip) or _about_prefix_list(ln, own_prefix_list)))
        if not in_scope:
            raise InvalidInput({"commands": f"Line outside this session's neighbor ({peer_ip}): {_shown(ln)}"})
        out.append(ln.replace(MASK, secret_spec.md5_password) if secret_spec.md5_password else ln)
    return out


def _shown(line: str) -> str:
    return _CONTROL.sub("?", _SECRET_IN_LINE.sub(lambda m: m.group("kw") + MASK, line))[:80]


def _tokens(line: str) -> list[str]:
    return [t for t in re.split(r"[\s\"']+", line) if t]


def _ip_or_none(token: str) -> str | None:
    try:
        return str(ipaddress.ip_address(token))
    except ValueError:
        return None


def _targets_neighbor(line: str, ip: str) -> bool:
    """`[no] neighbor <ip> ...` (or Junos `... neighbor <ip> ...`), with no other address in it."""
    tokens = _tokens(line)
    ips = [(i, _ip_or_none(t)) for i, t in enumerate(tokens)]
    ips = [(i, a) for i, a in ips if a is not None]
    if not ips:
        return False
    first, addr = ips[0]
    return addr == ip and first > 0 and tokens[first - 1].lower() == "neighbor" and all(a == ip for _, a in ips)


def _about_prefix_list(line: str, name: str) -> bool:
    tokens = _tokens(line)
    return name in tokens and not any(_ip_or_none(t) for t in tokens)


# ----------------------------------------------------------------------------- actions
class Changes:
    """The router-changing services, with the driver factory injected (tests pass fakes)."""

    def __init__(self, core: Core, driver_factory: DriverFactory = default_driver_factory):
        self.core = core
        self.driver_factory = driver_factory

    # -- public API: one function per action --------------------------------------------
    def configure(self, session_id: int, actor: str, commands: list[str] | None = None) -> ChangeResult:
        return self.run("configure", [session_id], actor, commands={session_id: commands} if commands else None)[0]

    def admin_down(self, session_id: int, actor: str) -> ChangeResult:
        return self.run("admin_down", [session_id], actor)[0]

    def admin_up(self, session_id: int, actor: str) -> ChangeResult:
        return self.run("admin_up", [session_id], actor)[0]

    def delete(self, session_id: int, actor: str) -> ChangeResult:
        """Remove the neighbor from the router (when configured), then the session from the DB."""
        return self.run("deconfigure", [session_id], actor)[0]

    # -- grouped execution --------------------------------------------------------------
    def run(self, action: Action, session_ids: Iterable[int], actor: str,
            commands: dict[int, list[str] | None] | None = None) -> list[ChangeResult]:
        """Carry out `action` on several sessions: one SSH connection and one save per router."""
        if action not in TEMPLATE_FOR:
            raise InvalidInput({"action": f"unknown action {action}"})
        by_router: dict[int, list[int]] = defaultdict(list)
        results: dict[int, ChangeResult] = {}
        with self.core.db.session() as s:
            for sid in dict.fromkeys(session_ids):
                row = s.get(Session, sid)
                if row is None:
                    results[sid] = ChangeResult(sid, action, False, f"No session #{sid}.")
                elif action == "deconfigure" and not row.configured:
                    results[sid] = self._delete_row(s, row, actor, "never configured on the router: deleted from the database only")
                elif action in ("admin_down", "admin_up") and not row.configured:
                    results[sid] = self._set_admin_only(s, row, action, actor)
                else:
                    by_router[row.router_id].append(sid)
        for router_id, sids in by_router.items():
            for r in self._run_on_router(action, router_id, sids, actor, commands or {}):
                results[r.session_id] = r
        return [results[sid] for sid in dict.fromkeys(session_ids)]

    def _set_admin_only(self, s, row: Session, action: Action, actor: str) -> ChangeResult:  # noqa: ANN001
        # Not on the router yet: record the intent; Configure will render it (shutdown line).
        before = row.admin_status.value
        row.admin_status = AdminStatus.DOWN if action == "admin_down" else AdminStatus.UP
        audit.record(s, actor=actor, action=f"session.{action}", object_type="session", object_id=row.id,
                     before={"admin_status": before}, after={"admin_status": row.admin_status.value},
                     detail="not configured on the router: recorded only")
        s.flush()
        return ChangeResult(row.id, action, True, "Not configured on the router yet: admin status recorded; "
                            "Configure will apply it.", session=SessionView.of(row))

    def _delete_row(self, s, row: Session, actor: str, detail: str) -> ChangeResult:  # noqa: ANN001
        sid = row.id
        audit.record(s, actor=actor, action="session.delete", object_type="session", object_id=sid,
                     before={"peer_ip": row.peer_ip, "router": row.router.name, "peer_asn": row.peer.asn}, detail=detail)
        s.delete(row)
        s.flush()
        return ChangeResult(sid, "deconfigure", True, f"Session #{sid} deleted ({detail}).")

    def _run_on_router(self, action: Action, router_id: int, sids: list[int], actor: str,
                       commands: dict[int, list[str] | None]) -> list[ChangeResult]:
        # 1. Render everything first (DB read only): a bad template fails before any SSH.
        failed: list[tuple[int, str]] = []
        jobs: list[_Job] = []
        with self.core.db.session() as s:
            router = s.get(Router, router_id)
            router_name, platform = router.name, Platform(router.platform)
            try:
                creds = credentials_for(router)
            except ChangeError as exc:
                creds, failed = None, [(sid, str(exc)) for sid in sids]
            for sid in sids if creds else ():
                try:
                    row = _load(s, sid)
                    spec = neighbor_spec(self.core, row, s)
                    if action == "admin_down":
                        spec = NeighborSpec(**{**spec.__dict__, "admin_down": True})
                    lines = commands.get(sid) or render(platform, TEMPLATE_FOR[action], spec,
                                                        self.core.settings.templates_dir)
                except (ValueError, NotFound) as exc:  # unsafe value / template problem / deleted meanwhile
                    msg = str(exc) if isinstance(exc, NotFound) else "the configuration could not be rendered safely"
                    failed.append((sid, f"{router_name}: {msg}. Nothing was sent."))
                    continue
                jobs.append(_Job(sid, row.peer_ip, spec, lines, platform, router_name))
        results: list[ChangeResult] = [self._fail(sid, action, actor, msg, []) for sid, msg in failed]
        if not jobs:
            return results
        secrets = (creds.password, *(j.spec.md5_password for j in jobs))
        # 2. One connection: one read of the neighbors, push each session's lines, one save,
        #    one read-back.
        done: list[ChangeResult] = []
        current: _Job | None = None
        try:
            with self.driver_factory(creds, self.core.settings.router_timeout) as drv:
                before = drv.neighbors() if action in ("configure", "deconfigure") else {}
                for job in jobs:
                    current = job
                    done.append(self._apply(drv, action, job, actor, before, secrets))
                current = None
                if any(r.ok and r.commands for r in done):
                    drv.save()
                states = drv.neighbors()
        except RouterError as exc:
            err = _scrub(str(exc), secrets)
            out = [r for r in done if not r.ok]
            pushed = {r.session_id for r in done if r.ok}
            for job in jobs:
                if job.sid in pushed:
                    msg = (f"{router_name}: {err} after the commands were sent; the change was not verified or "
                           "saved, and the database was not updated. Refresh, then retry.")
                elif current is not None and job.sid == current.sid:
                    msg = (f"{router_name}: {err} while the commands were being sent; part of them may have "
                           "been applied. The database was not updated: check the router (Refresh).")
                elif any(r.session_id == job.sid for r in out):
                    continue
                else:
                    msg = f"{router_name}: {err}. Nothing was changed."
                out.append(self._fail(job.sid, action, actor, msg, job.masked))
            return results + out
        return results + [self._record(r, states.get(_norm(job.ip)), actor) for r, job in zip(done, jobs)]

    def _apply(self, drv: RouterDriver, action: Action, job: _Job, actor: str,
               before: dict[str, NeighborState], secrets: tuple[str | None, ...]) -> ChangeResult:
        existed = _norm(job.ip) in before
        if action == "deconfigure" and not existed:
            # removed by hand already: sending "no neighbor" would only be refused
            return ChangeResult(job.sid, action, True, "", [])
        try:
            drv.push(job.lines, secrets=job.secrets)
        except ConfigRejected as exc:
            detail = f"{job.router_name}: {_scrub(str(exc), secrets)}."
            if action == "configure" and not existed:
                detail += " Nothing was recorded as configured." + self._rollback(drv, job, secrets)
            elif action == "configure":
                detail += (" The neighbor existed before; the lines before the refused one stay applied: "
                           "check the router.")
            else:
                detail += " The database was not changed."
            return self._fail(job.sid, action, actor, detail, job.masked)
        return ChangeResult(job.sid, action, True, "", job.masked)

    def _rollback(self, drv: RouterDriver, job: _Job, secrets: tuple[str | None, ...]) -> str:
        """Best effort: remove the half-configured neighbor a failed push may have left."""
        try:
            if drv.neighbor(job.ip) is None:
                return " Nothing was left on the router."
            drv.push(render(job.platform, "delete", job.spec, self.core.settings.templates_dir), secrets=job.secrets)
            if drv.neighbor(job.ip) is not None:
                return " Rolling back did not remove the neighbor: check the router."
            return " The lines already applied were rolled back (neighbor removed)."
        except RouterError as exc:
            return f" Rollback failed too ({_scrub(str(exc), secrets)}): check the router."

    def _fail(self, sid: int, action: Action, actor: str, message: str, masked: list[str]) -> ChangeResult:
        with self.core.db.session() as s:
            row = s.get(Session, sid)
            if row is not None:
                row.last_error = message[:2000]
                audit.record(s, actor=actor, action=f"session.{action}", object_type="session", object_id=sid,
                             outcome="error", detail=message[:2000], after={"commands": masked})
            view = SessionView.of(_load(s, sid)) if row is not None else None
        log.warning("session %s %s failed: %s", sid, action, message)
        return ChangeResult(sid, action, False, message, masked, session=view)

    def _record(self, r: ChangeResult, state: NeighborState | None, actor: str) -> ChangeResult:
        if not r.ok:
            return r
        with self.core.db.session() as s:
            row = _load(s, r.session_id)
            before = {"configured": row.configured, "admin_status": row.admin_status.value, "bgp_state": row.bgp_state}
            if r.action == "configure" and state is None:
                r.ok = False
                r.message = (f"{row.router.name} accepted the commands but the neighbor {row.peer_ip} is not in its "
                             "BGP table afterwards; not marked as configured.")
                row.last_error = r.message
                audit.record(s, actor=actor, action="session.configure", object_type="session", object_id=row.id,
                             outcome="error", detail=r.message, after={"commands": r.commands})
                r.session = SessionView.of(row)
                return r
            if r.action == "deconfigure":
                if state is not None:
                    r.ok = False
                    r.message = f"{row.peer_ip} is still on {row.router.name} after the delete; the session was kept."
                    row.last_error = r.message
                    audit.record(s, actor=actor, action="session.delete", object_type="session", object_id=row.id,
                                 outcome="error", detail=r.message, after={"commands": r.commands})
                    r.session = SessionView.of(row)
                    return r
                detail = (f"neighbor removed from {row.router.name}" if r.commands else
                          f"the neighbor was no longer on {row.router.name}; deleted from the database")
                res = self._delete_row(s, row, actor, detail)
                res.commands = r.commands
                return res
            if r.action == "configure":
                row.configured = True
            elif r.action == "admin_down":
                row.admin_status = AdminStatus.DOWN
            elif r.action == "admin_up":
                row.admin_status = AdminStatus.UP
            row.last_error = None
            _apply_state(row, state, datetime.now(timezone.utc))
            audit.record(s, actor=actor, action=f"session.{r.action}", object_type="session", object_id=row.id,
                         before=before, after={"configured": row.configured, "admin_status": row.admin_status.value,
                                               "bgp_state": row.bgp_state, "commands": r.commands})
            s.flush()
            r.state = state
            r.session = SessionView.of(row)
            r.message = _done_message(r.action, row)
        return r

    # -- polling ---------------------------------------------------------------------------
    def poll_router(self, router_id: int) -> PollResult:
        with self.core.db.session() as s:
            router = s.get(Router, router_id)
            if router is None:
                raise NotFound(f"No router #{router_id}.")
            name = router.name
            try:
                creds = credentials_for(router)
            except ChangeError as exc:
                router.last_error = str(exc)
                return PollResult(router_id, name, False, str(exc))
        try:
            with self.driver_factory(creds, self.core.settings.router_timeout) as drv:
                states = drv.neighbors()
        except RouterError as exc:
            msg = f"{name}: {exc}"
            with self.core.db.session() as s:
                s.get(Router, router_id).last_error = msg
            return PollResult(router_id, name, False, msg)
        return self._store_poll(router_id, name, states)

    def _store_poll(self, router_id: int, name: str, states: dict[str, NeighborState]) -> PollResult:
        now = datetime.now(timezone.utc)
        changes = []
        with self.core.db.session() as s:
            router = s.get(Router, router_id)
            router.last_polled, router.last_error = now, None
            rows = s.scalars(select(Session).where(Session.router_id == router_id).options(joinedload(Session.peer)))
            count = 0
            for row in rows:
                count += 1
                old = row.bgp_state
                _apply_state(row, states.get(_norm(row.peer_ip)), now)
                if old != row.bgp_state:
                    changes.append(StateChange(row.id, row.peer.name, row.peer_ip, name, old, row.bgp_state))
        return PollResult(router_id, name, True, f"{name}: {count} session(s) polled, {len(changes)} changed",
                          changes, count)

    def poll_all(self) -> list[PollResult]:
        with self.core.db.session() as s:
            ids = list(s.scalars(select(Router.id).order_by(Router.name)))
        return [self.poll_router(rid) for rid in ids]

    def poll_session(self, session_id: int) -> SessionView:
        """Read one neighbor now (after Admin Up/Down) and store its state."""
        with self.core.db.session() as s:
            row = _load(s, session_id)
            creds, ip, router_id, name = credentials_for(row.router), row.peer_ip, row.router_id, row.router.name
        try:
            with self.driver_factory(creds, self.core.settings.router_timeout) as drv:
                state = drv.neighbor(ip)
        except RouterError as exc:
            raise ChangeError(f"{name}: {exc}") from None
        with self.core.db.session() as s:
            row = _load(s, session_id)
            _apply_state(row, state, datetime.now(timezone.utc))
            s.flush()
            return SessionView.of(row)


def _norm(ip: str) -> str:
    try:
        return str(ipaddress.ip_address(ip))
    except ValueError:
        return ip


def _apply_state(row: Session, state: NeighborState | None, now: datetime) -> None:
    row.last_polled = now
    if state is None:
        new = None if not row.configured else "NotFound"
        if row.bgp_state != new:
            row.last_state_change = now
        row.bgp_state = new
        row.prefixes_received = row.prefixes_accepted = row.prefixes_advertised = None
        return
    new_state = state.state
    if row.bgp_state != new_state:
        row.last_state_change = now - timedelta(seconds=state.uptime_seconds) if state.uptime_seconds else now
    row.bgp_state = new_state
    row.prefixes_received = state.prefixes_received
    row.prefixes_accepted = state.prefixes_accepted
    row.prefixes_advertised = state.prefixes_advertised
    if state.admin_down and row.admin_status != AdminStatus.DOWN:
        row.admin_status = AdminStatus.DOWN  # changed on the router by hand: follow the router
    if state.last_error and new_state != "Established":
        row.last_error = state.last_error[:2000]


def _done_message(action: Action, row: Session) -> str:
    state = row.bgp_state or "unknown"
    return {
        "configure": f"Configured {row.peer_ip} on {row.router.name}; BGP state now {state}.",
        "admin_down": f"{row.peer_ip} shut down on {row.router.name}; BGP state now {state}.",
        "admin_up": f"{row.peer_ip} enabled on {row.router.name}; BGP state now {state}.",
    }.get(action, "Done.")
