"""Run the real bot (Bolt App behind waitress) on 127.0.0.1 against a fake Slack API."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from bot.app import build_app
from bot.core import Core
from bot.server import create_server
from bot.settings import Settings
from tests.harness.fake_slack import FakeSlack
from tests.harness.slack_requests import SlackSender

BOT_TOKEN = "xoxb-111-222-testtoken"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"


def settings_for(database_url: str, slack: FakeSlack, tmp_path, **extra: object) -> Settings:  # noqa: ANN001
    return Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
        PEERBOT_DATABASE_URL=database_url, PEERBOT_SECRET_KEY="test-secret-key",
        **{k: v for k, v in extra.items()},
    )


@dataclass
class RunningBot:
    core: Core
    slack: FakeSlack
    send: SlackSender
    url: str
    server: object
    thread: threading.Thread
    app: object

    stopping: threading.Event

    def stop(self) -> None:
        from waitress import wasyncore

        self.send.http.close()
        # Stop the loop first, then close every channel from this thread: closing sockets while
        # the loop thread is inside select() makes it fail with EBADF.
        self.stopping.set()
        self.thread.join(timeout=5)
        assert not self.thread.is_alive(), "bot HTTP server did not stop"
        self.server.task_dispatcher.shutdown(timeout=5)  # type: ignore[attr-defined]
        wasyncore.close_all(self.server._map)  # type: ignore[attr-defined]


def start_bot(core: Core, slack: FakeSlack) -> RunningBot:
    app = build_app(core)
    server = create_server(app, core, "127.0.0.1", 0, threads=4)
    port = server.effective_port  # type: ignore[attr-defined]
    stopping = threading.Event()

    def serve() -> None:
        from waitress import wasyncore

        while not stopping.is_set():
            wasyncore.loop(timeout=0.05, map=server._map, count=1)  # type: ignore[attr-defined]

    thread = threading.Thread(target=serve, name="peerbot-http", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    sender = SlackSender(url + "/slack/events", SIGNING_SECRET, slack.response_url("cmd"))
    return RunningBot(core=core, slack=slack, send=sender, url=url, server=server, thread=thread, app=app,
                      stopping=stopping)
