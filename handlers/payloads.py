"""Reading the few fields listeners need from a Slack payload, defensively: a value that is not
what the button was built with (a forged or replayed payload) is refused with a clear message,
never a traceback. (HTTP mode checks the payload's shape first: bot/serve/payload_check.py; Socket
Mode payloads come here unchecked.)"""
from __future__ import annotations

from typing import Any

from bot.base.errors import InvalidInput

MAX_ID_DIGITS = 9  # ids are 32-bit integers in the database


class BadPayload(InvalidInput):
    def __init__(self, what: str):
        super().__init__({"payload": what})


def action_of(body: dict[str, Any]) -> dict[str, Any]:
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        raise BadPayload("This request carries no button.")
    return actions[0]


def user_of(body: dict[str, Any]) -> str:
    user = body.get("user")
    uid = user.get("id") if isinstance(user, dict) else body.get("user_id")
    if not isinstance(uid, str) or not uid.isalnum() or len(uid) > 32:
        raise BadPayload("This request carries no user.")
    return uid


def parse_id(value: object) -> int:
    """A database id from a button value (digits only, bounded)."""
    text = str(value or "")
    if not text.isascii() or not text.isdigit() or len(text) > MAX_ID_DIGITS or int(text) == 0:
        raise BadPayload("This button carries no valid id.")
    return int(text)


def slack_retry(headers: dict[str, Any]) -> int:
    """X-Slack-Retry-Num of a delivery Slack sends again because the first got no answer within
    3 s (Bolt's request headers: name -> list of values); 0 for a first delivery."""
    values = headers.get("x-slack-retry-num") or ["0"]
    value = str(values[0] if isinstance(values, list) else values)
    return int(value) if value.isascii() and value.isdigit() and len(value) < 6 else 0


def idempotency_key(body: dict[str, Any], action: dict[str, Any]) -> str:
    """Slack sends the same action_ts again when it retries (or a request is replayed)."""
    return f"{action.get('action_id', '')}:{user_of(body)}:{action.get('action_ts', '')}"[:160]
