"""Regex parser for Cisco-style `show bgp ... neighbors` text (IOS-XE and IOS-XR).

Both print one block per neighbor that starts with "BGP neighbor is <ip>". Inside a block:
  IOS-XE: "BGP neighbor is 192.0.2.2,  remote AS 64501, external link"
          "  BGP state = Established, up for 1d02h" / "  BGP state = Idle, down for 00:05:12"
          " For address family: IPv4 Unicast" ... "    Prefixes Current:   3   12" (sent, rcvd)
  IOS-XR: "BGP neighbor is 192.0.2.2" / " Remote AS 64501, local AS 64500, external link"
          " For Address Family: IPv4 Unicast" ... "  12 accepted prefixes, 12 are bestpaths"
          "  Prefix advertised 3, suppressed 0, withdrawn 0"
  both:   " Administratively shut down" (the only reliable admin-down marker on both)
          "  Last reset 00:05:12, due to Admin. shutdown of session 1"
`show bgp all neighbors` (IOS-XE) repeats a neighbor under every address family it is active
in; per-AF counters are therefore keyed by family name so nothing is counted twice.
"""
from __future__ import annotations

import re

from bot.routers.base import NeighborState
from bot.routers.parsers.common import norm_ip, normalize_state, parse_duration, to_int

_HEADER = re.compile(r"^BGP neighbor is (?P<ip>[0-9A-Fa-f:.]+?)(?P<zone>%\S+)?,?(?:\s+vrf (?P<vrf>\S+?),?)?"
                     r"(?:\s+remote AS (?P<asn>[\d.]+))?(?:,|\s|$)", re.M)
_REMOTE_AS = re.compile(r"^\s+Remote AS (?P<asn>[\d.]+)", re.M)
_DESCRIPTION = re.compile(r"^\s*Description: (?P<d>.*?)\s*$", re.M)
_STATE = re.compile(r"^\s+BGP state = (?P<state>\w+)(?:\s*\((?P<why>[^)]*)\))?"
                    r"(?:,\s*(?:up|down) for (?P<for>\S+))?", re.M)
_ADMIN = re.compile(r"^\s+Administratively shut ?down", re.M | re.I)
_LAST_RESET = re.compile(r"^\s+Last reset (?P<when>\S+?)(?:,\s*due to (?P<why>.+?))?\s*$", re.M)
_AF = re.compile(r"^ +For [Aa]ddress [Ff]amily: (?P<af>.+?)\s*$", re.M)
_XE_CURRENT = re.compile(r"^\s+Prefixes Current:\s+(?P<sent>\d+)\s+(?P<rcvd>\d+)", re.M)
_XR_ACCEPTED = re.compile(r"^\s+(?P<n>\d+) accepted prefixes", re.M)
_XR_ADVERTISED = re.compile(r"^\s+Prefix advertised (?P<n>\d+)", re.M)


def parse_neighbors(output: str) -> dict[str, NeighborState]:
    result: dict[str, NeighborState] = {}
    blocks: dict[str, list[str]] = {}
    heads = list(_HEADER.finditer(output))
    for i, m in enumerate(heads):
        if m.group("vrf") or m.group("zone"):
            continue  # peerbot manages the default VRF: a VRF peer with the same address is another neighbor
        end = heads[i + 1].start() if i + 1 < len(heads) else len(output)
        blocks.setdefault(norm_ip(m.group("ip")), []).append(output[m.start():end])
    for ip, texts in blocks.items():
        result[ip] = _state(ip, texts)
    return result


def _state(ip: str, texts: list[str]) -> NeighborState:
    text = texts[0]
    state_m = _STATE.search(text)
    raw_state = state_m.group("state") if state_m else None
    state = normalize_state(raw_state)
    why = (state_m.group("why") or "") if state_m else ""
    asn_m = _HEADER.search(text)
    asn = asn_m.group("asn") if asn_m and asn_m.group("asn") else None
    if asn is None and (m := _REMOTE_AS.search(text)):
        asn = m.group("asn")
    desc_m = _DESCRIPTION.search(text)
    received, advertised = _counters(texts)
    last_error = None
    if state != "Established":
        reset = _LAST_RESET.search(text)
        last_error = (reset.group("why") if reset and reset.group("why") else None) or (why or None)
    return NeighborState(
        peer_ip=ip,
        state=state,
        admin_down=bool(_ADMIN.search(text)) or "admin" in why.lower(),
        remote_asn=_asn(asn),
        prefixes_received=received,
        prefixes_accepted=received,  # both platforms count after inbound policy
        prefixes_advertised=advertised,
        uptime_seconds=parse_duration(state_m.group("for")) if state_m and state_m.group("for") else None,
        last_error=last_error,
        description=desc_m.group("d") if desc_m else None,
    )


def _counters(texts: list[str]) -> tuple[int | None, int | None]:
    """Sum received/advertised prefixes over distinct address families."""
    per_af: dict[str, tuple[int | None, int | None]] = {}
    for text in texts:
        sections = list(_AF.finditer(text))
        for i, m in enumerate(sections):
            end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
            body = text[m.end():end]
            if cur := _XE_CURRENT.search(body):
                per_af[m.group("af").lower()] = (int(cur.group("rcvd")), int(cur.group("sent")))
                continue
            acc, adv = _XR_ACCEPTED.search(body), _XR_ADVERTISED.search(body)
            if acc or adv:
                per_af[m.group("af").lower()] = (to_int(acc.group("n")) if acc else None,
                                                 to_int(adv.group("n")) if adv else None)
    rcvd = [r for r, _ in per_af.values() if r is not None]
    sent = [s for _, s in per_af.values() if s is not None]
    return (sum(rcvd) if rcvd else None), (sum(sent) if sent else None)


def _asn(text: str | None) -> int | None:
    if text and "." in text:  # asdot "1.10" -> 65546
        hi, lo = text.split(".", 1)
        return int(hi) * 65536 + int(lo)
    return to_int(text)
