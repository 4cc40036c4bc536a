"""bot/email/service.py: contacts from the PeeringDB mirror, templates, sending through a real
SMTP server (aiosmtpd), and what is recorded."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.base.errors import InvalidInput, NotFound, PermissionDenied
from bot.email.smtp import MailNotConfigured, MailServerUnavailable, RecipientsRefused
from bot.email.service import EmailTemplateError, NoContacts, Template, compose, last_email, send
from bot.sessions.queries import get_session
from storage.models import AuditEvent, EmailLog
from tests.email.conftest import MAIL_CC, SmtpServer, link_peer, seed_network, wait_for_mail
from tests.factories import make_session

MD5 = "Md5-Secr3t-Key"


@pytest.fixture
def sid(inventory_core: Core) -> int:
    seed_network(inventory_core)
    return make_session(inventory_core, ip="192.0.2.10", asn="65601", name="Example Peer", md5=MD5).id


def logs(core: Core) -> list[EmailLog]:
    with core.db.session() as s:
        return list(s.scalars(select(EmailLog)))


def audits(core: Core) -> list[AuditEvent]:
    with core.db.session() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == "email_send")))


def with_settings(core: Core, monkeypatch: pytest.MonkeyPatch, **update: object) -> None:
    monkeypatch.setattr(core, "settings", core.settings.model_copy(update=update))


def test_peering_request_goes_to_policy_with_the_session_details(inventory_core: Core, sid: int) -> None:
    draft = compose(inventory_core, sid, Template.PEERING_REQUEST)
    assert draft.recipients == ("policy@peer.example",)
    # Policy first, then Technical/NOC; never Private, deleted or address-less contacts
    assert [c.role for c in draft.contacts] == ["Policy", "Technical", "NOC", "Abuse"]
    assert {c.email for c in draft.contacts} == {"policy@peer.example", "tech@peer.example", "noc@peer.example",
                                                 "abuse@peer.example"}
    assert draft.subject == "Peering request: AS64500 / AS65601 at EXAMPLE-IX"
    body = draft.body
    for expected in ("AS64500", "AS65601", "192.0.2.10", "EXAMPLE-IX", "AS-EXAMPLE", "250",
                     "192.0.2.1, 192.0.2.5, 192.0.2.9, 2001:db8::1", "out-of-band"):
        assert expected in body, expected
    assert MD5 not in body and MD5 not in draft.subject
    assert draft.cc == (MAIL_CC,) and draft.sender == "peering@example.net"


@pytest.mark.parametrize("template", [Template.SESSION_CONFIGURED, Template.SESSION_DOWN])
def test_operations_mail_goes_to_noc_and_technical(inventory_core: Core, sid: int, template: Template) -> None:
    draft = compose(inventory_core, sid, template)
    assert set(draft.recipients) == {"noc@peer.example", "tech@peer.example"}
    assert [c.role for c in draft.contacts][:2] == ["NOC", "Technical"]
    assert "192.0.2.10" in draft.subject and MD5 not in draft.body


def test_the_peeringdb_network_of_the_peer_comes_before_its_asn(inventory_core: Core, sid: int) -> None:
    seed_network(inventory_core, net_id=777, asn=65601, name="Example Peer (new record)", first_poc_id=9500,
                 contacts=[("Policy", "Public", "New Policy", "policy@new.example", "ok")])
    link_peer(inventory_core, 65601, 777)
    assert compose(inventory_core, sid, Template.PEERING_REQUEST).recipients == ("policy@new.example",)


def test_falls_back_to_other_roles(inventory_core: Core) -> None:
    seed_network(inventory_core, contacts=[("Abuse", "Public", "A", "abuse@peer.example", "ok"),
                                           ("NOC", "Users", "N", "noc@peer.example", "ok")])
    v = make_session(inventory_core, ip="192.0.2.10", asn="65601")
    assert compose(inventory_core, v.id, Template.PEERING_REQUEST).recipients == ("noc@peer.example",)


def test_send_delivers_and_records(inventory_core: Core, sid: int, smtp_server: SmtpServer) -> None:
    draft = compose(inventory_core, sid, Template.PEERING_REQUEST)
    record = send(inventory_core, sid, "U111", draft)
    got = wait_for_mail(smtp_server.inbox)[0]
    m = got.message
    assert m["From"] == "Example Peering <peering@example.net>"
    assert m["To"] == "Pat Policy <policy@peer.example>"
    assert m["Cc"] == MAIL_CC and m["Subject"] == draft.subject
    assert got.rcpt_tos == ["policy@peer.example", MAIL_CC] and got.mail_from == "peering@example.net"
    text = m.get_content()
    assert "192.0.2.10" in text and "AS64500" in text and MD5 not in m.as_string()
    assert record.recipients == ("policy@peer.example",) and record.actor == "U111"
    [row] = logs(inventory_core)
    assert (row.session_id, row.actor, row.template, row.recipients, row.cc) == (
        sid, "U111", "peering_request", ["policy@peer.example"], [MAIL_CC])
    assert row.message_id == m["Message-ID"]
    [event] = audits(inventory_core)
    assert event.outcome == "ok" and event.after["to"] == ["policy@peer.example"]
    last = last_email(inventory_core.db, sid)
    assert last is not None and last.template_label == "Peering request"
    shown = get_session(inventory_core.db, sid).last_email
    assert shown is not None and shown.actor == "U111" and shown.recipients == ("policy@peer.example",)


def test_edited_draft_is_what_is_sent(inventory_core: Core, sid: int, smtp_server: SmtpServer) -> None:
    draft = compose(inventory_core, sid, Template.SESSION_DOWN).edited(
        recipients=["NOC@peer.example"], subject="  Please check AS65601  ", body="Edited body.\n")
    send(inventory_core, sid, "U111", draft)
    got = wait_for_mail(smtp_server.inbox)[0]
    assert got.message["To"] == "Nick Noc <noc@peer.example>"  # as PeeringDB spells it
    assert got.message["Subject"] == "Please check AS65601" and got.message.get_content().replace("\r\n", "\n") == "Edited body.\n"
    assert logs(inventory_core)[0].template == "session_down"


def test_refused_recipient_is_named_and_nothing_recorded(inventory_core: Core, sid: int, smtp_server: SmtpServer) -> None:
    smtp_server.inbox.refuse.add("policy@peer.example")
    draft = compose(inventory_core, sid, Template.PEERING_REQUEST)
    with pytest.raises(RecipientsRefused) as err:
        send(inventory_core, sid, "U111", draft)
    assert "policy@peer.example" in str(err.value)
    assert smtp_server.inbox.messages == [] and logs(inventory_core) == []
    assert get_session(inventory_core.db, sid).last_email is None
    [event] = audits(inventory_core)  # the attempt is in the audit, as a failure
    assert event.outcome == "error" and "policy@peer.example" in event.detail


def test_smtp_down_is_an_error_and_nothing_recorded(inventory_core: Core, sid: int, closed_port: int,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    draft = compose(inventory_core, sid, Template.PEERING_REQUEST)
    with_settings(inventory_core, monkeypatch, smtp_url=f"smtp://127.0.0.1:{closed_port}")
    with pytest.raises(MailServerUnavailable) as err:
        send(inventory_core, sid, "U111", draft)
    assert "connection refused" in str(err.value)
    assert logs(inventory_core) == []


def test_peer_without_contacts(inventory_core: Core) -> None:
    v = make_session(inventory_core, ip="192.0.2.10", asn="65601", name="Example Peer")
    with pytest.raises(NoContacts, match="not in the PeeringDB mirror"):
        compose(inventory_core, v.id, Template.PEERING_REQUEST)
    seed_network(inventory_core, contacts=[("Policy", "Private", "P", "private@peer.example", "ok"),
                                           ("NOC", "Public", "N", None, "ok")])
    with pytest.raises(NoContacts, match="lists no public contact"):
        compose(inventory_core, v.id, Template.PEERING_REQUEST)


def test_a_viewer_may_not_send(inventory_core: Core, sid: int, smtp_server: SmtpServer) -> None:
    draft = compose(inventory_core, sid, Template.PEERING_REQUEST)
    with pytest.raises(PermissionDenied, match="not allowed to send email"):
        send(inventory_core, sid, "U999", draft)
    assert smtp_server.inbox.messages == [] and logs(inventory_core) == []


@pytest.mark.parametrize("edit, field", [
    ({"recipients": []}, "recipients"),
    ({"recipients": ["attacker@evil.example"]}, "recipients"),  # only the peer's contacts
    ({"subject": "Hello\r\nBcc: attacker@evil.example"}, "subject"),
    ({"subject": "Hello\nthere"}, "subject"),
    ({"subject": "   "}, "subject"),
    ({"body": "x" * 3001}, "body"),
    ({"body": f"Our key is {MD5}"}, "body"),
])
def test_bad_drafts_are_refused_field_by_field(inventory_core: Core, sid: int, smtp_server: SmtpServer,
                                               edit: dict, field: str) -> None:
    draft = compose(inventory_core, sid, Template.PEERING_REQUEST)
    draft = draft.edited(recipients=edit.get("recipients", draft.recipients), subject=edit.get("subject", draft.subject),
                         body=edit.get("body", draft.body))
    with pytest.raises(InvalidInput) as err:
        send(inventory_core, sid, "U111", draft)
    assert list(err.value.errors) == [field]
    assert MD5 not in str(err.value)
    assert smtp_server.inbox.messages == [] and logs(inventory_core) == []


def test_templates_can_be_overridden(inventory_core: Core, sid: int, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tpl" / "email").mkdir(parents=True)
    (tmp_path / "tpl" / "email" / "peering_request.j2").write_text(
        "Subject: Let's peer, AS{{ peer_asn }}\n\nHi {{ peer_name }}, from AS{{ our_asn }}.\n")
    with_settings(inventory_core, monkeypatch, templates_dir=tmp_path / "tpl")
    draft = compose(inventory_core, sid, Template.PEERING_REQUEST)
    assert (draft.subject, draft.body) == ("Let's peer, AS65601", "Hi Example Peer, from AS64500.")
    # the others still come from the package
    assert compose(inventory_core, sid, Template.SESSION_CONFIGURED).subject.startswith("BGP session configured")
    # (an override is found when its template is first used: add overrides before starting peerbot)
    (tmp_path / "tpl" / "email" / "session_down.j2").write_text("Subject: {{ no_such_variable }}\n\nx\n")
    with pytest.raises(EmailTemplateError, match="session_down.j2 failed to render"):
        compose(inventory_core, sid, Template.SESSION_DOWN)


def test_not_configured_and_unknown_things(inventory_core: Core, sid: int, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(InvalidInput):
        compose(inventory_core, sid, "birthday_card")
    with pytest.raises(NotFound):
        compose(inventory_core, 99999, Template.PEERING_REQUEST)
    with_settings(inventory_core, monkeypatch, smtp_url=None)
    with pytest.raises(MailNotConfigured, match="PEERBOT_SMTP_URL"):
        compose(inventory_core, sid, Template.PEERING_REQUEST)
