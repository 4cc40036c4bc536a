"""Run the whole bot (Bolt app behind waitress, its workers) in a process of its own (the
two-process email test).

    python -m tests.harness.run_bot DATABASE_URL SLACK_API_URL SMTP_URL

Prints "ready <events URL>" once it listens, then serves until its stdin is closed.
"""
from __future__ import annotations

import sys
import threading

from bot.core import Core
from bot.serve.app import build_app
from bot.serve.wsgi import create_server
from tests.email.conftest import MAIL_CC, MAIL_FROM
from tests.harness.bot import settings_for


class _Slack:
    def __init__(self, api_url: str):
        self.api_url = api_url


def main() -> None:
    url, api_url, smtp_url = sys.argv[1:4]
    settings = settings_for(url, _Slack(api_url), None, PEERBOT_SMTP_URL=smtp_url, PEERBOT_MAIL_FROM=MAIL_FROM,
                            PEERBOT_MAIL_CC=MAIL_CC)
    core = Core.from_settings(settings, upgrade=False)
    app = build_app(core)
    server = create_server(app, core, "127.0.0.1", 0, threads=4)
    threading.Thread(target=server.run, name="peerbot-http", daemon=True).start()
    print(f"ready http://127.0.0.1:{server.effective_port}/slack/events", flush=True)
    sys.stdin.read()  # until the test closes it
    app.runner.stop()
    app.runner.workers.shutdown(wait=True)
    core.db.dispose()


if __name__ == "__main__":
    main()
