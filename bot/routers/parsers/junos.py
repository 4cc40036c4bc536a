"""Junos: `show bgp neighbor | display json`, peers of the master instance only.

Junos JSON wraps every value as [{"data": "..."}] (an empty element is [{}] or
[{"data": [null]}]). A peer has "peer-address" ("192.0.2.2+179" while a TCP session exists),
"peer-as", "peer-state", "description", "last-error", "peer-cfg-rti" (the routing instance it is
configured in: "master" for the global table), "bgp-option-information"/"bgp-options-extended"
(contains "Shutdown" when the peer is administratively shut) and "bgp-rib": one entry per table
the peer's routes are in, with "name", "rib-bit", "send-state" and the received/accepted/
advertised-prefix-count.

Routing instances: the command lists the peers of every instance. peerbot manages the global
table (master instance) only, so peers of other instances (VRFs, virtual routers) are not
reported at all, and a VRF peer that reuses a master peer's address cannot stand in for it.

Prefix counts: besides the tables a session's families are carried in (the primary tables:
they have a "rib-bit" and a real send-state), a peer lists every table its routes are copied to
(rib-groups, EVPN/VPN instance tables: no "rib-bit", send-state "not advertising"). Those repeat
the same routes, so only primary tables count, and of those only the unicast table of the
session's family (inet.0 for an IPv4 peer, inet6.0 for an IPv6 one), which is the session
peerbot configures. A peer without that table (e.g. an EVPN-only iBGP session) reports the sum
of its primary tables.

Note that peerbot's admin-down on Junos *deactivates* the neighbor (`deactivate protocols bgp
group G neighbor X`), and an inactive neighbor is not shown at all: the driver then reports it as
absent. The output has no session uptime, so uptime is None.
"""
from __future__ import annotations

import ipaddress
import re

from bot.routers.base import NeighborState
from bot.routers.parsers.common import (
    ParseError, is_prefix_limit, load_json, log, norm_ip, normalize_state, prefix_limit_error, to_int,
)

MASTER_INSTANCE = "master"
# the global table's instance (a peer without peer-cfg-rti: see _instance)
_GLOBAL_INSTANCE_NAMES = {MASTER_INSTANCE, "default"}
_FAMILY_TABLE = {4: "inet.0", 6: "inet6.0"}


def parse_neighbors(output: str) -> dict[str, NeighborState]:
    data = load_json(output, "show bgp neighbor | display json")
    if data and not isinstance(data.get("bgp-information"), list):  # "{}": nothing configured
        raise ParseError("the Junos answer has no bgp-information")
    result: dict[str, NeighborState] = {}
    for info in data.get("bgp-information") or []:
        for peer in (info.get("bgp-peer") or []) if isinstance(info, dict) else []:
            if _instance(peer) not in _GLOBAL_INSTANCE_NAMES:
                continue  # a VRF / virtual-router peer: not in the table peerbot manages
            if not _v(peer, "peer-address") or not _v(peer, "peer-state"):
                log.warning("skipped a Junos BGP peer without peer-address/peer-state")
                continue
            st = _state(peer)
            result[st.peer_ip] = st
    return result


def _instance(peer: dict) -> str:
    """The routing instance a peer is configured in. Releases without peer-cfg-rti (13.x)
    name an instance peer's tables "<instance>.inet.0", "<instance>.inet6.0": a peer whose
    primary tables all belong to one instance is that instance's peer (master tables have a
    single dot, or the "bgp." prefix: bgp.l3vpn.0, bgp.evpn.0)."""
    if rti := _v(peer, "peer-cfg-rti"):
        return rti
    owners = {_table_instance(_v(rib, "name") or "") for rib in peer.get("bgp-rib") or [] if _is_primary(rib)}
    return owners.pop() if len(owners) == 1 else MASTER_INSTANCE


def _table_instance(table: str) -> str:
    parts = table.split(".")
    return parts[0] if len(parts) > 2 and parts[0] != "bgp" else MASTER_INSTANCE


def _v(obj: dict, key: str) -> str | None:
    """First "data" value of a Junos JSON leaf, or None."""
    items = obj.get(key) or []
    if items and isinstance(items[0], dict):
        value = items[0].get("data")
        return None if value is None or isinstance(value, list) else str(value).strip()
    return None


def _address(raw: str) -> str:
    # "192.0.2.2+179", "2001:db8::2+179", "fe80::1%ge-0/0/0.0+179" -> address only
    return norm_ip(re.sub(r"\+\d+$", "", raw).split("%", 1)[0])


def _state(peer: dict) -> NeighborState:
    state = normalize_state(_v(peer, "peer-state"))
    options = peer.get("bgp-option-information") or [{}]
    extended = (_v(options[0], "bgp-options-extended") or "").split()
    ip = _address(_v(peer, "peer-address") or "")
    ribs = _session_ribs(peer.get("bgp-rib") or [], ip)
    last_error = _v(peer, "last-error")
    if last_error in (None, "", "None") or state == "Established":
        last_error = None
    elif is_prefix_limit(_v(peer, "last-flap-event")) or is_prefix_limit(last_error):
        last_error = prefix_limit_error(None)  # "Cease" + a PrefixLimitExceeded flap event
    return NeighborState(
        peer_ip=ip,
        state=state,
        admin_down="Shutdown" in extended,
        remote_asn=_asn(_v(peer, "peer-as")),
        prefixes_received=_sum(ribs, "received-prefix-count"),
        prefixes_accepted=_sum(ribs, "accepted-prefix-count"),
        prefixes_advertised=_sum(ribs, "advertised-prefix-count"),
        uptime_seconds=None,
        last_error=last_error,
        description=_v(peer, "description"),
    )


def _session_ribs(ribs: list[dict], ip: str) -> list[dict]:
    """The tables whose counters describe the session: see the module docstring."""
    primary = [rib for rib in ribs if _is_primary(rib)]
    try:
        family_table = _FAMILY_TABLE[ipaddress.ip_address(ip).version]
    except ValueError:  # not an address (should not happen for a master peer): count what is there
        return primary
    own = [rib for rib in primary if _v(rib, "name") == family_table]
    return own or primary


def _is_primary(rib: dict) -> bool:
    if _v(rib, "rib-bit"):
        return True
    # no bit: a copy (send-state "not advertising"), unless the release does not print bits
    return (_v(rib, "send-state") or "not advertising").lower() != "not advertising"


def _sum(ribs: list[dict], key: str) -> int | None:
    nums = [n for n in (to_int(_v(rib, key)) for rib in ribs) if n is not None]
    return sum(nums) if nums else None


def _asn(text: str | None) -> int | None:
    if text and "." in text:  # asdot ("as-notation dot"): "1.10" -> 65546
        hi, _, lo = text.partition(".")
        return int(hi) * 65536 + int(lo) if hi.isdigit() and lo.isdigit() else None
    return to_int(text)
