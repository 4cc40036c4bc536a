"""Edit of a configured neighbor on every platform: exactly the lines that change, negations for
what was removed, re-creation where a platform cannot change a setting in place, and the
configuration difference (removed / added) a person reads."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.routers.base import CLI_PLATFORMS

from bot.routers import NeighborSpec, Platform
from bot.routers.filters import filter_name
from bot.routers.prefixes import parse_entries
from bot.routers.render import mask_secrets, render
from bot.routers.update import config_difference, recreates, update_commands

OLD = NeighborSpec(local_asn=64500, peer_ip="192.0.2.6", remote_asn=64501, description="Example Net AS64501",
                   address_family=4, peer_group="IXP", md5_password="Old-Md5-Key", exists_on_router=True)
# description replaced, MD5 removed, max-prefix added
EDITED = replace(OLD, description="Renamed AS64501", md5_password=None, max_prefixes=500)

EXPECTED = {
    Platform.FRR: [
        "router bgp 64500",
        "neighbor 192.0.2.6 description Renamed AS64501",
        "no neighbor 192.0.2.6 password",
        "address-family ipv4 unicast",
        "neighbor 192.0.2.6 maximum-prefix 500",
        "exit-address-family",
        "exit",
    ],
    Platform.IOS_XE: [
        "router bgp 64500",
        "neighbor 192.0.2.6 description Renamed AS64501",
        "no neighbor 192.0.2.6 password",
        "address-family ipv4 unicast",
        "neighbor 192.0.2.6 maximum-prefix 500",
        "exit-address-family",
        "exit",
    ],
    Platform.IOS_XR: [
        "router bgp 64500",
        "neighbor 192.0.2.6",
        "description Renamed AS64501",
        "no password",
        "address-family ipv4 unicast",
        "maximum-prefix 500",
        "root",
    ],
    Platform.JUNOS: [
        'set protocols bgp group IXP neighbor 192.0.2.6 description "Renamed AS64501"',
        "delete protocols bgp group IXP neighbor 192.0.2.6 authentication-key",
        "set protocols bgp group IXP neighbor 192.0.2.6 family inet unicast prefix-limit maximum 500",
        # as neighbor_create: without teardown Junos would only log the limit
        "set protocols bgp group IXP neighbor 192.0.2.6 family inet unicast prefix-limit teardown 100",
    ],
    Platform.EOS: [
        "router bgp 64500",
        "neighbor 192.0.2.6 description Renamed AS64501",
        "no neighbor 192.0.2.6 password",
        "neighbor 192.0.2.6 maximum-routes 500",
        "exit",
    ],
}


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_only_the_changed_settings_are_sent(platform: Platform) -> None:
    assert update_commands(platform, OLD, EDITED) == EXPECTED[platform]


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_nothing_changed_sends_no_setting(platform: Platform) -> None:
    lines = update_commands(platform, OLD, OLD)
    assert not [line for line in lines if "192.0.2.6" in line and line.split()[-1] != "192.0.2.6"]


GROUP_CHANGE = {
    # a neighbor cannot leave or change its peer-group in place on FRR: re-created
    Platform.FRR: ["router bgp 64500", "no neighbor 192.0.2.6"],
    Platform.IOS_XE: ["router bgp 64500", "no neighbor 192.0.2.6 peer-group IXP", "neighbor 192.0.2.6 remote-as 64501",
                      "neighbor 192.0.2.6 peer-group TRANSIT", "exit"],
    Platform.IOS_XR: ["router bgp 64500", "neighbor 192.0.2.6", "use neighbor-group TRANSIT", "root"],
    # a Junos neighbor lives under its group: deleted there, created under the new one
    Platform.JUNOS: ["delete protocols bgp group IXP neighbor 192.0.2.6"],
    Platform.EOS: ["router bgp 64500", "neighbor 192.0.2.6 peer group TRANSIT", "exit"],
}


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_peer_group_change(platform: Platform) -> None:
    new = replace(OLD, peer_group="TRANSIT")
    lines = update_commands(platform, OLD, new)
    head = GROUP_CHANGE[platform]
    assert lines[:len(head)] == head
    if recreates(platform, OLD, new):
        assert lines[len(head):] == render(platform, "neighbor_create", replace(new, exists_on_router=False))
    else:
        assert lines == head


def test_frr_joins_a_peer_group_in_place_but_leaves_by_re_creation() -> None:
    alone = replace(OLD, peer_group=None)
    assert update_commands(Platform.FRR, alone, OLD) == ["router bgp 64500", "neighbor 192.0.2.6 peer-group IXP", "exit"]
    assert recreates(Platform.FRR, OLD, alone)


@pytest.mark.parametrize("platform", [Platform.FRR, Platform.IOS_XE, Platform.IOS_XR, Platform.EOS])
def test_local_asn_change_re_creates_under_the_new_asn(platform: Platform) -> None:
    new = replace(OLD, local_asn=64511)
    lines = update_commands(platform, OLD, new)
    assert lines == render(platform, "delete", OLD) + render(platform, "neighbor_create", replace(new, exists_on_router=False))


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_new_key_is_masked_like_the_old(platform: Platform) -> None:
    new = replace(OLD, md5_password="New-Md5-Key")
    lines = update_commands(platform, OLD, new)
    masked = mask_secrets(lines, new)
    assert any("New-Md5-Key" in line for line in lines)
    assert not any("Md5-Key" in line for line in masked) and any("********" in line for line in masked)


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_remote_asn_change(platform: Platform) -> None:
    lines = update_commands(platform, OLD, replace(OLD, remote_asn=64502))
    assert any("64502" in line for line in lines)
    assert not any("64501" in line for line in lines if "description" not in line)


# -- inbound filters (bot/routers/filters.py: one object per AS-SET and content) ---------------
V1 = ("203.0.113.0/24",)
V2 = ("203.0.113.0/24", "198.51.100.0/25")
OLD_NAME = filter_name("AS-EXAMPLE", 4, parse_entries(V1))
NEW_NAME = filter_name("AS-EXAMPLE", 4, parse_entries(V2))
OTHER_NAME = filter_name("AS-OTHER", 4, parse_entries(V2))
FILTERED = replace(OLD, prefix_list_name=OLD_NAME, prefixes=V1, max_prefixes=100, max_prefix_warn=90)

# the new object, complete, first
WRITES_NEW = {
    Platform.FRR: [f"ip prefix-list {NEW_NAME} seq 5 permit 198.51.100.0/25",
                   f"ip prefix-list {NEW_NAME} seq 10 permit 203.0.113.0/24"],
    Platform.IOS_XE: [f"ip prefix-list {NEW_NAME} seq 5 permit 198.51.100.0/25",
                      f"ip prefix-list {NEW_NAME} seq 10 permit 203.0.113.0/24"],
    Platform.IOS_XR: [f"prefix-set {NEW_NAME}", "198.51.100.0/25,", "203.0.113.0/24", "end-set",
                      f"route-policy {NEW_NAME}", f"if destination in {NEW_NAME} then", "pass", "else", "drop",
                      "endif", "end-policy"],
    Platform.JUNOS: [f"set policy-options policy-statement {NEW_NAME} term peerbot-prefixes from route-filter "
                     "198.51.100.0/25 exact",
                     f"set policy-options policy-statement {NEW_NAME} term peerbot-prefixes from route-filter "
                     "203.0.113.0/24 exact",
                     f"set policy-options policy-statement {NEW_NAME} term peerbot-prefixes then accept",
                     f"set policy-options policy-statement {NEW_NAME} then reject"],
    Platform.EOS: [f"ip prefix-list {NEW_NAME} seq 10 permit 198.51.100.0/25",
                   f"ip prefix-list {NEW_NAME} seq 20 permit 203.0.113.0/24",
                   f"route-map {NEW_NAME} permit 10", f"match ip address prefix-list {NEW_NAME}", "exit"],
}
# then the neighbor is switched to it in one command (no unbinding first: no window without a filter)
SWITCH = {
    Platform.FRR: ["router bgp 64500", "address-family ipv4 unicast", f"neighbor 192.0.2.6 prefix-list {NEW_NAME} in",
                   "exit-address-family", "exit"],
    Platform.IOS_XE: ["router bgp 64500", "address-family ipv4 unicast",
                      f"neighbor 192.0.2.6 prefix-list {NEW_NAME} in", "exit-address-family", "exit",
                      "do clear bgp ipv4 unicast 192.0.2.6 soft in"],
    Platform.IOS_XR: ["router bgp 64500", "neighbor 192.0.2.6", "address-family ipv4 unicast",
                      f"route-policy {NEW_NAME} in", "root"],
    Platform.JUNOS: ["delete protocols bgp group IXP neighbor 192.0.2.6 import",
                     f"set protocols bgp group IXP neighbor 192.0.2.6 import {NEW_NAME}"],
    Platform.EOS: ["router bgp 64500", "address-family ipv4", f"neighbor 192.0.2.6 route-map {NEW_NAME} in", "exit",
                   "exit"],
}
# and the old object is removed last, when no other configured session on the router uses it
REMOVES_OLD = {
    Platform.FRR: [f"no ip prefix-list {OLD_NAME}"],
    Platform.IOS_XE: [f"no ip prefix-list {OLD_NAME}"],
    Platform.IOS_XR: [f"no route-policy {OLD_NAME}", f"no prefix-set {OLD_NAME}"],
    Platform.JUNOS: [f"delete policy-options policy-statement {OLD_NAME}"],
    Platform.EOS: [f"no route-map {OLD_NAME}", f"no ip prefix-list {OLD_NAME}"],
}


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_changed_entries_are_a_new_object_switched_to_then_the_old_removed(platform: Platform) -> None:
    new = replace(FILTERED, prefix_list_name=NEW_NAME, prefixes=V2, remove_filters=(OLD_NAME,))
    assert update_commands(platform, FILTERED, new) == WRITES_NEW[platform] + SWITCH[platform] + REMOVES_OLD[platform]
    # the old object is only ever removed, never unbound by name first or rewritten
    assert [ln for ln in update_commands(platform, FILTERED, new) if OLD_NAME in ln] == REMOVES_OLD[platform]


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_an_old_object_another_session_uses_stays(platform: Platform) -> None:
    new = replace(FILTERED, prefix_list_name=NEW_NAME, prefixes=V2)  # remove_filters empty: shared
    assert update_commands(platform, FILTERED, new) == WRITES_NEW[platform] + SWITCH[platform]


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_another_as_set_is_another_object(platform: Platform) -> None:
    new = replace(FILTERED, prefix_list_name=OTHER_NAME, prefixes=V2, remove_filters=(OLD_NAME,))
    lines = update_commands(platform, FILTERED, new)
    expected = [ln.replace(NEW_NAME, OTHER_NAME) for ln in WRITES_NEW[platform] + SWITCH[platform]]
    assert lines == expected + REMOVES_OLD[platform]


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_same_object_sends_no_filter_line(platform: Platform) -> None:
    edited = replace(FILTERED, description="Renamed AS64501")
    lines = update_commands(platform, FILTERED, edited)
    assert not [ln for ln in lines if OLD_NAME in ln or "prefix" in ln or "route-map" in ln or "policy" in ln]
    # old's entries may be unknown (re-imported since): the name alone says it is the same object
    assert update_commands(platform, replace(FILTERED, prefixes=()), edited) == lines


def test_the_same_name_with_other_entries_is_refused() -> None:
    """The old list-per-peer design re-sent a list in place (`no ip prefix-list X` then its
    entries): on FRR a bound list is missing (deny all) or partial meanwhile, and FRR does not
    re-read the routes. A name says what an object holds, so this can only be a mistake."""
    for platform in CLI_PLATFORMS:
        with pytest.raises(ValueError, match="rewritten in place"):
            update_commands(platform, FILTERED, replace(FILTERED, prefixes=V2))


REMOVED_AS_SET = {
    # FRR/IOS-XE/EOS: unbound before the list is deleted (a bound missing list denies everything)
    Platform.FRR: ["router bgp 64500", "address-family ipv4 unicast", f"no neighbor 192.0.2.6 prefix-list {OLD_NAME} in",
                   "exit-address-family", "exit", f"no ip prefix-list {OLD_NAME}"],
    Platform.IOS_XE: ["router bgp 64500", "address-family ipv4 unicast",
                      f"no neighbor 192.0.2.6 prefix-list {OLD_NAME} in", "exit-address-family", "exit",
                      "do clear bgp ipv4 unicast 192.0.2.6 soft in", f"no ip prefix-list {OLD_NAME}"],
    # IOS-XR: an eBGP neighbor without an inbound policy drops everything: PEERBOT-PASS instead
    Platform.IOS_XR: ["route-policy PEERBOT-PASS", "pass", "end-policy", "router bgp 64500", "neighbor 192.0.2.6",
                      "address-family ipv4 unicast", "route-policy PEERBOT-PASS in", "root",
                      f"no route-policy {OLD_NAME}", f"no prefix-set {OLD_NAME}"],
    Platform.JUNOS: ["delete protocols bgp group IXP neighbor 192.0.2.6 import",
                     f"delete policy-options policy-statement {OLD_NAME}"],
    Platform.EOS: ["router bgp 64500", "address-family ipv4", f"no neighbor 192.0.2.6 route-map {OLD_NAME} in", "exit",
                   "exit", f"no route-map {OLD_NAME}", f"no ip prefix-list {OLD_NAME}"],
}


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_as_set_removed_unbinds_then_removes(platform: Platform) -> None:
    new = replace(FILTERED, prefix_list_name=None, prefixes=(), remove_filters=(OLD_NAME,))
    assert update_commands(platform, FILTERED, new) == REMOVED_AS_SET[platform]


def test_ios_xr_keeps_its_outbound_policy_and_follows_a_new_one() -> None:
    mine = replace(FILTERED, out_policy="EXPORT-IX")
    new = replace(mine, prefix_list_name=NEW_NAME, prefixes=V2)
    lines = update_commands(Platform.IOS_XR, mine, new)
    assert not [ln for ln in lines if ln.endswith(" out")] and "route-policy PEERBOT-PASS" not in lines
    # the outbound policy setting went back to peerbot's own: defined, then applied
    back = update_commands(Platform.IOS_XR, mine, replace(mine, out_policy=None))
    assert back == ["route-policy PEERBOT-PASS", "pass", "end-policy", "router bgp 64500", "neighbor 192.0.2.6",
                    "address-family ipv4 unicast", "route-policy PEERBOT-PASS out", "root"]


def test_a_first_filter_is_written_then_bound() -> None:
    new = replace(OLD, prefix_list_name=NEW_NAME, prefixes=V2)
    for platform in CLI_PLATFORMS:
        assert update_commands(platform, OLD, new) == WRITES_NEW[platform] + SWITCH[platform], platform


# -- max-prefix (limit, warning percentage, restart) as neighbor_create renders them ----------------
LIMITS = {
    Platform.FRR: ["router bgp 64500", "address-family ipv4 unicast", "neighbor 192.0.2.6 maximum-prefix 250 80 restart 15",
                   "exit-address-family", "exit"],
    Platform.IOS_XE: ["router bgp 64500", "address-family ipv4 unicast",
                      "neighbor 192.0.2.6 maximum-prefix 250 80 restart 15", "exit-address-family", "exit"],
    Platform.IOS_XR: ["router bgp 64500", "neighbor 192.0.2.6", "address-family ipv4 unicast",
                      "maximum-prefix 250 80 restart 15", "root"],
    # deleted and set whole: no stale teardown percentage or idle-timeout stays
    Platform.JUNOS: ["delete protocols bgp group IXP neighbor 192.0.2.6 family inet unicast prefix-limit",
                     "set protocols bgp group IXP neighbor 192.0.2.6 family inet unicast prefix-limit maximum 250",
                     "set protocols bgp group IXP neighbor 192.0.2.6 family inet unicast prefix-limit teardown 80 "
                     "idle-timeout 15"],
    Platform.EOS: ["router bgp 64500", "neighbor 192.0.2.6 maximum-routes 250 warning-limit 80 percent", "exit"],
}
NO_LIMIT = {
    Platform.FRR: ["router bgp 64500", "address-family ipv4 unicast", "no neighbor 192.0.2.6 maximum-prefix",
                   "exit-address-family", "exit"],
    Platform.IOS_XE: ["router bgp 64500", "address-family ipv4 unicast", "no neighbor 192.0.2.6 maximum-prefix",
                      "exit-address-family", "exit"],
    Platform.IOS_XR: ["router bgp 64500", "neighbor 192.0.2.6", "address-family ipv4 unicast", "no maximum-prefix",
                      "root"],
    Platform.JUNOS: ["delete protocols bgp group IXP neighbor 192.0.2.6 family inet unicast prefix-limit"],
    Platform.EOS: ["router bgp 64500", "no neighbor 192.0.2.6 maximum-routes", "exit"],
}


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_max_prefix_changes_render_limit_warning_and_restart(platform: Platform) -> None:
    new = replace(FILTERED, max_prefixes=250, max_prefix_warn=80, max_prefix_restart=15)
    assert update_commands(platform, FILTERED, new) == LIMITS[platform]
    # the same line as a new neighbor gets
    create = render(platform, "neighbor_create", new)
    assert all(ln in create for ln in LIMITS[platform] if "maxim" in ln or "prefix-limit teardown" in ln)
    assert update_commands(platform, FILTERED, replace(FILTERED, max_prefixes=None, max_prefix_warn=None)) \
        == NO_LIMIT[platform]


@pytest.mark.parametrize("platform", [Platform.FRR, Platform.IOS_XE, Platform.IOS_XR, Platform.EOS])
def test_a_re_created_neighbor_takes_the_old_object_away_with_it(platform: Platform) -> None:
    new = replace(FILTERED, local_asn=64511, prefix_list_name=NEW_NAME, prefixes=V2, remove_filters=(OLD_NAME,))
    lines = update_commands(platform, FILTERED, new)
    removed_with = render(platform, "delete", replace(FILTERED, remove_filters=(OLD_NAME,)))
    assert lines[:len(removed_with)] == removed_with and REMOVES_OLD[platform][-1] in removed_with
    assert lines[len(removed_with):] == render(platform, "neighbor_create",
                                               replace(new, exists_on_router=False, remove_filters=()))


def test_a_move_is_not_an_update() -> None:
    with pytest.raises(ValueError):
        update_commands(Platform.FRR, OLD, replace(OLD, peer_ip="192.0.2.14"))


def test_configuration_difference_lists_removed_and_added_lines() -> None:
    removed, added = config_difference(Platform.FRR, OLD, Platform.FRR, EDITED)
    assert removed == ["neighbor 192.0.2.6 description Example Net AS64501", "neighbor 192.0.2.6 password Old-Md5-Key"]
    assert added == ["neighbor 192.0.2.6 description Renamed AS64501", "neighbor 192.0.2.6 maximum-prefix 500"]
    assert config_difference(Platform.EOS, OLD, Platform.EOS, OLD) == ([], [])
