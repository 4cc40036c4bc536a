"""Views of router changes: result notes, the Config Manager modal, bulk and poll summaries.

Pure functions: service results in, mrkdwn / Block Kit dicts out.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.changes.executor import ChangeResult
from bot.polling.poller import PollResult
from bot.changes.router_config import Plan
from bot.sessions.views import SessionView
from handlers.ids import Action, Callback
from handlers.views.common import MAX_TEXT, clip, context, escape, message, plain, section

VERB = {"configure": "Configure", "admin_down": "Admin Down", "admin_up": "Admin Up", "deconfigure": "Delete",
        "refresh": "Refresh"}
COMMANDS_BUDGET = 1800  # characters of commands in a note (a section holds 3000 in all)
INPUT_MAX = 3000  # plain_text_input max_length


def code_block(lines: Sequence[str], budget: int = COMMANDS_BUDGET) -> str:
    """Lines in a ``` block, cut to `budget` characters on a line boundary (with a count of the rest)."""
    shown: list[str] = []
    used = 0
    for i, line in enumerate(lines):
        text = escape(line).replace("```", "'''")
        if used + len(text) + 1 > budget:
            shown.append(f"… ({len(lines) - i} more line(s))")
            break
        shown.append(text)
        used += len(text) + 1
    return "```\n" + "\n".join(shown) + "\n```"


def in_progress_note(action: str, actor: str, commands: Sequence[str] | None = None) -> str:
    """While the router is being changed; with `commands` (masked): the exact lines being pushed."""
    text = f":hourglass_flowing_sand: *{VERB.get(action, action)}* requested by <@{actor}>: talking to the router…"
    if commands:
        text += "\n*Pushing:*\n" + code_block(commands)
    return clip(text, MAX_TEXT)


def result_note(res: ChangeResult, actor: str) -> str:
    verb = VERB.get(res.action, res.action)
    if res.ok:
        text = f":white_check_mark: *{verb}* by <@{actor}>: {escape(res.message)}"
        label = "Commands sent"
    else:
        text = f":x: *{verb} failed* (<@{actor}>): {escape(res.message)}"
        label = "Commands"
    if res.commands:
        text += f"\n*{label}:*\n" + code_block(res.commands)
    return clip(text, MAX_TEXT)


def follow_note(base: str, view: SessionView, done: bool) -> str:
    tail = (f"\n:mag: BGP state now *{escape(view.bgp_state or 'unknown')}*" if done else
            f"\n:mag: still *{escape(view.bgp_state or 'unknown')}* after waiting; use Refresh to check again")
    return clip(base + tail, MAX_TEXT)


def refresh_note(view: SessionView, actor: str) -> str:
    return f":arrows_counterclockwise: Refreshed from {escape(view.router_name)} by <@{actor}>: BGP state *{escape(view.bgp_state or 'not on the router')}*"


def error_note(action: str, text: str) -> str:
    return clip(f":x: *{VERB.get(action, action)} failed:* {escape(text)}", MAX_TEXT)


def deleted_message(res: ChangeResult, before: SessionView, actor: str) -> dict[str, Any]:
    text = (f":wastebasket: Session #{before.id} with *{escape(before.peer_name)}* AS{before.peer_asn} "
            f"(`{before.peer_ip}` on {escape(before.router_name)}) was deleted by <@{actor}>.\n{escape(res.message)}")
    if res.commands:
        text += "\n*Commands sent:*\n" + code_block(res.commands)
    return message(f"Session #{before.id} deleted", [section(clip(text, MAX_TEXT))])


# ----------------------------------------------------------------------------- config manager
@dataclass(frozen=True)
class ConfigManagerMeta:
    """Kept in the modal's private_metadata: which session, and the message to update afterwards."""

    session_id: int
    channel: str | None = None
    message_ts: str | None = None

    def dump(self) -> str:
        return json.dumps({"sid": self.session_id, "ch": self.channel, "ts": self.message_ts}, separators=(",", ":"))

    @classmethod
    def load(cls, text: str) -> ConfigManagerMeta:
        data = json.loads(text or "{}")
        sid = data["sid"]  # a forged id past 32 bits would overflow the database driver: refuse it here
        if not isinstance(sid, int) or isinstance(sid, bool) or not 0 < sid < 2**31:
            raise ValueError("no session id")
        channel, ts = data.get("ch"), data.get("ts")
        return cls(sid, channel if isinstance(channel, str) else None, ts if isinstance(ts, str) else None)


def config_manager_modal(p: Plan, v: SessionView, meta: ConfigManagerMeta) -> dict[str, Any]:
    text = "\n".join(p.masked)
    intro = (f"Commands for *{escape(v.peer_name)}* AS{v.peer_asn} `{v.peer_ip}` on *{escape(v.router_name)}* "
             f"({v.router_platform}). Copy them, or edit and press *Push*: lines may only touch this neighbor"
             + (" (the MD5 key is shown as `********` and put back when pushing)." if v.has_md5 else "."))
    blocks: list[dict[str, Any]] = [section(intro)]
    modal: dict[str, Any] = {
        "type": "modal", "callback_id": Callback.CONFIG_MANAGER, "title": plain("Config Manager"),
        "close": plain("Cancel"), "private_metadata": meta.dump(), "blocks": blocks,
    }
    if len(text) <= INPUT_MAX:
        blocks.append({
            "type": "input", "block_id": Action.CONFIG_COMMANDS, "label": plain(f"Commands for {v.router_name}"),
            "element": {"type": "plain_text_input", "action_id": Action.CONFIG_COMMANDS, "multiline": True,
                        "initial_value": text, "max_length": INPUT_MAX},
        })
        blocks.append(context("Pushing uses the same path as Configure: one connection, save, read back, audit."))
        modal["submit"] = plain("Push")
    else:  # too long to edit in Slack: show it to copy, in pieces that fit a section
        blocks.append(context("Too long to edit here: copy them, or use Configure to push them as rendered."))
        chunk: list[str] = []
        for line in p.masked + [None]:  # type: ignore[list-item]
            if line is None or sum(len(x) + 1 for x in chunk) + len(line) > 2800:
                if chunk:
                    blocks.append(section("```\n" + escape("\n".join(chunk)) + "\n```"))
                chunk = []
            if line is not None:
                chunk.append(line)
        del blocks[45:]
    return modal


def commands_value(view: dict[str, Any]) -> str:
    value: Any = view.get("state")
    for key in ("values", Action.CONFIG_COMMANDS, Action.CONFIG_COMMANDS, "value"):  # any level may be forged
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, str) else ""


# ----------------------------------------------------------------------------- bulk, polling
def bulk_summary(action: str, results: Sequence[ChangeResult], names: dict[int, str], actor: str) -> str:
    ok = sum(1 for r in results if r.ok)
    lines = [f"*Bulk {VERB.get(action, action)}* by <@{actor}>: {ok} of {len(results)} succeeded."]
    for r in results:
        icon = ":white_check_mark:" if r.ok else ":x:"
        lines.append(f"{icon} #{r.session_id} {escape(names.get(r.session_id, ''))}: {escape(r.message)}")
    return clip("\n".join(lines), MAX_TEXT)


def poll_summary(results: Sequence[PollResult], actor: str | None = None) -> str:
    by = f" by <@{actor}>" if actor else ""
    lines = [f":arrows_counterclockwise: *Refreshed*{by}:"]
    for r in results:
        if r.skipped:
            lines.append(f":hourglass_flowing_sand: {escape(r.message)}")
            continue
        if not r.ok:
            lines.append(f":x: {escape(r.message)}")
            continue
        lines.append(f":white_check_mark: {escape(r.message)}")
        for c in r.changes[:20]:
            lines.append(f"  • {escape(c.peer_name)} `{c.peer_ip}`: {escape(c.old or 'unknown')} → *{escape(c.new or 'unknown')}*")
        if len(r.changes) > 20:
            lines.append(f"  • … and {len(r.changes) - 20} more")
    return clip("\n".join(lines), MAX_TEXT)


def with_note(msg: dict[str, Any], note: str) -> dict[str, Any]:
    """A copy of a message with a note section right under its header (or first)."""
    blocks = list(msg["blocks"])
    at = 1 if blocks and blocks[0].get("type") == "header" else 0
    blocks.insert(at, section(note))
    return {**msg, "blocks": blocks[:50]}  # msg["text"] is escaped already

