"""What Configure and Delete send for a session's AS-SET filter and max-prefix limit, from the
database (bot.changes.router_config.neighbor_spec), through the change-request path, against the
in-memory router (tests/fake_router.py). Issue 10."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.routers.filters import filter_name
from bot.routers.prefixes import parse_entries
from bot.changes.requests import ChangeRequests
from bot.changes.executor import Changes
from bot.sessions.max_prefix import suggested_limit
from bot.changes.router_config import FilterUnavailable, plan
from storage.models import AsSet, PdbNet, Session
from tests.factories import make_session
from tests.fake_router import FakeRouter

V4 = ["203.0.113.0/25", "198.51.100.0/24 le 25"]


@pytest.fixture
def env(inventory_core: Core, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "pw")
    router = FakeRouter()
    return inventory_core, router, Changes(inventory_core, driver_factory=router.factory)


def seed_as_set(core: Core, name: str, v4: list[str], v6: list[str] | None = None) -> None:
    with core.db.session() as s:
        row = s.scalar(select(AsSet).where(AsSet.name == name))
        if row is None:
            row = AsSet(name=name)
            s.add(row)
        row.prefixes_v4, row.prefixes_v6 = list(v4), list(v6 or [])


def db_row(core: Core, sid: int) -> Session:
    with core.db.session() as s:
        return s.get(Session, sid)


def test_configure_renders_the_as_set_filter_and_the_limit(env) -> None:
    core, router, changes = env
    seed_as_set(core, "AS-EXAMPLE", V4, ["2001:db8:65::/48"])
    v = make_session(core, ip="192.0.2.10", as_set="AS-EXAMPLE", max_prefixes_v4="50")
    name = filter_name("AS-EXAMPLE", 4, parse_entries(V4))
    p = plan(core, v.id, "configure")
    assert p.lines[:2] == [f"ip prefix-list {name} seq 5 permit 198.51.100.0/24 le 25",
                           f"ip prefix-list {name} seq 10 permit 203.0.113.0/25"]
    assert f"neighbor 192.0.2.10 prefix-list {name} in" in p.lines
    assert "neighbor 192.0.2.10 maximum-prefix 50 90" in p.lines  # warn at PEERBOT_MAX_PREFIX_WARN_PERCENT
    assert not any("2001:db8" in ln for ln in p.lines)
    res = changes.configure(v.id, "U111")
    assert res.ok, res.message
    assert db_row(core, v.id).prefix_filter == name


@pytest.mark.parametrize("v4,words", [(None, "is not known locally"), ([], "has no IPv4 prefixes"),
                                      (["10.0.0.1/8"], "holds an entry peerbot will not send")])
def test_an_unusable_as_set_refuses_configure_with_a_clear_message(env, v4, words) -> None:
    core, router, changes = env
    if v4 is not None:
        seed_as_set(core, "AS-EXAMPLE", v4, ["2001:db8:65::/48"])
    v = make_session(core, ip="192.0.2.10", as_set="AS-EXAMPLE")
    with pytest.raises(FilterUnavailable, match=words):
        ChangeRequests(core, changes).request("U111", "configure", [v.id])
    res = changes.configure(v.id, "U111")  # the executor refuses too, before any SSH
    assert not res.ok and words in res.message and "Nothing was sent" in res.message
    assert router.connections == 0
    # admin actions and Delete do not need the AS-SET
    assert ChangeRequests(core, changes).request("U111", "delete", [v.id]).items[0].commands == []


def test_reconfigure_after_the_as_set_changed_removes_the_old_version(env) -> None:
    core, router, changes = env
    seed_as_set(core, "AS-EXAMPLE", V4)
    v = make_session(core, ip="192.0.2.10", as_set="AS-EXAMPLE")
    assert changes.configure(v.id, "U111").ok
    old = db_row(core, v.id).prefix_filter
    seed_as_set(core, "AS-EXAMPLE", ["203.0.113.128/25"])
    new = filter_name("AS-EXAMPLE", 4, parse_entries(["203.0.113.128/25"]))
    p = plan(core, v.id, "configure")
    assert p.lines[0] == f"ip prefix-list {new} seq 5 permit 203.0.113.128/25"
    assert p.lines[-1] == f"no ip prefix-list {old}"
    assert p.lines.index(f"neighbor 192.0.2.10 prefix-list {new} in") < len(p.lines) - 1
    res = changes.configure(v.id, "U111")
    assert res.ok and res.message.endswith(f"Old inbound filter {old} removed.")
    assert db_row(core, v.id).prefix_filter == new
    assert not any(old in ln for ln in plan(core, v.id, "configure").lines)  # nothing left to remove


def test_delete_keeps_a_shared_filter_and_removes_it_with_its_last_user(env) -> None:
    core, router, changes = env
    seed_as_set(core, "AS-EXAMPLE", V4)
    a = make_session(core, ip="192.0.2.10", as_set="AS-EXAMPLE")
    b = make_session(core, ip="192.0.2.11", as_set="AS-EXAMPLE", name="Other Peer", asn="65602")
    c = make_session(core, ip="198.51.100.20", as_set="AS-EXAMPLE", router="edge2", exchange="OTHER-IX")
    for sid in (a.id, b.id):
        assert changes.configure(sid, "U111").ok
    name = db_row(core, a.id).prefix_filter
    assert name == db_row(core, b.id).prefix_filter  # one object on the router for both
    with core.db.session() as s:  # the same AS-SET configured on ANOTHER router does not count
        s.get(Session, c.id).configured, s.get(Session, c.id).prefix_filter = True, name

    assert not any(name in ln for ln in plan(core, a.id, "deconfigure").lines)
    res = changes.delete(a.id, "U111")
    assert res.ok and f"inbound filter {name} kept: still used by #{b.id} on edge1" in res.message
    assert not any(name in ln for ln in res.commands)

    assert plan(core, b.id, "deconfigure").lines[-1] == f"no ip prefix-list {name}"
    res = changes.delete(b.id, "U111")
    assert res.ok and f"inbound filter {name} removed" in res.message
    assert res.commands[-1] == f"no ip prefix-list {name}"


def test_new_sessions_get_a_limit_from_peeringdb_or_the_default(env) -> None:
    core, router, changes = env
    with core.db.session() as s:
        s.add(PdbNet(id=77, name="Counted", name_lc="counted", asn=65777, info_prefixes4=1000, info_prefixes6=None))
    assert suggested_limit(core, 4, asn=65777).limit == 1210  # 1000 x 1.2 + 10
    assert "PeeringDB: 1,000 IPv4 prefixes" in suggested_limit(core, 4, asn=65777).basis
    assert suggested_limit(core, 6, asn=65777).limit == 310  # no v6 count: default 250 x 1.2 + 10
    core.settings.max_prefix_headroom, core.settings.max_prefix_extra = 1.5, 0
    assert suggested_limit(core, 4, peeringdb_net_id=77).limit == 1500
    v = make_session(core, ip="192.0.2.10", asn="65777")
    assert (db_row(core, v.id).max_prefixes_v4, db_row(core, v.id).max_prefixes_v6) == (1500, None)
    w = make_session(core, ip="192.0.2.11", asn="65777", max_prefixes_v4="7")  # typed: kept
    assert db_row(core, w.id).max_prefixes_v4 == 7


def test_deleting_all_users_of_a_filter_at_once_removes_it_once(env) -> None:
    core, router, changes = env
    seed_as_set(core, "AS-EXAMPLE", V4)
    a = make_session(core, ip="192.0.2.10", as_set="AS-EXAMPLE")
    b = make_session(core, ip="192.0.2.11", as_set="AS-EXAMPLE", name="Other Peer", asn="65602")
    for sid in (a.id, b.id):
        assert changes.configure(sid, "U111").ok
    name = db_row(core, a.id).prefix_filter
    results = changes.run("deconfigure", [a.id, b.id], "U111")
    assert all(r.ok for r in results), [r.message for r in results]
    removals = [ln for r in results for ln in r.commands if name in ln]
    assert removals == [f"no ip prefix-list {name}"] and results[1].commands[-1] == removals[0]
