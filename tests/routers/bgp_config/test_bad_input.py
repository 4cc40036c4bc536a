"""Odd output never raises; junk lines never lose the valid neighbors (property test)."""
from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.routers.base import Platform
from bot.routers.bgp_config import CONFIG_COMMANDS, parse_bgp_config
from bot.routers.bgp_config.common import ALL_PEERS

from tests.routers.bgp_config.helpers import fixture

TEXT_CASES = {
    Platform.FRR: ("frr", ["frr84_show_running_config.txt"]),
    Platform.IOS_XE: ("ios-xe", ["own_section_router_bgp.txt", "own_include_prefix_list.txt"]),
    Platform.EOS: ("eos", ["own_section_router_bgp.txt", "own_section_prefix_list.txt"]),
    Platform.IOS_XR: ("ios-xr", ["own_running_config_router_bgp.txt", "own_running_config_prefix_set.txt",
                                 "own_running_config_route_policy.txt"]),
}


@pytest.mark.parametrize("platform", list(Platform))
@pytest.mark.parametrize("text", ["", "   \n\n", "% Invalid input detected at '^' marker.", "\x00\x01garbage"])
def test_not_a_config_is_an_empty_result(platform: Platform, text: str) -> None:
    config = parse_bgp_config(platform, {cmd: text for cmd in CONFIG_COMMANDS[platform]})
    assert config.local_asn is None and config.neighbors == {}
    assert len(config.skipped) == 1 and config.skipped[0].peer == ALL_PEERS


def test_missing_outputs_count_as_empty() -> None:
    assert parse_bgp_config(Platform.IOS_XE, {}).neighbors == {}


# Junk: any printable line, or one that looks like configuration, at a top-level position (a
# line indented into a neighbor block would legitimately change that neighbor).
_JUNK = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(["banner motd ^C", "^C", "!", "end", "exit", "interface Gi1", " shutdown",
                     "router ospf 1", "ip prefix-list", "ip prefix-list X seq x permit y",
                     "route-policy", "prefix-set P", "neighbor", "% Ambiguous command"]),
).map(lambda s: s.replace("\r", " ").replace("\n", " ").replace("\x0b", " ").replace("\x0c", " ")
      .replace("\x1c", " ").replace("\x1d", " ").replace("\x1e", " ").replace("\x85", " ")
      .replace("\u2028", " ").replace("\u2029", " ").lstrip())


def _interleave(text: str, junk: list[str], where: list[int]) -> str:
    lines = text.splitlines()
    # only before "router bgp"/top-level lines, so no valid block is split
    tops = [i for i, line in enumerate(lines) if line and not line[0].isspace()]
    for item, pos in sorted(zip(junk, where), key=lambda p: -p[1]):
        at = tops[pos % len(tops)]
        if item.startswith(("router bgp", "neighbor")):
            continue
        lines.insert(at, item)
    return "\n".join(lines) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(platform=st.sampled_from(sorted(TEXT_CASES, key=lambda p: p.value)),
       junk=st.lists(_JUNK, max_size=8), where=st.lists(st.integers(0, 1000), min_size=8, max_size=8))
def test_junk_lines_never_raise_or_drop_neighbors(platform: Platform, junk: list[str], where: list[int]) -> None:
    folder, files = TEXT_CASES[platform]
    clean = {cmd: fixture(folder, f) for cmd, f in zip(CONFIG_COMMANDS[platform], files)}
    expected = parse_bgp_config(platform, clean)
    dirty = {cmd: _interleave(text, junk, where) for cmd, text in clean.items()}
    got = parse_bgp_config(platform, dirty)
    assert sorted(got.neighbors) == sorted(expected.neighbors)
    assert got.local_asn == expected.local_asn
    for address, neighbor in expected.neighbors.items():
        assert got.neighbors[address].remote_asn == neighbor.remote_asn
        assert got.neighbors[address].description == neighbor.description


@settings(max_examples=60, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=10),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
                        st.sampled_from(["group", "neighbor", "name", "peer-as", "family", "inet", "unicast",
                                         "prefix-limit", "maximum", "teardown", "import", "@", "inactive",
                                         "local-as", "protocols", "bgp", "configuration", "description"]),
                        inner, max_size=5), max_leaves=30))
def test_junos_any_json_never_raises(value: object) -> None:
    text = json.dumps({"configuration": {"protocols": {"bgp": value}}})
    parse_bgp_config(Platform.JUNOS, {CONFIG_COMMANDS[Platform.JUNOS][0]: text,
                                      CONFIG_COMMANDS[Platform.JUNOS][1]: text})
