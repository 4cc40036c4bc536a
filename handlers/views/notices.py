"""Channel notices (bot/notices/outbox.py decides them, bot/notices/sender.py posts them)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from bot.notices.outbox import OutgoingNotice
from handlers.views.adoption import drift_message
from handlers.views.common import ago, context, escape, escape_clipped, message, section, state_label

MAX_LINES = 25  # sessions listed in a summary; the rest are counted


def render_notice(n: OutgoingNotice) -> dict[str, Any]:
    return _RENDERERS[n.kind](n.payload)


def _who(p: dict[str, Any]) -> str:
    return f"*{escape_clipped(p.get('peer'), 80)}* `{escape(p.get('ip'))}`"


def _state(s: str | None) -> str:
    return s or "Unknown"


def _change(p: dict[str, Any]) -> dict[str, Any]:
    old, new = _state(p.get("old")), _state(p.get("new"))
    text = (f"{state_label(new)} {_who(p)} on {escape_clipped(p.get('router'), 64)}: "
            f"{escape(old)} → *{escape(new)}*")
    notes = [f"session #{p.get('session_id')}"]
    since = _when(p.get("since"))
    if since is not None:
        notes.append(f"{escape(old)} since {ago(since).removesuffix(' ago')}")
    if p.get("reason") and new != "Established":
        notes.append(escape_clipped(p["reason"], 300))
    return message(f"{p.get('peer')} {p.get('ip')}: {old} → {new}", [section(text), context(" · ".join(notes))])


def _flapping(p: dict[str, Any]) -> dict[str, Any]:
    text = (f":warning: {_who(p)} is *flapping*: {p.get('changes')} state changes in {p.get('minutes')} min "
            f"(now {escape(_state(p.get('new')))}). Quiet until it has been stable for {p.get('minutes')} min.")
    return message(f"{p.get('peer')} {p.get('ip')} is flapping", [section(text)])


def _stable(p: dict[str, Any]) -> dict[str, Any]:
    text = (f":white_check_mark: {_who(p)} is stable again: no change for {p.get('minutes')} min "
            f"(now {escape(_state(p.get('state')))}).")
    return message(f"{p.get('peer')} {p.get('ip')} is stable again", [section(text)])


def _summary(p: dict[str, Any]) -> dict[str, Any]:
    router, sessions = escape_clipped(p.get("router"), 64), p.get("sessions") or []
    head = f":rotating_light: *{router}*: {p.get('count')} sessions changed state at once"
    if p.get("lost"):
        head += f", {p['lost']} of them were Established"
    lines = [f"{state_label(_state(s.get('new')))} *{escape_clipped(s.get('peer'), 60)}* `{escape(s.get('ip'))}`: "
             f"{escape(_state(s.get('old')))} → {escape(_state(s.get('new')))}" for s in sessions[:MAX_LINES]]
    blocks = [section(head), section("\n".join(lines))]
    more = int(p.get("count") or 0) - len(lines)
    if more > 0:
        blocks.append(context(f"…and {more} more; `/peering list router:{router}` shows them all."))
    return message(f"{p.get('router')}: {p.get('count')} sessions changed state", blocks)


def _unreachable(p: dict[str, Any]) -> dict[str, Any]:
    router = escape_clipped(p.get("router"), 64)
    text = f":rotating_light: *{router} is unreachable*: {escape_clipped(p.get('error'), 500)}"
    blocks = [section(text)]
    if p.get("count"):
        ips = ", ".join(f"`{escape(s.get('ip'))}`" for s in (p.get("sessions") or [])[:MAX_LINES])
        more = int(p["count"]) - min(len(p.get("sessions") or []), MAX_LINES)
        blocks.append(context(f"{p['count']} session(s) were Established and are not watched until it answers: {ips}"
                              + (f" …and {more} more" if more > 0 else "")))
    return message(f"{p.get('router')} unreachable", blocks)


def _reachable(p: dict[str, Any]) -> dict[str, Any]:
    router = escape_clipped(p.get("router"), 64)
    return message(f"{p.get('router')} reachable again", [section(f":white_check_mark: {router} is reachable again.")])


def _when(iso: str | None) -> datetime | None:
    if not iso:
        return None
    at = datetime.fromisoformat(iso)
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


_RENDERERS = {"change": _change, "flapping": _flapping, "stable": _stable, "summary": _summary,
              "unreachable": _unreachable, "reachable": _reachable, "drift": drift_message}
