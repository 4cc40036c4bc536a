"""BIRD 2: `birdc show protocols all`, every protocol of the daemon in one answer.

Shape (BIRD 2.0.12, tests/fixtures/routers/bird2): a header line, then one block per protocol,
blocks separated by a blank line:

    pb_192_0_2_14 BGP        ---        up     15:16:03.025  Established
      Description:    PEER AS64501
      BGP state:          Established
        Neighbor address: 192.0.2.14
        Neighbor AS:      64501
        Last error:       Received: Administrative shutdown
      Channel ipv4
        Routes:         1 imported, 0 exported, 1 preferred
        ...

Only BGP protocols are neighbors. The protocol state column says "down" for a disabled protocol
(`disabled yes;`, `birdc disable`): admin down; or for one BIRD shut itself because an import
limit with `action disable` tripped ("Automatic shutdown: Route limit exceeded"): Idle, with
peerbot's prefix-limit wording as the last error. BIRD prints no received count before filters, so received = accepted = imported
(as FRR). The "Since" column is a wall-clock time of the router, not a duration: uptime unknown.
"""
from __future__ import annotations

import re

from bot.routers.base import NeighborState
from bot.routers.parsers.common import norm_ip, normalize_state, prefix_limit_error, to_int

_HEAD = re.compile(r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<proto>\S+)\s+(?P<table>\S+)\s+(?P<state>\S+)"
                   r"(?:\s+(?P<since>\S+(?: \d\d:\d\d:\d\d\S*)?))?(?:\s+(?P<info>.*?))?\s*$")
_FIELD = re.compile(r"^\s+(?P<key>[A-Za-z][A-Za-z0-9 -]*?):\s*(?P<value>.*?)\s*$")
_ROUTES = re.compile(r"(\d{1,12}) imported.*?(\d{1,12}) exported")


def parse_neighbors(output: str) -> dict[str, NeighborState]:
    result: dict[str, NeighborState] = {}
    for block in _blocks(output):
        head = _HEAD.match(block[0])
        if head is None or head.group("proto") != "BGP":
            continue
        fields: dict[str, str] = {}
        imported = exported = None
        for line in block[1:]:
            m = _FIELD.match(line)
            if not m:
                continue
            key, value = m.group("key"), m.group("value")
            if key == "Routes":
                r = _ROUTES.search(value)
                got, sent = (to_int(r.group(1)), to_int(r.group(2))) if r else (None, None)
                if got is not None and sent is not None:  # one channel per peerbot session; several: summed
                    imported = (imported or 0) + got
                    exported = (exported or 0) + sent
            else:
                fields.setdefault(key, value)
        address = fields.get("Neighbor address")
        if not address:
            continue
        ip = norm_ip(address.split("%")[0])
        last_error = fields.get("Last error") or None
        # "down" is a disabled protocol; BIRD disabling it itself (an import limit with action
        # disable: "Automatic shutdown: Route limit exceeded") is no admin down
        limit_hit = bool(last_error and "Route limit exceeded" in last_error)
        down = head.group("state") == "down"
        state = "Idle" if down else normalize_state(fields.get("BGP state") or head.group("info") or "")
        result[ip] = NeighborState(
            peer_ip=ip, state=state, admin_down=down and not limit_hit, remote_asn=to_int(fields.get("Neighbor AS")),
            prefixes_received=imported, prefixes_accepted=imported, prefixes_advertised=exported,
            uptime_seconds=None,
            last_error=prefix_limit_error(to_int((fields.get("Import limit") or "").split(" ")[0])) if limit_hit else last_error,
            description=fields.get("Description") or None,
        )
    return result


def _blocks(output: str) -> list[list[str]]:
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in output.split("\n"):
        line = line.rstrip("\r")
        if not line.strip():
            if current:
                blocks.append(current)
            current = []
        elif line[0].isspace():
            if current:
                current.append(line)
        elif line.startswith(("BIRD ", "Name ")):
            continue
        else:
            if current:
                blocks.append(current)
            current = [line]
    if current:
        blocks.append(current)
    return blocks
