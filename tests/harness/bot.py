"""Run the real bot (Bolt App behind waitress) on 127.0.0.1 against a fake Slack API."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from bot.app import build_app
from bot.core import Core
from bot.server import create_server
from bot.settings import Settings
from handlers.ids import Action
from storage.models import Session
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


# -- helpers for tests that drive a running bot ---------------------------------------------
def dump(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False)


def has(text: str):  # noqa: ANN201
    """A FakeSlack.wait_for predicate: the call's arguments contain `text`."""
    return lambda c: text in dump(c.args)


def db_row(bot: RunningBot, sid: int) -> Session | None:
    with bot.core.db.session() as s:
        return s.get(Session, sid)


def open_config_manager(bot: RunningBot, sid: int) -> tuple[dict, str]:
    """Open the Config Manager of session `sid`: its modal and the commands it shows."""
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIG_MANAGER, str(sid))
    modal = bot.slack.wait_for("views.open", after=mark).args["view"]
    field = [b for b in modal["blocks"] if b.get("block_id") == Action.CONFIG_COMMANDS][0]
    return modal, field["element"]["initial_value"]


def submit_config_manager(bot: RunningBot, modal: dict, commands: str):  # noqa: ANN201
    values = {Action.CONFIG_COMMANDS: {Action.CONFIG_COMMANDS: {"type": "plain_text_input", "value": commands}}}
    return bot.send.view_submission(modal, values)
