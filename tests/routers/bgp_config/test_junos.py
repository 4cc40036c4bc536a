"""Junos: napalm's real configuration replies (XML, rendered as `| display json` prints
configuration) and an own JSON fixture."""
from __future__ import annotations

from bot.base.redact import MASK
from bot.routers.base import Platform
from bot.routers.bgp_config import CONFIG_COMMANDS, parse_bgp_config
from bot.routers.bgp_config.common import ALL_PEERS
from bot.routers.bgp_config.model import ConfiguredNeighbor

from tests.routers.bgp_config.helpers import fixture, junos_xml_as_json, parse


def _napalm(case: str):  # noqa: ANN202
    texts = [junos_xml_as_json(fixture("junos", f"napalm_{case}_{part}.xml"))
             for part in ("protocols_bgp", "policy_options", "routing_options")]
    return parse_bgp_config(Platform.JUNOS, dict(zip(CONFIG_COMMANDS[Platform.JUNOS], texts)))


def test_napalm_normal() -> None:
    config = _napalm("normal")
    assert config.local_asn == 13335
    assert config.neighbors["192.168.0.1"] == ConfiguredNeighbor(
        peer_ip="192.168.0.1", remote_asn=32934, description="Facebook [CDN]", peer_group="PEERS-GROUP-NAME",
        local_asn=13335, families=("ipv4-unicast",), inbound_filter="PUBLIC-PEER-IN", filter_kind="policy",
        max_prefixes=100, max_prefix_warning_only=True)
    assert config.neighbors["172.17.17.1"].max_prefixes == 500


def test_napalm_nhs_internal_groups() -> None:
    config = _napalm("nhs")
    assert config.neighbors["10.10.10.1"] == ConfiguredNeighbor(
        peer_ip="10.10.10.1", remote_asn=65001, peer_group="internal", local_asn=65001,
        families=("ipv4-unicast",))


def test_own_fixture() -> None:
    config = parse(Platform.JUNOS, "own_protocols_bgp.json", "own_policy_options.json", "own_routing_options.json")
    assert config.local_asn == 65300
    assert [(s.peer, s.reason) for s in config.skipped] == [
        ("192.0.2.43", "peer-as 'banana' is not an AS number"),
        ("2001:db8::4x", "'2001:db8::4x': not an IP address"),
    ]
    assert config.neighbors["192.0.2.41"] == ConfiguredNeighbor(
        peer_ip="192.0.2.41", remote_asn=64500, description="AS64500 transit; reload\there",
        peer_group="TRANSIT", password_set=True, families=("ipv4-unicast",), inbound_filter="AS64500-IN",
        filter_kind="policy", filter_entries=("198.51.100.0/24", "203.0.113.0/24"),
        max_prefixes=1000, max_prefix_warn=80, max_prefix_restart=5)
    inactive = config.neighbors["192.0.2.42"]
    assert (inactive.admin_down, inactive.remote_asn, inactive.local_asn) == (True, 65546, 65310)
    assert config.neighbors["2001:db8::44"] == ConfiguredNeighbor(
        peer_ip="2001:db8::44", remote_asn=64544, peer_group="V6-PEERS", families=("ipv6-unicast",),
        inbound_filter="[ COMPLEX-IN REJECT-ALL ]", filter_kind="policy", max_prefixes=200,
        max_prefix_warning_only=True)
    v6 = config.neighbors["2001:db8::45"]
    assert (v6.description, v6.filter_entries) == (None, ("2001:db8:4500::/40 le 48",))
    assert "$9$lab.group.key" not in repr(config)


def test_lines_are_set_statements() -> None:
    config = parse(Platform.JUNOS, "own_protocols_bgp.json", "own_policy_options.json", "own_routing_options.json")
    assert config.neighbors["192.0.2.42"].lines == (
        "deactivate protocols bgp group TRANSIT neighbor 192.0.2.42",
        "set protocols bgp group TRANSIT neighbor 192.0.2.42 peer-as 1.10",
        "set protocols bgp group TRANSIT neighbor 192.0.2.42 local-as as-number 65310",
        "set protocols bgp group TRANSIT neighbor 192.0.2.42 local-as private",
    )
    from bot.routers.bgp_config.junos import _set_lines
    assert _set_lines("set x", {"authentication-key": "$9$abc"}) == [f'set x authentication-key "{MASK}"']


def test_not_json_and_empty() -> None:
    for text in ("", "error: syntax error", "{}", "[1, 2]", "{\"configuration\": []}"):
        config = parse_bgp_config(Platform.JUNOS, {CONFIG_COMMANDS[Platform.JUNOS][0]: text})
        assert config.neighbors == {} and [s.peer for s in config.skipped] == [ALL_PEERS]
