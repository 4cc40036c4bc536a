"""Discovery and drift through the real Bolt app (signed requests, fake Slack Web API), with
in-memory routers whose running config the real FRR parser reads (tests/fake_router.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.adoption.drift import Drift
from bot.notices.outbox import Outbox
from handlers.ids import Action, Callback
from handlers.views.notices import render_notice
from storage.models import ChangeRequest, DriftItem, Session
from tests.fake_router import FakeRouter
from tests.harness.bot import APPROVER, VIEWER, RunningBot

SECRET = "hand-made-md5-key"


@pytest.fixture
def router(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> FakeRouter:
    fake = FakeRouter(asn=64500)
    dead = FakeRouter(fail_connect="timeout")
    monkeypatch.setattr(bot.core, "driver_factory",
                        lambda creds, timeout: (fake if creds.port == 2222 else dead).factory(creds, timeout))
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "router-login-pw-123")
    monkeypatch.setenv("PEERBOT_TEST_EDGE2_PASSWORD", "router-login-pw-456")
    for line in ["neighbor 192.0.2.6 remote-as 64496", "neighbor 192.0.2.6 description Transit <!channel> `x`",
                 "neighbor 192.0.2.10 remote-as 65010", f"neighbor 192.0.2.10 password {SECRET}",
                 "neighbor 198.18.0.1 remote-as 13335"]:
        fake.apply(line)
    return fake


def actions_of(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def test_discover_then_import_all_from_slack(bot: RunningBot, router: FakeRouter) -> None:
    mark = bot.slack.mark()
    r = bot.send.command("discover edge1")
    assert r.status_code == 200
    first = bot.slack.wait_for("response_url", after=mark)
    assert "Reading the BGP configuration of 1 router" in first.args["text"]
    answer = bot.slack.wait_for("response_url", lambda c: "blocks" in c.args, after=mark, timeout=20)
    text = str(answer.args["blocks"])
    assert "3 new neighbor(s), 0 already known, 0 differ" in text and SECRET not in text
    assert "<!channel>" not in text  # a description is escaped for mrkdwn
    buttons = {e["action_id"]: e for e in actions_of(answer.args["blocks"])}
    assert {Action.DISCOVER_IMPORT, Action.DISCOVER_CHOOSE} <= set(buttons)

    viewer = bot.slack.mark()
    bot.send.button(Action.DISCOVER_IMPORT, buttons[Action.DISCOVER_IMPORT]["value"], user=VIEWER)
    assert "operator" in str(bot.slack.wait_for("response_url", after=viewer).args)
    with bot.core.db.session() as s:
        assert s.scalars(select(Session)).first() is None  # a viewer imports nothing

    mark = bot.slack.mark()
    bot.send.button(Action.DISCOVER_IMPORT, buttons[Action.DISCOVER_IMPORT]["value"])
    done = bot.slack.wait_for("response_url", lambda c: "blocks" in c.args, after=mark)
    assert "imported from *edge1*: 3 session(s)" in str(done.args["blocks"])
    assert "0 new neighbor(s), 3 already known" in str(done.args["blocks"])
    with bot.core.db.session() as s:
        rows = {r.peer_ip: r for r in s.scalars(select(Session))}
        assert rows["192.0.2.6"].peer.name == "Transit channel x" and rows["192.0.2.10"].md5_unknown
    assert router.pushes == []


def test_discover_of_every_router_reports_the_dead_one(bot: RunningBot, router: FakeRouter) -> None:
    mark = bot.slack.mark()
    bot.send.command("discover")
    answer = bot.slack.wait_for("response_url", lambda c: "blocks" in c.args, after=mark, timeout=30)
    text = str(answer.args["blocks"])
    assert "*edge1*: 3 new neighbor(s)" in text and "*edge2*" in text and "did not answer in time" in text


def test_choose_opens_a_modal_and_imports_the_chosen(bot: RunningBot, router: FakeRouter) -> None:
    from bot.adoption.discovery import Discovery

    Discovery(bot.core).discover()
    with bot.core.db.session() as s:
        from storage.models import Router
        edge1 = s.scalar(select(Router.id).where(Router.name == "edge1"))
    mark = bot.slack.mark()
    bot.send.button(Action.DISCOVER_CHOOSE, str(edge1))
    opened = bot.slack.wait_for("views.open", after=mark).args["view"]
    assert opened["callback_id"] == Callback.DISCOVER_IMPORT
    options = [o["value"] for b in opened["blocks"] if b["type"] == "input" for o in b["element"]["options"]]
    assert options == ["192.0.2.6", "192.0.2.10", "198.18.0.1"]
    empty = bot.send.view_submission(opened, {"neighbors": {"neighbors": {"type": "multi_static_select",
                                                                          "selected_options": []}}})
    assert empty.json()["response_action"] == "errors"
    chosen = {"neighbors": {"neighbors": {"type": "multi_static_select", "selected_options": [
        {"value": "198.18.0.1", "text": {"type": "plain_text", "text": "x"}}]}}}
    mark = bot.slack.mark()
    assert bot.send.view_submission(opened, chosen).status_code == 200
    note = bot.slack.wait_for("chat.postEphemeral", after=mark)
    assert "1 session(s)" in note.args["text"]
    with bot.core.db.session() as s:
        assert [r.peer_ip for r in s.scalars(select(Session))] == ["198.18.0.1"]
    forged = {**opened, "private_metadata": "99999:C111"}
    assert bot.send.view_submission(forged, chosen).json()["response_action"] == "errors"


def test_drift_report_buttons(bot: RunningBot, router: FakeRouter, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bot.core.settings, "notify_channel", "C0NOTIFY")
    from bot.adoption.discovery import Discovery
    from bot.adoption.importer import import_neighbors

    Discovery(bot.core).discover()
    with bot.core.db.session() as s:
        from storage.models import Router
        edge1 = s.scalar(select(Router.id).where(Router.name == "edge1"))
    import_neighbors(bot.core, "U111", edge1)
    router.apply("neighbor 198.18.0.1 shutdown")  # by hand
    router.apply("neighbor 192.0.2.77 remote-as 65077")
    report = Drift(bot.core).check([edge1])[0]
    assert len(report.items) == 2 and report.reported
    notice = Outbox(bot.core.db, "t").claim(Outbox(bot.core.db, "t").pending()[0][0])
    blocks = render_notice(notice)["blocks"]
    assert len(blocks) <= 50
    by_ip = {i.peer_ip: i for i in report.items}

    # Fix of the shutdown: a change request waiting for an approver; the report says so
    mark = bot.slack.mark()
    bot.send.button(Action.DRIFT_FIX, str(by_ip["198.18.0.1"].id), blocks=blocks)
    updated = bot.slack.wait_for("response_url", lambda c: "blocks" in c.args, after=mark)
    assert "asked for a Fix: request #" in str(updated.args["blocks"])
    assert bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "CAPPROVALS", after=mark)
    with bot.core.db.session() as s:
        req = s.scalars(select(ChangeRequest)).one()
        assert req.action == "configure" and s.get(DriftItem, by_ip["198.18.0.1"].id).status == "fixing"
    twice = bot.slack.mark()
    bot.send.button(Action.DRIFT_FIX, str(by_ip["198.18.0.1"].id), blocks=blocks)
    assert "already fixing" in str(bot.slack.wait_for("response_url", after=twice).args)

    # Adopt of the unknown neighbor imports it; Ignore of an already-decided item is refused
    mark = bot.slack.mark()
    bot.send.button(Action.DRIFT_ADOPT, str(by_ip["192.0.2.77"].id), blocks=blocks)
    assert "imported as session" in str(bot.slack.wait_for("response_url", after=mark).args)
    mark = bot.slack.mark()
    bot.send.button(Action.DRIFT_IGNORE, str(by_ip["192.0.2.77"].id), blocks=blocks)
    assert "already adopted" in str(bot.slack.wait_for("response_url", after=mark).args)
    for hostile in ("", "abc", "1; drop", "9" * 40):
        mark = bot.slack.mark()
        assert bot.send.button(Action.DRIFT_ADOPT, hostile).status_code == 200
        assert bot.slack.wait_for("response_url", after=mark).args.get("response_type") == "ephemeral"

    # the approver's approval runs the Fix; the runner's hook re-reads the router
    with bot.core.db.session() as s:
        rid = s.scalars(select(ChangeRequest.id)).one()
    from bot.changes.requests import ChangeRequests

    ChangeRequests(bot.core).approve(rid, APPROVER)
    bot.app.runner.submit(rid)  # type: ignore[attr-defined]
    deadline = __import__("time").monotonic() + 10
    while __import__("time").monotonic() < deadline:
        with bot.core.db.session() as s:
            if s.get(DriftItem, by_ip["198.18.0.1"].id).status == "resolved":
                break
        __import__("time").sleep(0.1)
    with bot.core.db.session() as s:
        assert s.get(DriftItem, by_ip["198.18.0.1"].id).status == "resolved"
    assert router.neighbors["198.18.0.1"].shutdown is False


def test_drift_command_lists_differences(bot: RunningBot, router: FakeRouter) -> None:
    mark = bot.slack.mark()
    bot.send.command("drift edge1")
    answer = bot.slack.wait_for("response_url", lambda c: "blocks" in c.args, after=mark, timeout=20)
    text = str(answer.args["blocks"])
    assert "differs from peerbot in 3 place(s)" in text and "drift_adopt" in text
    mark = bot.slack.mark()
    bot.send.command("drift")  # every router: one message (a response_url takes 5 at most)
    answer = bot.slack.wait_for("response_url", lambda c: "blocks" in c.args, after=mark, timeout=30)
    text = str(answer.args["blocks"])
    assert "*edge1* differs from peerbot" in text and "*edge2*" in text and len(answer.args["blocks"]) <= 50
    assert len([c for c in bot.slack.calls[mark:] if c.method == "response_url"]) == 2  # "Comparing…" + it
    mark = bot.slack.mark()
    bot.send.command("drift nosuchrouter")
    assert "No router named" in str(bot.slack.wait_for("response_url", after=mark).args)


def test_router_details_and_home_discover(bot: RunningBot, router: FakeRouter) -> None:
    from storage.models import Router

    with bot.core.db.session() as s:
        edge1 = s.scalar(select(Router.id).where(Router.name == "edge1"))
    mark = bot.slack.mark()
    bot.send.button(Action.ROUTER_DETAILS, str(edge1))
    modal = bot.slack.wait_for("views.open", after=mark).args["view"]
    [discover] = [e for e in actions_of(modal["blocks"]) if e["action_id"] == Action.DISCOVER_ROUTER]
    mark = bot.slack.mark()
    bot.send.view_action(modal, {"action_id": Action.DISCOVER_ROUTER, "type": "button", "value": discover["value"]})
    updated = bot.slack.wait_for("views.update", after=mark, timeout=20).args["view"]
    assert "3 new neighbor(s)" in str(updated["blocks"]) and len(updated["blocks"]) <= 100

    mark = bot.slack.mark()
    bot.send.home_opened()
    home = bot.slack.wait_for("views.publish", after=mark).args["view"]
    assert any(e["action_id"] == Action.DISCOVER_ALL for e in actions_of(home["blocks"]))
    mark = bot.slack.mark()
    bot.send.button(Action.DISCOVER_ALL)
    dm = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "U111", after=mark, timeout=30)
    assert "*edge1*: 3 new neighbor(s)" in str(dm.args["blocks"]) and "*edge2*" in str(dm.args["blocks"])
