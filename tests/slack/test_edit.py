"""Edit on the session detail message, through signed requests to the real Bolt app and the fake
Slack API (the in-memory router of tests/fake_router.py behind the driver factory): the wizard
opens prefilled, Previous/Next keep values, bad input is an inline error, an unconfigured session
is updated directly, a configured one becomes a change request with exactly the masked lines that
change (a move: remove + add), and a request whose session changed meanwhile is stale."""
from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

import bot.changes.runner as change_runner
from handlers.ids import Action
from bot.routers.filters import filter_name
from bot.routers.prefixes import parse_entries
from storage.models import AsSet, AuditEvent, ChangeRequest, Session
from tests.factories import ids, make_session
from tests.fake_router import FakeRouter
from tests.harness.bot import (
    RunningBot, approval_outcome, approval_posted, approve, db_row, dump, request_and_approve,
    request_id_of,
)
from tests.slack.test_wizard import Wizard, assert_secret_never_sent

MD5 = "Edit-Md5-S3cret"
NEW_MD5 = "Another-Md5-K3y"
ROUTER_PASSWORD = "router-login-pw-123"


@pytest.fixture
def router(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> FakeRouter:
    fake = FakeRouter()
    monkeypatch.setattr(bot.core, "driver_factory", fake.factory)
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", ROUTER_PASSWORD)
    monkeypatch.setattr(change_runner, "FOLLOW_INTERVAL", 0.05)
    monkeypatch.setattr(change_runner, "FOLLOW_TIMEOUT", 3.0)
    return fake


def open_edit(bot: RunningBot, sid: int, view_id: str = "VEDIT1") -> Wizard:
    mark = bot.slack.mark()
    assert bot.send.button(Action.EDIT, str(sid)).status_code == 200
    view = bot.slack.wait_for("views.open", after=mark).args["view"]
    return Wizard(bot, view, view_id)


def by_label(view: dict) -> dict[str, Any]:
    """Each input's label -> what it shows initially (text, selected option's text, ticked boxes)."""
    out: dict[str, Any] = {}
    for b in view["blocks"]:
        if b["type"] != "input":
            continue
        el = b["element"]
        if el["type"] == "plain_text_input":
            value: Any = el.get("initial_value")
        elif el["type"] == "checkboxes":
            value = [o["text"]["text"] for o in el.get("initial_options", [])]
        else:
            value = (el.get("initial_option") or {}).get("text", {}).get("text")
        out[b["label"]["text"]] = value
    return out


def configured_session(bot: RunningBot, router: FakeRouter, **extra: Any) -> int:
    v = make_session(bot.core, ip="192.0.2.10", md5=MD5, **extra)
    request_and_approve(bot, Action.CONFIGURE, str(v.id), words="Configured")
    assert db_row(bot, v.id).configured and "192.0.2.10" in router.neighbors
    return v.id


def to_confirmation(w: Wizard, **step3: Any) -> dict:
    w.next()  # 1: as it is
    w.next(**{k: step3.pop(k) for k in ("peer_group", "md5", "md5_clear") if k in step3})
    w.next(**step3)
    return w.next()  # 4 -> 5


# -- the wizard, prefilled ---------------------------------------------------------------------
def test_edit_opens_the_wizard_prefilled_and_keeps_values(bot: RunningBot) -> None:
    pg = ids(bot.core)["pg:edge1/TRANSIT"]
    v = make_session(bot.core, ip="192.0.2.10", md5=MD5, notes="Ticket NET-7", peer_group_id=pg, as_set="AS-EXAMPLE",
                     max_prefixes_v4="900")
    w = open_edit(bot, v.id)
    assert w.view["title"]["text"] == f"Edit session #{v.id} · 1/5"
    first = by_label(w.view)
    assert first["Session type"] == "Public (IXP)" and first["Exchange"] == "EXAMPLE-IX"
    assert first["Notes"] == "Ticket NET-7"
    w.next()
    second = by_label(w.view)
    assert second["Router"] == "edge1 (frr)" and second["Peer group"] == "TRANSIT" and second["Local ASN"] == "AS64500"
    assert second["MD5 password"] is None and second["Remove MD5"] == []  # the key is never sent back
    assert "An MD5 password is set" in dump(w.view) and "leave empty to keep it" in dump(w.view)
    w.next()
    third = by_label(w.view)
    assert third["Peer name"] == "Example Peer" and third["Peer ASN"] == "AS65601"
    assert third["Peer IP address"] == "192.0.2.10" and "Max prefixes IPv4" not in third
    # Previous keeps what was typed on this step, and Next again shows it
    w.previous(peer_name="Renamed Peer")
    assert by_label(w.view)["Peer group"] == "TRANSIT"
    w.next()
    assert by_label(w.view)["Peer name"] == "Renamed Peer"
    w.next()
    assert by_label(w.view)["AS-SET"] == "AS-EXAMPLE"
    w.next()  # the last step: the max-prefix limit (as on the create wizard's), then the preview
    assert by_label(w.view)["Max prefixes IPv4"] == "900"
    assert_secret_never_sent(bot, MD5)


def test_bad_input_is_an_inline_error_and_the_own_ip_is_not_taken(bot: RunningBot) -> None:
    make_session(bot.core, ip="192.0.2.20", name="Other Peer", asn="65620")
    v = make_session(bot.core, ip="192.0.2.10")
    w = open_edit(bot, v.id)
    w.next()
    w.next()
    answer = w.submit(peer_ip="198.51.100.7", peer_asn="AS99999999999")
    assert answer["response_action"] == "errors"
    text = dump(answer["errors"])
    assert "not inside EXAMPLE-IX" in text and "AS number must be" in text
    answer = w.submit(peer_ip="192.0.2.20")  # another session's address on that router
    assert answer["response_action"] == "errors" and "already has a session with 192.0.2.20" in dump(answer["errors"])
    w.next()  # its own address is fine
    assert w.state.step == 4


def test_only_operators_may_edit(bot: RunningBot) -> None:
    v = make_session(bot.core, ip="192.0.2.10")
    mark = bot.slack.mark()
    bot.send.button(Action.EDIT, str(v.id), user="U999")
    said = bot.slack.wait_for("response_url", after=mark).args
    assert "not allowed" in dump(said).lower() or "operator" in dump(said).lower()
    assert not [c for c in bot.slack.calls[mark:] if c.method == "views.open"]


# -- saving ------------------------------------------------------------------------------------
def test_unconfigured_session_is_updated_directly(bot: RunningBot) -> None:
    v = make_session(bot.core, ip="192.0.2.10", md5=MD5)
    w = open_edit(bot, v.id)
    view = to_confirmation(w, peer_group="IX-PEERS", md5_clear=["remove"], peer_name="Renamed Peer")
    shown = dump(view["blocks"])
    assert "Peer group: – → IX-PEERS" in shown and "MD5: removed" in shown and "Peer name: Example Peer → Renamed Peer" in shown
    assert view["submit"]["text"] == "Save" and "updates the session directly" in shown
    mark = bot.slack.mark()
    assert w.submit() == {"response_action": "clear"}
    update = bot.slack.wait_for("chat.update", lambda c: c.args.get("channel") == "C111", after=mark).args
    assert update["ts"] == "1700000000.000001" and "Edited by <@U111>" in dump(update)
    with bot.core.db.session() as s:
        row = s.get(Session, v.id)
        assert row.peer_group.name == "IX-PEERS" and row.md5_encrypted is None and row.peer.name == "Renamed Peer"
        assert s.scalar(select(ChangeRequest)) is None  # no router: no request
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "session.edit")).one()
        assert event.object_id == v.id and event.after["md5"] is None
    assert_secret_never_sent(bot, MD5)


def test_configured_session_becomes_a_request_with_the_exact_lines(bot: RunningBot, router: FakeRouter) -> None:
    sid = configured_session(bot, router)
    w = open_edit(bot, sid)
    view = to_confirmation(w, peer_group="IX-PEERS", md5_clear=["remove"], peer_name="New Name")
    shown = dump(view["blocks"])
    assert view["submit"]["text"] == "Request change"
    # the configuration difference: removed / added lines, the key masked
    assert "- neighbor 192.0.2.10 description Example Peer AS65601" in shown
    assert "- neighbor 192.0.2.10 password ********" in shown
    assert "+ neighbor 192.0.2.10 peer-group IX-PEERS" in shown
    assert "+ neighbor 192.0.2.10 description New Name AS65601" in shown
    mark = bot.slack.mark()
    assert w.submit() == {"response_action": "clear"}
    posted = approval_posted(bot, mark)
    with bot.core.db.session() as s:
        req = s.scalars(select(ChangeRequest).where(ChangeRequest.action == "edit")).one()
        assert [i.commands for i in req.items] == [[
            "router bgp 64500",
            "neighbor 192.0.2.10 peer-group IX-PEERS",
            "neighbor 192.0.2.10 description New Name AS65601",
            "no neighbor 192.0.2.10 password",
            "exit",
        ]]
        assert req.edited_encrypted and "New Name" not in req.edited_encrypted  # pending values encrypted
    assert "no neighbor 192.0.2.10 password" in dump(posted.args)
    with bot.core.db.session() as s:  # nothing changes before the router has it
        row = s.get(Session, sid)
        assert row.peer.name == "Example Peer" and row.md5_encrypted is not None and row.peer_group_id is None
    pushes = len(router.pushes)
    approve(bot, posted)
    done = approval_outcome(bot, mark, request_id=request_id_of(posted)).args
    assert "Edited 192.0.2.10 on edge1" in dump(done)
    assert router.pushes[pushes:] == [[
        "router bgp 64500", "neighbor 192.0.2.10 peer-group IX-PEERS",
        "neighbor 192.0.2.10 description New Name AS65601", "no neighbor 192.0.2.10 password", "exit"]]
    nbr = router.neighbors["192.0.2.10"]
    assert nbr.description == "New Name AS65601" and nbr.password is None
    with bot.core.db.session() as s:
        row = s.get(Session, sid)
        assert row.peer.name == "New Name" and row.md5_encrypted is None and row.peer_group.name == "IX-PEERS"
        assert row.configured and not row.needs_check
    assert_secret_never_sent(bot, MD5)


def test_new_md5_is_masked_and_never_sent_to_slack(bot: RunningBot, router: FakeRouter) -> None:
    sid = configured_session(bot, router)
    w = open_edit(bot, sid)
    view = to_confirmation(w, md5=NEW_MD5)
    shown = dump(view["blocks"])
    assert "- neighbor 192.0.2.10 password ********" in shown and "+ neighbor 192.0.2.10 password ********" in shown
    mark = bot.slack.mark()
    w.submit()
    posted = approval_posted(bot, mark)
    approve(bot, posted)
    approval_outcome(bot, mark, request_id=request_id_of(posted))
    assert router.neighbors["192.0.2.10"].password == NEW_MD5
    with bot.core.db.session() as s:
        assert bot.core.secrets.decrypt(s.get(Session, sid).md5_encrypted) == NEW_MD5
        for req in s.scalars(select(ChangeRequest)):
            assert NEW_MD5 not in dump([i.commands for i in req.items]) and NEW_MD5 not in (req.edited_encrypted or "")
    assert_secret_never_sent(bot, MD5)
    assert_secret_never_sent(bot, NEW_MD5)


def test_request_is_stale_after_a_concurrent_change(bot: RunningBot, router: FakeRouter) -> None:
    sid = configured_session(bot, router)
    w = open_edit(bot, sid)
    to_confirmation(w, peer_name="New Name")
    mark = bot.slack.mark()
    w.submit()
    posted = approval_posted(bot, mark)
    with bot.core.db.session() as s:  # meanwhile someone else changes the session
        s.get(Session, sid).notes = "changed meanwhile"
    pushes = len(router.pushes)
    mark2 = bot.slack.mark()
    approve(bot, posted)
    said = bot.slack.wait_for("response_url", lambda c: "cannot be approved" in dump(c.args), after=mark2).args
    assert "changed since it was requested" in dump(said)
    assert len(router.pushes) == pushes
    with bot.core.db.session() as s:
        assert s.get(Session, sid).peer.name == "Example Peer"
        assert s.scalars(select(ChangeRequest).where(ChangeRequest.action == "edit")).one().state.value == "expired"


def test_move_to_another_ip_is_one_request_remove_then_add(bot: RunningBot, router: FakeRouter) -> None:
    sid = configured_session(bot, router)
    w = open_edit(bot, sid)
    view = to_confirmation(w, peer_ip="192.0.2.14")
    shown = dump(view["blocks"])
    assert "A move" in shown and "Commands sent to edge1* (remove)" in shown and "(add)" in shown
    mark = bot.slack.mark()
    w.submit()
    posted = approval_posted(bot, mark)
    with bot.core.db.session() as s:
        req = s.scalars(select(ChangeRequest).where(ChangeRequest.action == "edit")).one()
        assert req.summary.startswith("Move ") and len(req.items) == 2
        assert req.items[0].commands == ["router bgp 64500", "no neighbor 192.0.2.10"]
        assert "neighbor 192.0.2.14 remote-as 65601" in req.items[1].commands
        assert "neighbor 192.0.2.14 password ********" in req.items[1].commands
    approve(bot, posted)
    done = approval_outcome(bot, mark, request_id=request_id_of(posted)).args
    assert "Moved 192.0.2.10 on edge1 to 192.0.2.14 on edge1" in dump(done)
    assert "192.0.2.10" not in router.neighbors and router.neighbors["192.0.2.14"].password == MD5
    row = db_row(bot, sid)
    assert row.peer_ip == "192.0.2.14" and row.configured and not row.needs_check
    assert_secret_never_sent(bot, MD5)


def test_move_whose_add_fails_says_where_the_session_is(bot: RunningBot, router: FakeRouter) -> None:
    sid = configured_session(bot, router)
    w = open_edit(bot, sid)
    to_confirmation(w, peer_ip="192.0.2.14")
    mark = bot.slack.mark()
    w.submit()
    posted = approval_posted(bot, mark)
    router.reject_line = r"neighbor 192\.0\.2\.14 remote-as"  # the add is refused on its first line
    approve(bot, posted)
    failed = approval_outcome(bot, mark, words="Failed", request_id=request_id_of(posted)).args
    assert "Move half done" in dump(failed)
    assert "192.0.2.10" not in router.neighbors and "192.0.2.14" not in router.neighbors
    row = db_row(bot, sid)
    assert row.peer_ip == "192.0.2.10" and not row.configured  # the old place, no longer configured
    assert "Move half done: 192.0.2.10 was removed from edge1" in row.last_error
    assert "may be on edge1: check it there" in row.last_error and not row.needs_check


# -- max-prefix limits and AS-SET filters --------------------------------------------------------
def test_the_max_prefix_limit_is_edited_on_the_last_step(bot: RunningBot, router: FakeRouter) -> None:
    sid = configured_session(bot, router)
    limit = db_row(bot, sid).max_prefixes_v4
    w = open_edit(bot, sid)
    view = to_confirmation(w)
    assert by_label(view)["Max prefixes IPv4"] == str(limit) and "Nothing is changed" in dump(view["blocks"])
    answer = w.submit(max_prefixes_v4="lots")  # an inline error, as on the create wizard
    assert answer["response_action"] == "errors"
    assert list(answer["errors"]) == [b["block_id"] for b in view["blocks"] if b.get("label", {}).get("text")
                                      == "Max prefixes IPv4"]
    assert "IPv4 max-prefix: a whole number" in dump(answer["errors"])
    # another limit: the step is drawn again with the changes and commands for it, nothing saved yet
    answer = w.submit(max_prefixes_v4="2,500")
    assert answer["response_action"] == "update" and w.state.step == 5
    shown = dump(w.view["blocks"])
    assert by_label(w.view)["Max prefixes IPv4"] == "2500" and "Max-prefix limit changed" in shown
    assert f"Max prefixes IPv4: {limit} → 2500" in shown
    assert f"- neighbor 192.0.2.10 maximum-prefix {limit} 90" in shown
    assert "+ neighbor 192.0.2.10 maximum-prefix 2500 90" in shown
    with bot.core.db.session() as s:
        assert s.scalar(select(ChangeRequest).where(ChangeRequest.action == "edit")) is None
    mark = bot.slack.mark()
    assert w.submit() == {"response_action": "clear"}
    posted = approval_posted(bot, mark)
    commands = ["router bgp 64500", "address-family ipv4 unicast", "neighbor 192.0.2.10 maximum-prefix 2500 90",
                "exit-address-family", "exit"]
    with bot.core.db.session() as s:
        assert [i.commands for i in s.scalars(select(ChangeRequest).where(ChangeRequest.action == "edit")).one().items] \
            == [commands]
    assert "neighbor 192.0.2.10 maximum-prefix 2500 90" in dump(posted.args)
    approve(bot, posted)
    approval_outcome(bot, mark, request_id=request_id_of(posted))
    assert router.pushes[-1] == commands and db_row(bot, sid).max_prefixes_v4 == 2500


def seed_as_sets(bot: RunningBot, **sets: list[str]) -> dict[str, str]:
    """AsSet rows as the IRR import stores them; returns each one's IPv4 filter object name."""
    with bot.core.db.session() as s:
        for name, v4 in sets.items():
            s.add(AsSet(name=name.replace("_", "-"), prefixes_v4=v4, prefixes_v6=[]))
    return {name.replace("_", "-"): filter_name(name.replace("_", "-"), 4, parse_entries(v4)) for name, v4 in sets.items()}


def test_changing_the_as_set_replaces_the_filter_through_the_request(bot: RunningBot, router: FakeRouter) -> None:
    names = seed_as_sets(bot, AS_EXAMPLE=["203.0.113.0/24"], AS_OTHER=["198.51.100.0/24"])
    first, second = names["AS-EXAMPLE"], names["AS-OTHER"]
    sid = configured_session(bot, router, as_set="AS-EXAMPLE")
    assert db_row(bot, sid).prefix_filter == first
    w = open_edit(bot, sid)
    w.next()
    w.next()
    w.next()
    view = w.next(as_set="AS-OTHER")
    shown = dump(view["blocks"])
    assert "AS-SET: AS-EXAMPLE → AS-OTHER" in shown
    assert f"- ip prefix-list {first} seq 5 permit 203.0.113.0/24" in shown
    assert f"+ ip prefix-list {second} seq 5 permit 198.51.100.0/24" in shown
    mark = bot.slack.mark()
    assert w.submit() == {"response_action": "clear"}
    posted = approval_posted(bot, mark)
    # what the approver sees: the new object complete, the switch in one command, the old removed
    commands = [f"ip prefix-list {second} seq 5 permit 198.51.100.0/24", "router bgp 64500",
                "address-family ipv4 unicast", f"neighbor 192.0.2.10 prefix-list {second} in",
                "exit-address-family", "exit", f"no ip prefix-list {first}"]
    text = dump(posted.args)
    assert all(c in text for c in commands)
    assert text.index(second) < text.index(f"prefix-list {second} in") < text.index(f"no ip prefix-list {first}")
    approve(bot, posted)
    done = dump(approval_outcome(bot, mark, request_id=request_id_of(posted)).args)
    assert f"Old inbound filter {first} removed" in done
    assert router.pushes[-1] == commands
    row = db_row(bot, sid)
    assert row.as_set == "AS-OTHER" and row.prefix_filter == second and row.configured and not row.needs_check
    assert_secret_never_sent(bot, MD5)


def test_an_as_set_that_cannot_be_a_filter_is_refused_on_the_edit(bot: RunningBot, router: FakeRouter) -> None:
    seed_as_sets(bot, AS_EXAMPLE=["203.0.113.0/24"])
    sid = configured_session(bot, router, as_set="AS-EXAMPLE")
    w = open_edit(bot, sid)
    w.next()
    w.next()
    w.next()
    view = w.next(as_set="AS-NOT-IMPORTED")
    assert "AS-SET AS-NOT-IMPORTED is not known locally" in dump(view["blocks"])
    answer = w.submit()
    assert answer["response_action"] == "update" and w.state.step == 4  # back to the AS-SET, with the reason
    assert "not known locally" in dump(w.view["blocks"])
    with bot.core.db.session() as s:
        assert s.scalar(select(ChangeRequest).where(ChangeRequest.action == "edit")) is None
