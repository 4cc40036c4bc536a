"""The Email modal and its notes (pure: drafts and records in, Block Kit dicts out).

The recipients, subject and body blocks carry the template in their block_id: Slack keeps what
was typed into a block across views.update as long as its block_id stays the same, so a new
template needs new block ids for its text to show.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.base.errors import InvalidInput
from bot.email.service import (
    LABELS, MAX_BODY, MAX_SUBJECT, Contact, Draft, EmailRecord, EmailSendView, Template, already_text,
)
from bot.sessions.views import EmailInDoubt, LastEmail, SessionView
from handlers.ids import Action, Callback
from handlers.views.common import (
    MAX_BUTTON, MAX_MODAL_TITLE, MAX_TEXT, ago, button, clip, clip_mrkdwn, context, escape, escape_clipped, message,
    plain, section,
)

MAX_OPTIONS = 100  # options of a select
MAX_OPTION_VALUE = 150
MAX_RECIPIENTS_SHOWN = 5


@dataclass(frozen=True)
class EmailMeta:
    """What the modal carries in private_metadata: the session, where the detail message is, the template."""

    session_id: int
    channel: str | None
    message_ts: str | None
    template: Template

    def dump(self) -> str:
        return json.dumps({"s": self.session_id, "c": self.channel, "ts": self.message_ts, "t": self.template.value},
                          separators=(",", ":"))

    @classmethod
    def load(cls, text: str) -> EmailMeta:
        try:
            data = json.loads(text or "")
            sid = data["s"]
            if not isinstance(sid, int) or isinstance(sid, bool) or sid <= 0:
                raise ValueError
            channel, ts = data.get("c"), data.get("ts")
            return cls(sid, str(channel)[:32] if channel else None, str(ts)[:32] if ts else None, Template(data["t"]))
        except (ValueError, TypeError, KeyError, AttributeError):
            raise InvalidInput({"session": "this form has lost its session; open Email again from the session"}) from None


def block_id(action: str, template: Template) -> str:
    return f"{action}:{template.value}"


def _contact_option(c: Contact) -> dict[str, Any]:
    who = f"{c.name} <{c.email}>" if c.name else c.email
    return {"text": plain(f"{c.role}: {who}", emoji=False, limit=MAX_BUTTON), "value": c.email}


def _template_option(t: Template) -> dict[str, Any]:
    return {"text": plain(LABELS[t], limit=MAX_BUTTON), "value": t.value}


def email_modal(draft: Draft, view: SessionView, meta: EmailMeta) -> dict[str, Any]:
    t = draft.template
    options = [_contact_option(c) for c in draft.contacts if len(c.email) <= MAX_OPTION_VALUE][:MAX_OPTIONS]
    offered = {o["value"] for o in options}
    initial = [o for o in options if o["value"] in set(draft.recipients) & offered]
    recipients: dict[str, Any] = {"type": "multi_static_select", "action_id": Action.EMAIL_RECIPIENTS,
                                  "placeholder": plain("PeeringDB contacts…"), "options": options}
    if initial:
        recipients["initial_options"] = initial
    where = f" · {escape(view.exchange_name)}" if not view.exchange_is_none else ""
    cc = ", ".join(draft.cc)
    blocks = [
        context(f"Session #{view.id} · *{escape_clipped(view.peer_name, 200)}* AS{view.peer_asn} · "
                f"`{view.peer_ip}`{where}"),
        {"type": "input", "block_id": Action.EMAIL_TEMPLATE, "dispatch_action": True,
         "label": plain("Template"),
         "element": {"type": "static_select", "action_id": Action.EMAIL_TEMPLATE,
                     "options": [_template_option(x) for x in Template], "initial_option": _template_option(t)}},
        {"type": "input", "block_id": block_id(Action.EMAIL_RECIPIENTS, t), "label": plain("To"),
         "hint": plain("The peer's contacts on PeeringDB (visible to Public or Users), by role."),
         "element": recipients},
        {"type": "input", "block_id": block_id(Action.EMAIL_SUBJECT, t), "label": plain("Subject"),
         "element": {"type": "plain_text_input", "action_id": Action.EMAIL_SUBJECT, "initial_value": draft.subject,
                     "max_length": MAX_SUBJECT}},
        {"type": "input", "block_id": block_id(Action.EMAIL_BODY, t), "label": plain("Message"),
         "element": {"type": "plain_text_input", "action_id": Action.EMAIL_BODY, "multiline": True,
                     "initial_value": draft.body, "max_length": MAX_BODY}},
        context(clip_mrkdwn(f"From {escape(draft.sender)}" + (f" · Cc {escape(cc)}" if cc else "")
                     + " · The MD5 key is never put in a mail: send it out-of-band.", MAX_TEXT)),
    ]
    return {"type": "modal", "callback_id": Callback.EMAIL, "private_metadata": meta.dump(),
            "title": plain(f"Email AS{view.peer_asn}", limit=MAX_MODAL_TITLE), "submit": plain("Send"),
            "close": plain("Cancel"), "blocks": blocks}


def error_modal(text: str) -> dict[str, Any]:
    """Pushed over the Email modal when it cannot be redrafted; closing it goes back to the form."""
    return {"type": "modal", "title": plain("Email", limit=MAX_MODAL_TITLE), "close": plain("Back"),
            "blocks": [section(f":warning: {escape(text)}")]}


def submitted(view: dict[str, Any]) -> tuple[EmailMeta, list[str], str, str]:
    """(meta, recipients, subject, body) from a submitted Email modal."""
    meta = EmailMeta.load(view.get("private_metadata", ""))
    values = (view.get("state") or {}).get("values") or {}

    def field(action: str) -> dict[str, Any]:
        return (values.get(block_id(action, meta.template)) or {}).get(action) or {}

    picked = field(Action.EMAIL_RECIPIENTS).get("selected_options") or []
    recipients = [str(o.get("value", "")) for o in picked if isinstance(o, dict)]
    subject = field(Action.EMAIL_SUBJECT).get("value") or ""
    body = field(Action.EMAIL_BODY).get("value") or ""
    return meta, recipients, str(subject), str(body)


def field_errors(errors: dict[str, str], template: Template | None) -> dict[str, str]:
    """InvalidInput fields -> the modal's block ids (Slack shows at most ~150 characters); without a
    template (the form lost its metadata) everything goes to the template select."""
    blocks = {"recipients": block_id(Action.EMAIL_RECIPIENTS, template),
              "subject": block_id(Action.EMAIL_SUBJECT, template),
              "body": block_id(Action.EMAIL_BODY, template)} if template else {}
    out: dict[str, str] = {}
    for key, text in errors.items():
        target = blocks.get(key, Action.EMAIL_TEMPLATE)
        out[target] = clip(f"{out[target]} {text}" if target in out else text, 150)
    return out


def _recipients(addresses: tuple[str, ...]) -> str:
    shown = ", ".join(escape(a) for a in addresses[:MAX_RECIPIENTS_SHOWN])
    more = len(addresses) - MAX_RECIPIENTS_SHOWN
    return shown + (f" and {more} more" if more > 0 else "")


def _user(actor: str) -> str:
    return f"<@{actor}>" if actor and not actor.startswith("cli:") else escape(actor or "?")


def sent_note(record: EmailRecord) -> str:
    cc = f" (Cc {_recipients(record.cc)})" if record.cc else ""
    return clip_mrkdwn(f":email: *{escape(record.template_label)}* sent by {_user(record.actor)} to "
                f"{_recipients(record.recipients)}{cc}: “{escape(record.subject)}”", MAX_TEXT)


def again_button(send_id: int) -> dict[str, Any]:
    return button("Send again", Action.EMAIL_AGAIN, str(send_id))


def failed_message(text: str, send_id: int | None = None) -> dict[str, Any]:
    """Not sent (definitely): with Send again when there is a Send to repeat."""
    extra = {"accessory": again_button(send_id)} if send_id else {}
    return message(f"Email not sent: {text}", [section(clip_mrkdwn(f":x: *Email not sent.* {escape(text)}", MAX_TEXT),
                                                       **extra)])


def unknown_message(text: str, send_id: int) -> dict[str, Any]:
    """It may have gone: never resent by itself; the user decides."""
    note = (f":grey_question: *Email outcome unknown.* {escape(text)} It is not sent again by itself: "
            "check with the peer, or Send again.")
    return message(f"Email outcome unknown: {text}", [section(clip_mrkdwn(note, MAX_TEXT),
                                                              accessory=again_button(send_id))])


def _already_blocks(claimed: EmailSendView) -> list[dict[str, Any]]:
    return [section(f":email: {escape(already_text(claimed))}"),
            context(clip_mrkdwn(f"*{escape(claimed.template_label)}* to {_recipients(claimed.recipients)}"
                                f" by {_user(claimed.actor)}", MAX_TEXT))]


def already_modal(claimed: EmailSendView) -> dict[str, Any]:
    """What a second arrival of the same Send (retry, double click, replay) answers: no second mail."""
    return {"type": "modal", "title": plain("Email", limit=MAX_MODAL_TITLE), "close": plain("Close"),
            "blocks": _already_blocks(claimed)}


def already_message(claimed: EmailSendView) -> dict[str, Any]:
    """The same, for a second press of Send again."""
    return message(already_text(claimed), _already_blocks(claimed))


def in_doubt_block(doubt: EmailInDoubt) -> dict[str, Any]:
    """The session detail's line for a Send whose outcome is unknown, with Send again."""
    try:
        label = LABELS[Template(doubt.template)]
    except ValueError:
        label = doubt.template
    note = (f":grey_question: *Email outcome unknown:* *{escape(label)}* by {_user(doubt.actor)} "
            f"{ago(doubt.claimed_at)} to {_recipients(doubt.recipients)}: “{escape(doubt.subject)}”. peerbot "
            "stopped while sending it; it may or may not have reached the peer.")
    return section(clip_mrkdwn(note, MAX_TEXT), accessory=again_button(doubt.send_id))


def sent_message(record: EmailRecord) -> dict[str, Any]:
    note = sent_note(record)
    return message(f"{record.template_label} sent to {', '.join(record.recipients)}"[:300], [section(note)])


def last_email_line(last: LastEmail) -> str:
    try:
        label = LABELS[Template(last.template)]
    except ValueError:
        label = last.template
    return clip_mrkdwn(f":email: Last email: *{escape(label)}* by {_user(last.actor)} {ago(last.sent_at)} "
                f"to {_recipients(last.recipients)}", MAX_TEXT)
