"""The App Home tab and /peering show's history, through the real Bolt app over signed HTTP
requests with the fake Slack Web API."""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.core import Core
from bot.changes.requests import ChangeRequests
from bot.sessions.inventory import load_inventory
from handlers.ids import Action
from storage.models import Router, Session, StateHistory
from tests.conftest import INVENTORY
from tests.factories import make_session
from tests.harness.bot import OPERATOR, RunningBot, settings_for, start_bot
from tests.harness.fake_slack import FakeSlack
from tests.harness.slack_requests import load_payload

STRANGER = "U404"  # not among PEERBOT_VIEWERS


@pytest.fixture
def home_bot(sqlite_url: str, slack: FakeSlack, tmp_path: Path) -> Iterator[RunningBot]:
    core = Core.from_settings(settings_for(sqlite_url, slack, tmp_path, PEERBOT_VIEWERS="U999"))
    load_inventory(core.db, INVENTORY)
    running = start_bot(core, slack)
    yield running
    running.stop()
    core.db.dispose()


def _texts(blocks: list) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _set_states(core: Core, states: dict[int, str]) -> None:
    with core.db.session() as s:
        for sid, state in states.items():
            s.execute(update(Session).where(Session.id == sid).values(bgp_state=state))


def test_home_tab_is_published_with_the_right_counts(home_bot: RunningBot) -> None:
    bot = home_bot
    core = bot.core
    a = make_session(core, ip="192.0.2.20", name="Alpha Net", asn="65601")
    b = make_session(core, ip="192.0.2.21", name="Beta Net", asn="65602")
    c = make_session(core, ip="192.0.2.22", name="Gamma Net", asn="65603")
    make_session(core, ip="192.0.2.23", name="Delta Net", asn="65604")  # never polled
    _set_states(core, {a.id: "Established", b.id: "Established", c.id: "Idle"})
    now = datetime.now(timezone.utc)
    with core.db.session() as s:
        s.add_all([StateHistory(session_id=c.id, router_id=c.router_id, at=now - timedelta(minutes=m),
                                old_state="Established", new_state="Idle", source="poll") for m in (5, 65)])
        s.add(StateHistory(session_id=a.id, router_id=a.router_id, at=now - timedelta(days=2),
                           old_state="Idle", new_state="Established", source="poll"))  # not in the last 24 h
        s.execute(update(Router).where(Router.name == "edge2").values(last_error="edge2: connection refused"))
    ChangeRequests(core).request(OPERATOR, "admin_down", [b.id])

    mark = bot.slack.mark()
    r = bot.send.home_opened(user="U999")
    assert r.status_code == 200
    call = bot.slack.wait_for("views.publish", after=mark)
    assert call.args["user_id"] == "U999"
    view = call.args["view"]
    text = _texts(view["blocks"])
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    assert "*4 sessions*" in text
    assert "Established: *2*" in text and "Idle: *1*" in text and "Not polled: *1*" in text
    assert "*Routers* (2, :rotating_light: 1 failing)" in text and "edge2: connection refused" in text
    assert "*Changed in the last 24 h* (1)" in text and "Gamma Net" in text and "2 change(s)" in text
    assert "*Change requests open* (1)" in text
    buttons = {e["action_id"]: e.get("value") for blk in view["blocks"] if blk["type"] == "actions"
               for e in blk["elements"]}
    assert buttons == {Action.ADD_SESSION: None, Action.LIST_REFRESH: "home", Action.DISCOVER_ALL: None}


def test_home_tab_is_not_published_for_non_viewers_or_the_messages_tab(home_bot: RunningBot) -> None:
    bot = home_bot
    mark = bot.slack.mark()
    assert bot.send.home_opened(user=STRANGER).status_code == 200
    assert bot.send.home_opened(user="U999", tab="messages").status_code == 200
    assert bot.send.home_opened(user="U999").status_code == 200  # the marker: this one publishes
    bot.slack.wait_for("views.publish", after=mark)
    time.sleep(0.3)
    assert [c.args["user_id"] for c in bot.slack.calls[mark:] if c.method == "views.publish"] == ["U999"]


def test_home_refresh_polls_and_publishes_again(home_bot: RunningBot) -> None:
    bot = home_bot
    make_session(bot.core, ip="192.0.2.20", name="Alpha Net", asn="65601")
    p = load_payload("block_actions_modal.json")
    p["user"] = {"id": "U999", "username": "user", "name": "user", "team_id": "T111"}
    p["container"] = {"type": "view", "view_id": "VHOME"}
    p["view"] = {**p["view"], "id": "VHOME", "type": "home", "callback_id": "", "private_metadata": ""}
    p.pop("response_url", None)
    p["actions"] = [{"action_id": Action.LIST_REFRESH, "block_id": "b", "value": "home", "type": "button",
                     "text": {"type": "plain_text", "text": "Refresh"}, "action_ts": f"{time.time():.6f}"}]
    mark = bot.slack.mark()
    assert bot.send.interactive(p).status_code == 200
    call = bot.slack.wait_for("views.publish", after=mark, timeout=30)
    assert call.args["user_id"] == "U999"
    # the routers were polled (unreachable here: nothing listens): the tab shows it
    assert ":rotating_light:" in _texts(call.args["view"]["blocks"])


def test_show_has_history_and_uploads_the_timeline(bot: RunningBot) -> None:
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    now = datetime.now(timezone.utc)
    steps = [(now - timedelta(days=6), None, "Established"), (now - timedelta(days=3), "Established", "Idle"),
             (now - timedelta(days=3) + timedelta(hours=2), "Idle", "Established"),
             (now - timedelta(hours=3), "Established", "Active"), (now - timedelta(hours=1), "Active", "Established")]
    with bot.core.db.session() as s:
        for at, old, new in steps:
            s.add(StateHistory(session_id=v.id, router_id=v.router_id, at=at, old_state=old, new_state=new,
                               reason="Hold timer expired" if new != "Established" else None,
                               prefixes_received=10, prefixes_accepted=9, source="poll"))
        s.execute(update(Session).where(Session.id == v.id).values(bgp_state="Established",
                                                                   last_state_change=now - timedelta(hours=1)))
    mark = bot.slack.mark()
    bot.send.command(f"show {v.id}", channel="CSHOW")
    msg = bot.slack.wait_for("response_url", after=mark).args
    text = _texts(msg["blocks"])
    assert "*History*: 1h 0m in Established · 2 change(s) in the last 24 h" in text
    assert "Established → :red_circle: Active" in text and "Active → :large_green_circle: Established" in text
    assert "Hold timer expired" in text and "(9 pfx)" in text
    assert text.index("*History*") < text.index('"actions"')  # above the buttons
    assert len(msg["blocks"]) <= 50

    url = bot.slack.wait_for("files.getUploadURLExternal", after=mark, timeout=30)
    assert url.args["filename"] == f"session-{v.id}-7d.png" and int(url.args["length"]) > 1000
    done = bot.slack.wait_for("files.completeUploadExternal", after=mark, timeout=30)
    assert done.args["channel_id"] == "CSHOW"
    [fid] = [f["id"] for f in json.loads(done.args["files"])]
    assert bot.slack.uploads[fid].startswith(b"\x89PNG\r\n\x1a\n")
    assert len(bot.slack.uploads[fid]) == int(url.args["length"])


def test_show_says_so_when_the_timeline_cannot_be_uploaded(bot: RunningBot) -> None:
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    bot.slack.fail_methods["files.completeUploadExternal"] = "not_in_channel"
    mark = bot.slack.mark()
    bot.send.command(f"show {v.id}", channel="CPRIVATE")
    msg = bot.slack.wait_for("response_url", lambda c: "could not be uploaded" in json.dumps(c.args), after=mark,
                             timeout=30).args
    assert msg["response_type"] == "ephemeral"


def test_add_session_from_the_home_tab_opens_the_wizard(home_bot: RunningBot) -> None:
    p = load_payload("block_actions_modal.json")
    p["user"] = {"id": OPERATOR, "username": "user", "name": "user", "team_id": "T111"}
    p["container"] = {"type": "view", "view_id": "VHOME"}
    p["view"] = {**p["view"], "id": "VHOME", "type": "home", "callback_id": "", "private_metadata": ""}
    p.pop("response_url", None)
    p["trigger_id"] = f"{int(time.time())}.555.trigger"
    p["actions"] = [{"action_id": Action.ADD_SESSION, "block_id": "b", "type": "button",
                     "text": {"type": "plain_text", "text": "Add Session"}, "action_ts": f"{time.time():.6f}"}]
    mark = home_bot.slack.mark()
    assert home_bot.send.interactive(p).status_code == 200
    opened = home_bot.slack.wait_for("views.open", after=mark)
    assert opened.args["trigger_id"] == p["trigger_id"]
