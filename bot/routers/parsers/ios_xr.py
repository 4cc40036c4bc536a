"""IOS-XR: `show bgp neighbors` (every neighbor of the default VRF, all address families).

Parsed with the ntc-templates TextFSM template `cisco_xr_show_bgp_neighbors`. That template
does not capture the " Administratively shut down" line and stops with an error on any line
it does not know (output differs between XR releases), so:
  * the admin flag is read from the raw neighbor block, and
  * if TextFSM fails, the shared Cisco regex parser (cisco_text) is used instead.
"""
from __future__ import annotations

import logging

from bot.routers.base import NeighborState
from bot.routers.parsers import cisco_text
from bot.routers.parsers.common import norm_ip, normalize_state, parse_duration, to_int

log = logging.getLogger(__name__)


def parse_neighbors(output: str) -> dict[str, NeighborState]:
    try:
        rows = _textfsm(output)
    except Exception as exc:  # textfsm raises its own error types on unknown lines
        log.info("TextFSM could not parse XR output (%s); using the regex parser", type(exc).__name__)
        return cisco_text.parse_neighbors(output)
    fallback = cisco_text.parse_neighbors(output)  # for the admin flag and description
    result: dict[str, NeighborState] = {}
    for row in rows:
        ip = norm_ip(row["neighbor"])
        state = normalize_state(row["state"])
        extra = fallback.get(ip)
        reason = row["last_reset_reason"] or row["error_code"] or None
        result[ip] = NeighborState(
            peer_ip=ip,
            state=state,
            admin_down=bool(extra and extra.admin_down),
            remote_asn=to_int(row["remote_as"]),
            prefixes_received=_sum(row["prefixes_in"]),
            prefixes_accepted=_sum(row["prefixes_in"]),
            prefixes_advertised=_sum(row["prefixes_out"]),
            uptime_seconds=parse_duration(row["uptime"]) if row["uptime"] else None,
            last_error=None if state == "Established" else reason,
            description=row["description"] or None,
        )
    return result


def _textfsm(output: str) -> list[dict]:
    from ntc_templates.parse import parse_output  # imported lazily: loads the template index

    return parse_output(platform="cisco_xr", command="show bgp neighbors", data=output)


def _sum(values: list[str]) -> int | None:
    nums = [int(v) for v in values if str(v).isdigit()]
    return sum(nums) if nums else None
