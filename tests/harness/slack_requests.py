"""Post requests at the bot's HTTP endpoint exactly as Slack does: signed, form-encoded,
with the payload shapes of ../shared/slack-payloads/."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import requests

PAYLOADS = Path(__file__).resolve().parents[2].parent / "shared" / "slack-payloads"
LOCAL_PAYLOADS = Path(__file__).resolve().parent / "payloads"


def load_payload(name: str) -> Any:
    """A real payload shape: from shared/ when present, else the copy kept with the tests."""
    for base in (LOCAL_PAYLOADS, PAYLOADS):
        p = base / name
        if p.exists():
            return p.read_text() if name.endswith(".txt") else json.loads(p.read_text())
    raise FileNotFoundError(name)


def sign(secret: str, body: str, timestamp: int) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    def __init__(self, endpoint: str, signing_secret: str, response_url: str):
        self.endpoint = endpoint
        self.secret = signing_secret
        self.response_url = response_url
        self.http = requests.Session()

    def post(self, body: str, *, content_type: str = "application/x-www-form-urlencoded",
             timestamp: int | None = None, signature: str | None = None, signed: bool = True,
             headers: dict[str, str] | None = None) -> requests.Response:
        """`headers`: more of them, e.g. X-Slack-Retry-Num on a retry."""
        ts = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(ts), **(headers or {})}
        if signed:
            headers["X-Slack-Signature"] = signature or sign(self.secret, body, ts)
        return self.http.post(self.endpoint, data=body.encode(), headers=headers, timeout=10)

    # -- slash command ---------------------------------------------------------------------
    def command(self, text: str, *, user: str = "U111", channel: str = "C111", **kw: Any) -> requests.Response:
        fields = dict(parse_qsl(load_payload("slash_command.txt")))
        fields.update(command="/peering", text=text, user_id=user, channel_id=channel,
                      response_url=self.response_url, trigger_id=f"{int(time.time())}.111.trigger")
        return self.post(urlencode(fields), **kw)

    # -- Events API ------------------------------------------------------------------------
    def event(self, event: dict[str, Any], **kw: Any) -> requests.Response:
        """An Events API request (shape: app_home_opened.json) carrying `event`, JSON and signed."""
        p = copy.deepcopy(load_payload("app_home_opened.json"))
        p["event"] = {**p["event"], **event}
        p["event_id"] = f"Ev{int(time.time() * 1000)}"
        return self.post(json.dumps(p), content_type="application/json", **kw)

    def home_opened(self, user: str = "U111", tab: str = "home") -> requests.Response:
        return self.event({"user": user, "tab": tab})

    # -- interactivity ---------------------------------------------------------------------
    def interactive(self, payload: dict[str, Any], **kw: Any) -> requests.Response:
        return self.post(urlencode({"payload": json.dumps(payload)}), **kw)

    def button(self, action_id: str, value: str = "", *, user: str = "U111", channel: str = "C111",
               message_ts: str = "1700000000.000001", blocks: list | None = None, **kw: Any) -> requests.Response:
        """A button click on a message (shape: block_actions_message.json)."""
        return self.interactive(self.button_payload(action_id, value, user=user, channel=channel,
                                                    message_ts=message_ts, blocks=blocks), **kw)

    def button_payload(self, action_id: str, value: str = "", *, user: str = "U111", channel: str = "C111",
                       message_ts: str = "1700000000.000001", blocks: list | None = None) -> dict[str, Any]:
        """The payload of one click (its own action_ts): send it again with `interactive` for a retry."""
        p = copy.deepcopy(load_payload("block_actions_message.json"))
        p["user"] = {"id": user, "username": "user", "name": "user", "team_id": "T111"}
        p["team"] = {"id": "T111", "domain": "test"}
        p["container"].update(channel_id=channel, message_ts=message_ts)
        p["channel"] = {"id": channel, "name": "netops"}
        p["message"]["ts"] = message_ts
        if blocks is not None:
            p["message"]["blocks"] = blocks
        p["response_url"] = self.response_url
        p["trigger_id"] = f"{int(time.time())}.222.trigger"
        p["actions"] = [{"action_id": action_id, "block_id": "b", "text": {"type": "plain_text", "text": "x"},
                         "value": value, "type": "button", "action_ts": f"{time.time():.6f}"}]
        return p

    def view_submission(self, view: dict[str, Any], values: dict[str, Any], *, user: str = "U111",
                        view_id: str = "V00001", **kw: Any) -> requests.Response:
        """Submit a modal (shape: view_submission.json) with `values` as view.state.values."""
        p = copy.deepcopy(load_payload("view_submission.json"))
        p["user"] = {"id": user, "username": "user", "name": "user", "team_id": "T111"}
        p["trigger_id"] = f"{int(time.time())}.333.trigger"
        p["view"].update({k: v for k, v in view.items() if k in (
            "blocks", "callback_id", "private_metadata", "title", "submit", "close", "external_id")})
        p["view"]["id"] = view_id
        p["view"]["state"] = {"values": values}
        return self.interactive(p, **kw)

    def view_action(self, view: dict[str, Any], action: dict[str, Any], values: dict[str, Any] | None = None, *,
                    user: str = "U111", view_id: str = "V00001") -> requests.Response:
        """An element in a modal was used (shape: block_actions_modal.json)."""
        p = copy.deepcopy(load_payload("block_actions_modal.json"))
        p["user"] = {"id": user, "username": "user", "name": "user", "team_id": "T111"}
        p["trigger_id"] = f"{int(time.time())}.444.trigger"
        p["view"] = {**p["view"], **{k: v for k, v in view.items() if k in (
            "blocks", "callback_id", "private_metadata", "title", "submit", "close")}}
        p["view"]["id"] = view_id
        p["view"]["state"] = {"values": values or {}}
        p["actions"] = [{"block_id": "b", "action_ts": f"{time.time():.6f}", **action}]
        return self.interactive(p)

    def suggestion(self, action_id: str, value: str, *, block_id: str, view: dict[str, Any] | None = None,
                   user: str = "U111") -> requests.Response:
        """Type-ahead in an external_select (shape: block_suggestion.json)."""
        p = copy.deepcopy(load_payload("block_suggestion.json"))
        p["user"] = {"id": user, "username": "user", "name": "user", "team_id": "T111"}
        p["action_id"], p["block_id"], p["value"] = action_id, block_id, value
        if view:
            p["view"] = {**p["view"], **{k: v for k, v in view.items() if k in ("blocks", "callback_id", "private_metadata")}}
        return self.interactive(p)
