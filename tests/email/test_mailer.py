"""bot/email/smtp.py against a real SMTP server (aiosmtpd on 127.0.0.1)."""
from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.email.smtp import (
    Mail, MailAuthFailed, MailError, Mailer, MailNotConfigured, MailServerUnavailable, RecipientsRefused, SmtpConfig,
)
from tests.email.conftest import SMTP_PASSWORD, SMTP_USER, AuthServer, SmtpServer, TlsFiles, wait_for_mail

# aiosmtpd warns about AUTH without TLS: the test server is a loopback relay on purpose
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


def mail(**kw: object) -> Mail:
    base = dict(sender="peering@example.net", sender_name="Example Peering", to=["noc@peer.example"],
                cc=["log@example.net"], subject="Hello AS65601", body="Line one\n.\nLine three",
                to_names={"noc@peer.example": "Nick Noc"})
    return Mail(**{**base, **kw})  # type: ignore[arg-type]


def test_sends_with_headers_and_envelope(smtp_server: SmtpServer) -> None:
    message_id = Mailer(SmtpConfig.from_url(smtp_server.url)).send(mail())
    got = wait_for_mail(smtp_server.inbox)[0]
    assert got.mail_from == "peering@example.net"
    assert got.rcpt_tos == ["noc@peer.example", "log@example.net"]
    m = got.message
    assert m["From"] == "Example Peering <peering@example.net>"
    assert m["To"] == "Nick Noc <noc@peer.example>" and m["Cc"] == "log@example.net"
    assert m["Subject"] == "Hello AS65601" and m["Message-ID"] == message_id and m["Date"]
    assert m.get_content().replace("\r\n", "\n") == "Line one\n.\nLine three\n"  # the lone dot survives


def test_a_refused_recipient_is_named_and_nothing_is_sent(smtp_server: SmtpServer) -> None:
    smtp_server.inbox.refuse.add("gone@peer.example")
    with pytest.raises(RecipientsRefused) as err:
        Mailer(SmtpConfig.from_url(smtp_server.url)).send(mail(to=["noc@peer.example", "gone@peer.example"]))
    assert "gone@peer.example" in str(err.value) and "550" in str(err.value)
    assert "noc@peer.example" not in str(err.value)
    assert err.value.refused.keys() == {"gone@peer.example"}
    # the accepted recipient got nothing either: no half mailings
    Mailer(SmtpConfig.from_url(smtp_server.url)).send(mail(subject="after"))  # the connection state was clean
    got = wait_for_mail(smtp_server.inbox)
    assert [r.message["Subject"] for r in got] == ["after"]


def test_server_down_is_a_one_line_error(closed_port: int) -> None:
    with pytest.raises(MailServerUnavailable) as err:
        Mailer(SmtpConfig.from_url(f"smtp://127.0.0.1:{closed_port}", timeout=5)).send(mail())
    assert str(err.value) == f"Cannot reach the SMTP server 127.0.0.1:{closed_port} (connection refused). Nothing was sent."


def auth_config(server: SmtpServer, password: str = SMTP_PASSWORD, scheme: str = "smtp", **kw: object) -> SmtpConfig:
    return SmtpConfig.from_url(f"{scheme}://{server.host}:{server.port}", username=SMTP_USER,
                               password=SecretStr(password), **kw)  # type: ignore[arg-type]


def test_starttls_then_login(starttls_server: AuthServer, tls_files: TlsFiles) -> None:
    Mailer(auth_config(starttls_server, ca_file=str(tls_files.cert))).send(mail())
    assert len(wait_for_mail(starttls_server.inbox)) == 1
    assert starttls_server.logins.attempts == [(SMTP_USER, True)]  # the password went over TLS


def test_a_refused_login_never_shows_the_password(starttls_server: AuthServer, tls_files: TlsFiles) -> None:
    bad = auth_config(starttls_server, "wrong-Passw0rd", ca_file=str(tls_files.cert))
    with pytest.raises(MailAuthFailed) as err:
        Mailer(bad).send(mail())
    assert "535" in str(err.value) and "PEERBOT_SMTP_USERNAME" in str(err.value)
    assert "wrong-Passw0rd" not in str(err.value) and "wrong-Passw0rd" not in repr(bad)
    with pytest.raises(MailError):  # the server wants a login: without one nothing is sent
        Mailer(SmtpConfig.from_url(starttls_server.url, ca_file=str(tls_files.cert))).send(mail())
    assert starttls_server.inbox.messages == []


def test_implicit_tls(smtps_server: AuthServer, tls_files: TlsFiles) -> None:
    Mailer(auth_config(smtps_server, scheme="smtps", ca_file=str(tls_files.cert))).send(mail())
    assert len(wait_for_mail(smtps_server.inbox)) == 1
    assert smtps_server.logins.attempts == [(SMTP_USER, True)]


def test_an_untrusted_certificate_gets_no_password(starttls_server: AuthServer) -> None:
    with pytest.raises(MailServerUnavailable, match="certificate not trusted"):
        Mailer(auth_config(starttls_server)).send(mail())  # system CAs do not know the test server
    assert starttls_server.logins.attempts == [] and starttls_server.inbox.messages == []


def test_no_password_to_a_server_without_tls(plain_auth_server: AuthServer) -> None:
    with pytest.raises(MailError, match="offers no TLS") as err:
        Mailer(auth_config(plain_auth_server)).send(mail())
    assert SMTP_PASSWORD not in str(err.value)
    assert plain_auth_server.logins.attempts == [] and plain_auth_server.inbox.messages == []


def test_a_bad_ca_file_is_a_configuration_error(smtp_server: SmtpServer, tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "ca.pem").write_text("not a certificate")
    with pytest.raises(MailNotConfigured, match="PEERBOT_SMTP_CA_FILE"):
        Mailer(SmtpConfig.from_url(smtp_server.url.replace("smtp:", "smtps:"), ca_file=str(tmp_path / "ca.pem"))).send(mail())


@pytest.mark.parametrize("url, message", [
    ("http://mail.example.net", "malformed"),
    ("smtp://", "malformed"),
    ("smtp://mail.example.net:99999", "malformed"),
    ("smtp://user:hunter2@mail.example.net:587", "must not hold credentials"),
])
def test_bad_smtp_urls(url: str, message: str) -> None:
    with pytest.raises(MailNotConfigured) as err:
        SmtpConfig.from_url(url)
    assert message in str(err.value) and "hunter2" not in str(err.value)


def test_smtps_defaults() -> None:
    cfg = SmtpConfig.from_url("smtps://mail.example.net")
    assert cfg.implicit_tls and cfg.port == 465 and cfg.where == "mail.example.net:465"


@pytest.mark.parametrize("field, value", [
    ("subject", "Hello\r\nBcc: victim@example.org"),
    ("to", ["noc@peer.example\r\nBcc: victim@example.org"]),
    ("to", ["not an address"]),
])
def test_header_injection_is_refused_before_connecting(closed_port: int, field: str, value: object) -> None:
    with pytest.raises(MailError) as err:  # not MailServerUnavailable: refused before any connection
        Mailer(SmtpConfig.from_url(f"smtp://127.0.0.1:{closed_port}")).send(mail(**{field: value}))
    assert not isinstance(err.value, MailServerUnavailable)
