"""Build the Bolt App: client, listeners, and the global error handler."""
from __future__ import annotations

import logging
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_bolt.response import BoltResponse
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from bot.core import Core
from bot.base.errors import PeerbotError

log = logging.getLogger("peerbot.app")


def build_app(core: Core, *, socket_mode: bool = False, start_runner: bool = True) -> App:
    s = core.settings
    token = s.slack_bot_token.get_secret_value() if s.slack_bot_token else None
    app = App(
        # The token, not a WebClient of ours: left without `token`, Bolt reads SLACK_BOT_TOKEN from
        # the environment itself and then warns at every start that the client's token wins.
        token=token,
        # No auth.test inside a constructor: `serve` calls it (bot/serve/slack_status.py) and tells a
        # rejected token from an unreachable Slack; Bolt checks again on the first request.
        token_verification_enabled=False,
        signing_secret=s.slack_signing_secret.get_secret_value() if s.slack_signing_secret else None,
        # Socket Mode has no HTTP signature to check.
        request_verification_enabled=not socket_mode,
        logger=logging.getLogger("peerbot.bolt"),
        # HTTP mode: listeners run on bot/serve/wsgi.py's pool, which answers at the ack() itself
        # (AckSignal), not at Bolt's next 10 ms poll for it. Socket Mode keeps Bolt's own runner.
        process_before_response=not socket_mode,
        # Socket Mode's listeners (and any lazy listener); Bolt's default is 5 threads
        listener_executor=ThreadPoolExecutor(16, thread_name_prefix="bolt-listener"),
    )
    client = app.client
    client.base_url = s.slack_api_url  # Bolt's client is made for slack.com; tests use a fake
    # Approval messages and their updates can come in bursts (bulk, sweeps): honour Slack's 429s
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=3))

    @app.error
    def on_error(error: Exception, body: dict, logger: logging.Logger) -> BoltResponse | None:
        # Listeners report their own failures; this is the last line for anything that escaped.
        if isinstance(error, PeerbotError):
            log.info("user error: %s", error)
            return BoltResponse(status=200, body=str(error))
        ref = uuid.uuid4().hex[:8]
        log.error("unhandled error ref=%s in %s", ref, body.get("type") or body.get("command"), exc_info=error)
        text = f"Something went wrong (ref {ref})."
        tell_clicker(body, text + " Nothing may have been done: try again in a moment.")
        return BoltResponse(status=200, body=text)

    from bot.changes.runner import ChangeRunner
    from bot.changes.requests import ChangeRequests
    from bot.core.workers import Workers
    from handlers import register_all
    from handlers.approvals import SlackReporter

    # Slack user groups named in the roles are resolved through this client
    core.access.use_slack_groups(lambda group: client.usergroups_users_list(usergroup=group).get("users") or [])
    requests = ChangeRequests(core)
    runner = ChangeRunner(core, Workers(s.workers or None), requests)
    app.ui = register_all(app, core, runner)  # type: ignore[attr-defined]
    runner.reporter = SlackReporter(client, core, app.ui, requests)  # type: ignore[attr-defined]
    app.runner = runner  # type: ignore[attr-defined]
    if start_runner:
        runner.start()
    return app


def tell_clicker(body: dict, text: str) -> None:
    """Slack shows the body of a slash command's answer, not of a button click's: a click whose
    listener failed before it could answer (the database away, bench/chaos.py) is told through
    its response_url, or the user sees nothing happen. On a thread: the ack is not delayed."""
    url = body.get("response_url") if isinstance(body, dict) else None
    if body.get("type") != "block_actions" or not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return

    def post() -> None:
        try:
            WebhookClient(url, timeout=5).send(response_type="ephemeral", replace_original=False, text=text)
        except Exception as exc:  # noqa: BLE001 - the log has the error already
            log.info("could not tell the user about an error: %s", type(exc).__name__)

    threading.Thread(target=post, name="peerbot-error-reply", daemon=True).start()
