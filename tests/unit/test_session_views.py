"""Block Kit renderers for the list and detail messages stay within Slack's limits."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

from bot.services.views import SessionPage, SessionView
from handlers.ids import Action
from handlers.views.sessions import parse_page_value, session_detail, session_list

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


def check_message_limits(msg: dict) -> None:
    assert len(msg["blocks"]) <= 50
    for b in msg["blocks"]:
        if b["type"] == "section":
            if "text" in b:
                assert len(b["text"]["text"]) <= 3000
            for f in b.get("fields", []):
                assert len(f["text"]) <= 2000
            assert len(b.get("fields", [])) <= 10
        if b["type"] == "actions":
            assert len(b["elements"]) <= 25
            for e in b["elements"]:
                assert len(e["text"]["text"]) <= 75 and len(e.get("value", "")) <= 2000
        if b["type"] == "header":
            assert len(b["text"]["text"]) <= 150


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


def test_page_value_garbage_falls_back_to_page_one() -> None:
    assert parse_page_value("not json") == ("", 1)
    assert parse_page_value('{"p": "x"}') == ("", 1)


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
