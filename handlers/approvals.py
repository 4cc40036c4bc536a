"""Approval buttons (Approve / Reject with a reason / Cancel), `/peering audit`, and the Slack
reporter that keeps approval messages and the messages requests came from in step with the DB.

Listeners authorize through the service (bot/changes/requests.py), store, ack, and hand
the router work to the change runner (bot/changes/runner.py): nothing here waits on a router.
"""
from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltRequest, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.core.access import Role
from bot.changes.runner import ChangeRunner
from bot.core import Core
from bot.base.errors import AlreadyDone, NotFound, PeerbotError
from bot.changes.records import RequestView
from bot.changes.requests import POSTING, ChangeRequests
from bot.sessions.preflight import preflight_checks
from bot.sessions.queries import get_session
from handlers.errors import user_text
from handlers.ids import Action, Callback
from handlers.payloads import action_of, parse_id, slack_retry, user_of
from handlers.views.approvals import (
    approval_message, audit_message, reject_meta, reject_modal, reject_reason, request_note, unknown_outcome_notice,
)
from handlers.views.common import message, section
from handlers.views.sessions import error_message, session_detail
from storage.models import ChangeState, utcnow

log = logging.getLogger("peerbot.handlers.approvals")
RESPONSE_URL_LIFE = timedelta(minutes=25)  # Slack's response_url works for 30 minutes
# Slack answers that say "try again" (HTTP 5xx, or these errors): an approval message not posted
# or not updated for one of them is left unreported, so the sweep's reporter tries it again.
TRANSIENT_ERRORS = frozenset({"internal_error", "fatal_error", "service_unavailable", "request_timeout",
                              "ratelimited"})


def transient(exc: SlackApiError) -> bool:
    status = getattr(exc.response, "status_code", 200) or 200
    return status >= 500 or status == 429 or exc.response.get("error") in TRANSIENT_ERRORS


class SlackReporter:
    """Shows a request's current state in Slack. Re-reads the request under a per-request lock,
    so whichever thread reports last shows the latest state."""

    def __init__(self, client: WebClient, core: Core, ui: Any, requests: ChangeRequests):
        self.client = client
        self.core = core
        self.ui = ui
        self.requests = requests
        self._locks: defaultdict[int, threading.Lock] = defaultdict(threading.Lock)

    @property
    def approval_channel(self) -> str | None:
        s = self.core.settings
        return s.approval_channel or s.notify_channel

    def sync(self, request: RequestView, note: str | None = None) -> None:
        with self._locks[request.id]:
            r = self.requests.get(request.id)
            if note is None and r.reported_state == r.state.value:
                # Slack shows this state already: a repeated click or a Slack retry changed nothing
                # (bench/limits.py: 20 retries of one Approve made 31 chat.update calls; Slack rate
                # limits chat.update, and waiting out a 429 holds a listener thread)
                return
            in_step = self._approval(r, note)
            self._origin(r, note)
            if in_step:  # else reported_state stays behind: the sweep reports it again
                self.requests.mark_reported(r.id, r.state)

    def unknown_outcome(self, request: RequestView) -> None:
        self.sync(request)
        channel = self.approval_channel or request.origin.channel
        if channel:
            self._post(channel, unknown_outcome_notice(request))

    # -- the approval message ------------------------------------------------------------------------
    def _checks(self, r: RequestView) -> list[tuple[str, str]]:
        """Pre-flight checks (PeeringDB mirror) while a Configure waits for its approver."""
        if r.action not in ("configure", "config_push") or len(r.items) != 1 or r.state != ChangeState.REQUESTED:
            return []
        try:
            return [tuple(c) for c in preflight_checks(self.core, r.items[0].session_id)]
        except Exception:  # noqa: BLE001 - the request stands without them
            log.warning("request #%s: pre-flight checks failed", r.id, exc_info=True)
            return []

    def _approval(self, r: RequestView, note: str | None) -> bool:
        """Post or update the approval message. False: Slack said to try again (a 5xx, rate
        limited after the client's own retries), so the request is not marked reported."""
        posting = bool(r.approval_ts and r.approval_ts.startswith(POSTING))
        if r.approval_ts and not posting:
            try:
                self.client.chat_update(channel=r.approval_channel, ts=r.approval_ts,
                                        **approval_message(r, note, self._checks(r)))
            except SlackApiError as exc:
                log.warning("request #%s: chat.update of the approval message failed: %s", r.id,
                            exc.response.get("error"))
                return not transient(exc)
            return True
        # Announce requests that wait for an approver, and router changes the policy let through.
        announce = r.needs_approval or (r.decided_by == "policy" and any(i.commands for i in r.items))
        channel = self.approval_channel or r.origin.channel
        if not announce:
            return True
        if not channel:  # e.g. asked for from the CLI, with no approval channel configured
            log.warning("request #%s: no approval channel (set PEERBOT_APPROVAL_CHANNEL); approve it with "
                        "`peerbot changes approve %s`", r.id, r.id)
            return True
        if not self.requests.claim_announcement(r.id):
            # another thread or process is posting it (or died doing so: taken over once stale)
            return not posting
        posted: tuple[str, str] | None = None
        retry = False
        try:
            posted, retry = self._post_approval(channel, approval_message(r, note, self._checks(r)))
        finally:
            # also when the post raised (Slack unreachable): the claim is given back, or the
            # message would never be posted by anyone
            self.requests.set_approval_message(r.id, posted[0] if posted else None, posted[1] if posted else None)
        if posted is None and not retry:
            log.warning("request #%s: no approval message (set PEERBOT_APPROVAL_CHANNEL and invite the bot)", r.id)
        return not retry

    def _post_approval(self, channel: str, msg: dict[str, Any]) -> tuple[tuple[str, str] | None, bool]:
        """(channel, ts) of the posted message or None; and whether to try again later."""
        try:
            res = self.client.chat_postMessage(channel=channel, **msg)
            return (res.get("channel") or channel, res.get("ts")), False
        except SlackApiError as exc:
            log.warning("could not post the approval message to %s: %s", channel, exc.response.get("error"))
            return None, transient(exc)

    def _post(self, channel: str, msg: dict[str, Any]) -> tuple[str, str] | None:
        try:
            res = self.client.chat_postMessage(channel=channel, **msg)
            return res.get("channel") or channel, res.get("ts")
        except SlackApiError as exc:
            log.warning("could not post to %s: %s", channel, exc.response.get("error"))
            return None

    # -- the message the request came from -------------------------------------------------------------
    def _origin(self, r: RequestView, note: str | None) -> None:
        o = r.origin
        # a session detail message (one session: a move has one item per router): updated in place
        if len({i.session_id for i in r.items}) == 1 and o.channel and o.ts:
            msg = self._session_message(r, note)
            try:
                self.client.chat_update(channel=o.channel, ts=o.ts, **msg)
                return
            except SlackApiError as exc:
                log.info("request #%s: chat.update of its message failed (%s)", r.id, exc.response.get("error"))
            self._respond(r, msg, replace=True)
            return
        # from an ephemeral message (the list, bulk): a note when asked and when finished
        if r.reported_state is None or not r.is_open:
            self._respond(r, message(f"Change request #{r.id}", [section(request_note(r, note))]), replace=False)

    def _session_message(self, r: RequestView, note: str | None) -> dict[str, Any]:
        text = request_note(r, note)
        try:
            view = get_session(self.core.db, r.items[0].session_id)
        except NotFound:
            return message(f"Change request #{r.id}", [section(text)])
        return session_detail(view, self.ui.detail_actions, note=text)

    def _respond(self, r: RequestView, msg: dict[str, Any], replace: bool) -> None:
        url = r.origin.response_url
        if not url or utcnow() - r.requested_at > RESPONSE_URL_LIFE:
            return
        try:
            WebhookClient(url).send(replace_original=replace, response_type="ephemeral", **msg)
        except Exception as exc:  # noqa: BLE001 - the approval message still shows the outcome
            log.info("request #%s: response_url failed: %s", r.id, type(exc).__name__)


# ----------------------------------------------------------------------------- listeners
def tell(respond: Respond, text: str) -> None:
    """A note to the clicker alone (no warning sign: nothing went wrong)."""
    try:
        respond(response_type="ephemeral", replace_original=False, **message(text, [section(text)]))
    except Exception:  # noqa: BLE001
        log.exception("could not send a note to the user")


def reply_error(respond: Respond, exc: BaseException) -> None:
    try:
        respond(response_type="ephemeral", replace_original=False, **error_message(user_text(exc)))
    except Exception:  # noqa: BLE001
        log.exception("could not report an error to the user")


def after_request(runner: ChangeRunner, view: RequestView) -> None:
    """A request was stored: start it if it may run, and show it in Slack."""
    if view.state == ChangeState.APPROVED:
        runner.submit(view.id)
    if runner.reporter is not None:
        runner.reporter.sync(view)


def move_request(ack: Ack, respond: Respond, runner: ChangeRunner, ask: Callable[[], RequestView],
                 on_refused: Callable[[], None] | None = None, retry: int = 0) -> None:
    """The shape of every listener that stores or moves a request: ask the service (it checks the
    role and the state), ack, then start and show the request. A refusal is acked and told to the
    user alone; nothing changed. What the same user asked for already (AlreadyDone) is a note for
    a second click, and nothing at all for a Slack retry (`retry`: X-Slack-Retry-Num): the first
    delivery answered it, and its request shows in the messages already."""
    try:
        view = ask()
    except AlreadyDone as exc:
        ack()
        if not retry:
            tell(respond, str(exc))
        return
    except PeerbotError as exc:
        ack()
        reply_error(respond, exc)
        if on_refused is not None:
            on_refused()
        return
    ack()
    after_request(runner, view)


def on_approve(ack: Ack, body: dict, respond: Respond, context: BoltContext, request: BoltRequest) -> None:
    runner: ChangeRunner = context["services"].runner
    move_request(ack, respond, runner,
                 lambda: runner.requests.approve(parse_id(action_of(body).get("value")), user_of(body)),
                 on_refused=lambda: _resync(runner, body),  # e.g. it expired just now: show that
                 retry=slack_retry(request.headers))


def on_cancel(ack: Ack, body: dict, respond: Respond, context: BoltContext) -> None:
    runner: ChangeRunner = context["services"].runner
    move_request(ack, respond, runner,
                 lambda: runner.requests.cancel(parse_id(action_of(body).get("value")), user_of(body)))


def on_reject(ack: Ack, body: dict, respond: Respond, client: WebClient, context: BoltContext) -> None:
    """Ask for the reason in a modal (opened at once: the trigger_id is valid for 3 s)."""
    ack()
    runner: ChangeRunner = context["services"].runner
    try:
        user = user_of(body)
        runner.core.access.require(user, Role.APPROVER, "reject changes")
        view = runner.requests.get(parse_id(action_of(body).get("value")))
        if view.state != ChangeState.REQUESTED:
            raise NotFound(f"Request #{view.id} is no longer waiting for approval.")
        container = body.get("container") or {}
        client.views_open(trigger_id=body.get("trigger_id", ""),
                          view=reject_modal(view, container.get("channel_id"), container.get("message_ts")))
    except Exception as exc:  # noqa: BLE001 - every failure reaches the user
        reply_error(respond, exc)


def on_reject_submit(ack: Ack, body: dict, view: dict, context: BoltContext) -> None:
    runner: ChangeRunner = context["services"].runner
    try:
        request_id = reject_meta(view)[0]
        rejected = runner.requests.reject(request_id, user_of(body), reject_reason(view))
    except ValueError:
        ack(response_action="errors", errors={"reject_reason": "This form lost its request: open it again."})
        return
    except PeerbotError as exc:
        ack(response_action="errors", errors={"reject_reason": user_text(exc)[:250]})
        return
    ack()
    after_request(runner, rejected)


def _resync(runner: ChangeRunner, body: dict) -> None:
    if runner.reporter is None:
        return
    try:
        runner.reporter.sync(runner.requests.get(parse_id(action_of(body).get("value"))))  # type: ignore[union-attr]
    except Exception:  # noqa: BLE001 - best effort
        log.debug("resync failed", exc_info=True)


def cmd_audit(ctx: Any) -> None:
    """`/peering audit [session]`: the latest audit events (viewers may read them)."""
    arg = ctx.args.split()[0] if ctx.args else ""
    session_id = parse_id(arg.lstrip("#")) if arg else None
    if session_id is not None:
        get_session(ctx.core.db, session_id)  # NotFound says so
    events = ctx.runner.requests.audit_events(session_id=session_id, limit=40)
    ctx.respond(response_type="ephemeral", **audit_message(events, session_id))


def register(app: App, core: Core, ui: Any, table: Any, runner: ChangeRunner) -> None:
    app.action(Action.CHANGE_APPROVE)(on_approve)
    app.action(Action.CHANGE_REJECT)(on_reject)
    app.action(Action.CHANGE_CANCEL)(on_cancel)
    app.view(Callback.CHANGE_REJECT)(on_reject_submit)
    table.add("audit", cmd_audit)
