"""`peerbot changes …` and `peerbot audit`: change requests from the command line.

The CLI runs as `cli:<unix user>` with the roles of PEERBOT_CLI_ROLES (default: operator). A
request the policy lets run at once is carried out here, by this process (claimed in the
database, so a bot sweeping at the same moment does not run it too); one that needs approval
waits for an approver in Slack, or for `peerbot changes approve N` by a CLI with the approver role.
"""
from __future__ import annotations

import json
import time
from typing import Annotated

import typer

from bot.base.errors import PeerbotError
from storage.models import ChangeState

changes_cli = typer.Typer(no_args_is_help=True, help="Change requests: list, show, approve, reject, cancel.")
WAIT_FOR_OTHER_RUNNER = 600.0  # seconds to wait when another process claimed the request


def _core():  # noqa: ANN202
    from bot.cli import load_settings, make_core
    from bot.base.logs import setup_logging

    settings = load_settings()
    setup_logging("WARNING")
    return make_core(settings)


def _requests(core):  # noqa: ANN001, ANN202
    from bot.changes.requests import ChangeRequests

    return ChangeRequests(core)


def _fail(message: str, code: int = 1) -> typer.Exit:
    from bot.cli import fail

    return fail(message, code)


def _print(view) -> None:  # noqa: ANN001
    from bot.changes.records import state_words

    typer.echo(f"#{view.id} {view.summary}: {state_words(view.state)}"
               + (f" — {view.outcome}" if view.outcome else "") + (f" ({view.reason})" if view.reason and
                                                                     view.state == ChangeState.REJECTED else ""))


def carry_out(action: str, session_id: int, *, lines: list[str] | None = None) -> None:
    """Ask for a change as the CLI user; run it here when it may run at once."""
    from bot.cli import actor

    core = _core()
    requests = _requests(core)
    try:
        view = requests.request(actor(), action, [session_id], lines=lines)
    except PeerbotError as exc:
        raise _fail(str(exc), 2 if "not allowed" in str(exc) else 1) from None
    for item in view.items:
        if item.commands:
            typer.echo(f"Commands for {item.label}:\n  " + "\n  ".join(item.commands))
    if view.state == ChangeState.REQUESTED:
        typer.echo(f"Request #{view.id} waits for approval: an approver approves it in Slack "
                   f"(or `peerbot changes approve {view.id}`).")
        return
    _run_and_report(requests, view.id)


def _run_and_report(requests, request_id: int) -> None:  # noqa: ANN001
    view = requests.run(request_id)
    deadline = time.monotonic() + WAIT_FOR_OTHER_RUNNER
    while view is None or view.is_open:  # claimed by the bot (or the router was busy): wait for it
        if time.monotonic() > deadline:
            raise _fail(f"request #{request_id} is still {requests.get(request_id).state.value}; "
                        f"see `peerbot changes show {request_id}`")
        time.sleep(1)
        view = requests.get(request_id)
        if view.state == ChangeState.APPROVED:
            view = requests.run(request_id) or view
    _print(view)
    if view.state != ChangeState.DONE:
        raise typer.Exit(1)


@changes_cli.command("list")
def changes_list(
    state: Annotated[list[str] | None, typer.Option("--state", help="Only these states (repeatable).")] = None,
    session: Annotated[int | None, typer.Option("--session", help="Only requests about this session.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    limit: int = 50,
) -> None:
    """The latest change requests."""
    try:
        states = [ChangeState(s) for s in state] if state else None
    except ValueError:
        raise _fail(f"--state: one of {', '.join(s.value for s in ChangeState)}", 2) from None
    for view in _requests(_core()).list(states=states, session_id=session, limit=limit):
        if as_json:
            typer.echo(json.dumps(_as_dict(view)))
        else:
            _print(view)


@changes_cli.command("show")
def changes_show(request_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One request: sessions, exact commands (secrets masked), decisions, outcome."""
    try:
        view = _requests(_core()).get(request_id)
    except PeerbotError as exc:
        raise _fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(_as_dict(view), indent=2))
        return
    _print(view)
    typer.echo(f"  asked by {view.requested_by} at {view.requested_at:%Y-%m-%d %H:%M:%SZ}"
               + (f"; decided by {view.decided_by}" if view.decided_by else ""))
    for item in view.items:
        typer.echo(f"  #{item.session_id} {item.label}" + (f": {item.result}" if item.result else ""))
        for line in item.commands:
            typer.echo(f"      {line}")


@changes_cli.command("approve")
def changes_approve(request_id: int) -> None:
    """Approve a request (needs the approver role: PEERBOT_CLI_ROLES) and run it here."""
    from bot.cli import actor

    requests = _requests(_core())
    try:
        requests.approve(request_id, actor())
    except PeerbotError as exc:
        raise _fail(str(exc)) from None
    _run_and_report(requests, request_id)


@changes_cli.command("reject")
def changes_reject(request_id: int, reason: Annotated[str, typer.Option("--reason", help="Why (required).")]) -> None:
    """Reject a request, with a reason the requester sees."""
    from bot.cli import actor

    try:
        _print(_requests(_core()).reject(request_id, actor(), reason))
    except PeerbotError as exc:
        raise _fail(str(exc)) from None


@changes_cli.command("cancel")
def changes_cancel(request_id: int) -> None:
    """Withdraw your own request (admins: anyone's) before it runs."""
    from bot.cli import actor

    try:
        _print(_requests(_core()).cancel(request_id, actor()))
    except PeerbotError as exc:
        raise _fail(str(exc)) from None


def audit(
    session: Annotated[int | None, typer.Option("--session", help="Only events about this session.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    limit: int = 50,
) -> None:
    """The audit trail: requests, approvals, rejections, expiries, starts, commands (masked), outcomes."""
    events = _requests(_core()).audit_events(session_id=session, limit=limit)
    for e in reversed(events):
        row = {"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action,
               "object_type": e.object_type, "object_id": e.object_id, "outcome": e.outcome,
               "detail": e.detail, "before": e.before, "after": e.after}
        if as_json:
            typer.echo(json.dumps(row, default=str))
        else:
            typer.echo(f"{e.at:%Y-%m-%d %H:%M:%S} {e.actor} {e.action} {e.object_type}#{e.object_id} "
                       f"{e.outcome} {e.detail or ''}".rstrip())


def _as_dict(view) -> dict:  # noqa: ANN001
    return {
        "id": view.id, "action": view.action, "state": view.state.value, "summary": view.summary,
        "requested_by": view.requested_by, "requested_at": view.requested_at.isoformat(),
        "decided_by": view.decided_by, "reason": view.reason, "outcome": view.outcome,
        "sessions": [{"session_id": i.session_id, "label": i.label, "commands": i.commands, "ok": i.ok,
                      "result": i.result} for i in view.items],
    }
