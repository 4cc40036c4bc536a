"""End to end on a real FRR router: signed Slack requests at the running bot, SSH through the
real netmiko driver into the lab's R1 (tests/lab/lab.sh), assertions on R1's own BGP table,
on the database and on what Slack was sent.

Each test starts from the lab baseline (`clean_lab`) and creates sessions on the spare address
pairs the PEER already expects (v4, v4 with MD5, v6).
"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

import bot.changes.runner as change_runner
from handlers.ids import Action
from storage.models import AdminStatus, AuditEvent, Router
from tests.factories import ids, make_session
from tests.harness.bot import (
    RunningBot, approval_outcome, approval_posted, approve, db_row, dump, has, open_config_manager,
    request_and_approve, submit_config_manager,
)
from tests.lab_fixture import Lab

pytestmark = pytest.mark.lab

SSH_TIMEOUT = 60  # one button = one SSH session (+ read-back); generous for a loaded CI box


@pytest.fixture
def lab_bot(bot: RunningBot, clean_lab: Lab, monkeypatch: pytest.MonkeyPatch) -> tuple[RunningBot, Lab]:
    """The bot with edge1 pointing at the lab's R1 (same values as tests/data/inventory.yml
    unless the lab was started with other SSH_PORT/LAB_USER settings)."""
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", clean_lab.password)
    monkeypatch.setattr(change_runner, "FOLLOW_INTERVAL", 1.0)
    monkeypatch.setattr(change_runner, "FOLLOW_TIMEOUT", 30.0)
    with bot.core.db.session() as s:
        edge1 = s.scalar(select(Router).where(Router.name == "edge1"))
        edge1.host, edge1.port, edge1.username = clean_lab.host, clean_lab.port, clean_lab.username
    return bot, clean_lab


def press(bot: RunningBot, action_id: str, sid: int, wait_text: str = "Done", timeout: float = SSH_TIMEOUT) -> dict:
    """A change button pressed by the operator and approved by the approver (or Refresh): the
    approval message (or the detail) once it contains wait_text."""
    if action_id == Action.REFRESH:
        mark = bot.slack.mark()
        assert bot.send.button(action_id, str(sid)).status_code == 200
        return bot.slack.wait_for("response_url", has(wait_text), after=mark, timeout=timeout).args
    return request_and_approve(bot, action_id, str(sid), words=wait_text, timeout=timeout).args


def test_configure_admin_down_up_delete(lab_bot: tuple[RunningBot, Lab]) -> None:
    bot, lab = lab_bot
    pair = lab.spares["v4"]
    group = lab.peer_groups[0]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab Peer",
                     peer_group_id=ids(bot.core)[f"pg:edge1/{group}"])
    assert lab.neighbor_json(pair.peer_ip) == {}

    done = press(bot, Action.CONFIGURE, v.id)
    text = dump(done["blocks"])
    assert f"Configured {pair.peer_ip} on edge1" in text
    assert f"neighbor {pair.peer_ip} remote-as {lab.peer.asn}" in text
    nbr = lab.neighbor_json(pair.peer_ip)
    assert nbr["remoteAs"] == lab.peer.asn and nbr["peerGroup"] == group and nbr["nbrDesc"] == f"Lab Peer AS{lab.peer.asn}"
    lab.wait_state(pair.peer_ip, "Established", timeout=30)
    assert pair.peer_ip in open(lab.config_file).read()  # saved (write memory)
    refreshed = press(bot, Action.REFRESH, v.id, "Refreshed from edge1")
    assert "Established" in dump(refreshed["blocks"])
    row = db_row(bot, v.id)
    assert row.configured and row.bgp_state == "Established" and row.prefixes_received == len(lab.peer.prefixes_v4)

    down = press(bot, Action.ADMIN_DOWN, v.id)
    assert f"neighbor {pair.peer_ip} shutdown" in dump(down["blocks"]) and "shut down on edge1" in dump(down["blocks"])
    nbr = lab.wait_state(pair.peer_ip, "Idle", timeout=10)
    assert nbr.get("adminShutDown") is True
    row = db_row(bot, v.id)
    assert row.admin_status == AdminStatus.DOWN and row.bgp_state == "Idle"

    mark = bot.slack.mark()
    up = press(bot, Action.ADMIN_UP, v.id)
    assert f"no neighbor {pair.peer_ip} shutdown" in dump(up["blocks"])
    # FRR often re-establishes before the read-back; otherwise the worker polls the neighbor
    # (bounded) and updates the messages again once it is back
    bot.slack.wait_for("chat.update", has("BGP state now Established"), after=mark, timeout=45)
    assert lab.neighbor_json(pair.peer_ip)["bgpState"] == "Established"
    row = db_row(bot, v.id)
    assert row.admin_status == AdminStatus.UP and row.bgp_state == "Established"

    gone = press(bot, Action.DELETE, v.id)
    assert f"no neighbor {pair.peer_ip}" in dump(gone["blocks"]) and "deleted" in dump(gone["blocks"])
    assert lab.neighbor_json(pair.peer_ip) == {}
    assert db_row(bot, v.id) is None
    with bot.core.db.session() as s:
        events = [(e.action, e.outcome) for e in s.scalars(select(AuditEvent).where(AuditEvent.object_type == "session", AuditEvent.object_id == v.id)
                                                           .order_by(AuditEvent.id))]
    assert events == [("session.create", "ok"), ("session.configure", "ok"), ("session.admin_down", "ok"),
                      ("session.admin_up", "ok"), ("session.delete", "ok")]


def test_md5_session_comes_up_and_the_key_stays_secret(lab_bot: tuple[RunningBot, Lab]) -> None:
    bot, lab = lab_bot
    pair = lab.spares["v4_md5"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab MD5 Peer", md5=pair.md5)
    done = press(bot, Action.CONFIGURE, v.id)
    assert f"neighbor {pair.peer_ip} password ********" in dump(done["blocks"])
    lab.wait_state(pair.peer_ip, "Established", timeout=30)  # only with the right key
    assert db_row(bot, v.id).configured
    # the key was never sent to Slack, nor written to the audit trail
    assert pair.md5 not in dump([c.args for c in bot.slack.calls])
    with bot.core.db.session() as s:
        audit = dump([[e.before, e.after, e.detail] for e in s.scalars(select(AuditEvent))])
    assert pair.md5 not in audit


def test_v6_session_and_refresh_store_states(lab_bot: tuple[RunningBot, Lab]) -> None:
    bot, lab = lab_bot
    pair = lab.spares["v6"]
    v6 = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab V6 Peer",
                      session_type="local", exchange="No Exchange")
    # the baseline neighbor exists on R1 already (configured by hand): a refresh stores its state
    base = make_session(bot.core, ip=lab.peer.v4, asn=str(lab.peer.asn), name="Lab Baseline")
    press(bot, Action.CONFIGURE, v6.id)
    nbr = lab.wait_state(pair.peer_ip, "Established", timeout=30)
    assert nbr["addressFamilyInfo"].get("ipv6Unicast") and not nbr["addressFamilyInfo"].get("ipv4Unicast")
    mark = bot.slack.mark()
    bot.send.command("refresh edge1")
    out = bot.slack.wait_for("response_url", has("Refreshed"), after=mark, timeout=SSH_TIMEOUT).args
    text = dump(out["blocks"])
    assert "edge1: 2 session(s) polled" in text and "Lab Baseline" in text
    b, s6 = db_row(bot, base.id), db_row(bot, v6.id)
    assert b.bgp_state == "Established" and b.prefixes_received == len(lab.peer.prefixes_v4) and not b.configured
    assert s6.bgp_state == "Established" and s6.prefixes_received == len(lab.peer.prefixes_v6)
    assert s6.last_polled is not None


def test_wrong_password_and_unreachable_router_change_nothing(lab_bot: tuple[RunningBot, Lab],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    bot, lab = lab_bot
    pair = lab.spares["v4"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab Peer")
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "not-the-password")
    failed = press(bot, Action.CONFIGURE, v.id, "Failed")
    text = dump(failed["blocks"])
    assert f"authentication failed for {lab.username}@{lab.host}:{lab.port}" in text and "Nothing was changed" in text
    assert "not-the-password" not in dump([c.args for c in bot.slack.calls])
    row = db_row(bot, v.id)
    assert not row.configured and row.bgp_state is None and row.last_polled is None
    assert lab.neighbor_json(pair.peer_ip) == {}

    # edge2 listens nowhere (127.0.0.1:1)
    monkeypatch.setenv("PEERBOT_TEST_EDGE2_PASSWORD", "whatever")
    w = make_session(bot.core, ip="198.51.100.20", asn="65603", name="Far Away", router="edge2", exchange="OTHER-IX")
    failed = press(bot, Action.CONFIGURE, w.id, "Failed")
    assert "cannot reach 127.0.0.1:1" in dump(failed["blocks"])
    row = db_row(bot, w.id)
    assert not row.configured and row.bgp_state is None


def test_config_manager_push_and_rejected_line_rollback(lab_bot: tuple[RunningBot, Lab]) -> None:
    bot, lab = lab_bot
    pair = lab.spares["v4"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab Peer")

    # an in-scope line the router refuses, right after the neighbor was created: rolled back
    modal, text = open_config_manager(bot, v.id)
    remote_as = f"neighbor {pair.peer_ip} remote-as {lab.peer.asn}"
    broken = text.replace(remote_as, f"{remote_as}\nneighbor {pair.peer_ip} remote-as")
    mark = bot.slack.mark()
    r = submit_config_manager(bot, modal, broken)
    assert r.status_code == 200 and r.text == ""
    approve(bot, approval_posted(bot, mark))
    update = approval_outcome(bot, mark, "Failed", timeout=SSH_TIMEOUT).args
    msg = dump(update["blocks"])
    assert "rejected the configuration" in msg and "rolled back (neighbor removed)" in msg
    assert lab.neighbor_json(pair.peer_ip) == {}
    row = db_row(bot, v.id)
    assert not row.configured and row.bgp_state is None and "rolled back" in row.last_error

    # an edited description lands on the router
    modal, text = open_config_manager(bot, v.id)
    edited = text.replace(f"description Lab Peer AS{lab.peer.asn}", "description Edited in Slack")
    assert edited != text
    mark = bot.slack.mark()
    assert submit_config_manager(bot, modal, edited).text == ""
    approve(bot, approval_posted(bot, mark))
    update = approval_outcome(bot, mark, timeout=SSH_TIMEOUT).args
    assert "description Edited in Slack" in dump(update["blocks"])
    assert lab.neighbor_json(pair.peer_ip)["nbrDesc"] == "Edited in Slack"
    assert db_row(bot, v.id).configured and db_row(bot, v.id).last_error is None

    # out of scope: refused in the modal, nothing reaches the router
    r = submit_config_manager(bot, modal, edited + f"\nneighbor {lab.peer.v4} shutdown")
    assert r.json()["response_action"] == "errors"
    time.sleep(0.2)
    assert lab.neighbor_json(lab.peer.v4)["bgpState"] == "Established"
