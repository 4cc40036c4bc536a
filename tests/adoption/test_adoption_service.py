"""Discovery, import and drift in the service (bot/adoption) on SQLite and PostgreSQL, against
in-memory routers whose running config is parsed by the real FRR parser (tests/fake_router.py)."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.adoption.discovery import KNOWN, NEW, Discovery
from bot.adoption.drift import Drift
from bot.adoption.importer import import_neighbors, peer_name_for
from bot.base.errors import Conflict
from bot.changes.requests import ChangeRequests
from bot.core import Core
from bot.sessions.inventory import load_inventory
from storage.models import (
    AuditEvent, ChangeState, DriftItem, Notice, PdbNet, PeerGroup, RouterNeighbor, Session, SessionType,
)
from tests.conftest import INVENTORY
from tests.factories import ids, make_session
from tests.fake_router import FakeRouter
from tests.harness.bot import APPROVER, OPERATOR, settings_for

SECRET = "hand-made-md5-key"


def hand_made(router: FakeRouter) -> None:
    """What a network engineer configured before peerbot: the lab's kinds of neighbors."""
    for line in [
        "neighbor 192.0.2.6 remote-as 64496", "neighbor 192.0.2.6 description Transit; reload\tCo AS64496",
        "neighbor 192.0.2.6 peer-group UPSTREAMS",
        "neighbor 192.0.2.10 remote-as 65010", f"neighbor 192.0.2.10 password {SECRET}",
        "neighbor 192.0.2.10 prefix-list CUSTOMER-IN in", "neighbor 192.0.2.10 maximum-prefix 100",
        "neighbor 198.18.0.1 remote-as 13335", "neighbor 198.18.0.1 shutdown",
        "neighbor 203.0.113.7 remote-as 64500", "neighbor 203.0.113.7 description core-rr2",
        "neighbor 2001:db8:1::2 remote-as 65020", "neighbor 2001:db8:1::2 maximum-prefix 50",
    ]:
        router.apply(line)


@pytest.fixture
def env(database_url: str, slack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "router-login-pw-123")
    monkeypatch.setenv("PEERBOT_TEST_EDGE2_PASSWORD", "router-login-pw-456")
    core = Core.from_settings(settings_for(database_url, slack, tmp_path, PEERBOT_NOTIFY_CHANNEL="C0NOTIFY"))
    load_inventory(core.db, INVENTORY)
    edge1, edge2 = FakeRouter(asn=64500), FakeRouter(asn=64500)
    by_port = {2222: edge1, 1: edge2}
    core.driver_factory = lambda creds, timeout: by_port[creds.port].factory(creds, timeout)
    hand_made(edge1)
    yield core, edge1, edge2
    core.db.dispose()


def edge1_id(core: Core) -> int:
    return ids(core)["router:edge1"]


def test_discovery_proposes_and_writes_no_session(env) -> None:  # noqa: ANN001
    core, edge1, _ = env
    known = make_session(core, ip="192.0.2.20", asn="65601")
    edge1.apply("neighbor 192.0.2.20 remote-as 65601")  # peerbot's own, as it would have pushed it
    edge1.apply("neighbor 192.0.2.20 description Example Peer AS65601")
    with core.db.session() as s:
        edge1.apply(f"neighbor 192.0.2.20 maximum-prefix {s.get(Session, known.id).max_prefixes_v4}")
    found = {d.router: d for d in Discovery(core).discover()}
    d = found["edge1"]
    assert d.ok and d.count(NEW) == 5
    by_ip = {n.peer_ip: n for n in d.neighbors}
    assert by_ip["192.0.2.20"].status == KNOWN, by_ip["192.0.2.20"].differences
    assert by_ip["192.0.2.20"].session_id == known.id
    assert by_ip["198.18.0.1"].remote_asn == 13335
    assert "edge1: 5 new neighbor(s), 1 already known, 0 differ" == d.summary
    assert not found["edge2"].ok or found["edge2"].count(NEW) == 0
    with core.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Session)) == 1  # a proposal, not a write
        stored = [(r.settings, r.lines) for r in s.scalars(select(RouterNeighbor))]
    assert stored and SECRET not in repr(stored)  # the key is never stored
    assert edge1.pushes == []


def test_import_creates_sessions_as_the_router_has_them(env) -> None:  # noqa: ANN001
    core, edge1, _ = env
    with core.db.session() as s:  # the PeeringDB mirror knows AS65010
        s.add(PdbNet(id=4242, name="Customer Networks; Inc", name_lc="customer networks; inc", asn=65010,
                     irr_as_set="RIPE::AS-CUSTOMER AS-OTHER", status="ok"))
    Discovery(core).discover([edge1_id(core)])
    result = import_neighbors(core, "cli:alice", edge1_id(core))
    assert len(result.created) == 5 and not result.failed, result
    with core.db.session() as s:
        rows = {r.peer_ip: r for r in s.scalars(select(Session))}
        transit = rows["192.0.2.6"]
        assert transit.peer.name == "Transit reload Co" and transit.peer.asn == 64496  # sanitised, no " AS64496"
        assert transit.peer_group.name == "UPSTREAMS"  # the group was created on the router's row
        assert transit.exchange.name == "EXAMPLE-IX" and transit.session_type == SessionType.PUBLIC
        cust = rows["192.0.2.10"]
        assert cust.peer.name == "Customer Networks Inc" and cust.as_set == "AS-CUSTOMER"  # from PeeringDB
        assert cust.md5_unknown and cust.md5_encrypted is None
        assert cust.prefix_filter == "CUSTOMER-IN" and cust.max_prefixes_v4 == 100
        pni = rows["198.18.0.1"]
        assert pni.exchange.is_none and pni.session_type == SessionType.PRIVATE and pni.admin_status.value == "down"
        assert pni.peer.name == "AS13335"
        ibgp = rows["203.0.113.7"]
        assert ibgp.session_type == SessionType.LOCAL and ibgp.peer.name == "core-rr2"
        v6 = rows["2001:db8:1::2"]
        assert v6.address_family == 6 and v6.max_prefixes_v6 == 50 and v6.exchange.name == "EXAMPLE-IX"
        assert all(r.configured and r.local_asn == 64500 and r.created_by == "cli:alice" for r in rows.values())
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "session.import")))
        assert len(events) == 5 and {e.actor for e in events} == {"cli:alice"}
    assert edge1.pushes == []  # no router change
    again = import_neighbors(core, "cli:alice", edge1_id(core))
    assert again.created == [] and len(again.existing) == 5  # idempotent


def test_import_of_chosen_neighbors_and_unparsable_ones_skipped(env) -> None:  # noqa: ANN001
    core, edge1, _ = env
    edge1.neighbors["192.0.2.99"] = type(edge1.neighbors["192.0.2.6"])(remote_asn=None)  # "remote-as None"
    d = Discovery(core).discover([edge1_id(core)])[0]
    assert any(k["peer"] == "192.0.2.99" for k in d.skipped), d.skipped
    result = import_neighbors(core, OPERATOR, edge1_id(core), ["192.0.2.6", "192.0.2.77"])
    assert [c[1] for c in result.created] == ["192.0.2.6"]
    assert result.failed == [("192.0.2.77", "not found on the router at the last discovery")]


@pytest.mark.parametrize("description, expected", [
    ("ACME Corp AS65001", "ACME Corp"), ("x; reload\x07\r\nend", "x reload end"), ("   ", "PDB Name"),
    ("Ünïcödé only", "PDB Name"), (None, "PDB Name"),
])
def test_peer_names_are_safe_for_a_router_description(description, expected) -> None:  # noqa: ANN001
    assert peer_name_for(description, 65001, "PDB Name") == expected
    assert peer_name_for(None, 65001, None) == "AS65001"


def test_md5_unknown_session_refuses_configure_until_the_key_is_given(env) -> None:  # noqa: ANN001
    core, edge1, _ = env
    Discovery(core).discover([edge1_id(core)])
    import_neighbors(core, OPERATOR, edge1_id(core))
    with core.db.session() as s:
        sid = s.scalar(select(Session.id).where(Session.peer_ip == "192.0.2.10"))
    with pytest.raises(Conflict, match="cannot read"):
        ChangeRequests(core).request(OPERATOR, "configure", [sid])
    assert edge1.pushes == []


def test_configure_of_an_imported_session_keeps_a_hand_made_filter(env) -> None:  # noqa: ANN001
    core, edge1, _ = env
    edge1.apply("neighbor 192.0.2.30 remote-as 65030")
    edge1.apply("neighbor 192.0.2.30 prefix-list HANDMADE in")
    Discovery(core).discover([edge1_id(core)])
    import_neighbors(core, OPERATOR, edge1_id(core), ["192.0.2.30"])
    with core.db.session() as s:
        sid = s.scalar(select(Session.id).where(Session.peer_ip == "192.0.2.30"))
    req = ChangeRequests(core).request(OPERATOR, "configure", [sid])
    assert not any("HANDMADE" in c for c in req.items[0].commands), req.items[0].commands


def test_drift_report_adopt_fix_ignore(env) -> None:  # noqa: ANN001
    core, edge1, _ = env
    drift = Drift(core)
    Discovery(core).discover([edge1_id(core)])
    import_neighbors(core, OPERATOR, edge1_id(core))
    first = drift.check([edge1_id(core)])[0]
    assert first.ok and first.items == () and not first.reported  # nothing differs, nothing reported
    # by hand on the CLI: a limit changed, a neighbor added, one removed
    edge1.apply("neighbor 2001:db8:1::2 maximum-prefix 75")
    edge1.apply("neighbor 192.0.2.40 remote-as 65040")
    edge1.apply("no neighbor 203.0.113.7")
    report = drift.check([edge1_id(core)])[0]
    by_ip = {i.peer_ip: i for i in report.items}
    assert set(by_ip) == {"2001:db8:1::2", "192.0.2.40", "203.0.113.7"} and report.reported
    assert by_ip["2001:db8:1::2"].kind == "differs"
    assert by_ip["2001:db8:1::2"].differences == ("max-prefix limit: router 75, peerbot 50",)
    assert by_ip["192.0.2.40"].kind == "unknown" and by_ip["203.0.113.7"].kind == "gone"
    with core.db.session() as s:
        notices = list(s.scalars(select(Notice).where(Notice.kind == "drift")))
    assert len(notices) == 1 and notices[0].subject == f"drift:{edge1_id(core)}"
    assert {i["peer_ip"] for i in notices[0].payload["items"]} == set(by_ip)
    assert drift.check([edge1_id(core)])[0].reported is False  # nothing changed since: no second report

    # Configure refuses the drifted session; Fix is a Configure request through the approvals
    v6 = by_ip["2001:db8:1::2"]
    requests = ChangeRequests(core)
    with pytest.raises(Conflict, match="differs from its router"):
        requests.request(OPERATOR, "configure", [v6.session_id])
    fix = drift.fix(OPERATOR, v6.id)
    assert fix.state == ChangeState.REQUESTED and any("maximum-prefix 50" in c for c in fix.items[0].commands)
    with pytest.raises(Conflict, match="already fixing"):
        drift.fix(OPERATOR, v6.id)
    requests.approve(fix.id, APPROVER)
    done = requests.run(fix.id)
    assert done.state == ChangeState.DONE and edge1.neighbors["2001:db8:1::2"].max_prefixes == 50
    drift.after_change(done)  # the runner's hook: re-read, resolved
    with core.db.session() as s:
        assert s.get(DriftItem, v6.id).status == "resolved"

    # Adopt: the unknown neighbor becomes a session, the gone one is marked not configured
    with pytest.raises(Conflict, match="not a session"):
        drift.fix(OPERATOR, by_ip["192.0.2.40"].id)  # never a Fix that deletes a hand-made neighbor
    assert "imported as session" in drift.adopt(OPERATOR, by_ip["192.0.2.40"].id)
    assert "marked not configured" in drift.adopt(OPERATOR, by_ip["203.0.113.7"].id)
    after = drift.check([edge1_id(core)])[0]
    assert after.items == ()

    # Ignore holds until the neighbor changes again
    edge1.apply("neighbor 192.0.2.6 peer-group OTHERS")
    item = drift.check([edge1_id(core)])[0].items[0]
    assert item.differences == ("peer group: router OTHERS, peerbot UPSTREAMS",)
    drift.ignore(OPERATOR, item.id)
    assert drift.check([edge1_id(core)])[0].items == ()
    edge1.apply("neighbor 192.0.2.6 shutdown")
    again = drift.check([edge1_id(core)])[0].items
    assert len(again) == 1 and "admin state: router shut down, peerbot up" in again[0].differences

    # Adopt of a difference takes the router's values
    assert "router's values" in drift.adopt(OPERATOR, again[0].id)
    with core.db.session() as s:
        row = s.get(Session, again[0].session_id)
        assert row.peer_group.name == "OTHERS" and row.admin_status.value == "down"
        assert s.scalar(select(func.count()).select_from(PeerGroup).where(PeerGroup.name == "OTHERS")) == 1
    assert drift.check([edge1_id(core)])[0].items == ()


def test_a_router_that_fails_fails_only_itself(env) -> None:  # noqa: ANN001
    core, edge1, edge2 = env
    edge2.fail_show = True
    found = {d.router: d for d in Discovery(core).discover()}
    assert found["edge1"].ok and found["edge1"].count(NEW) == 5
    assert not found["edge2"].ok and "did not answer in time" in found["edge2"].error


def test_edit_waits_for_the_drift_and_a_typed_key_clears_md5_unknown(env) -> None:  # noqa: ANN001
    from bot.changes.editing import draft_from_session, edit_session

    core, edge1, _ = env
    Discovery(core).discover([edge1_id(core)])
    import_neighbors(core, OPERATOR, edge1_id(core))
    with core.db.session() as s:
        v6 = s.scalar(select(Session.id).where(Session.peer_ip == "2001:db8:1::2"))
        md5 = s.scalar(select(Session.id).where(Session.peer_ip == "192.0.2.10"))
    edge1.apply("neighbor 2001:db8:1::2 maximum-prefix 75")
    Drift(core).check([edge1_id(core)])
    changes = draft_from_session(core, v6).model_copy(update={"max_prefixes_v6": "60"})
    with pytest.raises(Conflict, match="differs from its router"):
        edit_session(core, OPERATOR, v6, changes)
    # a key typed in Edit: the session knows it from now on (the change goes through approval)
    keyed = draft_from_session(core, md5).model_copy(update={"md5": "the-real-key-123"})
    result = edit_session(core, OPERATOR, md5, keyed)
    assert result.request is not None and any("password ********" in c for item in result.request.items
                                               for c in item.commands)


def test_500_neighbors_of_one_router_import_in_one_go(env) -> None:  # noqa: ANN001
    core, edge1, _ = env
    for i in range(500):
        edge1.apply(f"neighbor 10.{i // 250}.{i % 250}.2 remote-as {65100 + i}")
    Discovery(core).discover([edge1_id(core)])
    result = import_neighbors(core, "cli:bulk", edge1_id(core))
    assert len(result.created) == 505 and not result.failed
    with core.db.session() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "session.import", AuditEvent.actor == "cli:bulk")) == 505
    assert import_neighbors(core, "cli:bulk", edge1_id(core)).created == []


def test_fix_removes_what_the_router_has_and_the_session_has_not(env) -> None:  # noqa: ANN001
    """A key and a filter added by hand: Configure would render neither away, so the Fix is the
    Configure lines with their negations (a Config Manager push, through approval)."""
    core, edge1, _ = env
    drift = Drift(core)
    Discovery(core).discover([edge1_id(core)])
    import_neighbors(core, OPERATOR, edge1_id(core), ["192.0.2.6"])
    edge1.apply("neighbor 192.0.2.6 password added-by-hand-1")
    edge1.apply("neighbor 192.0.2.6 prefix-list HANDMADE in")
    edge1.apply("no neighbor 192.0.2.6 peer-group UPSTREAMS")
    edge1.apply("neighbor 192.0.2.6 peer-group OTHERS")
    with core.db.session() as s:  # the session says: no group, no key, no filter
        row = s.scalar(select(Session).where(Session.peer_ip == "192.0.2.6"))
        row.peer_group = None
    item = next(i for i in drift.check([edge1_id(core)])[0].items if i.peer_ip == "192.0.2.6")
    assert set(item.differences) == {"peer group: router OTHERS, peerbot none",
                                     "inbound filter: router HANDMADE, peerbot none",
                                     "password: router a TCP-MD5 key, peerbot no TCP-MD5 key"}
    fix = drift.fix(OPERATOR, item.id)
    commands = fix.items[0].commands
    assert fix.action == "config_push" and "no neighbor 192.0.2.6 password" in commands
    assert "no neighbor 192.0.2.6 peer-group OTHERS" in commands
    assert "no neighbor 192.0.2.6 prefix-list HANDMADE in" in commands
    assert "added-by-hand-1" not in repr(fix)
    requests = ChangeRequests(core)
    requests.approve(fix.id, APPROVER)
    done = requests.run(fix.id)
    assert done.state == ChangeState.DONE, done.outcome
    n = edge1.neighbors["192.0.2.6"]
    assert (n.password, n.prefix_list, n.peer_group) == (None, None, None)
    drift.after_change(done)
    with core.db.session() as s:
        assert s.get(DriftItem, item.id).status == "resolved"


def test_app_home_counts_the_open_differences(env) -> None:  # noqa: ANN001
    from bot.home.summary import home_summary
    from handlers.views.home import home_view

    core, edge1, _ = env
    Discovery(core).discover([edge1_id(core)])
    import_neighbors(core, OPERATOR, edge1_id(core), ["192.0.2.6"])
    Drift(core).check([edge1_id(core)])  # the four neighbors not imported are unknown
    h = home_summary(core)
    assert h.drift_open == 4
    assert "4 difference(s) with the routers' configuration" in str(home_view(h)["blocks"])
