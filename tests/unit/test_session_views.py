"""Block Kit renderers for the list and detail messages stay within Slack's limits."""
from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from bot.base.errors import InvalidInput
from bot.sessions.views import ListKey, SessionPage, SessionView
from handlers.ids import Action
from handlers.views.common import clip_mrkdwn, confirm_dialog, escape_clipped
from handlers.views.sessions import (
    parse_page_ref, parse_page_value, peer_details_modal, router_details_modal, session_detail, session_list,
)

NOW = datetime.now(timezone.utc)


def view(n: int = 1, **kw: object) -> SessionView:
    base = SessionView(
        id=n, session_type="public", exchange_id=2, exchange_name="EXAMPLE-IX", exchange_is_none=False, router_id=1,
        router_name="edge1", router_platform="frr", router_url=None, peer_group="IX-PEERS", local_asn=64500,
        peer_id=n, peer_name=f"Peer {n} <&>", peer_asn=65601, peeringdb_net_id=None, peer_ip=f"192.0.2.{n % 250 + 1}",
        address_family=4, has_md5=True, as_set=None, notes=None, admin_status="up", configured=True,
        bgp_state="Established", prefixes_received=10, prefixes_accepted=9, prefixes_advertised=3,
        last_state_change=NOW - timedelta(hours=5), last_polled=NOW, last_error=None, created_by="U111",
        created_at=NOW, updated_at=NOW,
    )
    return replace(base, **kw)


def check_mrkdwn(text: str, limit: int) -> None:
    """Within `limit`, and no markup cut in half by clipping: every & starts an entity, every <
    is closed."""
    assert len(text) <= limit, (len(text), text)
    assert not re.search(r"&(?!amp;|lt;|gt;)", text), text
    assert text.count("<") == text.count(">"), text


def check_confirm(c: dict) -> None:
    """A confirm dialog (api.slack.com/reference/block-kit/composition-objects#confirm)."""
    assert c["title"]["type"] == "plain_text" and 0 < len(c["title"]["text"]) <= 100
    assert 0 < len(c["text"]["text"]) <= 300
    if c["text"]["type"] == "mrkdwn":
        check_mrkdwn(c["text"]["text"], 300)
    assert 0 < len(c["confirm"]["text"]) <= 30 and 0 < len(c["deny"]["text"]) <= 30


def check_element(e: dict) -> None:
    if e["type"] == "button":
        assert 0 < len(e["text"]["text"]) <= 75 and len(e.get("value", "")) <= 2000
    for o in e.get("options", []):
        assert 0 < len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150
    assert len(e.get("options", [])) <= 100
    if "placeholder" in e:
        assert len(e["placeholder"]["text"]) <= 150
    if "confirm" in e:
        check_confirm(e["confirm"])


def check_message_limits(msg: dict) -> None:
    assert len(msg["blocks"]) <= 50 and len(msg["text"]) <= 3000
    for b in msg["blocks"]:
        if b["type"] == "section":
            if "text" in b:
                check_mrkdwn(b["text"]["text"], 3000)
            for f in b.get("fields", []):
                check_mrkdwn(f["text"], 2000)
            assert len(b.get("fields", [])) <= 10
            if "accessory" in b:
                check_element(b["accessory"])
        if b["type"] == "context":
            assert all(len(e["text"]) <= 3000 for e in b["elements"])
        if b["type"] == "actions":
            assert len(b["elements"]) <= 25
            for e in b["elements"]:
                check_element(e)
        if b["type"] == "header":
            assert b["text"]["type"] == "plain_text" and len(b["text"]["text"]) <= 150


def confirms(msg: dict) -> dict[str, dict]:
    return {e["action_id"]: e["confirm"] for b in msg["blocks"] if b["type"] == "actions"
            for e in b["elements"] if "confirm" in e}


# The worst a user or the inventory can give: an 80-character peer name of & < > (each escaped
# to 4-5 characters), a 64-character router name, the longest IPv6 text, a 10-digit id.
WORST_PEER = ("&<>" * 27)[:80]
WORST_ROUTER = ("<&>" * 22)[:64]
WORST = dict(id=4294967295, peer_name=WORST_PEER, router_name=WORST_ROUTER,
             peer_ip="2001:db8:ffff:ffff:ffff:ffff:255.255.255.255", peer_asn=4294967294,
             exchange_name="X&" * 32, peer_group="&" * 64, as_set="AS-" + "&" * 97)


def test_detail_confirm_dialogs_and_buttons_fit_with_the_worst_names() -> None:
    every = set(Action)
    for kw in ({}, {"admin_status": "down"}, {"configured": False}, {"router_url": "https://nb.example.net/d/" + "9" * 40},
               {"peeringdb_net_id": 2**31 - 1, "notes": "&" * 1000, "last_error": "<&>" * 700}):
        msg = session_detail(view(**{**WORST, **kw}), available=every)
        check_message_limits(msg)
        dialogs = confirms(msg)
        assert Action.DELETE in dialogs and (Action.ADMIN_DOWN in dialogs) == (kw.get("admin_status") != "down")
        for c in dialogs.values():  # the question is still whole: it names the session and ends with "?"
            text = c["text"]["text"]
            assert text.endswith("?") and "2001:db8:ffff:ffff:ffff:ffff:255.255.255.255" in text
            assert text.count("*") == 2 and "&amp;&lt;&gt;" in text
        delete = dialogs[Action.DELETE]["text"]["text"]
        assert f"#{WORST['id']}" in delete
        assert ("remove the neighbor from &lt;&amp;&gt;" in delete) == kw.get("configured", True)
    down = confirms(session_detail(view(**WORST), available=every))[Action.ADMIN_DOWN]["text"]["text"]
    assert down.startswith("Shut down the BGP session with *&amp;&lt;&gt;") and " on &lt;&amp;&gt;" in down


def test_list_and_bulk_controls_fit_with_the_worst_names() -> None:
    page = SessionPage(items=[view(i, **{**WORST, "id": 4294967200 + i}) for i in range(40)], page=1, pages=1,
                       total=40, query_text="&<>" * 1000)
    msg = session_list(page, can_add=True, bulk=True)
    check_message_limits(msg)
    bulk = [b for b in msg["blocks"] if b.get("block_id") == "bulk"][0]
    assert len(bulk["elements"][0]["options"]) == 40
    assert set(confirms(msg)) == {f"{Action.BULK_ACTION}-admin_down", f"{Action.BULK_ACTION}-deconfigure"}


def test_clipping_never_cuts_markup() -> None:
    for n in range(1, 40):
        assert not re.search(r"&(?!amp;|lt;|gt;)", escape_clipped("&" * 50, n)) and len(escape_clipped("&" * 50, n)) <= n
    assert escape_clipped("a&b", 10) == "a&amp;b"
    assert escape_clipped("&&&", 11) == "&amp;&amp;…"
    assert clip_mrkdwn("see <https://x.example/" + "a" * 50 + "|link> now", 30) == "see …"
    assert clip_mrkdwn("short", 30) == "short"
    d = confirm_dialog("T" * 200, "&amp;" * 100, "O" * 50)
    check_confirm(d)


def test_detail_modals_titles_fit() -> None:
    from bot.sessions.catalog import PeerView, RouterView

    r = RouterView(id=1, name=WORST_ROUTER, host="h", port=22, platform="frr", local_asns=[1], addresses=[], peer_groups=[],
                   session_count=0, last_polled=None, last_error=None, url=None)
    assert len(router_details_modal(r)["title"]["text"]) <= 24
    p = PeerView(id=1, name=WORST_PEER, asn=4294967294, as_set=None, peeringdb_net_id=None, is_local=True, ips=[])
    assert len(peer_details_modal(p)["title"]["text"]) <= 24


def test_list_page_of_40_fits_and_escapes() -> None:
    page = SessionPage(items=[view(i) for i in range(40)], page=2, pages=3, total=100, query_text="x" * 3000)
    msg = session_list(page, can_add=True)
    check_message_limits(msg)
    text = json.dumps(msg)
    assert "Peer 3 &lt;&amp;&gt;" in text and "<&>" not in text
    ids = [e["action_id"] for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert f"{Action.LIST_PAGE}-prev" in ids and f"{Action.LIST_PAGE}-next" in ids and Action.ADD_SESSION in ids
    nxt = [e for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"].endswith("next")][0]
    q, p = parse_page_value(nxt["value"])
    assert p == 3 and q.startswith("xxx")


@pytest.mark.parametrize("value", [
    "not json", '{"p": "x"}', '{"p": true}', '{"p": 0}', '{"p": 1.5}', '{"p": 10000001}', '{"p": -99999999}',
    '{"q": 5, "p": 1}', '[1, 2]', '"p"', '{"p": 2, "a": ["r1"]}', '{"p": 2, "a": "r1,1.2.3.4"}',
    '{"p": 2, "a": ["r1", 7]}', '{"p": 2, "a": ["r1", "192.0.2.1"], "b": ["r1", "192.0.2.1"]}',
    '{"p": 2, "a": ["' + "r" * 300 + '", "192.0.2.1"]}', '{"p": 2, "x": 1}', "{" * 3000, "",
])
def test_hostile_page_values_are_refused_clearly(value: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_page_ref(value)
    assert "damaged or out of date" in str(exc.value)


def test_page_values_round_trip_with_their_keys() -> None:
    page = SessionPage(items=[view(i) for i in range(3)], page=2, pages=5, total=70, query_text="state:up")
    nav = {e["action_id"].rsplit("-", 1)[-1]: e["value"] for b in session_list(page)["blocks"]
           if b["type"] == "actions" for e in b["elements"] if e["action_id"].startswith(Action.LIST_PAGE)}
    assert set(nav) == {"prev", "next", "last"}  # page 2: Previous is the first page
    nxt, prev, last = parse_page_ref(nav["next"]), parse_page_ref(nav["prev"]), parse_page_ref(nav["last"])
    assert (nxt.query, nxt.page, nxt.after, nxt.before) == ("state:up", 3, ListKey.of(page.items[-1]), None)
    assert (prev.page, prev.before, prev.after) == (1, ListKey.of(page.items[0]), None)
    assert (last.page, last.after, last.before) == (-1, None, None)


def test_a_capped_count_says_so() -> None:
    page = SessionPage(items=[view(1)], page=-1, pages=667, total=10_000, query_text="", total_capped=True,
                       has_prev=True, has_next=False)
    text = json.dumps(session_list(page))
    assert "Last page" in text and "10,000+ session(s)" in text and "Next" not in text


def test_detail_shows_only_available_buttons_and_the_right_admin_toggle() -> None:
    up = session_detail(view(), available={Action.ADMIN_DOWN, Action.ADMIN_UP, Action.DELETE})
    ids = [e["action_id"] for b in up["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [Action.ADMIN_DOWN, Action.DELETE]
    down = session_detail(view(admin_status="down"), available={Action.ADMIN_DOWN, Action.ADMIN_UP})
    ids = [e["action_id"] for b in down["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ids == [Action.ADMIN_UP]
    assert "Admin down" in json.dumps(down)
    delete = [e for b in up["blocks"] if b["type"] == "actions" for e in b["elements"] if e["action_id"] == Action.DELETE][0]
    assert delete["style"] == "danger" and delete["confirm"]["style"] == "danger"


def test_detail_clips_long_text_and_hides_md5() -> None:
    msg = session_detail(view(notes="n" * 5000, last_error="e" * 5000), available=set())
    check_message_limits(msg)
    assert "•••• (set)" in json.dumps(msg, ensure_ascii=False)


def test_detail_links_router_and_peeringdb() -> None:
    msg = json.dumps(session_detail(view(router_url="https://nb.example.net/d/1", peeringdb_net_id=42), available=set()))
    assert "<https://nb.example.net/d/1|edge1>" in msg and "https://www.peeringdb.com/net/42" in msg


def test_states_render_for_unconfigured_and_never_polled() -> None:
    assert view(configured=False).display_state == "Not configured"
    assert view(bgp_state=None).display_state == "Unknown"
    assert view(admin_status="down").display_state == "Admin down"
    assert "Not configured" in json.dumps(session_detail(view(configured=False), available=set()))


def test_page_value_keeps_a_long_non_ascii_filter_valid() -> None:
    page = SessionPage(items=[view(1)], page=1, pages=2, total=20, query_text="é" * 1400)
    msg = session_list(page)
    values = [e["value"] for b in msg["blocks"] if b["type"] == "actions" for e in b["elements"] if "value" in e]
    for value in values:
        assert len(value) <= 2000
        q, p = parse_page_value(value)
        assert q.startswith("éé") and p in (1, 2)
