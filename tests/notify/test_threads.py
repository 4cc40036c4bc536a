"""Threaded notices: a session's first state change opens its thread in the channel, later ones
reply in it (broadcast for recovery and for going down after being up a while); a router losing
many sessions posts one summary; flapping posts once, then "stable again"."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select, update

from bot.notices.outbox import stable_sweep
from storage.models import Notice, Session, StateHistory
from tests.harness.bot import dump
from tests.notify.conftest import CHANNEL, Fleet


def history(fleet: Fleet, sid: int) -> list[tuple[str | None, str | None]]:
    with fleet.core.db.session() as s:
        return [(h.old_state, h.new_state) for h in s.scalars(
            select(StateHistory).where(StateHistory.session_id == sid).order_by(StateHistory.id))]


def test_first_change_opens_the_thread_later_ones_reply(fleet: Fleet) -> None:
    sid = fleet.session("192.0.2.20")
    fleet.poll()
    assert fleet.posts() == []  # the first reading is history, not news
    assert history(fleet, sid) == [(None, "Established")]

    fleet.set("192.0.2.20", "Active")
    fleet.poll()
    [first] = fleet.posts()
    assert "thread_ts" not in first.args and first.args["channel"] == CHANNEL
    assert "Established → *Active*" in dump(first.args["blocks"]) and f"session #{sid}" in dump(first.args["blocks"])

    fleet.set("192.0.2.20", "Established")  # recovery: a reply, also shown in the channel
    fleet.poll()
    fleet.set("192.0.2.20", "Idle")  # down again after seconds: a quiet reply
    fleet.poll()
    first_post, recovery, down = fleet.posts()
    thread = fleet.slack.of("chat.postMessage")[0]
    assert recovery.args["thread_ts"] == down.args["thread_ts"] != ""
    assert str(recovery.args["reply_broadcast"]).lower() in ("true", "1")
    assert str(down.args["reply_broadcast"]).lower() in ("false", "0"), dump(down.args)
    assert thread is first_post
    assert history(fleet, sid) == [(None, "Established"), ("Established", "Active"), ("Active", "Established"),
                                   ("Established", "Idle")]
    fleet.poll()  # nothing changed: nothing said
    assert len(fleet.posts()) == 3


def test_thread_replies_go_to_the_first_messages_ts(fleet: Fleet) -> None:
    fleet.session("192.0.2.20")
    fleet.poll()
    mark = fleet.slack.mark()
    fleet.set("192.0.2.20", "Active")
    fleet.poll()
    fleet.set("192.0.2.20", "Connect")
    fleet.poll()
    first, reply = fleet.slack.calls[mark:][0], fleet.posts()[-1]
    with fleet.core.db.session() as s:
        sent_ts = s.scalars(select(Notice.ts).order_by(Notice.id)).first()
    assert first.method == "chat.postMessage" and reply.args["thread_ts"] == sent_ts


def test_going_down_after_a_long_uptime_is_broadcast(fleet: Fleet) -> None:
    sid = fleet.session("192.0.2.20")
    fleet.poll()
    fleet.set("192.0.2.20", "Active")
    fleet.poll()
    fleet.set("192.0.2.20", "Established")
    fleet.poll()
    with fleet.core.db.session() as s:  # up for two hours
        s.execute(update(Session).where(Session.id == sid)
                  .values(last_state_change=datetime.now(timezone.utc) - timedelta(hours=2)))
    fleet.set("192.0.2.20", "Idle")
    fleet.poll()
    down = fleet.posts()[-1]
    assert down.args["thread_ts"] and str(down.args["reply_broadcast"]).lower() in ("true", "1")
    assert "Established since 2h" in dump(down.args["blocks"])


def test_router_losing_40_sessions_posts_one_summary(fleet: Fleet) -> None:
    ips = [f"192.0.2.{i}" for i in range(20, 60)]
    for n, ip in enumerate(ips):
        fleet.session(ip, name=f"Peer {n}", asn=str(65000 + n))
    fleet.poll()
    for ip in ips:
        fleet.set(ip, "Idle")
    fleet.poll()
    [summary] = fleet.posts()
    text = dump(summary.args)
    assert "edge1" in text and "40 sessions changed state at once" in text and "40 of them were Established" in text
    assert "…and 15 more" in text  # 25 listed, the rest counted
    assert len(summary.args["blocks"]) <= 50
    # each session's history holds its own change
    with fleet.core.db.session() as s:
        assert s.scalar(select(StateHistory.id).where(StateHistory.new_state == "Idle").limit(1)) is not None
        assert len(s.scalars(select(StateHistory).where(StateHistory.new_state == "Idle")).all()) == 40
    # and recovery of all of them: one summary again, a reply in the router's thread
    for ip in ips:
        fleet.set(ip, "Established")
    fleet.poll()
    assert len(fleet.posts()) == 2 and fleet.posts()[1].args["thread_ts"]


def test_unreachable_router_is_one_notice_and_reachable_again_one_reply(fleet: Fleet) -> None:
    fleet.session("192.0.2.20")
    fleet.session("192.0.2.21", name="Beta", asn="65602")
    fleet.poll()
    fleet.router.fail_connect = "unreachable"
    fleet.poll()
    fleet.poll()
    edge1 = [c for c in fleet.posts() if "edge1" in dump(c.args)]
    assert len(edge1) == 1 and "unreachable" in dump(edge1[0].args) and "2 session(s) were Established" in dump(edge1[0].args)
    fleet.router.fail_connect = None
    fleet.poll()
    edge1 = [c for c in fleet.posts() if "edge1" in dump(c.args)]
    assert len(edge1) == 2 and "reachable again" in dump(edge1[1].args) and edge1[1].args["thread_ts"]


def test_flapping_is_said_once_then_quiet_then_stable_again(fleet: Fleet) -> None:
    sid = fleet.session("192.0.2.20")
    fleet.poll()  # the first reading: history, no flap
    for state in ("Active", "Established", "Active", "Established", "Active", "Established"):
        fleet.set("192.0.2.20", state)
        fleet.poll()
    texts = [dump(c.args["blocks"]) for c in fleet.posts()]
    # changes 1-3 are notices; the 4th change in 30 min (> 3) is "flapping"; the rest are quiet
    assert len(texts) == 4 and "flapping" in texts[3] and "Quiet until" in texts[3]
    assert "flapping" not in "".join(texts[:3])
    assert str(fleet.posts()[3].args["reply_broadcast"]).lower() in ("false", "0")  # in the thread only
    assert len(history(fleet, sid)) == 7

    assert stable_sweep(fleet.core.db, fleet.core.settings) == 0  # not stable for 30 min yet
    later = datetime.now(timezone.utc) + timedelta(minutes=31)
    assert stable_sweep(fleet.core.db, fleet.core.settings, now=later) == 1
    assert stable_sweep(fleet.core.db, fleet.core.settings, now=later) == 0  # said once
    fleet.sender.deliver()
    stable = fleet.posts()[-1]
    assert "stable again" in dump(stable.args) and stable.args["thread_ts"] == fleet.posts()[1].args["thread_ts"]

    fleet.set("192.0.2.20", "Idle")  # after "stable again", changes are news again
    fleet.poll()
    assert len(fleet.posts()) == 6
