"""bot.changes.executor against an in-memory router (tests/fake_router.py): the rules of every
router change - what is recorded, what is rolled back, what is said, and that secrets stay out."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.base.errors import InvalidInput
from bot.changes.executor import Changes
from bot.changes.config_manager import check_edited_commands
from bot.changes.router_config import plan
from storage.models import AdminStatus, AuditEvent, Router, Session
from tests.factories import make_session
from tests.fake_router import FakeNeighbor, FakeRouter

ROUTER_PASSWORD = "router-login-pw-123"
MD5 = "Md5-Secr3t-Key"


@pytest.fixture
def env(inventory_core: Core, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", ROUTER_PASSWORD)
    router = FakeRouter()
    return inventory_core, router, Changes(inventory_core, driver_factory=router.factory)


def row(core: Core, sid: int) -> Session | None:
    with core.db.session() as s:
        return s.get(Session, sid)


def audits(core: Core, sid: int | None = None) -> list[AuditEvent]:
    with core.db.session() as s:
        q = select(AuditEvent).order_by(AuditEvent.id)
        if sid is not None:
            q = q.where(AuditEvent.object_id == sid)
        return list(s.scalars(q))


def audit_text(core: Core) -> str:
    return json.dumps([[a.action, a.before, a.after, a.detail] for a in audits(core)], default=str)


# ----------------------------------------------------------------------------- configure
def test_configure_pushes_saves_reads_back_and_records(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10", asn="65601", name="Alpha Net")
    res = changes.configure(v.id, "U111")
    assert res.ok, res.message
    assert res.action == "configure" and "Configured 192.0.2.10 on edge1" in res.message
    assert res.commands[:2] == ["router bgp 64500", "neighbor 192.0.2.10 remote-as 65601"]
    assert router.connections == 1 and router.saves == 1 and router.pushes == [res.commands]
    assert router.credentials[0].password == ROUTER_PASSWORD and router.credentials[0].port == 2222
    assert router.neighbors["192.0.2.10"].description == "Alpha Net AS65601"
    r = row(core, v.id)
    assert r.configured and r.bgp_state == "Established" and r.prefixes_received == 3 and r.last_error is None
    assert res.session is not None and res.session.configured and res.session.display_state == "Established"
    ev = audits(core, v.id)[-1]
    assert (ev.action, ev.outcome, ev.actor) == ("session.configure", "ok", "U111")
    assert ev.before["configured"] is False and ev.after["configured"] is True
    assert ev.after["commands"] == res.commands


def test_rejected_line_rolls_back_and_records_nothing(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    router.reject_line = r"description"  # after "remote-as": the neighbor exists half-configured
    res = changes.configure(v.id, "U111")
    assert not res.ok
    assert "fake rejected the configuration" in res.message
    assert "Nothing was recorded as configured" in res.message and "rolled back (neighbor removed)" in res.message
    assert router.neighbors == {}  # rollback removed it
    assert router.pushes[-1] == ["router bgp 64500", "no neighbor 192.0.2.10"]
    assert router.saves == 0  # nothing to save: the only push failed
    r = row(core, v.id)
    assert not r.configured and r.bgp_state is None and r.admin_status == AdminStatus.UP
    assert r.last_error == res.message
    ev = audits(core, v.id)[-1]
    assert ev.outcome == "error" and ev.action == "session.configure" and "rolled back" in ev.detail
    assert res.session is not None and not res.session.configured


def test_rejected_line_on_existing_neighbor_is_not_rolled_back(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    router.neighbors["192.0.2.10"] = FakeNeighbor(remote_asn=65601)  # configured by hand before
    router.reject_line = r"description"
    res = changes.configure(v.id, "U111")
    assert not res.ok and "existed before" in res.message
    assert "192.0.2.10" in router.neighbors and len(router.pushes) == 1
    assert not row(core, v.id).configured


@pytest.mark.parametrize("failure, words", [("unreachable", "cannot reach 127.0.0.1:2222"),
                                            ("auth", "authentication failed for peerbot-lab@127.0.0.1:2222"),
                                            ("timeout", "did not answer in time")])
def test_router_unusable_changes_nothing(env, failure: str, words: str) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    router.fail_connect = failure
    res = changes.configure(v.id, "U111")
    assert not res.ok and words in res.message and "Nothing was changed" in res.message
    assert router.pushes == [] and router.neighbors == {}
    r = row(core, v.id)
    assert not r.configured and r.bgp_state is None and r.last_polled is None
    assert audits(core, v.id)[-1].outcome == "error"
    assert ROUTER_PASSWORD not in res.message


def test_missing_password_variable_is_a_clear_error(env, monkeypatch: pytest.MonkeyPatch) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    monkeypatch.delenv("PEERBOT_TEST_ROUTER_PASSWORD")
    res = changes.configure(v.id, "U111")
    assert not res.ok and "PEERBOT_TEST_ROUTER_PASSWORD is not set" in res.message
    assert router.credentials == [] and not row(core, v.id).configured


def test_read_back_failure_after_push_is_reported_as_unverified(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    changes.configure(v.id, "U111")
    router.fail_show = True
    res = changes.admin_down(v.id, "U111")
    assert not res.ok and "did not answer in time" in res.message
    assert row(core, v.id).admin_status == AdminStatus.UP  # DB unchanged


def test_configure_without_neighbor_in_table_afterwards_is_not_marked(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    # an edited set that the router accepts but that creates no neighbor
    res = changes.configure(v.id, "U111", commands=["router bgp 64500", "exit"])
    assert not res.ok and "not in its BGP table afterwards" in res.message
    assert not row(core, v.id).configured and audits(core, v.id)[-1].outcome == "error"


# ----------------------------------------------------------------------------- admin, delete
def test_admin_down_and_up_on_the_router(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    assert changes.configure(v.id, "U111").ok
    down = changes.admin_down(v.id, "U222")
    assert down.ok and down.commands == ["router bgp 64500", "neighbor 192.0.2.10 shutdown"]
    assert router.neighbors["192.0.2.10"].shutdown
    r = row(core, v.id)
    assert r.admin_status == AdminStatus.DOWN and r.bgp_state == "Idle"
    assert down.session.display_state == "Admin down" and "shut down" in down.message
    up = changes.admin_up(v.id, "U222")
    assert up.ok and not router.neighbors["192.0.2.10"].shutdown
    assert row(core, v.id).admin_status == AdminStatus.UP and row(core, v.id).bgp_state == "Established"
    assert [a.action for a in audits(core, v.id)][-2:] == ["session.admin_down", "session.admin_up"]


def test_admin_down_of_unconfigured_session_is_recorded_only(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    res = changes.admin_down(v.id, "U111")
    assert res.ok and "recorded" in res.message and router.credentials == []
    assert row(core, v.id).admin_status == AdminStatus.DOWN
    # Configure then renders the shutdown line
    assert "neighbor 192.0.2.10 shutdown" in plan(core, v.id, "configure").lines


def test_bulk_on_one_router_uses_one_connection_and_one_save(env) -> None:
    core, router, changes = env
    ids = [make_session(core, ip=f"192.0.2.{n}", asn=str(65600 + n), name=f"Peer {n}").id for n in (10, 11, 12)]
    results = changes.run("configure", ids, "U111")
    assert [r.ok for r in results] == [True, True, True]
    assert router.connections == 1 and router.saves == 1 and len(router.pushes) == 1  # one push for all three
    results = changes.run("admin_down", ids, "U111")
    assert all(r.ok for r in results) and [r.session_id for r in results] == ids
    assert router.connections == 2 and router.saves == 2
    assert all(row(core, i).admin_status == AdminStatus.DOWN for i in ids)


def test_bulk_keeps_going_after_one_rejected_session(env) -> None:
    core, router, changes = env
    ids = [make_session(core, ip=f"192.0.2.{n}", asn=str(65600 + n), name=f"Peer {n}").id for n in (10, 11, 12)]
    router.reject_line = r"192\.0\.2\.11 description"
    results = changes.run("configure", ids, "U111")
    assert [r.ok for r in results] == [True, False, True]
    assert router.connections == 1 and router.saves == 1
    assert sorted(router.neighbors) == ["192.0.2.10", "192.0.2.12"]
    assert [row(core, i).configured for i in ids] == [True, False, True]


def test_delete_of_never_configured_session_does_not_touch_the_router(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    res = changes.delete(v.id, "U111")
    assert res.ok and "deleted from the database only" in res.message and res.session is None
    assert router.credentials == [] and row(core, v.id) is None
    ev = audits(core, v.id)[-1]
    assert ev.action == "session.delete" and ev.before["peer_ip"] == "192.0.2.10"


def test_delete_of_configured_session_removes_neighbor_then_row(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    changes.configure(v.id, "U111")
    res = changes.delete(v.id, "U111")
    assert res.ok and "neighbor removed from edge1" in res.message
    assert res.commands == ["router bgp 64500", "no neighbor 192.0.2.10"]
    assert router.neighbors == {} and row(core, v.id) is None and router.saves == 2


def test_delete_when_neighbor_is_still_there_keeps_the_session(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    changes.configure(v.id, "U111")
    router.keep_after_delete = True
    res = changes.delete(v.id, "U111")
    assert not res.ok and "still on edge1" in res.message and row(core, v.id) is not None


def test_delete_when_neighbor_was_removed_by_hand(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    changes.configure(v.id, "U111")
    router.neighbors.clear()
    pushes = len(router.pushes)
    res = changes.delete(v.id, "U111")
    assert res.ok and "no longer on edge1" in res.message and row(core, v.id) is None
    assert len(router.pushes) == pushes  # "no neighbor" would only have been refused


# ----------------------------------------------------------------------------- polling
def test_poll_router_stores_states_and_reports_changes(env) -> None:
    core, router, changes = env
    a = make_session(core, ip="192.0.2.10", name="Alpha")
    b = make_session(core, ip="192.0.2.11", name="Beta")
    changes.run("configure", [a.id, b.id], "U111")
    router.neighbors["192.0.2.11"].state = "Active"
    with core.db.session() as s:
        edge1 = s.scalar(select(Router.id).where(Router.name == "edge1"))
    res = changes.poll_router(edge1)
    assert res.ok and res.polled == 2
    assert [(c.peer_ip, c.old, c.new) for c in res.changes] == [("192.0.2.11", "Established", "Active")]
    assert row(core, b.id).bgp_state == "Active"
    del router.neighbors["192.0.2.10"]
    assert [(c.peer_ip, c.new) for c in changes.poll_router(edge1).changes] == [("192.0.2.10", "NotFound")]
    router.fail_connect = "unreachable"
    bad = changes.poll_router(edge1)
    assert not bad.ok and "cannot reach" in bad.message
    with core.db.session() as s:
        assert "cannot reach" in s.get(Router, edge1).last_error


def test_poll_all_covers_every_router(env) -> None:
    core, router, changes = env
    results = changes.poll_all()
    assert [r.router_name for r in results] == ["edge1", "edge2"]
    # edge2's password variable is not set: a clear error, not an exception
    assert results[0].ok and not results[1].ok and "PEERBOT_TEST_EDGE2_PASSWORD" in results[1].message


def test_poll_session_reads_one_neighbor(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    changes.configure(v.id, "U111")
    router.neighbors["192.0.2.10"].state = "Connect"
    assert changes.poll_session(v.id).bgp_state == "Connect"


# ----------------------------------------------------------------------------- config manager
@pytest.mark.parametrize("line", [
    "neighbor 192.0.2.99 remote-as 65001",  # another neighbor
    "no router bgp 64500",
    "router bgp 64999",
    "neighbor 10.0.0.1 description about 192.0.2.10",  # mentions ours, acts on another
    "neighbor 192.0.2.10 description x 10.0.0.1",  # two addresses
    "ip route 0.0.0.0/0 192.0.2.10",
    "write erase",
    "interface eth0",
    "ip prefix-list PEERBOT-AS65999-V4 seq 5 permit 0.0.0.0/0",  # someone else's prefix list
    # "neighbor <ip>" later in a line does not make it a neighbor line
    "username evil privilege 15 password neighbor 192.0.2.10",
    "alias exec x neighbor 192.0.2.10",
    "banner motd line pwned neighbor 192.0.2.10",
    "do clear ip bgp neighbor 192.0.2.10",
    "set system login user evil class super-user neighbor 192.0.2.10",
    "ip prefix-list PEERBOT-AS65601-V4 description neighbor 192.0.2.10",
])
def test_config_manager_rejects_lines_outside_the_neighbor(env, line: str) -> None:
    core, _, _ = env
    v = make_session(core, ip="192.0.2.10")
    text = "\n".join(plan(core, v.id, "configure").masked + [line])
    with pytest.raises(InvalidInput) as err:
        check_edited_commands(core, v.id, text)
    assert "outside this session's neighbor" in err.value.errors["commands"]


@pytest.mark.parametrize("bad", ["neighbor 192.0.2.10 description a;b", "neighbor 192.0.2.10 description a\tb",
                                 "neighbor 192.0.2.10 description a\x1bb", "neighbor 192.0.2.10 description what?",
                                 "neighbor 192.0.2.10 description a\rshutdown", "neighbor 192.0.2.10 description\u2028x"])
def test_config_manager_rejects_control_characters(env, bad: str) -> None:
    core, _, _ = env
    v = make_session(core, ip="192.0.2.10")
    with pytest.raises(InvalidInput) as err:
        check_edited_commands(core, v.id, "router bgp 64500\n" + bad)
    assert "not allowed" in err.value.errors["commands"]


def test_admin_down_neighbor_hidden_by_the_platform(env) -> None:
    """Junos lists no deactivated neighbor: Configure of an admin-down session, polling it, and
    Delete must not take its absence for a failure or for a removal by hand."""
    core, router, changes = env
    router.hide_shutdown = True
    v = make_session(core, ip="192.0.2.10")
    assert changes.admin_down(v.id, "U111").ok  # not configured yet: recorded only
    res = changes.configure(v.id, "U111")
    assert res.ok, res.message
    assert router.neighbors["192.0.2.10"].shutdown and row(core, v.id).configured
    changes.poll_all()
    assert row(core, v.id).bgp_state == "Idle"
    pushes = len(router.pushes)
    res = changes.delete(v.id, "U111")
    assert res.ok and len(router.pushes) == pushes + 1  # the delete was sent, not skipped
    assert "192.0.2.10" not in router.neighbors and row(core, v.id) is None


def test_a_second_change_to_a_session_in_flight_is_refused(env) -> None:
    import threading

    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    router.push_gate = threading.Event()
    first: list = []
    t = threading.Thread(target=lambda: first.append(changes.configure(v.id, "U111")))
    t.start()
    for _ in range(1000):  # until the first change holds the session (and the router)
        if router.connections:
            break
        t.join(0.01)
    second = changes.configure(v.id, "U222")
    assert not second.ok and "in progress" in second.message
    router.push_gate.set()
    t.join(10)
    assert first[0].ok and len(router.pushes) == 1
    assert changes.configure(v.id, "U222").ok  # released afterwards


def test_polls_skip_a_router_being_changed_and_a_session_read_waits(env) -> None:
    """A reading taken before a change and stored after it would undo the change in the DB: a
    poll skips the router (reported as skipped, not queued); reading one session back waits."""
    import threading

    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    assert changes.configure(v.id, "U111").ok
    lock = core.locks.router(v.router_id)
    with lock:  # a change to this router is in flight
        results = changes.poll_all()
        assert [(r.router_name, r.skipped, r.ok) for r in results if r.router_id == v.router_id] == [("edge1", True, False)]
        assert "a change to it is in progress" in results[0].message
        follow = threading.Thread(target=changes.poll_session, args=(v.id,))
        follow.start()
        follow.join(0.3)
        assert follow.is_alive() and router.connections == 1  # waiting, not reading
    follow.join(10)
    assert router.connections == 2


def test_refused_line_on_a_commit_platform_says_nothing_was_committed(env) -> None:
    core, router, changes = env
    with core.db.session() as s:
        s.scalar(select(Router).where(Router.name == "edge1")).platform = "ios-xr"
    v = make_session(core, ip="192.0.2.10")
    router.neighbors["192.0.2.10"] = FakeNeighbor(remote_asn=65601)  # exists already
    router.reject_line = "description"
    res = changes.configure(v.id, "U111")
    assert not res.ok and "Nothing was committed" in res.message and "stay applied" not in res.message


def test_configure_with_commands_checks_them_for_every_caller(env) -> None:
    """The scope check is in the service, so a caller other than the modal cannot skip it."""
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10")
    with pytest.raises(InvalidInput):
        changes.configure(v.id, "cli:test", commands=["username evil privilege 15 password neighbor 192.0.2.10"])
    assert router.pushes == [] and not row(core, v.id).configured


def test_config_manager_rejects_empty_and_huge(env) -> None:
    core, _, _ = env
    v = make_session(core, ip="192.0.2.10")
    with pytest.raises(InvalidInput):
        check_edited_commands(core, v.id, " \n \n")
    with pytest.raises(InvalidInput):
        check_edited_commands(core, v.id, "\n".join(["neighbor 192.0.2.10 description x"] * 201))


def test_config_manager_accepts_edits_and_restores_the_md5(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10", md5=MD5)
    p = plan(core, v.id, "configure")
    assert "neighbor 192.0.2.10 password ********" in p.masked and MD5 not in "\n".join(p.masked)
    edited = "\r\n".join(p.masked).replace("description Example Peer AS65601", "description Edited by hand")
    edited += "\n  NEIGHBOR 192.0.2.10 timers 10 30\n\n"  # indentation, blank lines, a new in-scope line
    lines = check_edited_commands(core, v.id, edited)
    assert f"neighbor 192.0.2.10 password {MD5}" in lines
    assert "neighbor 192.0.2.10 description Edited by hand" in lines and "NEIGHBOR 192.0.2.10 timers 10 30" in lines
    res = changes.configure(v.id, "U111", commands=lines)
    assert res.ok, res.message
    nbr = router.neighbors["192.0.2.10"]
    assert nbr.password == MD5 and nbr.description == "Edited by hand"
    assert "neighbor 192.0.2.10 password ********" in res.commands and MD5 not in json.dumps(res.commands)


def test_config_manager_v6_normalises_addresses(env) -> None:
    core, _, _ = env
    v = make_session(core, ip="2001:db8:1::2", session_type="local", exchange="No Exchange")
    lines = check_edited_commands(core, v.id, "router bgp 64500\nneighbor 2001:DB8:1:0::2 description v6 peer")
    assert lines[-1] == "neighbor 2001:DB8:1:0::2 description v6 peer"


# ----------------------------------------------------------------------------- secrets
def test_secrets_never_reach_results_or_audit(env) -> None:
    core, router, changes = env
    v = make_session(core, ip="192.0.2.10", md5=MD5)
    ok = changes.configure(v.id, "U111")
    assert ok.ok and router.neighbors["192.0.2.10"].password == MD5
    assert router.push_secrets[0] == (MD5,)  # the driver is told what to mask in router output
    # a refused line that echoes the whole command (with the key) back in the error
    router.reject_line = r"password"
    bad = changes.configure(v.id, "U111")
    assert not bad.ok and "password ********" in bad.message
    # a key typed into Config Manager while none is stored is masked too
    w = make_session(core, ip="192.0.2.11", name="Other")
    router.reject_line = None
    typed = changes.configure(w.id, "U111", commands=check_edited_commands(
        core, w.id, "router bgp 64500\nneighbor 192.0.2.11 remote-as 65601\nneighbor 192.0.2.11 password Typed-Key-9"))
    assert typed.ok and "neighbor 192.0.2.11 password ********" in typed.commands
    changes.admin_down(v.id, "U111")
    changes.delete(v.id, "U111")
    everything = json.dumps([[r.message, r.commands] for r in (ok, bad, typed)]) + audit_text(core)
    for secret in (MD5, "Typed-Key-9", ROUTER_PASSWORD):
        assert secret not in everything
    with core.db.session() as s:
        assert all(MD5 not in (r.md5_encrypted or "") for r in s.scalars(select(Session)))


def test_unknown_session_and_action(env) -> None:
    core, _, changes = env
    res = changes.configure(999, "U111")
    assert not res.ok and "No session #999" in res.message
    with pytest.raises(InvalidInput):
        changes.run("reboot", [1], "U111")
