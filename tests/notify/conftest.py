"""Notices against the fake Slack Web API, with routers faked at the driver boundary."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from slack_sdk import WebClient

from bot.core import Core
from bot.notices.sender import NoticeSender
from bot.notices.poster import Notifier
from bot.serve.scheduler import Poller
from bot.changes.executor import Changes
from bot.sessions.inventory import load_inventory
from handlers.views.notices import render_notice
from tests.conftest import INVENTORY
from tests.fake_router import FakeNeighbor, FakeRouter
from tests.factories import ids, make_session
from tests.harness.bot import BOT_TOKEN, settings_for
from tests.harness.fake_slack import FakeSlack

CHANNEL = "CNOC"
NOTIFY = {"PEERBOT_NOTIFY_CHANNEL": CHANNEL, "PEERBOT_FLAP_CHANGES": "3", "PEERBOT_FLAP_MINUTES": "30",
          "PEERBOT_NOTIFY_SUMMARY_MIN": "5", "PEERBOT_NOTIFY_BROADCAST_UP_MINUTES": "60"}


@dataclass
class Fleet:
    """One core (one bot process) polling edge1 through a fake router, sending to the fake Slack."""

    core: Core
    router: FakeRouter
    slack: FakeSlack
    poller: Poller
    sender: NoticeSender

    @property
    def edge1(self) -> int:
        return ids(self.core)["router:edge1"]

    def session(self, ip: str, name: str = "Alpha Net", asn: str = "65601", state: str = "Established") -> int:
        v = make_session(self.core, ip=ip, asn=asn, name=name)
        self.router.neighbors[ip] = FakeNeighbor(remote_asn=int(asn), state=state)
        return v.id

    def set(self, ip: str, state: str) -> None:
        self.router.neighbors[ip].state = state

    def poll(self) -> None:
        self.poller.run_once()

    def posts(self) -> list:
        return [c for c in self.slack.of("chat.postMessage") if c.args.get("channel") == CHANNEL]


def make_fleet(database_url: str, slack: FakeSlack, tmp_path: Path, router: FakeRouter | None = None,
               load: bool = True, **extra: str) -> Fleet:
    core = Core.from_settings(settings_for(database_url, slack, tmp_path, **{**NOTIFY, **extra}))
    if load:
        load_inventory(core.db, INVENTORY)
    router = router or FakeRouter()
    changes = Changes(core, driver_factory=router.factory)
    sender = NoticeSender(core, Notifier(WebClient(token=BOT_TOKEN, base_url=slack.api_url), min_interval=0.0),
                          render_notice)
    return Fleet(core, router, slack, Poller(changes, sender), sender)


@pytest.fixture
def fleet(database_url: str, slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Fleet]:
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "router-login-pw-123")
    monkeypatch.setenv("PEERBOT_TEST_EDGE2_PASSWORD", "edge2-pw")
    f = make_fleet(database_url, slack, tmp_path)
    yield f
    f.core.db.dispose()
