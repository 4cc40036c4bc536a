"""Parsers on captured-style fixtures (FRR: real FRR 8.4 output)."""
from __future__ import annotations

import pytest

from bot.routers.base import NeighborState
from bot.routers.parsers import PARSERS, cisco_text, eos, frr, ios_xe, ios_xr, junos
from bot.routers.parsers.common import normalize_state, parse_duration

from .helpers import fixture


# ----------------------------------------------------------------------------- FRR (real samples)
def test_frr_all_neighbors_real_sample():
    result = frr.parse_neighbors(fixture("frr", "neighbors_all.json"))
    assert set(result) == {"192.0.2.2", "2001:db8::2"}
    v4 = result["192.0.2.2"]
    assert v4 == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=1, prefixes_accepted=1, prefixes_advertised=2, uptime_seconds=2,
        last_error=None, description="peer1-v4",
    )
    v6 = result["2001:db8::2"]
    assert (v6.state, v6.prefixes_accepted, v6.prefixes_advertised, v6.description) == ("Established", 1, 2, "peer1-v6")


def test_frr_established_single_neighbor():
    st = frr.parse_neighbors(fixture("frr", "neighbor_established.json"))["192.0.2.2"]
    assert st.is_established and not st.admin_down
    assert st.last_error is None  # the stale lastResetDueTo is not an error of a live session


def test_frr_admin_down_real_sample():
    st = frr.parse_neighbors(fixture("frr", "neighbor_admin_down.json"))["192.0.2.2"]
    assert st.state == "Idle"
    assert st.admin_down is True
    assert st.prefixes_accepted == 0
    assert st.prefixes_advertised is None  # FRR omits sentPrefixCounter when down
    assert st.last_error == "Admin. shutdown"
    assert st.uptime_seconds == 0


def test_frr_unknown_neighbor_gives_nothing():
    assert frr.parse_neighbors(fixture("frr", "neighbor_unknown.json")) == {}
    assert frr.parse_neighbors("") == {}


def test_frr_connect_and_admin_down_captured_from_bgpd():
    result = frr.parse_neighbors(fixture("frr", "neighbors_connect_and_admin_down.json"))
    down = result["192.0.2.99"]
    assert (down.state, down.admin_down, down.remote_asn) == ("Connect", False, 64509)
    assert down.last_error == "No AFI/SAFI activated for peer"
    assert down.uptime_seconds == 262
    shut = result["2001:db8::6"]
    assert (shut.state, shut.admin_down, shut.description) == ("Idle", True, "AS64501 v6")


def test_frr_summary_admin_state_text_normalises():
    # the summary shows "Idle (Admin)"; the FSM state is still Idle
    assert normalize_state("Idle (Admin)") == "Idle"


# ----------------------------------------------------------------------------- IOS-XE
def test_ios_xe_show_bgp_all_neighbors():
    result = ios_xe.parse_neighbors(fixture("ios-xe", "show_bgp_all_neighbors.txt"))
    assert set(result) == {"192.0.2.2", "192.0.2.10", "2001:db8::3"}  # v6 address normalised
    up = result["192.0.2.2"]
    assert up == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=12, prefixes_accepted=12, prefixes_advertised=3, uptime_seconds=93600,
        last_error=None, description="AS64501 Example Transit",
    )
    shut = result["192.0.2.10"]
    assert (shut.state, shut.admin_down, shut.prefixes_accepted) == ("Idle", True, 0)
    assert shut.last_error == "Admin. shutdown of session 1"
    assert shut.uptime_seconds == 312
    active = result["2001:db8::3"]
    assert (active.state, active.admin_down, active.remote_asn) == ("Active", False, 64503)
    assert active.last_error == "BGP Notification received of session 1, Hold Timer Expired"


def test_ios_xe_real_layout_with_tcp_details_asdot_and_vrf_twin():
    """The shape IOS-XE prints: TCP details at column 0 after each block, empty family headers,
    an asdot remote AS, and a VRF neighbor that reuses a global neighbor's address."""
    result = ios_xe.parse_neighbors(fixture("ios-xe", "show_bgp_all_neighbors_vrf.txt"))
    assert set(result) == {"192.0.2.2", "192.0.2.40"}
    assert result["192.0.2.2"] == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=12, prefixes_accepted=12, prefixes_advertised=3, uptime_seconds=93600,
        last_error=None, description="AS64501 Example Transit",
    )
    idle = result["192.0.2.40"]
    assert (idle.state, idle.admin_down, idle.remote_asn) == ("Idle", False, 65637)  # asdot 1.101
    assert (idle.last_error, idle.uptime_seconds) == ("Active open failed", 6 * 3600 + 6 * 60 + 59)


def test_ios_xe_neighbor_listed_under_two_families_counts_only_its_own_family():
    """`show bgp all neighbors` prints the whole block again under every family; the IPv6
    Unicast counters of an IPv4 session are neither added nor counted twice."""
    block = """BGP neighbor is 192.0.2.2,  remote AS 64501, external link
  BGP state = Established, up for 00:10:00
 For address family: IPv4 Unicast
    Prefixes Current:               3         12
 For address family: IPv6 Unicast
    Prefixes Current:               1          4
"""
    text = "For address family: IPv4 Unicast\n" + block + "\nFor address family: IPv6 Unicast\n" + block
    st = ios_xe.parse_neighbors(text)["192.0.2.2"]
    assert (st.prefixes_received, st.prefixes_advertised, st.uptime_seconds) == (12, 3, 600)


def test_ios_xe_multi_family_neighbors_count_the_session_family():
    """Like Junos (inet.0/inet6.0) and EOS (v6 counters): an IPv4 peer reports IPv4 Unicast,
    an IPv6 peer IPv6 Unicast; a peer with neither (VPNv4 + EVPN iBGP) the sum of its families."""
    result = ios_xe.parse_neighbors(fixture("ios-xe", "show_bgp_all_neighbors_multi_af.txt"))
    counts = {ip: (s.prefixes_received, s.prefixes_accepted, s.prefixes_advertised) for ip, s in result.items()}
    assert counts == {
        "192.0.2.2": (12, 12, 3),      # not + IPv6 Unicast 4/1
        "2001:db8::2": (7, 7, 2),      # not + IPv4 Unicast 5/3
        "10.0.0.9": (50, 50, 6),       # VPNv4 40/6 + L2VPN E-VPN 10/0
    }
    assert all(s.is_established for s in result.values())


# ----------------------------------------------------------------------------- IOS-XR
def test_ios_xr_show_bgp_neighbors():
    """Older XR layout (the one ntc-templates' TextFSM template was written for)."""
    result = ios_xr.parse_neighbors(fixture("ios-xr", "show_bgp_neighbors.txt"))
    assert set(result) == {"192.0.2.2", "192.0.2.10", "2001:db8::3"}
    up = result["192.0.2.2"]
    assert up == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=12, prefixes_accepted=12, prefixes_advertised=3, uptime_seconds=3 * 86400 + 4 * 3600,
        last_error=None, description="AS64501 Example Transit",
    )
    shut = result["192.0.2.10"]
    assert (shut.state, shut.admin_down) == ("Idle", True)
    assert shut.last_error.startswith("Admin. shutdown")
    idle = result["2001:db8::3"]
    assert (idle.state, idle.admin_down) == ("Idle", False)
    assert idle.last_error == "BGP Notification received: hold time expired"


def test_ios_xr_7_layout_with_message_stats_and_capability_table():
    """XR 6.x/7.x print "Entered Neighbor NSR TCP mode", an Adv/Rcvd capability table and
    "Message stats"; ntc-templates' TextFSM template stops with an error on the first of them."""
    result = ios_xr.parse_neighbors(fixture("ios-xr", "show_bgp_neighbors_xr7.txt"))
    assert set(result) == {"192.0.2.2", "192.0.2.10", "2001:db8::3"}
    assert result["192.0.2.2"] == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=12, prefixes_accepted=12, prefixes_advertised=3, uptime_seconds=9 * 86400,
        last_error=None, description="AS64501 Example Transit",
    )
    shut = result["192.0.2.10"]
    assert (shut.state, shut.admin_down, shut.remote_asn) == ("Idle", True, 64502)
    assert shut.last_error == "Admin. shutdown (CEASE notification sent - administrative shutdown)"
    down = result["2001:db8::3"]
    assert (down.state, down.admin_down, down.prefixes_accepted) == ("Active", False, 0)
    assert down.last_error == "BGP Notification received: hold time expired"


def test_ios_xr_multi_family_neighbors_count_the_session_family():
    """The same rule as IOS-XE: only the "For Address Family" section of the session's own
    transport counts; without one (VPNv4 + EVPN iBGP) the families are added up."""
    result = ios_xr.parse_neighbors(fixture("ios-xr", "show_bgp_neighbors_multi_af.txt"))
    assert result["192.0.2.2"] == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=12, prefixes_accepted=12, prefixes_advertised=3, uptime_seconds=4 * 86400 + 3 * 3600,
        last_error=None, description="AS64501 Example Transit",
    )  # not + IPv6 Unicast 4/1
    counts = {ip: (s.prefixes_received, s.prefixes_accepted, s.prefixes_advertised) for ip, s in result.items()}
    assert counts == {
        "192.0.2.2": (12, 12, 3),
        "2001:db8::2": (7, 7, 2),      # not + IPv4 Unicast 5/3
        "10.0.0.9": (50, 50, 6),       # VPNv4 40/6 + L2VPN EVPN 10/0
    }
    assert result["10.0.0.9"].remote_asn == 64500


def test_ios_xr_has_one_text_parser_and_no_textfsm(monkeypatch, caplog):
    """One parser for every XR release: no TextFSM attempt, no fallback, nothing to log."""
    import sys

    monkeypatch.setitem(sys.modules, "ntc_templates", None)  # importing either now fails
    monkeypatch.setitem(sys.modules, "ntc_templates.parse", None)
    monkeypatch.setitem(sys.modules, "textfsm", None)
    caplog.set_level("DEBUG", logger="bot.routers")
    for name in ("show_bgp_neighbors.txt", "show_bgp_neighbors_xr7.txt", "show_bgp_neighbors_multi_af.txt"):
        text = fixture("ios-xr", name)
        assert ios_xr.parse_neighbors(text) == cisco_text.parse_neighbors(text)
    assert not caplog.records


# ----------------------------------------------------------------------------- Junos
def test_junos_display_json():
    result = junos.parse_neighbors(fixture("junos", "show_bgp_neighbor.json"))
    assert set(result) == {"192.0.2.2", "192.0.2.10", "2001:db8::3"}  # "+179" port suffix removed
    up = result["192.0.2.2"]
    assert up == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=12, prefixes_accepted=11, prefixes_advertised=3, uptime_seconds=None,
        last_error=None, description="AS64501 Example Transit",
    )
    shut = result["192.0.2.10"]
    assert (shut.state, shut.admin_down, shut.last_error) == ("Idle", True, "Cease")
    active = result["2001:db8::3"]
    assert (active.state, active.admin_down, active.last_error) == ("Active", False, "Hold Timer Expired Error")
    assert active.prefixes_received is None


def _junos_peers(doc: dict) -> list[dict]:
    return doc["bgp-information"][0]["bgp-peer"]


def test_junos_reports_only_master_instance_peers():
    """`show bgp neighbor` lists the peers of every routing instance; peerbot manages the
    master instance (the global table) only, so VRF peers are not "our" neighbors."""
    result = junos.parse_neighbors(fixture("junos", "show_bgp_neighbor_instances.json"))
    assert set(result) == {"192.0.2.2", "192.0.2.20", "2001:db8::3"}  # not CUST-A's 198.51.100.9
    transit = result["192.0.2.2"]
    assert (transit.state, transit.remote_asn, transit.description) == ("Established", 64501, "AS64501 Example Transit")


@pytest.mark.parametrize("vrf_first", [False, True])
def test_junos_vrf_peer_with_the_same_address_never_replaces_the_master_one(vrf_first):
    import json

    doc = json.loads(fixture("junos", "show_bgp_neighbor_instances.json"))
    peers = _junos_peers(doc)
    vrf_twin = next(p for p in peers if p["peer-cfg-rti"][0]["data"] == "CUST-A"
                    and p["peer-address"][0]["data"] == "192.0.2.2")
    peers.remove(vrf_twin)
    peers.insert(0 if vrf_first else len(peers), vrf_twin)
    st = junos.parse_neighbors(json.dumps(doc))["192.0.2.2"]
    assert (st.state, st.remote_asn, st.prefixes_received) == ("Established", 64501, 12)


def test_junos_counts_only_the_primary_table_of_the_session_family():
    """Secondary tables (rib-group copies, EVPN instance tables: no rib-bit, "not advertising")
    repeat the same routes; summing them tripled an EVPN peer's 5 routes to 15."""
    result = junos.parse_neighbors(fixture("junos", "show_bgp_neighbor_instances.json"))
    counts = {ip: (s.prefixes_received, s.prefixes_accepted, s.prefixes_advertised) for ip, s in result.items()}
    assert counts == {
        "192.0.2.2": (12, 11, 3),      # inet.0; the TRANSIT-LEAK.inet.0 copy is not counted
        "192.0.2.20": (5, 5, 15),      # bgp.evpn.0 only (no inet.0/inet6.0 on an EVPN session)
        "2001:db8::3": (7, 7, 2),      # inet6.0
    }


def test_junos_other_primary_tables_of_a_session_are_not_added_to_its_family():
    """A v4 session that also carries inet6/flow routes: peerbot's session is the inet.0 one."""
    import json

    doc = json.loads(fixture("junos", "show_bgp_neighbor_instances.json"))
    transit = next(p for p in _junos_peers(doc) if p["peer-address"][0]["data"] == "192.0.2.2+179")
    extra = json.loads(json.dumps(transit["bgp-rib"][0]))
    extra["name"] = [{"data": "inet6.0"}]
    extra["rib-bit"] = [{"data": "40000"}]
    transit["bgp-rib"].append(extra)
    st = junos.parse_neighbors(json.dumps(doc))["192.0.2.2"]
    assert (st.prefixes_received, st.prefixes_accepted, st.prefixes_advertised) == (12, 11, 3)


# ----------------------------------------------------------------------------- EOS
def test_eos_show_ip_bgp_neighbors_json():
    result = eos.parse_neighbors(fixture("eos", "show_ip_bgp_neighbors.json"))
    assert set(result) == {"192.0.2.2", "192.0.2.10", "192.0.2.30"}
    assert result["192.0.2.2"] == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=12, prefixes_accepted=12, prefixes_advertised=3, uptime_seconds=93784,
        last_error=None, description="AS64501 Example Transit",
    )
    shut = result["192.0.2.10"]
    assert (shut.state, shut.admin_down, shut.last_error) == ("Idle", True, "Administratively shut down")
    active = result["192.0.2.30"]
    assert (active.state, active.admin_down) == ("Active", False)
    assert active.last_error == "Cease/connection rejected"  # establishFailHint


def test_eos_ipv6_peer_counts_come_from_the_v6_counters():
    """EOS fills prefixesReceived/Sent for IPv4 unicast and v6PrefixesReceived/Sent for IPv6
    unicast; an IPv6 session showed 0 received when only the first pair was read."""
    result = eos.parse_neighbors(fixture("eos", "show_ipv6_bgp_peers.json"))
    assert set(result) == {"2001:db8::2", "2001:db8::3"}
    v6 = result["2001:db8::2"]
    assert (v6.state, v6.prefixes_received, v6.prefixes_accepted, v6.prefixes_advertised) == ("Established", 7, 7, 2)
    assert v6.last_error is None  # the collision "Cease" is history once the session is up
    down = result["2001:db8::3"]
    assert (down.state, down.admin_down) == ("Active", False)
    assert down.last_error == "Hold Timer Expired Error/Unspecified"  # lastErrorRcvdCode/Subcode


def test_eos_only_the_default_vrf_is_read():
    import json

    doc = json.loads(fixture("eos", "show_ip_bgp_neighbors.json"))
    twin = json.loads(json.dumps(doc["vrfs"]["default"]["peerList"][0]))
    twin.update(asn="65010", state="Active", vrf="CUST-A")
    doc["vrfs"]["CUST-A"] = {"peerList": [twin]}
    st = eos.parse_neighbors(json.dumps(doc))["192.0.2.2"]
    assert (st.state, st.remote_asn) == ("Established", 64501)


def test_eos_no_bgp_or_no_peers():
    assert eos.parse_neighbors('{"vrfs": {}}') == {}
    assert eos.parse_neighbors('{"vrfs": {"default": {"peerList": []}}}') == {}


# ----------------------------------------------------------------------------- shared
def test_every_platform_has_a_parser():
    from bot.routers.base import Platform

    assert set(PARSERS) == set(Platform)


@pytest.mark.parametrize("raw,expected", [
    ("Established", "Established"), ("ESTABLISHED", "Established"), ("Idle (Admin)", "Idle"),
    ("Idle (PfxCt)", "Idle"), ("Active", "Active"), ("OpenSent", "OpenSent"), ("openconfirm", "OpenConfirm"),
    ("Connect", "Connect"), ("Clearing", "Idle"), ("", "Idle"), (None, "Idle"),
])
def test_normalize_state(raw, expected):
    assert normalize_state(raw) == expected


@pytest.mark.parametrize("text,seconds", [
    ("00:05:12", 312), ("1d02h", 93600), ("3w2d", 23 * 86400), ("1y2w", 379 * 86400),
    ("2d 3:04:05", 2 * 86400 + 11045), ("12:34", 754), ("never", None), ("bogus", None), ("", None),
])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


def test_cisco_text_skips_vrf_neighbors():
    """`show bgp all neighbors` lists VRF peers too; one with the same address is not ours."""
    from bot.routers.parsers.cisco_text import parse_neighbors

    text = (
        "BGP neighbor is 192.0.2.50,  vrf CUST-A,  remote AS 65001, external link\n"
        "  BGP state = Established, up for 1d02h\n"
        "BGP neighbor is 192.0.2.51,  remote AS 65002, external link\n"
        "  BGP state = Idle, down for 00:05:12\n"
    )
    result = parse_neighbors(text)
    assert set(result) == {"192.0.2.51"} and result["192.0.2.51"].state == "Idle"
