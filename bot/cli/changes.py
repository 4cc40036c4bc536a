"""`peerbot changes …` and `peerbot audit`: change requests from the command line.

The CLI runs as `cli:<unix user>` with the roles of PEERBOT_CLI_ROLES (default: operator). A
request the policy lets run at once is carried out here, by this process (claimed in the
database, so a bot sweeping at the same moment does not run it too); one that needs approval
waits for an approver in Slack, or for `peerbot changes approve N` by a CLI with the approver role.
"""
from __future__ import annotations

import json
from typing import Annotated

import typer

from bot.base.errors import PeerbotError
from storage.models import ChangeState
from bot.cli.context import actor, open_core, fail, print_request, run_and_report

changes_cli = typer.Typer(no_args_is_help=True, help="Change requests: list, show, approve, reject, cancel.")


def _requests(core):  # noqa: ANN001, ANN202
    from bot.changes.requests import ChangeRequests

    return ChangeRequests(core)


def carry_out(action: str, session_id: int, *, lines: list[str] | None = None) -> None:
    """Ask for a change as the CLI user; run it here when it may run at once."""

    core = open_core()
    requests = _requests(core)
    try:
        view = requests.request(actor(), action, [session_id], lines=lines)
    except PeerbotError as exc:
        raise fail(str(exc), 2 if "not allowed" in str(exc) else 1) from None
    for item in view.items:
        if item.commands:
            typer.echo(f"Commands for {item.label}:\n  " + "\n  ".join(item.commands))
    if view.state == ChangeState.REQUESTED:
        typer.echo(f"Request #{view.id} waits for approval: an approver approves it in Slack "
                   f"(or `peerbot changes approve {view.id}`).")
        return
    run_and_report(requests, view.id)


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
        raise fail(f"--state: one of {', '.join(s.value for s in ChangeState)}", 2) from None
    for view in _requests(open_core()).list(states=states, session_id=session, limit=limit):
        if as_json:
            typer.echo(json.dumps(_as_dict(view)))
        else:
            print_request(view)


@changes_cli.command("show")
def changes_show(request_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """One request: sessions, exact commands (secrets masked), decisions, outcome."""
    try:
        view = _requests(open_core()).get(request_id)
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None
    if as_json:
        typer.echo(json.dumps(_as_dict(view), indent=2))
        return
    print_request(view)
    typer.echo(f"  asked by {view.requested_by} at {view.requested_at:%Y-%m-%d %H:%M:%SZ}"
               + (f"; decided by {view.decided_by}" if view.decided_by else ""))
    for item in view.items:
        typer.echo(f"  #{item.session_id} {item.label}" + (f": {item.result}" if item.result else ""))
        for line in item.commands:
            typer.echo(f"      {line}")


@changes_cli.command("approve")
def changes_approve(request_id: int) -> None:
    """Approve a request (needs the approver role: PEERBOT_CLI_ROLES) and run it here."""

    requests = _requests(open_core())
    try:
        requests.approve(request_id, actor())
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None
    run_and_report(requests, request_id)


@changes_cli.command("reject")
def changes_reject(request_id: int, reason: Annotated[str, typer.Option("--reason", help="Why (required).")]) -> None:
    """Reject a request, with a reason the requester sees."""

    try:
        print_request(_requests(open_core()).reject(request_id, actor(), reason))
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None


@changes_cli.command("cancel")
def changes_cancel(request_id: int) -> None:
    """Withdraw your own request (admins: anyone's) before it runs."""

    try:
        print_request(_requests(open_core()).cancel(request_id, actor()))
    except PeerbotError as exc:
        raise fail(str(exc), 1) from None


def audit(
    session: Annotated[int | None, typer.Option("--session", help="Only events about this session.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines.")] = False,
    limit: int = 50,
) -> None:
    """The audit trail: requests, approvals, rejections, expiries, starts, commands (masked), outcomes."""
    events = _requests(open_core()).audit_events(session_id=session, limit=limit)
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
