"""Scheduled polling against the real FRR lab: APScheduler runs the poll, state changes made on
the router are stored and posted to the notify channel through the rate-limited notifier."""
from __future__ import annotations

import pytest
from slack_sdk import WebClient

from bot.core import Core
from bot.notify import Notifier
from bot.scheduler import Poller, start_scheduler
from bot.services.changes import Changes
from bot.services.sessions import get_session
from bot.workers import Workers
from handlers.views.notices import poll_notice
from tests.factories import make_session
from tests.harness.fake_slack import FakeSlack

pytestmark = pytest.mark.lab


@pytest.fixture
def lab_core(inventory_core: Core, clean_lab, monkeypatch: pytest.MonkeyPatch) -> Core:  # noqa: ANN001
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", clean_lab.password)
    return inventory_core


def test_scheduled_poll_posts_state_changes(lab_core: Core, clean_lab, slack: FakeSlack) -> None:  # noqa: ANN001
    baseline = clean_lab.baseline[0]  # the IPv4 baseline session, Established on the router
    v = make_session(lab_core, ip=baseline.peer_ip, asn=str(clean_lab.peer.asn), name="Lab Peer")
    changes = Changes(lab_core)
    assert changes.configure(v.id, "U111").ok
    assert get_session(lab_core.db, v.id).bgp_state == "Established"

    # someone shuts the neighbor down on the router itself, outside peerbot
    clean_lab.configure("r1", f"neighbor {baseline.peer_ip} shutdown")
    clean_lab.wait_state(baseline.peer_ip, "Idle")

    notifier = Notifier(WebClient(token="xoxb-test", base_url=slack.api_url), min_interval=0.2)
    poller = Poller(changes, notifier, "CNOC", poll_notice)
    sched = start_scheduler(poller, interval_seconds=1)
    try:
        call = slack.wait_for("chat.postMessage", lambda c: baseline.peer_ip in str(c.args.get("blocks")), timeout=20)
    finally:
        sched.shutdown(wait=True)
        notifier.flush()
        notifier.close()
    assert call.args["channel"] == "CNOC"
    assert "Established → *Idle*" in str(call.args["blocks"])
    after = get_session(lab_core.db, v.id)
    assert after.bgp_state == "Idle" and after.admin_status == "down"  # follows the router
    assert after.last_polled is not None


def test_unreachable_router_is_reported_once(lab_core: Core, slack: FakeSlack) -> None:
    make_session(lab_core, ip="198.51.100.9", name="Gamma", asn="65603", router="edge2", exchange="OTHER-IX")
    notifier = Notifier(WebClient(token="xoxb-test", base_url=slack.api_url), min_interval=0.0)
    # routers polled side by side on the worker pool, as `serve` does
    poller = Poller(Changes(lab_core), notifier, "CNOC", poll_notice, workers=Workers(2))
    first = poller.run_once()
    second = poller.run_once()
    notifier.flush()
    notifier.close()
    edge2 = [r for r in first + second if r.router_name == "edge2"]
    assert [r.ok for r in edge2] == [False, False]
    posts = [c for c in slack.of("chat.postMessage") if "edge2" in str(c.args)]
    assert len(posts) == 1 and "Polling failed" in str(posts[0].args["blocks"])
