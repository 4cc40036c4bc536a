"""Arista EOS: `show ip bgp neighbors | json` and `show ipv6 bgp peers | json` (default VRF).

`show ip bgp neighbors` lists the IPv4-transport peers only; `show ipv6 bgp peers` (the EOS 4.23+
name of `show ipv6 bgp neighbors`) lists the IPv6-transport ones, in the same shape. The driver
sends both and merges the results; this parser reads one answer at a time.

Shape (recorded from EOS 4.30): {"vrfs": {"default": {"peerList": [{"peerAddress", "asn"
(a string, asdot when so configured), "state", "description" (when configured), "idleReason"
("Administratively shut down" for a shut peer), "establishFailHint" ("Cease/connection
rejected"), "lastErrorCode"/"lastErrorSubcode" (last NOTIFICATION sent),
"lastErrorRcvdCode"/"lastErrorRcvdSubcode" (last one received), "establishedTime" (seconds, while
Established), "prefixesReceived"/"prefixesSent" (IPv4 unicast), "v6PrefixesReceived"/
"v6PrefixesSent" (IPv6 unicast), ...}]}}}. A router without BGP answers {"vrfs": {}}.

Counts are those of the session's family (IPv4 unicast for an IPv4 peer, IPv6 unicast for an
IPv6 peer): that is the session peerbot configures, and an IPv6 peer's prefixesReceived stays 0.
The neighbor output has no separate accepted (post-policy) counter, so accepted = received.
Only the default VRF is read: peerbot manages the global table.
"""
from __future__ import annotations

import ipaddress
import math
import time

from bot.routers.base import NeighborState
from bot.routers.parsers.common import ParseError, load_json, log, norm_ip, normalize_state, to_int, with_prefix_limit

DEFAULT_VRF = "default"


def parse_neighbors(output: str, *, now: float | None = None) -> dict[str, NeighborState]:
    data = load_json(output, "show ... bgp neighbors | json")
    if data and not isinstance(data.get("vrfs"), dict):  # "{}": nothing configured
        raise ParseError("the EOS answer has no vrfs")
    vrf = (data.get("vrfs") or {}).get(DEFAULT_VRF) or {}
    result: dict[str, NeighborState] = {}
    for peer in vrf.get("peerList") or []:
        if not isinstance(peer, dict) or not peer.get("peerAddress") or not peer.get("state"):
            log.warning("skipped an EOS BGP peer without peerAddress/state")
            continue
        st = _state(peer, time.time() if now is None else now)
        result[st.peer_ip] = st
    return result


def _state(peer: dict, now: float) -> NeighborState:
    ip = norm_ip(str(peer.get("peerAddress", "")))
    state = normalize_state(peer.get("state"))
    idle_reason = str(peer.get("idleReason") or "")
    received_key, sent_key = _counter_keys(ip)
    received = to_int(peer.get(received_key))
    return NeighborState(
        peer_ip=ip,
        state=state,
        admin_down="admin" in idle_reason.lower() or bool(peer.get("shutdown")),
        remote_asn=_asn(peer.get("asn")),
        prefixes_received=received,
        prefixes_accepted=received,
        prefixes_advertised=to_int(peer.get(sent_key)),
        uptime_seconds=_uptime(peer, state, now),
        last_error=None if state == "Established" else with_prefix_limit(_last_error(peer) or None,
                                                                          to_int(peer.get("maxTotalRoutes"))),
        description=peer.get("description") or None,
    )


def _counter_keys(ip: str) -> tuple[str, str]:
    try:
        v6 = ipaddress.ip_address(ip).version == 6
    except ValueError:  # link-local peers print as "fe80::1%Et3": still an IPv6 session
        v6 = ":" in ip
    return ("v6PrefixesReceived", "v6PrefixesSent") if v6 else ("prefixesReceived", "prefixesSent")


def _uptime(peer: dict, state: str, now: float) -> int | None:
    # math.isfinite: JSON may hold 1e999 (inf), which int() cannot take
    established, updown = peer.get("establishedTime"), peer.get("updownTime")
    if isinstance(established, (int, float)) and math.isfinite(established) and state == "Established":
        return int(established)
    if isinstance(updown, (int, float)) and math.isfinite(updown) and updown > 0:  # epoch, some releases
        return max(0, int(now - updown))
    return None


def _last_error(peer: dict) -> str:
    """Why the session is not up, most specific first."""
    for key in ("idleReason", "establishFailHint"):
        if peer.get(key):
            return str(peer[key])
    for code, subcode in (("lastErrorRcvdCode", "lastErrorRcvdSubcode"), ("lastErrorCode", "lastErrorSubcode")):
        if peer.get(code):
            return "/".join(str(peer[k]) for k in (code, subcode) if peer.get(k))
    return ""


def _asn(value: object) -> int | None:
    text = str(value or "")
    if "." in text:  # asdot
        hi, lo = text.split(".", 1)
        return int(hi) * 65536 + int(lo)
    return to_int(text)
