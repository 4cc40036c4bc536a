"""Inbound prefix filters, max-prefix limits and the removal of filter objects, as rendered for
each platform (issue 10)."""
from __future__ import annotations

import dataclasses
import re

import pytest

from bot.routers.base import CLI_PLATFORMS

from bot.routers.base import NeighborSpec, Platform
from bot.routers.filters import NAME_RE, as_set_tag, filter_name
from bot.routers.prefixes import parse_entries
from bot.routers.render import render

ENTRIES = ("203.0.113.0/24", "198.51.100.0/22 le 24", "10.0.0.0/8 ge 16 le 24", "192.0.2.0/24 ge 28")
NAME = filter_name("AS-EXAMPLE", 4, parse_entries(ENTRIES))
OLD = filter_name("AS-EXAMPLE", 4, parse_entries(("203.0.113.0/24",)))
SPEC = NeighborSpec(
    local_asn=64500, peer_ip="192.0.2.6", remote_asn=64501, description="Example AS64501", address_family=4,
    max_prefixes=1210, max_prefix_warn=90, max_prefix_restart=5, prefix_list_name=NAME, prefixes=ENTRIES,
)
SPEC6 = NeighborSpec(
    local_asn=64500, peer_ip="2001:db8::6", remote_asn=64501, description="Example AS64501", address_family=6,
    max_prefixes=310, max_prefix_warn=90, prefix_list_name="PB-V6", prefixes=("2001:db8:65::/48 le 56",),
)


# ----------------------------------------------------------------------------- names
def test_names_are_deterministic_valid_words_and_per_as_set():
    entries = parse_entries(ENTRIES)
    assert filter_name("AS-EXAMPLE", 4, entries) == filter_name("AS-EXAMPLE", 4, reversed(entries)) == NAME
    assert NAME_RE.match(NAME) and NAME.startswith("PB-AS-EXAMPLE-")
    # sanitising changes the name: the hash of the exact AS-SET keeps them apart
    assert as_set_tag("AS-FOO") != as_set_tag("RIPE::AS-FOO") != as_set_tag("as-foo")
    long_a, long_b = "AS65000:AS-" + "X" * 40 + "A", "AS65000:AS-" + "X" * 40 + "B"
    assert filter_name(long_a, 4, entries) != filter_name(long_b, 4, entries)
    for name in (long_a, "RIPE::AS65000:AS-CUSTOMERS", "AS-A_B.C"):
        assert NAME_RE.match(filter_name(name, 6, entries)), name
    # another family or other entries: another object
    assert filter_name("AS-EXAMPLE", 6, entries) != NAME and OLD != NAME


# ----------------------------------------------------------------------------- filters per platform
def test_frr_and_ios_xe_prefix_list_with_ge_le_bound_inbound_with_the_limit():
    for platform in (Platform.FRR, Platform.IOS_XE):
        lines = render(platform, "neighbor_create", SPEC)
        assert lines[:4] == [
            f"ip prefix-list {NAME} seq 5 permit 10.0.0.0/8 ge 16 le 24",
            f"ip prefix-list {NAME} seq 10 permit 192.0.2.0/24 ge 28",
            f"ip prefix-list {NAME} seq 15 permit 198.51.100.0/22 le 24",
            f"ip prefix-list {NAME} seq 20 permit 203.0.113.0/24",
        ]
        assert f"neighbor 192.0.2.6 prefix-list {NAME} in" in lines
        assert "neighbor 192.0.2.6 maximum-prefix 1210 90 restart 5" in lines
        # the list is complete before the neighbor is bound to it
        assert lines.index(f"neighbor 192.0.2.6 prefix-list {NAME} in") > 3


def test_ios_xr_prefix_set_route_policy_in_and_out():
    lines = render(Platform.IOS_XR, "neighbor_create", SPEC)
    assert lines[:6] == [f"prefix-set {NAME}", "10.0.0.0/8 ge 16 le 24,", "192.0.2.0/24 ge 28,",
                         "198.51.100.0/22 le 24,", "203.0.113.0/24", "end-set"]
    assert lines[6:13] == [f"route-policy {NAME}", f"if destination in {NAME} then", "pass", "else", "drop",
                           "endif", "end-policy"]
    assert lines[-5:] == [
        "address-family ipv4 unicast", f"route-policy {NAME} in", "route-policy PEERBOT-PASS out",
        "maximum-prefix 1210 90 restart 5", "root"]
    assert ["route-policy PEERBOT-PASS", "pass", "end-policy"] == lines[13:16]
    # a configured outbound policy is used as it is (not defined here)
    mine = render(Platform.IOS_XR, "neighbor_create", dataclasses.replace(SPEC, out_policy="EXPORT-IX"))
    assert "route-policy EXPORT-IX out" in mine and "route-policy PEERBOT-PASS" not in mine


def test_ios_xr_without_a_filter_still_exchanges_routes():
    lines = render(Platform.IOS_XR, "neighbor_create", dataclasses.replace(SPEC, prefix_list_name=None, prefixes=()))
    assert "route-policy PEERBOT-PASS in" in lines and "route-policy PEERBOT-PASS out" in lines
    assert not any(ln.startswith("prefix-set") for ln in lines)


def test_junos_policy_statement_with_route_filters_as_import():
    lines = render(Platform.JUNOS, "neighbor_create", SPEC)
    term = f"set policy-options policy-statement {NAME} term peerbot-prefixes"
    assert lines[:6] == [
        f"{term} from route-filter 10.0.0.0/8 prefix-length-range /16-/24",
        f"{term} from route-filter 192.0.2.0/24 prefix-length-range /28-/32",
        f"{term} from route-filter 198.51.100.0/22 upto /24",
        f"{term} from route-filter 203.0.113.0/24 exact",
        f"{term} then accept",
        f"set policy-options policy-statement {NAME} then reject",
    ]
    nbr = "set protocols bgp group PEERBOT neighbor 192.0.2.6"
    assert f"{nbr} family inet unicast prefix-limit maximum 1210" in lines
    assert f"{nbr} family inet unicast prefix-limit teardown 90 idle-timeout 5" in lines
    # import is a list on Junos: replaced, not appended to
    i = lines.index(f"{nbr} import {NAME}")
    assert lines[i - 1] == "delete protocols bgp group PEERBOT neighbor 192.0.2.6 import"


def test_eos_prefix_list_and_route_map_inbound_with_maximum_routes():
    lines = render(Platform.EOS, "neighbor_create", SPEC)
    assert lines[:7] == [
        f"ip prefix-list {NAME} seq 10 permit 10.0.0.0/8 ge 16 le 24",
        f"ip prefix-list {NAME} seq 20 permit 192.0.2.0/24 ge 28",
        f"ip prefix-list {NAME} seq 30 permit 198.51.100.0/22 le 24",
        f"ip prefix-list {NAME} seq 40 permit 203.0.113.0/24",
        f"route-map {NAME} permit 10", f"match ip address prefix-list {NAME}", "exit"]
    assert "neighbor 192.0.2.6 maximum-routes 1210 warning-limit 90 percent" in lines
    assert f"neighbor 192.0.2.6 route-map {NAME} in" in lines


@pytest.mark.parametrize("platform,expected", [
    (Platform.FRR, ["ipv6 prefix-list PB-V6 seq 5 permit 2001:db8:65::/48 le 56",
                    "neighbor 2001:db8::6 prefix-list PB-V6 in", "neighbor 2001:db8::6 maximum-prefix 310 90"]),
    (Platform.IOS_XE, ["ipv6 prefix-list PB-V6 seq 5 permit 2001:db8:65::/48 le 56",
                       "neighbor 2001:db8::6 maximum-prefix 310 90"]),
    (Platform.IOS_XR, ["2001:db8:65::/48 le 56", "address-family ipv6 unicast", "maximum-prefix 310 90"]),
    (Platform.JUNOS, ["set policy-options policy-statement PB-V6 term peerbot-prefixes from route-filter "
                      "2001:db8:65::/48 upto /56",
                      "set protocols bgp group PEERBOT neighbor 2001:db8::6 family inet6 unicast prefix-limit maximum 310"]),
    (Platform.EOS, ["ipv6 prefix-list PB-V6", "seq 10 permit 2001:db8:65::/48 le 56",
                    "match ipv6 address prefix-list PB-V6", "neighbor 2001:db8::6 maximum-routes 310 warning-limit 90 percent"]),
])
def test_ipv6_filters_and_limits(platform, expected):
    lines = render(platform, "neighbor_create", SPEC6)
    for line in expected:
        assert line in lines, line


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_no_limit_no_limit_lines(platform):
    text = "\n".join(render(platform, "neighbor_create", dataclasses.replace(SPEC, max_prefixes=None)))
    assert "maximum-prefix" not in text and "prefix-limit" not in text and "maximum-routes" not in text


# ----------------------------------------------------------------------------- replacing and removing
OLD_REMOVAL = {
    Platform.FRR: [f"no ip prefix-list {OLD}"],
    Platform.IOS_XE: [f"no ip prefix-list {OLD}"],
    Platform.IOS_XR: [f"no route-policy {OLD}", f"no prefix-set {OLD}"],
    Platform.JUNOS: [f"delete policy-options policy-statement {OLD}"],
    Platform.EOS: [f"no route-map {OLD}", f"no ip prefix-list {OLD}"],
}
BINDS_NEW = {
    Platform.FRR: f"neighbor 192.0.2.6 prefix-list {NAME} in",
    Platform.IOS_XE: f"neighbor 192.0.2.6 prefix-list {NAME} in",
    Platform.IOS_XR: f"route-policy {NAME} in",
    Platform.JUNOS: f"set protocols bgp group PEERBOT neighbor 192.0.2.6 import {NAME}",
    Platform.EOS: f"neighbor 192.0.2.6 route-map {NAME} in",
}


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_reconfigure_switches_to_the_new_version_then_removes_the_old(platform):
    spec = dataclasses.replace(SPEC, exists_on_router=True, remove_filters=(OLD,))
    lines = render(platform, "neighbor_create", spec)
    removal = OLD_REMOVAL[platform]
    assert [ln for ln in lines if OLD in ln] == removal  # the old object is only removed, never bound
    first_removal = lines.index(removal[0])
    assert lines.index(BINDS_NEW[platform]) < first_removal
    assert all(lines.index(ln) >= first_removal for ln in removal)
    without = render(platform, "neighbor_create", dataclasses.replace(spec, remove_filters=()))
    assert [ln for ln in lines if ln not in removal] == without


def test_frr_unbinds_a_filter_before_deleting_it_when_the_as_set_was_removed():
    spec = dataclasses.replace(SPEC, prefix_list_name=None, prefixes=(), exists_on_router=True, remove_filters=(OLD,))
    lines = render(Platform.FRR, "neighbor_create", spec)
    # a bound but missing list denies everything on FRR: unbind first
    assert lines.index(f"no neighbor 192.0.2.6 prefix-list {OLD} in") < lines.index(f"no ip prefix-list {OLD}")
    eos = render(Platform.EOS, "neighbor_create", dataclasses.replace(spec))
    assert eos.index(f"no neighbor 192.0.2.6 route-map {OLD} in") < eos.index(f"no route-map {OLD}")


DELETE = {
    Platform.FRR: ["router bgp 64500", "no neighbor 192.0.2.6", "exit", f"no ip prefix-list {OLD}"],
    Platform.IOS_XE: ["router bgp 64500", "no neighbor 192.0.2.6", "exit", f"no ip prefix-list {OLD}"],
    Platform.IOS_XR: ["router bgp 64500", "no neighbor 192.0.2.6", "root", f"no route-policy {OLD}",
                      f"no prefix-set {OLD}"],
    Platform.JUNOS: ["delete protocols bgp group PEERBOT neighbor 192.0.2.6",
                     f"delete policy-options policy-statement {OLD}"],
    Platform.EOS: ["router bgp 64500", "no neighbor 192.0.2.6", "exit", f"no route-map {OLD}",
                   f"no ip prefix-list {OLD}"],
}


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_delete_removes_the_neighbor_then_its_unshared_filter(platform):
    assert render(platform, "delete", dataclasses.replace(SPEC, remove_filters=(OLD,))) == DELETE[platform]
    # shared with another configured session (neighbor_spec leaves remove_filters empty): kept
    kept = render(platform, "delete", SPEC)
    assert not any(OLD in ln or NAME in ln or "prefix" in ln or "route-map" in ln for ln in kept)
    assert kept == [ln for ln in DELETE[platform] if OLD not in ln and ln != "exit"]


# ----------------------------------------------------------------------------- hostile entries
@pytest.mark.parametrize("entry", [
    "10.0.0.0/8 le 24; reload",             # a second command
    "10.0.0.0/8\nno router bgp 64500",      # a second line
    "10.0.0.1/8",                           # host bits
    "10.0.0.0/8 le 40",                     # beyond /32
    "10.0.0.0/8 ge 4",                      # shorter than the network
    "10.0.0.0/8 permit",                    # not the entry grammar
    "10.0.0.0/8  le 24",                    # two spaces
    "\uff11\uff10.0.0.0/8",                 # full-width digits
    "10.0.0.0/8 le 24 ",                    # trailing space
    "any",
    "",
])
@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_render_refuses_anything_but_a_prefix_entry(platform, entry):
    with pytest.raises(ValueError):
        render(platform, "neighbor_create", dataclasses.replace(SPEC, prefixes=(*ENTRIES, entry)))


@pytest.mark.parametrize("field,value", [
    ("remove_filters", ("PB-OLD\nno router bgp 1",)), ("remove_filters", ("PB OLD",)), ("remove_filters", ("",)),
    ("out_policy", "PASS ALL"), ("out_policy", "X;Y"), ("max_prefixes", 0), ("max_prefixes", "100"),
    ("max_prefix_warn", 101), ("max_prefix_restart", 0), ("max_prefix_restart", 70000),
])
def test_render_refuses_bad_filter_and_limit_settings(field, value):
    with pytest.raises(ValueError):
        render(Platform.FRR, "neighbor_create", dataclasses.replace(SPEC, **{field: value}))


def test_rendered_lines_name_only_validated_words():
    for platform in CLI_PLATFORMS:
        for line in render(platform, "neighbor_create", dataclasses.replace(SPEC, remove_filters=(OLD,))):
            assert re.fullmatch(r"[\x20-\x7e]+", line) and ";" not in line
