"""A session's past for /peering show: time in state, flaps over 24 h, the last changes."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.polling.history import SessionHistory
from handlers.views.common import Block, context, escape, escape_clipped, section, state_label


def duration(d: timedelta) -> str:
    secs = max(int(d.total_seconds()), 0)
    days, rest = divmod(secs, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m" if minutes else f"{secs}s"


def history_blocks(h: SessionHistory) -> list[Block]:
    in_state = f"{duration(h.time_in_state)} in {escape(h.state or 'no state')}" if h.time_in_state else "time in state unknown"
    head = f"*History*: {in_state} · {h.changes_24h} change(s) in the last 24 h"
    if not h.recent:
        return [section(head + "\nNo state change recorded yet.")]
    lines = []
    for e in h.recent:
        line = (f"`{e.at:%m-%d %H:%M}` {escape(e.old or 'Unknown')} → {state_label(e.new or 'Unknown')}"
                + (f" ({e.prefixes_accepted} pfx)" if e.prefixes_accepted is not None and e.new == "Established" else ""))
        if e.reason:
            line += f" · {escape_clipped(e.reason, 150)}"
        lines.append(line)
    return [section(head + "\n" + "\n".join(lines)), context("Times in UTC; the 7-day timeline follows as an image.")]


def with_history(message: dict[str, Any], h: SessionHistory) -> dict[str, Any]:
    """The session detail message with the history blocks above its buttons."""
    blocks = list(message["blocks"])
    at = next((i for i, b in enumerate(blocks) if b.get("type") == "actions"), len(blocks))
    blocks[at:at] = history_blocks(h)
    return {**message, "blocks": blocks[:50]}
