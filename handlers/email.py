"""The Email button of the session detail message: a modal to write to the peer, then SMTP.

- Email (button): ack, then open the modal at once (the trigger_id lives 3 s; composing is a DB
  read and a template render). A user who may not send gets an ephemeral "not allowed" instead.
- Template (select in the modal): a new draft, through views.update.
- Send (submission): checked in the ack (inline errors: no recipient, a line break in the
  subject, a body too long, not allowed) and claimed under its idempotency key (the view id and a
  hash of what was submitted), committed before the ack; SMTP runs on peerbot's worker pool, after
  the ack, and the result updates the detail message (or comes as an ephemeral message when it
  cannot). The same submission arriving again (a Slack retry, a double click, a replay to another
  process) finds the claim and is answered "already sent" / "being sent": no second mail.
- Send again (button, on a failed or unknown Send): a new claim tied to that Send, on the click only.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.core.access import Role
from bot.core import Core
from bot.base.errors import InvalidInput
from bot.email.service import (
    AlreadyDelivered, Draft, EmailRecord, claim, compose, default_template, deliver, get_send, parse_template,
    send_again, submission_key,
)
from bot.email.smtp import MailOutcomeUnknown
from bot.sessions.queries import get_session
from handlers.errors import user_text
from handlers.ids import Action, Callback
from handlers.views.email import (
    EmailMeta, already_message, already_modal, email_modal, error_modal, failed_message, field_errors, sent_message, sent_note,
    submitted, unknown_message,
)
from handlers.views.sessions import error_message, session_detail

log = logging.getLogger("peerbot.handlers.email")


def _actor(body: dict) -> str:
    return (body.get("user") or {}).get("id", "unknown")


def _session_id(body: dict, what: str = "session") -> int:
    value = str(body["actions"][0].get("value", ""))
    if not (value.isascii() and value.isdigit()) or len(value) > 10:
        raise InvalidInput({what: f"this button carries no {what} id"})
    return int(value)


def _draft(view: dict) -> tuple[EmailMeta, Draft]:
    meta, recipients, subject, body = submitted(view)
    draft = Draft(session_id=meta.session_id, template=meta.template, subject=subject, body=body,
                  recipients=tuple(recipients))
    return meta, draft


class EmailListeners:
    def __init__(self, core: Core, ui: Any):
        self.core = core
        self.ui = ui

    # -- the button -----------------------------------------------------------------------------
    def open(self, ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        try:
            sid, actor = _session_id(body), _actor(body)
            self.core.access.require(actor, Role.OPERATOR, "send email")
            container = body.get("container") or {}
            channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
            view = get_session(self.core.db, sid)
            draft = compose(self.core, sid, default_template(view))
            meta = EmailMeta(sid, channel, container.get("message_ts"), draft.template)
            client.views_open(trigger_id=body["trigger_id"], view=email_modal(draft, view, meta))
        except Exception as exc:  # noqa: BLE001 - not allowed, no contacts, not configured: say so
            respond(response_type="ephemeral", replace_original=False, **error_message(user_text(exc)))

    # -- the template select --------------------------------------------------------------------
    def change_template(self, ack: Ack, body: dict, client: WebClient) -> None:
        ack()
        view = body.get("view") or {}
        try:
            meta = EmailMeta.load(view.get("private_metadata", ""))
            template = parse_template(str((body["actions"][0].get("selected_option") or {}).get("value", "")))
            draft = compose(self.core, meta.session_id, template)
            modal = email_modal(draft, get_session(self.core.db, meta.session_id), replace(meta, template=template))
        except Exception as exc:  # noqa: BLE001 - keep the modal; say why on a modal pushed over it
            text = user_text(exc)
            try:
                client.views_push(trigger_id=body["trigger_id"], view=error_modal(text))
            except Exception:  # noqa: BLE001
                log.warning("could not report a template change failure: %s", text)
            return
        try:
            client.views_update(view_id=view.get("id"), hash=view.get("hash"), view=modal)
        except SlackApiError as exc:  # hash_conflict: the user changed it again meanwhile; the newer call wins
            log.info("views.update of the email modal failed: %s", (exc.response or {}).get("error"))

    # -- Send -----------------------------------------------------------------------------------
    def validate(self, ack: Ack, body: dict, view: dict, client: WebClient) -> None:
        """In the ack (no SMTP here): permission and fields, shown next to the fields; then the
        Send is claimed (committed) and the mail goes out on peerbot's worker pool (SMTP never runs
        on Bolt's listener threads). A Send claimed before is answered from its claim."""
        template = None
        actor = _actor(body)
        try:
            meta, draft = _draft(view)
            template = meta.template
            claimed = claim(self.core, actor, draft, submission_key(str(view.get("id") or ""), actor, draft),
                            origin=(meta.channel, meta.message_ts))
        except InvalidInput as exc:
            ack(response_action="errors", errors=field_errors(exc.errors, template))
            return
        except Exception as exc:  # noqa: BLE001 - e.g. not allowed, session deleted, no contacts any more
            ack(response_action="errors", errors=field_errors({"recipients": user_text(exc)}, template))
            return
        if not claimed.created:  # a retry, a double click, a replay: this Send is (being) made already
            log.info("email #%s: the same Send arrived again (%s); not sent twice", claimed.id, claimed.state.value)
            ack(response_action="update", view=already_modal(claimed))
            return
        ack()  # closes the modal
        self.workers.submit("email", self.send_email, claimed.id, client)

    def send_email(self, send_id: int, client: WebClient) -> None:
        """Deliver a claimed Send (a worker job) and tell the user how it went."""
        claimed = get_send(self.core, send_id)
        meta = EmailMeta(claimed.session_id or 0, claimed.origin_channel, claimed.origin_ts, parse_template(claimed.template))
        try:
            record = deliver(self.core, send_id)
        except AlreadyDelivered:  # by another job, which reports it
            return
        except MailOutcomeUnknown as exc:
            self._tell(client, meta, claimed.actor, unknown_message(user_text(exc), send_id))
            return
        except Exception as exc:  # noqa: BLE001 - SMTP down, recipient refused, ...: the user must know
            self._tell(client, meta, claimed.actor, failed_message(user_text(exc), send_id))
            return
        self._report_sent(client, meta, claimed.actor, record)

    # -- Send again -----------------------------------------------------------------------------
    def again(self, ack: Ack, body: dict, client: WebClient, respond: Respond) -> None:
        ack()
        try:
            send_id, actor = _session_id(body, "email"), _actor(body)  # the button's value: the email_send id
            container = body.get("container") or {}
            channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
            # an ephemeral message cannot be edited: the result comes as a message of its own
            ts = None if container.get("is_ephemeral") else container.get("message_ts")
            claimed = send_again(self.core, send_id, actor, origin=(channel, ts))
        except Exception as exc:  # noqa: BLE001 - sent meanwhile, not allowed, ...: say so
            respond(response_type="ephemeral", replace_original=False, **error_message(user_text(exc)))
            return
        if not claimed.created:
            respond(response_type="ephemeral", replace_original=False, **already_message(claimed))
            return
        self.workers.submit("email", self.send_email, claimed.id, client)

    def _report_sent(self, client: WebClient, meta: EmailMeta, actor: str, record: EmailRecord) -> None:
        """Update the detail message the modal came from (it now shows the last email)."""
        if meta.channel and meta.message_ts:
            try:
                msg = session_detail(get_session(self.core.db, meta.session_id), self.ui.detail_actions,
                                     note=sent_note(record))
                client.chat_update(channel=meta.channel, ts=meta.message_ts, **msg)
                return
            except Exception as exc:  # noqa: BLE001 - e.g. a response_url message the bot cannot edit
                log.info("chat.update after email failed (%s); telling the user instead", type(exc).__name__)
        self._tell(client, meta, actor, sent_message(record))

    def _tell(self, client: WebClient, meta: EmailMeta, actor: str, msg: dict[str, Any]) -> None:
        """Ephemeral in the channel of the detail message; else a DM."""
        if meta.channel:
            try:
                client.chat_postEphemeral(channel=meta.channel, user=actor, **msg)
                return
            except SlackApiError as exc:
                log.info("chat.postEphemeral failed (%s); sending a DM", (exc.response or {}).get("error"))
        try:
            client.chat_postMessage(channel=actor, **msg)
        except SlackApiError:
            log.exception("could not report an email result to %s", actor)


def register(app: App, core: Core, ui: Any, workers: Any) -> None:
    listeners = EmailListeners(core, ui)
    listeners.workers = workers

    def ack_now(ack: Ack) -> None:
        ack()

    app.action(Action.EMAIL)(listeners.open)
    app.action(Action.EMAIL_TEMPLATE)(listeners.change_template)
    app.action(Action.EMAIL_RECIPIENTS)(ack_now)  # only changes the modal's state
    app.view(Callback.EMAIL)(listeners.validate)
    app.action(Action.EMAIL_AGAIN)(listeners.again)
