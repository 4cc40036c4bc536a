"""OpenBGPD: `bgpctl -j show neighbor` (OpenBGPD 7.7), every neighbor in one JSON answer:

    {"neighbors": [{"remote_as": "64501", "description": "...", "remote_addr": "192.0.2.22",
                    "state": "Established", "last_updown_sec": 12,
                    "config": {"down": false, "max_prefix": 100, ...},
                    "stats": {"prefixes": {"sent": 0, "received": 1}, ...},
                    "last_error_sent": "Cease, received max-prefix exceeded", ...}]}

`config.down` is the neighbor's `down` statement (peerbot's admin down). OpenBGPD counts the
prefixes in the neighbor's Adj-RIB-In, before the import filter ("received"); what passed the
filter is not in this answer (`bgpctl show rib neighbor X` has it): accepted is unknown (None).
A session torn down by its max-prefix shows the reason in its last error, as peerbot's wording.
"""
from __future__ import annotations

from bot.routers.base import NeighborState
from bot.routers.parsers.common import (
    ParseError, is_prefix_limit, load_json, norm_ip, normalize_state, prefix_limit_error, to_int,
)


def parse_neighbors(output: str) -> dict[str, NeighborState]:
    data = load_json(output, "bgpctl -j show neighbor")
    neighbors = data.get("neighbors", [])
    if not isinstance(neighbors, list):
        raise ParseError("the bgpctl -j show neighbor output has no neighbor list")
    result: dict[str, NeighborState] = {}
    for n in neighbors:
        if not isinstance(n, dict) or not n.get("remote_addr"):
            continue
        config = n.get("config") if isinstance(n.get("config"), dict) else {}
        if config.get("template"):
            continue  # a "neighbor 192.0.2.0/24" template, not a session
        stats = n.get("stats") if isinstance(n.get("stats"), dict) else {}
        prefixes = stats.get("prefixes") if isinstance(stats.get("prefixes"), dict) else {}
        ip = norm_ip(str(n["remote_addr"]))
        state = normalize_state(str(n.get("state") or ""))
        last_error = _last_error(n)
        if last_error and ("max-prefix" in last_error or is_prefix_limit(last_error)):
            last_error = prefix_limit_error(to_int(config.get("max_prefix")))
        up = to_int(n.get("last_updown_sec"))
        result[ip] = NeighborState(
            peer_ip=ip, state=state, admin_down=bool(config.get("down")), remote_asn=to_int(n.get("remote_as")),
            prefixes_received=to_int(prefixes.get("received")), prefixes_accepted=None,
            prefixes_advertised=to_int(prefixes.get("sent")),
            uptime_seconds=up if state == "Established" and up is not None and up >= 0 else None,
            last_error=last_error, description=n.get("description") or None,
        )
    return result


def _last_error(n: dict) -> str | None:
    for key in ("last_error_sent", "last_error_received", "last_error"):
        value = n.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None
