"""The real Bolt app behind waitress: signatures, health, /peering list/show/help, paging."""
from __future__ import annotations

import copy
import hashlib
import hmac
import json
import os
import socket
import time
from contextlib import ExitStack
from urllib.parse import urlencode

import pytest
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
    assert bot.send.post(garbage, timestamp=now + 400, signature=sign(bot.send.secret, garbage, now + 400)).status_code == 401
    assert bot.send.post(garbage, signature="v0=\u00e9" + "0" * 63).status_code == 401  # non-ASCII header
    big = "x" * 1_100_000
    assert bot.send.post(big, signature=sign(bot.send.secret, big, now)).status_code == 413


def test_healthz(bot: RunningBot) -> None:
    r = requests.get(bot.url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok", "pid": os.getpid()}  # (in-process bot)
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
    # (never configured: a database-only change, no approval needed)
    done = bot.slack.wait_for("response_url", lambda c: f"Session #{other.id} deleted" in json.dumps(c.args),
                              after=before)
    assert "Done" in json.dumps(done.args)
    # its own notes only (and Bolt's check of the bot token, made at the first request it authorizes)
    assert {c.method for c in bot.slack.calls[before:]} - {"auth.test"} == {"response_url"}
    sessions, audits = _db_counts(bot)
    assert sessions == [keep.id] and audits > db_before[1]
    with bot.core.db.session() as s:  # every new audit row is about the valid request and its session
        new = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id).offset(db_before[1])))
        request_ids = {str(e.object_id) for e in new if e.object_type == "change_request"}
        assert len(request_ids) == 1
        assert {(e.object_type, str(e.object_id)) for e in new} == {("session", str(other.id))} | {
            ("change_request", rid) for rid in request_ids}


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


def _button_payload(bot: RunningBot, **changes: object) -> dict:
    p = copy.deepcopy(load_payload("block_actions_message.json"))
    p.update(user={"id": "U111", "username": "user", "name": "user", "team_id": "T111"}, team={"id": "T111"},
             channel={"id": "C111", "name": "netops"}, response_url=bot.send.response_url,
             trigger_id=f"{int(time.time())}.555.trigger")
    p["actions"] = [{"action_id": Action.LIST_SHOW, "block_id": "b", "type": "button", "value": "1",
                     "text": {"type": "plain_text", "text": "View"}, "action_ts": f"{time.time():.6f}"}]
    p.update(changes)
    return p


def _malformed_bodies(bot: RunningBot) -> dict[str, bytes]:
    def form(payload: object) -> bytes:
        return urlencode({"payload": payload if isinstance(payload, str) else json.dumps(payload)}).encode()

    button = _button_payload(bot)
    no_actions = _button_payload(bot)
    del no_actions["actions"]
    return {
        "non-UTF-8 body": b"payload=%7B%7D&text=\xff\xfe\xfa",
        "payload=not json": form("not json"),
        "payload=[]": form([]),
        "payload=123": form(123),
        "JSON body that is a list": b"[1, 2]",
        "actions: []": form(_button_payload(bot, actions=[])),
        "missing actions": form(no_actions),
        "actions is not a list": form(_button_payload(bot, actions={"a": 1})),
        "action is not an object": form(_button_payload(bot, actions=["x"])),
        "button value not a string": form(_button_payload(bot, actions=[{**button["actions"][0], "value": 7}])),
        "button value an object": form(_button_payload(bot, actions=[{**button["actions"][0], "value": {"a": 1}}])),
        "action_id not a string": form(_button_payload(bot, actions=[{**button["actions"][0], "action_id": 5}])),
        "user not an object": form(_button_payload(bot, user="U111")),
        "view submission without a view": form({"type": "view_submission", "user": {"id": "U111"}}),
        "suggestion value not a string": form({"type": "block_suggestion", "user": {"id": "U111"},
                                               "action_id": Action.WIZARD_PEERINGDB, "block_id": "b", "value": []}),
    }


def test_signed_malformed_payloads_get_400_and_one_log_line(bot: RunningBot, caplog) -> None:  # noqa: ANN001
    """A validly signed body that is not a Slack payload of the right shape: 400 and one log
    line naming the problem, never a 500, a traceback, or a listener run."""
    import logging

    for what, raw in _malformed_bodies(bot).items():
        caplog.clear()
        mark = bot.slack.mark()
        now = int(time.time())
        sig = "v0=" + hmac.new(bot.send.secret.encode(), f"v0:{now}:".encode() + raw, hashlib.sha256).hexdigest()
        r = bot.send.http.post(bot.send.endpoint, data=raw, timeout=10, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(now),
            "X-Slack-Signature": sig})
        assert r.status_code == 400, (what, r.status_code, r.text[:200])
        records = [rec for rec in caplog.records if rec.levelno >= logging.WARNING]
        assert len(records) == 1, (what, [rec.getMessage() for rec in records])
        assert records[0].exc_info is None and "Traceback" not in caplog.text, what
        assert "malformed" in records[0].getMessage(), what
        assert bot.slack.calls[mark:] == [], what
    # the same endpoint still answers a well-formed button
    mark = bot.slack.mark()
    assert bot.send.interactive(_button_payload(bot)).status_code == 200
    assert "No session #1" in json.dumps(bot.slack.wait_for("response_url", after=mark).args)


# -- HTTP limits: bodies refused before they are read, idle connections do not block -------
def _address(bot: RunningBot) -> tuple[str, int]:
    host, port = bot.url.removeprefix("http://").split(":")
    return host, int(port)


def _status_line(conn: socket.socket) -> bytes:
    """The first line of the server's answer (generous timeout; no timing is asserted)."""
    conn.settimeout(30)
    data = b""
    while b"\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


def _signed_headers(bot: RunningBot, body: bytes) -> bytes:
    now = int(time.time())
    sig = "v0=" + hmac.new(bot.send.secret.encode(), f"v0:{now}:".encode() + body, hashlib.sha256).hexdigest()
    return (f"X-Slack-Request-Timestamp: {now}\r\nX-Slack-Signature: {sig}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n").encode()


def test_huge_declared_body_is_refused_before_it_is_read(bot: RunningBot) -> None:
    """An unsigned 200 MiB body declared in Content-Length: 413 after the headers and 100 bytes,
    i.e. the server answered without waiting for (or reading) the body."""
    with socket.create_connection(_address(bot), timeout=30) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 209715200\r\n\r\n" + b"x" * 100)
        assert _status_line(conn).startswith(b"HTTP/1.1 413")
    assert requests.get(bot.url + "/healthz", timeout=30).status_code == 200


def test_oversized_chunked_body_is_cut_off(bot: RunningBot) -> None:
    """Chunked bodies (Slack never sends them) are held to the same 1 MB: 413, not read to the end."""
    with socket.create_connection(_address(bot), timeout=30) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"%x\r\n" % 65536 + b"y" * 65536 + b"\r\n"
        try:
            for _ in range(20):  # 1.25 MiB, no final chunk
                conn.sendall(chunk)
        except OSError:
            pass  # the server may stop reading once it has refused the request
        assert _status_line(conn).startswith(b"HTTP/1.1 413")


@pytest.mark.parametrize("length", [b"abc", b"-1", b"+5", b"1, 1", b"0x10"])
def test_invalid_content_length_is_400(bot: RunningBot, length: bytes) -> None:
    body = b"command=%2Fpeering&text=help"
    with socket.create_connection(_address(bot), timeout=30) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n" + _signed_headers(bot, body)
                     + b"Content-Length: " + length + b"\r\n\r\n" + body)
        assert _status_line(conn).startswith(b"HTTP/1.1 400")


def test_body_without_content_length_is_not_processed(bot: RunningBot) -> None:
    """A signed body sent without Content-Length is not read as the request's body: 401 (the
    empty body does not match the signature), and no listener runs."""
    body = b"command=%2Fpeering&text=help&user_id=U111&channel_id=C111&response_url=" + bot.send.response_url.encode()
    mark = bot.slack.mark()
    with socket.create_connection(_address(bot), timeout=30) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\n" + _signed_headers(bot, body) + b"\r\n" + body)
        assert _status_line(conn).startswith(b"HTTP/1.1 401")
    assert requests.get(bot.url + "/healthz", timeout=30).status_code == 200
    assert bot.slack.calls[mark:] == []


def test_idle_and_half_open_connections_do_not_stop_the_server(bot: RunningBot) -> None:
    """105 connections that send nothing or half a request (more than waitress' default limit of
    100): /healthz and a signed command are still answered while they stay open."""
    with ExitStack() as held:
        for n in range(105):
            conn = held.enter_context(socket.create_connection(_address(bot), timeout=30))
            if n % 2:
                conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: bot\r\nContent-Len")
        assert requests.get(bot.url + "/healthz", timeout=30).status_code == 200
        mark = bot.slack.mark()
        assert bot.send.command("help").status_code == 200
        assert "/peering list" in json.dumps(bot.slack.wait_for("response_url", after=mark, timeout=30).args)


def test_a_command_with_the_word_payload_is_answered(bot: RunningBot) -> None:
    """Bolt's HTTP parser takes any form body with "payload" in it for an interactive payload."""
    make_session(bot.core, ip="192.0.2.10", name="Payload Networks", asn="65601")
    mark = bot.slack.mark()
    r = bot.send.command("list payload")
    assert r.status_code == 200
    answer = bot.slack.wait_for("response_url", lambda c: "Peering sessions" in json.dumps(c.args), after=mark)
    assert "Payload Networks" in json.dumps(answer.args)
