"""Channel notices from scheduled polls."""
from __future__ import annotations

from typing import Any

from bot.services.polling import PollResult
from handlers.views.common import context, escape, message, section, state_label

MAX_LINES = 40


def poll_notice(result: PollResult, previous_error: str | None) -> dict[str, Any] | None:
    """A message for a router's poll, or None when there is nothing new to say."""
    if not result.ok:
        if previous_error == result.message:
            return None  # already reported; say it again only after it recovers
        return message(f"{result.router_name} unreachable", [section(f":rotating_light: *Polling failed*: {escape(result.message)}")])
    lines = []
    for c in result.changes[:MAX_LINES]:
        old, new = c.old or "Unknown", c.new or "Unknown"
        lines.append(f"{state_label(new)} *{escape(c.peer_name)}* `{c.peer_ip}` on {escape(c.router_name)}: "
                     f"{escape(old)} → *{escape(new)}* (session #{c.session_id})")
    if previous_error and not lines:
        return message(f"{result.router_name} reachable again", [section(f":white_check_mark: {escape(result.router_name)} is reachable again.")])
    if not lines:
        return None
    blocks = [section("\n".join(lines))]
    if len(result.changes) > MAX_LINES:
        blocks.append(context(f"…and {len(result.changes) - MAX_LINES} more; `/peering list state:down` shows them."))
    return message(f"BGP state changes on {result.router_name}", blocks)
