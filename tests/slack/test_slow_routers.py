"""Routers that hang or answer slowly: a silent TCP peer, one that drips a byte at a time (no
newline ever, so an SSH banner read would never end by itself), and one that sends garbage with
Slack control text. Refresh through the running bot ends in an error note on the session (the
router's text escaped), and the bot answers other requests while the polls wait."""
from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Core
from handlers.ids import Action
from storage.models import Router
from tests.factories import make_session
from tests.harness.bot import RunningBot, settings_for, start_bot
from tests.harness.fake_slack import FakeSlack

INVENTORY = Path(__file__).resolve().parents[1] / "data" / "inventory.yml"


class HostileRouter:
    """A TCP server at the router's address that behaves as `mode` says."""

    def __init__(self, mode: str):
        self.mode = mode
        self.stop = threading.Event()
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                if self.mode == "garbage":
                    conn.sendall(b"HTTP/1.1 200 OK <!channel> <@U123>\r\n" * 150)
                while not self.stop.is_set():
                    if self.mode == "drip":
                        conn.sendall(b"x")
                    time.sleep(0.3)
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


@pytest.fixture(params=["silent", "drip", "garbage"])
def slow_bot(request: pytest.FixtureRequest, sqlite_url: str, slack: FakeSlack, tmp_path: Path,
             monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RunningBot, int]]:
    from bot.sessions.inventory import load_inventory

    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "not-used-the-router-never-asks")

    router = HostileRouter(request.param)
    core = Core.from_settings(settings_for(sqlite_url, slack, tmp_path, PEERBOT_ROUTER_TIMEOUT=2))
    load_inventory(core.db, INVENTORY)
    with core.db.session() as s:
        r = s.scalar(select(Router).where(Router.name == "edge1"))
        r.host, r.port = "127.0.0.1", router.port
    sid = make_session(core, ip="192.0.2.10", name="Slow Peer", asn="65601").id
    running = start_bot(core, slack)
    yield running, sid
    running.stop()
    router.close()
    core.db.dispose()


def test_refresh_of_a_hanging_router_ends_in_an_error_note(slow_bot: tuple[RunningBot, int]) -> None:
    bot, sid = slow_bot
    mark = bot.slack.mark()
    assert bot.send.button(Action.REFRESH, str(sid)).status_code == 200
    # while the poll waits for the router, the bot answers
    assert bot.send.command("help").status_code == 200
    bot.slack.wait_for("response_url", lambda c: "/peering list" in json.dumps(c.args), after=mark, timeout=10)
    note = bot.slack.wait_for("response_url", lambda c: "Refresh failed" in json.dumps(c.args)
                              or "failed" in json.dumps(c.args.get("blocks", [])), after=mark, timeout=60)
    text = json.dumps(note.args)
    assert "127.0.0.1:" in text and "Traceback" not in text
    assert "<!channel>" not in text and "<@U123>" not in text


@pytest.fixture
def silent_bot(sqlite_url: str, slack: FakeSlack, tmp_path: Path,
               monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[RunningBot, HostileRouter]]:
    from bot.sessions.inventory import load_inventory

    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "not-used-the-router-never-asks")
    router = HostileRouter("silent")
    core = Core.from_settings(settings_for(sqlite_url, slack, tmp_path, PEERBOT_ROUTER_TIMEOUT=3))
    load_inventory(core.db, INVENTORY)
    with core.db.session() as s:
        r = s.scalar(select(Router).where(Router.name == "edge1"))
        r.host, r.port = "127.0.0.1", router.port
    make_session(core, ip="192.0.2.10", name="Slow Peer", asn="65601")
    running = start_bot(core, slack)
    yield running, router
    running.stop()
    router.close()
    core.db.dispose()


def test_refresh_clicked_many_times_polls_a_slow_router_once(silent_bot: tuple[RunningBot, HostileRouter]) -> None:
    """Ten Refresh clicks (list and Home tab) while a slow router is being polled join that poll:
    the router sees one login, not ten (polls waiting on it would fill the pool changes run on),
    and every list click still gets its answer."""
    bot, router = silent_bot
    mark = bot.slack.mark()
    for _ in range(8):
        assert bot.send.button(Action.LIST_REFRESH, json.dumps({"q": "", "p": 1})).status_code == 200
    for _ in range(2):
        p = {"type": "block_actions", "user": {"id": "U111"}, "view": {"type": "home", "id": "VHOME"},
             "actions": [{"action_id": Action.LIST_REFRESH, "type": "button", "value": "home", "action_ts": "1.2"}]}
        assert bot.send.interactive(p).status_code == 200
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answers = [c for c in bot.slack.calls[mark:] if c.method == "response_url" and "did not" in json.dumps(c.args)]
        if len(answers) >= 8:
            break
        time.sleep(0.2)
    assert len(answers) == 8, [c.method for c in bot.slack.calls[mark:]]
    bot.slack.wait_for("views.publish", after=mark, timeout=30)
    assert router.connections == 1
