"""Issue 10 on the real FRR lab, through the real service path (operator's button, approver's
click, worker, netmiko over SSH into R1): AS-SET prefix filters, a changed AS-SET, max-prefix
teardowns and Delete of shared / unused filters.

The PEER announces 203.0.113.0/25 and 203.0.113.128/25 on every pair (tests/lab/lab.sh); the
AsSet rows are seeded in the database in bot/routers/prefixes.py form, as the IRR import stores
them.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

import bot.changes.runner as change_runner
from bot.routers.filters import filter_name
from bot.routers.prefixes import parse_entries
from handlers.ids import Action
from storage.models import AsSet, Router
from tests.factories import make_session
from tests.harness.bot import RunningBot, db_row, dump, has, request_and_approve
from tests.lab_fixture import Lab

pytestmark = pytest.mark.lab

SSH_TIMEOUT = 60
AS_SET = "AS-LAB-FILTER"
INSIDE, OUTSIDE = "203.0.113.0/25", "203.0.113.128/25"


@pytest.fixture
def lab_bot(bot: RunningBot, clean_lab: Lab, monkeypatch: pytest.MonkeyPatch) -> tuple[RunningBot, Lab]:
    """The bot with edge1 pointing at the lab's R1, and no peerbot filter left on R1."""
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", clean_lab.password)
    monkeypatch.setattr(change_runner, "FOLLOW_INTERVAL", 1.0)
    monkeypatch.setattr(change_runner, "FOLLOW_TIMEOUT", 15.0)
    with bot.core.db.session() as s:
        edge1 = s.scalar(select(Router).where(Router.name == "edge1"))
        edge1.host, edge1.port, edge1.username = clean_lab.host, clean_lab.port, clean_lab.username
    leftovers = [name for name in prefix_lists(clean_lab) if name.startswith("PB-")]
    if leftovers:
        clean_lab.vtysh("r1", ["configure terminal", *(f"no ip prefix-list {n}" for n in leftovers)])
    return bot, clean_lab


def seed(bot: RunningBot, v4: list[str]) -> str:
    with bot.core.db.session() as s:
        row = s.scalar(select(AsSet).where(AsSet.name == AS_SET)) or AsSet(name=AS_SET)
        row.prefixes_v4, row.prefixes_v6 = list(v4), []
        s.add(row)
    return filter_name(AS_SET, 4, parse_entries(v4))


def prefix_lists(lab: Lab) -> dict[str, list[str]]:
    """R1's IPv4 prefix-lists: name -> entry lines, from its running configuration."""
    out: dict[str, list[str]] = {}
    for line in lab.vtysh("r1", "show running-config").splitlines():
        words = line.split()
        if words[:2] == ["ip", "prefix-list"]:
            out.setdefault(words[2], []).append(" ".join(words[3:]))
    return out


def routes_from(lab: Lab, ip: str) -> list[str]:
    """Prefixes R1 accepted from the neighbor (after its inbound filter)."""
    data = json.loads(lab.vtysh("r1", f"show ip bgp neighbors {ip} routes json", check=False) or "{}")
    return sorted(data.get("routes") or {})


def announced_by_peer(lab: Lab, pair) -> list[str]:  # noqa: ANN001
    """What the PEER sends R1 on this pair (what R1 receives before its filter): its own two
    prefixes, and R1's 198.51.100.0/24 learned over the baseline session (which R1 drops anyway:
    its own AS is in the path)."""
    data = json.loads(lab.vtysh("peer", f"show ip bgp neighbors {pair.router_ip} advertised-routes json",
                                check=False) or "{}")
    return sorted(data.get("advertisedRoutes") or {})


def accepted(lab: Lab, ip: str) -> int | None:
    return ((lab.neighbor_json(ip).get("addressFamilyInfo") or {}).get("ipv4Unicast") or {}).get("acceptedPrefixCounter")


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def press(bot: RunningBot, action_id: str, sid: int, words: str = "Done") -> str:
    if action_id == Action.REFRESH:
        mark = bot.slack.mark()
        assert bot.send.button(action_id, str(sid)).status_code == 200
        return dump(bot.slack.wait_for("response_url", has(words), after=mark, timeout=SSH_TIMEOUT).args)
    return dump(request_and_approve(bot, action_id, str(sid), words=words, timeout=SSH_TIMEOUT).args)


def test_only_prefixes_inside_the_as_set_are_accepted_and_a_changed_as_set_replaces_the_filter(
        lab_bot: tuple[RunningBot, Lab]) -> None:
    bot, lab = lab_bot
    pair = lab.spares["v4"]
    first = seed(bot, [INSIDE])
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab Filtered", as_set=AS_SET)

    text = press(bot, Action.CONFIGURE, v.id)
    assert f"ip prefix-list {first} seq 5 permit {INSIDE}" in text
    assert f"neighbor {pair.peer_ip} prefix-list {first} in" in text
    lab.wait_state(pair.peer_ip, "Established", timeout=30)
    # the PEER sends both; R1 accepts only the one inside the AS-SET
    wait_for("the peer's announcements", lambda: {INSIDE, OUTSIDE} <= set(announced_by_peer(lab, pair)))
    wait_for("one accepted prefix", lambda: accepted(lab, pair.peer_ip) == 1)
    assert routes_from(lab, pair.peer_ip) == [INSIDE]
    assert prefix_lists(lab)[first] == [f"seq 5 permit {INSIDE}"]
    assert "Refreshed" in press(bot, Action.REFRESH, v.id, "Refreshed from edge1")
    row = db_row(bot, v.id)
    assert row.prefixes_accepted == 1 and row.prefix_filter == first

    # The AS-SET changes (as a re-import would): Configure builds the new list, switches the
    # neighbor to it and removes the old one; the prefix that left the AS-SET is dropped.
    second = seed(bot, [OUTSIDE])
    text = press(bot, Action.CONFIGURE, v.id)
    assert f"no ip prefix-list {first}" in text
    lists = prefix_lists(lab)
    assert first not in lists and lists[second] == [f"seq 5 permit {OUTSIDE}"]
    wait_for("the new filter applied", lambda: routes_from(lab, pair.peer_ip) == [OUTSIDE])
    assert accepted(lab, pair.peer_ip) == 1 and lab.neighbor_json(pair.peer_ip)["bgpState"] == "Established"
    assert db_row(bot, v.id).prefix_filter == second


def test_max_prefix_exceeded_shuts_the_session_and_the_poll_says_why(lab_bot: tuple[RunningBot, Lab]) -> None:
    bot, lab = lab_bot
    pair = lab.spares["v4"]
    # limit N=1 (no AS-SET: nothing filters first); the PEER announces N+1 = 2 prefixes.
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab Limited", max_prefixes_v4="1")
    text = press(bot, Action.CONFIGURE, v.id)
    assert f"neighbor {pair.peer_ip} maximum-prefix 1 90" in text
    # FRR 8.4 compares the limit with the count it held BEFORE an UPDATE (a route counts once
    # its next hop is resolved), so the first UPDATE's two prefixes get in; the peer's next
    # UPDATE - here it sends its routes again - finds 2 > 1 and tears the session down.
    lab.wait_state(pair.peer_ip, "Established", timeout=30)
    wait_for("the 2 prefixes", lambda: accepted(lab, pair.peer_ip) == 2)
    lab.vtysh("peer", f"clear bgp {pair.router_ip} soft out")
    wait_for("the max-prefix teardown", lambda: lab.neighbor_json(pair.peer_ip).get("prefixesConfigExceedMax") is True)
    assert lab.neighbor_json(pair.peer_ip)["bgpState"] != "Established"

    shown = press(bot, Action.REFRESH, v.id, "prefix limit exceeded")
    assert "Idle \u2014 prefix limit exceeded (1)" in shown  # the state as shown, not a plain Idle
    row = db_row(bot, v.id)
    assert row.bgp_state == "Idle" and row.last_error == "prefix limit exceeded (1)"


def test_delete_keeps_a_shared_filter_and_removes_it_with_its_last_user(lab_bot: tuple[RunningBot, Lab]) -> None:
    bot, lab = lab_bot
    name = seed(bot, [INSIDE])
    plain, md5 = lab.spares["v4"], lab.spares["v4_md5"]
    a = make_session(bot.core, ip=plain.peer_ip, asn=str(lab.peer.asn), name="Lab Shared A", as_set=AS_SET)
    b = make_session(bot.core, ip=md5.peer_ip, asn=str(lab.peer.asn), name="Lab Shared B", as_set=AS_SET,
                     md5=md5.md5)
    press(bot, Action.CONFIGURE, a.id)
    press(bot, Action.CONFIGURE, b.id)
    assert prefix_lists(lab)[name] == [f"seq 5 permit {INSIDE}"]  # one list for both

    text = press(bot, Action.DELETE, a.id, "deleted")
    assert f"inbound filter {name} kept: still used by #{b.id}" in text
    assert lab.neighbor_json(plain.peer_ip) == {} and name in prefix_lists(lab)
    wait_for("B still filtered", lambda: routes_from(lab, md5.peer_ip) == [INSIDE])

    text = press(bot, Action.DELETE, b.id, "deleted")
    assert f"no ip prefix-list {name}" in text and f"inbound filter {name} removed" in text
    assert lab.neighbor_json(md5.peer_ip) == {} and name not in prefix_lists(lab)
    assert db_row(bot, a.id) is None and db_row(bot, b.id) is None


def test_edit_of_the_as_set_switches_the_filter_and_removes_the_old_one(lab_bot: tuple[RunningBot, Lab]) -> None:
    """Edit (the wizard, through the change request) of a configured session's AS-SET and limit:
    afterwards R1 accepts only the new AS-SET's prefix and the old list is gone from its
    configuration."""
    from tests.integration.test_edit_lab import save_and_approve
    from tests.slack.test_edit import by_label, open_edit

    bot, lab = lab_bot
    pair = lab.spares["v4"]
    first = seed(bot, [INSIDE])
    other = "AS-LAB-OTHER"
    with bot.core.db.session() as s:
        s.add(AsSet(name=other, prefixes_v4=[OUTSIDE], prefixes_v6=[]))
    second = filter_name(other, 4, parse_entries([OUTSIDE]))
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab Edited Filter", as_set=AS_SET)
    press(bot, Action.CONFIGURE, v.id)
    lab.wait_state(pair.peer_ip, "Established", timeout=30)
    wait_for("the peer's announcements", lambda: {INSIDE, OUTSIDE} <= set(announced_by_peer(lab, pair)))
    wait_for("only the prefix inside the first AS-SET", lambda: routes_from(lab, pair.peer_ip) == [INSIDE])
    assert accepted(lab, pair.peer_ip) == 1

    w = open_edit(bot, v.id)
    w.next()
    w.next()
    w.next()
    view = w.next(as_set=other)
    shown = dump(view["blocks"])
    assert f"AS-SET: {AS_SET} → {other}" in shown and f"+ ip prefix-list {second} seq 5 permit {OUTSIDE}" in shown
    assert by_label(view)["Max prefixes IPv4"] == str(db_row(bot, v.id).max_prefixes_v4)
    assert w.submit(max_prefixes_v4="50")["response_action"] == "update"  # drawn again for the new limit
    assert f"+ neighbor {pair.peer_ip} maximum-prefix 50 90" in dump(w.view["blocks"])
    done = dump(save_and_approve(bot, w))
    assert f"Edited {pair.peer_ip} on edge1" in done and f"Old inbound filter {first} removed" in done

    config = lab.vtysh("r1", "show running-config")
    assert first not in config  # the old list, and any reference to it, is gone
    assert prefix_lists(lab)[second] == [f"seq 5 permit {OUTSIDE}"]
    assert f"neighbor {pair.peer_ip} prefix-list {second} in" in config
    assert f"neighbor {pair.peer_ip} maximum-prefix 50 90" in config
    # the peer still sends both; R1 now accepts only the prefix of the new AS-SET
    wait_for("the new filter applied", lambda: routes_from(lab, pair.peer_ip) == [OUTSIDE])
    assert {INSIDE, OUTSIDE} <= set(announced_by_peer(lab, pair)) and accepted(lab, pair.peer_ip) == 1
    assert lab.neighbor_json(pair.peer_ip)["bgpState"] == "Established"
    row = db_row(bot, v.id)
    assert row.as_set == other and row.prefix_filter == second and row.max_prefixes_v4 == 50 and row.configured
