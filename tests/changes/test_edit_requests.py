"""Edits in the services (bot/changes/editing.py, bot/changes/edit_runner.py) on SQLite and
PostgreSQL: a direct update, a change request that updates the row only once the router has it,
a move over two routers (both locks, one request), a half-done move, staleness, and the pending
MD5 key never in the database in clear."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.base.errors import Conflict, InvalidInput
from bot.routers import RouterCredentials
from bot.routers.filters import filter_name
from bot.routers.prefixes import parse_entries
from bot.changes.requests import ChangeRequests
from bot.changes.editing import draft_from_session, edit_session
from bot.sessions.inventory import load_inventory
from storage.models import AsSet, AuditEvent, ChangeRequest, ChangeState, Router, Session
from tests.conftest import INVENTORY
from tests.factories import ids, make_session
from tests.fake_router import FakeRouter
from tests.harness.bot import APPROVER, OPERATOR, settings_for

MD5 = "Old-Md5-Key-1"
NEW_MD5 = "New-Md5-Key-2"


class Routers:
    """One in-memory router per inventory router (by SSH port)."""

    def __init__(self) -> None:
        self.by_port: dict[int, FakeRouter] = {}

    def __getitem__(self, port: int) -> FakeRouter:
        return self.by_port.setdefault(port, FakeRouter())

    def factory(self, creds: RouterCredentials, timeout: float):  # noqa: ANN201
        return self[creds.port].factory(creds, timeout)


@pytest.fixture
def env(database_url: str, slack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "router-login-pw-123")
    core = Core.from_settings(settings_for(database_url, slack, tmp_path))
    load_inventory(core.db, INVENTORY)
    with core.db.session() as s:  # a second FRR router, for moves between routers
        s.add(Router(name="edge3", host="127.0.0.1", port=3, platform="frr", username="lab",
                     password_env="PEERBOT_TEST_ROUTER_PASSWORD", local_asns=[64500], addresses=[]))
    routers = Routers()
    core.driver_factory = routers.factory
    yield core, routers, ChangeRequests(core)
    core.db.dispose()


def configured(core: Core, requests: ChangeRequests, **extra) -> int:  # noqa: ANN003
    v = make_session(core, ip="192.0.2.10", md5=MD5, **extra)
    req = requests.request(OPERATOR, "configure", [v.id])
    requests.approve(req.id, APPROVER)
    assert requests.run(req.id).state == ChangeState.DONE
    return v.id


def test_unconfigured_session_is_updated_with_an_audit_event(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    v = make_session(core, ip="192.0.2.10", md5=MD5)
    changes = draft_from_session(core, v.id).model_copy(update={
        "notes": "moved to TRANSIT", "peer_group_id": ids(core)["pg:edge1/TRANSIT"], "remove_md5": True})
    result = edit_session(core, OPERATOR, v.id, changes)
    assert result.outcome == "updated" and result.request is None
    assert result.session.peer_group == "TRANSIT" and not result.session.has_md5
    with core.db.session() as s:
        assert s.scalar(select(ChangeRequest)) is None
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "session.edit")).one()
        assert event.before == {"peer_group_id": None, "md5": "set", "notes": None}
        assert event.after == {"peer_group_id": ids(core)["pg:edge1/TRANSIT"], "md5": None, "notes": "moved to TRANSIT"}
    assert routers.by_port == {}  # no router was touched


def test_invalid_values_are_refused_by_field(env) -> None:  # noqa: ANN001
    core, _routers, _requests = env
    make_session(core, ip="192.0.2.20", name="Other", asn="65620")
    v = make_session(core, ip="192.0.2.10")
    bad = draft_from_session(core, v.id).model_copy(update={"peer_ip": "192.0.2.20", "local_asn": 64999})
    with pytest.raises(InvalidInput) as err:
        edit_session(core, OPERATOR, v.id, bad)
    assert set(err.value.errors) == {"peer_ip", "local_asn"}


def test_configured_session_changes_only_when_the_router_has_it(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    sid = configured(core, requests)
    changes = draft_from_session(core, sid).model_copy(update={"peer_name": "New Name", "peer_id": None, "md5": NEW_MD5})
    result = edit_session(core, OPERATOR, sid, changes)
    assert result.outcome == "requested" and result.request.state == ChangeState.REQUESTED
    assert result.preview.removed == ["neighbor 192.0.2.10 description Example Peer AS65601",
                                      "neighbor 192.0.2.10 password ********"]
    assert result.preview.added == ["neighbor 192.0.2.10 description New Name AS65601",
                                    "neighbor 192.0.2.10 password ********"]
    with core.db.session() as s:
        row = s.get(Session, sid)
        assert row.peer.name == "Example Peer" and core.secrets.decrypt(row.md5_encrypted) == MD5
        # the new key is nowhere in the database in clear (request, items, audit)
        for req in s.scalars(select(ChangeRequest)):
            assert NEW_MD5 not in json.dumps([req.summary, req.edited_encrypted, [i.commands for i in req.items]])
        for e in s.scalars(select(AuditEvent)):
            assert NEW_MD5 not in json.dumps([e.before, e.after, e.detail], default=str)
    requests.approve(result.request.id, APPROVER)
    done = requests.run(result.request.id)
    assert done.state == ChangeState.DONE and "Edited 192.0.2.10 on edge1" in done.outcome
    assert routers[2222].pushes[-1] == ["router bgp 64500", "neighbor 192.0.2.10 description New Name AS65601",
                                        f"neighbor 192.0.2.10 password {NEW_MD5}", "exit"]
    with core.db.session() as s:
        row = s.get(Session, sid)
        assert row.peer.name == "New Name" and core.secrets.decrypt(row.md5_encrypted) == NEW_MD5
        assert row.configured and not row.needs_check and row.last_error is None


def test_nothing_on_the_router_changes_so_no_request(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    sid = configured(core, requests)
    pushes = len(routers[2222].pushes)
    result = edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"notes": "only notes"}))
    assert result.outcome == "updated" and result.session.notes == "only notes"
    assert len(routers[2222].pushes) == pushes


def test_an_open_request_blocks_another_edit(env) -> None:  # noqa: ANN001
    core, _routers, requests = env
    sid = configured(core, requests)
    edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"md5": NEW_MD5}))
    with pytest.raises(Conflict):
        edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"notes": "x"}))


def test_stale_when_the_session_changed_meanwhile(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    sid = configured(core, requests)
    result = edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"remove_md5": True}))
    with core.db.session() as s:
        s.get(Session, sid).md5_encrypted = core.secrets.encrypt("Changed-Meanwhile-1")
    pushes = len(routers[2222].pushes)
    with pytest.raises(Conflict, match="changed since it was requested"):
        requests.approve(result.request.id, APPROVER)
    assert requests.get(result.request.id).state == ChangeState.EXPIRED
    assert len(routers[2222].pushes) == pushes


def test_commands_rendered_differently_at_run_time_are_not_sent(env, tmp_path: Path,  # noqa: ANN001
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    core, routers, requests = env
    sid = configured(core, requests)
    result = edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"remove_md5": True}))
    requests.approve(result.request.id, APPROVER)
    override = tmp_path / "tpl" / "frr"
    override.mkdir(parents=True)
    (override / "neighbor_update.j2").write_text("router bgp {{ new.local_asn }}\n no neighbor {{ ip }} password\n"
                                                 " neighbor {{ ip }} description overridden\nexit\n")
    monkeypatch.setattr(core.settings, "templates_dir", str(tmp_path / "tpl"))
    pushes = len(routers[2222].pushes)
    done = requests.run(result.request.id)
    assert done.state == ChangeState.FAILED and "differ from the approved ones" in done.outcome
    assert len(routers[2222].pushes) == pushes


def test_move_to_another_router_holds_both_and_ends_there(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    sid = configured(core, requests)
    edge3 = ids(core)["router:edge3"]
    changes = draft_from_session(core, sid).model_copy(update={"router_id": edge3, "peer_ip": "192.0.2.30"})
    result = edit_session(core, OPERATOR, sid, changes)
    view = result.request
    assert view.summary.startswith("Move ") and sorted(view.router_ids) == sorted([ids(core)["router:edge1"], edge3])
    assert [i.router_id for i in view.items] == [ids(core)["router:edge1"], edge3]
    requests.approve(view.id, APPROVER)
    done = requests.run(view.id)
    assert done.state == ChangeState.DONE, done.outcome
    assert "192.0.2.10" not in routers[2222].neighbors and "192.0.2.30" in routers[3].neighbors
    assert routers[3].neighbors["192.0.2.30"].password == MD5
    with core.db.session() as s:
        row = s.get(Session, sid)
        assert (row.router_id, row.peer_ip, row.configured) == (edge3, "192.0.2.30", True)


def test_move_whose_add_fails_points_at_the_old_place_unconfigured(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    sid = configured(core, requests)
    edge3 = ids(core)["router:edge3"]
    routers[3].fail_connect = "unreachable"
    result = edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"router_id": edge3}))
    requests.approve(result.request.id, APPROVER)
    done = requests.run(result.request.id)
    assert done.state == ChangeState.FAILED and "Move half done" in done.outcome
    assert "192.0.2.10" not in routers[2222].neighbors
    with core.db.session() as s:
        row = s.get(Session, sid)
        assert row.router.name == "edge1" and row.peer_ip == "192.0.2.10" and not row.configured
        assert not row.needs_check  # nothing reached edge3
        assert "Move half done: 192.0.2.10 was removed from edge1" in row.last_error
    # the session can be edited again, now as a plain database update
    again = edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"router_id": edge3}))
    assert again.outcome == "updated" and again.session.router_name == "edge3"


def test_a_session_to_check_is_refreshed_before_a_router_edit(env) -> None:  # noqa: ANN001
    core, _routers, requests = env
    sid = configured(core, requests)
    with core.db.session() as s:
        s.get(Session, sid).needs_check = True
    with pytest.raises(Conflict, match="Refresh it first"):
        edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"remove_md5": True}))
    # notes only: nothing on the router changes, so it is saved
    assert edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(
        update={"notes": "checked later"})).outcome == "updated"


# -- inbound filters (bot/routers/filters.py) through edits -------------------------------------
def seed_as_sets(core: Core, **sets: list[str]) -> dict[str, str]:
    """AsSet rows as the IRR import stores them; {AS-SET: its IPv4 filter object}."""
    out = {}
    with core.db.session() as s:
        for key, v4 in sets.items():
            name = key.replace("_", "-")
            s.add(AsSet(name=name, prefixes_v4=v4, prefixes_v6=[]))
            out[name] = filter_name(name, 4, parse_entries(v4))
    return out


def run_edit(core: Core, requests: ChangeRequests, sid: int, **update) -> str:  # noqa: ANN003
    result = edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update=update))
    assert result.outcome == "requested", result.outcome
    requests.approve(result.request.id, APPROVER)
    done = requests.run(result.request.id)
    assert done.state == ChangeState.DONE, done.outcome
    return done.outcome


def test_as_set_change_keeps_the_old_filter_while_another_session_uses_it(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    names = seed_as_sets(core, AS_EXAMPLE=["203.0.113.0/24"], AS_OTHER=["198.51.100.0/24"])
    first, second = names["AS-EXAMPLE"], names["AS-OTHER"]
    sid = configured(core, requests, as_set="AS-EXAMPLE")
    other = make_session(core, ip="192.0.2.11", as_set="AS-EXAMPLE")
    req = requests.request(OPERATOR, "configure", [other.id])
    requests.approve(req.id, APPROVER)
    requests.run(req.id)

    outcome = run_edit(core, requests, sid, as_set="AS-OTHER")
    pushed = routers[2222].pushes[-1]
    assert f"neighbor 192.0.2.10 prefix-list {second} in" in pushed
    assert not [ln for ln in pushed if first in ln] and "removed" not in outcome  # #other still uses it
    with core.db.session() as s:
        assert s.get(Session, sid).prefix_filter == second and s.get(Session, other.id).prefix_filter == first

    # the other session leaves the AS-SET too: now nothing uses the old object, it goes
    outcome = run_edit(core, requests, other.id, as_set="AS-OTHER")
    assert routers[2222].pushes[-1][-1] == f"no ip prefix-list {first}" and f"{first} removed" in outcome


def test_a_re_imported_as_set_switches_to_the_new_version_on_the_next_edit(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    names = seed_as_sets(core, AS_EXAMPLE=["203.0.113.0/24"])
    sid = configured(core, requests, as_set="AS-EXAMPLE")
    with core.db.session() as s:  # re-imported meanwhile: one more prefix
        s.scalar(select(AsSet).where(AsSet.name == "AS-EXAMPLE")).prefixes_v4 = ["203.0.113.0/24", "198.51.100.0/24"]
    newer = filter_name("AS-EXAMPLE", 4, parse_entries(["203.0.113.0/24", "198.51.100.0/24"]))
    result = edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"notes": "x"}))
    # the old entries are no longer known: the difference shows the binding that goes away
    assert f"neighbor 192.0.2.10 prefix-list {names['AS-EXAMPLE']} in" in result.preview.removed
    assert f"ip prefix-list {newer} seq 5 permit 198.51.100.0/24" in result.preview.added
    assert result.request.items[0].commands[-1] == f"no ip prefix-list {names['AS-EXAMPLE']}"


def test_as_set_removed_unbinds_and_removes_the_filter(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    first = seed_as_sets(core, AS_EXAMPLE=["203.0.113.0/24"])["AS-EXAMPLE"]
    sid = configured(core, requests, as_set="AS-EXAMPLE")
    run_edit(core, requests, sid, as_set=None)
    pushed = routers[2222].pushes[-1]
    assert pushed.index(f"no neighbor 192.0.2.10 prefix-list {first} in") < pushed.index(f"no ip prefix-list {first}")
    with core.db.session() as s:
        assert s.get(Session, sid).prefix_filter is None


def test_move_takes_the_filter_to_the_new_router_and_removes_it_from_the_old(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    first = seed_as_sets(core, AS_EXAMPLE=["203.0.113.0/24"])["AS-EXAMPLE"]
    sid = configured(core, requests, as_set="AS-EXAMPLE")
    edge3 = ids(core)["router:edge3"]
    outcome = run_edit(core, requests, sid, router_id=edge3, peer_ip="192.0.2.30")
    assert routers[2222].pushes[-1] == ["router bgp 64500", "no neighbor 192.0.2.10", "exit", f"no ip prefix-list {first}"]
    added = routers[3].pushes[-1]
    assert added[0] == f"ip prefix-list {first} seq 5 permit 203.0.113.0/24"
    assert f"neighbor 192.0.2.30 prefix-list {first} in" in added and f"{first} removed" in outcome
    with core.db.session() as s:
        row = s.get(Session, sid)
        assert (row.router_id, row.prefix_filter, row.configured) == (edge3, first, True)


def test_move_on_the_same_router_keeps_the_filter_it_binds_again(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    first = seed_as_sets(core, AS_EXAMPLE=["203.0.113.0/24"])["AS-EXAMPLE"]
    sid = configured(core, requests, as_set="AS-EXAMPLE")
    run_edit(core, requests, sid, peer_ip="192.0.2.14")
    remove, add = routers[2222].pushes[-2:]
    assert remove == ["router bgp 64500", "no neighbor 192.0.2.10"]
    assert f"neighbor 192.0.2.14 prefix-list {first} in" in add and not [ln for ln in add if ln.startswith("no ip")]


def test_an_as_set_that_cannot_be_a_filter(env) -> None:  # noqa: ANN001
    core, routers, requests = env
    seed_as_sets(core, AS_EXAMPLE=["203.0.113.0/24"], AS_EMPTY=[])
    sid = configured(core, requests, as_set="AS-EXAMPLE")
    for as_set, words in (("AS-UNKNOWN", "not known locally"), ("AS-EMPTY", "no IPv4 prefixes")):
        with pytest.raises(InvalidInput) as err:
            edit_session(core, OPERATOR, sid, draft_from_session(core, sid).model_copy(update={"as_set": as_set}))
        assert list(err.value.errors) == ["as_set"] and words in err.value.errors["as_set"]
    # not on a router: only stored (Configure says it later, as for a new session)
    v = make_session(core, ip="192.0.2.12")
    assert edit_session(core, OPERATOR, v.id, draft_from_session(core, v.id).model_copy(
        update={"as_set": "AS-UNKNOWN"})).outcome == "updated"
    # the session's own AS-SET emptied by a re-import: an edit that removes it still works
    with core.db.session() as s:
        s.scalar(select(AsSet).where(AsSet.name == "AS-EXAMPLE")).prefixes_v4 = []
    run_edit(core, requests, sid, as_set=None)
