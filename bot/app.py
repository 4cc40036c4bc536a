"""Build the Bolt App: client, listeners, and the global error handler."""
from __future__ import annotations

import logging
import uuid

from slack_bolt import App
from slack_bolt.response import BoltResponse
from slack_sdk import WebClient

from bot.core import Core
from bot.errors import PeerbotError

log = logging.getLogger("peerbot.app")


def build_app(core: Core, *, socket_mode: bool = False) -> App:
    s = core.settings
    token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else None
    client = WebClient(token=token, base_url=s.slack_api_url)
    app = App(
        client=client,
        signing_secret=s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else None,
        # Socket Mode has no HTTP signature to check.
        request_verification_enabled=not socket_mode,
        logger=logging.getLogger("peerbot.bolt"),
    )

    @app.error
    def on_error(error: Exception, body: dict, logger: logging.Logger) -> BoltResponse | None:
        # Listeners report their own failures; this is the last line for anything that escaped.
        if isinstance(error, PeerbotError):
            log.info("user error: %s", error)
            return BoltResponse(status=200, body=str(error))
        ref = uuid.uuid4().hex[:8]
        log.error("unhandled error ref=%s in %s", ref, body.get("type") or body.get("command"), exc_info=error)
        return BoltResponse(status=200, body=f"Something went wrong (ref {ref}).")

    from handlers import register_all

    app.ui = register_all(app, core)  # type: ignore[attr-defined]
    return app
