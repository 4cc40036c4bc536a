"""Views of change requests: the approval message, notes on the message a request came from,
the reject-reason modal, and audit listings. Pure functions: domain views in, Block Kit out."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from bot.changes.records import RequestView, state_words
from bot.sessions.views import PendingChange
from handlers.ids import Action, Callback
from handlers.views.changes import code_block
from handlers.views.common import (
    MAX_TEXT, ago, actions, button, clip, confirm_dialog, context, escape, escape_clipped, header, message, plain,
    section,
)
from storage.models import AuditEvent, ChangeState

ICON = {
    ChangeState.REQUESTED: ":hourglass_flowing_sand:", ChangeState.APPROVED: ":arrow_forward:",
    ChangeState.RUNNING: ":gear:", ChangeState.DONE: ":white_check_mark:", ChangeState.FAILED: ":x:",
    ChangeState.REJECTED: ":no_entry_sign:", ChangeState.EXPIRED: ":hourglass:", ChangeState.CANCELLED: ":heavy_multiplication_x:",
}
MAX_ITEMS_SHOWN = 12  # sessions listed with their commands; the rest are counted (50 blocks a message)
REASON_INPUT = "reject_reason"


def who(actor: str | None) -> str:
    """A Slack user as a mention; the CLI and the system by name."""
    if not actor:
        return "?"
    if actor[:1] in ("U", "W") and actor.isalnum():
        return f"<@{actor}>"
    return escape(actor)


def state_line(r: RequestView, note: str | None = None) -> str:
    icon = ICON[r.state]
    if r.state == ChangeState.REQUESTED:
        text = f"{icon} *Waiting for approval* · expires {_until(r.expires_at)}"
    elif r.state == ChangeState.APPROVED:
        by = "no approval needed (policy)" if r.decided_by == "policy" else f"approved by {who(r.decided_by)}"
        text = f"{icon} *Queued* — {by}"
    elif r.state == ChangeState.RUNNING:
        by = "" if r.decided_by in (None, "policy") else f" (approved by {who(r.decided_by)})"
        text = f"{icon} *Running* on the router now{by}…"
    elif r.state in (ChangeState.DONE, ChangeState.FAILED):
        by = "" if r.decided_by in (None, "policy") else f" · approved by {who(r.decided_by)}"
        text = f"{icon} *{'Done' if r.state == ChangeState.DONE else 'Failed'}*{by}: {escape(r.outcome or '')}"
    elif r.state == ChangeState.REJECTED:
        text = f"{icon} *Rejected* by {who(r.decided_by)}: {escape(r.reason or '')}"
    elif r.state == ChangeState.EXPIRED:
        text = f"{icon} *Expired*: {escape(r.reason or 'not approved in time')}"
    else:
        text = f"{icon} *Cancelled* by {who(r.decided_by)}"
    if note:
        text += f"\n{escape(note)}"
    return clip(text, MAX_TEXT)


def approval_message(r: RequestView, note: str | None = None,
                     checks: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    """What an approver reads: what changes, where, the exact commands, who asked, the pre-flight
    checks (status ✅/⚠️/❌, text) of a session to configure; the buttons while it waits."""
    blocks: list[dict[str, Any]] = [
        header(f"Change request #{r.id}: {r.label}"),
        section(clip(f"*{escape(r.summary)}*\nAsked by {who(r.requested_by)} {ago(r.requested_at)}", MAX_TEXT)),
    ]
    for item in r.items[:MAX_ITEMS_SHOWN]:
        body = f"*#{item.session_id}* {escape(item.label)}"
        if item.commands:
            body += "\n" + code_block(item.commands, budget=2500 if len(r.items) == 1 else 900)
        elif r.action in ("admin_up", "admin_down", "delete"):
            body += "\n_not configured on the router: the database only_"
        if item.result and r.state in (ChangeState.DONE, ChangeState.FAILED):
            mark = ":white_check_mark:" if item.ok else (":x:" if item.ok is False else ":grey_question:")
            body += f"\n{mark} {escape(item.result)}"
        blocks.append(section(clip(body, MAX_TEXT)))
    if checks:
        lines = [f"{status} {escape(text)}" for status, text in checks[:20]]
        blocks.append(section(clip("*Pre-flight checks*\n" + "\n".join(lines), MAX_TEXT)))
    if len(r.items) > MAX_ITEMS_SHOWN:
        blocks.append(context(f"…and {len(r.items) - MAX_ITEMS_SHOWN} more session(s); "
                              f"`peerbot changes show {r.id}` lists them all."))
    blocks.append(section(state_line(r, note)))
    if r.state == ChangeState.REQUESTED:
        rid = str(r.id)
        blocks += actions([
            button("Approve", Action.CHANGE_APPROVE, rid, style="primary", confirm=confirm_dialog(
                "Approve and run", f"Run “{escape_clipped(r.summary, 200)}” on the router now?", "Approve")),
            button("Reject", Action.CHANGE_REJECT, rid, style="danger"),
            button("Cancel request", Action.CHANGE_CANCEL, rid),
        ], block_id=f"change_request:{r.id}")
    blocks.append(context(f"Request #{r.id} · the requester cannot approve their own change · "
                          f"`/peering audit` shows the history"))
    return message(f"Change request #{r.id} ({r.label}): {state_words(r.state)}", blocks)


def request_note(r: RequestView, note: str | None = None) -> str:
    """A note for the message the request came from (the session detail or the list)."""
    where = " in the approval channel" if r.state == ChangeState.REQUESTED else ""
    head = f"*Change request #{r.id}* — {escape(r.summary)}, asked by {who(r.requested_by)}{where}"
    body = state_line(r, note)
    commands = [c for item in r.items for c in item.commands]
    if commands and r.state in (ChangeState.REQUESTED, ChangeState.APPROVED, ChangeState.RUNNING) and len(r.items) == 1:
        body += "\n" + code_block(commands, budget=1500)
    return clip(f"{head}\n{body}", MAX_TEXT)


def pending_line(p: PendingChange) -> str:
    return (f"{ICON[ChangeState(p.state)]} Change request #{p.request_id} ({escape(p.action.replace('_', ' '))}) "
            f"{state_words(ChangeState(p.state))} — asked by {who(p.requested_by)}")


def unknown_outcome_notice(r: RequestView) -> dict[str, Any]:
    return message(f"Change request #{r.id}: outcome unknown", [section(clip(
        f":warning: *Change request #{r.id}* ({escape(r.summary)}): {escape(r.outcome or '')}", MAX_TEXT))])


# ----------------------------------------------------------------------------- reject reason
def reject_modal(r: RequestView, channel: str | None, ts: str | None) -> dict[str, Any]:
    meta = json.dumps({"rid": r.id, "ch": channel, "ts": ts}, separators=(",", ":"))
    return {
        "type": "modal", "callback_id": Callback.CHANGE_REJECT, "title": plain("Reject change"),
        "submit": plain("Reject"), "close": plain("Back"), "private_metadata": meta,
        "blocks": [
            section(clip(f"Reject request #{r.id}: *{escape(r.summary)}* (asked by {who(r.requested_by)})?", MAX_TEXT)),
            {"type": "input", "block_id": REASON_INPUT, "label": plain("Reason (the requester sees it)"),
             "element": {"type": "plain_text_input", "action_id": REASON_INPUT, "multiline": True, "max_length": 500}},
        ],
    }


def reject_meta(view: dict[str, Any]) -> tuple[int, str | None, str | None]:
    data = json.loads(view.get("private_metadata") or "{}")
    rid = str(data.get("rid", "")) if isinstance(data, dict) else ""
    if not (rid.isascii() and rid.isdigit()) or len(rid) > 9:  # not "²", nor past what the database holds
        raise ValueError("no request id")
    return int(data["rid"]), data.get("ch"), data.get("ts")


def reject_reason(view: dict[str, Any]) -> str:
    value: Any = view.get("state")
    for key in ("values", REASON_INPUT, REASON_INPUT, "value"):  # any level may be forged
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


# ----------------------------------------------------------------------------- audit
def audit_message(events: Sequence[AuditEvent], session_id: int | None) -> dict[str, Any]:
    title = f"Audit of session #{session_id}" if session_id else "Audit: latest events"
    lines = [f"`{_when(e.at)}` {who(e.actor)} *{escape(e.action)}* "
             f"{escape(e.object_type)} #{e.object_id} {'' if e.outcome == 'ok' else ':x:'} {escape((e.detail or '')[:200])}"
             for e in events]
    blocks = [header(title)]
    chunk: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in chunk) + len(line) > 2900:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    if chunk:
        blocks.append(section("\n".join(chunk)))
    if not lines:
        blocks.append(section("No events yet."))
    return message(title, blocks[:50])


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M:%SZ")


def _until(when: datetime, now: datetime | None = None) -> str:
    secs = int((when - (now or datetime.now(timezone.utc))).total_seconds())
    if secs <= 0:
        return "now"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"in {secs // size}{unit}"
    return f"in {secs}s"
