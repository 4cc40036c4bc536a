"""The notice outbox: a restart neither loses nor repeats a notice, Slack's 429 is waited out,
two processes on one PostgreSQL notify each change once; history is pruned by age."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.serve.app import build_app
from bot.serve.scheduler import Poller
from bot.polling.history import prune_history
from storage.models import Notice, StateHistory
from tests.harness.bot import dump
from tests.harness.fake_slack import FakeSlack
from tests.notify.conftest import Fleet, make_fleet

ROOT = Path(__file__).resolve().parents[2]


def notice_states(fleet: Fleet) -> list[str]:
    with fleet.core.db.session() as s:
        return list(s.scalars(select(Notice.state).order_by(Notice.id)))


def test_restart_sends_what_was_left_once(fleet: Fleet, database_url: str, slack: FakeSlack, tmp_path: Path) -> None:
    fleet.session("192.0.2.20")
    fleet.session("192.0.2.21", name="Beta", asn="65602")
    fleet.poll()
    # the process stores two changes and dies before sending: polls without a sender
    unsent = Poller(fleet.poller.changes, sender=None)
    fleet.set("192.0.2.20", "Active")
    fleet.set("192.0.2.21", "Idle")
    unsent.run_once()
    assert fleet.posts() == [] and notice_states(fleet) == ["pending", "pending"]
    fleet.core.db.dispose()

    # a new process on the same database: a new core and Bolt app; `serve` sends leftovers at start
    from bot.cli import _start_polling

    again = make_fleet(database_url, slack, tmp_path, router=fleet.router, load=False, PEERBOT_POLL_INTERVAL="0")
    app = build_app(again.core)
    schedulers = []
    try:
        schedulers = _start_polling(again.core, app)
        slack.wait_for("chat.postMessage", lambda c: "192.0.2.21" in dump(c.args))
        slack.wait_for("chat.postMessage", lambda c: "192.0.2.20" in dump(c.args))
        deadline = time.monotonic() + 10
        while notice_states(again) != ["sent", "sent"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for sched in schedulers:
            sched.shutdown(wait=True)
        app.runner.stop()  # type: ignore[attr-defined]
        app.runner.workers.shutdown(wait=True)  # type: ignore[attr-defined]
    assert notice_states(again) == ["sent", "sent"] and len(again.posts()) == 2
    again.poll()  # nothing changed, nothing left: nothing posted
    assert len(again.posts()) == 2

    # the next change replies in the thread the restarted process opened
    fleet.set("192.0.2.20", "Established")
    again.poll()
    assert len(again.posts()) == 3 and again.posts()[2].args["thread_ts"]

    third = make_fleet(database_url, slack, tmp_path, router=fleet.router, load=False)
    assert third.sender.deliver() == 0 and len(third.posts()) == 3  # no repeats
    again.core.db.dispose()
    third.core.db.dispose()


def test_429_is_retried_after_retry_after(fleet: Fleet) -> None:
    fleet.session("192.0.2.20")
    fleet.poll()
    fleet.slack.rate_limit("chat.postMessage", times=1, retry_after=1)
    fleet.set("192.0.2.20", "Active")
    fleet.poll()
    calls = fleet.posts()
    assert len(calls) == 2  # the 429, then the retry after Retry-After
    assert dump(calls[0].args) == dump(calls[1].args)
    assert notice_states(fleet) == ["sent"]


def test_slack_refusing_keeps_the_notice_for_the_next_round(fleet: Fleet) -> None:
    fleet.session("192.0.2.20")
    fleet.poll()
    fleet.slack.rate_limit("chat.postMessage", times=4, retry_after=0)  # more than the retries
    fleet.set("192.0.2.20", "Active")
    fleet.poll()
    assert notice_states(fleet) == ["pending"]
    fleet.poll()  # the next round sends it
    assert notice_states(fleet) == ["sent"]
    assert len(fleet.posts()) == 5  # 4 refused, 1 accepted


@pytest.mark.postgres
def test_two_processes_notify_each_change_once(database_url: str, slack: FakeSlack, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("two processes share one database on PostgreSQL")
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "router-login-pw-123")
    fleet = make_fleet(database_url, slack, tmp_path, PEERBOT_NOTIFY_SUMMARY_MIN="1000")
    ips = [f"192.0.2.{i}" for i in range(20, 50)]
    for n, ip in enumerate(ips):
        fleet.session(ip, name=f"Peer {n}", asn=str(65000 + n))
    fleet.poll()  # all Established (first readings: no notices)
    fleet.core.db.dispose()
    start_at = time.time() + 3
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "tests.harness.run_notices", database_url, slack.api_url,
                               str(start_at), *ips], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    sent = [int(o[0].strip()) for o in outs]
    posts = fleet.posts()
    assert sum(sent) == 30 and len(posts) == 30
    assert sorted(ip for c in posts for ip in ips if f"`{ip}`" in dump(c.args["blocks"])) == sorted(ips)
    with fleet.core.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Notice).where(Notice.state == "sent")) == 30
        assert s.scalar(select(func.count()).select_from(StateHistory).where(StateHistory.new_state == "Idle")) == 30


def test_history_is_pruned_after_the_retention(fleet: Fleet) -> None:
    now = datetime.now(timezone.utc)
    with fleet.core.db.session() as s:
        for days in (120, 91, 89, 1):
            s.add(StateHistory(session_id=1, router_id=1, at=now - timedelta(days=days), old_state="Idle",
                               new_state="Established", source="poll"))
    assert fleet.core.settings.history_days == 90
    assert prune_history(fleet.core.db, fleet.core.settings.history_days, now=now) == 2
    with fleet.core.db.session() as s:
        kept = sorted(round((now - h.at.replace(tzinfo=timezone.utc)).total_seconds() / 86400)
                      for h in s.scalars(select(StateHistory)))
    assert kept == [1, 89]
    assert prune_history(fleet.core.db, 90, now=now) == 0
