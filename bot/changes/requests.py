"""Change requests: the one path every router change takes.

    request (operator) ──► requested ──approve (another approver)──► approved ──claim──► running ──► done | failed
                              │  └─ reject (approver, with a reason) ──► rejected
                              │  └─ cancel (requester or admin) ─────► cancelled
                              └─ too old / what it would push changed ─► expired

- A request is stored, with the exact commands (secrets masked), before anything touches a
  router; the per-action policy (PEERBOT_APPROVAL_SKIP) may let it start `approved`, and a
  request that touches no router (a session never configured) needs no approval.
- Every transition is a conditional UPDATE (`WHERE state = <expected>`): double clicks, Slack
  retries, two approvers at once or two bot processes move a request at most once. A worker
  holds the router lock(s) (bot/core/locks.py: advisory lock / flock) before it claims a
  request, so a `running` request whose router lock is free was left by a process that died:
  `recover()` reports it as "outcome unknown".
- What the sessions would render now is fingerprinted; a request whose fingerprint no longer
  matches (the session or a template changed) cannot be approved or run.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select, update

from bot.base.errors import AlreadyDone, Conflict, InvalidInput, NotFound, PeerbotError, PermissionDenied
from bot.changes.config_manager import check_edited_commands
from bot.changes.edit_runner import run_edit
from bot.changes.editing import fingerprint as edit_fingerprint
from bot.changes.executor import ChangeResult, Changes
from bot.changes.records import (
    ACTIONS, Origin, RequestView, audit_request, aware, by_key, lock_sessions, open_request_or_retry,
    refuse_if_unsafe_to_render, slack_id, state_words, store,
)
from bot.changes.router_config import TEMPLATE_FOR, FilterUnavailable, mask_lines, neighbor_spec
from bot.core import Core
from bot.core.access import Role
from bot.routers import NeighborSpec, render
from bot.sessions.queries import load_session
from storage.models import AuditEvent, ChangeRequest, ChangeRequestItem, ChangeState, Session, utcnow

log = logging.getLogger(__name__)

# action -> the Changes action that carries it out
EXECUTES = {"configure": "configure", "config_push": "configure", "admin_up": "admin_up",
            "admin_down": "admin_down", "delete": "deconfigure"}
MAX_SESSIONS = 100  # one request (a bulk action) holds at most this many sessions
MAX_REASON = 500
ROUTER_BUSY_WAIT = 2.0  # seconds a worker waits for a router another change holds
# approval_ts while a process posts the approval message ("posting:<unix time>"); a claim older
# than ANNOUNCE_STALE seconds is a dead process's (a post is one Slack call: its timeouts and 429
# retries end well before) and may be taken over
POSTING = "posting"
ANNOUNCE_STALE = 600
UNKNOWN_OUTCOME = ("Outcome unknown: peerbot stopped while this change was running. Check the router; "
                   "it is being polled now.")


def runner_id() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def clean_reason(text: str | None) -> str:
    """A rejection reason as it may be shown: one paragraph of printable text."""
    reason = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]", "", text or "").strip()
    if not reason:
        raise InvalidInput({"reason": "Say why the change is rejected."})
    if len(reason) > MAX_REASON:
        raise InvalidInput({"reason": f"At most {MAX_REASON} characters."})
    return reason


@dataclass(frozen=True)
class _Planned:
    row_id: int
    router_id: int
    label: str
    masked: list[str]
    configured: bool


class ChangeRequests:
    """Ask for, decide on and run router changes. Buttons, bulk actions, approvals and the CLI
    all come through here; `Changes` (the executor) is only ever called by `run`."""

    def __init__(self, core: Core, changes: Changes | None = None):
        self.core = core
        self.changes = changes or Changes(core)

    # ------------------------------------------------------------------------------ asking
    def request(self, actor: str, action: str, session_ids: Iterable[int], *, lines: Sequence[str] | None = None,
                idempotency_key: str | None = None, origin: Origin = Origin(), drift_fix: bool = False) -> RequestView:
        """Store a request for `action` on the sessions (Config Manager: `lines` as edited).

        Raises PermissionDenied (not an operator), InvalidInput (unknown action, lines out of
        scope), NotFound (no such session) or Conflict (a session already has an open request).
        A repeated `idempotency_key` returns the request stored the first time. Configure and
        Config Manager are refused (Conflict) for a session whose neighbor has a key peerbot
        could not read, or whose router differs from it (an open drift item) unless this is
        that drift's Fix (`drift_fix`)."""
        if action not in ACTIONS:
            raise InvalidInput({"action": f"unknown action {str(action)[:30]}"})
        ids = list(dict.fromkeys(int(i) for i in session_ids))
        if not ids:
            raise InvalidInput({"sessions": "Select one or more sessions first."})
        if len(ids) > MAX_SESSIONS:
            raise InvalidInput({"sessions": f"At most {MAX_SESSIONS} sessions in one request."})
        if action == "edit":
            raise InvalidInput({"action": "an edit is asked for with bot.changes.editing.edit_session"})
        if action == "config_push" and len(ids) != 1:
            raise InvalidInput({"sessions": "Config Manager pushes to one session at a time."})
        self.core.access.require(actor, Role.OPERATOR, f"request “{ACTIONS[action]}”")
        key = idempotency_key[:160] if idempotency_key else None
        if key and (existing := by_key(self.core, key)) is not None:
            return existing
        edited_text = None
        if action == "config_push":
            edited_text = "\n".join(lines or [])  # checked in _plan: InvalidInput names the bad line
        with self.core.db.session() as s:
            lock_sessions(s, ids)
            if action in ("configure", "config_push"):
                refuse_if_unsafe_to_render(s, ids, drift_fix=drift_fix)
            planned = [self._plan(s, sid, action, edited_text) for sid in ids]
            if (retried := open_request_or_retry(self.core, s, ids, key)) is not None:
                return retried
            touches_router = action in ("configure", "config_push") or any(p.configured for p in planned)
            skipped = self.core.settings.approval_skipped
            needs_approval = touches_router and not ({action, "all"} & skipped)
            routers = sorted({p.router_id for p in planned})
            return store(
                self.core, s, actor=actor, action=action, summary=_summary(action, planned), router_ids=routers,
                fingerprint=self._fingerprint(s, action, ids), needs_approval=needs_approval,
                items=[ChangeRequestItem(session_id=p.row_id, router_id=p.router_id, label=p.label[:255],
                                         commands=p.masked) for p in planned],
                key=key, origin=origin,
                # the edited text may hold a key typed in clear: kept encrypted, for the push only
                edited_encrypted=self.core.secrets.encrypt(edited_text) if edited_text is not None else None,
                note="waiting for approval" if needs_approval else
                     "no approval needed (" + ("policy" if touches_router else "no router is changed") + ")",
                after={"commands": {str(p.row_id): p.masked for p in planned}})

    def _plan(self, s, sid: int, action: str, edited_text: str | None) -> _Planned:  # noqa: ANN001
        row = load_session(s, sid)
        if edited_text is not None:
            lines = check_edited_commands(self.core, sid, edited_text)
            masked = mask_lines(lines, neighbor_spec(self.core, row, s))
        elif action in ("admin_up", "admin_down", "delete") and not row.configured:
            masked = []  # recorded in the database only
        else:
            masked = self._render(s, row, action)[1]
        label = f"{row.peer.name} AS{row.peer.asn} {row.peer_ip} on {row.router.name}"
        return _Planned(row.id, row.router_id, label, masked, row.configured)

    def _render(self, s, row: Session, action: str) -> tuple[list[str], list[str]]:  # noqa: ANN001
        """(clear, masked) lines of `action` for the session as it is now; mirrors Changes."""
        execute = EXECUTES[action]
        spec = neighbor_spec(self.core, row, s, execute)
        if execute == "admin_down":
            spec = NeighborSpec(**{**spec.__dict__, "admin_down": True})
        lines = render(row.router.platform, TEMPLATE_FOR[execute], spec, self.core.settings.templates_dir)
        return lines, mask_lines(lines, spec)

    def _fingerprint(self, s, action: str, ids: Sequence[int]) -> str:  # noqa: ANN001
        if action == "edit":  # what the session's values and configuration are now: editing.py
            return edit_fingerprint(self.core, s, ids)
        h = hashlib.sha256(action.encode())
        for sid in sorted(set(ids)):
            try:
                row = load_session(s, sid)
            except NotFound:
                h.update(f"gone:{sid}".encode())
                continue
            try:
                masked = self._render(s, row, action)[1]
            except (ValueError, FilterUnavailable) as exc:
                masked = ["<cannot render>", str(exc)]
            # the key's ciphertext: a changed MD5 changes the request even though it shows as ********
            h.update(json.dumps([sid, row.configured, masked, row.md5_encrypted or ""]).encode())
        return h.hexdigest()

    # ------------------------------------------------------------------------------ deciding
    def approve(self, request_id: int, actor: str) -> RequestView:
        """requested -> approved, at most once. The requester cannot approve their own request.
        AlreadyDone (a Conflict) when `actor` approved it already: their second click, or a Slack
        retry of the first."""
        self.core.access.require(actor, Role.APPROVER, "approve changes")
        refusal: str | None = None
        with self.core.db.session() as s:
            req = self._get(s, request_id)
            if req.requested_by == actor:
                raise PermissionDenied("You asked for this change yourself: another approver must approve it.")
            if req.state != ChangeState.REQUESTED:
                raise _not_waiting(req, actor)
            if aware(req.expires_at) <= utcnow():
                refusal = self._expire(s, req, "it was not approved in time")
            elif self._fingerprint(s, req.action, [i.session_id for i in req.items]) != req.fingerprint:
                refusal = self._expire(s, req, "the session or its template changed since it was requested, so "
                                       "the commands shown are no longer what would be pushed")
            elif not self._move(s, req.id, [ChangeState.REQUESTED], ChangeState.APPROVED,
                                decided_by=actor, decided_at=utcnow()):
                # decided meanwhile, often by this very approver's other click (bench/limits.py:
                # they were told "by someone else"): read who it was
                raise _not_waiting(self._get(s, request_id), actor)
            else:
                self._audit(s, req, actor, "change.approved", req.summary)
        if refusal:
            raise Conflict(f"Request #{request_id} cannot be approved: {refusal}. Ask for it again.")
        return self.get(request_id)

    def reject(self, request_id: int, actor: str, reason: str) -> RequestView:
        self.core.access.require(actor, Role.APPROVER, "reject changes")
        reason = clean_reason(reason)
        with self.core.db.session() as s:
            req = self._get(s, request_id)
            if not self._move(s, req.id, [ChangeState.REQUESTED], ChangeState.REJECTED,
                              decided_by=actor, decided_at=utcnow(), reason=reason):
                raise Conflict(f"Request #{request_id} is already {state_words(ChangeState(req.state))}.")
            self._audit(s, req, actor, "change.rejected", f"{req.summary}; reason: {reason}")
        return self.get(request_id)

    def cancel(self, request_id: int, actor: str) -> RequestView:
        """The requester (or an admin) withdraws a request that has not started."""
        with self.core.db.session() as s:
            req = self._get(s, request_id)
            if actor != req.requested_by:
                self.core.access.require(actor, Role.ADMIN, "cancel someone else's request")
            if not self._move(s, req.id, [ChangeState.REQUESTED, ChangeState.APPROVED], ChangeState.CANCELLED,
                              decided_by=actor, decided_at=utcnow(), reason="cancelled"):
                raise Conflict(f"Request #{request_id} is already {state_words(ChangeState(req.state))}.")
            self._audit(s, req, actor, "change.cancelled", req.summary)
        return self.get(request_id)

    def expire_due(self) -> list[int]:
        """Requests past PEERBOT_APPROVAL_TTL -> expired. Returns their ids."""
        expired = []
        with self.core.db.session() as s:
            due = s.scalars(select(ChangeRequest).where(ChangeRequest.state == ChangeState.REQUESTED,
                                                        ChangeRequest.expires_at <= utcnow()))
            for req in list(due):
                if self._expire(s, req, "it was not approved in time"):
                    expired.append(req.id)
        return expired

    def _expire(self, s, req: ChangeRequest, why: str) -> str | None:  # noqa: ANN001
        if not self._move(s, req.id, [ChangeState.REQUESTED], ChangeState.EXPIRED, decided_at=utcnow(), reason=why):
            return None
        self._audit(s, req, "system", "change.expired", f"{req.summary}; {why}")
        return why

    # ------------------------------------------------------------------------------ running
    def run(self, request_id: int, lock_timeout: float | None = None,
            on_claimed: Callable[[RequestView], None] | None = None) -> RequestView | None:
        """Claim an approved request and carry it out; None when it is not ours to run (not
        approved, claimed by another worker or process, or its router stayed busy).
        `on_claimed` is told once the request is `running` (to show progress)."""
        with self.core.db.session() as s:
            req = s.get(ChangeRequest, request_id)
            if req is None or req.state != ChangeState.APPROVED:
                return None
            routers = list(req.router_ids or [])
        # A busy router is not waited for long: the worker moves on, the request stays approved
        # and the sweep offers it again (workers never pile up behind one hanging router).
        timeout = lock_timeout if lock_timeout is not None else ROUTER_BUSY_WAIT
        got = []
        try:
            for rid in sorted(routers):  # in id order: two requests on the same routers never deadlock
                if not self.core.locks.try_router(rid, timeout=timeout):
                    log.info("request #%s: router #%s busy; left for later", request_id, rid)
                    return None
                got.append(rid)
            if not self._claim(request_id):
                return None
            if on_claimed is not None:
                try:
                    on_claimed(self.get(request_id))
                except Exception:  # noqa: BLE001 - progress is best effort; the change goes on
                    log.exception("request #%s: progress report failed", request_id)
            return self._execute(request_id)
        finally:
            for rid in reversed(got):
                self.core.locks.release_router(rid)

    def _claim(self, request_id: int) -> bool:
        with self.core.db.session() as s:
            # PostgreSQL: a row another worker is claiming right now is skipped, not waited for
            row = s.scalar(select(ChangeRequest).where(ChangeRequest.id == request_id,
                                                       ChangeRequest.state == ChangeState.APPROVED)
                           .with_for_update(skip_locked=True))
            if row is None or not self._move(s, request_id, [ChangeState.APPROVED], ChangeState.RUNNING,
                                             started_at=utcnow(), runner=runner_id()):
                return False
            self._audit(s, row, "system", "change.started", f"{row.summary}; on {runner_id()}")
        return True

    def _execute(self, request_id: int) -> RequestView:
        view = self.get(request_id)
        try:
            with self.core.db.session() as s:
                req = self._get(s, request_id)
                stale = self._fingerprint(s, view.action, view.session_ids) != req.fingerprint
                edited = self.core.secrets.decrypt(req.edited_encrypted) if req.edited_encrypted else None
            if stale:
                return self._finish(request_id, False, "Not run: the session or its template changed since the "
                                    "request was made, so nothing was sent. Ask for it again.", {})
            if view.action == "edit":  # its own executor: an update in place, or a move over two routers
                ok, outcome, by_session = run_edit(self.core, self.changes, view, edited or "")
                return self._finish(request_id, ok, outcome, by_session)
            commands = None
            if edited is not None:
                sid = view.session_ids[0]
                commands = {sid: check_edited_commands(self.core, sid, edited)}
            results = self.changes.run(EXECUTES[view.action], view.session_ids, view.requested_by, commands=commands)
        except PeerbotError as exc:
            return self._finish(request_id, False, f"Not run: {exc}", {})
        except Exception:  # noqa: BLE001 - never leave a request `running` behind a bug
            log.exception("request #%s failed unexpectedly", request_id)
            return self._finish(request_id, False, "Outcome unknown: an unexpected error stopped the change "
                                "(see the bot's log). Check the router.", {})
        by_session = {r.session_id: r for r in results}
        ok = all(r.ok for r in results)
        return self._finish(request_id, ok, _outcome(view.action, results), by_session)

    def _finish(self, request_id: int, ok: bool, outcome: str, results: dict[int, ChangeResult]) -> RequestView:
        with self.core.db.session() as s:
            req = self._get(s, request_id)
            for item in req.items:
                r = results.get(item.session_id)
                if r is not None:
                    item.ok, item.result = r.ok, r.message[:2000]
            self._move(s, req.id, [ChangeState.RUNNING], ChangeState.DONE if ok else ChangeState.FAILED,
                       finished_at=utcnow(), outcome=outcome[:2000])
            self._audit(s, req, "system", "change.done" if ok else "change.failed", outcome[:2000],
                        outcome="ok" if ok else "error")
        return self.get(request_id)

    def recover(self) -> list[RequestView]:
        """`running` requests whose routers are free were left by a process that stopped mid-change:
        mark them failed with "outcome unknown" (the caller polls their routers)."""
        with self.core.db.session() as s:
            running = [(r.id, list(r.router_ids or [])) for r in
                       s.scalars(select(ChangeRequest).where(ChangeRequest.state == ChangeState.RUNNING))]
        found = []
        for rid, routers in running:
            got = []
            try:
                for router_id in sorted(routers):
                    if not self.core.locks.try_router(router_id, timeout=0):
                        break  # its runner is alive and still holds the router
                    got.append(router_id)
                else:
                    if self._mark_unknown(rid):
                        found.append(self.get(rid))
            finally:
                for router_id in reversed(got):
                    self.core.locks.release_router(router_id)
        return found

    def _mark_unknown(self, request_id: int) -> bool:
        with self.core.db.session() as s:
            req = self._get(s, request_id)
            if not self._move(s, req.id, [ChangeState.RUNNING], ChangeState.FAILED, finished_at=utcnow(),
                              outcome=UNKNOWN_OUTCOME):
                return False
            for item in req.items:
                item.ok, item.result = None, "outcome unknown — check the router"
                row = s.get(Session, item.session_id)
                if row is not None:
                    row.needs_check = True
                    row.last_error = f"Change request #{req.id} ({ACTIONS.get(req.action)}): outcome unknown — " \
                                     "peerbot stopped while it ran; check the router."
            self._audit(s, req, "system", "change.unknown", UNKNOWN_OUTCOME, outcome="error")
        return True

    def runnable_ids(self, limit: int = 100) -> list[int]:
        with self.core.db.session() as s:
            return list(s.scalars(select(ChangeRequest.id).where(ChangeRequest.state == ChangeState.APPROVED)
                                  .order_by(ChangeRequest.id).limit(limit)))

    # ------------------------------------------------------------------------------ reading
    def get(self, request_id: int) -> RequestView:
        with self.core.db.session() as s:
            return RequestView.of(self._get(s, request_id))

    def list(self, *, states: Iterable[ChangeState] | None = None, session_id: int | None = None,
             limit: int = 50) -> list[RequestView]:
        with self.core.db.session() as s:
            q = select(ChangeRequest).order_by(ChangeRequest.id.desc()).limit(limit)
            if states is not None:
                q = q.where(ChangeRequest.state.in_(list(states)))
            if session_id is not None:
                q = q.where(ChangeRequest.id.in_(select(ChangeRequestItem.request_id)
                                                 .where(ChangeRequestItem.session_id == session_id)))
            return [RequestView.of(r) for r in s.scalars(q)]

    def unreported(self, limit: int = 50) -> list[RequestView]:
        """Requests whose Slack messages do not show their current state (made or run by another
        process, or a Slack call that failed)."""
        with self.core.db.session() as s:
            q = (select(ChangeRequest).where(or_(ChangeRequest.reported_state.is_(None),
                                                 ChangeRequest.reported_state != ChangeRequest.state))
                 .order_by(ChangeRequest.id).limit(limit))
            return [RequestView.of(r) for r in s.scalars(q)]

    def claim_announcement(self, request_id: int, now: float | None = None) -> bool:
        """Exactly one process posts a request's approval message. The claim is
        "posting:<unix time>"; one older than ANNOUNCE_STALE was left by a process that died
        while it posted (bench/chaos.py --seed 4: kill -9 during chat.postMessage left
        "posting" for good, and no approver ever saw the request), and is taken over."""
        at = int(time.time() if now is None else now)
        with self.core.db.session() as s:
            return s.execute(update(ChangeRequest).where(
                ChangeRequest.id == request_id,
                or_(ChangeRequest.approval_ts.is_(None),
                    ChangeRequest.approval_ts.like("posting%")
                    & (ChangeRequest.approval_ts < f"{POSTING}:{at - ANNOUNCE_STALE:010d}")))
                .values(approval_ts=f"{POSTING}:{at:010d}")).rowcount == 1

    def set_approval_message(self, request_id: int, channel: str | None, ts: str | None) -> None:
        with self.core.db.session() as s:
            s.execute(update(ChangeRequest).where(ChangeRequest.id == request_id)
                      .values(approval_channel=slack_id(channel), approval_ts=slack_id(ts)))

    def mark_reported(self, request_id: int, state: ChangeState) -> None:
        with self.core.db.session() as s:
            s.execute(update(ChangeRequest).where(ChangeRequest.id == request_id)
                      .values(reported_state=state.value))

    def audit_events(self, session_id: int | None = None, limit: int = 50) -> list[AuditEvent]:
        with self.core.db.session() as s:
            q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
            if session_id is not None:
                requests = select(ChangeRequestItem.request_id).where(ChangeRequestItem.session_id == session_id)
                q = q.where(or_(
                    (AuditEvent.object_type == "session") & (AuditEvent.object_id == session_id),
                    (AuditEvent.object_type == "change_request") & AuditEvent.object_id.in_(requests)))
            return list(s.scalars(q))

    # ------------------------------------------------------------------------------ helpers
    @staticmethod
    def _get(s, request_id: int) -> ChangeRequest:  # noqa: ANN001
        row = s.get(ChangeRequest, request_id, populate_existing=True)
        if row is None:
            raise NotFound(f"No change request #{request_id}.")
        return row

    @staticmethod
    def _move(s, request_id: int, from_states: Sequence[ChangeState], to: ChangeState, **values: object) -> bool:  # noqa: ANN001
        """The only way a request changes state: conditional on the state it is expected in."""
        res = s.execute(update(ChangeRequest)
                        .where(ChangeRequest.id == request_id, ChangeRequest.state.in_(list(from_states)))
                        .values(state=to, **values).execution_options(synchronize_session=False))
        s.expire_all()
        return res.rowcount == 1

    @staticmethod
    def _audit(s, req: ChangeRequest, actor: str, action: str, detail: str, outcome: str = "ok",  # noqa: ANN001
               after: dict | None = None) -> None:
        audit_request(s, req, actor, action, detail, outcome, after)


APPROVED_ONCE = (ChangeState.APPROVED, ChangeState.RUNNING, ChangeState.DONE, ChangeState.FAILED)


def _not_waiting(req: ChangeRequest, actor: str) -> Conflict:
    """Why a request that no longer waits for approval cannot be approved by `actor`."""
    state = ChangeState(req.state)
    if req.decided_by == actor and state in APPROVED_ONCE:
        return AlreadyDone(f"You approved request #{req.id} already: it is {state_words(state)}.")
    return Conflict(f"Request #{req.id} is already {state_words(state)}.")


def _summary(action: str, planned: Sequence[_Planned]) -> str:
    if len(planned) == 1:
        return f"{ACTIONS[action]} {planned[0].label}"
    routers = sorted({p.label.rsplit(" on ", 1)[-1] for p in planned})
    return f"{ACTIONS[action]} {len(planned)} sessions on {', '.join(routers)}"


def _outcome(action: str, results: Sequence[ChangeResult]) -> str:
    if len(results) == 1:
        return results[0].message
    ok = sum(1 for r in results if r.ok)
    text = f"{ACTIONS[action]}: {ok} of {len(results)} session(s) done"
    failed = [r for r in results if not r.ok]
    if failed:
        text += "; failed: " + "; ".join(f"#{r.session_id}: {r.message}" for r in failed[:5])
    return text
