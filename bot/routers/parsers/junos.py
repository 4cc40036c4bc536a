"""Junos: `show bgp neighbor | display json` (all peers of the master instance).

Junos JSON wraps every value as [{"data": "..."}]. A peer has "peer-address"
("192.0.2.2+179" while a TCP session exists), "peer-as", "peer-state", "description",
"last-error", "bgp-rib" (one entry per table: received/accepted/advertised-prefix-count) and
"bgp-option-information"/"bgp-options-extended" which contains "Shutdown" when the peer is
administratively shut. Note that peerbot's admin-down on Junos *deactivates* the neighbor
(`deactivate protocols bgp group G neighbor X`), and an inactive neighbor is not shown at all:
the driver then reports it as absent. The output has no session uptime, so uptime is None.
"""
from __future__ import annotations

import json
import re

from bot.routers.base import NeighborState
from bot.routers.parsers.common import norm_ip, normalize_state, to_int


def parse_neighbors(output: str) -> dict[str, NeighborState]:
    data = json.loads(output) if output.strip() else {}
    result: dict[str, NeighborState] = {}
    for info in data.get("bgp-information", []):
        for peer in info.get("bgp-peer", []):
            st = _state(peer)
            result[st.peer_ip] = st
    return result


def _v(obj: dict, key: str) -> str | None:
    """First "data" value of a Junos JSON leaf, or None."""
    items = obj.get(key) or []
    if items and isinstance(items[0], dict):
        value = items[0].get("data")
        return None if value is None else str(value).strip()
    return None


def _address(raw: str) -> str:
    # "192.0.2.2+179", "2001:db8::2+179", "fe80::1%ge-0/0/0.0+179" -> address only
    return norm_ip(re.sub(r"\+\d+$", "", raw).split("%", 1)[0])


def _state(peer: dict) -> NeighborState:
    state = normalize_state(_v(peer, "peer-state"))
    options = peer.get("bgp-option-information") or [{}]
    extended = (_v(options[0], "bgp-options-extended") or "").split()
    ribs = peer.get("bgp-rib") or []
    last_error = _v(peer, "last-error")
    if last_error in (None, "", "None") or state == "Established":
        last_error = None
    return NeighborState(
        peer_ip=_address(_v(peer, "peer-address") or ""),
        state=state,
        admin_down="Shutdown" in extended,
        remote_asn=to_int(_v(peer, "peer-as")),
        prefixes_received=_sum(ribs, "received-prefix-count"),
        prefixes_accepted=_sum(ribs, "accepted-prefix-count"),
        prefixes_advertised=_sum(ribs, "advertised-prefix-count"),
        uptime_seconds=None,
        last_error=last_error,
        description=_v(peer, "description"),
    )


def _sum(ribs: list[dict], key: str) -> int | None:
    nums = [n for n in (to_int(_v(rib, key)) for rib in ribs) if n is not None]
    return sum(nums) if nums else None
