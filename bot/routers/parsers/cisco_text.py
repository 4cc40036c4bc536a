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

Prefix counts, the same rule as the Junos and EOS parsers: a neighbor's numbers are those of the
unicast family of its own transport (IPv4 Unicast for an IPv4 peer address, IPv6 Unicast for an
IPv6 one), which is the session peerbot configures; VPNv4, EVPN or the other unicast family
carried over the same session are not added. A neighbor without that family's section (e.g. a
VPNv4-only iBGP session) reports the sum of the families it has.

Real captures differ in layout, so no line is found by its indentation: genieparser stores them
indented, pasted ones come whitespace-stripped or collapsed ("BGP state = Established up for"),
paged ones carry "--More--" and backspaces. A block without a "BGP state =" line (cut short) is
skipped with a warning rather than guessed Idle; output without any neighbor block that is not
an empty list (family headers, prompt, XR's time line) is a ParseError, never "no neighbors".
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from bot.routers.base import NeighborState
from bot.routers.parsers.common import (
    ParseError, clean_cli_text, is_prefix_limit, log, norm_ip, normalize_state, parse_duration, to_int,
    with_prefix_limit,
)

_HEADER = re.compile(r"^[ \t]*BGP neighbor is \*?(?P<ip>[0-9A-Fa-f:.]+?)(?P<zone>%\S+)?,?(?:\s+vrf (?P<vrf>\S+?),?)?"
                     r"(?:\s+remote AS (?P<asn>[\d.]+))?(?:,|\s|$)", re.M)
_REMOTE_AS = re.compile(r"^[ \t]*Remote AS (?P<asn>[\d.]+)", re.M)
_DESCRIPTION = re.compile(r"^\s*Description: (?P<d>.*?)\s*$", re.M)
_STATE = re.compile(r"^[ \t]*BGP state = (?P<state>\w+)(?:\s*\((?P<why>[^)]*)\))?"
                    r"(?:,?\s*(?:up|down) for (?P<for>\S+))?", re.M)  # no comma in whitespace-collapsed pastes
_ADMIN = re.compile(r"^[ \t]*Administratively shut ?down", re.M | re.I)
_LAST_RESET = re.compile(r"^[ \t]*Last reset (?P<when>\S+?)(?:,\s*due to (?P<why>.+?))?\s*$", re.M)
_AF = re.compile(r"^[ \t]*For [Aa]ddress [Ff]amily: (?P<af>.+?)\s*$", re.M)
_XE_CURRENT = re.compile(r"^[ \t]*Prefixes Current:\s+(?P<sent>\d+)\s+(?P<rcvd>\d+)", re.M)
_XR_ACCEPTED = re.compile(r"^[ \t]*(?P<n>\d+) accepted prefixes", re.M)
_XR_ADVERTISED = re.compile(r"^[ \t]*Prefix advertised (?P<n>\d+)", re.M)
_MAX_PREFIXES = re.compile(r"^[ \t]*Maximum prefixes allowed (?P<n>\d+)", re.M)
_FAMILY_AF = {4: "ipv4 unicast", 6: "ipv6 unicast"}  # lower-cased "For address family:" names


def parse_neighbors(output: str) -> dict[str, NeighborState]:
    output = clean_cli_text(output)
    result: dict[str, NeighborState] = {}
    blocks: dict[str, list[str]] = {}
    heads = list(_HEADER.finditer(output))
    if not heads:
        _check_no_neighbors(output)
    for i, m in enumerate(heads):
        if m.group("vrf") or m.group("zone"):
            continue  # peerbot manages the default VRF: a VRF peer with the same address is another neighbor
        end = heads[i + 1].start() if i + 1 < len(heads) else len(output)
        blocks.setdefault(norm_ip(m.group("ip")), []).append(output[m.start():end])
    for ip, texts in blocks.items():
        if not _STATE.search(texts[0]):  # cut short (paging, a read timeout): guessing Idle would raise an alarm
            log.warning("skipped BGP neighbor %s: its block has no 'BGP state =' line", ip)
            continue
        result[ip] = _state(ip, texts)
    return result


# what a router prints around an empty neighbor list: family headers, the prompt and
# command echo, XR's timestamp line
_EMPTY_LINE = re.compile(r"^(?:For [Aa]ddress [Ff]amily: .*|\S*[#>]\s*show .*|\S+[#>]\s*"
                         r"|(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \w{3} +\d+ [\d:.]+(?: \w+)?)$")


def _check_no_neighbors(output: str) -> None:
    """No neighbor block: fine when nothing else is there (no neighbors configured), a
    ParseError when there is other text (an error message, a banner, another command's output)."""
    other = [ln for ln in (raw.strip() for raw in output.splitlines()) if ln and not _EMPTY_LINE.match(ln)]
    if other:
        raise ParseError("no 'BGP neighbor is' block in the output, and it is not an empty neighbor list")


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
    received, advertised = _counters(ip, texts)
    last_error = None
    if state != "Established":
        reset = _LAST_RESET.search(text)
        last_error = (reset.group("why") if reset and reset.group("why") else None) or (why or None)
        if why and not is_prefix_limit(last_error) and is_prefix_limit(why):  # "Idle (PfxCt)" beats an older reset reason
            last_error = why
        limit = _MAX_PREFIXES.search(text)
        last_error = with_prefix_limit(last_error, int(limit.group("n")) if limit else None)
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


def _counters(ip: str, texts: list[str]) -> tuple[int | None, int | None]:
    """Received/advertised prefixes of the session's own family: see the module docstring."""
    per_af: dict[str, tuple[int | None, int | None]] = {}
    for text in texts:
        sections = list(_AF.finditer(text))
        for i, m in enumerate(sections):
            end = sections[i + 1].start() if i + 1 < len(sections) else len(text)
            counts = _af_counters(text[m.end():end])
            if counts == (None, None):
                # no counters: a repeat, or (in whitespace-stripped captures) the next
                # family's header line, which sits at the end of the previous block
                continue
            per_af[m.group("af").lower()] = counts
    try:
        own_af = _FAMILY_AF[ipaddress.ip_address(ip).version]
    except ValueError:  # not an address (should not happen): count what is there
        own_af = None
    chosen = [per_af[own_af]] if own_af in per_af else list(per_af.values())
    return _sum(r for r, _ in chosen), _sum(s for _, s in chosen)


def _af_counters(body: str) -> tuple[int | None, int | None]:
    """(received, advertised) of one address-family section; None where not printed."""
    if cur := _XE_CURRENT.search(body):
        return int(cur.group("rcvd")), int(cur.group("sent"))
    acc, adv = _XR_ACCEPTED.search(body), _XR_ADVERTISED.search(body)
    return (to_int(acc.group("n")) if acc else None), (to_int(adv.group("n")) if adv else None)


def _sum(values: Iterable[int | None]) -> int | None:
    nums = [n for n in values if n is not None]
    return sum(nums) if nums else None


def _asn(text: str | None) -> int | None:
    if text and "." in text:  # asdot "1.10" -> 65546
        hi, lo = text.split(".", 1)
        return int(hi) * 65536 + int(lo)
    return to_int(text)
