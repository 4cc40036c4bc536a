"""IOS-XR: batfish's published XR configs and an own fixture with prefix-sets and policies."""
from __future__ import annotations

from bot.base.redact import MASK
from bot.routers.base import Platform
from bot.routers.bgp_config.model import ConfiguredNeighbor

from tests.routers.bgp_config.helpers import parse

OWN = ("own_running_config_router_bgp.txt", "own_running_config_prefix_set.txt",
       "own_running_config_route_policy.txt")


def test_own_fixture() -> None:
    config = parse(Platform.IOS_XR, *OWN)
    assert config.local_asn == 65200
    assert [(s.peer, s.reason) for s in config.skipped] == [
        ("192.0.2.33", "remote-as 'not-a-number' is not an AS number"),
        ("192.0.2.300", "'192.0.2.300': not an IP address"),
    ]
    assert sorted(config.neighbors) == ["192.0.2.31", "192.0.2.32", "2001:db8::32"]  # no VRF 10.0.0.1
    assert config.neighbors["192.0.2.31"] == ConfiguredNeighbor(
        peer_ip="192.0.2.31", remote_asn=64500, description="high speed transit; reload",
        peer_group="TRANSIT", password_set=True, families=("ipv4-unicast",), inbound_filter="AS64500-IN",
        filter_kind="route-policy", filter_entries=("198.51.100.0/24", "203.0.113.0/24 ge 25 le 26"),
        max_prefixes=1000, max_prefix_warn=80, max_prefix_restart=5)
    assert config.neighbors["192.0.2.32"] == ConfiguredNeighbor(
        peer_ip="192.0.2.32", remote_asn=64520, local_asn=65210, families=("ipv4-unicast",),
        inbound_filter="COMPLEX-IN", filter_kind="route-policy", filter_entries=None,
        max_prefixes=200, max_prefix_warning_only=True, admin_down=True)
    assert config.neighbors["2001:db8::32"] == ConfiguredNeighbor(
        peer_ip="2001:db8::32", remote_asn=64521, families=("ipv6-unicast",), inbound_filter="V6-IN",
        filter_kind="route-policy", filter_entries=("2001:db8:2000::/36 le 48",))
    assert "13061E010803557878" not in repr(config)


def test_password_lines_masked() -> None:
    from bot.routers.bgp_config.common import mask_password_line
    assert mask_password_line("  password encrypted 13061E010803557878") == f"  password encrypted {MASK}"
    assert mask_password_line("  password inheritance-disable") == "  password inheritance-disable"


def test_batfish_neighbor_groups_nested() -> None:
    config = parse(Platform.IOS_XR, "batfish_ios_xr_bgp_neighbor_group.txt")
    assert config.local_asn == 5555
    assert sorted(config.neighbors) == ["1.2.1.1", "1.2.1.2", "1.2.1.3"]
    # foobar-iBGP_ipv4 uses BGPMonitor: its inbound policy is inherited two levels down
    assert config.neighbors["1.2.1.1"] == ConfiguredNeighbor(
        peer_ip="1.2.1.1", remote_asn=5555, description="htegiofnoirwejhg", peer_group="foobar-iBGP_ipv4",
        families=("ipv4-multicast", "ipv4-unicast"), inbound_filter="deny_bgp_routes",
        filter_kind="route-policy")
    assert config.neighbors["1.2.1.3"].inbound_filter is None
    assert config.neighbors["1.2.1.3"].peer_group == "foobar-iBGP_border_ipv4"


def test_batfish_prefix_set_and_policies() -> None:
    from bot.routers.bgp_config.common import config_tree
    from bot.routers.bgp_config.ios_xr import _policy_sets, _prefix_sets
    from tests.routers.bgp_config.helpers import fixture
    sets = _prefix_sets(config_tree(fixture("ios-xr", "batfish_ios_xr_prefix_set.txt")))
    assert sets["default_route"].entries() == ("0.0.0.0/32",)
    assert sets["ucla_networks"].entries() == (
        "128.97.0.0/16 le 32", "131.179.0.0/16 le 32", "149.142.0.0/16 le 32", "164.67.0.0/16 le 32",
        "169.232.0.0/16 le 32", "192.35.225.0/24 le 32", "192.154.2.0/24 le 32", "198.17.109.0/24 le 32")
    policies = _policy_sets(config_tree(fixture("ios-xr", "batfish_ios_xr_route_policy.txt")))
    assert policies == {}  # every policy there does more than pass one prefix-set
