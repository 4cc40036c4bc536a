"""Parsers on output captured from real routers (tests/fixtures/routers/<platform>/real/, sources in
the README next to each file). Expected values are read from the captures by hand.
"""
from __future__ import annotations

import json
import logging

import pytest

from bot.routers.base import NeighborState, RouterError
from bot.routers.parsers import cisco_text, eos, frr, ios_xe, ios_xr, junos
from bot.routers.parsers.common import ParseError

from .helpers import fixture
from .junos_xml import junos_xml_to_json

W, D, H = 7 * 86400, 86400, 3600
Y = 365 * D


def real(platform: str, name: str) -> str:
    return fixture(platform, f"real/{name}")


def summary(result: dict[str, NeighborState]) -> dict[str, tuple]:
    """(state, admin_down, remote_asn, received, advertised) per neighbor."""
    return {ip: (s.state, s.admin_down, s.remote_asn, s.prefixes_received, s.prefixes_advertised)
            for ip, s in result.items()}


# ----------------------------------------------------------------------------- IOS-XE / IOS
def test_ios_napalm_ipv4_unicast_neighbors_idle_admin_shut_and_week_uptimes():
    result = ios_xe.parse_neighbors(real("ios-xe", "napalm_normal_show_bgp_ipv4_unicast_neighbors.txt"))
    assert summary(result) == {
        "10.0.0.2": ("Established", False, 65000, 3142, 637213),   # IPv4 Unicast; its IPv6 section is not added
        "10.0.0.3": ("Established", False, 65000, 1, 966),
        "192.168.0.1": ("Established", False, 65001, 0, 709),
        "192.168.0.2": ("Idle", False, 65002, 0, 0),
        "192.168.0.3": ("Idle", True, 65003, 0, 0),             # "Administratively shut down"
        "192.168.0.4": ("Established", False, 65004, 629700, 213),
    }
    assert result["10.0.0.2"].uptime_seconds == 8 * W
    assert result["10.0.0.3"].uptime_seconds == D + 13 * H
    assert result["192.168.0.4"].uptime_seconds == 26 * W + 6 * D
    assert result["192.168.0.3"].description == "external-3"
    idle = result["192.168.0.2"]
    assert (idle.uptime_seconds, idle.last_error) == (None, None)  # "BGP state = Idle", "Last reset never"


def test_ios_napalm_ipv6_transport_neighbors_upper_case_addresses():
    result = ios_xe.parse_neighbors(real("ios-xe", "napalm_normal_show_bgp_ipv6_unicast_neighbors.txt"))
    assert {"2001:db8::1", "2001:db8::2", "2001:db8::3", "2001:db8::4"} <= set(result)  # "2001:DB8::4" normalised
    assert summary(result)["2001:db8::4"] == ("Established", False, 65004, 36387, 29)
    assert summary(result)["2001:db8::2"] == ("Established", False, 65002, 1, 36)
    assert summary(result)["2001:db8::3"] == ("Idle", True, 65003, 0, 0)
    assert result["2001:db8::4"].uptime_seconds == 26 * W + 6 * D
    assert result["2001:db8::2"].last_error is None  # "Last reset 17w5d, due to Active open failed" is history
    assert summary(result)["10.0.0.2"] == ("Established", False, 65000, 3142, 637213)  # IPv4 peer: IPv4 Unicast


def test_ios_ntc_multiple_vrf_peer_skipped_descriptions_with_spaces():
    result = ios_xe.parse_neighbors(real("ios-xe", "ntc_show_ip_bgp_neighbors_multiple.raw"))
    assert "175.135.172.146" not in result  # "vrf DEV" (one space after the comma)
    assert summary(result)["42.116.171.166"] == ("Established", False, 65182, 9, 566)
    assert result["42.116.171.166"].uptime_seconds == 38 * W + 4 * D
    down = result["191.113.218.187"]
    assert (down.state, down.admin_down, down.prefixes_received) == ("Idle", False, 0)
    assert down.last_error == "BGP Notification received, no supported AFI/SAFI"
    flapped = result["87.90.154.72"]
    assert flapped.description == "nsxe-ent-l3ce1 (CASR1001-ET-01 gm73688) direct"
    assert (flapped.state, flapped.last_error) == ("Idle", "Interface flap of session 1")
    assert summary(result)["72.37.28.119"] == ("Established", False, 18830, 5, 0)
    assert len(result) == 11


def test_ios_xe_genie_indented_capture_with_vrfs_and_no_counters():
    """Every line indented by 8 (as stored by genieparser); VPNv4/VPNv6 iBGP peers, VRF peers
    (skipped, one of them admin-shut), no per-family counters printed."""
    result = ios_xe.parse_neighbors(real("ios-xe", "genie_show_bgp_all_neighbors_golden4.txt"))
    assert summary(result) == {
        "10.16.2.2": ("Established", False, 100, None, None),
        "10.36.3.3": ("Established", False, 100, None, None),
        "10.64.4.4": ("Established", False, 100, None, None),
        "10.100.5.5": ("Established", False, 100, None, None),
    }
    assert result["10.16.2.2"].uptime_seconds == 1 * H + 10 * 60 + 35
    assert result["10.64.4.4"].description == "router2222222"


def test_ios_xe_genie_idle_neighbor_without_family_sections():
    result = ios_xe.parse_neighbors(real("ios-xe", "genie_show_bgp_all_neighbors_golden5.txt"))
    assert summary(result) == {
        "10.136.199.57": ("Idle", False, 209, None, None),
        "172.16.0.2": ("Established", False, 10, None, None),
    }
    assert result["172.16.0.2"].uptime_seconds == 8 * H + 59 * 60 + 32
    assert result["10.136.199.57"].last_error is None  # "Last reset never"


def test_ios_xe_genie_asdot_remote_as_with_prompt_line():
    result = ios_xe.parse_neighbors(real("ios-xe", "genie_show_bgp_all_neighbors_golden6.txt"))
    assert summary(result) == {"10.4.11.2": ("Established", False, 101 * 65536 + 101, None, None)}
    assert result["10.4.11.2"].uptime_seconds == 7 * H + 58 * 60 + 19


def test_ios_xe_genie_only_a_vrf_neighbor_is_an_empty_default_table():
    """4-byte ASNs and a local-AS replace-as line, but the neighbor is in a VRF: recognised output,
    nothing of the default table (not a parse error)."""
    assert ios_xe.parse_neighbors(real("ios-xe", "genie_show_bgp_all_neighbors_golden7.txt")) == {}


def test_ios_xe_genie_whitespace_stripped_capture():
    """A paste with every line's indentation stripped: the state and description lines start at
    column 0 like the header (the parser required indentation and reported this peer as a guessed Idle
    with no ASN-independent detail)."""
    st = ios_xe.parse_neighbors(real("ios-xe", "genie_show_bgp_all_neighbors_golden8.txt"))["100.64.0.1"]
    assert st == NeighborState(
        peer_ip="100.64.0.1", state="Idle", admin_down=False, remote_asn=65637,  # asdot 1.101
        prefixes_received=None, prefixes_accepted=None, prefixes_advertised=None,
        uptime_seconds=6 * H + 6 * 60 + 59, last_error="Active open failed", description="svs-fc-agg-t1-a-1",
    )


def test_ios_xe_genie_four_byte_asn_evpn_only_session_and_description_with_spaces():
    st = ios_xe.parse_neighbors(real("ios-xe", "genie_show_ip_bgp_neighbors_golden6.txt"))["10.37.176.11"]
    assert st == NeighborState(
        peer_ip="10.37.176.11", state="Established", admin_down=False, remote_asn=4200006053,
        prefixes_received=57, prefixes_accepted=57, prefixes_advertised=71,  # L2VPN E-VPN: its only family
        uptime_seconds=18 * H + 53 * 60 + 19, last_error=None, description="BGP EVPN PEERS",
    )


def test_ios_xe_genie_whitespace_collapsed_paste_without_comma_before_up_for():
    st = ios_xe.parse_neighbors(real("ios-xe", "genie_show_bgp_neighbors_golden3.txt"))["34.0.0.1"]
    assert (st.state, st.remote_asn, st.uptime_seconds) == ("Established", 200, 26)  # "Established up for 00:00:26"
    assert (st.prefixes_received, st.prefixes_advertised) == (0, 0)  # "Prefixes Current: 0 0"


# ----------------------------------------------------------------------------- IOS-XR
def test_ios_xr_ntc_route_reflectors_vpn_only_and_opensent():
    result = ios_xr.parse_neighbors(real("ios-xr", "ntc_show_bgp_neighbors.raw"))
    assert summary(result) == {
        "192.168.100.1": ("Established", False, 65001, 847583, 170),
        "192.168.100.2": ("Established", False, 65001, 847585, 170),
        "192.168.0.1": ("Established", False, 65001, 4713, 889),   # VPNv4 + VPNv6 + IPv4 MDT (no IPv4 Unicast)
        "192.168.0.2": ("Established", False, 65001, 4710, 5803),
        "10.0.0.42": ("OpenSent", False, 65001, 0, 0),
        "10.0.0.124": ("Established", False, 65012, 5836, 0),
        "1:1:1::1": ("Established", False, 65001, 59216, 1),
        "1:1:34::242": ("Established", False, 65001, 59216, 1),
    }
    assert result["192.168.100.1"].uptime_seconds == 2 * W + 3 * D
    assert result["192.168.0.2"].uptime_seconds == 3 * W + 2 * D
    assert result["192.168.100.1"].description == "RouteReflector_1"
    assert result["10.0.0.42"].last_error == "Peer closing down the session"
    assert result["10.0.0.124"].description is None


def test_ios_xr_ntc_year_uptimes_admin_shut_v4_and_v6():
    result = ios_xr.parse_neighbors(real("ios-xr", "ntc_show_bgp_neighbors1.raw"))
    assert len(result) == 20
    assert result["10.0.0.1"].uptime_seconds == 43 * W
    assert result["192.168.100.1"].uptime_seconds == 3 * Y + 44 * W
    assert result["192.168.100.1"].description == "pe01"  # trailing blank dropped
    assert result["2001:e01a:204::1"].uptime_seconds == 4 * Y + 10 * W
    assert summary(result)["10.0.0.1"] == ("Established", False, 65011, 1128, 473031161)
    assert summary(result)["2001:e01a:204::1"] == ("Established", False, 65011, 2, 666059645)
    assert summary(result)["2001:fec0::987"] == ("Established", False, 65011, 62232, 15)
    shut = result["10.100.100.124"]
    assert (shut.state, shut.admin_down, shut.description) == ("Idle", True, "Another Router")  # "Idle (Neighbor is shutdown)"
    assert shut.last_error == "Admin. shutdown (CEASE notification sent - administrative shutdown)"
    assert {ip for ip, s in result.items() if s.admin_down} == {"10.100.100.124", "2001:fec0::7fa", "2001:fec0::7fb"}
    assert {ip for ip, s in result.items() if not s.is_established} == {"10.100.100.124", "2001:fec0::7fa", "2001:fec0::7fb"}


def test_ios_xr_neighbor_cut_off_before_its_state_line_is_skipped_and_logged(caplog):
    """A capture cut short (read timeout, pager) must not turn the last neighbor into a guessed Idle."""
    text = real("ios-xr", "ntc_show_bgp_neighbors.raw")
    cut = text[: text.index("BGP neighbor is 1:1:34::242")] + "BGP neighbor is 1:1:34::242\n Remote AS 65001, local AS 65001, internal link\n"
    with caplog.at_level(logging.WARNING, logger="bot.routers"):
        result = ios_xr.parse_neighbors(cut)
    assert "1:1:34::242" not in result and result["1:1:1::1"].is_established
    assert "1:1:34::242" in caplog.text


# ----------------------------------------------------------------------------- Cisco text: not a neighbor list
def test_cisco_text_other_output_is_a_parse_error_not_all_neighbors_gone():
    for text in (fixture("frr", "summary_admin_down.txt"),  # `show bgp summary`, a real FRR capture
                 "Translating \"show\"\n% Unknown command or computer name, or unable to find computer address\n",
                 "BGP not active\n"):
        with pytest.raises(ParseError):
            cisco_text.parse_neighbors(text)


def test_cisco_text_no_neighbors_is_empty():
    assert cisco_text.parse_neighbors("") == {}
    assert cisco_text.parse_neighbors("For address family: IPv4 Unicast\n\nFor address family: IPv6 Unicast\n") == {}
    assert cisco_text.parse_neighbors("Sun Nov 11 05:46:16.280 GMT\n\n") == {}  # XR prints the time first
    assert cisco_text.parse_neighbors("router#show bgp all neighbors\n") == {}


def test_cisco_text_pager_artifacts_are_removed():
    """A capture taken with paging on: the pager prompt and the backspaces that erase it sit at the
    start of the next line (here inserted into a real capture)."""
    text = real("ios-xe", "napalm_normal_show_bgp_ipv4_unicast_neighbors.txt")
    pager = " --More-- " + "\b" * 10 + " " * 10 + "\b" * 10
    paged = "\n".join(pager + ln if i % 24 == 23 else ln for i, ln in enumerate(text.splitlines()))
    assert ios_xe.parse_neighbors(paged) == ios_xe.parse_neighbors(text)


# ----------------------------------------------------------------------------- Junos
def junos_real(name: str) -> str:
    return junos_xml_to_json(real("junos", name))


def test_junos_napalm_transit_peers_4_byte_local_as_release():
    result = junos.parse_neighbors(junos_real("napalm_normal_get-bgp-neighbor-information.xml"))
    assert set(result) == {"192.168.100.1", "172.17.17.1"}  # "+50877" port removed
    up = result["172.17.17.1"]
    assert up == NeighborState(
        peer_ip="172.17.17.1", state="Established", admin_down=False, remote_asn=1299,
        prefixes_received=567162, prefixes_accepted=566998, prefixes_advertised=111, uptime_seconds=None,
        last_error=None, description=None,
    )
    other = result["192.168.100.1"]
    assert (other.remote_asn, other.prefixes_received, other.last_error) == (4436, 567257, None)  # "Cease" is history


def test_junos_13x_instance_peers_without_peer_cfg_rti_are_not_master_peers():
    """Junos 13.x prints no peer-cfg-rti: the peers whose tables are frontend.inet.0/.inet6.0 are
    the "frontend" instance's and were reported as global neighbors."""
    result = junos.parse_neighbors(junos_real("napalm_pr_581_get-bgp-neighbor-information.xml"))
    assert set(result) == {"192.168.2.15"}
    st = result["192.168.2.15"]
    # inet.0 only: bgp.l3vpn.0/inet6.0 are other families, vrf.inet.0/vrf2.inet.0 rib-group copies
    assert (st.state, st.remote_asn, st.prefixes_received, st.prefixes_accepted, st.prefixes_advertised) == \
        ("Established", 65002, 2, 2, 1)


def test_junos_evpn_fabric_peers_with_descriptions_and_copy_tables():
    result = junos.parse_neighbors(junos_real("napalm_use-send-state-pr209_get-bgp-neighbor-information.xml"))
    counts = {ip: (s.prefixes_received, s.prefixes_accepted, s.prefixes_advertised) for ip, s in result.items()}
    assert counts == {
        "10.92.51.2": (3, 3, 6),
        "10.92.52.2": (4, 4, 5),
        "10.92.99.91": (5, 5, 15),   # bgp.evpn.0; default-switch/__default_evpn__ copies not added
        "10.92.99.92": (3, 3, 17),
    }
    assert result["10.92.51.2"].description == "Leaf1_Underlay"
    assert {s.remote_asn for s in result.values()} == {65001, 65002, 65005}
    assert all(s.is_established and not s.admin_down for s in result.values())


def test_junos_dual_re_prompt_line_around_the_json_is_ignored():
    """On a dual-RE router the CLI prints "{master:0}" above the prompt; netmiko keeps it."""
    doc = junos_real("napalm_normal_get-bgp-neighbor-information.xml")
    assert set(junos.parse_neighbors(doc + "\n\n{master:0}\n")) == {"192.168.100.1", "172.17.17.1"}
    assert set(junos.parse_neighbors("{master:0}\n" + doc)) == {"192.168.100.1", "172.17.17.1"}


def test_junos_unrecognised_output_is_a_parse_error():
    with pytest.raises(ParseError):
        junos.parse_neighbors(real("eos", "napalm_normal_show_ip_bgp_neighbors_vrf_all.json"))
    with pytest.raises(ParseError):
        junos.parse_neighbors("error: syntax error, expecting <command>: neighbour\n")
    with pytest.raises(ParseError):
        junos.parse_neighbors('{"bgp-information": [{"bgp-peer": [')  # cut off


# ----------------------------------------------------------------------------- EOS
def test_eos_napalm_ipv4_established_and_active():
    result = eos.parse_neighbors(real("eos", "napalm_normal_show_ip_bgp_neighbors_vrf_all.json"))
    assert result == {
        "10.0.0.1": NeighborState(
            peer_ip="10.0.0.1", state="Established", admin_down=False, remote_asn=65002,
            prefixes_received=3, prefixes_accepted=3, prefixes_advertised=4, uptime_seconds=121,
            last_error=None, description=None),
        "10.0.0.3": NeighborState(
            peer_ip="10.0.0.3", state="Active", admin_down=False, remote_asn=65003,
            prefixes_received=0, prefixes_accepted=0, prefixes_advertised=0, uptime_seconds=None,
            last_error="Cease/connection rejected", description=None),
    }


def test_eos_napalm_ipv6_peers():
    result = eos.parse_neighbors(real("eos", "napalm_normal_show_ipv6_bgp_peers_vrf_all.json"))
    assert summary(result) == {
        "2001:fb8:100::2": ("Established", False, 65002, 3, 4),
        "2001:fb8:200::2": ("Established", False, 65003, 0, 5),
    }
    assert result["2001:fb8:200::2"].last_error is None  # lastErrorCode "Cease" of an Established peer
    assert result["2001:fb8:100::2"].uptime_seconds == 165


def test_eos_napalm_link_local_unnumbered_peers_with_asdot():
    result = eos.parse_neighbors(real("eos", "napalm_issue1759_show_ipv6_bgp_peers_vrf_all.json"))
    assert summary(result) == {
        "fe80::a8c1:abff:fe94:4171%Et3": ("Established", False, 65001 * 65536 + 1028, 3, 9),
        "fe80::a8c1:abff:fea1:b618%Et2": ("Established", False, 65001 * 65536 + 1027, 5, 8),
        "fe80::a8c1:abff:fedc:fb58%Et1": ("Established", False, 65001 * 65536 + 1026, 6, 5),
    }
    assert eos.parse_neighbors(real("eos", "napalm_issue1759_show_ip_bgp_neighbors_vrf_all.json")) == {}


@pytest.mark.parametrize("name", [
    "napalm_nobgp_show_ip_bgp_neighbors_vrf_all.json", "napalm_nobgp_show_ipv6_bgp_peers_vrf_all.json",
    "napalm_nopeers_show_ip_bgp_neighbors_vrf_all.json", "napalm_nopeers_show_ipv6_bgp_peers_vrf_all.json",
])
def test_eos_napalm_no_bgp_and_no_peers_are_empty(name):
    assert eos.parse_neighbors(real("eos", name)) == {}


def test_eos_unrecognised_output_is_a_parse_error():
    with pytest.raises(ParseError):
        eos.parse_neighbors(fixture("frr", "neighbors_all.json"))  # JSON, but FRR's
    with pytest.raises(ParseError):
        eos.parse_neighbors("BGP inactive\n")


def test_eos_peer_without_address_is_skipped_and_logged(caplog):
    doc = json.loads(real("eos", "napalm_normal_show_ip_bgp_neighbors_vrf_all.json"))
    del doc["vrfs"]["default"]["peerList"][1]["peerAddress"]
    with caplog.at_level(logging.WARNING, logger="bot.routers"):
        assert set(eos.parse_neighbors(json.dumps(doc))) == {"10.0.0.1"}
    assert "skipped" in caplog.text


# ----------------------------------------------------------------------------- FRR / driver
def test_frr_non_object_json_is_a_parse_error():
    with pytest.raises(ParseError):
        frr.parse_neighbors("[]")
    with pytest.raises(ParseError):
        frr.parse_neighbors("% Unknown command: show bgp neighbors json\n")


def test_parse_error_is_a_router_error():
    assert issubclass(ParseError, RouterError)


def test_cisco_text_dynamic_listen_range_peer_is_read():
    """IOS marks a peer accepted through `bgp listen range` with "*" before its address."""
    text = real("ios-xe", "genie_show_bgp_all_neighbors_golden6.txt").replace(
        "BGP neighbor is 10.4.11.2,", "BGP neighbor is *10.4.11.2,")
    assert ios_xe.parse_neighbors(text)["10.4.11.2"].is_established


def test_junos_asdot_peer_as():
    doc = json.loads(junos_real("napalm_normal_get-bgp-neighbor-information.xml"))
    doc["bgp-information"][0]["bgp-peer"][0]["peer-as"] = [{"data": "1.10"}]
    assert junos.parse_neighbors(json.dumps(doc))["192.168.100.1"].remote_asn == 65546


# ----------------------------------------------------------------------------- through the driver
@pytest.mark.parametrize("platform,output", [
    ("ios-xe", "Translating \"show\"\nUnknown command or computer name\n"),
    ("ios-xr", "Sun Nov 11 05:46:16.280 GMT\nBGP is not configured\n"),
    ("junos", '{"route-information": []}'),
    ("eos", '{"errors": ["BGP inactive"]}'),
])
def test_driver_reports_unrecognised_output_as_router_error_with_the_reason(platform, output):
    from bot.routers.base import Platform

    from .test_driver import FakeConnection, driver_with

    d, _ = driver_with(FakeConnection(output=output), Platform(platform))
    with pytest.raises(RouterError, match=r"r1\.example\.net: could not parse the BGP neighbor output \(.*(no|has no) "):
        d.neighbors()


def test_driver_reads_real_xr_capture():
    from bot.routers.base import Platform

    from .test_driver import FakeConnection, driver_with

    d, _ = driver_with(FakeConnection(output=real("ios-xr", "ntc_show_bgp_neighbors1.raw")), Platform.IOS_XR)
    assert len(d.neighbors()) == 20 and d.neighbor("2001:FEC0::7FA").admin_down
