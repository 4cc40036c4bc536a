"""The real Bolt app behind waitress: signatures, health, /peering list/show/help, paging."""
from __future__ import annotations

import copy
import json
import time
from urllib.parse import urlencode

import requests
from sqlalchemy import func, select

from handlers.ids import Action
from storage.models import AuditEvent, Session
from tests.factories import make_session
from tests.harness.bot import RunningBot
from tests.harness.slack_requests import load_payload, sign


def _texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_forged_requests_bolt_cannot_parse_get_401(bot: RunningBot) -> None:
    """The signature is checked before anything is parsed: garbage gets 401, not a 500."""
    garbage = "payload=%7Bnot-json"
    now = int(time.time())
    assert bot.send.post(garbage, signature="v0=" + "0" * 64).status_code == 401
    assert bot.send.post(garbage, signed=False).status_code == 401
    assert bot.send.post(garbage, timestamp="soon", signature="v0=00").status_code == 401  # type: ignore[arg-type]
    assert bot.send.post(garbage, timestamp=now - 400, signature=sign(bot.send.secret, garbage, now - 400)).status_code == 401
    big = "x" * 1_100_000
    assert bot.send.post(big, signature=sign(bot.send.secret, big, now)).status_code == 413


def test_healthz(bot: RunningBot) -> None:
    r = requests.get(bot.url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert requests.get(bot.url + "/nope", timeout=5).status_code == 404


def _bulk_delete_body(bot: RunningBot, sid: int) -> str:
    """A Delete of session `sid` from the list's bulk controls, form-encoded as Slack sends it."""
    p = copy.deepcopy(load_payload("block_actions_message.json"))
    p.update(user={"id": "U111", "username": "user", "name": "user", "team_id": "T111"}, team={"id": "T111"},
             channel={"id": "C111", "name": "netops"}, response_url=bot.send.response_url,
             trigger_id=f"{int(time.time())}.666.trigger",
             state={"values": {"bulk": {Action.BULK_SELECT: {"type": "multi_static_select", "selected_options": [
                 {"text": {"type": "plain_text", "text": f"#{sid}"}, "value": str(sid)}]}}}})
    p["container"].update(channel_id="C111", message_ts="1700000000.000001")
    p["actions"] = [{"action_id": f"{Action.BULK_ACTION}-deconfigure", "block_id": "bulk", "type": "button",
                     "value": json.dumps({"q": "", "p": 1}), "text": {"type": "plain_text", "text": "Delete"},
                     "action_ts": f"{time.time():.6f}"}]
    return urlencode({"payload": json.dumps(p)})


def _db_counts(bot: RunningBot) -> tuple[list[int], int]:
    with bot.core.db.session() as s:
        return sorted(s.scalars(select(Session.id))), s.scalar(select(func.count()).select_from(AuditEvent))


def test_bad_signatures_are_rejected_and_change_nothing(bot: RunningBot) -> None:
    keep = make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    other = make_session(bot.core, ip="192.0.2.11", name="Beta Networks", asn="65602")
    command = "command=%2Fpeering&text=list&user_id=U1&channel_id=C1&response_url=" + bot.slack.response_url()
    delete = _bulk_delete_body(bot, keep.id)  # would delete a session and write audit rows if accepted
    db_before = _db_counts(bot)
    before = bot.slack.mark()
    now = int(time.time())
    old = now - 6 * 60  # Slack's replay window is 5 minutes
    for body in (command, delete):
        assert bot.send.post(body, signature="v0=" + "0" * 64).status_code == 401
        assert bot.send.post(body, timestamp=old, signature=sign(bot.send.secret, body, old)).status_code == 401
        assert bot.send.post(body, signed=False).status_code == 401
    # tampered: a valid signature over a different body (other text; the other session deleted)
    for body, signed in ((command.replace("text=list", "text=help"), command), (_bulk_delete_body(bot, other.id), delete)):
        assert bot.send.post(body, signature=sign(bot.send.secret, signed, now), timestamp=now).status_code == 401
    assert _db_counts(bot) == db_before  # rejected before any listener ran
    # positive signal: one validly signed request afterwards is answered, and it is the only call
    assert bot.send.post(_bulk_delete_body(bot, other.id)).status_code == 200
    done = bot.slack.wait_for("response_url", lambda c: "Bulk Delete" in json.dumps(c.args), after=before)
    assert "1 of 1 succeeded" in json.dumps(done.args)
    assert bot.slack.calls[before:] == [done]
    sessions, audits = _db_counts(bot)
    assert sessions == [keep.id] and audits > db_before[1]
    with bot.core.db.session() as s:  # every new audit row is about the valid request's session
        new = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(db_before[1])))
        assert {(e.object_type, str(e.object_id)) for e in new} == {("session", str(other.id))}


def test_peering_list_is_acked_then_posts_sessions(bot: RunningBot) -> None:
    make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    make_session(bot.core, ip="2001:db8::10", name="Beta Transit", asn="65602")
    mark = bot.slack.mark()
    r = bot.send.command("list")
    assert r.status_code == 200 and r.text == ""  # empty ack: the answer comes by response_url
    call = bot.slack.wait_for("response_url", after=mark)
    blocks = call.args["blocks"]
    assert call.args["response_type"] == "ephemeral"
    text = _texts(blocks)
    assert "Alpha Networks" in text and "Beta Transit" in text and "AS65602" in text
    assert "2001:db8::10" in text and "Not configured" in text
    assert len(blocks) <= 50


def test_list_filter_and_unknown_state(bot: RunningBot) -> None:
    make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    make_session(bot.core, ip="198.51.100.20", name="Gamma", asn="65603", router="edge2", exchange="OTHER-IX")
    mark = bot.slack.mark()
    bot.send.command("list router:edge2")
    text = _texts(bot.slack.wait_for("response_url", after=mark).args["blocks"])
    assert "Gamma" in text and "Alpha" not in text
    mark = bot.slack.mark()
    bot.send.command("list state:sideways")
    err = bot.slack.wait_for("response_url", after=mark).args
    assert "unknown state" in json.dumps(err) and err["response_type"] == "ephemeral"


def test_list_pages_in_place(bot: RunningBot) -> None:
    for n in range(20):
        make_session(bot.core, ip=f"192.0.2.{20 + n}", name=f"Peer {n:02d}", asn="65601")
    mark = bot.slack.mark()
    bot.send.command("list")
    first = bot.slack.wait_for("response_url", after=mark).args
    nav = [b for b in first["blocks"] if b["type"] == "actions"][0]["elements"]
    nxt = [e for e in nav if e["action_id"] == f"{Action.LIST_PAGE}-next"][0]
    assert not any(e["action_id"].endswith("-prev") for e in nav)
    assert "Page 1/2" in _texts(first["blocks"])
    mark = bot.slack.mark()
    assert bot.send.button(nxt["action_id"], nxt["value"]).status_code == 200
    second = bot.slack.wait_for("response_url", after=mark).args
    assert second["replace_original"] is True
    assert "Page 2/2" in _texts(second["blocks"]) and "Peer 19" in _texts(second["blocks"])
    assert "Peer 00" not in _texts(second["blocks"])


def test_show_by_id_and_ip_renders_detail(bot: RunningBot) -> None:
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601", md5="hunter2-md5",
                     notes="ticket NET-42")
    for ref in (str(v.id), "192.0.2.10"):
        mark = bot.slack.mark()
        bot.send.command(f"show {ref}")
        msg = bot.slack.wait_for("response_url", after=mark).args
        text = _texts(msg["blocks"])
        assert msg["response_type"] == "in_channel"
        assert f"Session #{v.id}" in text and "Alpha Networks" in text and "EXAMPLE-IX" in text
        assert "netbox.example.net" in text  # the router link
        assert "ticket NET-42" in text and "•••• (set)" in text
        assert "hunter2-md5" not in json.dumps(msg)
        ids = {e["action_id"] for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]}
        assert {Action.ROUTER_DETAILS, Action.PEER_DETAILS} <= ids


def test_show_unknown_session_says_so(bot: RunningBot) -> None:
    mark = bot.slack.mark()
    bot.send.command("show 4242")
    assert "No session #4242" in json.dumps(bot.slack.wait_for("response_url", after=mark).args)
    mark = bot.slack.mark()
    bot.send.command("show not-an-ip")
    assert "session id" in json.dumps(bot.slack.wait_for("response_url", after=mark).args)


def test_help_and_unknown_subcommand(bot: RunningBot) -> None:
    mark = bot.slack.mark()
    bot.send.command("help")
    assert "/peering list" in json.dumps(bot.slack.wait_for("response_url", after=mark).args)
    mark = bot.slack.mark()
    bot.send.command("frobnicate now")
    msg = bot.slack.wait_for("response_url", after=mark).args
    assert msg["response_type"] == "ephemeral"
    assert "Unknown subcommand `frobnicate`" in msg["text"] and "/peering show" in json.dumps(msg["blocks"])


def test_view_button_posts_detail_and_router_details_opens_modal(bot: RunningBot) -> None:
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    mark = bot.slack.mark()
    bot.send.button(Action.LIST_SHOW, str(v.id))
    msg = bot.slack.wait_for("response_url", after=mark).args
    assert f"Session #{v.id}" in _texts(msg["blocks"]) and msg["replace_original"] is False
    mark = bot.slack.mark()
    bot.send.button(Action.ROUTER_DETAILS, str(v.router_id))
    opened = bot.slack.wait_for("views.open", after=mark).args
    assert opened["trigger_id"] and "edge1" in json.dumps(opened["view"]) and "TRANSIT" in json.dumps(opened["view"])
    mark = bot.slack.mark()
    bot.send.button(Action.PEER_DETAILS, str(v.peer_id))
    opened = bot.slack.wait_for("views.open", after=mark).args
    assert "AS65601" in json.dumps(opened["view"]) and "192.0.2.10" in json.dumps(opened["view"])


def test_bot_token_never_in_requests_to_response_url(bot: RunningBot) -> None:
    mark = bot.slack.mark()
    bot.send.command("help")
    call = bot.slack.wait_for("response_url", after=mark)
    assert "authorization" not in call.headers


def test_router_and_peer_details_report_failures(bot: RunningBot) -> None:
    """A deleted router/peer, or Slack refusing the modal, is told to the user (not lost after the ack)."""
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    for action_id, value, text in ((Action.ROUTER_DETAILS, "4242", "No router"), (Action.PEER_DETAILS, "4242", "No peer"),
                                   (Action.ROUTER_DETAILS, "", "no id")):
        mark = bot.slack.mark()
        assert bot.send.button(action_id, value).status_code == 200
        msg = bot.slack.wait_for("response_url", after=mark).args
        assert msg["response_type"] == "ephemeral" and msg["replace_original"] is False
        assert text in json.dumps(msg["blocks"]), (action_id, value, msg)
        assert not bot.slack.of("views.open")
    bot.slack.fail_methods["views.open"] = "expired_trigger_id"
    for action_id, value in ((Action.ROUTER_DETAILS, v.router_id), (Action.PEER_DETAILS, v.peer_id)):
        mark = bot.slack.mark()
        bot.send.button(action_id, str(value))
        msg = bot.slack.wait_for("response_url", after=mark).args
        assert "expired_trigger_id" in json.dumps(msg["blocks"]) and msg["response_type"] == "ephemeral"
