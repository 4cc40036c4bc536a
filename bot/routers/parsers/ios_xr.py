"""IOS-XR: `show bgp neighbors` (every neighbor of the default VRF, all address families).

Parsed by the shared Cisco text parser (cisco_text), the only parser for XR: it reads the few
lines peerbot needs and skips everything else, so it works across XR releases. ntc-templates'
TextFSM template is not used: it stops with an error on any line it does not know, and XR 6.x/7.x
print several (the Adv/Rcvd capability table, "Message stats", "Entered Neighbor NSR TCP mode").
"""
from __future__ import annotations

from bot.routers.parsers.cisco_text import parse_neighbors

__all__ = ["parse_neighbors"]
