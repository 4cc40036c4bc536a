"""A real SMTP server (aiosmtpd) on 127.0.0.1, PeeringDB mirror rows, and a bot that mails through it."""
from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from bot.core import Core
from storage.models import PdbNet, PdbPoc, Peer
from tests.harness.bot import settings_for
from tests.harness.fake_slack import FakeSlack

MAIL_FROM = "Example Peering <peering@example.net>"
MAIL_CC = "peering-log@example.net"
SMTP_USER, SMTP_PASSWORD = "peerbot", "smtp-Secr3t-pw"
# The peer's contacts on PeeringDB: (role, visible, name, email, status)
CONTACTS = [
    ("Technical", "Public", "Tess Tech", "tech@peer.example", "ok"),
    ("Policy", "Users", "Pat Policy", "policy@peer.example", "ok"),
    ("NOC", "Public", "Nick Noc", "noc@peer.example", "ok"),
    ("Abuse", "Public", "Abe Abuse", "abuse@peer.example", "ok"),
    ("Policy", "Private", "Hidden Policy", "private@peer.example", "ok"),  # not for us
    ("NOC", "Public", "Old Noc", "old-noc@peer.example", "deleted"),  # gone from PeeringDB
    ("Sales", "Public", "No Mail", None, "ok"),  # nothing to send to
]


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """aiosmtpd handler: keeps what it receives, refuses the recipients in `refuse`."""

    messages: list[Received] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    cond: threading.Condition = field(default_factory=threading.Condition)
    stall: float = 0.0  # seconds to keep the client waiting for the answer to a message it took

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: ANN001,ANN201,N802
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001,ANN201,N802
        msg = message_from_bytes(envelope.content, policy=default_policy)
        with self.cond:
            self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), msg))  # type: ignore[arg-type]
            self.cond.notify_all()
        if self.stall:
            await asyncio.sleep(self.stall)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(handler: Inbox, **smtp_kwargs: object) -> tuple[Controller, int]:
    last: Exception | None = None
    for _ in range(5):  # another process may take the free port before we bind it
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port, **smtp_kwargs)
        try:
            controller.start()
            return controller, port
        except Exception as exc:  # noqa: BLE001
            last = exc
    raise RuntimeError(f"cannot start the SMTP server: {last}")


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    inbox = Inbox()
    controller, port = _start(inbox)
    yield SmtpServer("127.0.0.1", port, inbox)
    controller.stop()


@dataclass
class Logins:
    """What the authenticator saw: a password must never reach a server without TLS."""

    attempts: list[tuple[str, bool]] = field(default_factory=list)  # (login, over TLS)

    def __call__(self, server, session, envelope, mechanism, auth_data) -> AuthResult:  # noqa: ANN001
        login = auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?"
        self.attempts.append((login, server.transport.get_extra_info("sslcontext") is not None))
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode() \
            and auth_data.password == SMTP_PASSWORD.encode()
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself


@dataclass
class TlsFiles:
    cert: Path  # self-signed for 127.0.0.1 / localhost: also the CA file the client trusts
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(self.cert, self.key)
        return ctx


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "peerbot test SMTP")])
    now = datetime.now(timezone.utc)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                         x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .add_extension(ski, False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski), False)
            .sign(key, hashes.SHA256()))
    folder = tmp_path_factory.mktemp("smtp-tls")
    files = TlsFiles(folder / "cert.pem", folder / "key.pem")
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.key.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                            serialization.NoEncryption()))
    return files


@dataclass
class AuthServer(SmtpServer):
    logins: Logins = field(default_factory=Logins)


@pytest.fixture
def starttls_server(tls_files: TlsFiles) -> Iterator[AuthServer]:
    """Offers STARTTLS and wants a login, over TLS only (as a real submission server on 587)."""
    inbox, logins = Inbox(), Logins()
    controller, port = _start(inbox, tls_context=tls_files.server_context(), require_starttls=True,
                              authenticator=logins, auth_required=True, auth_require_tls=True)
    yield AuthServer("127.0.0.1", port, inbox, logins)
    controller.stop()


@pytest.fixture
def smtps_server(tls_files: TlsFiles) -> Iterator[AuthServer]:
    """TLS from the first byte (smtps://, port 465 style), login required."""
    inbox, logins = Inbox(), Logins()
    # auth_require_tls=False: aiosmtpd only counts STARTTLS as TLS; this connection is TLS from its first byte
    controller, port = _start(inbox, ssl_context=tls_files.server_context(), authenticator=logins,
                              auth_required=True, auth_require_tls=False)
    yield AuthServer("127.0.0.1", port, inbox, logins)
    controller.stop()


@pytest.fixture
def plain_auth_server() -> Iterator[AuthServer]:
    """No TLS at all, yet asks for a login: peerbot must not send it the password."""
    inbox, logins = Inbox(), Logins()
    controller, port = _start(inbox, authenticator=logins, auth_required=True, auth_require_tls=False)
    yield AuthServer("127.0.0.1", port, inbox, logins)
    controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: connecting is refused."""
    return free_port()


@pytest.fixture
def core(sqlite_url: str, slack: FakeSlack, tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Core]:
    """The shared `core`, with mail settings pointing at the test SMTP server (the `bot` fixture uses it)."""
    c = Core.from_settings(settings_for(sqlite_url, slack, tmp_path, PEERBOT_SMTP_URL=smtp_server.url,
                                        PEERBOT_MAIL_FROM=MAIL_FROM, PEERBOT_MAIL_CC=MAIL_CC))
    yield c
    c.db.dispose()


def seed_network(core: Core, *, net_id: int = 501, asn: int = 65601, name: str = "Example Peer",
                 contacts: list[tuple] | None = None, first_poc_id: int = 9001) -> None:
    """Mirror rows as `peerbot peeringdb sync` would store them."""
    with core.db.session() as s:
        s.add(PdbNet(id=net_id, org_id=77, name=name, name_lc=name.lower(), aka=None, asn=asn,
                     irr_as_set="AS-EXAMPLE", info_prefixes4=250, info_prefixes6=40, policy_general="Open",
                     status="ok"))
        for i, (role, visible, poc_name, email, status) in enumerate(CONTACTS if contacts is None else contacts):
            s.add(PdbPoc(id=first_poc_id + i, net_id=net_id, role=role, visible=visible, name=poc_name,
                         phone=None, email=email, url=None, status=status))


def link_peer(core: Core, asn: int, net_id: int) -> None:
    """The peer was created from PeeringDB network `net_id`."""
    with core.db.session() as s:
        for peer in s.query(Peer).filter(Peer.asn == asn):
            peer.peeringdb_net_id = net_id


def wait_for_mail(inbox: Inbox, count: int = 1, timeout: float = 10.0) -> list[Received]:
    with inbox.cond:
        inbox.cond.wait_for(lambda: len(inbox.messages) >= count, timeout)
        assert len(inbox.messages) >= count, f"{len(inbox.messages)} message(s) received, wanted {count}"
        return list(inbox.messages)
