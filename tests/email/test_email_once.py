"""Issue 21: one Send is one mail, whatever arrives twice. Signed view submissions at the real
Bolt app (fake Slack API), a real SMTP server (aiosmtpd), on SQLite and PostgreSQL: duplicates at
once, 1.5 s apart, a Slack retry, a replay to a second process; a Send whose outcome is unknown is
shown with Send again and never resent by itself; a new Email modal still sends a second mail."""
from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select, update

from bot.base.errors import Conflict
from bot.core import Core
from bot.email.service import Draft, SendState, claim, compose, deliver, mark_unknown, submission_key
from bot.email.smtp import Mail, Mailer, MailOutcomeUnknown, SmtpConfig
from bot.sessions.inventory import load_inventory
from handlers.ids import Action
from handlers.views.email import submitted
from storage.models import AuditEvent, EmailLog, EmailSend, utcnow
from tests.conftest import INVENTORY
from tests.email.conftest import MAIL_CC, MAIL_FROM, SmtpServer, seed_network, wait_for_mail
from tests.email.test_email_slack import open_email, values
from tests.factories import make_session
from tests.harness.bot import SIGNING_SECRET, RunningBot, dump, has, settings_for, start_bot
from tests.harness.fake_slack import FakeSlack
from tests.harness.slack_requests import SlackSender

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def once_bot(database_url: str, slack: FakeSlack, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[RunningBot]:
    """The running bot mailing through the test SMTP server, on each database."""
    core = Core.from_settings(settings_for(database_url, slack, tmp_path, PEERBOT_SMTP_URL=smtp_server.url,
                                           PEERBOT_MAIL_FROM=MAIL_FROM, PEERBOT_MAIL_CC=MAIL_CC))
    load_inventory(core.db, INVENTORY)
    running = start_bot(core, slack)
    yield running
    running.stop()
    core.db.dispose()


@pytest.fixture
def sid(once_bot: RunningBot) -> int:
    seed_network(once_bot.core)
    return make_session(once_bot.core, ip="192.0.2.10", asn="65601", name="Example Peer").id


def counts(core: Core) -> tuple[int, int, int]:
    """(email_send rows, email_log rows, email_send audit rows)"""
    with core.db.session() as s:
        return (len(list(s.scalars(select(EmailSend.id)))), len(list(s.scalars(select(EmailLog.id)))),
                len(list(s.scalars(select(AuditEvent.id).where(AuditEvent.action == "email_send")))))


def settle(bot: RunningBot, timeout: float = 10.0) -> None:
    """Every worker job has finished (a second mail, if any, would have gone by now)."""
    workers = bot.app.runner.workers  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while workers.queued and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not workers.queued, "worker jobs still running"
    time.sleep(0.3)


def at_once(*calls: Callable[[], requests.Response]) -> list[requests.Response]:
    """Run the calls in threads released together."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        out[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(15)
    return out


def sender(bot: RunningBot) -> SlackSender:
    """A sender with a connection of its own (requests.Session is not for concurrent use)."""
    return SlackSender(bot.send.endpoint, SIGNING_SECRET, bot.send.response_url)


def duplicates_answered(responses: list[requests.Response]) -> list[str]:
    """The answers past the first Send: modals saying it is (being) sent."""
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    closed = [r for r in responses if r.text == ""]
    assert len(closed) == 1, [r.text for r in responses]  # exactly one ack closed the modal and sent
    return [dump(r.json()) for r in responses if r.text != ""]


@pytest.mark.parametrize("copies", [2, 3])
def test_the_same_submission_at_once_mails_once(once_bot: RunningBot, sid: int, smtp_server: SmtpServer,
                                                copies: int) -> None:
    modal = open_email(once_bot, sid)
    state = values(modal)
    senders = [sender(once_bot) for _ in range(copies)]
    responses = at_once(*[lambda s=s: s.view_submission(modal, state, view_id="VDUP1") for s in senders])
    for answer in duplicates_answered(responses):
        assert "response_action" in answer and ("being sent" in answer or "already sent" in answer), answer
        assert "not sent twice" in answer
    wait_for_mail(smtp_server.inbox)
    settle(once_bot)
    assert len(smtp_server.inbox.messages) == 1
    assert counts(once_bot.core) == (1, 1, 1)


def test_the_same_submission_15_seconds_apart_mails_once(once_bot: RunningBot, sid: int,
                                                          smtp_server: SmtpServer) -> None:
    modal = open_email(once_bot, sid)
    mark = once_bot.slack.mark()
    assert once_bot.send.view_submission(modal, values(modal), view_id="VDUP2").text == ""
    wait_for_mail(smtp_server.inbox)
    once_bot.slack.wait_for("chat.update", has("sent by"), after=mark)
    time.sleep(1.5)
    again = once_bot.send.view_submission(modal, values(modal), view_id="VDUP2").json()
    assert again["response_action"] == "update" and "already sent" in dump(again)
    settle(once_bot)
    assert len(smtp_server.inbox.messages) == 1
    assert counts(once_bot.core) == (1, 1, 1)


def test_a_slack_retry_mails_nothing(once_bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    modal = open_email(once_bot, sid)
    assert once_bot.send.view_submission(modal, values(modal), view_id="VRETRY").text == ""
    wait_for_mail(smtp_server.inbox)
    settle(once_bot)
    for n in (1, 2):
        r = once_bot.send.view_submission(modal, values(modal), view_id="VRETRY",
                                          headers={"X-Slack-Retry-Num": str(n), "X-Slack-Retry-Reason": "http_timeout"})
        assert r.status_code == 200 and "already sent" in r.text
    settle(once_bot)
    assert len(smtp_server.inbox.messages) == 1 and counts(once_bot.core) == (1, 1, 1)


def test_a_retry_racing_the_first_mails_once(once_bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    modal = open_email(once_bot, sid)
    state = values(modal)
    a, b = sender(once_bot), sender(once_bot)
    duplicates_answered(at_once(
        lambda: a.view_submission(modal, state, view_id="VRACE"),
        lambda: b.view_submission(modal, state, view_id="VRACE", headers={"X-Slack-Retry-Num": "1"})))
    wait_for_mail(smtp_server.inbox)
    settle(once_bot)
    assert len(smtp_server.inbox.messages) == 1 and counts(once_bot.core) == (1, 1, 1)


def test_a_new_email_modal_sends_a_second_mail(once_bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    first = open_email(once_bot, sid)
    assert once_bot.send.view_submission(first, values(first), view_id="VFIRST").text == ""
    wait_for_mail(smtp_server.inbox)
    second = open_email(once_bot, sid)  # the same text, deliberately, from a new modal
    assert once_bot.send.view_submission(second, values(second), view_id="VSECOND").text == ""
    got = wait_for_mail(smtp_server.inbox, 2)
    settle(once_bot)
    assert len(smtp_server.inbox.messages) == 2 and counts(once_bot.core) == (2, 2, 2)
    assert got[0].message["Message-ID"] != got[1].message["Message-ID"]


def test_an_edited_resubmission_after_an_error_is_its_own_send(once_bot: RunningBot, sid: int,
                                                               smtp_server: SmtpServer) -> None:
    modal = open_email(once_bot, sid)
    bad = once_bot.send.view_submission(modal, values(modal, subject="a\nb"), view_id="VEDIT").json()
    assert bad["response_action"] == "errors" and counts(once_bot.core) == (0, 0, 0)  # nothing claimed
    assert once_bot.send.view_submission(modal, values(modal, subject="Fixed"), view_id="VEDIT").text == ""
    assert wait_for_mail(smtp_server.inbox)[0].message["Subject"] == "Fixed"
    settle(once_bot)
    assert counts(once_bot.core) == (1, 1, 1)


def test_the_key_holds_no_message_text(once_bot: RunningBot, sid: int) -> None:
    draft = compose(once_bot.core, sid, "peering_request")
    key = submission_key("V123", "U111", draft)
    assert key.startswith("view:V123:") and len(key) <= 160
    assert draft.subject not in key and "peer.example" not in key and "192.0.2.10" not in key
    assert submission_key("V123", "U111", draft.edited(recipients=draft.recipients, subject="x", body=draft.body)) != key
    assert submission_key("V124", "U111", draft) != key


# -- outcome unknown -------------------------------------------------------------------------------
def cut_off_claim(bot: RunningBot, draft: Draft, key: str, minutes: int = 10) -> int:
    """A Send claimed by a process that died before it recorded the result, `minutes` ago."""
    claimed = claim(bot.core, "U111", draft, key, origin=("C111", "1700000000.000001"))
    with bot.core.db.session() as s:
        s.execute(update(EmailSend).where(EmailSend.id == claimed.id)
                  .values(claimed_at=utcnow() - timedelta(minutes=minutes)))
    return claimed.id


def detail(bot: RunningBot, sid: int) -> list[dict[str, Any]]:
    mark = bot.slack.mark()
    bot.send.command(f"show {sid}")
    return bot.slack.wait_for("response_url", after=mark).args["blocks"]


def again_buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b["accessory"] for b in blocks if (b.get("accessory") or {}).get("action_id") == Action.EMAIL_AGAIN]


def test_an_unknown_outcome_is_shown_with_send_again_and_never_resent(once_bot: RunningBot, sid: int,
                                                                     smtp_server: SmtpServer) -> None:
    draft = compose(once_bot.core, sid, "peering_request")
    recent = cut_off_claim(once_bot, draft, "view:VDEAD:0", minutes=1)
    assert not again_buttons(detail(once_bot, sid))  # still "sending": it may be under way
    with once_bot.core.db.session() as s:
        s.execute(update(EmailSend).where(EmailSend.id == recent).values(state="failed"))
    send_id = cut_off_claim(once_bot, draft, "view:VDEAD:1")
    blocks = detail(once_bot, sid)
    [button] = again_buttons(blocks)
    assert button["value"] == str(send_id) and "outcome unknown" in dump(blocks)
    assert mark_unknown(once_bot.core) == [send_id]  # marked so, audited; still nothing sent
    with once_bot.core.db.session() as s:
        assert s.get(EmailSend, send_id).state == "unknown"
        message_id = s.get(EmailSend, send_id).message_id
    time.sleep(0.5)
    assert smtp_server.inbox.messages == []
    # Send again, double-clicked: one mail, with the Message-ID of the Send it repeats
    mark = once_bot.slack.mark()
    a, b = sender(once_bot), sender(once_bot)
    at_once(lambda: a.button(Action.EMAIL_AGAIN, str(send_id)), lambda: b.button(Action.EMAIL_AGAIN, str(send_id)))
    got = wait_for_mail(smtp_server.inbox)
    settle(once_bot)
    assert len(smtp_server.inbox.messages) == 1 and got[0].message["Message-ID"] == message_id
    once_bot.slack.wait_for("chat.update", has("sent by"), after=mark)
    once_bot.slack.wait_for("response_url", has("not sent twice"), after=mark)  # the second click was told
    with once_bot.core.db.session() as s:
        rows = {r.id: r for r in s.scalars(select(EmailSend))}
    [again] = [r for r in rows.values() if r.again_of == send_id]
    assert again.key == f"again:{send_id}" and again.state == "sent" and rows[send_id].state == "unknown"
    assert not again_buttons(detail(once_bot, sid))  # sent again: no longer in doubt
    # and once sent, Send again of it again (an old button) sends nothing
    mark = once_bot.slack.mark()
    once_bot.send.button(Action.EMAIL_AGAIN, str(again.id))
    assert "not sent again" in dump(once_bot.slack.wait_for("response_url", after=mark).args)
    settle(once_bot)
    assert len(smtp_server.inbox.messages) == 1


def test_a_replay_of_a_cut_off_send_is_not_mailed(once_bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    modal = open_email(once_bot, sid)
    draft_values = values(modal)
    # the first arrival was claimed, then its process died before SMTP
    meta, recipients, subject, body = submitted({"private_metadata": modal["private_metadata"],
                                                 "state": {"values": draft_values}})
    draft = Draft(session_id=meta.session_id, template=meta.template, subject=subject, body=body,
                  recipients=tuple(recipients))
    cut_off_claim(once_bot, draft, submission_key("VCUT", "U111", draft))
    answer = once_bot.send.view_submission(modal, draft_values, view_id="VCUT").json()
    assert answer["response_action"] == "update" and "outcome is unknown" in dump(answer)
    settle(once_bot)
    assert smtp_server.inbox.messages == []


def test_a_connection_lost_during_data_is_an_unknown_outcome(once_bot: RunningBot, sid: int,
                                                             smtp_server: SmtpServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The server takes the message but its answer never comes (a timeout): it may have gone."""
    smtp_server.inbox.stall = 2.0
    monkeypatch.setattr(once_bot.core, "settings", once_bot.core.settings.model_copy(update={"smtp_timeout": 0.5}))
    modal = open_email(once_bot, sid)
    mark = once_bot.slack.mark()
    assert once_bot.send.view_submission(modal, values(modal), view_id="VSTALL").text == ""
    told = once_bot.slack.wait_for("chat.postEphemeral", has("outcome unknown"), after=mark).args
    assert "not sent again by itself" in dump(told)
    [button] = again_buttons(told["blocks"])
    settle(once_bot)
    with once_bot.core.db.session() as s:
        row = s.get(EmailSend, int(button["value"]))
        assert row.state == "unknown" and "may or may not" in row.outcome
        assert list(s.scalars(select(EmailLog))) == []
    assert again_buttons(detail(once_bot, sid))  # and the session shows it
    wait_for_mail(smtp_server.inbox)  # (the server did take it: that is why it is never resent by itself)


def test_a_failed_send_offers_send_again(once_bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    smtp_server.inbox.refuse.add("policy@peer.example")
    modal = open_email(once_bot, sid)
    mark = once_bot.slack.mark()
    assert once_bot.send.view_submission(modal, values(modal), view_id="VFAIL").text == ""
    told = once_bot.slack.wait_for("chat.postEphemeral", has("Email not sent"), after=mark).args
    [button] = again_buttons(told["blocks"])
    settle(once_bot)
    assert counts(once_bot.core) == (1, 0, 1)
    smtp_server.inbox.refuse.clear()  # the peer fixed their mailbox
    mark = once_bot.slack.mark()
    once_bot.send.button(Action.EMAIL_AGAIN, button["value"])
    wait_for_mail(smtp_server.inbox)
    once_bot.slack.wait_for("chat.update", has("sent by"), after=mark)
    settle(once_bot)
    assert len(smtp_server.inbox.messages) == 1 and counts(once_bot.core) == (2, 1, 2)
    assert not again_buttons(detail(once_bot, sid))  # a failed Send is not "in doubt"


def test_deliver_runs_smtp_once_per_claim(once_bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    draft = compose(once_bot.core, sid, "peering_request")
    claimed = claim(once_bot.core, "U111", draft, "call:test")
    assert claimed.created and claim(once_bot.core, "U111", draft, "call:test").created is False
    deliver(once_bot.core, claimed.id)
    with pytest.raises(Conflict):
        deliver(once_bot.core, claimed.id)
    assert len(wait_for_mail(smtp_server.inbox)) == 1
    with once_bot.core.db.session() as s:
        assert s.get(EmailSend, claimed.id).state == SendState.SENT.value


def test_mailer_lost_answer_to_data_is_unknown(smtp_server: SmtpServer) -> None:
    smtp_server.inbox.stall = 2.0
    mail = Mail(sender="peering@example.net", to=["noc@peer.example"], subject="s", body="b")
    with pytest.raises(MailOutcomeUnknown):
        Mailer(SmtpConfig(smtp_server.host, smtp_server.port, timeout=0.5)).send(mail)


# -- two processes ---------------------------------------------------------------------------------
@pytest.mark.postgres
def test_two_processes_given_the_same_submission_mail_once(once_bot: RunningBot, sid: int, smtp_server: SmtpServer,
                                                           database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("two processes share one database through PostgreSQL")
    modal = open_email(once_bot, sid)
    state = values(modal)
    procs = [subprocess.Popen([sys.executable, "-m", "tests.harness.run_bot", database_url, once_bot.slack.api_url,
                               smtp_server.url], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
             for _ in range(2)]
    try:
        endpoints = []
        for p in procs:
            line = p.stdout.readline()  # type: ignore[union-attr]
            assert line.startswith("ready "), (line, p.stderr.read() if p.poll() is not None else "")  # type: ignore[union-attr]
            endpoints.append(line.split()[1])
        senders = [SlackSender(e, SIGNING_SECRET, once_bot.send.response_url) for e in endpoints]
        for s in senders:  # both are up and answering
            assert s.command("help").status_code == 200
        responses = at_once(*[lambda s=s: s.view_submission(modal, state, view_id="VTWO") for s in senders])
        duplicates_answered(responses)
        wait_for_mail(smtp_server.inbox)
        time.sleep(2.0)  # time for a second mail, if one were coming
    finally:
        for p in procs:
            p.communicate(input="", timeout=30)
    assert all(p.returncode == 0 for p in procs), [p.returncode for p in procs]
    assert len(smtp_server.inbox.messages) == 1
    assert counts(once_bot.core) == (1, 1, 1)


def test_mailer_error_after_the_message_was_accepted_is_a_sent_mail(smtp_server: SmtpServer,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """A QUIT that times out after the 250 to the message: the mail went, it is no failure."""
    docmd = smtplib.SMTP.docmd

    def quit_times_out(self, cmd: str, args: str = ""):  # noqa: ANN001, ANN202
        if cmd.upper() == "QUIT":
            raise TimeoutError("timed out")
        return docmd(self, cmd, args)

    monkeypatch.setattr(smtplib.SMTP, "docmd", quit_times_out)
    mail = Mail(sender="peering@example.net", to=["noc@peer.example"], subject="s", body="b",
                message_id="<fixed.1@example.net>")
    assert Mailer(SmtpConfig(smtp_server.host, smtp_server.port, timeout=5)).send(mail) == "<fixed.1@example.net>"
    assert wait_for_mail(smtp_server.inbox)[0].message["Message-ID"] == "<fixed.1@example.net>"
