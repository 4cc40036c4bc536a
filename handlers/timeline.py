"""Upload a session's 7-day state timeline image (files_upload_v2). Runs on the worker pool:
the picture is drawn in a child process (bot.polling.timeline.render_in_child), and the upload is three
HTTP calls."""
from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot.polling.history import SessionHistory
from bot.polling.timeline import render_in_child

log = logging.getLogger(__name__)


def upload_timeline(client: WebClient, channel: str, history: SessionHistory, label: str,
                    thread_ts: str | None = None) -> bool:
    try:
        png = render_in_child(history, f"{label}: last 7 days (UTC)")
    except Exception as exc:  # noqa: BLE001 - the text answer stands without its picture
        log.warning("session #%s: timeline not drawn (%s)", history.session_id, type(exc).__name__)
        return False
    try:
        client.files_upload_v2(channel=channel, thread_ts=thread_ts, file=png,
                               filename=f"session-{history.session_id}-7d.png",
                               title=f"Session #{history.session_id}: 7-day state timeline",
                               alt_txt=f"{label}: BGP state over the last 7 days")
    except Exception as exc:  # noqa: BLE001 - the text answer stands without its picture
        error = getattr(getattr(exc, "response", None), "get", lambda _k: None)("error") or type(exc).__name__
        log.warning("session #%s: timeline not uploaded to %s (%s)", history.session_id, channel, error)
        return False
    return True
