"""Changes to routers: configure, admin up/down, deconfigure (delete).

One function per action. Slack buttons, bulk actions, approvals and the CLI all call these,
so the rules live here: render from validated fields only, push, save, read back, record the
outcome and an audit event, and on failure leave the database as it was and say why.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

from bot.core import Core
from bot.base.errors import InvalidInput, NotFound
from bot.routers import (
    ConfigRejected, NeighborSpec, NeighborState, Platform, RouterDriver, RouterError, commits_atomically, render,
)
from bot.base.redact import mask
from bot.core import audit
from bot.changes.config_manager import check_edited_commands
from bot.polling.poller import PollResult, StatePoller, apply_state, norm_ip
from bot.routers.pool import run_each
from bot.changes.router_config import (
    TEMPLATE_FOR, Action, FilterUnavailable, filter_users, mask_lines, neighbor_spec, peerbot_made,
)
from bot.routers.connect import ChangeError, DriverFactory, credentials_for, open_router
from bot.sessions.queries import load_session
from bot.sessions.views import SessionView
from storage.models import AdminStatus, Router, Session

log = logging.getLogger(__name__)

__all__ = ["Changes", "ChangeResult", "ChangeError", "PollResult"]

CHECK_ROUTER = ("The session is marked \u201cunknown \u2014 check the router\u201d: Refresh reads the router now "
                "(the next poll does it anyway), then Configure again to apply every line, or Delete.")


@dataclass
class ChangeResult:
    session_id: int
    action: Action
    ok: bool
    message: str  # safe to show: no secrets, no raw tracebacks
    commands: list[str] = field(default_factory=list)  # masked
    state: NeighborState | None = None
    session: SessionView | None = None  # after the change (None once deleted)


@dataclass(frozen=True)
class _Job:
    sid: int
    ip: str
    spec: NeighborSpec
    lines: list[str]
    platform: Platform
    router_name: str
    from_template: bool = True  # False: lines edited in Config Manager, pushed as they are

    @property
    def masked(self) -> list[str]:
        return mask_lines(self.lines, self.spec)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Passed to the driver so that it masks the MD5 key in router output and errors."""
        return (self.spec.md5_password,) if self.spec.md5_password else ()


# ----------------------------------------------------------------------------- actions
class Changes:
    """The router-changing services, with the driver factory injected (tests pass fakes)."""

    def __init__(self, core: Core, driver_factory: DriverFactory | None = None):
        self.core = core
        self.driver_factory = driver_factory  # None: the core's (netmiko unless a test injects one)
        self._poller = StatePoller(core, driver_factory)

    # -- public API: one function per action --------------------------------------------
    def configure(self, session_id: int, actor: str, commands: list[str] | None = None) -> ChangeResult:
        """Push the rendered configuration, or `commands` edited by a user (Config Manager):
        those are checked to stay within this session's neighbor first (InvalidInput if not),
        whoever calls: button, approval or CLI."""
        if commands is not None:
            commands = check_edited_commands(self.core, session_id, "\n".join(commands))
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
        ids = list(dict.fromkeys(session_ids))
        with self.core.locks.sessions(ids) as claimed:
            results = {sid: ChangeResult(sid, action, False, f"Another change to session #{sid} is in progress; "
                                         "try again when it has finished.") for sid in ids if sid not in claimed}
            results |= self._run_claimed(action, [sid for sid in ids if sid in claimed], actor, commands)
        return [results[sid] for sid in ids]

    def _run_claimed(self, action: Action, ids: list[int], actor: str,
                     commands: dict[int, list[str] | None] | None) -> dict[int, ChangeResult]:
        by_router: dict[int, list[int]] = defaultdict(list)
        results: dict[int, ChangeResult] = {}
        with self.core.db.session() as s:
            for sid in ids:
                row = s.get(Session, sid)
                if row is None:
                    results[sid] = ChangeResult(sid, action, False, f"No session #{sid}.")
                elif action == "deconfigure" and not row.configured:
                    results[sid] = self._delete_row(s, row, actor, "never configured on the router: deleted from the database only")
                elif action in ("admin_down", "admin_up") and not row.configured:
                    results[sid] = self._set_admin_only(s, row, action, actor)
                else:
                    by_router[row.router_id].append(sid)
        # Every router is held from here, in id order and in this thread (a request run holds them
        # already: the lock is re-entrant per thread); the per-router groups then run side by
        # side on the router pool, which takes no lock itself.
        groups = list(by_router.items())
        with self.core.locks.routers(by_router):
            outcomes = run_each(lambda g: self._run_on_router(action, g[0], g[1], actor, commands or {}), groups,
                                concurrency=self.core.settings.poll_concurrency)
        for outcome in outcomes:
            if outcome.error is not None:
                raise outcome.error
            for r in outcome.result or ():
                results[r.session_id] = r
        return results

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
                    row = load_session(s, sid)
                    spec = neighbor_spec(self.core, row, s, action)
                    if action == "admin_down":
                        spec = NeighborSpec(**{**spec.__dict__, "admin_down": True})
                    lines = commands.get(sid) or render(platform, TEMPLATE_FOR[action], spec,
                                                        self.core.settings.templates_dir)
                except (ValueError, NotFound, FilterUnavailable) as exc:  # unsafe value / template / deleted / AS-SET
                    msg = str(exc).rstrip(".") if isinstance(exc, (NotFound, FilterUnavailable)) else \
                        "the configuration could not be rendered safely"
                    failed.append((sid, f"{router_name}: {msg}. Nothing was sent."))
                    continue
                jobs.append(_Job(sid, row.peer_ip, spec, lines, platform, router_name,
                                 from_template=not commands.get(sid)))
            if action == "deconfigure":
                jobs = self._last_user_removes(s, jobs)
        results: list[ChangeResult] = [self._fail(sid, action, actor, msg, []) for sid, msg in failed]
        if not jobs:
            return results
        secrets = (creds.password, *(j.spec.md5_password for j in jobs))
        # 2. One connection: one read of the neighbors, one push of every session's lines, one
        #    save, one read-back (see _push_batched for a refused line).
        done: dict[int, ChangeResult] = {}
        sending: set[int] = set()  # sessions whose lines are on their way (unknown outcome if cut off)
        try:
            with open_router(self.core, creds, self.driver_factory) as drv:
                before = drv.neighbors() if action in ("configure", "deconfigure") else {}
                self._push_batched(drv, action, jobs, actor, before, secrets, done, sending)
                if any(r.ok and r.commands for r in done.values()):
                    drv.save()
                states = drv.neighbors()
        except RouterError as exc:
            err = mask(str(exc), secrets)
            out = [r for r in done.values() if not r.ok]
            pushed = {sid for sid, r in done.items() if r.ok}
            for job in jobs:
                uncertain = True
                if job.sid in pushed:
                    msg = (f"{router_name}: {err} after the commands were sent; the change was not verified or "
                           f"saved. {CHECK_ROUTER}")
                elif job.sid in sending:
                    msg = (f"{router_name}: {err} while the commands were being sent; part of them may be "
                           f"applied. {CHECK_ROUTER}")
                elif job.sid in done:
                    continue
                else:
                    msg, uncertain = f"{router_name}: {err}. Nothing was changed.", False
                out.append(self._fail(job.sid, action, actor, msg, job.masked, uncertain=uncertain))
            return results + out
        return results + [self._record(done[job.sid], states.get(norm_ip(job.ip)), actor, hidden_ok=job.spec.admin_down, job=job)
                          for job in jobs]

    # -- one push for all of a router's sessions (issue 11: 50 sessions were 53 router calls) ------
    def _push_batched(self, drv: RouterDriver, action: Action, jobs: list[_Job], actor: str,
                      before: dict[str, NeighborState], secrets: tuple[str | None, ...],
                      done: dict[int, ChangeResult], sending: set[int]) -> None:
        """Push the lines of all `jobs` in one config session, filling `done` per session as
        pushing each session's lines alone would: a refused line fails its own session (with
        the same handling, rollback included); the sessions before it stay applied, or on a
        commit platform (which discarded the whole push) are pushed again with those after it."""
        pending: list[_Job] = []
        for job in jobs:
            prepared = self._prepare(action, job, before)
            if isinstance(prepared, ChangeResult):
                done[job.sid] = prepared
            else:
                pending.append(prepared)
        atomic = bool(jobs) and commits_atomically(jobs[0].platform)
        while pending:
            sending.clear()
            sending.update(j.sid for j in pending)
            try:
                drv.push([line for j in pending for line in j.lines],
                         secrets=tuple(s for j in pending for s in j.secrets))
            except ConfigRejected as exc:
                k = _refused_job(pending, exc, secrets)
                if k is None:  # whose line it was is unknown: each session on its own, as before
                    for job in pending:
                        sending.clear()
                        sending.add(job.sid)
                        done[job.sid] = self._apply(drv, action, job, actor, before, secrets)
                    break
                refused = pending[k]
                done[refused.sid] = self._refused(drv, action, refused, actor, norm_ip(refused.ip) in before,
                                                  exc, secrets)
                if atomic:
                    pending = pending[:k] + pending[k + 1:]
                else:
                    for job in pending[:k]:
                        done[job.sid] = ChangeResult(job.sid, action, True, "", job.masked)
                    pending = pending[k + 1:]
                continue
            for job in pending:
                done[job.sid] = ChangeResult(job.sid, action, True, "", job.masked)
            pending = []
        sending.clear()

    def _last_user_removes(self, s, jobs: list[_Job]) -> list[_Job]:  # noqa: ANN001
        """Deleting several sessions that share a filter object at once: each alone sees the
        others as users and keeps it, so the last one of them removes it, unless a session
        outside this batch still uses it."""
        batch = {j.sid for j in jobs}
        last: dict[str, int] = {}
        for n, job in enumerate(jobs):
            row = s.get(Session, job.sid)
            name = row.prefix_filter if row is not None else None
            if name and name not in job.spec.remove_filters and job.from_template and peerbot_made(name) \
                    and not set(filter_users(s, row, name)) - batch:
                last[name] = n
        for name, n in last.items():
            job = jobs[n]
            spec = replace(job.spec, remove_filters=(*job.spec.remove_filters, name))
            jobs[n] = replace(job, spec=spec, lines=render(job.platform, "delete", spec, self.core.settings.templates_dir))
        return jobs

    def _apply(self, drv: RouterDriver, action: Action, job: _Job, actor: str,
               before: dict[str, NeighborState], secrets: tuple[str | None, ...]) -> ChangeResult:
        """One session's lines in a push of their own."""
        prepared = self._prepare(action, job, before)
        if isinstance(prepared, ChangeResult):
            return prepared
        job = prepared
        try:
            drv.push(job.lines, secrets=job.secrets)
        except ConfigRejected as exc:
            return self._refused(drv, action, job, actor, norm_ip(job.ip) in before, exc, secrets)
        return ChangeResult(job.sid, action, True, "", job.masked)

    def _prepare(self, action: Action, job: _Job, before: dict[str, NeighborState]) -> _Job | ChangeResult:
        """The job as it must be pushed given what the router holds (`before`), or its result
        when nothing is to be sent."""
        existed = norm_ip(job.ip) in before
        if action == "configure" and job.from_template and job.spec.exists_on_router != existed:
            # A new neighbor is created shut down and enabled by the template's last line (a push
            # cut half-way leaves nothing half-configured up); an existing one must not flap.
            spec = replace(job.spec, exists_on_router=existed)
            job = replace(job, spec=spec, lines=render(job.platform, TEMPLATE_FOR[action], spec,
                                                       self.core.settings.templates_dir))
        # An admin-down neighbor may be missing from the state output (Junos lists no deactivated
        # neighbor), so only a neighbor that is up and absent counts as removed by hand.
        if action == "deconfigure" and not existed and not job.spec.admin_down:
            # removed by hand already: sending "no neighbor" would only be refused
            return ChangeResult(job.sid, action, True, "", [])
        return job

    def _refused(self, drv: RouterDriver, action: Action, job: _Job, actor: str, existed: bool,
                 exc: ConfigRejected, secrets: tuple[str | None, ...]) -> ChangeResult:
        """The router refused a line of `job`: say what that left, roll a new neighbor back."""
        detail = f"{job.router_name}: {mask(str(exc), secrets)}."
        uncertain = False
        if commits_atomically(job.platform):
            detail += " Nothing was committed: the router discarded the whole change. The database was not changed."
        elif action == "configure" and not existed:
            rolled_back = self._rollback(drv, job, secrets)
            uncertain = "check the router" in rolled_back
            detail += " Nothing was recorded as configured." + rolled_back
        elif action == "configure":
            uncertain = True
            detail += f" The neighbor existed before; the lines before the refused one stay applied. {CHECK_ROUTER}"
        else:
            detail += " The database was not changed."
        return self._fail(job.sid, action, actor, detail, job.masked, uncertain=uncertain)

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
            return f" Rollback failed too ({mask(str(exc), secrets)}): check the router."

    def _fail(self, sid: int, action: Action, actor: str, message: str, masked: list[str],
              uncertain: bool = False) -> ChangeResult:
        """Record a failed change. `uncertain`: the router may hold part of it, so the session's
        state is "unknown — check the router" until a poll reconciles it."""
        with self.core.db.session() as s:
            row = s.get(Session, sid)
            if row is not None:
                row.last_error = message[:2000]
                row.needs_check = row.needs_check or uncertain
                audit.record(s, actor=actor, action=f"session.{action}", object_type="session", object_id=sid,
                             outcome="error", detail=message[:2000], after={"commands": masked})
            view = SessionView.of(load_session(s, sid)) if row is not None else None
        log.warning("session %s %s failed: %s", sid, action, message)
        return ChangeResult(sid, action, False, message, masked, session=view)

    def _record(self, r: ChangeResult, state: NeighborState | None, actor: str, hidden_ok: bool = False,
                job: _Job | None = None) -> ChangeResult:
        """Store a pushed change. `hidden_ok`: the neighbor is admin down, and some platforms
        (Junos: deactivate) do not list it, so its absence after Configure is expected."""
        if not r.ok:
            return r
        with self.core.db.session() as s:
            row = load_session(s, r.session_id)
            before = {"configured": row.configured, "admin_status": row.admin_status.value, "bgp_state": row.bgp_state}
            if r.action == "configure" and state is None and not hidden_ok:
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
                if r.commands:
                    detail += _filters_removed(s, row, job.spec.remove_filters if job else ())
                res = self._delete_row(s, row, actor, detail)
                res.commands = r.commands
                return res
            if r.action == "configure":
                row.configured = True
                if job is not None and job.from_template:  # Config Manager text may bind another filter
                    row.prefix_filter = job.spec.prefix_list_name
            elif r.action == "admin_down":
                row.admin_status = AdminStatus.DOWN
            elif r.action == "admin_up":
                row.admin_status = AdminStatus.UP
            row.last_error = None
            row.needs_check = False
            apply_state(row, state, datetime.now(timezone.utc), source="change", reason=f"{r.action} by {actor}")
            if r.action in ("configure", "admin_up"):
                # Read back right after the push: a reset reason now ("No AFI/SAFI activated")
                # is FRR resetting the neighbor the push changed, not a failure; the next poll
                # records the reason if the session does not come up.
                row.last_error = None
            audit.record(s, actor=actor, action=f"session.{r.action}", object_type="session", object_id=row.id,
                         before=before, after={"configured": row.configured, "admin_status": row.admin_status.value,
                                               "bgp_state": row.bgp_state, "commands": r.commands})
            s.flush()
            r.state = state
            r.session = SessionView.of(row)
            r.message = _done_message(r.action, row)
            if r.action == "configure" and job is not None and job.from_template and job.spec.remove_filters:
                r.message += f" Old inbound filter {', '.join(job.spec.remove_filters)} removed."
        return r

    # -- polling (same driver factory) ---------------------------------------------------------
    def poll_router(self, router_id: int, *, spacing: float | None = None) -> PollResult:
        return self._poller.poll_router(router_id, spacing=spacing)

    def poll_all(self, *, spacing: float | None = None) -> list[PollResult]:
        return self._poller.poll_all(spacing=spacing)

    def warm_up(self) -> None:
        """Start what polls need before the first one (the state reader processes)."""
        self._poller.warm_up()

    def router_ids(self) -> list[int]:
        return self._poller.router_ids()

    def poll_session(self, session_id: int) -> SessionView:
        return self._poller.poll_session(session_id)


def _filters_removed(s, row: Session, removed: tuple[str, ...]) -> str:  # noqa: ANN001
    """What happened to the session's inbound filter object on Delete, for the result message."""
    if removed:
        return f"; inbound filter {', '.join(removed)} removed (no other session on {row.router.name} used it)"
    if row.prefix_filter and not peerbot_made(row.prefix_filter):
        return f"; inbound filter {row.prefix_filter} kept: peerbot did not make it"
    if row.prefix_filter:
        users = filter_users(s, row, row.prefix_filter)
        if users:
            return (f"; inbound filter {row.prefix_filter} kept: still used by "
                    + ", ".join(f"#{u}" for u in users[:5]) + f" on {row.router.name}")
    return ""


def _refused_job(jobs: list[_Job], exc: ConfigRejected, secrets: tuple[str | None, ...]) -> int | None:
    """Index of the job whose line the router refused (the first that has it: the same line
    earlier in the push was accepted in the same context), None when the error names no line."""
    if not exc.command:
        return None
    refused = exc.command.strip()
    for k, job in enumerate(jobs):
        for line, masked in zip(job.lines, job.masked):
            if refused in (line.strip(), masked.strip(), mask(line, secrets).strip()):
                return k
    return None


def _done_message(action: Action, row: Session) -> str:
    state = row.bgp_state or "unknown"
    return {
        "configure": f"Configured {row.peer_ip} on {row.router.name}; BGP state now {state}.",
        "admin_down": f"{row.peer_ip} shut down on {row.router.name}; BGP state now {state}.",
        "admin_up": f"{row.peer_ip} enabled on {row.router.name}; BGP state now {state}.",
    }.get(action, "Done.")
