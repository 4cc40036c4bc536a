"""Router buttons and commands through the real Bolt app (signed requests, fake Slack API), with
the in-memory router of tests/fake_router.py behind the driver factory."""
from __future__ import annotations

import copy
import json
import threading
import time

import pytest
from sqlalchemy import select

import handlers.router_actions as router_actions
from bot.services.changes import Changes
from handlers.ids import Action, Callback
from storage.models import AdminStatus, Session
from tests.factories import make_session
from tests.fake_router import FakeNeighbor, FakeRouter
from tests.harness.bot import RunningBot, db_row, dump, has, open_config_manager, submit_config_manager
from tests.harness.slack_requests import load_payload

MD5 = "Md5-Secr3t-Key"
ROUTER_PASSWORD = "router-login-pw-123"


@pytest.fixture
def router(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> FakeRouter:
    fake = FakeRouter()
    monkeypatch.setattr(bot.core, "driver_factory", fake.factory)  # the bot reaches "routers" through the core
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", ROUTER_PASSWORD)
    monkeypatch.setattr(router_actions, "FOLLOW_INTERVAL", 0.05)
    monkeypatch.setattr(router_actions, "FOLLOW_TIMEOUT", 3.0)
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


def test_configure_button_pushes_and_updates_the_message(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10", md5=MD5)
    mark = bot.slack.mark()
    r = bot.send.button(Action.CONFIGURE, str(v.id))
    assert r.status_code == 200 and r.text == ""
    progress_call = bot.slack.wait_for("response_url", has("talking to the router"), after=mark)
    progress = progress_call.args
    assert progress["replace_original"] is True
    assert not [b for b in progress["blocks"] if b["type"] == "actions"]  # no double clicks meanwhile
    # the exact commands about to be pushed are shown before the push, MD5 masked
    shown = dump(progress["blocks"])
    assert "Pushing:" in shown and "neighbor 192.0.2.10 remote-as 65601" in shown
    assert "neighbor 192.0.2.10 password ********" in shown and MD5 not in shown
    done_call = bot.slack.wait_for("response_url", has("Commands sent"), after=mark)
    assert bot.slack.calls.index(progress_call) < bot.slack.calls.index(done_call)
    assert "Commands sent" not in shown
    done = done_call.args
    text = dump(done["blocks"])
    assert done["replace_original"] is True
    assert "Configured 192.0.2.10 on edge1" in text and "neighbor 192.0.2.10 remote-as 65601" in text
    assert "password ********" in text and "Established" in text
    assert db_row(bot, v.id).configured and router.neighbors["192.0.2.10"].password == MD5
    assert MD5 not in dump([c.args for c in bot.slack.calls])


def test_configure_failure_is_shown_and_changes_nothing(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    router.fail_connect = "auth"
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id))
    done = bot.slack.wait_for("response_url", has("Configure failed"), after=mark).args
    text = dump(done["blocks"])
    assert "authentication failed for peerbot-lab@127.0.0.1:2222" in text and "Nothing was changed" in text
    assert Action.CONFIGURE in text  # the buttons are back
    r = db_row(bot, v.id)
    assert not r.configured and r.bgp_state is None
    assert ROUTER_PASSWORD not in dump([c.args for c in bot.slack.calls])


def test_admin_down_then_up_follows_the_state(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id))
    bot.slack.wait_for("response_url", has("Commands sent"), after=mark)
    mark = bot.slack.mark()
    bot.send.button(Action.ADMIN_DOWN, str(v.id))
    down = bot.slack.wait_for("response_url", has("Admin Down* by"), after=mark).args
    assert "neighbor 192.0.2.10 shutdown" in dump(down["blocks"]) and "Admin down" in dump(down["blocks"])
    ids = {e["action_id"] for b in down["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert Action.ADMIN_UP in ids and Action.ADMIN_DOWN not in ids
    assert db_row(bot, v.id).admin_status == AdminStatus.DOWN
    # the peer takes a moment to come back: the message is updated once it is Established
    router.neighbors["192.0.2.10"].state = "Active"
    threading.Timer(0.5, lambda: setattr(router.neighbors["192.0.2.10"], "state", "Established")).start()
    mark = bot.slack.mark()
    bot.send.button(Action.ADMIN_UP, str(v.id))
    up = bot.slack.wait_for("response_url", has("Admin Up* by"), after=mark).args
    assert "no neighbor 192.0.2.10 shutdown" in dump(up["blocks"]) and "Active" in dump(up["blocks"])
    final = bot.slack.wait_for("response_url", has("BGP state now *Established*"), after=mark, timeout=5).args
    assert final["replace_original"] is True
    r = db_row(bot, v.id)
    assert r.admin_status == AdminStatus.UP and r.bgp_state == "Established"


def test_refresh_button_reads_the_neighbor(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    # configured by hand on the router, unknown to the DB's state
    router.neighbors["192.0.2.10"] = FakeNeighbor(remote_asn=65601, state="OpenSent")
    mark = bot.slack.mark()
    bot.send.button(Action.REFRESH, str(v.id))
    done = bot.slack.wait_for("response_url", has("Refreshed from edge1"), after=mark).args
    assert "OpenSent" in dump(done["blocks"]) and db_row(bot, v.id).bgp_state == "OpenSent"
    router.fail_connect = "unreachable"
    mark = bot.slack.mark()
    bot.send.button(Action.REFRESH, str(v.id))
    assert "cannot reach" in dump(bot.slack.wait_for("response_url", has("Refresh failed"), after=mark).args)


def test_delete_replaces_the_detail_with_a_note(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10", name="Alpha Net")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIGURE, str(v.id))
    bot.slack.wait_for("response_url", has("Commands sent"), after=mark)
    mark = bot.slack.mark()
    bot.send.button(Action.DELETE, str(v.id))
    gone = bot.slack.wait_for("response_url", has("was deleted by"), after=mark).args
    text = dump(gone["blocks"])
    assert gone["replace_original"] is True and "Alpha Net" in text and "no neighbor 192.0.2.10" in text
    assert not [b for b in gone["blocks"] if b["type"] == "actions"]
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

    def submit(commands: str):  # noqa: ANN202
        values = {Action.CONFIG_COMMANDS: {Action.CONFIG_COMMANDS: {"type": "plain_text_input", "value": commands}}}
        return bot.send.view_submission(modal, values)

    bad = submit(text + "\nneighbor 192.0.2.99 remote-as 1")
    assert bad.status_code == 200
    err = bad.json()
    assert err["response_action"] == "errors" and "192.0.2.99" in err["errors"][Action.CONFIG_COMMANDS]
    bad = submit(text + "\nneighbor 192.0.2.10 description a;b")
    assert "not allowed" in bad.json()["errors"][Action.CONFIG_COMMANDS]
    assert router.pushes == []
    mark = bot.slack.mark()
    ok = submit(text.replace("description Example Peer AS65601", "description Edited In Slack"))
    assert ok.status_code == 200 and ok.text == ""  # closes the modal
    update = bot.slack.wait_for("chat.update", has("Commands sent"), after=mark).args
    assert update["channel"] == "C111" and update["ts"] == "1700000000.000001"
    assert "description Edited In Slack" in dump(update["blocks"])
    nbr = router.neighbors["192.0.2.10"]
    assert nbr.description == "Edited In Slack" and nbr.password == MD5
    assert db_row(bot, v.id).configured
    assert MD5 not in dump([c.args for c in bot.slack.calls])


MESSAGE_CALLS = ("chat.update", "chat.postMessage", "chat.postEphemeral", "response_url")


def test_rejected_config_manager_submission_leaves_the_detail_message_alone(bot: RunningBot, router: FakeRouter) -> None:
    """Bolt runs the lazy listener after an `errors` ack too: it must not touch the message."""
    v = make_session(bot.core, ip="192.0.2.10")
    modal, text = open_config_manager(bot, v.id)
    mark = bot.slack.mark()
    for bad in (text + "\nneighbor 192.0.2.99 remote-as 1", "router bgp 64500\nno router bgp 64500", ""):
        answer = submit_config_manager(bot, modal, bad).json()
        assert answer["response_action"] == "errors" and answer["errors"][Action.CONFIG_COMMANDS]
    # then a valid push: the only message calls after the rejected ones are its own two
    assert submit_config_manager(bot, modal, text).text == ""
    bot.slack.wait_for("chat.update", has("Commands sent"), after=mark)
    calls = [c for c in bot.slack.calls[mark:] if c.method in MESSAGE_CALLS]
    assert [c.method for c in calls] == ["chat.update", "chat.update"], [dump(c.args)[:200] for c in calls]
    assert "talking to the router" in dump(calls[0].args) and "Commands sent" in dump(calls[1].args)
    assert len(router.pushes) == 1


def test_config_manager_push_refused_by_the_service_is_an_error_note(bot: RunningBot, router: FakeRouter,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Changes.configure checks edited commands itself: its InvalidInput is shown on the detail."""
    from bot.errors import InvalidInput

    v = make_session(bot.core, ip="192.0.2.10")
    modal, text = open_config_manager(bot, v.id)

    def refuse(self, session_id, actor, commands=None):  # noqa: ANN001, ANN202
        raise InvalidInput({"commands": "Line outside this session's neighbor (192.0.2.10): sneaky"})

    monkeypatch.setattr(Changes, "configure", refuse)
    mark = bot.slack.mark()
    assert submit_config_manager(bot, modal, text).text == ""
    update = bot.slack.wait_for("chat.update", has("Configure failed"), after=mark).args
    shown = dump(update["blocks"])
    assert "outside this session" in shown and f"Session #{v.id}" in shown
    assert Action.CONFIGURE in shown  # the detail and its buttons are back, not just an error
    assert router.pushes == []


def test_config_manager_puts_the_md5_back_once(bot: RunningBot, router: FakeRouter) -> None:
    """The edited lines go to Changes.configure as shown (masked): with the key put back before
    that, a key that looks like a command word would fail the service's own check."""
    key = "Md5-load-Key"
    v = make_session(bot.core, ip="192.0.2.10", md5=key)
    modal, text = open_config_manager(bot, v.id)
    mark = bot.slack.mark()
    assert submit_config_manager(bot, modal, text).text == ""
    bot.slack.wait_for("chat.update", has("Commands sent"), after=mark)
    assert router.neighbors["192.0.2.10"].password == key
    assert key not in dump([c.args for c in bot.slack.calls])


def test_config_manager_posts_when_the_message_cannot_be_updated(bot: RunningBot, router: FakeRouter) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.CONFIG_MANAGER, str(v.id))
    modal = bot.slack.wait_for("views.open", after=mark).args["view"]
    bot.slack.fail_methods["chat.update"] = "message_not_found"
    mark = bot.slack.mark()
    text = [b for b in modal["blocks"] if b.get("block_id") == Action.CONFIG_COMMANDS][0]["element"]["initial_value"]
    bot.send.view_submission(modal, {Action.CONFIG_COMMANDS: {Action.CONFIG_COMMANDS: {"value": text}}})
    posted = bot.slack.wait_for("chat.postMessage", has("Commands sent"), after=mark).args
    assert posted["channel"] == "C111"


def test_bulk_admin_down_one_connection_and_summary(bot: RunningBot, router: FakeRouter) -> None:
    ids = [make_session(bot.core, ip=f"192.0.2.{n}", asn=str(65600 + n), name=f"Peer {n}").id for n in (10, 11, 12)]
    mark = bot.slack.mark()
    bot.send.command("list")
    listing = bot.slack.wait_for("response_url", after=mark).args
    bulk = [b for b in listing["blocks"] if b.get("block_id") == "bulk"][0]
    select_ = bulk["elements"][0]
    assert select_["type"] == "multi_static_select" and len(select_["options"]) == 3
    buttons = {e["action_id"]: e for e in bulk["elements"][1:]}
    assert buttons[f"{Action.BULK_ACTION}-deconfigure"]["confirm"]["style"] == "danger"
    # selecting is acked and does nothing else
    assert click(bot, Action.BULK_SELECT, "").status_code == 200
    # configure them first through the service (one connection), then bulk Admin Down from Slack
    Changes(bot.core).run("configure", ids, "U111")
    assert router.connections == 1
    state = {"bulk": {Action.BULK_SELECT: {"type": "multi_static_select",
                                           "selected_options": [o for o in select_["options"]]}}}
    down = buttons[f"{Action.BULK_ACTION}-admin_down"]
    mark = bot.slack.mark()
    click(bot, down["action_id"], down["value"], state=state)
    done = bot.slack.wait_for("response_url", has("Bulk Admin Down"), after=mark).args
    text = dump(done["blocks"])
    assert done["replace_original"] is True and "3 of 3 succeeded" in text and "Admin down" in text
    assert router.connections == 2 and router.saves == 2
    assert all(db_row(bot, i).admin_status == AdminStatus.DOWN for i in ids)
    # nothing selected: a hint, no router work
    mark = bot.slack.mark()
    click(bot, down["action_id"], down["value"])
    assert "Select one or more" in dump(bot.slack.wait_for("response_url", after=mark).args)
    # bulk delete removes sessions and neighbors
    mark = bot.slack.mark()
    delete = buttons[f"{Action.BULK_ACTION}-deconfigure"]
    click(bot, delete["action_id"], delete["value"], state={"bulk": {Action.BULK_SELECT: {
        "selected_options": select_["options"][:2]}}})
    assert "2 of 2 succeeded" in dump(bot.slack.wait_for("response_url", has("Bulk Delete"), after=mark).args)
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
    assert out["response_type"] == "ephemeral"
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
    from bot.services.router_config import Plan
    from bot.services.sessions import get_session
    from handlers.views.changes import ConfigManagerMeta, config_manager_modal

    v = make_session(inventory_core, ip="192.0.2.10")
    lines = [f"ip prefix-list PEERBOT-AS65601-V4 seq {n} permit 203.0.{n % 250}.0/24" for n in range(400)]
    modal = config_manager_modal(Plan(v.id, "configure", "edge1", lines, lines), get_session(inventory_core.db, v.id),
                                 ConfigManagerMeta(v.id, "C1", "1.2"))
    assert "submit" not in modal and not [b for b in modal["blocks"] if b["type"] == "input"]
    assert len(modal["blocks"]) <= 45 and all(len(b.get("text", {}).get("text", "")) <= 3000 for b in modal["blocks"])
    assert "seq 0 " in json.dumps(modal)
    assert ConfigManagerMeta.load(modal["private_metadata"]) == ConfigManagerMeta(v.id, "C1", "1.2")
