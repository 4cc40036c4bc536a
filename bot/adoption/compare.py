"""How a session and the neighbor its router has differ: pure functions over plain values, so the
drift comparison of 10,000 sessions is a loop over dicts (bench/discover.py measures it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# the settings compared, in the order their lines are shown
COMPARED = ("remote_asn", "peer_group", "admin_down", "inbound_filter", "max_prefixes", "password_set")


@dataclass(frozen=True)
class Expected:
    """What peerbot would render for a session: the values a drift check compares."""

    session_id: int
    peer_ip: str
    configured: bool
    remote_asn: int
    peer_group: str | None
    admin_down: bool
    inbound_filter: str | None
    max_prefixes: int | None
    password_set: bool

    def settings(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in COMPARED}


def _words(key: str, value: Any) -> str:
    if key == "remote_asn":
        return f"AS{value}" if value is not None else "none"
    if key == "admin_down":
        return "shut down" if value else "up"
    if key == "password_set":
        return "a TCP-MD5 key" if value else "no TCP-MD5 key"
    if key == "max_prefixes":
        return f"{value:,}" if value else "no limit"
    return str(value) if value else "none"


LABEL = {"remote_asn": "remote AS", "peer_group": "peer group", "admin_down": "admin state",
         "inbound_filter": "inbound filter", "max_prefixes": "max-prefix limit", "password_set": "password"}


def differences(expected: Expected, found: dict[str, Any]) -> list[str]:
    """One line a differing setting: "remote AS: router AS65010, peerbot AS65001". `found` is a
    ConfiguredNeighbor.settings() dict (as stored in RouterNeighbor)."""
    out = []
    for key in COMPARED:
        want, have = getattr(expected, key), found.get(key)
        if key in ("admin_down", "password_set"):
            same = bool(want) == bool(have)
        else:  # 0, "" and None all mean "none"
            same = (want or None) == (have or None)
        if not same:
            out.append(f"{LABEL[key]}: router {_words(key, have)}, peerbot {_words(key, want)}")
    return out
