"""Carries out an approved edit request (called by ChangeRequests._execute, which already holds
the router lock of every router the request names, taken in id order — a move holds both).

The commands are rendered again from the session as it is and the pending values; if they
differ from what the approver saw, nothing is sent. Then, per step (one for an update, two for
a move): connect, push, save, read the neighbor back.

What the database says afterwards:
- update OK: the session takes the new values (`session.edit` audit event) and records the filter
  object its neighbor is bound to now (Session.prefix_filter; the old one was removed by the
  commands when no other configured session on that router used it);
- update failed: the session keeps its old values; `needs_check` when part of it may be applied
  (a line-by-line platform refused a line, or the connection dropped mid-push); Junos / IOS-XR
  discard a refused commit whole;
- move, the remove failed: as an update that failed (nothing moved);
- move, the remove done but the add failed: the session still describes the OLD router and
  address (that is where it was configured) but is marked not configured (it was read back gone
  from there); its last error says so, and whether the add may have left part of the neighbor on
  the new router ("check it there"). Editing it again is then a plain database update, and
  Configure creates it wherever it points.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

from pydantic import ValidationError

from bot.core import Core
from bot.base.redact import mask
from bot.routers import ConfigRejected, NeighborState, RouterError, commits_atomically
from bot.core import audit
from bot.changes.executor import ChangeResult, Changes
from bot.changes.editing import ACTION, PendingEdit, PushStep, apply_edit, plan_edit
from bot.polling.poller import apply_state
from bot.routers.connect import ChangeError, credentials_for, open_router
from bot.sessions.queries import load_session
from bot.sessions.views import SessionView
from storage.models import Router

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Pushed:
    ok: bool
    message: str
    uncertain: bool = False  # part of the lines may be applied
    state: NeighborState | None = None


def run_edit(core: Core, changes: Changes, view, payload: str) -> tuple[bool, str, dict[int, ChangeResult]]:  # noqa: ANN001
    """(ok, outcome, {session id: result}) of the edit request `view` (a RequestView)."""
    sid = view.session_ids[0]
    try:
        edit = PendingEdit.model_validate_json(payload)
    except (ValidationError, ValueError):
        return False, "Not run: the new values of this request cannot be read. Nothing was sent.", {}
    with core.locks.sessions([sid]) as claimed:
        if sid not in claimed:
            return False, f"Not run: another change to session #{sid} is in progress. Nothing was sent.", {}
        return _run(core, changes, view, sid, edit)


def _run(core: Core, changes: Changes, view, sid: int, edit: PendingEdit) -> tuple[bool, str, dict[int, ChangeResult]]:  # noqa: ANN001
    with core.db.session() as s:
        row = load_session(s, sid)
        try:
            preview = plan_edit(core, s, row, edit)
            creds = {st.router_id: credentials_for(s.get(Router, st.router_id)) for st in preview.steps}
        except ValueError:
            return False, "Not run: the configuration could not be rendered safely. Nothing was sent.", {}
        except ChangeError as exc:
            return False, f"Not run: {exc} Nothing was sent.", {}
        old_ip, old_router = row.peer_ip, row.router.name
    if [st.masked for st in preview.steps] != [i.commands for i in view.items]:
        return False, ("Not run: the commands rendered now differ from the approved ones (a template changed?). "
                       "Nothing was sent. Ask for it again."), {}
    secrets = tuple(x for st in preview.steps for x in (creds[st.router_id].password,
                                                          st.spec.md5_password if st.spec else None) if x)
    actor = view.requested_by
    if not preview.move:
        step = preview.steps[0]
        pushed = _push(core, changes, creds[step.router_id], step, edit.peer_ip, True, secrets)
        if not pushed.ok:
            return _failed(core, sid, actor, view.id, pushed.message, pushed.uncertain, step)
        return _done(core, sid, edit, actor, view.id, pushed.state,
                     f"Edited {edit.peer_ip} on {step.router_name}", [step])
    remove, add = preview.steps
    gone = _push(core, changes, creds[remove.router_id], remove, old_ip, False, secrets)
    if not gone.ok:
        return _failed(core, sid, actor, view.id, "Move not started: " + gone.message, gone.uncertain, remove)
    added = _push(core, changes, creds[add.router_id], add, edit.peer_ip, True, secrets)
    if not added.ok:
        msg = (f"Move half done: {old_ip} was removed from {old_router}, but adding {edit.peer_ip} on "
               f"{add.router_name} failed: {added.message} The session still shows {old_ip} on {old_router} and is "
               "marked not configured; Edit it again (a database update now) or Configure it.")
        if added.uncertain:
            msg += f" Part of the new neighbor may be on {add.router_name}: check it there."
        with core.db.session() as s:
            row = load_session(s, sid)
            # The row's own place is known (the remove was read back): not configured there. Not
            # needs_check: a poll of the old router would "reconcile" it and drop this message.
            row.configured = False
            row.prefix_filter = None  # removed with the neighbor (or still another session's there)
            row.needs_check = False
            row.last_error = msg[:2000]
            row.bgp_state = None
            audit.record(s, actor=actor, action="session.edit", object_type="session", object_id=sid, outcome="error",
                         detail=f"change request #{view.id}: {msg}"[:2000],
                         after={"configured": False, "commands": remove.masked + add.masked})
            result = ChangeResult(sid, ACTION, False, msg, remove.masked + add.masked, session=SessionView.of(row))
        return False, msg, {sid: result}
    return _done(core, sid, edit, actor, view.id, added.state,
                 f"Moved {old_ip} on {old_router} to {edit.peer_ip} on {add.router_name}", [remove, add])


def _push(core: Core, changes: Changes, creds, step: PushStep, ip: str, present: bool,  # noqa: ANN001
          secrets: tuple[str, ...]) -> _Pushed:
    """Push one step's lines, save, read the neighbor back; `present`: it must be there after."""
    connected = False
    try:
        with open_router(core, creds, changes.driver_factory) as drv:
            connected = True
            drv.push(step.lines, secrets=tuple(x for x in (step.spec.md5_password if step.spec else None,) if x))
            drv.save()
            state = drv.neighbor(ip)
    except ConfigRejected as exc:
        atomic = commits_atomically(step.platform)
        detail = (" Nothing was committed: the router discarded the whole change." if atomic
                  else " The lines before the refused one stay applied.")
        return _Pushed(False, f"{step.router_name}: {mask(str(exc), secrets)}.{detail}", uncertain=not atomic)
    except RouterError as exc:
        if not connected:
            return _Pushed(False, f"{step.router_name}: {mask(str(exc), secrets)}. Nothing was changed there.")
        return _Pushed(False, f"{step.router_name}: {mask(str(exc), secrets)} during the change; part of it may be "
                              "applied.", uncertain=True)
    hidden_ok = bool(step.spec and step.spec.admin_down)  # Junos lists no deactivated neighbor
    if present and state is None and not hidden_ok:
        return _Pushed(False, f"{step.router_name} accepted the commands but {ip} is not in its BGP table afterwards.",
                       uncertain=True)
    if not present and state is not None:
        return _Pushed(False, f"{ip} is still on {step.router_name} after the remove.", uncertain=True)
    return _Pushed(True, "", state=state)


def _failed(core: Core, sid: int, actor: str, request_id: int, message: str, uncertain: bool,
            step: PushStep) -> tuple[bool, str, dict[int, ChangeResult]]:
    message += " The session keeps its old values." + (" It is marked “unknown — check the router”."
                                                        if uncertain else "")
    with core.db.session() as s:
        row = load_session(s, sid)
        row.last_error = message[:2000]
        row.needs_check = row.needs_check or uncertain
        audit.record(s, actor=actor, action="session.edit", object_type="session", object_id=sid, outcome="error",
                     detail=f"change request #{request_id}: {message}"[:2000], after={"commands": step.masked})
        view = SessionView.of(row)
    log.warning("session %s edit failed: %s", sid, message)
    return False, message, {sid: ChangeResult(sid, ACTION, False, message, step.masked, session=view)}


def _done(core: Core, sid: int, edit: PendingEdit, actor: str, request_id: int, state: NeighborState | None,
          what: str, steps: list[PushStep]) -> tuple[bool, str, dict[int, ChangeResult]]:
    masked = [c for st in steps for c in st.masked]
    with core.db.session() as s:
        row = load_session(s, sid)
        apply_edit(core, s, row, edit, actor, detail=f"change request #{request_id}: {what}")
        row.configured = True
        # the filter object the neighbor is bound to now (on the new router after a move)
        row.prefix_filter = steps[-1].spec.prefix_list_name if steps[-1].spec else row.prefix_filter
        row.needs_check = False
        row.last_error = None
        s.flush()
        s.refresh(row)
        if state is not None:
            apply_state(row, state, datetime.now(timezone.utc))
        message = f"{what}; BGP state now {row.bgp_state or 'unknown'}."
        gone = [name for st in steps if st.spec for name in st.spec.remove_filters]
        if gone:
            message += f" Old inbound filter {', '.join(gone)} removed (no other session there used it)."
        view = SessionView.of(row)
    return True, message, {sid: ChangeResult(sid, ACTION, True, message, masked, state=state, session=view)}
