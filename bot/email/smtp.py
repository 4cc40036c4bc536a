"""Sending one email over SMTP (smtplib), with errors that are safe to show.

`PEERBOT_SMTP_URL` is `smtp://host:587` (STARTTLS when the server offers it) or `smtps://host:465`
(TLS from the first byte). The server's certificate is verified (system CAs, or
PEERBOT_SMTP_CA_FILE for a private CA). The login comes from PEERBOT_SMTP_USERNAME /
PEERBOT_SMTP_PASSWORD and is only ever sent over TLS: a server that offers no STARTTLS gets no
password (a relay that needs no login, e.g. on localhost, works without TLS).

Recipients are offered one by one (RCPT TO) and the message is only handed over (DATA) when the
server accepted every one of them: a refused recipient means nothing was sent to anybody, never
half a mailing. Every failure is a `MailError` with a one-line message naming what failed (the
server, the recipient, the login) and never the password. A connection that breaks (or times
out) once the message is being handed over (DATA) is `MailOutcomeUnknown`: the server may have
taken it, so it must not be sent again without asking the user.
"""
from __future__ import annotations

import re
import smtplib
import socket
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formataddr, formatdate, make_msgid
from urllib.parse import urlsplit

from pydantic import SecretStr

from bot.base.errors import PeerbotError

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
# One address, no display name: what RCPT TO gets. ASCII only (no SMTPUTF8 needed), ≤ 254 characters.
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class MailError(PeerbotError):
    """Mail could not be sent; the message is one line, safe to show, without secrets."""


class MailNotConfigured(MailError):
    pass


class MailServerUnavailable(MailError):
    pass


class MailAuthFailed(MailError):
    pass


class MailOutcomeUnknown(MailError):
    """The connection broke while the message was handed over: it may or may not have been accepted."""


class RecipientsRefused(MailError):
    def __init__(self, refused: dict[str, tuple[int, str]]):
        self.refused = dict(refused)
        parts = [f"{addr} ({code} {text})".strip() for addr, (code, text) in refused.items()]
        super().__init__("The SMTP server refused the recipient(s) " + "; ".join(parts)
                         + ". Nothing was sent.")


def valid_address(address: str) -> bool:
    return len(address) <= 254 and bool(_ADDRESS.fullmatch(address))


def _server_text(raw: bytes | str | None) -> str:
    """The server's reply, as one short line (it is shown to users: no control characters)."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else (raw or "")
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= 120 else text[:119] + "…"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    implicit_tls: bool = False
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    timeout: float = 15.0
    ca_file: str | None = None  # CA bundle for the server's certificate; None: the system's

    @classmethod
    def from_url(cls, url: str, *, username: str | None = None, password: SecretStr | None = None,
                 timeout: float = 15.0, ca_file: str | None = None) -> SmtpConfig:
        """Parse PEERBOT_SMTP_URL. Errors never repeat the URL (someone may have put a password in it)."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise MailNotConfigured("PEERBOT_SMTP_URL is malformed: expected smtp://host:587 or smtps://host:465.") from None
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise MailNotConfigured("PEERBOT_SMTP_URL is malformed: expected smtp://host:587 or smtps://host:465.")
        if parts.username or parts.password:
            raise MailNotConfigured("PEERBOT_SMTP_URL must not hold credentials: use PEERBOT_SMTP_USERNAME and "
                                    "PEERBOT_SMTP_PASSWORD.")
        return cls(host=parts.hostname, port=port or DEFAULT_PORTS[parts.scheme],
                   implicit_tls=parts.scheme == "smtps", username=username or None,
                   password=password, timeout=timeout, ca_file=ca_file)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.ca_file)
        except (OSError, ssl.SSLError):
            raise MailNotConfigured("PEERBOT_SMTP_CA_FILE cannot be read as a PEM CA bundle.") from None


@dataclass(frozen=True)
class Mail:
    sender: str
    to: Sequence[str]
    subject: str
    body: str
    cc: Sequence[str] = ()
    sender_name: str = ""  # display name of the From header
    to_names: dict[str, str] = field(default_factory=dict)  # address -> display name, for the To header
    message_id: str | None = None  # "<…@…>"; None: a new one

    @property
    def envelope(self) -> list[str]:
        seen: dict[str, str] = {}
        for addr in [*self.to, *self.cc]:
            seen.setdefault(addr.lower(), addr)
        return list(seen.values())


def build_message(mail: Mail) -> EmailMessage:
    """The RFC 5322 message. Header values with CR/LF are refused by the SMTP policy (ValueError)."""
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = formataddr((mail.sender_name, mail.sender))
    msg["To"] = ", ".join(formataddr((mail.to_names.get(a, ""), a)) for a in mail.to)
    if mail.cc:
        msg["Cc"] = ", ".join(mail.cc)
    msg["Subject"] = mail.subject
    msg["Date"] = formatdate(usegmt=True)
    msg["Message-ID"] = mail.message_id or make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    msg.set_content(mail.body)
    return msg


class Mailer:
    def __init__(self, config: SmtpConfig):
        self.config = config

    def send(self, mail: Mail) -> str:
        """Send `mail`; the Message-ID on success. Raises MailError (and only MailError)."""
        for addr in [mail.sender, *mail.envelope]:
            if not valid_address(addr):
                raise MailError(f"'{_server_text(addr)[:60]}' is not an email address.")
        try:
            message = build_message(mail)
        except ValueError:
            raise MailError("The subject or an address contains a line break.") from None
        cfg = self.config
        # DATA started: from here a broken connection is an unknown outcome; accepted (250 to the
        # message): what fails afterwards (QUIT) changes nothing, the mail went
        phase = "before"
        try:
            with self._connect() as smtp:
                self._login(smtp)
                code, reply = smtp.mail(mail.sender)
                if code != 250:
                    _quiet_rset(smtp)
                    raise MailError(f"The SMTP server refused the sender {mail.sender} ({code} {_server_text(reply)}).")
                refused: dict[str, tuple[int, str]] = {}
                for rcpt in mail.envelope:
                    code, reply = smtp.rcpt(rcpt)
                    if code not in (250, 251):
                        refused[rcpt] = (code, _server_text(reply))
                if refused:
                    _quiet_rset(smtp)
                    raise RecipientsRefused(refused)
                phase = "data"
                code, reply = smtp.data(message.as_bytes())
                if code != 250:
                    raise MailError(f"The SMTP server refused the message ({code} {_server_text(reply)}).")
                phase = "accepted"
        except MailError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            if phase == "accepted":
                return str(message["Message-ID"])
            if phase == "data" and isinstance(exc, (smtplib.SMTPServerDisconnected, OSError)):
                raise MailOutcomeUnknown(f"The connection to the SMTP server {cfg.where} broke while the message "
                                         "was handed over: it may or may not have been sent.") from None
            raise self._error(exc) from None
        return str(message["Message-ID"])

    def _error(self, exc: Exception) -> MailError:
        """What went wrong before the message was handed over (so: nothing was sent)."""
        cfg = self.config
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return MailAuthFailed(f"The SMTP server {cfg.where} refused the login of PEERBOT_SMTP_USERNAME "
                                  f"({exc.smtp_code}); check PEERBOT_SMTP_USERNAME / PEERBOT_SMTP_PASSWORD.")
        if isinstance(exc, smtplib.SMTPDataError):  # DATA not accepted (e.g. 554 before the 354)
            return MailError(f"The SMTP server refused the message ({exc.smtp_code} {_server_text(exc.smtp_error)}).")
        if isinstance(exc, smtplib.SMTPResponseException):
            return MailError(f"The SMTP server {cfg.where} answered {exc.smtp_code} {_server_text(exc.smtp_error)}.")
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return MailError(f"The SMTP server {cfg.where} does not support login (AUTH); unset PEERBOT_SMTP_USERNAME "
                             "or use another server.")
        if isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)):
            return MailServerUnavailable(f"The SMTP server {cfg.where} closed the connection. Nothing was sent.")
        if isinstance(exc, ssl.SSLError):
            reason = "certificate not trusted" if isinstance(exc, ssl.SSLCertVerificationError) else "handshake failed"
            return MailServerUnavailable(f"TLS with the SMTP server {cfg.where} failed ({reason}). Nothing was sent.")
        if isinstance(exc, OSError):
            return MailServerUnavailable(f"Cannot reach the SMTP server {cfg.where} ({_reason(exc)}). Nothing was sent.")
        return MailError(f"Sending through {cfg.where} failed ({type(exc).__name__}). Nothing was sent.")

    def _connect(self) -> smtplib.SMTP:
        cfg = self.config
        if cfg.implicit_tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=cfg.tls_context())
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            smtp.ehlo_or_helo_if_needed()
            if not cfg.implicit_tls and smtp.has_extn("starttls"):
                smtp.starttls(context=cfg.tls_context())
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _login(self, smtp: smtplib.SMTP) -> None:
        cfg = self.config
        if not cfg.username:
            return
        if not isinstance(smtp.sock, ssl.SSLSocket):
            raise MailError(f"The SMTP server {cfg.where} offers no TLS (STARTTLS): the password is not sent in "
                            "clear text. Use smtps://, a server with STARTTLS, or no PEERBOT_SMTP_USERNAME.")
        password = cfg.password.get_secret_value() if cfg.password else ""
        smtp.login(cfg.username, password)


def _quiet_rset(smtp: smtplib.SMTP) -> None:
    """Abandon the transaction; a server that hangs up meanwhile changes nothing (nothing was sent)."""
    try:
        smtp.rset()
    except (smtplib.SMTPException, OSError):
        pass


def _reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    return exc.strerror or type(exc).__name__
