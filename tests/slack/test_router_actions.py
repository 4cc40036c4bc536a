"""Router buttons and commands through the real Bolt app (signed requests, fake Slack API), with
the in-memory router of tests/fake_router.py behind the driver factory."""
from __future__ import annotations

import copy
import json
import threading
import time

import pytest
from sqlalchemy import select

import bot.changes.runner as change_runner
from bot.changes.executor import Changes
from handlers.ids import Action, Callback
from storage.models import AdminStatus, Session
from tests.factories import make_session
from tests.fake_router import FakeNeighbor, FakeRouter
from storage.models import ChangeRequest
from tests.harness.bot import (
    VIEWER, RunningBot, approval_outcome, approval_posted, approve, db_row, dump, has, open_config_manager,
    request_and_approve, submit_config_manager,
)
from tests.harness.slack_requests import load_payload

MD5 = "Md5-Secr3t-Key"
ROUTER_PASSWORD = "router-login-pw-123"


@pytest.fixture
def router(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> FakeRouter:
    fake = FakeRouter()
    monkeypatch.setattr(bot.core, "driver_factory", fake.factory)  # the bot reaches "routers" through the core
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", ROUTER_PASSWORD)
    monkeypatch.setattr(change_runner, "FOLLOW_INTERVAL", 0.05)
    monkeypatch.setattr(change_runner, "FOLLOW_TIMEOUT", 3.0)
    return fake


def click(bot: RunningBot, action_id: str, value: str, *, state: dict | None = None):  # noqa: ANN201
    """A button click on a message, with the message's input state (multi-select) when given."""
    p = copy.deepcopy(load_payload("block_actions_message.json"))
    p.update(user={"id": "U111", "username": "user", "name": "user", "team_id": "T111"}, team={"id": "T111"},
             channel={"id": "C111", "name": "netops"}, response_url=bot.send.response_url,
             trigger_id=f"{int(time.time())}.555.trigger", state={"values": state or {}})
    p["container"].update(channel_id="C111", message_ts="1700000000.000001")
    p["actions"] = [{"action_id": action_id, "block_id": "b", "type": "button", "value": value,
                     "text": {"type": "plain_text", "text": "x"}, "action_ts": f"{time.time():.6f}"}]
    return bot.send.interactive(p)


def test_detail_offers_the_router_buttons(bot: RunningBot) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.command(f"show {v.id}")
    blocks = bot.slack.wait_for("response_url", after=mark).args["blocks"]
    ids = {e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]}
    assert {Action.CONFIGURE, Action.CONFIG_MANAGER, Action.ADMIN_DOWN, Action.REFRESH, Action.DELETE} <= ids


def test_configure_button_asks_then_an_approver_runs_it(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10", md5=MD5)
    mark = bot.slack.mark()
    r = bot.send.button(Action.CONFIGURE, str(v.id))
    assert r.status_code == 200 and r.text == ""
    posted = approval_posted(bot, mark)
    shown = dump(posted.args["blocks"])
    # the approver reads what changes, where, the exact commands (MD5 masked) and who asked
    assert "Configure Example Peer AS65601 192.0.2.10 on edge1" in shown and "<@U111>" in shown
    assert "neighbor 192.0.2.10 remote-as 65601" in shown and "password ********" in shown and MD5 not in shown
    assert "Pre-flight checks" in shown and "192.0.2.0/24" in shown  # e.g. the IP is in the exchange LAN
    assert router.pushes == [] and not db_row(bot, v.id).configured  # nothing ran yet
    # the detail message says it waits
    waiting = bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == "C111"
                                 and "Waiting for approval" in dump(c.args), after=mark).args
    assert waiting["ts"] == "1700000000.000001"
    approve(bot, posted)
    done = approval_outcome(bot, mark).args
    text = dump(done["blocks"])
    assert "Configured 192.0.2.10 on edge1" in text and "approved by <@U222>" in text
    assert not [b for b in done["blocks"] if b["type"] == "actions"]  # decided: no buttons
    assert db_row(bot, v.id).configured and router.neighbors["192.0.2.10"].password == MD5
    detail = bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == "C111"
                                and "Configured 192.0.2.10" in dump(c.args), after=mark).args
    assert "Established" in dump(detail["blocks"])
    assert MD5 not in dump([c.args for c in bot.slack.calls])


def test_configure_failure_is_shown_and_changes_nothing(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    router.fail_connect = "auth"
    done = request_and_approve(bot, Action.CONFIGURE, str(v.id), words="Failed").args
    text = dump(done["blocks"])
    assert "authentication failed for peerbot-lab@127.0.0.1:2222" in text and "Nothing was changed" in text
    r = db_row(bot, v.id)
    assert not r.configured and r.bgp_state is None
    assert ROUTER_PASSWORD not in dump([c.args for c in bot.slack.calls])


def test_admin_down_then_up_follows_the_state(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    request_and_approve(bot, Action.CONFIGURE, str(v.id))
    down = request_and_approve(bot, Action.ADMIN_DOWN, str(v.id)).args
    assert "neighbor 192.0.2.10 shutdown" in dump(down["blocks"])
    assert db_row(bot, v.id).admin_status == AdminStatus.DOWN
    # the peer takes a moment to come back: the message is updated once it is Established
    router.neighbors["192.0.2.10"].state = "Active"
    threading.Timer(0.5, lambda: setattr(router.neighbors["192.0.2.10"], "state", "Established")).start()
    mark = bot.slack.mark()
    up = request_and_approve(bot, Action.ADMIN_UP, str(v.id)).args
    assert "no neighbor 192.0.2.10 shutdown" in dump(up["blocks"])
    bot.slack.wait_for("chat.update", has("BGP state now Established"), after=mark, timeout=5)
    r = db_row(bot, v.id)
    assert r.admin_status == AdminStatus.UP and r.bgp_state == "Established"


def test_refresh_button_reads_the_neighbor(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    # configured by hand on the router, unknown to the DB's state
    router.neighbors["192.0.2.10"] = FakeNeighbor(remote_asn=65601, state="OpenSent")
    mark = bot.slack.mark()
    bot.send.button(Action.REFRESH, str(v.id), user=VIEWER)  # reading needs no role
    done = bot.slack.wait_for("response_url", has("Refreshed from edge1"), after=mark).args
    assert "OpenSent" in dump(done["blocks"]) and db_row(bot, v.id).bgp_state == "OpenSent"
    router.fail_connect = "unreachable"
    mark = bot.slack.mark()
    bot.send.button(Action.REFRESH, str(v.id))
    assert "cannot reach" in dump(bot.slack.wait_for("response_url", has("Refresh failed"), after=mark).args)


def test_delete_replaces_the_detail_with_a_note(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Net")
    request_and_approve(bot, Action.CONFIGURE, str(v.id))
    mark = bot.slack.mark()
    done = request_and_approve(bot, Action.DELETE, str(v.id)).args
    assert "no neighbor 192.0.2.10" in dump(done["blocks"])
    gone = bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == "C111"
                              and "deleted" in dump(c.args), after=mark).args
    assert "Alpha Net" in dump(gone["blocks"]) and not [b for b in gone["blocks"] if b["type"] == "actions"]
    assert db_row(bot, v.id) is None and router.neighbors == {}


def test_config_manager_opens_validates_and_pushes(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10", md5=MD5)
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIG_MANAGER, str(v.id))
    modal = bot.slack.wait_for("views.open", after=mark).args["view"]
    assert modal["callback_id"] == Callback.CONFIG_MANAGER and modal["submit"]["text"] == "Push"
    field = [b for b in modal["blocks"] if b.get("block_id") == Action.CONFIG_COMMANDS][0]
    text = field["element"]["initial_value"]
    assert "neighbor 192.0.2.10 password ********" in text and MD5 not in dump(modal)
    assert json.loads(modal["private_metadata"]) == {"sid": v.id, "ch": "C111", "ts": "1700000000.000001"}

    bad = submit_config_manager(bot, modal, text + "\nneighbor 192.0.2.99 remote-as 1")
    assert bad.status_code == 200
    err = bad.json()
    assert err["response_action"] == "errors" and "192.0.2.99" in err["errors"][Action.CONFIG_COMMANDS]
    bad = submit_config_manager(bot, modal, text + "\nneighbor 192.0.2.10 description a;b")
    assert "not allowed" in bad.json()["errors"][Action.CONFIG_COMMANDS]
    assert router.pushes == []
    mark = bot.slack.mark()
    ok = submit_config_manager(bot, modal, text.replace("description Example Peer AS65601", "description Edited In Slack"))
    assert ok.status_code == 200 and ok.text == ""  # closes the modal
    posted = approval_posted(bot, mark)
    assert "Config Manager push" in dump(posted.args) and "description Edited In Slack" in dump(posted.args)
    assert router.pushes == []
    approve(bot, posted)
    approval_outcome(bot, mark)
    update = bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == "C111"
                                and "Done" in dump(c.args), after=mark).args
    assert update["ts"] == "1700000000.000001"
    nbr = router.neighbors["192.0.2.10"]
    assert nbr.description == "Edited In Slack" and nbr.password == MD5
    assert db_row(bot, v.id).configured
    assert MD5 not in dump([c.args for c in bot.slack.calls])


MESSAGE_CALLS = ("chat.update", "chat.postMessage", "chat.postEphemeral", "response_url")


def test_rejected_config_manager_submission_stores_and_posts_nothing(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    modal, text = open_config_manager(bot, v.id)
    mark = bot.slack.mark()
    for bad in (text + "\nneighbor 192.0.2.99 remote-as 1", "router bgp 64500\nno router bgp 64500", ""):
        answer = submit_config_manager(bot, modal, bad).json()
        assert answer["response_action"] == "errors" and answer["errors"][Action.CONFIG_COMMANDS]
    assert [c for c in bot.slack.calls[mark:] if c.method in MESSAGE_CALLS] == []
    with bot.core.db.session() as s:
        assert s.scalar(select(ChangeRequest.id)) is None


def test_config_manager_push_retried_by_slack_makes_one_request(bot: RunningBot, router: FakeRouter) -> None:
    """The same view submitted twice (Slack retries when an ack is late) is one request."""
    v = make_session(bot.core, ip="192.0.2.10")
    modal, text = open_config_manager(bot, v.id)
    assert submit_config_manager(bot, modal, text).text == ""
    assert submit_config_manager(bot, modal, text).text == ""
    with bot.core.db.session() as s:
        assert len(list(s.scalars(select(ChangeRequest.id)))) == 1


def test_config_manager_puts_the_md5_back_once(bot: RunningBot, router: FakeRouter) -> None:
    """The edited lines are kept (encrypted) as submitted: the mask becomes the stored key at push."""
    key = "Md5-load-Key"
    v = make_session(bot.core, ip="192.0.2.10", md5=key)
    modal, text = open_config_manager(bot, v.id)
    mark = bot.slack.mark()
    assert submit_config_manager(bot, modal, text).text == ""
    approve(bot, approval_posted(bot, mark))
    approval_outcome(bot, mark)
    assert router.neighbors["192.0.2.10"].password == key
    assert key not in dump([c.args for c in bot.slack.calls])
    with bot.core.db.session() as s:
        assert key not in dump([r.edited_encrypted for r in s.scalars(select(ChangeRequest))])


def test_bulk_admin_down_is_one_request_one_connection(bot: RunningBot, router: FakeRouter) -> None:
    ids = [make_session(bot.core, ip=f"192.0.2.{n}", asn=str(65600 + n), name=f"Peer {n}").id for n in (10, 11, 12)]
    mark = bot.slack.mark()
    bot.send.command("list")
    listing = bot.slack.wait_for("response_url", after=mark).args
    bulk = [b for b in listing["blocks"] if b.get("block_id") == "bulk"][0]
    select_ = bulk["elements"][0]
    assert select_["type"] == "multi_static_select" and len(select_["options"]) == 3
    buttons = {e["action_id"]: e for e in bulk["elements"][1:]}
    assert buttons[f"{Action.BULK_ACTION}-deconfigure"]["confirm"]["style"] == "danger"
    assert click(bot, Action.BULK_SELECT, "").status_code == 200  # selecting is acked, nothing else
    Changes(bot.core).run("configure", ids, "U111")  # configured already (one connection)
    assert router.connections == 1
    state = {"bulk": {Action.BULK_SELECT: {"type": "multi_static_select",
                                           "selected_options": [o for o in select_["options"]]}}}
    down = buttons[f"{Action.BULK_ACTION}-admin_down"]
    mark = bot.slack.mark()
    click(bot, down["action_id"], down["value"], state=state)
    posted = approval_posted(bot, mark)
    assert "Admin Down 3 sessions on edge1" in dump(posted.args)
    approve(bot, posted)
    done = approval_outcome(bot, mark).args
    assert "3 of 3 session(s) done" in dump(done["blocks"])
    assert router.connections == 2 and router.saves == 2
    assert all(db_row(bot, i).admin_status == AdminStatus.DOWN for i in ids)
    # nothing selected: a hint, nothing stored
    mark = bot.slack.mark()
    click(bot, down["action_id"], down["value"])
    bot.slack.wait_for("response_url", has("Select one or more"), after=mark)
    # bulk delete removes sessions and neighbors
    mark = bot.slack.mark()
    delete = buttons[f"{Action.BULK_ACTION}-deconfigure"]
    click(bot, delete["action_id"], delete["value"], state={"bulk": {Action.BULK_SELECT: {
        "selected_options": select_["options"][:2]}}})
    approve(bot, approval_posted(bot, mark))
    assert "2 of 2 session(s) done" in dump(approval_outcome(bot, mark).args)
    with bot.core.db.session() as s:
        assert list(s.scalars(select(Session.id))) == [ids[2]]
    assert sorted(router.neighbors) == ["192.0.2.12"]


def test_peering_refresh_polls_and_lists_changes(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Net")
    Changes(bot.core).configure(v.id, "U111")
    router.neighbors["192.0.2.10"].state = "Active"
    mark = bot.slack.mark()
    bot.send.command("refresh edge1")
    out = bot.slack.wait_for("response_url", has("Refreshed"), after=mark).args
    text = dump(out["blocks"])
    assert out["replace_original"] is True  # replaces the ephemeral "Polling…" answer
    assert "edge1: 1 session(s) polled, 1 changed" in text and "Established → *Active*" in text
    assert "edge2" not in text and db_row(bot, v.id).bgp_state == "Active"
    mark = bot.slack.mark()
    bot.send.command("refresh")
    text = dump(bot.slack.wait_for("response_url", has("Refreshed"), after=mark).args)
    assert "edge1: 1 session(s) polled, 0 changed" in text and "PEERBOT_TEST_EDGE2_PASSWORD" in text
    mark = bot.slack.mark()
    bot.send.command("refresh nosuch")
    assert "No router named nosuch" in dump(bot.slack.wait_for("response_url", after=mark).args)


def test_list_refresh_button_polls_in_place(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Net")
    Changes(bot.core).configure(v.id, "U111")
    router.neighbors["192.0.2.10"].shutdown = True  # shut by hand on the router
    mark = bot.slack.mark()
    click(bot, Action.LIST_REFRESH, json.dumps({"q": "", "p": 1}))
    out = bot.slack.wait_for("response_url", has("Refreshed"), after=mark).args
    assert out["replace_original"] is True and "Established → *Idle*" in dump(out["blocks"])
    assert db_row(bot, v.id).admin_status == AdminStatus.DOWN  # followed the router


# ----------------------------------------------------------------------------- pure views
def test_code_block_is_clipped_on_a_line_boundary() -> None:
    from handlers.views.changes import code_block

    lines = [f"ip prefix-list PEERBOT-AS65601-V4 seq {n} permit 203.0.{n % 250}.0/24" for n in range(300)]
    text = code_block(lines)
    assert text.startswith("```\n") and text.endswith("\n```") and len(text) < 2000
    assert "more line(s))" in text and "seq 0 " in text and "seq 299 " not in text
    assert code_block(["a <b> & ```c```"]) == "```\na &lt;b&gt; &amp; '''c'''\n```"


def test_config_manager_modal_too_long_to_edit_is_copy_only(inventory_core) -> None:  # noqa: ANN001
    from bot.changes.router_config import Plan
    from bot.sessions.queries import get_session
    from handlers.views.changes import ConfigManagerMeta, config_manager_modal

    v = make_session(inventory_core, ip="192.0.2.10")
    lines = [f"ip prefix-list PEERBOT-AS65601-V4 seq {n} permit 203.0.{n % 250}.0/24" for n in range(400)]
    modal = config_manager_modal(Plan(v.id, "configure", "edge1", lines, lines), get_session(inventory_core.db, v.id),
                                 ConfigManagerMeta(v.id, "C1", "1.2"))
    assert "submit" not in modal and not [b for b in modal["blocks"] if b["type"] == "input"]
    assert len(modal["blocks"]) <= 45 and all(len(b.get("text", {}).get("text", "")) <= 3000 for b in modal["blocks"])
    assert "seq 0 " in json.dumps(modal)
    assert ConfigManagerMeta.load(modal["private_metadata"]) == ConfigManagerMeta(v.id, "C1", "1.2")


def test_configure_with_an_as_set_nobody_imported_is_refused_with_the_reason(bot: RunningBot,
                                                                             router: FakeRouter) -> None:
    """Issue 10: never a session without its inbound filter; the operator reads why at once."""
    v = make_session(bot.core, ip="192.0.2.10", as_set="AS-NOT-IMPORTED")
    mark = bot.slack.mark()
    assert bot.send.button(Action.CONFIGURE, str(v.id)).status_code == 200
    said = dump(bot.slack.wait_for("response_url", has("AS-NOT-IMPORTED"), after=mark).args)
    assert "AS-SET AS-NOT-IMPORTED is not known locally" in said and "import it first" in said
    with bot.core.db.session() as s:
        assert s.scalars(select(ChangeRequest)).all() == []  # nothing stored, nothing to approve
    assert router.pushes == [] and not db_row(bot, v.id).configured
