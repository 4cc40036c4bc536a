"""The Email button through the real Bolt app (signed requests, fake Slack API) and a real SMTP
server (aiosmtpd): modal, template change, inline errors, sending after the ack, the result."""
from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from handlers.ids import Action, Callback
from storage.models import EmailLog
from tests.email.conftest import MAIL_CC, SmtpServer, seed_network, wait_for_mail
from tests.factories import make_session
from tests.harness.bot import VIEWER, RunningBot, dump, has

MD5 = "Md5-Secr3t-Key"


@pytest.fixture
def sid(bot: RunningBot) -> int:
    seed_network(bot.core)
    return make_session(bot.core, ip="192.0.2.10", asn="65601", name="Example Peer", md5=MD5).id


def open_email(bot: RunningBot, sid: int) -> dict[str, Any]:
    mark = bot.slack.mark()
    assert bot.send.button(Action.EMAIL, str(sid)).status_code == 200
    return bot.slack.wait_for("views.open", after=mark).args["view"]


def block(modal: dict[str, Any], action: str) -> dict[str, Any]:
    return next(b for b in modal["blocks"] if str(b.get("block_id", "")).split(":")[0] == action)


def values(modal: dict[str, Any], *, recipients: list[dict] | None = None, subject: str | None = None,
           body: str | None = None) -> dict[str, Any]:
    """The modal's state as Slack submits it: its initial values unless given."""
    r, s, b = block(modal, Action.EMAIL_RECIPIENTS), block(modal, Action.EMAIL_SUBJECT), block(modal, Action.EMAIL_BODY)
    picked = r["element"].get("initial_options", []) if recipients is None else recipients
    return {
        r["block_id"]: {Action.EMAIL_RECIPIENTS: {"type": "multi_static_select", "selected_options": picked}},
        s["block_id"]: {Action.EMAIL_SUBJECT: {"type": "plain_text_input",
                                               "value": s["element"]["initial_value"] if subject is None else subject}},
        b["block_id"]: {Action.EMAIL_BODY: {"type": "plain_text_input",
                                            "value": b["element"]["initial_value"] if body is None else body}},
    }


def logs(bot: RunningBot) -> list[EmailLog]:
    with bot.core.db.session() as s:
        return list(s.scalars(select(EmailLog)))


def test_detail_shows_the_email_button(bot: RunningBot, sid: int) -> None:
    mark = bot.slack.mark()
    bot.send.command(f"show {sid}")
    blocks = bot.slack.wait_for("response_url", after=mark).args["blocks"]
    assert Action.EMAIL in {e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]}


def test_email_modal_sends_and_updates_the_detail(bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    modal = open_email(bot, sid)
    assert modal["callback_id"] == Callback.EMAIL and modal["submit"]["text"] == "Send"
    assert json.loads(modal["private_metadata"]) == {"s": sid, "c": "C111", "ts": "1700000000.000001",
                                                     "t": "peering_request"}
    to = block(modal, Action.EMAIL_RECIPIENTS)["element"]
    assert [o["value"] for o in to["initial_options"]] == ["policy@peer.example"]  # not configured yet: a request
    assert [o["value"] for o in to["options"]][:1] == ["policy@peer.example"] and len(to["options"]) == 4
    body = block(modal, Action.EMAIL_BODY)["element"]["initial_value"]
    assert "192.0.2.10" in body and "AS64500" in body and "out-of-band" in body
    assert MD5 not in dump(modal)

    mark = bot.slack.mark()
    r = bot.send.view_submission(modal, values(modal, subject="Peering with AS64500?"))
    assert r.status_code == 200 and r.text == ""  # closes the modal; SMTP runs after the ack
    got = wait_for_mail(smtp_server.inbox)[0]
    m = got.message
    assert m["From"] == "Example Peering <peering@example.net>" and m["To"] == "Pat Policy <policy@peer.example>"
    assert m["Cc"] == MAIL_CC and m["Subject"] == "Peering with AS64500?"
    assert "192.0.2.10" in m.get_content() and MD5 not in m.as_string()
    update = bot.slack.wait_for("chat.update", has("sent by"), after=mark).args
    assert update["channel"] == "C111" and update["ts"] == "1700000000.000001"
    shown = dump(update["blocks"])
    assert "Peering request" in shown and "policy@peer.example" in shown and "Last email" in shown
    [row] = logs(bot)
    assert (row.session_id, row.actor, row.recipients, row.template) == (sid, "U111", ["policy@peer.example"],
                                                                         "peering_request")
    # and every later detail of the session shows it
    mark = bot.slack.mark()
    bot.send.command(f"show {sid}")
    detail = dump(bot.slack.wait_for("response_url", after=mark).args["blocks"])
    assert "Last email" in detail and "<@U111>" in detail and "policy@peer.example" in detail


def test_changing_the_template_redrafts_the_modal(bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    modal = open_email(bot, sid)
    mark = bot.slack.mark()
    choice = {"text": {"type": "plain_text", "text": "Session down, please check"}, "value": "session_down"}
    bot.send.view_action(modal, {"action_id": Action.EMAIL_TEMPLATE, "type": "static_select", "selected_option": choice},
                         values(modal), view_id="V00042")
    call = bot.slack.wait_for("views.update", after=mark).args
    assert call["view_id"] == "V00042"
    new = call["view"]
    assert json.loads(new["private_metadata"])["t"] == "session_down"
    # new block ids, so Slack shows the new text instead of what was typed in the old one
    assert block(new, Action.EMAIL_SUBJECT)["block_id"] == f"{Action.EMAIL_SUBJECT}:session_down"
    assert block(new, Action.EMAIL_SUBJECT)["element"]["initial_value"].startswith("BGP session down")
    picked = {o["value"] for o in block(new, Action.EMAIL_RECIPIENTS)["element"]["initial_options"]}
    assert picked == {"noc@peer.example", "tech@peer.example"}
    assert bot.send.view_submission(new, values(new)).text == ""
    got = wait_for_mail(smtp_server.inbox)[0]
    assert got.rcpt_tos[:2] == ["noc@peer.example", "tech@peer.example"]
    bot.slack.wait_for("chat.update", has("Session down, please check"), after=mark)
    assert logs(bot)[0].template == "session_down"


def test_inline_errors_and_nothing_sent(bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    modal = open_email(bot, sid)
    cases = [
        (values(modal, recipients=[]), Action.EMAIL_RECIPIENTS, "at least one recipient"),
        (values(modal, recipients=[{"text": {"type": "plain_text", "text": "x"}, "value": "attacker@evil.example"}]),
         Action.EMAIL_RECIPIENTS, "PeeringDB contacts"),
        (values(modal, subject="Hi\r\nBcc: attacker@evil.example"), Action.EMAIL_SUBJECT, "one line"),
        (values(modal, body="x" * 3001), Action.EMAIL_BODY, "too long"),
        (values(modal, body=f"the key is {MD5}"), Action.EMAIL_BODY, "out-of-band"),
    ]
    for state, action, text in cases:
        answer = bot.send.view_submission(modal, state).json()
        assert answer["response_action"] == "errors", action
        assert text in answer["errors"][f"{action}:peering_request"], answer
        assert MD5 not in dump(answer)
    # the lazy listener runs after an `errors` ack too: it must send nothing and say nothing
    mark = bot.slack.mark()
    assert bot.send.view_submission(modal, values(modal)).text == ""
    bot.slack.wait_for("chat.update", has("sent by"), after=mark)
    assert len(wait_for_mail(smtp_server.inbox)) == 1 and len(logs(bot)) == 1
    assert not bot.slack.of("chat.postEphemeral")


def test_a_viewer_is_not_allowed(bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    mark = bot.slack.mark()
    bot.send.button(Action.EMAIL, str(sid), user=VIEWER)
    reply = bot.slack.wait_for("response_url", has("not allowed"), after=mark).args
    assert reply["response_type"] == "ephemeral" and "operator" in dump(reply)
    assert not bot.slack.of("views.open")
    # nor by submitting a modal opened by someone else
    modal = open_email(bot, sid)
    answer = bot.send.view_submission(modal, values(modal), user=VIEWER).json()
    assert answer["response_action"] == "errors"
    assert "not allowed to send email" in answer["errors"][f"{Action.EMAIL_RECIPIENTS}:peering_request"]
    assert smtp_server.inbox.messages == [] and logs(bot) == []


def test_refused_recipient_is_reported_and_nothing_recorded(bot: RunningBot, sid: int, smtp_server: SmtpServer) -> None:
    smtp_server.inbox.refuse.add("policy@peer.example")
    modal = open_email(bot, sid)
    mark = bot.slack.mark()
    assert bot.send.view_submission(modal, values(modal)).text == ""
    told = bot.slack.wait_for("chat.postEphemeral", has("Email not sent"), after=mark).args
    assert told["channel"] == "C111" and told["user"] == "U111"
    assert "policy@peer.example" in dump(told) and "550" in dump(told)
    assert smtp_server.inbox.messages == [] and logs(bot) == []
    assert not [c for c in bot.slack.calls[mark:] if c.method == "chat.update"]


def test_smtp_down_is_reported(bot: RunningBot, sid: int, closed_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    modal = open_email(bot, sid)
    monkeypatch.setattr(bot.core, "settings", bot.core.settings.model_copy(
        update={"smtp_url": f"smtp://127.0.0.1:{closed_port}"}))
    mark = bot.slack.mark()
    assert bot.send.view_submission(modal, values(modal)).text == ""
    told = bot.slack.wait_for("chat.postEphemeral", has("Email not sent"), after=mark).args
    assert "Cannot reach the SMTP server" in dump(told) and "connection refused" in dump(told)
    assert logs(bot) == []


def test_peer_without_contacts_is_told_at_the_button(bot: RunningBot) -> None:
    v = make_session(bot.core, ip="192.0.2.20", asn="65602", name="Nobody Net")
    mark = bot.slack.mark()
    bot.send.button(Action.EMAIL, str(v.id))
    reply = bot.slack.wait_for("response_url", after=mark).args
    assert reply["response_type"] == "ephemeral" and "not in the PeeringDB mirror" in dump(reply)
    assert not bot.slack.of("views.open")


def test_a_template_that_fails_keeps_the_form(bot: RunningBot, sid: int, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "session_down.j2").write_text("Subject: {{ typo_here }}\n\nx\n")
    monkeypatch.setattr(bot.core, "settings", bot.core.settings.model_copy(update={"templates_dir": tmp_path}))
    modal = open_email(bot, sid)
    mark = bot.slack.mark()
    choice = {"text": {"type": "plain_text", "text": "Session down, please check"}, "value": "session_down"}
    bot.send.view_action(modal, {"action_id": Action.EMAIL_TEMPLATE, "type": "static_select", "selected_option": choice},
                         values(modal))
    pushed = bot.slack.wait_for("views.push", after=mark).args["view"]
    assert "session_down.j2 failed to render" in dump(pushed) and "typo_here" not in dump(pushed)
    assert not [c for c in bot.slack.calls[mark:] if c.method == "views.update"]  # the form stays as it was
