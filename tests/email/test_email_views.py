"""The Email modal and notes stay within Slack's limits (pure render functions)."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.base.errors import InvalidInput
from bot.email.service import MAX_BODY, Contact, Draft, EmailRecord, EmailSendView, SendState, Template
from bot.sessions.views import EmailInDoubt, LastEmail
from handlers.ids import Action
from handlers.views.email import (
    EmailMeta, already_message, already_modal, email_modal, failed_message, field_errors, in_doubt_block,
    last_email_line, sent_note, submitted, unknown_message,
)
from handlers.views.sessions import session_detail
from tests.unit.test_session_views import check_element, check_mrkdwn, view

NOW = datetime.now(timezone.utc)


def draft(n_contacts: int = 3, **kw: object) -> Draft:
    contacts = tuple(Contact(role="NOC" if i % 2 else "Policy", name=f"Contact {i} <&> " + "x" * 90,
                             email=f"c{i}@peer.example") for i in range(n_contacts))
    base = Draft(session_id=7, template=Template.PEERING_REQUEST, subject="S" * 200, body="b" * MAX_BODY,
                 recipients=tuple(c.email for c in contacts[:3]), contacts=contacts, cc=("log@example.net",),
                 sender="peering@example.net")
    return replace(base, **kw)


def test_modal_within_limits_with_many_contacts() -> None:
    meta = EmailMeta(7, "C" + "1" * 40, "1700000000.000001", Template.PEERING_REQUEST)
    modal = email_modal(draft(150), view(7, peer_name="N" * 300 + "<&>"), meta)
    assert len(modal["blocks"]) <= 100 and len(modal["title"]["text"]) <= 24
    assert len(modal["private_metadata"]) <= 3000
    to = next(b for b in modal["blocks"] if b.get("block_id") == f"{Action.EMAIL_RECIPIENTS}:peering_request")["element"]
    assert len(to["options"]) == 100 and all(o in to["options"] for o in to["initial_options"])
    for b in modal["blocks"]:
        if "element" in b:
            check_element(b["element"])
        for e in b.get("elements", []):
            if e.get("type") == "mrkdwn":
                check_mrkdwn(e["text"], 3000)
    assert EmailMeta.load(modal["private_metadata"]) == replace(meta, channel=meta.channel[:32])


def test_submitted_reads_the_modal_back() -> None:
    meta = EmailMeta(7, "C111", "1.2", Template.SESSION_DOWN)
    modal = email_modal(draft(template=Template.SESSION_DOWN), view(7), meta)
    state = {
        f"{Action.EMAIL_RECIPIENTS}:session_down": {Action.EMAIL_RECIPIENTS: {"selected_options": [{"value": "c1@peer.example"}]}},
        f"{Action.EMAIL_SUBJECT}:session_down": {Action.EMAIL_SUBJECT: {"value": "Subj"}},
        f"{Action.EMAIL_BODY}:session_down": {Action.EMAIL_BODY: {"value": "Body"}},
    }
    got = submitted({**modal, "state": {"values": state}})
    assert got == (meta, ["c1@peer.example"], "Subj", "Body")
    assert field_errors({"subject": "bad", "body": "long"}, Template.SESSION_DOWN) == {
        f"{Action.EMAIL_SUBJECT}:session_down": "bad", f"{Action.EMAIL_BODY}:session_down": "long"}


@pytest.mark.parametrize("text", ["", "{}", "[]", '{"s": "7", "t": "peering_request"}', '{"s": 7, "t": "x"}',
                                  '{"s": true, "t": "peering_request"}'])
def test_garbage_metadata_is_a_clear_error(text: str) -> None:
    with pytest.raises(InvalidInput, match="open Email again"):
        EmailMeta.load(text)


def test_last_email_on_the_detail_and_notes() -> None:
    last = LastEmail("U111", NOW - timedelta(hours=2), tuple(f"r{i}@peer.example" for i in range(8)), "session_down")
    line = last_email_line(last)
    assert "Session down, please check" in line and "<@U111>" in line and "2h ago" in line and "and 3 more" in line
    msg = json.dumps(session_detail(view(last_email=last), available={Action.EMAIL}))
    assert "Last email" in msg and Action.EMAIL in msg
    record = EmailRecord(1, 7, "label", "cli:alice", NOW, ("a@peer.example",), ("log@example.net",),
                         "peering_request", "Hi <there> & you")
    note = sent_note(record)
    assert "cli:alice" in note and "Hi &lt;there&gt; &amp; you" in note and "Cc log@example.net" in note
    check_mrkdwn(note, 3000)


def test_a_send_in_doubt_on_the_detail_and_the_answers_to_a_second_arrival() -> None:
    doubt = EmailInDoubt(42, "U111", NOW - timedelta(minutes=30), ("noc@peer.example",), "session_down",
                         "Down <!channel> & *x*")
    shown = json.dumps(session_detail(view(email_in_doubt=doubt), available={Action.EMAIL}))
    assert "outcome unknown" in shown and Action.EMAIL_AGAIN in shown and "<!channel>" not in shown
    assert Action.EMAIL_AGAIN not in json.dumps(session_detail(view(email_in_doubt=doubt)))  # no Email: no button
    block = in_doubt_block(doubt)
    assert block["accessory"]["value"] == "42"
    check_mrkdwn(block["text"]["text"], 3000)
    for state in SendState:
        claimed = EmailSendView(7, "view:V1:abc", 7, "label", "U111", state, NOW, NOW, ("noc@peer.example",),
                                "session_down", "Down <!channel>", "refused <!here>", None, None, None)
        for msg in (already_modal(claimed), already_message(claimed)):
            text = json.dumps(msg)
            assert "<!channel>" not in text and "<!here>" not in text and "not sent" in text
    for msg in (failed_message("550 <!here>", 7), unknown_message("broke <!here>", 7)):
        assert msg["blocks"][0]["accessory"]["action_id"] == Action.EMAIL_AGAIN and "<!here>" not in json.dumps(msg)
    assert "accessory" not in failed_message("not configured")["blocks"][0]
