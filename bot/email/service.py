"""Email to a session's peer: contacts from the PeeringDB mirror, drafts from templates, sending.

- `compose(core, session_id, template)`: a Draft (subject, body, the peer's contacts ordered for
  the template, the recipients picked by role). A DB read and a template render: fast enough for
  Slack's 3-second trigger window.
- `check(core, session_id, actor, draft)`: may this user send this (edited) draft? Raises
  PermissionDenied or InvalidInput (per field) — the modal shows these inline, before any SMTP.
- `send(core, session_id, actor, draft)`: checks again, sends over SMTP (slow: never on a Slack
  listener thread), then records the mail (EmailLog + audit). A failed send records no EmailLog.

Templates are `bot/email/templates/email/<template>.j2`; an operator overrides one by dropping a file
of the same name into `$PEERBOT_TEMPLATES_DIR/email/`. A template renders to a first line
`Subject: …`, a blank line, and the plain-text body. The MD5 key is never given to a template.
"""
from __future__ import annotations

import functools
import ipaddress
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import parseaddr
from enum import StrEnum
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from bot.core.access import Role
from bot.base.errors import InvalidInput, PeerbotError
from bot.email.smtp import Mail, MailError, Mailer, MailNotConfigured, SmtpConfig, valid_address
from bot.core import audit
from bot.sessions.queries import load_session
from bot.sessions.views import SessionView
from storage.models import EmailLog, PdbNet, PdbPoc, Session

log = logging.getLogger(__name__)

PACKAGED_TEMPLATES = Path(__file__).resolve().parent / "templates"
MAX_SUBJECT = 200
MAX_BODY = 3000  # what a Slack plain_text_input holds
VISIBLE = ("Public", "Users")  # PeeringDB poc visibility we may use ("Private" is not for us)
_LINE_BREAK = re.compile(r"[\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class Template(StrEnum):
    PEERING_REQUEST = "peering_request"
    SESSION_CONFIGURED = "session_configured"
    SESSION_DOWN = "session_down"

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS = {
    Template.PEERING_REQUEST: "Peering request",
    Template.SESSION_CONFIGURED: "Session configured",
    Template.SESSION_DOWN: "Session down, please check",
}

# Who a template goes to by default, in tiers: the first tier the peer has a contact in.
# The contact list itself is ordered by the same roles (then the rest).
ROLE_TIERS: dict[Template, tuple[tuple[str, ...], ...]] = {
    Template.PEERING_REQUEST: (("Policy",), ("Technical", "NOC")),
    Template.SESSION_CONFIGURED: (("NOC", "Technical"), ("Policy",)),
    Template.SESSION_DOWN: (("NOC", "Technical"), ("Policy", "Maintenance")),
}


class NoContacts(PeerbotError):
    pass


class EmailTemplateError(PeerbotError):
    pass


@dataclass(frozen=True)
class Contact:
    role: str
    name: str
    email: str


@dataclass(frozen=True)
class Draft:
    session_id: int
    template: Template
    subject: str
    body: str
    recipients: tuple[str, ...]  # the chosen addresses (compose: picked by role)
    contacts: tuple[Contact, ...] = ()  # every contact that may be chosen, ordered for the template
    cc: tuple[str, ...] = ()
    sender: str = ""

    def edited(self, *, recipients: Iterable[str], subject: str, body: str) -> Draft:
        return replace(self, recipients=tuple(recipients), subject=subject, body=body)


@dataclass(frozen=True)
class EmailRecord:
    id: int
    session_id: int | None
    session_label: str
    actor: str
    sent_at: datetime
    recipients: tuple[str, ...]
    cc: tuple[str, ...]
    template: str
    subject: str

    @property
    def template_label(self) -> str:
        try:
            return Template(self.template).label
        except ValueError:
            return self.template

    @classmethod
    def of(cls, row: EmailLog) -> EmailRecord:
        return cls(id=row.id, session_id=row.session_id, session_label=row.session_label, actor=row.actor,
                   sent_at=row.sent_at, recipients=tuple(row.recipients or ()), cc=tuple(row.cc or ()),
                   template=row.template, subject=row.subject)


@dataclass(frozen=True)
class MailSettings:
    sender: str
    sender_name: str
    cc: tuple[str, ...]
    smtp: SmtpConfig


def mail_settings(settings) -> MailSettings:  # noqa: ANN001 - bot.core.settings.Settings
    """The mail settings, checked; MailNotConfigured names the variable to set."""
    if not settings.smtp_url or not settings.mail_from:
        raise MailNotConfigured("Email is not configured: set PEERBOT_SMTP_URL and PEERBOT_MAIL_FROM.")
    name, sender = parseaddr(settings.mail_from)
    if not valid_address(sender) or _CONTROL.search(settings.mail_from):
        raise MailNotConfigured("PEERBOT_MAIL_FROM is not an email address (e.g. peering@example.net).")
    cc = tuple(a for a in re.split(r"[\s,;]+", settings.mail_cc or "") if a)
    if any(not valid_address(a) for a in cc):
        raise MailNotConfigured("PEERBOT_MAIL_CC is not a list of email addresses.")
    smtp = SmtpConfig.from_url(settings.smtp_url, username=settings.smtp_username,
                               password=settings.smtp_password, timeout=settings.smtp_timeout,
                               ca_file=str(settings.smtp_ca_file) if settings.smtp_ca_file else None)
    return MailSettings(sender=sender, sender_name=name, cc=cc, smtp=smtp)


def default_template(view: SessionView) -> Template:
    """What the user most likely wants to send for a session in this state."""
    if not view.configured:
        return Template.PEERING_REQUEST
    return Template.SESSION_CONFIGURED if view.is_up else Template.SESSION_DOWN


def parse_template(value: str) -> Template:
    try:
        return Template(value)
    except ValueError:
        raise InvalidInput({"template": f"unknown email template; use one of {', '.join(t.value for t in Template)}"}) from None


# -- contacts -------------------------------------------------------------------------------------
def _network(s: OrmSession, row: Session) -> PdbNet | None:
    """The peer's PeeringDB network in the mirror: by the id the peer was created from, else by ASN."""
    if row.peer.peeringdb_net_id is not None:
        net = s.scalar(select(PdbNet).where(PdbNet.id == row.peer.peeringdb_net_id, PdbNet.status == "ok"))
        if net is not None:
            return net
    return s.scalar(select(PdbNet).where(PdbNet.asn == row.peer.asn, PdbNet.status == "ok").order_by(PdbNet.id).limit(1))


def _rank(template: Template) -> dict[str, int]:
    order = [role for tier in ROLE_TIERS[template] for role in tier]
    return {role.lower(): i for i, role in enumerate(order)}


def _contacts(s: OrmSession, net: PdbNet | None, template: Template) -> tuple[Contact, ...]:
    if net is None:
        return ()
    rows = s.scalars(select(PdbPoc).where(PdbPoc.net_id == net.id, PdbPoc.status == "ok",
                                          PdbPoc.visible.in_(VISIBLE)).order_by(PdbPoc.id))
    rank = _rank(template)
    seen: set[str] = set()
    out: list[Contact] = []
    for poc in rows:
        email = (poc.email or "").strip()
        if not valid_address(email) or email.lower() in seen:
            continue
        seen.add(email.lower())
        name = " ".join(_CONTROL.sub(" ", poc.name or "").split())[:100]
        out.append(Contact(role=(poc.role or "").strip() or "Other", name=name, email=email))
    out.sort(key=lambda c: (rank.get(c.role.lower(), len(rank)), c.role.lower(), c.name.lower(), c.email.lower()))
    return tuple(out)


def _pick(contacts: Sequence[Contact], template: Template) -> tuple[str, ...]:
    for tier in ROLE_TIERS[template]:
        wanted = {r.lower() for r in tier}
        chosen = tuple(c.email for c in contacts if c.role.lower() in wanted)
        if chosen:
            return chosen
    return (contacts[0].email,) if contacts else ()


def _no_contacts(row: Session, net: PdbNet | None) -> NoContacts:
    who = f"{row.peer.name} (AS{row.peer.asn})"
    if net is None:
        return NoContacts(f"{who} is not in the PeeringDB mirror, so peerbot knows no contact to email. "
                          "Run `peerbot peeringdb sync`, or email them yourself.")
    return NoContacts(f"{who} lists no public contact with an email address on PeeringDB (visible to "
                      "\"Public\" or \"Users\"). Nothing can be sent from here.")


# -- templates ------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _environment(templates_dir: str | None) -> SandboxedEnvironment:
    # Overrides first: $PEERBOT_TEMPLATES_DIR/email/<name>.j2, then the packaged one.
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    loaders.append(FileSystemLoader(str(PACKAGED_TEMPLATES)))
    return SandboxedEnvironment(loader=ChoiceLoader(loaders), undefined=StrictUndefined, autoescape=False,
                                trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False)


def _our_ips(row: Session) -> list[str]:
    """The router's own addresses inside this exchange's LANs (none for PNI / local sessions)."""
    nets = []
    for prefix in (row.exchange.lan_prefix_v4, row.exchange.lan_prefix_v6):
        if prefix and not row.exchange.is_none:
            try:
                nets.append(ipaddress.ip_network(prefix, strict=False))
            except ValueError:
                continue
    out = []
    for addr in row.router.addresses or []:
        try:
            ip = ipaddress.ip_address(str(addr).split("/")[0])
        except ValueError:
            continue
        if any(ip.version == n.version and ip in n for n in nets):
            out.append(str(ip))
    # the session's own family first
    return sorted(out, key=lambda a: ipaddress.ip_address(a).version != row.address_family)


def _context(row: Session, net: PdbNet | None, mail: MailSettings) -> dict[str, object]:
    view = SessionView.of(row)
    max_prefix = (net.info_prefixes4 if row.address_family == 4 else net.info_prefixes6) if net else None
    since = row.last_state_change
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=timezone.utc)
    return {
        "session_id": row.id,
        "our_asn": row.local_asn,
        "our_ips": _our_ips(row),
        "peer_name": row.peer.name,
        "peer_asn": row.peer.asn,
        "peer_ip": row.peer_ip,
        "address_family": row.address_family,
        "exchange": None if row.exchange.is_none else row.exchange.name,
        "session_type": row.session_type.value,
        "as_set": row.as_set or row.peer.as_set or (net.irr_as_set if net else None) or None,
        "max_prefix": max_prefix if max_prefix and max_prefix > 0 else None,
        "has_md5": row.md5_encrypted is not None,  # only whether there is one: the key never reaches a template
        "state": view.display_state,
        "since": since.strftime("%Y-%m-%d %H:%M UTC") if since else None,
        "policy": net.policy_general if net else None,
        "sender": mail.sender_name or mail.sender,
    }


def render(template: Template, context: dict[str, object], templates_dir: str | Path | None = None) -> tuple[str, str]:
    """(subject, body) from a template; EmailTemplateError says which template is broken and where."""
    name = f"email/{template.value}.j2"
    try:
        text = _environment(str(templates_dir) if templates_dir else None).get_template(name).render(**context)
    except TemplateNotFound:
        raise EmailTemplateError(f"The email template {name} is missing.") from None
    except TemplateError as exc:
        line = getattr(exc, "lineno", None)
        where = f" (line {line})" if line else ""
        log.warning("email template %s failed: %s%s", name, type(exc).__name__, where)
        raise EmailTemplateError(f"The email template {name} failed to render: {type(exc).__name__}{where}.") from None
    first, _, rest = text.lstrip("\n").partition("\n")
    if not first.lower().startswith("subject:"):
        raise EmailTemplateError(f"The email template {name} must start with a 'Subject: …' line.")
    return first[len("subject:"):].strip()[:MAX_SUBJECT], rest.strip("\n")[:MAX_BODY]


# -- compose / check / send -------------------------------------------------------------------------
def compose(core, session_id: int, template: Template | str) -> Draft:  # noqa: ANN001 - bot.core.Core
    """A draft of `template` for the session's peer. Raises MailNotConfigured, NotFound, NoContacts."""
    template = parse_template(str(template))
    mail = mail_settings(core.settings)
    with core.db.session() as s:
        row = load_session(s, session_id)
        net = _network(s, row)
        contacts = _contacts(s, net, template)
        if not contacts:
            raise _no_contacts(row, net)
        context = _context(row, net, mail)
    subject, body = render(template, context, _email_templates_dir(core.settings))
    return Draft(session_id=session_id, template=template, subject=subject, body=body,
                 recipients=_pick(contacts, template), contacts=contacts, cc=mail.cc, sender=mail.sender)


def _email_templates_dir(settings) -> Path | None:  # noqa: ANN001
    # `templates_dir` holds <platform>/ for routers and email/ for mail: the loader root is the same
    return settings.templates_dir


def check(core, session_id: int, actor: str, draft: Draft) -> tuple[str, ...]:  # noqa: ANN001
    """Raise PermissionDenied / InvalidInput (keys: recipients, subject, body) unless `draft` may be
    sent; the recipients as the peer's contacts spell them."""
    core.access.require(actor, Role.OPERATOR, "send email")
    with core.db.session() as s:
        row = load_session(s, session_id)
        net = _network(s, row)
        contacts = _contacts(s, net, draft.template)
        key = _md5_key(core, row)
        if not contacts:
            raise _no_contacts(row, net)
    known = {c.email.lower(): c.email for c in contacts}
    errors: dict[str, str] = {}
    chosen = [known.get(r.strip().lower()) for r in draft.recipients if r.strip()]
    if not draft.recipients:
        errors["recipients"] = "Choose at least one recipient."
    elif None in chosen:
        errors["recipients"] = "Only the peer's PeeringDB contacts can be chosen; pick them from the list again."
    subject = draft.subject.strip()
    if not subject:
        errors["subject"] = "The subject is empty."
    elif _LINE_BREAK.search(draft.subject):
        errors["subject"] = "The subject must be one line (no line breaks)."
    elif _CONTROL.search(draft.subject):
        errors["subject"] = "The subject contains control characters."
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = f"The subject is too long ({len(subject)} characters; at most {MAX_SUBJECT})."
    if not draft.body.strip():
        errors["body"] = "The body is empty."
    elif len(draft.body) > MAX_BODY:
        errors["body"] = f"The body is too long ({len(draft.body)} characters; at most {MAX_BODY})."
    elif key and key in draft.body:
        errors["body"] = "The body contains the session's MD5 key: send it out-of-band, never by email."
    if errors:
        raise InvalidInput(errors)
    return tuple(dict.fromkeys(c for c in chosen if c))


def _md5_key(core, row: Session) -> str | None:  # noqa: ANN001
    if row.md5_encrypted is None:
        return None
    try:
        return core.secrets.decrypt(row.md5_encrypted)
    except ValueError:  # the key cannot be read: it cannot be typed into a mail from here either
        return None


def send(core, session_id: int, actor: str, draft: Draft) -> EmailRecord:  # noqa: ANN001
    """Check, send over SMTP, record. Raises PermissionDenied, InvalidInput, NoContacts, MailError."""
    if draft.session_id != session_id:
        raise InvalidInput({"session": "the draft belongs to another session"})
    recipients = check(core, session_id, actor, draft)
    mail = mail_settings(core.settings)
    with core.db.session() as s:
        row = load_session(s, session_id)
        label = f"{row.peer.name} AS{row.peer.asn} {row.peer_ip} on {row.router.name}"[:255]
        names = {c.email: c.name for c in _contacts(s, _network(s, row), draft.template)}
    subject = draft.subject.strip()
    message = Mail(sender=mail.sender, sender_name=mail.sender_name, to=recipients, cc=mail.cc,
                   subject=subject, body=draft.body, to_names={r: names.get(r, "") for r in recipients})
    summary = {"to": list(recipients), "cc": list(mail.cc), "template": draft.template.value, "subject": subject}
    try:
        message_id = Mailer(mail.smtp).send(message)
    except MailError as exc:
        with core.db.session() as s:
            audit.record(s, actor=actor, action="email_send", object_type="session", object_id=session_id,
                         outcome="error", after=summary, detail=str(exc))
        raise
    with core.db.session() as s:
        entry = EmailLog(session_id=session_id, session_label=label, actor=actor, recipients=list(recipients),
                         cc=list(mail.cc), template=draft.template.value, subject=subject[:255],
                         message_id=message_id[:255])
        s.add(entry)
        audit.record(s, actor=actor, action="email_send", object_type="session", object_id=session_id,
                     after=summary, detail=f"Message-ID {message_id}"[:500])
        s.flush()
        return EmailRecord.of(entry)


def last_email(db, session_id: int) -> EmailRecord | None:  # noqa: ANN001 - storage.db.Database
    with db.session() as s:
        row = s.scalar(select(EmailLog).where(EmailLog.session_id == session_id)
                       .order_by(EmailLog.sent_at.desc(), EmailLog.id.desc()).limit(1))
        return EmailRecord.of(row) if row else None
