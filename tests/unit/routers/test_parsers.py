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


def test_ios_xe_neighbor_listed_under_two_families_is_counted_once_per_family():
    block = """BGP neighbor is 192.0.2.2,  remote AS 64501, external link
  BGP state = Established, up for 00:10:00
 For address family: IPv4 Unicast
    Prefixes Current:               3         12
 For address family: IPv6 Unicast
    Prefixes Current:               1          4
"""
    text = "For address family: IPv4 Unicast\n" + block + "\nFor address family: IPv6 Unicast\n" + block
    st = ios_xe.parse_neighbors(text)["192.0.2.2"]
    assert (st.prefixes_received, st.prefixes_advertised, st.uptime_seconds) == (16, 4, 600)


# ----------------------------------------------------------------------------- IOS-XR
def test_ios_xr_show_bgp_neighbors_textfsm():
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


def test_ios_xr_falls_back_to_regex_when_textfsm_rejects_a_line():
    text = fixture("ios-xr", "show_bgp_neighbors.txt").replace(
        "  Cumulative no. of prefixes denied: 2. \n",
        "  Exact no. of prefixes denied : 0.\n  Cumulative no. of prefixes denied: 2. \n")
    via_regex = cisco_text.parse_neighbors(text)
    assert ios_xr.parse_neighbors(text) == via_regex
    assert via_regex["192.0.2.2"].prefixes_accepted == 12
    assert via_regex["192.0.2.10"].admin_down is True
    assert via_regex["2001:db8::3"].state == "Idle"


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


# ----------------------------------------------------------------------------- EOS
def test_eos_show_ip_bgp_neighbors_json():
    now = 1764152243.0
    result = eos.parse_neighbors(fixture("eos", "show_ip_bgp_neighbors.json"), now=now)
    up = result["192.0.2.2"]
    assert up == NeighborState(
        peer_ip="192.0.2.2", state="Established", admin_down=False, remote_asn=64501,
        prefixes_received=12, prefixes_accepted=11, prefixes_advertised=3, uptime_seconds=93784,
        last_error=None, description="AS64501 Example Transit",
    )
    shut = result["192.0.2.10"]
    assert (shut.state, shut.admin_down, shut.last_error) == ("Idle", True, "Administratively shut down")
    assert shut.uptime_seconds == 312
    active = result["2001:db8::3"]
    assert (active.state, active.admin_down) == ("Active", False)
    assert active.last_error == "Hold Timer Expired Error/Unspecified"
    assert active.uptime_seconds == 2467


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
