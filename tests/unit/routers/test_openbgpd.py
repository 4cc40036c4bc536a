"""OpenBGPD (issue 20) without a router: the `bgpctl -j show neighbor` parser on captures from
the lab's OpenBGPD 7.7, the templates and the driver's admin-state line. Against the real
daemon: tests/integration/test_openbgpd_lab.py."""
from __future__ import annotations

from pathlib import Path

from bot.routers import NeighborSpec, Platform, RouterCredentials, get_driver, render
from bot.routers.openbgpd_driver import OpenBgpdDriver, index_text
from bot.routers.parsers import PARSERS

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "routers" / "openbgpd"
SPEC = NeighborSpec(local_asn=64500, peer_ip="192.0.2.22", remote_asn=64501, description="Peer AS64501",
                    address_family=4, md5_password="Obgp-Md5-1", max_prefixes=100, max_prefix_restart=5,
                    prefix_list_name="PB-AS-X-abcdef-4-123456", prefixes=("203.0.113.0/25", "198.51.100.0/24 le 25"))


def parse(name: str):
    return PARSERS[Platform.OPENBGPD]((FIXTURES / name).read_text())["192.0.2.22"]


def test_established_down_and_limit_captures() -> None:
    up = parse("neighbor_established.json")
    assert up.state == "Established" and not up.admin_down and up.remote_asn == 64501 and up.prefixes_received == 3
    down = parse("neighbor_down.json")
    assert down.admin_down
    limit = parse("neighbor_limit.json")
    assert limit.state == "Idle" and not limit.admin_down and limit.last_error == "prefix limit exceeded (1)"


def test_the_session_file_has_filter_limit_key_and_one_admin_line() -> None:
    lines = render(Platform.OPENBGPD, "neighbor_create", SPEC)
    assert lines[0] == "#peerbot file pb_192_0_2_22.conf"
    assert "198.51.100.0/24 prefixlen 24 - 25," in lines and "max-prefix 100 restart 5" in lines
    assert 'tcp md5sig password "Obgp-Md5-1"' in lines and "# up" in lines
    assert lines[-3].startswith("allow quick from 192.0.2.22 prefix-set pb_192_0_2_22_in_")
    assert lines[-2:] == ["deny quick from 192.0.2.22", "deny quick to 192.0.2.22"]
    assert render(Platform.OPENBGPD, "admin_down", SPEC) == ["#peerbot disabled pb_192_0_2_22.conf yes"]
    drv = get_driver(RouterCredentials("o.example", 22, "u", "pw", None, Platform.OPENBGPD))
    assert isinstance(drv, OpenBgpdDriver)
    text, n = drv.set_disabled("neighbor 192.0.2.22 {\n  # up\n}\n", "yes")
    assert n == 1 and text == "neighbor 192.0.2.22 {\n  down\n}\n"
    assert 'include "/d/pb_a.conf"\ninclude "/d/pb_b.conf"\n' in index_text("/d", {"pb_b.conf", "pb_a.conf"})
