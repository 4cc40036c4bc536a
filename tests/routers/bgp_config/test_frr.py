"""FRR: the 8.4 running-config fixture, field by field."""
from __future__ import annotations

from bot.base.redact import MASK
from bot.routers.base import Platform
from bot.routers.bgp_config import parse_bgp_config
from bot.routers.bgp_config.model import ConfiguredNeighbor

from tests.routers.bgp_config.helpers import fixture, parse

CONFIG = "frr84_show_running_config.txt"


def test_frr_neighbors_exact() -> None:
    config = parse(Platform.FRR, CONFIG)
    assert config.local_asn == 65001
    assert config.skipped == ()
    # the peer group is a group, the VRF's neighbor is not mixed in
    assert sorted(config.neighbors) == ["192.0.2.10", "192.0.2.6", "198.18.0.1", "2001:db8:1::2"]
    assert config.neighbors["192.0.2.6"] == ConfiguredNeighbor(
        peer_ip="192.0.2.6", remote_asn=64500, description="AS64500 transit;\tprimary",
        peer_group="TRANSIT", families=("ipv4-unicast",), inbound_filter="AS64500-IN",
        filter_kind="prefix-list", filter_entries=("198.51.100.0/24", "203.0.113.0/24 ge 25 le 26"),
        max_prefixes=100, max_prefix_warn=90, max_prefix_restart=5)
    assert config.neighbors["192.0.2.10"] == ConfiguredNeighbor(
        peer_ip="192.0.2.10", remote_asn=64502, local_asn=65010, password_set=True,
        families=("ipv4-unicast",), inbound_filter="RM-IN", filter_kind="route-map",
        filter_entries=None, max_prefixes=50, max_prefix_warning_only=True)
    assert config.neighbors["198.18.0.1"] == ConfiguredNeighbor(
        peer_ip="198.18.0.1", remote_asn=65546, families=("ipv4-unicast",), admin_down=True)
    assert config.neighbors["2001:db8:1::2"] == ConfiguredNeighbor(
        peer_ip="2001:db8:1::2", remote_asn=64501, description="v6 peer", families=("ipv6-unicast",),
        inbound_filter="AS64501-V6", filter_kind="prefix-list", filter_entries=("2001:db8:100::/40 le 48",),
        max_prefixes=200)


def test_frr_lines_mask_the_password() -> None:
    config = parse(Platform.FRR, CONFIG)
    lines = config.neighbors["192.0.2.10"].lines
    assert lines == (
        " neighbor 192.0.2.10 remote-as 64502",
        f" neighbor 192.0.2.10 password {MASK}",
        " neighbor 192.0.2.10 local-as 65010 no-prepend replace-as",
        " address-family ipv4 unicast",
        "  neighbor 192.0.2.10 route-map RM-IN in",
        "  neighbor 192.0.2.10 maximum-prefix 50 warning-only",
    )
    everything = repr(config)
    assert "lab-md5-secret" not in everything


def test_frr_no_default_ipv4_unicast() -> None:
    text = fixture("frr", CONFIG).replace(" no bgp ebgp-requires-policy", " no bgp default ipv4-unicast")
    config = parse_bgp_config(Platform.FRR, {"show running-config": text})
    assert config.neighbors["198.18.0.1"].families == ()
    assert config.neighbors["192.0.2.6"].families == ()
    assert config.neighbors["2001:db8:1::2"].families == ("ipv6-unicast",)


def test_frr_deny_in_the_middle_makes_entries_unknown() -> None:
    text = fixture("frr", CONFIG).replace("prefix-list AS64500-IN in", "prefix-list MIXED in")
    config = parse_bgp_config(Platform.FRR, {"show running-config": text})
    assert config.neighbors["192.0.2.6"].inbound_filter == "MIXED"
    assert config.neighbors["192.0.2.6"].filter_entries is None


def test_frr_undefined_prefix_list_entries_unknown() -> None:
    text = fixture("frr", CONFIG).replace("prefix-list AS64500-IN in", "prefix-list NOWHERE in")
    config = parse_bgp_config(Platform.FRR, {"show running-config": text})
    assert config.neighbors["192.0.2.6"].filter_entries is None


def test_frr_interface_neighbor_and_remote_as_internal() -> None:
    text = "router bgp 65001\n neighbor swp1 interface remote-as external\n neighbor 10.0.0.1 remote-as internal\n"
    config = parse_bgp_config(Platform.FRR, {"show running-config": text})
    assert config.neighbors["10.0.0.1"].remote_asn == 65001
    assert [(s.peer, s.reason) for s in config.skipped] == [("swp1", "'swp1': an interface (unnumbered) neighbor")]


def test_frr_lab_capture() -> None:
    """A real `show running-config` of FRR 8.4.4 (the lab's R1 after hand-made neighbors)."""
    config = parse(Platform.FRR, "lab_frr844_show_running_config.txt")
    assert config.local_asn == 64500 and config.skipped == ()
    assert sorted(config.neighbors) == ["192.0.2.10", "192.0.2.2", "192.0.2.6", "198.18.0.1", "2001:db8:1::2",
                                        "2001:db8::2"]
    md5 = config.neighbors["192.0.2.10"]
    assert (md5.password_set, md5.inbound_filter, md5.filter_entries, md5.max_prefixes) == \
        (True, "HANDMADE-IN", ("203.0.113.0/24 le 25",), 200)
    assert "lab-md5-secret" not in repr(md5) and "lab-md5-secret" not in repr(md5.lines)
    assert config.neighbors["192.0.2.6"].peer_group == "TRANSIT"
    pni = config.neighbors["198.18.0.1"]
    assert pni.admin_down and pni.remote_asn == 13335 and pni.description == "Cloud; PNI tab"
    v6 = config.neighbors["2001:db8:1::2"]
    assert v6.families == ("ipv6-unicast",) and v6.max_prefixes == 50
    assert (v6.inbound_filter, v6.filter_entries) == ("V6-IN", ("2001:db8:65::/48",))
    assert config.neighbors["2001:db8::2"].description == "pb-peer1-v6"
