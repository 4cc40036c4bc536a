"""IOS-XE: napalm's real running-config captures and an own fixture for every field."""
from __future__ import annotations

from bot.base.redact import MASK
from bot.routers.base import Platform
from bot.routers.bgp_config.common import ALL_PEERS
from bot.routers.bgp_config.model import ConfiguredNeighbor

from tests.routers.bgp_config.helpers import parse


def test_napalm_normal_peer_group_inheritance() -> None:
    config = parse(Platform.IOS_XE, "napalm_normal_show_running_config.txt")
    assert config.local_asn == 65001
    assert sorted(config.neighbors) == ["10.0.0.3", "10.0.0.5"]
    assert config.neighbors["10.0.0.3"] == ConfiguredNeighbor(
        peer_ip="10.0.0.3", remote_asn=65001, description="[ibgp - rr clients]", peer_group="RR-CLIENTS",
        families=("ipv4-unicast",), inbound_filter="PASS-IN", filter_kind="route-map",
        max_prefixes=1000, max_prefix_warn=80, max_prefix_restart=15)


def test_napalm_mixed_neighbor_settings_win() -> None:
    config = parse(Platform.IOS_XE, "napalm_mixed_with_without_groups_show_running_config.txt")
    assert sorted(config.neighbors) == ["10.0.0.1", "10.0.0.3", "10.0.0.5"]
    assert config.neighbors["10.0.0.1"] == ConfiguredNeighbor(
        peer_ip="10.0.0.1", remote_asn=65111, description="external Peer", local_asn=65005,
        families=("ipv4-unicast",), inbound_filter="PASS-IN", filter_kind="route-map",
        max_prefixes=500, max_prefix_restart=10)


def test_napalm_no_afi_and_no_bgp() -> None:
    config = parse(Platform.IOS_XE, "napalm_no_afi_show_running_config.txt")
    assert config.local_asn == 42
    assert config.neighbors["10.22.8.38"] == ConfiguredNeighbor(
        peer_ip="10.22.8.38", remote_asn=44, families=("ipv4-unicast",))
    empty = parse(Platform.IOS_XE, "napalm_no_bgp_show_running_config.txt")
    assert (empty.local_asn, empty.neighbors) == (None, {})
    assert [s.peer for s in empty.skipped] == [ALL_PEERS]


def test_napalm_peers_without_groups() -> None:
    config = parse(Platform.IOS_XE, "napalm_peers_without_groups_show_running_config.txt")
    assert config.neighbors["10.0.0.1"].max_prefixes == 1000
    assert config.neighbors["10.0.0.1"].description == "external Peer"


def test_own_fixture_every_field_and_bad_input() -> None:
    config = parse(Platform.IOS_XE, "own_section_router_bgp.txt", "own_include_prefix_list.txt")
    assert config.local_asn == 65000
    assert [(s.peer, s.reason) for s in config.skipped] == [
        ("192.0.2.2", "remote-as 'banana' is not an AS number"),
        ("2001:db8::zz1", "'2001:db8::zz1': not an IP address"),
    ]
    assert sorted(config.neighbors) == ["192.0.2.1", "192.0.2.3", "2001:db8::5"]  # no VRF neighbor
    assert config.neighbors["192.0.2.1"] == ConfiguredNeighbor(
        peer_ip="192.0.2.1", remote_asn=64600, description="IX peer ; reload\tx", peer_group="IXP",
        password_set=True, families=("ipv4-unicast",), inbound_filter="IXP-IN", filter_kind="prefix-list",
        filter_entries=("198.51.100.0/22 le 24", "198.51.100.0/24"),
        max_prefixes=1000, max_prefix_warn=75, max_prefix_restart=10)
    assert config.neighbors["2001:db8::5"] == ConfiguredNeighbor(
        peer_ip="2001:db8::5", remote_asn=4200000001, families=("ipv6-unicast",), max_prefixes=500,
        max_prefix_warning_only=True, admin_down=True)
    assert config.neighbors["192.0.2.3"] == ConfiguredNeighbor(
        peer_ip="192.0.2.3", remote_asn=64701, local_asn=65100, families=("ipv4-unicast",),
        inbound_filter="DENYMIX", filter_kind="prefix-list", filter_entries=None)


def test_type7_password_masked_on_the_group_only() -> None:
    from bot.routers.bgp_config import ios_style
    from bot.routers.bgp_config.common import mask_password_line
    assert mask_password_line(" neighbor IXP password 7 0822455D0A16") == f" neighbor IXP password 7 {MASK}"
    assert ios_style  # the group's lines are not a neighbor's: nothing to show, nothing leaked
    config = parse(Platform.IOS_XE, "own_section_router_bgp.txt", "own_include_prefix_list.txt")
    assert "0822455D0A16" not in repr(config)
