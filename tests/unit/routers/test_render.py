"""Templates: exact lines per platform and action, overrides, masking and the safety net."""
from __future__ import annotations

import dataclasses

import jinja2
import pytest

from bot.routers.base import CLI_PLATFORMS, Platform
from bot.routers.render import ACTIONS, mask_secrets, render

from .helpers import MD5, SPEC_V4, SPEC_V6

EXPECTED_CREATE_V4 = {
    Platform.FRR: [
        "ip prefix-list AS64501-IN seq 5 permit 198.51.100.0/25",
        "ip prefix-list AS64501-IN seq 10 permit 203.0.113.0/24",
        "router bgp 64500",
        "neighbor 192.0.2.6 remote-as 64501",
        "neighbor 192.0.2.6 shutdown",
        "neighbor 192.0.2.6 peer-group IXP",
        "neighbor 192.0.2.6 description AS64501 Example Net",
        f"neighbor 192.0.2.6 password {MD5}",
        "address-family ipv4 unicast",
        "neighbor 192.0.2.6 activate",
        "neighbor 192.0.2.6 prefix-list AS64501-IN in",
        "neighbor 192.0.2.6 maximum-prefix 100",
        "exit-address-family",
        "no neighbor 192.0.2.6 shutdown",
        "exit",
    ],
    Platform.IOS_XE: [
        "ip prefix-list AS64501-IN seq 5 permit 198.51.100.0/25",
        "ip prefix-list AS64501-IN seq 10 permit 203.0.113.0/24",
        "router bgp 64500",
        "neighbor 192.0.2.6 remote-as 64501",
        "neighbor 192.0.2.6 shutdown",
        "neighbor 192.0.2.6 peer-group IXP",
        "neighbor 192.0.2.6 description AS64501 Example Net",
        f"neighbor 192.0.2.6 password {MD5}",
        "address-family ipv4 unicast",
        "neighbor 192.0.2.6 activate",
        "neighbor 192.0.2.6 prefix-list AS64501-IN in",
        "neighbor 192.0.2.6 maximum-prefix 100",
        "exit-address-family",
        "no neighbor 192.0.2.6 shutdown",
        "exit",
    ],
    Platform.IOS_XR: [
        "prefix-set AS64501-IN",
        "198.51.100.0/25,",
        "203.0.113.0/24",
        "end-set",
        "route-policy AS64501-IN",
        "if destination in AS64501-IN then",
        "pass",
        "else",
        "drop",
        "endif",
        "end-policy",
        "route-policy PEERBOT-PASS",
        "pass",
        "end-policy",
        "router bgp 64500",
        "neighbor 192.0.2.6",
        "remote-as 64501",
        "use neighbor-group IXP",
        "description AS64501 Example Net",
        f"password clear {MD5}",
        "address-family ipv4 unicast",
        "route-policy AS64501-IN in",
        "route-policy PEERBOT-PASS out",
        "maximum-prefix 100",
        "root",
    ],
    Platform.JUNOS: [
        "set policy-options policy-statement AS64501-IN term peerbot-prefixes from route-filter 198.51.100.0/25 exact",
        "set policy-options policy-statement AS64501-IN term peerbot-prefixes from route-filter 203.0.113.0/24 exact",
        "set policy-options policy-statement AS64501-IN term peerbot-prefixes then accept",
        "set policy-options policy-statement AS64501-IN then reject",
        "set protocols bgp group IXP neighbor 192.0.2.6 peer-as 64501",
        'set protocols bgp group IXP neighbor 192.0.2.6 description "AS64501 Example Net"',
        f'set protocols bgp group IXP neighbor 192.0.2.6 authentication-key "{MD5}"',
        "set protocols bgp group IXP neighbor 192.0.2.6 family inet unicast",
        "set protocols bgp group IXP neighbor 192.0.2.6 family inet unicast prefix-limit maximum 100",
        "set protocols bgp group IXP neighbor 192.0.2.6 family inet unicast prefix-limit teardown 100",
        "delete protocols bgp group IXP neighbor 192.0.2.6 import",
        "set protocols bgp group IXP neighbor 192.0.2.6 import AS64501-IN",
    ],
    Platform.EOS: [
        "ip prefix-list AS64501-IN seq 10 permit 198.51.100.0/25",
        "ip prefix-list AS64501-IN seq 20 permit 203.0.113.0/24",
        "route-map AS64501-IN permit 10",
        "match ip address prefix-list AS64501-IN",
        "exit",
        "router bgp 64500",
        "neighbor 192.0.2.6 remote-as 64501",
        "neighbor 192.0.2.6 shutdown",
        "neighbor 192.0.2.6 peer group IXP",
        "neighbor 192.0.2.6 description AS64501 Example Net",
        f"neighbor 192.0.2.6 password 0 {MD5}",
        "neighbor 192.0.2.6 maximum-routes 100",
        "address-family ipv4",
        "neighbor 192.0.2.6 activate",
        "neighbor 192.0.2.6 route-map AS64501-IN in",
        "exit",
        "no neighbor 192.0.2.6 shutdown",
        "exit",
    ],
}

EXPECTED_CREATE_V6 = {
    Platform.FRR: [
        "router bgp 64500",
        "neighbor 2001:db8::6 remote-as 64501",
        "neighbor 2001:db8::6 shutdown",
        "neighbor 2001:db8::6 description AS64501 v6",
        "address-family ipv4 unicast",
        "no neighbor 2001:db8::6 activate",
        "exit-address-family",
        "address-family ipv6 unicast",
        "neighbor 2001:db8::6 activate",
        "exit-address-family",
        "no neighbor 2001:db8::6 shutdown",
        "exit",
    ],
    Platform.IOS_XE: [
        "router bgp 64500",
        "neighbor 2001:db8::6 remote-as 64501",
        "neighbor 2001:db8::6 shutdown",
        "neighbor 2001:db8::6 description AS64501 v6",
        "address-family ipv4 unicast",
        "no neighbor 2001:db8::6 activate",
        "exit-address-family",
        "address-family ipv6 unicast",
        "neighbor 2001:db8::6 activate",
        "exit-address-family",
        "no neighbor 2001:db8::6 shutdown",
        "exit",
    ],
    Platform.IOS_XR: [
        "route-policy PEERBOT-PASS",
        "pass",
        "end-policy",
        "router bgp 64500",
        "neighbor 2001:db8::6",
        "remote-as 64501",
        "description AS64501 v6",
        "address-family ipv6 unicast",
        "route-policy PEERBOT-PASS in",
        "route-policy PEERBOT-PASS out",
        "root",
    ],
    Platform.JUNOS: [
        "set protocols bgp group PEERBOT type external",
        "set protocols bgp group PEERBOT neighbor 2001:db8::6 peer-as 64501",
        'set protocols bgp group PEERBOT neighbor 2001:db8::6 description "AS64501 v6"',
        "set protocols bgp group PEERBOT neighbor 2001:db8::6 family inet6 unicast",
    ],
    Platform.EOS: [
        "router bgp 64500",
        "neighbor 2001:db8::6 remote-as 64501",
        "neighbor 2001:db8::6 shutdown",
        "neighbor 2001:db8::6 description AS64501 v6",
        "address-family ipv6",
        "neighbor 2001:db8::6 activate",
        "exit",
        "no neighbor 2001:db8::6 shutdown",
        "exit",
    ],
}

CISCO_LIKE_ADMIN = {
    "admin_down": ["router bgp 64500", "neighbor {ip} shutdown"],
    "admin_up": ["router bgp 64500", "no neighbor {ip} shutdown"],
    "delete": ["router bgp 64500", "no neighbor {ip}"],
}
EXPECTED_ADMIN = {
    Platform.FRR: CISCO_LIKE_ADMIN,
    Platform.IOS_XE: CISCO_LIKE_ADMIN,
    Platform.EOS: CISCO_LIKE_ADMIN,
    Platform.IOS_XR: {
        "admin_down": ["router bgp 64500", "neighbor {ip}", "shutdown", "root"],
        "admin_up": ["router bgp 64500", "neighbor {ip}", "no shutdown", "root"],
        "delete": ["router bgp 64500", "no neighbor {ip}", "root"],
    },
    Platform.JUNOS: {
        "admin_down": ["deactivate protocols bgp group {group} neighbor {ip}"],
        "admin_up": ["activate protocols bgp group {group} neighbor {ip}"],
        "delete": ["delete protocols bgp group {group} neighbor {ip}"],
    },
}


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_neighbor_create_v4_full(platform):
    assert render(platform, "neighbor_create", SPEC_V4) == EXPECTED_CREATE_V4[platform]


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_neighbor_create_v6_minimal(platform):
    assert render(platform, "neighbor_create", SPEC_V6) == EXPECTED_CREATE_V6[platform]


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
@pytest.mark.parametrize("action", ["admin_down", "admin_up", "delete"])
@pytest.mark.parametrize("spec,group", [(SPEC_V4, "IXP"), (SPEC_V6, "PEERBOT")])
def test_admin_and_delete(platform, action, spec, group):
    expected = [line.format(ip=spec.peer_ip, group=group) for line in EXPECTED_ADMIN[platform][action]]
    assert render(platform, action, spec) == expected


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_no_md5_means_no_password_line(platform):
    spec = dataclasses.replace(SPEC_V4, md5_password=None)
    lines = render(platform, "neighbor_create", spec)
    assert not any("password" in ln or "authentication-key" in ln for ln in lines)
    assert len(lines) == len(EXPECTED_CREATE_V4[platform]) - 1


@pytest.mark.parametrize("platform", list(CLI_PLATFORMS))
def test_v6_prefixes_only_go_into_a_v6_filter(platform):
    spec = dataclasses.replace(SPEC_V6, prefix_list_name="AS64501-IN6",
                               prefixes=("203.0.113.0/24", "2001:db8:65::/48"))
    text = "\n".join(render(platform, "neighbor_create", spec))
    assert "2001:db8:65::/48" in text
    assert "203.0.113.0/24" not in text


def test_frr_v6_prefix_list_and_shutdown_on_create():
    spec = dataclasses.replace(SPEC_V6, prefix_list_name="AS64501-IN6", prefixes=("2001:db8:65::/48",),
                               max_prefixes=50, admin_down=True)
    assert render("frr", "neighbor_create", spec) == [
        "ipv6 prefix-list AS64501-IN6 seq 5 permit 2001:db8:65::/48",
        "router bgp 64500",
        "neighbor 2001:db8::6 remote-as 64501",
        "neighbor 2001:db8::6 shutdown",
        "neighbor 2001:db8::6 description AS64501 v6",
        "address-family ipv4 unicast",
        "no neighbor 2001:db8::6 activate",
        "exit-address-family",
        "address-family ipv6 unicast",
        "neighbor 2001:db8::6 activate",
        "neighbor 2001:db8::6 prefix-list AS64501-IN6 in",
        "neighbor 2001:db8::6 maximum-prefix 50",
        "exit-address-family",
        "exit",
    ]


def test_eos_ipv6_prefix_list_uses_sub_mode():
    spec = dataclasses.replace(SPEC_V6, prefix_list_name="AS64501-IN6", prefixes=("2001:db8:65::/48",))
    assert render("eos", "neighbor_create", spec)[:6] == [
        "ipv6 prefix-list AS64501-IN6", "seq 10 permit 2001:db8:65::/48", "exit",
        "route-map AS64501-IN6 permit 10", "match ipv6 address prefix-list AS64501-IN6", "exit"]


def test_admin_down_on_create_junos_deactivates():
    spec = dataclasses.replace(SPEC_V4, admin_down=True)
    assert render("junos", "neighbor_create", spec)[-1] == "deactivate protocols bgp group IXP neighbor 192.0.2.6"
    assert "shutdown" in render("ios-xr", "neighbor_create", spec)


def test_filter_name_without_prefixes_references_existing_policy():
    spec = dataclasses.replace(SPEC_V4, prefixes=())
    xr = render("ios-xr", "neighbor_create", spec)
    assert "prefix-set AS64501-IN" not in xr and "route-policy AS64501-IN in" in xr
    assert not any(ln.startswith("ip prefix-list") for ln in render("frr", "neighbor_create", spec))


def test_platform_given_as_string_or_enum():
    assert render("frr", "delete", SPEC_V4) == render(Platform.FRR, "delete", SPEC_V4)


def test_unknown_action_and_platform():
    with pytest.raises(ValueError):
        render("frr", "reboot", SPEC_V4)
    with pytest.raises(ValueError):
        render("vyos", "delete", SPEC_V4)


def test_prefixes_without_a_list_name_are_refused():
    with pytest.raises(ValueError):
        render("frr", "neighbor_create", dataclasses.replace(SPEC_V4, prefix_list_name=None))


# ----------------------------------------------------------------------------- overrides
def test_user_template_override_wins(tmp_path):
    (tmp_path / "frr").mkdir()
    (tmp_path / "frr" / "admin_down.j2").write_text(
        "router bgp {{ spec.local_asn }}\n"
        "  neighbor {{ ip }} shutdown message {{ spec.description | replace(' ', '-') }}\n\n")
    assert render("frr", "admin_down", SPEC_V4, templates_dir=tmp_path) == [
        "router bgp 64500", "neighbor 192.0.2.6 shutdown message AS64501-Example-Net"]
    # actions without an override still come from the package
    assert render("frr", "admin_up", SPEC_V4, templates_dir=str(tmp_path)) == render("frr", "admin_up", SPEC_V4)


def test_override_with_undefined_variable_fails_loudly(tmp_path):
    (tmp_path / "eos").mkdir()
    (tmp_path / "eos" / "delete.j2").write_text("no neighbor {{ spec.peer_address }}\n")
    with pytest.raises(jinja2.UndefinedError):
        render("eos", "delete", SPEC_V4, templates_dir=tmp_path)


def test_override_cannot_produce_unsafe_lines(tmp_path):
    (tmp_path / "frr").mkdir()
    (tmp_path / "frr" / "delete.j2").write_text("router bgp 1 ; no router bgp 1\n")
    with pytest.raises(ValueError):
        render("frr", "delete", SPEC_V4, templates_dir=tmp_path)


# ----------------------------------------------------------------------------- safety
@pytest.mark.parametrize("bad", ["evil\nno router bgp 64500", "evil\rno router bgp", "a;b", "tab\there",
                                 "nul\x00", "del\x7f", "sep\u2028x", "esc\x1b[2J"])
@pytest.mark.parametrize("field", ["description", "md5_password", "peer_group"])
def test_control_characters_and_semicolons_are_refused(bad, field):
    spec = dataclasses.replace(SPEC_V4, **{field: bad})
    with pytest.raises(ValueError):
        render("frr", "neighbor_create", spec)


def test_mask_secrets_hides_md5_on_every_platform():
    for platform in Platform:
        lines = render(platform, "neighbor_create", SPEC_V4)
        assert any(MD5 in ln for ln in lines)
        masked = mask_secrets(lines, SPEC_V4)
        assert not any(MD5 in ln for ln in masked)
        assert any("********" in ln for ln in masked)
        assert len(masked) == len(lines)


def test_mask_secrets_without_md5_is_identity():
    lines = render("frr", "neighbor_create", SPEC_V6)
    assert mask_secrets(lines, SPEC_V6) == lines


def test_spec_repr_hides_md5():
    assert MD5 not in repr(SPEC_V4)
    assert "********" in repr(SPEC_V4)


def test_all_actions_render_for_all_platforms():
    for platform in Platform:
        for action in ACTIONS:
            assert render(platform, action, SPEC_V4)


@pytest.mark.parametrize("key", ["64501", "6", "a", "192.0.2.6"])
def test_mask_secrets_masks_by_position_not_by_value(key: str) -> None:
    """A key that is the peer's ASN, one character, or the address must leave the other lines
    alone: substring masking would garble them and give the key away by context."""
    spec = dataclasses.replace(SPEC_V4, md5_password=key)
    for platform in Platform:
        lines = render(platform, "neighbor_create", spec)
        masked = mask_secrets(lines, spec)
        changed = [(a, b) for a, b in zip(lines, masked) if a != b]
        assert len(changed) == 1, (platform, changed)
        before, after = changed[0]
        head, _, tail = before.rpartition(key)  # the key is the last argument of the password line
        assert after == f"{head}********{tail}" and tail in ("", '"', '";'), (platform, after)
        assert "password" in after or "authentication-key" in after


LINE_BY_LINE = (Platform.FRR, Platform.IOS_XE, Platform.EOS)


@pytest.mark.parametrize("platform", LINE_BY_LINE)
@pytest.mark.parametrize("spec", [SPEC_V4, SPEC_V6])
def test_a_push_cut_short_never_leaves_a_new_neighbor_up(platform, spec):
    """Whatever line a timeout or dropped connection stops at, a new neighbor is either absent
    or shut down; only the complete push enables it (with its key and filter in place). The
    shutdown must follow remote-as at once: these CLIs refuse it for a neighbor that does not
    exist yet, so that one line is the shortest window there can be."""
    from tests.fake_router import FakeRouter

    lines = render(platform, "neighbor_create", spec)
    assert lines[-2] == f"no neighbor {spec.peer_ip} shutdown" and lines[-1] == "exit"
    created = lines.index(f"neighbor {spec.peer_ip} remote-as {spec.remote_asn}")
    assert lines[created + 1] == f"neighbor {spec.peer_ip} shutdown"
    for cut in [*range(created + 1), *range(created + 2, len(lines) - 1)]:
        router = FakeRouter()
        for line in lines[:cut]:
            router.apply(line)
        nbr = router.neighbors.get(spec.peer_ip)
        assert nbr is None or nbr.shutdown, (platform, lines[:cut])
    router = FakeRouter()
    for line in lines:
        router.apply(line)
    assert not router.neighbors[spec.peer_ip].shutdown


@pytest.mark.parametrize("platform", LINE_BY_LINE)
def test_an_existing_neighbor_is_reconfigured_without_a_flap(platform):
    """No shutdown first (no flap); the last line still says the session is meant to be up, so a
    neighbor left shut by an interrupted push is enabled by Configure (a no-op when it is up)."""
    spec = dataclasses.replace(SPEC_V4, exists_on_router=True)
    lines = render(platform, "neighbor_create", spec)
    assert not any(ln.strip() == "neighbor 192.0.2.6 shutdown" for ln in lines)
    if platform == Platform.IOS_XE:  # re-reads the routes through the (possibly new) filter
        assert lines.pop() == "do clear bgp ipv4 unicast 192.0.2.6 soft in"
    new = [ln for ln in EXPECTED_CREATE_V4[platform] if ln.strip() != "neighbor 192.0.2.6 shutdown"]
    assert lines == new and lines[-2].strip() == "no neighbor 192.0.2.6 shutdown"


@pytest.mark.parametrize("platform", LINE_BY_LINE)
@pytest.mark.parametrize("exists", [False, True])
def test_an_admin_down_session_stays_shut(platform, exists):
    spec = dataclasses.replace(SPEC_V4, admin_down=True, exists_on_router=exists)
    lines = render(platform, "neighbor_create", spec)
    assert lines.index("neighbor 192.0.2.6 shutdown") == lines.index("neighbor 192.0.2.6 remote-as 64501") + 1
    assert "no neighbor 192.0.2.6 shutdown" not in lines


@pytest.mark.parametrize("platform", [Platform.IOS_XR, Platform.JUNOS])
def test_commit_platforms_ignore_the_flag(platform):
    """IOS-XR and Junos commit the whole change at once: nothing to hold down."""
    assert render(platform, "neighbor_create", SPEC_V4) == render(
        platform, "neighbor_create", dataclasses.replace(SPEC_V4, exists_on_router=True))
