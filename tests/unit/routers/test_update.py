"""Edit of a configured neighbor on every platform: exactly the lines that change, negations for
what was removed, re-creation where a platform cannot change a setting in place, and the
configuration difference (removed / added) a person reads."""
from __future__ import annotations

from dataclasses import replace

import pytest

from bot.routers import NeighborSpec, Platform
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
    ],
    Platform.EOS: [
        "router bgp 64500",
        "neighbor 192.0.2.6 description Renamed AS64501",
        "no neighbor 192.0.2.6 password",
        "neighbor 192.0.2.6 maximum-routes 500",
        "exit",
    ],
}


@pytest.mark.parametrize("platform", list(Platform))
def test_only_the_changed_settings_are_sent(platform: Platform) -> None:
    assert update_commands(platform, OLD, EDITED) == EXPECTED[platform]


@pytest.mark.parametrize("platform", list(Platform))
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


@pytest.mark.parametrize("platform", list(Platform))
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


@pytest.mark.parametrize("platform", list(Platform))
def test_new_key_is_masked_like_the_old(platform: Platform) -> None:
    new = replace(OLD, md5_password="New-Md5-Key")
    lines = update_commands(platform, OLD, new)
    masked = mask_secrets(lines, new)
    assert any("New-Md5-Key" in line for line in lines)
    assert not any("Md5-Key" in line for line in masked) and any("********" in line for line in masked)


@pytest.mark.parametrize("platform", list(Platform))
def test_remote_asn_change(platform: Platform) -> None:
    lines = update_commands(platform, OLD, replace(OLD, remote_asn=64502))
    assert any("64502" in line for line in lines)
    assert not any("64501" in line for line in lines if "description" not in line)


def test_filter_entries_replaced_whole_when_the_list_keeps_its_name() -> None:
    old = replace(OLD, prefix_list_name="PEERBOT-AS64501-V4", prefixes=("203.0.113.0/24",))
    new = replace(old, prefixes=("203.0.113.0/24", "198.51.100.0/25"))
    assert update_commands(Platform.FRR, old, new)[:3] == [
        "no ip prefix-list PEERBOT-AS64501-V4",
        "ip prefix-list PEERBOT-AS64501-V4 seq 5 permit 203.0.113.0/24",
        "ip prefix-list PEERBOT-AS64501-V4 seq 10 permit 198.51.100.0/25",
    ]
    renamed = replace(new, prefix_list_name="PEERBOT-AS64502-V4")
    lines = update_commands(Platform.FRR, old, renamed)
    assert "no ip prefix-list PEERBOT-AS64502-V4" not in lines  # a new list: nothing to remove first
    assert "no neighbor 192.0.2.6 prefix-list PEERBOT-AS64501-V4 in" in lines
    assert "neighbor 192.0.2.6 prefix-list PEERBOT-AS64502-V4 in" in lines


def test_a_move_is_not_an_update() -> None:
    with pytest.raises(ValueError):
        update_commands(Platform.FRR, OLD, replace(OLD, peer_ip="192.0.2.14"))


def test_configuration_difference_lists_removed_and_added_lines() -> None:
    removed, added = config_difference(Platform.FRR, OLD, Platform.FRR, EDITED)
    assert removed == ["neighbor 192.0.2.6 description Example Net AS64501", "neighbor 192.0.2.6 password Old-Md5-Key"]
    assert added == ["neighbor 192.0.2.6 description Renamed AS64501", "neighbor 192.0.2.6 maximum-prefix 500"]
    assert config_difference(Platform.EOS, OLD, Platform.EOS, OLD) == ([], [])
