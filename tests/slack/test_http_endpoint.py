"""The real Bolt app behind waitress: signatures, health, /peering list/show/help, paging."""
from __future__ import annotations

import json
import time

import requests

from handlers.ids import Action
from tests.factories import make_session
from tests.harness.bot import RunningBot
from tests.harness.slack_requests import sign


def _texts(blocks: list[dict]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def test_healthz(bot: RunningBot) -> None:
    r = requests.get(bot.url + "/healthz", timeout=5)
    assert r.status_code == 200 and r.json() == {"status": "ok"}
    assert requests.get(bot.url + "/nope", timeout=5).status_code == 404


def test_bad_signatures_are_rejected_and_change_nothing(bot: RunningBot) -> None:
    body = "command=%2Fpeering&text=list&user_id=U1&channel_id=C1&response_url=" + bot.slack.response_url()
    before = bot.slack.mark()
    now = int(time.time())
    assert bot.send.post(body, signature="v0=" + "0" * 64).status_code == 401
    old = now - 6 * 60  # Slack's replay window is 5 minutes
    assert bot.send.post(body, timestamp=old, signature=sign(bot.send.secret, body, old)).status_code == 401
    assert bot.send.post(body, signed=False).status_code == 401
    # a signature over a different body (tampered request)
    assert bot.send.post(body + "x", signature=sign(bot.send.secret, body, now), timestamp=now).status_code == 401
    time.sleep(0.5)
    assert bot.slack.calls[before:] == []


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
