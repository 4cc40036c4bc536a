"""IOS-XE: `show bgp all neighbors` (all address families, default VRF).

ntc-templates has no template for this command (only `show ip bgp neighbors`, which is
IPv4-only and lacks prefix counters and the admin-shutdown flag), so a regex parser is used.
"""
from __future__ import annotations

from bot.routers.parsers.cisco_text import parse_neighbors

__all__ = ["parse_neighbors"]
