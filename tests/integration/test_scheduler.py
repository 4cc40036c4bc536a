"""Scheduled polling against the real FRR lab: state changes seen on the router are stored in the
session's history and notified in the session's thread through the notice outbox."""
from __future__ import annotations

import dataclasses
import time

import pytest
from slack_sdk import WebClient
from sqlalchemy import select

from bot.core import Core
from bot.notices.sender import NoticeSender
from bot.notices.poster import Notifier
from bot.serve.scheduler import Poller, start_scheduler
from bot.changes.executor import Changes
from bot.polling.history import session_history
from bot.sessions.queries import get_session
from handlers.views.notices import render_notice
from storage.models import Notice, Router
from tests.factories import make_session
from tests.harness.bot import dump
from tests.harness.fake_slack import FakeSlack

pytestmark = pytest.mark.lab
CHANNEL = "CNOC"


@pytest.fixture
def lab_core(inventory_core: Core, clean_lab, monkeypatch: pytest.MonkeyPatch) -> Core:  # noqa: ANN001
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", clean_lab.password)
    with inventory_core.db.session() as s:  # edge1 is the lab's R1 (its SSH_PORT / LAB_USER)
        edge1 = s.scalar(select(Router).where(Router.name == "edge1"))
        edge1.host, edge1.port, edge1.username = clean_lab.host, clean_lab.port, clean_lab.username
    settings = inventory_core.settings.model_copy(update={"notify_channel": CHANNEL})
    return dataclasses.replace(inventory_core, settings=settings)


def _sender(core: Core, slack: FakeSlack) -> NoticeSender:
    return NoticeSender(core, Notifier(WebClient(token="xoxb-test", base_url=slack.api_url), min_interval=0.2),
                        render_notice)


def _wait_not_established(lab, ip: str, timeout: float = 30) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while lab.neighbor_json(ip).get("bgpState") == "Established":
        assert time.monotonic() < deadline, f"{ip} still Established after {timeout}s"
        time.sleep(0.2)


def _session_posts(slack: FakeSlack, ip: str) -> list:
    return [c for c in slack.of("chat.postMessage") if c.args.get("channel") == CHANNEL and f"`{ip}`" in dump(c.args)]


def test_peer_shutting_its_side_lands_once_in_the_sessions_thread(lab_core: Core, clean_lab, slack: FakeSlack) -> None:  # noqa: ANN001
    baseline = clean_lab.baseline[0]  # the IPv4 baseline session, Established on the router
    v = make_session(lab_core, ip=baseline.peer_ip, asn=str(clean_lab.peer.asn), name="Lab Peer")
    changes = Changes(lab_core)
    assert changes.configure(v.id, "U111").ok
    poller = Poller(changes, _sender(lab_core, slack))
    peer_side = f"neighbor {baseline.router_ip} shutdown"
    try:
        poller.run_once()
        assert _session_posts(slack, baseline.peer_ip) == []  # nothing changed since the change's read-back

        clean_lab.configure("peer", peer_side)  # the peer shuts its side: R1 loses the session
        _wait_not_established(clean_lab, baseline.peer_ip)
        poller.run_once()
        [opening] = _session_posts(slack, baseline.peer_ip)
        assert "thread_ts" not in opening.args and "Established → *" in dump(opening.args["blocks"])

        clean_lab.configure("peer", f"no {peer_side}")
        clean_lab.wait_state(baseline.peer_ip, "Established", timeout=60)
        poller.run_once()  # recovery: a reply in the thread, also in the channel
        clean_lab.configure("peer", peer_side)
        _wait_not_established(clean_lab, baseline.peer_ip)
        mark = slack.mark()
        poller.run_once()
        new = [c for c in _session_posts(slack, baseline.peer_ip) if c in slack.calls[mark:]]
        assert len(new) == 1  # exactly one notice ...
        with lab_core.db.session() as s:
            thread_ts = s.query(Notice.ts).order_by(Notice.id).filter(Notice.ts.is_not(None)).first()[0]
        assert new[0].args["thread_ts"] == thread_ts  # ... in the session's thread
    finally:
        clean_lab.configure("peer", f"no {peer_side}")
    after = get_session(lab_core.db, v.id)
    assert after.bgp_state != "Established" and after.admin_status == "up"  # the peer's doing, not ours
    history = session_history(lab_core.db, v.id, recent=20)
    up = [e.new == "Established" for e in reversed(history.recent)]
    runs = [u for i, u in enumerate(up) if i == 0 or up[i - 1] != u]  # R1 may pass Idle, Active, Connect
    assert runs[-4:] == [True, False, True, False]


def test_scheduled_poll_and_unreachable_router_reported_once(lab_core: Core, clean_lab, slack: FakeSlack,  # noqa: ANN001
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PEERBOT_TEST_EDGE2_PASSWORD", "nothing-listens")
    make_session(lab_core, ip="198.51.100.9", name="Gamma", asn="65603", router="edge2", exchange="OTHER-IX")
    sender = _sender(lab_core, slack)
    poller = Poller(Changes(lab_core), sender)
    sched = start_scheduler(poller, interval_seconds=1)  # as `serve` runs it
    try:
        slack.wait_for("chat.postMessage", lambda c: "edge2" in dump(c.args), timeout=20)
        time.sleep(2.5)  # two more polls
    finally:
        sched.shutdown(wait=True)
    posts = [c for c in slack.of("chat.postMessage") if "edge2" in dump(c.args)]
    assert len(posts) == 1 and "edge2 is unreachable" in dump(posts[0].args["blocks"])
