"""Email to a session's peer: contacts from the PeeringDB mirror, drafts from templates, sending.

- `compose(core, session_id, template)`: a Draft (subject, body, the peer's contacts ordered for
  the template, the recipients picked by role). A DB read and a template render: fast enough for
  Slack's 3-second trigger window.
- `check(core, session_id, actor, draft)`: may this user send this (edited) draft? Raises
  PermissionDenied or InvalidInput (per field) — the modal shows these inline, before any SMTP.
- `claim(core, actor, draft, key)`: checks, then stores the Send under its idempotency key (an
  email_send row, state "sending") *before* any SMTP; a key claimed before gets that claim back.
  `deliver(core, send_id)`: SMTP (slow: never on a Slack listener thread), at most once per claim,
  then the outcome: sent (EmailLog + audit), failed, or unknown (it may have gone). `send` is both.
  `send_again`: a new claim of a failed or unknown Send, on the user's click only.

Templates are `bot/email/templates/email/<template>.j2`; an operator overrides one by dropping a file
of the same name into `$PEERBOT_TEMPLATES_DIR/email/`. A template renders to a first line
`Subject: …`, a blank line, and the plain-text body. The MD5 key is never given to a template.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
import logging
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from email.utils import make_msgid, parseaddr
from enum import StrEnum
from pathlib import Path

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession

from bot.core.access import Role
from bot.base.errors import Conflict, InvalidInput, NotFound, PeerbotError
from bot.email.smtp import Mail, Mailer, MailNotConfigured, MailOutcomeUnknown, SmtpConfig, valid_address
from bot.core import audit
from bot.sessions.queries import load_session
from bot.sessions.views import SessionView, stale_before
from storage.models import EmailLog, EmailSend, PdbNet, PdbPoc, Session, utcnow

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


# -- sending once ----------------------------------------------------------------------------------
# A Send is claimed (an email_send row under a unique key, committed) before SMTP is called; only
# the call that made the claim delivers it, and only once (smtp_at is set by a conditional UPDATE).
# A second arrival of the same key (Slack retry, double click, replay, another process) gets the
# claim back instead: sent, sending, failed or unknown. Nothing is ever resent by itself.
class AlreadyDelivered(Conflict):
    """`deliver` was called again for a claim whose SMTP already started: nothing is sent."""


class SendState(StrEnum):
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # not sent (refused, SMTP down, no longer allowed): Send again may retry
    UNKNOWN = "unknown"  # may have been sent: the user decides (Send again)


UNKNOWN_STOPPED = ("peerbot stopped while this email was being sent: it may or may not have reached the "
                   "peer. Check with them, or Send again.")
_VIEW_ID = re.compile(r"[^A-Za-z0-9_-]")


@dataclass(frozen=True)
class EmailSendView:
    """A claim of a Send (an email_send row), for surfaces."""

    id: int
    key: str
    session_id: int | None
    session_label: str
    actor: str
    state: SendState
    claimed_at: datetime
    finished_at: datetime | None
    recipients: tuple[str, ...]
    template: str
    subject: str
    outcome: str | None
    again_of: int | None
    origin_channel: str | None
    origin_ts: str | None
    created: bool = False  # this call made the claim (and must deliver it)

    @property
    def template_label(self) -> str:
        try:
            return Template(self.template).label
        except ValueError:
            return self.template

    @property
    def in_doubt(self) -> bool:
        return self.state is SendState.UNKNOWN or (self.state is SendState.SENDING
                                                    and _aware(self.claimed_at) < stale_before())

    @classmethod
    def of(cls, row: EmailSend, *, created: bool = False) -> EmailSendView:
        return cls(id=row.id, key=row.key, session_id=row.session_id, session_label=row.session_label,
                   actor=row.actor, state=SendState(row.state), claimed_at=_aware(row.claimed_at),
                   finished_at=_aware(row.finished_at) if row.finished_at else None,
                   recipients=tuple(row.recipients or ()), template=row.template, subject=row.subject,
                   outcome=row.outcome, again_of=row.again_of, origin_channel=row.origin_channel,
                   origin_ts=row.origin_ts, created=created)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=timezone.utc)  # SQLite gives naive UTC back


def submission_key(view_id: str, actor: str, draft: Draft) -> str:
    """The idempotency key of a submitted Email modal: its Slack view id and a hash of what was
    submitted (never the text itself). The same modal submitted twice is one Send; an edited
    resubmission (after an inline error) or a new modal is another."""
    what = json.dumps([actor, draft.session_id, draft.template.value, list(draft.recipients), draft.subject,
                       draft.body], ensure_ascii=False, separators=(",", ":"))
    view = _VIEW_ID.sub("", str(view_id or ""))[:40]
    return f"view:{view}:{hashlib.sha256(what.encode()).hexdigest()[:48]}"


def find_send(core, key: str) -> EmailSendView | None:  # noqa: ANN001
    """The claim stored under `key`, if any (a stale "sending" one is marked unknown first)."""
    mark_unknown(core)
    with core.db.session() as s:
        row = s.scalar(select(EmailSend).where(EmailSend.key == key))
        return EmailSendView.of(row) if row else None


MAX_ID = 2**31 - 1  # an id past this is none of ours (and out of range on PostgreSQL)


def get_send(core, send_id: int) -> EmailSendView:  # noqa: ANN001
    if not 0 < send_id <= MAX_ID:
        raise NotFound(f"Email #{send_id} is not known.")
    mark_unknown(core)
    with core.db.session() as s:
        row = s.get(EmailSend, send_id)
        if row is None:
            raise NotFound(f"Email #{send_id} is not known.")
        return EmailSendView.of(row)


def claim(core, actor: str, draft: Draft, key: str, *, origin: tuple[str | None, str | None] = (None, None),  # noqa: ANN001
          again_of: int | None = None, message_id: str | None = None) -> EmailSendView:
    """Check the draft and claim its Send under `key` (committed before this returns). An earlier
    claim of `key` is returned as it stands (`created` False) and nothing new is stored. Raises
    PermissionDenied, InvalidInput, NoContacts, NotFound, MailNotConfigured — before any claim."""
    core.access.require(actor, Role.OPERATOR, "send email")
    if (existing := find_send(core, key)) is not None:
        return existing
    recipients = check(core, draft.session_id, actor, draft)
    mail = mail_settings(core.settings)
    try:
        with core.db.session() as s:
            row = load_session(s, draft.session_id)
            label = f"{row.peer.name} AS{row.peer.asn} {row.peer_ip} on {row.router.name}"[:255]
            claim_row = EmailSend(
                key=key[:160], session_id=draft.session_id, session_label=label, actor=actor,
                state=SendState.SENDING.value, template=draft.template.value, recipients=list(recipients),
                cc=list(mail.cc), subject=draft.subject.strip()[:255],
                body_encrypted=core.secrets.encrypt(draft.body),
                message_id=message_id or make_msgid(idstring="peerbot", domain=mail.sender.rpartition("@")[2] or None),
                again_of=again_of, origin_channel=(origin[0] or None) and str(origin[0])[:32],
                origin_ts=(origin[1] or None) and str(origin[1])[:32])
            s.add(claim_row)
            s.flush()
            return EmailSendView.of(claim_row, created=True)
    except IntegrityError:  # a concurrent arrival of the same key claimed it first
        existing = find_send(core, key)
        if existing is None:
            raise
        return existing


def deliver(core, send_id: int) -> EmailRecord:  # noqa: ANN001
    """Send a claim made by `claim` over SMTP (slow: never on a Slack listener thread) and record
    the result. At most once per claim: a second call raises Conflict without touching SMTP.
    Raises MailError (MailOutcomeUnknown: it may have gone), or what `check` raises now."""
    with core.db.session() as s:
        started = s.execute(update(EmailSend).where(EmailSend.id == send_id, EmailSend.state == SendState.SENDING.value,
                                                    EmailSend.smtp_at.is_(None)).values(smtp_at=utcnow())).rowcount
        row = s.get(EmailSend, send_id)
        if not started or row is None:
            raise AlreadyDelivered(f"Email #{send_id} is already being sent or done; it is not sent twice.")
        session_id, actor, cc, message_id = row.session_id, row.actor, tuple(row.cc or ()), row.message_id
        draft = Draft(session_id=session_id or 0, template=parse_template(row.template), subject=row.subject,
                      body=core.secrets.decrypt(row.body_encrypted), recipients=tuple(row.recipients or ()))
    summary = {"to": list(draft.recipients), "cc": list(cc), "template": draft.template.value,
               "subject": draft.subject, "send": send_id}
    try:
        if session_id is None:
            raise NotFound("The session was deleted; nothing was sent.")
        recipients = check(core, session_id, actor, draft)  # the session may have changed since the claim
        mail = mail_settings(core.settings)
        with core.db.session() as s:
            names = {c.email: c.name for c in _contacts(s, _network(s, load_session(s, session_id)), draft.template)}
        message = Mail(sender=mail.sender, sender_name=mail.sender_name, to=recipients, cc=cc,
                       subject=draft.subject, body=draft.body, to_names={r: names.get(r, "") for r in recipients},
                       message_id=message_id)
        sent_id = Mailer(mail.smtp).send(message)
    except MailOutcomeUnknown as exc:
        _not_sent(core, send_id, SendState.UNKNOWN, actor, summary, str(exc))
        raise
    except PeerbotError as exc:  # refused, SMTP down, not allowed any more, ...: nothing went
        _not_sent(core, send_id, SendState.FAILED, actor, summary, user_message(exc))
        raise
    except BaseException:  # a bug, or the process is stopping: it may have been handed over
        _not_sent(core, send_id, SendState.UNKNOWN, actor, summary, "An unexpected error stopped the sending (see "
                  "the bot's log): it may or may not have reached the peer.")
        raise
    summary["to"] = list(recipients)
    with core.db.session() as s:
        _move(s, send_id, SendState.SENT, None)
        row = s.get(EmailSend, send_id)
        entry = EmailLog(session_id=row.session_id, session_label=row.session_label, actor=actor,
                         recipients=list(recipients), cc=list(cc), template=row.template, subject=row.subject[:255],
                         message_id=sent_id[:255])
        s.add(entry)
        audit.record(s, actor=actor, action="email_send", object_type="session", object_id=row.session_id,
                     after=summary, detail=f"Message-ID {sent_id}"[:500])
        s.flush()
        return EmailRecord.of(entry)


def user_message(exc: PeerbotError) -> str:
    if isinstance(exc, InvalidInput):
        return "; ".join(exc.errors.values())
    return str(exc)


def _move(s: OrmSession, send_id: int, state: SendState, outcome: str | None) -> None:
    # from unknown too: a claim marked unknown meanwhile (a slow server) may still learn its outcome
    moved = s.execute(update(EmailSend).where(
        EmailSend.id == send_id, EmailSend.state.in_([SendState.SENDING.value, SendState.UNKNOWN.value]))
        .values(state=state.value, finished_at=utcnow(), outcome=outcome[:2000] if outcome else None)).rowcount
    if not moved:
        log.warning("email #%s: its outcome was recorded already", send_id)


def _not_sent(core, send_id: int, state: SendState, actor: str, summary: dict, detail: str) -> None:  # noqa: ANN001
    with core.db.session() as s:
        _move(s, send_id, state, detail)
        session_id = s.scalar(select(EmailSend.session_id).where(EmailSend.id == send_id))
        audit.record(s, actor=actor, action="email_send", object_type="session", object_id=session_id,
                     outcome="error", after={**summary, "state": state.value}, detail=detail[:500])


def mark_unknown(core) -> list[int]:  # noqa: ANN001
    """Claims still "sending" long after they were made were cut off (the process stopped between
    the claim and the result): mark them unknown, audited. Never resent."""
    with core.db.session() as s:
        ids = list(s.scalars(select(EmailSend.id).where(EmailSend.state == SendState.SENDING.value,
                                                        EmailSend.claimed_at < stale_before())))
        found = []
        for send_id in ids:
            moved = s.execute(update(EmailSend).where(EmailSend.id == send_id,
                                                      EmailSend.state == SendState.SENDING.value)
                              .values(state=SendState.UNKNOWN.value, outcome=UNKNOWN_STOPPED)).rowcount
            if moved:
                row = s.get(EmailSend, send_id)
                audit.record(s, actor="system", action="email_send", object_type="session", object_id=row.session_id,
                             outcome="error", after={"send": send_id, "state": SendState.UNKNOWN.value},
                             detail=UNKNOWN_STOPPED)
                found.append(send_id)
        return found


def send_again(core, send_id: int, actor: str, *, origin: tuple[str | None, str | None] = (None, None)) -> EmailSendView:  # noqa: ANN001
    """Claim a new Send of a failed or unknown one (key "again:<id>": pressing Send again twice is one
    Send). It keeps the Message-ID, so a peer that got both can tell the second is the same mail.
    Raises Conflict when that Send went (or is still going), NotFound, and what `claim` raises."""
    core.access.require(actor, Role.OPERATOR, "send email")
    if not 0 < send_id <= MAX_ID:
        raise NotFound(f"Email #{send_id} is not known.")
    key = f"again:{int(send_id)}"
    if (existing := find_send(core, key)) is not None:
        return existing
    first = get_send(core, send_id)
    if first.state is SendState.SENT:
        raise Conflict(f"That email was sent {first.finished_at:%Y-%m-%d %H:%M} UTC; it is not sent again. "
                       "Use Email for a new one.")
    if first.state is SendState.SENDING:
        raise Conflict("That email is still being sent; wait for its outcome.")
    if first.session_id is None:
        raise NotFound("The session of that email was deleted.")
    with core.db.session() as s:
        row = s.get(EmailSend, send_id)
        draft = Draft(session_id=row.session_id, template=parse_template(row.template), subject=row.subject,
                      body=core.secrets.decrypt(row.body_encrypted), recipients=tuple(row.recipients or ()))
        message_id = row.message_id
    return claim(core, actor, draft, key, origin=origin, again_of=send_id, message_id=message_id)


def send(core, session_id: int, actor: str, draft: Draft, *, key: str | None = None) -> EmailRecord:  # noqa: ANN001
    """Claim and send at once (CLI, tests). Raises PermissionDenied, InvalidInput, NoContacts,
    MailError; Conflict when `key` was claimed before (that Send is not made again). Without a
    key every call is a Send of its own."""
    if draft.session_id != session_id:
        raise InvalidInput({"session": "the draft belongs to another session"})
    claimed = claim(core, actor, draft, key or f"call:{uuid.uuid4().hex}")
    if not claimed.created:
        raise Conflict(already_text(claimed))
    return deliver(core, claimed.id)


def already_text(claimed: EmailSendView) -> str:
    """What a second arrival of a Send is told (no message text: the subject is the user's own)."""
    at = f"{claimed.claimed_at:%Y-%m-%d %H:%M} UTC"
    if claimed.state is SendState.SENT:
        done = f"{claimed.finished_at:%Y-%m-%d %H:%M} UTC" if claimed.finished_at else at
        return f"This email was already sent ({done}); it is not sent twice."
    if claimed.in_doubt:
        return ("This email's outcome is unknown (peerbot stopped while sending it). It is not sent again "
                "by itself: use Send again on the session if the peer did not get it.")
    if claimed.state is SendState.FAILED:
        return f"This email was not sent: {claimed.outcome or 'it failed'}"
    return f"This email is being sent (since {at}); it is not sent twice."


def last_email(db, session_id: int) -> EmailRecord | None:  # noqa: ANN001 - storage.db.Database
    with db.session() as s:
        row = s.scalar(select(EmailLog).where(EmailLog.session_id == session_id)
                       .order_by(EmailLog.sent_at.desc(), EmailLog.id.desc()).limit(1))
        return EmailRecord.of(row) if row else None
