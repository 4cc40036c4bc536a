"""Arista EOS: `show ip bgp neighbors | json` (all peers of the default VRF, IPv4 and IPv6).

Chosen over `show bgp neighbors vrf all | json` because peerbot manages the default VRF only
and the `ip` form exists on every EOS release. Shape: {"vrfs": {"default": {"peerList": [{
"peerAddress", "asn" (string on recent releases, int on old ones), "state", "description",
"idleReason" ("Administratively shut down" for a shut peer), "prefixesReceived",
"prefixesSent", "establishedTime" (seconds in the current state) or "updownTime" (epoch),
"lastRcvdNotification"/"lastSentNotification"}]}}}.
"""
from __future__ import annotations

import json
import time

from bot.routers.base import NeighborState
from bot.routers.parsers.common import norm_ip, normalize_state, to_int


def parse_neighbors(output: str, *, now: float | None = None) -> dict[str, NeighborState]:
    data = json.loads(output) if output.strip() else {}
    result: dict[str, NeighborState] = {}
    for vrf in (data.get("vrfs") or {}).values():
        for peer in vrf.get("peerList") or []:
            st = _state(peer, time.time() if now is None else now)
            result[st.peer_ip] = st
    return result


def _state(peer: dict, now: float) -> NeighborState:
    state = normalize_state(peer.get("state"))
    idle_reason = str(peer.get("idleReason") or "")
    received = to_int(peer.get("prefixesReceived"))
    accepted = to_int(peer.get("prefixesAccepted", peer.get("prefixAccepted")))
    return NeighborState(
        peer_ip=norm_ip(str(peer.get("peerAddress", ""))),
        state=state,
        admin_down="admin" in idle_reason.lower() or bool(peer.get("shutdown")),
        remote_asn=_asn(peer.get("asn")),
        prefixes_received=received,
        prefixes_accepted=accepted if accepted is not None else received,
        prefixes_advertised=to_int(peer.get("prefixesSent")),
        uptime_seconds=_uptime(peer, now),
        last_error=None if state == "Established" else (idle_reason or _notification(peer) or None),
        description=peer.get("description") or None,
    )


def _uptime(peer: dict, now: float) -> int | None:
    if isinstance(peer.get("establishedTime"), (int, float)) and normalize_state(peer.get("state")) == "Established":
        return int(peer["establishedTime"])
    if isinstance(peer.get("updownTime"), (int, float)) and peer["updownTime"] > 0:
        return max(0, int(now - peer["updownTime"]))
    return None


def _notification(peer: dict) -> str | None:
    for key in ("lastRcvdNotification", "lastSentNotification"):
        note = peer.get(key)
        if isinstance(note, str) and note:
            return note
        if isinstance(note, dict):
            parts = [str(note[k]) for k in ("errorCode", "errorSubcode", "notificationCode") if note.get(k)]
            if parts:
                return "/".join(parts)
    return None


def _asn(value: object) -> int | None:
    text = str(value or "")
    if "." in text:  # asdot
        hi, lo = text.split(".", 1)
        return int(hi) * 65536 + int(lo)
    return to_int(text)
