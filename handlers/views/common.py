"""Small Block Kit builders and text helpers shared by the views."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

Block = dict[str, Any]

STATE_EMOJI = {
    "Established": ":large_green_circle:",
    "Admin down": ":black_circle:",
    "Not configured": ":white_circle:",
    "Idle": ":red_circle:",
    "Active": ":red_circle:",
    "Connect": ":large_orange_circle:",
    "OpenSent": ":large_orange_circle:",
    "OpenConfirm": ":large_orange_circle:",
}
MAX_TEXT = 3000  # section text limit
MAX_FIELD = 2000  # section field limit
# Block Kit limits (api.slack.com/reference/block-kit): one element over its limit makes Slack
# reject the whole message (invalid_blocks).
MAX_PLAIN = 150  # header text, placeholder
MAX_BUTTON = 75  # button text (option text too)
MAX_MODAL_TITLE = 24
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30  # confirm / deny of a confirm dialog


def escape(text: str | None) -> str:
    """Escape user text for mrkdwn: Slack only needs &, < and > escaped."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


_CUT_MARKUP = re.compile(r"(&[a-z]*|<[^>]*)$")


def clip_mrkdwn(text: str, limit: int) -> str:
    """`clip` for mrkdwn: never leaves half an `&amp;` entity or half a `<url|label>` link."""
    if len(text) <= limit:
        return text
    return _CUT_MARKUP.sub("", text[: limit - 1]) + "…"


def escape_clipped(text: str | None, limit: int) -> str:
    """`escape(text)` in at most `limit` characters, cut between whole characters (not entities)."""
    out = escape(text)
    if len(out) <= limit:
        return out
    return clip_mrkdwn(out, limit)


def state_label(state: str) -> str:
    # "Idle — prefix limit exceeded (100)": the emoji of its BGP state
    emoji = STATE_EMOJI.get(state) or STATE_EMOJI.get(state.split(" \u2014 ", 1)[0], ":grey_question:")
    return f"{emoji} {escape(state)}"  # a state is router output


def ago(when: datetime | None, now: datetime | None = None) -> str:
    if when is None:
        return "never"
    if when.tzinfo is None:  # SQLite returns naive UTC datetimes
        when = when.replace(tzinfo=timezone.utc)
    secs = int(((now or datetime.now(timezone.utc)) - when).total_seconds())
    if secs < 60:
        return f"{max(secs, 0)}s ago"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if secs >= size:
            return f"{secs // size}{unit} ago"
    return "now"


def plain(text: str, emoji: bool = True, limit: int = MAX_PLAIN) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": emoji}


def mrkdwn(text: str, limit: int = MAX_TEXT) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": clip_mrkdwn(text, limit)}


def section(text: str, **extra: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **extra}


def fields_section(pairs: list[tuple[str, str]]) -> Block:
    return {"type": "section", "fields": [mrkdwn(f"*{k}*\n{v}", MAX_FIELD) for k, v in pairs[:10]]}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def header(text: str) -> Block:
    return {"type": "header", "text": plain(text)}


def button(text: str, action_id: str, value: str = "", style: str | None = None, confirm: dict | None = None,
           url: str | None = None) -> dict[str, Any]:
    b: dict[str, Any] = {"type": "button", "text": plain(text, limit=MAX_BUTTON), "action_id": action_id}
    if value:
        b["value"] = value[:2000]
    if style:
        b["style"] = style
    if confirm:
        b["confirm"] = confirm
    if url:
        b["url"] = url
    return b


def confirm_dialog(title: str, text: str, ok: str, danger: bool = False) -> dict[str, Any]:
    """A button's confirm dialog. Keep user text in `text` short (see `escape_clipped`): the
    dialog holds only 300 characters, and clipping here may cut off the end of the question."""
    d = {"title": plain(title, limit=MAX_CONFIRM_TITLE), "text": mrkdwn(text, MAX_CONFIRM_TEXT),
         "confirm": plain(ok, limit=MAX_CONFIRM_BUTTON), "deny": plain("Cancel", limit=MAX_CONFIRM_BUTTON)}
    if danger:
        d["style"] = "danger"
    return d


def actions(elements: list[dict[str, Any]], block_id: str | None = None) -> list[Block]:
    """Actions blocks hold at most 25 elements; split longer rows."""
    out = []
    for i in range(0, len(elements), 25):
        blk: Block = {"type": "actions", "elements": elements[i : i + 25]}
        if block_id:
            blk["block_id"] = f"{block_id}-{i // 25}" if i else block_id
        out.append(blk)
    return out


def message(text: str, blocks: list[Block]) -> dict[str, Any]:
    """A message payload; `text` is the notification/accessibility fallback, given as plain text:
    Slack reads it as mrkdwn too (a router or exchange name "<!channel>" would notify everyone)."""
    assert len(blocks) <= 50, "Slack allows at most 50 blocks in a message"
    return {"text": clip(escape(text), 3000), "blocks": blocks}
