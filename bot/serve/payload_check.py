"""The shape check of a signed Slack request body, made before Bolt parses it.

A valid signature says who sent a body, not that it is a payload the listeners can read: a
non-UTF-8 body, `payload=not json`, `payload=[]` or `"actions": []` made Bolt or a listener
raise (HTTP 500 with a traceback). `check_body` parses the body the way Bolt does
(slack_bolt.request.internals.parse_body) and checks the few fields that Bolt's matchers and
our listeners index without looking; anything else is refused with a short reason that quotes
no content (a view submission may carry an MD5 key).
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl


class MalformedPayload(ValueError):
    """The body is not a Slack payload of the expected shape; the message is safe to log."""


def check_body(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """Parse `raw` as Bolt will and check its shape; return the parsed payload."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayload("body is not UTF-8") from None
    if not text:
        return {}
    if content_type == "application/json" or text.startswith("{"):
        payload = _json(text, "JSON body")
    else:
        try:
            form = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise MalformedPayload("body is not form-encoded") from None
        fields = dict(form)
        if "payload" not in fields:
            if "command" in fields and not fields.get("response_url"):  # the only way to answer it
                raise MalformedPayload("slash command without response_url")
            return fields  # a slash command (all values are strings by construction)
        payload = _json(fields["payload"], "payload")
    _check_payload(payload)
    return payload


def _json(text: str, what: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedPayload(f"{what} is not JSON") from None
    except RecursionError:  # [[[[...]]]] 100,000 deep fits in 1 MB
        raise MalformedPayload(f"{what} is nested too deeply") from None
    if not isinstance(value, dict):
        raise MalformedPayload(f"{what} is a JSON {type(value).__name__}, not an object")
    return value


def _check_payload(p: dict[str, Any]) -> None:
    _optional(p, "type", str, "type")
    if "user" in p:
        user = p["user"]
        if not isinstance(user, dict):
            raise MalformedPayload("user is not an object")
        _optional(user, "id", str, "user.id")
    kind = p.get("type")
    if kind == "block_actions":
        actions = p.get("actions")
        if not isinstance(actions, list) or not actions:
            raise MalformedPayload("block_actions without actions")
        for i, action in enumerate(actions):
            if not isinstance(action, dict):
                raise MalformedPayload(f"actions[{i}] is not an object")
            _required(action, "action_id", str, f"actions[{i}].action_id")
            for key in ("block_id", "value", "type"):
                _optional(action, key, str, f"actions[{i}].{key}")
            _optional(action, "selected_option", dict, f"actions[{i}].selected_option")
            _optional(action, "selected_options", list, f"actions[{i}].selected_options")
        _optional(p, "view", dict, "view")
    elif kind in ("view_submission", "view_closed"):
        view = p.get("view")
        if not isinstance(view, dict):
            raise MalformedPayload(f"{kind} without a view")
        for key in ("id", "callback_id", "private_metadata", "hash"):
            _optional(view, key, str, f"view.{key}")
        state = view.get("state", {})
        if not isinstance(state, dict) or not isinstance(state.get("values", {}), dict):
            raise MalformedPayload("view.state.values is not an object")
    elif kind == "event_callback":
        event = p.get("event")
        if not isinstance(event, dict):
            raise MalformedPayload("event_callback without an event object")
        _required(event, "type", str, "event.type")
        _optional(event, "user", str, "event.user")
    elif kind == "block_suggestion":
        _required(p, "action_id", str, "action_id")
        _required(p, "value", str, "value")
        _optional(p, "block_id", str, "block_id")
        _optional(p, "view", dict, "view")


def _required(obj: dict[str, Any], key: str, kind: type, where: str) -> None:
    if not isinstance(obj.get(key), kind):
        raise MalformedPayload(f"{where} is missing or not a {_name(kind)}")


def _optional(obj: dict[str, Any], key: str, kind: type, where: str) -> None:
    if key in obj and obj[key] is not None and not isinstance(obj[key], kind):
        raise MalformedPayload(f"{where} is not a {_name(kind)}")


def _name(kind: type) -> str:
    return {str: "string", dict: "object", list: "list"}[kind]
