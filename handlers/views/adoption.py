"""Discovery and drift as Block Kit (pure functions): what a Discover found per router with its
Import buttons, the import modal, and the drift report with Adopt / Fix / Ignore per item."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.adoption.discovery import DIFFERS, KNOWN, NEW, RouterDiscovery
from bot.adoption.drift import GONE, UNKNOWN, report_payload
from bot.adoption.importer import ImportResult
from handlers.ids import Action, Callback
from handlers.views.common import (
    Block, actions, button, confirm_dialog, context, escape, escape_clipped, message, plain, section,
)

ROUTERS_SHOWN = 10  # routers with their own lines and buttons in one Discover answer (≤ 50 blocks)
NEIGHBORS_SHOWN = 8  # neighbor lines a router
OPTIONS_MAX = 100  # a multi-select holds 100 options
MESSAGE_BLOCKS = 50  # Slack's limit for one message
DRIFT_BLOCK = "drift"  # block ids: drift-<item id> (the item's line) and drift-<item id>-act (its buttons)


def _neighbor_line(n: Any) -> str:
    asn = f"AS{n.remote_asn}" if n.remote_asn else "no remote AS"
    desc = f" “{escape_clipped(n.description, 60)}”" if n.description else ""
    tail = f" — {escape_clipped('; '.join(n.differences), 200)}" if n.differences else ""
    sid = f" (#{n.session_id})" if n.session_id else ""
    mark = {NEW: ":new:", KNOWN: ":white_check_mark:", DIFFERS: ":warning:"}[n.status]
    return f"{mark} `{escape(n.peer_ip)}` {asn}{desc}{sid}{tail}"


def discovery_message(found: Sequence[RouterDiscovery], note: str | None = None) -> dict[str, Any]:
    """The answer to Discover: per router N new, M known, K differ, the first neighbors, and
    Import all / Choose… for the new ones."""
    blocks: list[Block] = []
    if note:
        blocks.append(section(note))
    for d in found[:ROUTERS_SHOWN]:
        if not d.ok:
            blocks.append(section(f":rotating_light: *{escape_clipped(d.router, 64)}*: {escape_clipped(d.error, 400)}"))
            continue
        head = (f"*{escape_clipped(d.router, 64)}*: {d.count(NEW)} new neighbor(s), {d.count(KNOWN)} already known, "
                f"{d.count(DIFFERS)} differ" + (f", {len(d.skipped)} not understood" if d.skipped else ""))
        shown = [n for n in d.neighbors if n.status != KNOWN][:NEIGHBORS_SHOWN]
        lines = [_neighbor_line(n) for n in shown]
        rest = sum(1 for n in d.neighbors if n.status != KNOWN) - len(shown)
        if rest > 0:
            lines.append(f"…and {rest} more (`peerbot routers discover {escape_clipped(d.router, 64)}` lists them all)")
        lines += [f":grey_question: `{escape_clipped(k.get('peer'), 60)}` not understood: "
                  f"{escape_clipped(k.get('reason'), 150)}" for k in d.skipped[:3]]
        blocks.append(section(head + ("\n" + "\n".join(lines) if lines else "")))
        if d.count(NEW):
            blocks += actions([
                button(f"Import {d.count(NEW)} new", Action.DISCOVER_IMPORT, str(d.router_id), style="primary",
                       confirm=confirm_dialog("Import sessions", f"Create {d.count(NEW)} session(s) from what "
                                              f"{escape_clipped(d.router, 40)} has configured? Nothing is sent to the "
                                              "router.", "Import")),
                button("Choose…", Action.DISCOVER_CHOOSE, str(d.router_id)),
            ])
    if len(found) > ROUTERS_SHOWN:
        blocks.append(context(f"…and {len(found) - ROUTERS_SHOWN} more routers: `/peering discover <router>` "
                              "shows one, `peerbot routers discover` all."))
    if not found:
        blocks.append(section("No routers in the inventory."))
    blocks.append(context("Discovery reads the routers' configuration; importing records sessions as the routers have "
                          "them and sends nothing to a router."))
    return message("Discovered BGP neighbors", blocks)


def import_note(result: ImportResult, user: str) -> str:
    """One line on what an import did, for the message it came from."""
    text = f":inbox_tray: <@{user}> imported from *{escape_clipped(result.router, 64)}*: {len(result.created)} session(s)"
    if result.existing:
        text += f", {len(result.existing)} already known"
    if result.created:
        text += " — " + ", ".join(f"#{sid} {escape_clipped(name, 40)} `{escape(ip)}`"
                                  for sid, ip, name in result.created[:10])
        if len(result.created) > 10:
            text += f" and {len(result.created) - 10} more"
    for ip, why in result.failed[:5]:
        text += f"\n:x: `{escape_clipped(ip, 60)}` not imported: {escape_clipped(why, 200)}"
    return text


def import_modal(d: RouterDiscovery, channel: str | None) -> dict[str, Any]:
    """Choose the new neighbors to import (at most 100 options; Import all takes the rest)."""
    new = [n for n in d.neighbors if n.status == NEW]
    options = [{"text": plain(f"{n.peer_ip} AS{n.remote_asn or '?'} {n.description or ''}".strip(), limit=75),
                "value": n.peer_ip} for n in new[:OPTIONS_MAX]]
    blocks: list[Block] = [section(f"New neighbors on *{escape_clipped(d.router, 64)}*: {len(new)}. The sessions "
                                   "are recorded as the router has them; nothing is sent to the router.")]
    if options:
        blocks.append({"type": "input", "block_id": "neighbors", "label": plain("Neighbors to import"),
                       "element": {"type": "multi_static_select", "action_id": "neighbors", "options": options,
                                   "placeholder": plain("Choose neighbors")}})
    if len(new) > OPTIONS_MAX:
        blocks.append(context(f"The first {OPTIONS_MAX} are listed: *Import all* takes every one."))
    view: dict[str, Any] = {"type": "modal", "callback_id": Callback.DISCOVER_IMPORT, "title": plain("Import sessions"),
                            "close": plain("Cancel"), "blocks": blocks,
                            "private_metadata": f"{d.router_id}:{channel or ''}"[:200]}
    if options:
        view["submit"] = plain("Import")
    return view


def discovery_modal(d: RouterDiscovery) -> dict[str, Any]:
    """Router details after Discover: what was found (the modal updated in place)."""
    msg = discovery_message([d])
    blocks = [b for b in msg["blocks"] if b.get("type") != "actions"]
    if d.ok and d.count(NEW):
        blocks.append(context("Import them with `/peering discover " + escape_clipped(d.router, 64)
                              + "` (its Import buttons) or `peerbot routers discover --import`."))
    return {"type": "modal", "callback_id": Callback.ROUTER_DETAILS, "title": plain(f"Router {d.router}", limit=24),
            "close": plain("Close"), "blocks": blocks[:100]}


# -- drift ---------------------------------------------------------------------------------------
def _item_text(i: dict[str, Any], router: str) -> str:
    ip, sid = escape(i.get("peer_ip")), i.get("session_id")
    if i.get("kind") == UNKNOWN:
        return f":new: `{ip}` is on {router} but not in peerbot"
    if i.get("kind") == GONE:
        return f":ghost: `{ip}` (session #{sid}) is configured in peerbot but not on {router}"
    lines = "\n".join(f"• {escape_clipped(d, 200)}" for d in (i.get("differences") or [])[:8])
    return f":warning: `{ip}` (session #{sid}) differs:\n{lines}"


def drift_blocks(p: dict[str, Any]) -> list[Block]:
    """The report of one router: each item with its buttons (see bot/adoption/drift.py)."""
    router = escape_clipped(p.get("router"), 64)
    items = p.get("items") or []
    total = int(p.get("total") or len(items))
    if not total:
        blocks: list[Block] = [section(f":white_check_mark: *{router}* is in step with peerbot again.")]
    else:
        blocks = [section(f":mag: *{router}* differs from peerbot in {total} place(s) (changed on the router by hand?). "
                          "*Adopt* takes the router's value into peerbot, *Fix* asks for a change that puts peerbot's "
                          "back (through approvals), *Ignore* until it changes again. Configure and Edit wait for it.")]
    for i in items:
        item_id = str(int(i.get("id") or 0))
        blocks.append(section(_item_text(i, router), block_id=f"{DRIFT_BLOCK}-{item_id}"))
        row = [button("Adopt", Action.DRIFT_ADOPT, item_id, style="primary")]
        if i.get("kind") != UNKNOWN:
            row.append(button("Fix", Action.DRIFT_FIX, item_id))
        row.append(button("Ignore", Action.DRIFT_IGNORE, item_id))
        blocks += actions(row, block_id=f"{DRIFT_BLOCK}-{item_id}-act")
    if total > len(items):
        blocks.append(context(f"…and {total - len(items)} more: `peerbot drift check {router}` lists them all."))
    skipped = p.get("skipped") or []
    if skipped:
        blocks.append(context(f":grey_question: {p.get('skipped_total', len(skipped))} neighbor(s) not understood: "
                              + "; ".join(f"`{escape_clipped(k.get('peer'), 40)}` {escape_clipped(k.get('reason'), 80)}"
                                          for k in skipped[:3])))
    return blocks


def drift_summary_message(reports: Sequence[Any]) -> dict[str, Any]:
    """The answer to `/peering drift` in one message (a response_url takes 5 messages at most):
    each router's report while the 50 blocks last, then a count of the rest."""
    blocks: list[Block] = []
    shown = 0
    for r in reports:
        part = ([section(f":rotating_light: *{escape_clipped(r.router, 64)}*: {escape_clipped(r.error, 300)}")]
                if not r.ok else drift_blocks(report_payload(r.router_id, r.router, r.items, ())))
        if len(blocks) + len(part) > MESSAGE_BLOCKS - 2:
            break
        blocks += part
        shown += 1
    if shown < len(reports):
        blocks.append(context(f"…and {len(reports) - shown} more router(s): `/peering drift <router>` shows one, "
                              "`peerbot drift check` all."))
    if not reports:
        blocks.append(section("No routers in the inventory."))
    total = sum(len(r.items) for r in reports)
    return message(f"{total} difference(s) between the routers and peerbot", blocks)


def drift_message(p: dict[str, Any]) -> dict[str, Any]:
    """A drift report as a message (the notice, or the answer to /peering drift)."""
    return message(f"{p.get('router')}: {p.get('total', 0)} difference(s) with peerbot", drift_blocks(p))


def decided(blocks: list[dict[str, Any]], item_id: int, note: str) -> list[dict[str, Any]]:
    """The report's blocks with one item decided: its buttons replaced by what was done."""
    out = []
    for b in blocks:
        if b.get("block_id") == f"{DRIFT_BLOCK}-{item_id}-act":
            out.append(context(note))
        else:
            out.append(b)
    return out
