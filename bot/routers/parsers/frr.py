"""FRR: `show bgp neighbors json` (vtysh), all neighbors of the default VRF in one call.

Shape (FRR 8.4, see tests/fixtures/routers/frr): {"<ip>": {"bgpState": ..., "adminShutDown":
true (only present when shut), "remoteAs", "nbrDesc", "bgpTimerUpMsec" (only while
Established), "lastResetTimerMsecs", "lastResetDueTo", "addressFamilyInfo": {"ipv4Unicast":
{"acceptedPrefixCounter", "sentPrefixCounter", "prefixAllowedMax"}, ...}, and after a
maximum-prefix teardown "prefixesConfigExceedMax": true}}. An unknown single neighbor gives
{"bgpNoSuchNeighbor": true}.
"""
from __future__ import annotations

from bot.routers.base import NeighborState
from bot.routers.parsers.common import load_json, norm_ip, normalize_state, prefix_limit_error, to_int, with_prefix_limit


def parse_neighbors(output: str) -> dict[str, NeighborState]:
    data = load_json(output, "show bgp neighbors json") if output.strip() else {}
    result: dict[str, NeighborState] = {}
    for key, nb in data.items():
        # skips flags such as "bgpNoSuchNeighbor"; interface ("unnumbered") peers are kept by name
        if isinstance(nb, dict) and "bgpState" in nb:
            ip = norm_ip(key)
            result[ip] = _state(ip, nb)
    return result


def _state(ip: str, nb: dict) -> NeighborState:
    state = normalize_state(nb.get("bgpState"))
    afs = [af for af in (nb.get("addressFamilyInfo") or {}).values() if isinstance(af, dict)]
    accepted = _sum(af.get("acceptedPrefixCounter") for af in afs)
    if state == "Established":
        uptime_ms = nb.get("bgpTimerUpMsec")
        last_error = None  # lastResetDueTo is history once the session is up again
    else:
        uptime_ms = nb.get("lastResetTimerMsecs")  # time since the session went down
        last_error = nb.get("lastNotificationReason") or nb.get("lastResetDueTo")
        # Torn down by our own maximum-prefix (FRR 8.4: prefixesConfigExceedMax, "Cease/Maximum
        # Number of Prefixes Reached" sent); the limit is the family's prefixAllowedMax.
        limit = next((to_int(af.get("prefixAllowedMax")) for af in afs if af.get("prefixAllowedMax")), None)
        if nb.get("prefixesConfigExceedMax"):
            last_error = prefix_limit_error(limit)
        elif "received" not in str(nb.get("lastResetDueTo") or "").lower():
            last_error = with_prefix_limit(last_error, limit)
    up_ms = to_int(uptime_ms)  # not int(): a broken answer may hold "", a list or 5000 digits
    return NeighborState(
        peer_ip=ip,
        state=state,
        admin_down=bool(nb.get("adminShutDown")),
        remote_asn=to_int(nb.get("remoteAs")),
        prefixes_received=accepted,  # FRR's PfxRcd is the accepted (post-policy) count
        prefixes_accepted=accepted,
        prefixes_advertised=_sum(af.get("sentPrefixCounter") for af in afs),
        uptime_seconds=None if up_ms is None else up_ms // 1000,
        last_error=last_error or None,
        description=nb.get("nbrDesc"),
    )


def _sum(values) -> int | None:
    nums = [n for n in (to_int(v) for v in values) if n is not None]
    return sum(nums) if nums else None
