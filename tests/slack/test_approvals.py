"""Approval buttons through the real Bolt app (signed requests, fake Slack Web API): roles,
four eyes, reject with a reason, double clicks, viewers, and a bot that keeps answering while
50 router jobs hang on a router that never answers (the real netmiko driver)."""
from __future__ import annotations

import socket
import threading
import time

import pytest
from sqlalchemy import select, update

from bot.core import Core
from bot.changes.requests import ChangeRequests
from handlers.ids import Action, Callback
from storage.models import ChangeRequest, ChangeState, Router
from tests.factories import make_session
from tests.fake_router import FakeRouter
from tests.harness.bot import (
    APPROVAL_CHANNEL, APPROVER, OPERATOR, VIEWER, RunningBot, approval_outcome, approval_posted, approve, dump, has,
    request_id_of, start_bot,
)


@pytest.fixture
def router(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> FakeRouter:
    fake = FakeRouter()
    monkeypatch.setattr(bot.core, "driver_factory", fake.factory)
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "router-login-pw-123")
    return fake


def requests_in_db(bot: RunningBot) -> list[ChangeRequest]:
    with bot.core.db.session() as s:
        return list(s.scalars(select(ChangeRequest).order_by(ChangeRequest.id)))


def test_viewer_pressing_configure_is_refused_and_nothing_is_stored(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    assert bot.send.button(Action.CONFIGURE, str(v.id), user=VIEWER).status_code == 200
    refused = bot.slack.wait_for("response_url", has("not allowed"), after=mark).args
    assert refused["response_type"] == "ephemeral" and "operator role" in dump(refused)
    assert requests_in_db(bot) == [] and router.pushes == []
    # the same for bulk, and for Config Manager
    bot.send.button(Action.CONFIG_MANAGER, str(v.id), user=VIEWER)
    bot.slack.wait_for("response_url", has("use Config Manager"), after=mark)
    assert not bot.slack.of("views.open")


def test_requester_cannot_approve_own_request(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id), user=OPERATOR)
    posted = approval_posted(bot, mark)
    mark = bot.slack.mark()
    approve(bot, posted, user=OPERATOR)
    assert "approver role" in dump(bot.slack.wait_for("response_url", has("not allowed"), after=mark).args)
    assert [r.state for r in requests_in_db(bot)] == [ChangeState.REQUESTED] and router.pushes == []


def test_double_click_and_slack_retry_of_approve_run_once(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id))
    posted = approval_posted(bot, mark)
    router.push_gate = threading.Event()  # hold the push so that the clicks overlap it
    answers = []
    clicks = [threading.Thread(target=lambda: answers.append(approve(bot, posted).status_code)) for _ in range(3)]
    for t in clicks:
        t.start()
    for t in clicks:
        t.join(10)
    router.push_gate.set()
    approval_outcome(bot, mark)
    assert answers == [200, 200, 200] and len(router.pushes) == 1
    # the approver's own two extra clicks: a note saying they approved it, not a warning
    late = [c for c in bot.slack.of("response_url") if "request #" in dump(c.args).lower()]
    assert len(late) == 2 and all("You approved request" in dump(c.args) for c in late)
    assert not any(":warning:" in dump(c.args) or "someone else" in dump(c.args) for c in late)


def test_reject_asks_for_a_reason_and_edits_the_approval_message(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id))
    posted = approval_posted(bot, mark)
    rid = request_id_of(posted)
    bot.send.button(Action.CHANGE_REJECT, rid, user=APPROVER, channel=APPROVAL_CHANNEL)
    modal = bot.slack.wait_for("views.open", after=mark).args["view"]
    assert modal["callback_id"] == Callback.CHANGE_REJECT
    empty = bot.send.view_submission(modal, {"reject_reason": {"reject_reason": {"value": "  "}}}, user=APPROVER)
    assert empty.json()["response_action"] == "errors"
    ok = bot.send.view_submission(modal, {"reject_reason": {"reject_reason": {"value": "Wrong <peer> group"}}},
                                  user=APPROVER)
    assert ok.status_code == 200 and ok.text == ""
    edited = approval_outcome(bot, mark, words="Rejected").args
    assert "Wrong &lt;peer&gt; group" in dump(edited) and not [b for b in edited["blocks"] if b["type"] == "actions"]
    assert requests_in_db(bot)[0].state == ChangeState.REJECTED and router.pushes == []
    # the detail message says so too
    bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == "C111" and "Rejected" in dump(c.args),
                       after=mark)


def test_cancel_by_the_requester(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id))
    rid = request_id_of(approval_posted(bot, mark))
    bot.send.button(Action.CHANGE_CANCEL, rid, user=VIEWER)  # not theirs
    bot.slack.wait_for("response_url", has("cancel someone else"), after=mark)
    bot.send.button(Action.CHANGE_CANCEL, rid, user=OPERATOR)
    approval_outcome(bot, mark, words="Cancelled")
    assert requests_in_db(bot)[0].state == ChangeState.CANCELLED


def test_expired_request_says_so_when_approved(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id))
    posted = approval_posted(bot, mark)
    with bot.core.db.session() as s:
        s.execute(update(ChangeRequest).values(expires_at=ChangeRequest.requested_at))
    approve(bot, posted)
    bot.slack.wait_for("response_url", has("not approved in time"), after=mark)
    approval_outcome(bot, mark, words="Expired")
    assert router.pushes == []


def test_viewers_list_limits_who_may_read(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(bot.core.access.members, __import__("bot.core.access").core.access.Role.VIEWER, frozenset({"U111"}))
    r = bot.send.command("list", user="U555")
    assert r.status_code == 200 and "not allowed" in r.text
    r = bot.send.command("list", user="U111")
    assert r.status_code == 200 and "not allowed" not in r.text


def test_audit_command_lists_the_request_history(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id))
    approve(bot, approval_posted(bot, mark))
    approval_outcome(bot, mark)
    mark = bot.slack.mark()
    bot.send.command(f"audit {v.id}", user=VIEWER)
    text = dump(bot.slack.wait_for("response_url", has("Audit of session"), after=mark).args)
    for event in ("change.requested", "change.approved", "change.started", "change.done", "session.configure"):
        assert event in text


# ----------------------------------------------------------------------------- hanging routers
class BlackHole:
    """A TCP server that accepts SSH connections and never says a word."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(200)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self._stop = True
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def hanging_bot(inventory_core: Core, slack, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    hole = BlackHole()
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "pw")
    monkeypatch.setattr(inventory_core.settings, "router_timeout", 20.0)
    monkeypatch.setattr(inventory_core.settings, "approval_skip", "all")
    monkeypatch.setattr(inventory_core.settings, "workers", 4)
    with inventory_core.db.session() as s:
        s.execute(update(Router).values(port=hole.port))
    running = start_bot(inventory_core, slack)
    yield running, hole
    hole.close()
    running.stop()


def test_bot_answers_while_50_router_jobs_hang(hanging_bot) -> None:  # noqa: ANN001
    bot, hole = hanging_bot
    ids = [make_session(bot.core, ip=f"192.0.2.{n}", asn=str(65600 + n), name=f"Peer {n}").id for n in range(10, 60)]
    requests = ChangeRequests(bot.core)
    for sid in ids:  # 50 changes, no approval needed (policy): all go to the workers
        bot.app.runner.submit(requests.request(OPERATOR, "configure", [sid]).id)
    deadline = time.monotonic() + 10
    while not hole.conns and time.monotonic() < deadline:  # a worker is stuck in SSH with the router
        time.sleep(0.05)
    # one config session per router: the first job holds edge1, the other 49 wait their turn
    assert len(hole.conns) == 1 and bot.app.runner.workers.queued >= 1
    mark = bot.slack.mark()
    # Slack gives up on an ack after 3 s: the bot must answer within that, and then post the list
    answer = bot.send.http.post(bot.send.endpoint, timeout=3, **_signed_command(bot, "list"))
    assert answer.status_code == 200
    listing = bot.slack.wait_for("response_url", has("Peering sessions"), after=mark, timeout=3)
    assert "50 session(s)" in dump(listing.args)
    # other buttons too: a second change request is stored and acked while the workers hang
    assert bot.send.button(Action.ADMIN_DOWN, str(ids[0])).status_code == 200


def _signed_command(bot: RunningBot, text: str) -> dict:
    from urllib.parse import parse_qsl, urlencode

    from tests.harness.slack_requests import load_payload, sign

    fields = dict(parse_qsl(load_payload("slash_command.txt")))
    fields.update(command="/peering", text=text, user_id=OPERATOR, channel_id="C111",
                  response_url=bot.send.response_url)
    body = urlencode(fields)
    ts = int(time.time())
    return {"data": body.encode(), "headers": {"Content-Type": "application/x-www-form-urlencoded",
                                               "X-Slack-Request-Timestamp": str(ts),
                                               "X-Slack-Signature": sign(bot.send.secret, body, ts)}}


def test_only_operators_open_the_wizard_or_create_sessions(bot: RunningBot) -> None:
    from bot.base.errors import PermissionDenied

    mark = bot.slack.mark()
    bot.send.command("add", user=VIEWER)
    assert "create sessions" in dump(bot.slack.wait_for("response_url", has("not allowed"), after=mark).args)
    bot.send.button(Action.ADD_SESSION, "", user=VIEWER)
    bot.slack.wait_for("response_url", lambda c: "not allowed" in dump(c.args), after=mark + 1)
    assert not bot.slack.of("views.open")
    with pytest.raises(PermissionDenied):  # the service refuses too, whoever calls it
        make_session(bot.core, ip="192.0.2.10", actor=VIEWER)


def test_a_request_from_the_cli_is_announced_and_approved_in_slack(bot: RunningBot, router: FakeRouter) -> None:
    """Made by another process (the CLI): the bot's sweep posts its approval message."""
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    ChangeRequests(bot.core).request("cli:alice", "configure", [v.id])
    bot.app.runner.sweep()
    posted = approval_posted(bot, mark)
    assert "cli:alice" in dump(posted.args)
    approve(bot, posted)
    approval_outcome(bot, mark)
    assert len(router.pushes) == 1


def test_an_approval_message_slack_answered_500_is_posted_by_the_next_sweep(bot: RunningBot, router: FakeRouter) -> None:
    """bench/chaos.py --seed 1 (issue 19): Slack answered chat.postMessage with HTTP 500 while a
    request was announced; the request was marked reported and its approval message was never
    posted (no approver ever saw it). Now the sweep posts it once Slack answers again, once."""
    v = make_session(bot.core, ip="192.0.2.10")
    bot.slack.http_errors["chat.postMessage"] = 500
    mark = bot.slack.mark()
    assert bot.send.button(Action.CONFIGURE, str(v.id)).status_code == 200
    bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == APPROVAL_CHANNEL, after=mark)
    bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == "C111", after=mark)  # then the origin
    req = requests_in_db(bot)[0]
    with bot.app.runner.reporter._locks[req.id]:  # held by the report until it is finished
        req = requests_in_db(bot)[0]
    assert req.approval_ts is None and req.reported_state != req.state
    bot.slack.http_errors.clear()
    again = bot.slack.mark()
    bot.app.runner.sweep()
    posted = approval_posted(bot, again)
    bot.app.runner.sweep()  # in step now: not posted a second time
    assert len([c for c in bot.slack.calls[again:] if c.method == "chat.postMessage"
                and c.args.get("channel") == APPROVAL_CHANNEL]) == 1
    approve(bot, posted)
    approval_outcome(bot, mark)
    assert len(router.pushes) == 1


def test_a_click_while_the_database_is_away_is_told_to_the_user(bot: RunningBot, router: FakeRouter,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """bench/chaos.py --seed 1 (issue 19): Configure clicked while PostgreSQL was restarting got
    200 with "Something went wrong" in the body, which Slack does not show for a button: the
    click was dropped without a word. Now the user is told through the response_url."""
    from sqlalchemy.exc import OperationalError

    v = make_session(bot.core, ip="192.0.2.10")

    def away(*a: object, **kw: object) -> None:
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))

    monkeypatch.setattr(bot.app.runner.requests, "request", away)
    mark = bot.slack.mark()
    assert bot.send.button(Action.CONFIGURE, str(v.id)).status_code == 200
    told = bot.slack.wait_for("response_url", has("Something went wrong"), after=mark)
    assert told.args.get("response_type") == "ephemeral" and "connection refused" not in dump(told.args)
    assert requests_in_db(bot) == [] and router.pushes == []


def test_an_approval_message_claimed_by_a_process_that_died_is_posted_by_the_sweep(bot: RunningBot,
                                                                                   router: FakeRouter) -> None:
    """bench/chaos.py --seed 4 (issue 19): a process killed (-9) while it posted an approval
    message left approval_ts = "posting" for good: no process posted it, no approver saw it.
    A claim another process holds right now is left to it; one older than ANNOUNCE_STALE is
    taken over by the sweep, and the message is posted once."""
    from bot.changes.requests import ANNOUNCE_STALE

    v = make_session(bot.core, ip="192.0.2.10")
    requests = ChangeRequests(bot.core)
    rid = requests.request("cli:alice", "configure", [v.id]).id
    assert requests.claim_announcement(rid)  # another process is posting it now
    mark = bot.slack.mark()
    bot.app.runner.sweep()
    assert not [c for c in bot.slack.calls[mark:] if c.method == "chat.postMessage"]
    assert requests_in_db(bot)[0].reported_state is None  # not in step: the next sweep looks again
    died = f"posting:{int(time.time()) - ANNOUNCE_STALE - 1:010d}"  # ... and it died doing so
    with bot.core.db.session() as s:
        s.execute(update(ChangeRequest).where(ChangeRequest.id == rid).values(approval_ts=died))
    bot.app.runner.sweep()
    posted = approval_posted(bot, mark)
    bot.app.runner.sweep()
    assert len([c for c in bot.slack.calls[mark:] if c.method == "chat.postMessage"
                and c.args.get("channel") == APPROVAL_CHANNEL]) == 1
    approve(bot, posted)
    approval_outcome(bot, mark)
    assert len(router.pushes) == 1
