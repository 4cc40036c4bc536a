"""One error path: domain errors are shown as they are; anything else gets a reference id
that is also in the log, never the raw exception text (it may hold hosts or secrets)."""
from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError

from bot.base.errors import InvalidInput, PeerbotError
from handlers.views.sessions import error_message

log = logging.getLogger("peerbot.handlers")


def user_text(exc: BaseException) -> str:
    if isinstance(exc, InvalidInput):
        return "; ".join(exc.errors.values())
    if isinstance(exc, PeerbotError):
        return str(exc)
    if isinstance(exc, SlackApiError):  # Slack's error code says what went wrong and holds no secret
        code = str((exc.response or {}).get("error") or "unknown error")[:60]
        log.warning("Slack API call failed: %s", code)
        return f"Slack refused it ({code})."
    ref = uuid.uuid4().hex[:8]
    log.error("unhandled error ref=%s: %s", ref, type(exc).__name__, exc_info=exc)
    return f"Something went wrong (ref {ref}). The error is in the bot's log."


def reports_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For listeners that work after their ack: report a failure to the user through `respond`
    instead of losing it."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every failure must reach the user
            respond = kwargs.get("respond")
            text = user_text(exc)
            if respond is not None:
                try:
                    respond(response_type="ephemeral", replace_original=False, **error_message(text))
                except Exception:  # noqa: BLE001
                    log.exception("could not report an error to the user")
            return None

    return wrapper
