"""EOS: napalm's real `show running-config | section router bgp` captures and an own fixture."""
from __future__ import annotations

from bot.base.redact import MASK
from bot.routers.base import Platform
from bot.routers.bgp_config.common import ALL_PEERS
from bot.routers.bgp_config.model import ConfiguredNeighbor

from tests.routers.bgp_config.helpers import parse


def test_napalm_normal() -> None:
    config = parse(Platform.EOS, "napalm_normal_show_running_config_section_router_bgp.txt")
    assert config.local_asn == 13335
    assert sorted(config.neighbors) == ["172.17.17.1", "192.168.0.1", "2001:db8::1", "2001:db8::2"]
    assert config.neighbors["192.168.0.1"] == ConfiguredNeighbor(
        peer_ip="192.168.0.1", remote_asn=32934, peer_group="IPv4-PEERS-GROUP-NAME",
        families=("ipv4-unicast",), inbound_filter="reject-all", filter_kind="route-map", max_prefixes=100)
    # EOS activates IPv4 unicast by default for IPv4 peers only; the group's limit is inherited
    assert config.neighbors["2001:db8::2"] == ConfiguredNeighbor(
        peer_ip="2001:db8::2", remote_asn=54113, peer_group="IPv6-PEERS-GROUP-NAME",
        inbound_filter="reject-all", filter_kind="route-map", max_prefixes=100)


def test_napalm_alt_peer_group_syntax_dot_asn_copydown() -> None:
    alt = parse(Platform.EOS, "napalm_issue1504_alt_peer_group_syntax_show_running_config_section_router_bgp.txt")
    assert alt.neighbors["2001:db8::1"].peer_group == "IPv6-PEERS-GROUP-NAME"
    assert alt.neighbors["2001:db8::1"].max_prefixes == 500
    dot = parse(Platform.EOS, "napalm_issue_1113_dot_asn_show_running_config_section_router_bgp.txt")
    assert dot.local_asn == 65101 * 65536 + 65101
    copy = parse(Platform.EOS, "napalm_issue_905_group_copydown_show_running_config_section_router_bgp.txt")
    assert copy.neighbors["192.0.2.2"].description == "FOO"
    assert copy.neighbors["192.0.2.3"].description == "SECOND-PEER"
    assert copy.neighbors["192.0.2.2"].remote_asn == 65534
    assert copy.neighbors["192.0.2.2"].lines == (
        "   neighbor 192.0.2.2 peer group FOO-GROUP", "   no neighbor 192.0.2.2 next-hop-self")
    plain = parse(Platform.EOS, "napalm_iss199_bgp_neighbors_without_peer_group_show_running_config_section_router_bgp.txt")
    assert plain.neighbors["2001:db8::2"].inbound_filter == "import-policy"
    assert plain.neighbors["2001:db8::2"].max_prefixes is None
    none = parse(Platform.EOS, "napalm_no_bgp_config_show_running_config_section_router_bgp.txt")
    assert none.neighbors == {} and [s.peer for s in none.skipped] == [ALL_PEERS]


def test_own_fixture() -> None:
    config = parse(Platform.EOS, "own_section_router_bgp.txt", "own_section_prefix_list.txt")
    assert config.local_asn == 65100
    assert config.skipped == ()
    assert sorted(config.neighbors) == ["192.0.2.21", "2001:db8::21"]  # not the VRF's 10.1.1.1
    assert config.neighbors["192.0.2.21"] == ConfiguredNeighbor(
        peer_ip="192.0.2.21", remote_asn=64510, description="EOS peer", peer_group="PEERS",
        password_set=True, families=("ipv4-unicast",), inbound_filter="PL-V4", filter_kind="prefix-list",
        filter_entries=("198.51.100.0/24", "203.0.113.0/24 le 25"), max_prefixes=12000, max_prefix_warn=80)
    assert config.neighbors["2001:db8::21"] == ConfiguredNeighbor(
        peer_ip="2001:db8::21", remote_asn=64511, families=("ipv6-unicast",), inbound_filter="PL-V6",
        filter_kind="prefix-list", filter_entries=("2001:db8:1000::/36 le 48",), max_prefixes=100,
        max_prefix_warning_only=True, admin_down=True)
    assert "abcDEF123" not in repr(config)
    assert MASK  # the group's key never appears in any neighbor's lines
