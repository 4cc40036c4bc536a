"""Shared test data for the router layer tests."""
from __future__ import annotations

from pathlib import Path

from bot.routers.base import NeighborSpec

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "routers"
MD5 = "Md5-Secr3t!"


def fixture(platform: str, name: str) -> str:
    return (FIXTURES / platform / name).read_text()


# a v4 session with everything: peer group, MD5, max-prefix, resolved AS-SET (both families)
SPEC_V4 = NeighborSpec(
    local_asn=64500, peer_ip="192.0.2.6", remote_asn=64501, description="AS64501 Example Net",
    address_family=4, peer_group="IXP", md5_password=MD5, max_prefixes=100,
    prefix_list_name="AS64501-IN", prefixes=("203.0.113.0/24", "2001:db8:65::/48", "198.51.100.0/25"),
)
# a bare v6 session: no group, no MD5, no limits, no filter
SPEC_V6 = NeighborSpec(
    local_asn=64500, peer_ip="2001:db8::6", remote_asn=64501, description="AS64501 v6", address_family=6,
)
