"""The App Home tab (views.publish): a summary that stays small whatever the fleet's size."""
from __future__ import annotations

from typing import Any

from bot.home.summary import HomeSummary
from handlers.ids import Action
from handlers.views.common import actions, ago, button, context, escape, escape_clipped, header, section, state_label

MAX_HOME_BLOCKS = 100
HOME_REFRESH = "home"  # the value of the Refresh button on the Home tab (handlers/router_actions.py)


def home_view(h: HomeSummary, discover: bool = True) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [header("peerbot: BGP sessions")]
    blocks += actions([button("Add Session", Action.ADD_SESSION, style="primary"),
                       button("Refresh", Action.LIST_REFRESH, HOME_REFRESH)]
                      + ([button("Discover sessions", Action.DISCOVER_ALL)] if discover else []))
    counts = " · ".join(f"{state_label(s or 'Not polled')}: *{n}*" for s, n in h.by_state) or "No sessions yet."
    blocks += [section(f"*{h.total_sessions} sessions*\n{counts}"), {"type": "divider"}]

    title = f"*Routers* ({h.routers_total}" + (f", :rotating_light: {h.routers_failing} failing)" if h.routers_failing else ")")
    if h.drift_open:
        title += f" · :mag: {h.drift_open} difference(s) with the routers' configuration (`/peering drift`)"
    lines = [_router_line(r) for r in h.routers]
    blocks.append(section(title + ("\n" + "\n".join(lines) if lines else "\nNo routers.")))
    if h.routers_total > len(h.routers):
        blocks.append(context(f"…and {h.routers_total - len(h.routers)} more; `/peering refresh <router>` polls one."))
    blocks.append({"type": "divider"})

    lines = [f"{state_label(c.state or 'Not polled')} *{escape_clipped(c.peer_name, 60)}* `{escape(c.peer_ip)}` on "
             f"{escape_clipped(c.router_name, 40)}: {c.changes} change(s), last {ago(c.last_change, h.now)} "
             f"(`/peering show {c.session_id}`)" for c in h.changed]
    blocks.append(section(f"*Changed in the last 24 h* ({h.changed_total})"
                          + ("\n" + "\n".join(lines) if lines else "\nNothing changed.")))
    if h.changed_total > len(h.changed):
        blocks.append(context(f"…and {h.changed_total - len(h.changed)} more."))
    blocks.append({"type": "divider"})

    lines = [f"#{r.id} {escape_clipped(r.summary, 120)} ({r.state.value}, asked by <@{r.requested_by}>)"
             for r in h.pending]
    blocks.append(section(f"*Change requests open* ({h.pending_total})"
                          + ("\n" + "\n".join(lines) if lines else "\nNone.")))
    if h.pending_total > len(h.pending):
        blocks.append(context(f"…and {h.pending_total - len(h.pending)} more."))
    blocks.append(context(f"Updated {h.now:%Y-%m-%d %H:%M} UTC"))
    assert len(blocks) <= MAX_HOME_BLOCKS
    return {"type": "home", "blocks": blocks}


def _router_line(r: Any) -> str:
    head = f"*{escape_clipped(r.name, 64)}* ({r.sessions} sessions): polled {ago(r.last_polled)}"
    if r.last_error:
        return f":rotating_light: {head}; {escape_clipped(r.last_error, 200)}"
    return head
