"""Run the real bot (Bolt App behind waitress) on 127.0.0.1 against a fake Slack API."""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass

from bot.serve.app import build_app
from bot.core import Core
from bot.serve.wsgi import create_server
from bot.core.settings import Settings
from handlers.ids import Action
from storage.models import Session
from tests.harness.fake_slack import FakeSlack
from tests.harness.slack_requests import SlackSender

BOT_TOKEN = "xoxb-111-222-testtoken"
# Roles of the test users (bot/core/access.py): U111 operates, U222 approves, UADMIN administers;
# any other user is a viewer only.
OPERATOR, APPROVER, ADMIN, VIEWER = "U111", "U222", "UADMIN1", "U999"
APPROVAL_CHANNEL = "CAPPROVALS"
SIGNING_SECRET = "0123456789abcdef0123456789abcdef"


def settings_for(database_url: str, slack: FakeSlack, tmp_path, **extra: object) -> Settings:  # noqa: ANN001
    return Settings(
        SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=slack.api_url,
        PEERBOT_DATABASE_URL=database_url, PEERBOT_SECRET_KEY="test-secret-key",
        PEERBOT_OPERATORS=OPERATOR, PEERBOT_APPROVERS=APPROVER, PEERBOT_ADMINS=ADMIN,
        PEERBOT_APPROVAL_CHANNEL=APPROVAL_CHANNEL,
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

        self.app.runner.stop()  # type: ignore[attr-defined]
        self.app.runner.workers.shutdown()  # type: ignore[attr-defined]
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
    modal["id"] = f"VCM{mark:05d}"  # Slack gives every opened modal an id of its own
    field = [b for b in modal["blocks"] if b.get("block_id") == Action.CONFIG_COMMANDS][0]
    return modal, field["element"]["initial_value"]


def submit_config_manager(bot: RunningBot, modal: dict, commands: str):  # noqa: ANN201
    values = {Action.CONFIG_COMMANDS: {Action.CONFIG_COMMANDS: {"type": "plain_text_input", "value": commands}}}
    return bot.send.view_submission(modal, values, view_id=modal.get("id", "V00001"))


# -- change requests: ask as the operator, approve as the approver ------------------------------
def approval_posted(bot: RunningBot, after: int, timeout: float = 10.0):  # noqa: ANN201
    """The approval message of the next request (a chat.postMessage in the approval channel)."""
    return bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == APPROVAL_CHANNEL
                              and "Change request #" in dump(c.args), after=after, timeout=timeout)


def request_id_of(approval_call) -> str:  # noqa: ANN001
    """The request id an approval message carries on its Approve button."""
    for block in approval_call.args["blocks"]:
        for element in block.get("elements", []):
            if element.get("action_id") == Action.CHANGE_APPROVE:
                return element["value"]
    raise AssertionError("no Approve button in " + dump(approval_call.args)[:300])


def approve(bot: RunningBot, approval_call, user: str = APPROVER):  # noqa: ANN001, ANN201
    """Press Approve on an approval message; returns the HTTP response."""
    return bot.send.button(Action.CHANGE_APPROVE, request_id_of(approval_call), user=user, channel=APPROVAL_CHANNEL,
                           message_ts=approval_call.args.get("ts") or "1700000000.000099")


def approval_outcome(bot: RunningBot, after: int, words: str = "Done", timeout: float = 10.0,
                     request_id: str | None = None):  # noqa: ANN201
    """The approval message (of `request_id`, when given) edited in place with its outcome."""
    head = f"Change request #{request_id}:" if request_id else ""
    return bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == APPROVAL_CHANNEL
                              and words in dump(c.args) and head in dump(c.args), after=after, timeout=timeout)


def request_and_approve(bot: RunningBot, action_id: str, value: str, words: str = "Done",
                        timeout: float = 30.0):  # noqa: ANN201
    """Operator presses a change button, the approver approves: the approval message's outcome."""
    mark = bot.slack.mark()
    r = bot.send.button(action_id, value, user=OPERATOR)
    assert r.status_code == 200, r.text
    posted = approval_posted(bot, mark)
    assert approve(bot, posted).status_code == 200
    return approval_outcome(bot, mark, words, timeout=timeout, request_id=request_id_of(posted))
