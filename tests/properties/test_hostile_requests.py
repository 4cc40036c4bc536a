"""Hostile requests through the real Bolt app over signed HTTP: every action_id the app
registers with hostile values, every view callback with tampered private_metadata and state,
block suggestions, app_home_opened from strangers, and every subcommand with hostile text.

The client knows none of our ids: it sends whatever it likes, signed. Every request must get a
200 at once, nothing may reach Slack that reveals internals (a traceback, an exception's text,
SQL, a secret, the "Something went wrong (ref ...)" of an unhandled error), the database must
not change, and the bot must go on serving.
"""
from __future__ import annotations

import copy
import json
import logging
import time
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from handlers.ids import Action, Callback
from storage.models import ChangeRequest, Session
from tests.factories import make_session
from tests.harness.bot import ADMIN, BOT_TOKEN, OPERATOR, SIGNING_SECRET, VIEWER, RunningBot, dump, start_bot
from tests.harness.slack_requests import load_payload
from tests.properties.strategies import hostile

PROPS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])

# What must never reach Slack: internals of an error, SQL, secrets, an unhandled error's reference.
LEAKS = ("Traceback", 'File "', "Error:", "Exception", "sqlalchemy", "sqlite3", "psycopg", "SELECT ", "INSERT ",
         "UPDATE sessions", "Something went wrong (ref", BOT_TOKEN, SIGNING_SECRET, "test-secret-key")
# The hostile values' mrkdwn, echoed unescaped where Slack reads mrkdwn (it would notify everyone, or link).
MRKDWN_LEAKS = ("<!channel>", "<http://x|y>")


def _mrkdwn_texts(obj: Any, top: bool = True) -> list[str]:
    """The texts Slack reads as mrkdwn: mrkdwn objects, and a message's own `text`."""
    out: list[str] = []
    if isinstance(obj, dict):
        if isinstance(obj.get("text"), str) and (obj.get("type") == "mrkdwn" or (top and "type" not in obj)):
            out.append(obj["text"])
        for key, value in obj.items():
            if key != "private_metadata":
                out += _mrkdwn_texts(value, top=False)
    elif isinstance(obj, list):
        for value in obj:
            out += _mrkdwn_texts(value, top=False)
    return out

# Values a client that knows none of our ids might put in a button: empty, signs, non-numeric,
# past 32 and 64 bits, JSON of every type, Unicode digits, control and bidi characters, mrkdwn.
HOSTILE_VALUES = (
    "", "0", "-1", "+1", " 1", "1.5", "1e3", "NaN", "\u0661", "\u00b2", "\uff11",
    str(2**31), str(2**63), str(2**64 + 1), "9" * 400, "9" * 5000,
    "null", "true", "[]", "[1]", "{}", '{"q": "", "p": 1e999}', '{"q": "", "p": -7}', '{"q": [], "p": "x"}',
    '{"q": "state:up", "p": 99999999999999999999999}', '{"q": "x" , "p": 2147483648}', '{"p": NaN}',
    "\x00\x01\x1b[2J", "\u202eevil", "<!channel> <@U222> *x* <http://x|y>", "'; DROP TABLE sessions; --",
    "a" * 3001, "net:99999999999999999999", "net:-1", "1|192.0.2.1", "99999999999999999999|::1", "home",
)

# Every action_id the app registers (the two patterns with their real and a forged suffix).
MESSAGE_ACTIONS = (
    *(a.value for a in Action if a not in (Action.CONFIG_COMMANDS, Action.EMAIL_SUBJECT, Action.EMAIL_BODY)),
    f"{Action.LIST_PAGE}-prev", f"{Action.LIST_PAGE}-next",
    f"{Action.BULK_ACTION}-admin_up", f"{Action.BULK_ACTION}-admin_down", f"{Action.BULK_ACTION}-deconfigure",
    f"{Action.BULK_ACTION}-nope",
)
# only their suffixed forms are listeners; Edit has no listener yet (no view shows its button)
# and the exchange and peer-group selects sit in input blocks: type-ahead only, never an action.
UNREGISTERED = {Action.LIST_PAGE.value, Action.BULK_ACTION.value, Action.EDIT.value, Action.WIZARD_EXCHANGE.value,
                Action.WIZARD_PEER_GROUP.value}

# private_metadata as a tampering client might send it, for every modal.
HOSTILE_METADATA = (
    "", "{", "null", "[]", "1", '"x"', "{}", '{"sid": 99999999999999999999999}', '{"sid": [1]}', '{"sid": "abc"}',
    '{"sid": -1, "ch": {"a": 1}, "ts": []}', '{"rid": "99999999999999999999999"}', '{"rid": "\u00b2"}', '{"rid": -4}',
    '{"s": 99999999999999999999, "t": "welcome"}', '{"s": 1, "t": "nope"}', '{"s": true, "t": null}',
    '{"step": 5, "rev": 0}', '{"step": 99, "router_id": 99999999999999999999}', '{"step": -1}',
    '{"step": 5, "session_type": "public", "router_id": 1, "exchange_id": 1, "local_asn": 64500, '
    '"peer_name": "<!channel>", "peer_asn": "AS65601", "peer_ip": "192.0.2.200", "channel": "C1"}',
    "x" * 100_000,
)

# view.state.values a client might send: wrong types at every level.
HOSTILE_STATES: tuple[dict[str, Any], ...] = (
    {}, {"x": "y"}, {"x": None}, {"x": {"y": "z"}},
    {Action.CONFIG_COMMANDS: "text"}, {Action.CONFIG_COMMANDS: {Action.CONFIG_COMMANDS: "text"}},
    {Action.CONFIG_COMMANDS: {Action.CONFIG_COMMANDS: {"type": "plain_text_input", "value": 5}}},
    {Action.CONFIG_COMMANDS: {Action.CONFIG_COMMANDS: {"type": "plain_text_input", "value": ["a"]}}},
    {Action.CONFIG_COMMANDS: {Action.CONFIG_COMMANDS: {"type": "plain_text_input", "value": "x\n" * 3000}}},
    {"reject_reason": "x"}, {"reject_reason": {"reject_reason": {"value": {"a": 1}}}},
    {"wz.peer_name.0": {"a": {"type": "plain_text_input", "value": 7}}},
    {"wz.router.0": {"a": {"type": "static_select", "selected_option": "1"}}},
    {"wz.router.0": {"a": {"type": "static_select", "selected_option": {"value": 2**70}}}},
    {"wz.md5_clear.0": {"a": {"type": "checkboxes", "selected_options": ["x", None]}}},
    {"wz.exchange.0": {"a": {"type": "external_select", "selected_option": {"value": "99999999999999999999"}}}},
    {f"{Action.EMAIL_RECIPIENTS}:welcome": {"a": {"type": "plain_text_input", "value": ["x"]}}},
    {f"{Action.EMAIL_SUBJECT}:welcome": "x", f"{Action.EMAIL_BODY}:welcome": {"a": None}},
)

SUGGESTION_ACTIONS = (Action.WIZARD_PEERINGDB, Action.WIZARD_EXCHANGE, Action.WIZARD_ROUTER, Action.WIZARD_PEER_GROUP,
                      Action.WIZARD_LOCAL_PEER)


# ----------------------------------------------------------------------------- the oracle
def _db_snapshot(bot: RunningBot) -> tuple[list[tuple], int]:
    with bot.core.db.session() as s:
        rows = [(r.id, r.peer_id, r.peer_ip, r.admin_status, r.configured, r.as_set, r.notes)
                for r in s.scalars(select(Session).order_by(Session.id))]
        return rows, s.scalar(select(func.count()).select_from(ChangeRequest)) or 0


def _settle(bot: RunningBot, quiet: float = 0.6, limit: float = 60.0) -> None:
    """Wait until the lazy listeners and the worker pool are done: no new Slack call for `quiet` s."""
    end = time.monotonic() + limit
    seen = -1
    while time.monotonic() < end:
        now = bot.slack.mark()
        if now == seen and bot.app.runner.workers.queued == 0:  # type: ignore[attr-defined]
            return
        seen = now
        time.sleep(quiet)


def _assert_no_leaks(bot: RunningBot, mark: int, caplog: pytest.LogCaptureFixture, what: object = "") -> None:
    _settle(bot)
    for call in bot.slack.calls[mark:]:
        text = dump(call.args)
        for leak in LEAKS:
            assert leak not in text, (what, call.method, leak, text[:600])
        for shown in _mrkdwn_texts(call.args):
            for leak in MRKDWN_LEAKS:
                assert leak not in shown, (what, call.method, leak, shown[:600])
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, (what, [(r.name, r.getMessage()[:200], r.exc_info and r.exc_info[0]) for r in errors])


def _assert_still_serving(bot: RunningBot) -> None:
    mark = bot.slack.mark()
    assert bot.send.command("help").status_code == 200
    assert "/peering list" in dump(bot.slack.wait_for("response_url", after=mark, timeout=20).args)


def _ok(response: Any, what: object) -> None:
    assert response.status_code == 200, (what, response.status_code, response.text[:300])
    assert "Traceback" not in response.text and "Error" not in response.text, (what, response.text[:300])


@pytest.fixture
def hostile_bot(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> RunningBot:
    caplog.set_level(logging.WARNING)
    make_session(bot.core, ip="192.0.2.10", name="Alpha *bold* _it_ & ~s~", asn="65601")
    make_session(bot.core, ip="2001:db8::10", name="Beta & Co *x*", asn="65602", router="edge2")
    return bot


@pytest.fixture
def any_db_bot(any_core, slack, caplog: pytest.LogCaptureFixture) -> Iterator[RunningBot]:  # noqa: ANN001
    """The bot on SQLite and on PostgreSQL, where an id past 32 bits is an out-of-range error
    rather than SQLite's OverflowError."""
    caplog.set_level(logging.WARNING)
    make_session(any_core, ip="192.0.2.10", name="Alpha *bold* _it_ & ~s~", asn="65601")
    running = start_bot(any_core, slack)
    yield running
    running.stop()


def _modal(callback_id: str, metadata: str, blocks: list | None = None) -> dict[str, Any]:
    return {"callback_id": callback_id, "private_metadata": metadata, "blocks": blocks or [],
            "title": {"type": "plain_text", "text": "x"}}


def _modal_action(bot: RunningBot, action_id: str, value: str, metadata: str, state: dict[str, Any],
                  user: str = OPERATOR) -> Any:
    action = {"action_id": action_id, "type": "static_select", "value": value,
              "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value}}
    return bot.send.view_action(_modal(Callback.WIZARD, metadata), action, state, user=user)


# ----------------------------------------------------------------------------- buttons
@pytest.mark.parametrize("user", [OPERATOR, VIEWER])
def test_every_action_with_hostile_values_is_answered_cleanly(hostile_bot: RunningBot, caplog: pytest.LogCaptureFixture,
                                                              user: str) -> None:
    """Every registered action_id, pressed on a message with every hostile value (the operator
    may act; the viewer must be refused): 200, no leak, no change."""
    bot = hostile_bot
    before = _db_snapshot(bot)
    ids = [str(r[0]) for r in before[0]]
    mark = bot.slack.mark()
    for action_id in MESSAGE_ACTIONS:
        if action_id in UNREGISTERED:
            continue
        # the viewer may also send real ids: it must be refused; the operator's ids never exist
        values = (*HOSTILE_VALUES[::3], *ids) if user == VIEWER else HOSTILE_VALUES
        for value in values:
            _ok(bot.send.button(action_id, value, user=user), (action_id, value[:40]))
    _assert_no_leaks(bot, mark, caplog)
    assert _db_snapshot(bot) == before
    _assert_still_serving(bot)


def test_bulk_with_hostile_selections_is_answered_cleanly(hostile_bot: RunningBot,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    bot = hostile_bot
    before = _db_snapshot(bot)
    mark = bot.slack.mark()
    selections: tuple[Any, ...] = (
        "x", None, [], ["1"], [None, 5], [{"value": v} for v in HOSTILE_VALUES[:12]],
        [{"value": str(i)} for i in range(1, 150)], {"selected_options": "x"},
    )
    for picked in selections:
        for block in (picked, {Action.BULK_SELECT: picked}, {Action.BULK_SELECT: {"selected_options": picked}}):
            p = copy.deepcopy(load_payload("block_actions_message.json"))
            p.update(user={"id": OPERATOR, "team_id": "T111"}, channel={"id": "C111"},
                     response_url=bot.send.response_url, trigger_id="1.2.3", state={"values": {"bulk": block}})
            p["actions"] = [{"action_id": f"{Action.BULK_ACTION}-admin_down", "block_id": "bulk", "type": "button",
                             "value": "{}", "action_ts": f"{time.time():.6f}"}]
            _ok(bot.send.interactive(p), picked)
    # state itself of the wrong type
    for state in ("x", [], {"values": "x"}, {"values": {"bulk": None}}):
        p = copy.deepcopy(load_payload("block_actions_message.json"))
        p.update(user={"id": OPERATOR}, response_url=bot.send.response_url, state=state)
        p["actions"] = [{"action_id": f"{Action.BULK_ACTION}-admin_down", "type": "button", "value": "",
                         "action_ts": f"{time.time():.6f}"}]
        _ok(bot.send.interactive(p), state)
    _assert_no_leaks(bot, mark, caplog)
    assert _db_snapshot(bot) == before
    _assert_still_serving(bot)


def test_modal_actions_with_tampered_views_are_answered_cleanly(hostile_bot: RunningBot,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    """Every action inside a modal (the wizard's, the email template select, the Home tab's
    Refresh) with tampered private_metadata and state values of the wrong type."""
    bot = hostile_bot
    before = _db_snapshot(bot)
    mark = bot.slack.mark()
    modal_actions = (Action.WIZARD_PREV, Action.WIZARD_ROUTER, Action.WIZARD_PEERINGDB, Action.WIZARD_PEERINGDB_IP,
                     Action.WIZARD_LOCAL_PEER, Action.WIZARD_AS_SET_VALIDATE, Action.WIZARD_AS_SET_IMPORT,
                     Action.EMAIL_TEMPLATE, Action.EMAIL_RECIPIENTS,
                     Action.LIST_REFRESH, Action.BULK_SELECT)
    for k, action_id in enumerate(modal_actions):
        for i, metadata in enumerate(HOSTILE_METADATA):  # each action its own pairs of metadata and state
            for state in (HOSTILE_STATES[(i + k) % len(HOSTILE_STATES)], HOSTILE_STATES[(3 * i + k + 7) % len(HOSTILE_STATES)]):
                _ok(_modal_action(bot, action_id, "1", metadata, state), (action_id, metadata[:40], state))
        for value in HOSTILE_VALUES[::2]:
            _ok(_modal_action(bot, action_id, value, HOSTILE_METADATA[-2], {}), (action_id, value[:40]))
    # a view that is not an object's worth: null, and a Home tab view
    for view in (None, {"type": "home"}, {"type": "home", "id": None}):
        p = copy.deepcopy(load_payload("block_actions_modal.json"))
        p.update(user={"id": OPERATOR}, view=view)
        p["actions"] = [{"action_id": Action.LIST_REFRESH, "type": "button", "value": "home", "action_ts": "1.1"}]
        _ok(bot.send.interactive(p), view)
    _assert_no_leaks(bot, mark, caplog)
    assert _db_snapshot(bot) == before
    _assert_still_serving(bot)


# ----------------------------------------------------------------------------- modals
@pytest.mark.parametrize("callback_id", [c.value for c in Callback if c not in (Callback.ROUTER_DETAILS,
                                                                                   Callback.PEER_DETAILS)])
def test_every_view_submission_with_tampered_metadata_is_answered_cleanly(
        hostile_bot: RunningBot, caplog: pytest.LogCaptureFixture, callback_id: str) -> None:
    """Submit each modal with tampered private_metadata x state values of the wrong type, as the
    operator and as a viewer: 200 (errors inline or a clean message), nothing stored."""
    bot = hostile_bot
    before = _db_snapshot(bot)
    mark = bot.slack.mark()
    # every metadata with half the states, every other metadata with the other half; a viewer: a few
    plan = ((OPERATOR, HOSTILE_METADATA, HOSTILE_STATES[::2]), (OPERATOR, HOSTILE_METADATA[::2], HOSTILE_STATES[1::2]),
            (VIEWER, HOSTILE_METADATA, HOSTILE_STATES[::6]))
    for user, metadatas, states in plan:
        for metadata in metadatas:
            for state in states:
                r = bot.send.view_submission(_modal(callback_id, metadata), state, user=user)
                _ok(r, (user, metadata[:60], state))
    _assert_no_leaks(bot, mark, caplog, callback_id)
    assert _db_snapshot(bot) == before
    _assert_still_serving(bot)


# ----------------------------------------------------------------------------- suggestions
@PROPS
@given(text=hostile(st.sampled_from(("edge", "EXAMPLE", "AS65601", "Alpha", "192.0.2.1"))),
       metadata=st.sampled_from(HOSTILE_METADATA))
def test_suggestions_with_hostile_text_answer_options(hostile_bot: RunningBot, caplog: pytest.LogCaptureFixture,
                                                      text: str, metadata: str) -> None:
    bot = hostile_bot
    for action_id in SUGGESTION_ACTIONS:
        r = bot.send.suggestion(action_id, text, block_id="b", view=_modal(Callback.WIZARD, metadata))
        _ok(r, (action_id, text[:40]))
        options = r.json().get("options")
        assert isinstance(options, list) and len(options) <= 100
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# ----------------------------------------------------------------------------- commands, events
SUBCOMMANDS = ("", "list", "ls", "show", "audit", "refresh", "add", "help", "bogus", "LIST", "show\u00a0", "discover",
               "drift")


def _hostile_args() -> Iterable[str]:
    yield from HOSTILE_VALUES
    yield from ("#1", "#" + "9" * 30, "state:", "state:nope", "router:", "router:" + "x" * 500, "ix:%", "%_%",
                "asn:99999999999999999999", "ip:::1/0", "1 2 3", "edge1 edge2", "192.0.2.10", "2001:db8::10",
                "\\", "*", "'", '"', "AS65601", "name:<!channel>")


def test_every_subcommand_with_hostile_text_is_answered_cleanly(hostile_bot: RunningBot,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    bot = hostile_bot
    before = _db_snapshot(bot)
    mark = bot.slack.mark()
    for sub in SUBCOMMANDS:
        for n, arg in enumerate(_hostile_args()):
            if sub in ("refresh", "discover", "drift") and arg not in ("", "edge9", "x" * 5000, "edge1 edge2", "\u202eevil"):
                continue  # a read per router: a few suffice (the routers of the test inventory do not answer)
            for user in (OPERATOR, VIEWER) if n % 4 == 0 else (OPERATOR,):  # a viewer: every 4th
                _ok(bot.send.command(f"{sub} {arg}", user=user), (sub, arg[:40]))
    _assert_no_leaks(bot, mark, caplog)
    assert _db_snapshot(bot)[0] == before[0]
    _assert_still_serving(bot)


def test_app_home_opened_from_strangers_and_odd_events(hostile_bot: RunningBot,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """app_home_opened from unknown users, teams and with odd fields: 200; strangers get nothing."""
    bot = hostile_bot
    mark = bot.slack.mark()
    for event in ({"user": "UNKNOWN1"}, {"user": "U999", "tab": "messages"}, {"user": None}, {"user": ""},
                  {"user": "x" * 5000}, {"user": "<!channel>"}, {"user": ADMIN, "tab": None},
                  {"user": OPERATOR, "view": "x"}, {"user": OPERATOR, "tab": "home", "channel": None}):
        _ok(bot.send.event({"tab": "home", **event}), event)
    assert bot.send.event({"user": [1], "tab": "home"}).status_code == 400  # refused before Bolt: not a user id
    for team in ({"team_id": "TOTHER"}, {"team_id": None}, {"team_id": ["x"]}):
        p = copy.deepcopy(load_payload("app_home_opened.json"))
        p.update(team)
        p["event"].update(user=OPERATOR, tab="home")
        p["event_id"] = f"Ev{time.time_ns()}"
        _ok(bot.send.post(json.dumps(p), content_type="application/json"), team)
    _assert_no_leaks(bot, mark, caplog)
    published = [c for c in bot.slack.calls[mark:] if c.method == "views.publish"]
    # a viewer's own tab (everyone is a viewer here); never a published tab for a made-up "user"
    assert {c.args.get("user_id") for c in published} == {OPERATOR, "UNKNOWN1"}
    _assert_still_serving(bot)


# ----------------------------------------------------------------------------- HTTP shapes
# (signatures, stale timestamps, sizes, non-JSON payloads: tests/slack/test_http_endpoint.py)
def test_signed_odd_shapes_get_a_clean_answer(hostile_bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    """Repeated form keys, a body of one kind sent as the other, events of the wrong shape:
    200 or 400, never a 500 or a traceback, and the bot goes on serving."""
    bot = hostile_bot
    mark = bot.slack.mark()
    url = bot.send.response_url
    button = json.dumps({"type": "block_actions", "user": {"id": OPERATOR}, "response_url": url,
                         "actions": [{"action_id": Action.LIST_SHOW, "value": "1", "type": "button"}]})
    bodies = {
        "repeated payload": ("payload=" + button + "&payload=" + button, "application/x-www-form-urlencoded"),
        "repeated text": (f"command=%2Fpeering&text=help&text=list&user_id={OPERATOR}&response_url={url}",
                          "application/x-www-form-urlencoded"),
        "form sent as JSON": (f"command=%2Fpeering&text=help&user_id={OPERATOR}", "application/json"),
        "JSON sent as form": (button, "application/x-www-form-urlencoded"),
        "text/plain": (f"command=%2Fpeering&text=help&user_id={OPERATOR}", "text/plain"),
        "event not an object": (json.dumps({"type": "event_callback", "event": "x"}), "application/json"),
        "event without type": (json.dumps({"type": "event_callback", "event": {"user": OPERATOR}}), "application/json"),
        "event of a list": (json.dumps({"type": "event_callback", "event": [1]}), "application/json"),
        "unknown type": (json.dumps({"type": "nope", "user": {"id": OPERATOR}}), "application/json"),
        "url_verification": (json.dumps({"type": "url_verification", "challenge": "abc"}), "application/json"),
        "message_action": (json.dumps({"type": "message_action", "user": {"id": OPERATOR}, "callback_id": "x"}),
                           "application/json"),
        "view_closed odd": (json.dumps({"type": "view_closed", "user": {"id": OPERATOR}, "view": {"callback_id": 5}}),
                            "application/json"),
        # 200,000 levels of nesting in 800 kB: json.loads raises RecursionError, not ValueError
        "deep JSON body": ('{"type": "block_actions", "x": ' + "[" * 200_000 + "]" * 200_000 + "}", "application/json"),
        "deep payload": ("payload=" + quote('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}"),
                         "application/x-www-form-urlencoded"),
    }
    for what, (body, ctype) in bodies.items():
        r = bot.send.post(body, content_type=ctype)
        assert r.status_code in (200, 400, 404), (what, r.status_code, r.text[:200])
        assert "Traceback" not in r.text and "Error" not in r.text, (what, r.text[:200])
    _assert_no_leaks(bot, mark, caplog)
    _assert_still_serving(bot)


# ----------------------------------------------------------------------------- both databases
ID_VALUES = ("0", "-1", str(2**31), str(2**31 - 1), "9999999999", str(2**63), str(2**64 + 1), "99999999", "\u00b2")


def test_ids_past_32_bits_on_every_database(any_db_bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    """Every button and id-taking subcommand with ids at and past the 32/64-bit edges."""
    bot = any_db_bot
    before = _db_snapshot(bot)
    mark = bot.slack.mark()
    for action_id in MESSAGE_ACTIONS:
        if action_id in UNREGISTERED or action_id in (Action.LIST_REFRESH, Action.REFRESH):
            continue
        for value in ID_VALUES:
            _ok(bot.send.button(action_id, value), (action_id, value))
    for value in ID_VALUES:
        for text in (f"show {value}", f"audit {value}", f"audit #{value}", f"list asn:{value}", f"list AS{value}",
                     f"list {value}"):
            _ok(bot.send.command(text), text)
        for callback_id, metadata in ((Callback.CONFIG_MANAGER, f'{{"sid": {value}}}'),
                                      (Callback.CHANGE_REJECT, f'{{"rid": "{value}"}}'),
                                      (Callback.EMAIL, f'{{"s": {value}, "t": "welcome"}}')):
            _ok(bot.send.view_submission(_modal(callback_id, metadata), {}), (callback_id, value))
    _assert_no_leaks(bot, mark, caplog)
    assert _db_snapshot(bot) == before
    _assert_still_serving(bot)
