"""What a router's BGP configuration says about each neighbor, platform-neutral.

The parsers (one module a platform style) fill these from the router's own configuration output;
discovery (bot.adoption) turns them into proposals, imports and drift items. Nothing here talks to
a router. Values are the neighbor's effective ones: a setting the neighbor inherits from its peer
group counts as the neighbor's.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# filter_kind values: what the inbound filter bound to the neighbor is
PREFIX_LIST = "prefix-list"    # FRR / IOS-XE / EOS prefix-list, IOS-XR prefix-set
ROUTE_MAP = "route-map"        # FRR / IOS-XE / EOS route-map
ROUTE_POLICY = "route-policy"  # IOS-XR route-policy
POLICY = "policy"              # Junos import policy


@dataclass(frozen=True)
class ConfiguredNeighbor:
    """One neighbor as the router's configuration has it. Never holds a password's value."""

    peer_ip: str                      # normalised (str(ipaddress.ip_address(...)))
    remote_asn: int | None            # None: neither the neighbor nor its group sets one
    description: str | None = None    # as on the router (not sanitised: the importer does that)
    peer_group: str | None = None     # peer-group / neighbor-group / Junos group
    local_asn: int | None = None      # a per-neighbor local-as override, if any
    password_set: bool = False
    families: tuple[str, ...] = ()    # e.g. ("ipv4-unicast", "ipv6-unicast"), sorted
    inbound_filter: str | None = None  # the name bound inbound (prefix-list, route-map, policy)
    filter_kind: str | None = None    # PREFIX_LIST / ROUTE_MAP / ROUTE_POLICY / POLICY
    # The entries of an inbound prefix filter in bot.routers.prefixes form ("<cidr>[ ge M][ le N]"),
    # sorted; None when unknown (a route-map or policy, or a list not defined in the output).
    filter_entries: tuple[str, ...] | None = None
    max_prefixes: int | None = None
    max_prefix_warn: int | None = None     # percent
    max_prefix_restart: int | None = None  # minutes
    admin_down: bool = False
    # The limit only warns (IOS/FRR/EOS `warning-only`, Junos prefix-limit without teardown).
    max_prefix_warning_only: bool = False
    # The neighbor's configuration lines as read (passwords masked), for the report and Config
    # Manager; never sent back to a router as they are.
    lines: tuple[str, ...] = field(default=(), compare=False)

    def settings(self) -> dict[str, Any]:
        """The compared settings as plain JSON-able values (no lines)."""
        out = asdict(self)
        out.pop("lines")
        out["families"] = list(self.families)
        out["filter_entries"] = list(self.filter_entries) if self.filter_entries is not None else None
        return out

    def fingerprint(self) -> str:
        """A short digest of the settings: an Ignore holds until it changes."""
        text = json.dumps(self.settings(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class SkippedNeighbor:
    """A neighbor the parser saw but could not read: shown in the report, never imported."""

    peer: str    # the address as written (may be malformed)
    reason: str


@dataclass(frozen=True)
class BgpConfig:
    """A router's BGP configuration (default VRF / global instance)."""

    local_asn: int | None
    neighbors: dict[str, ConfiguredNeighbor]
    skipped: tuple[SkippedNeighbor, ...] = ()
