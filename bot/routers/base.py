"""Platform-neutral types of the router layer: what to configure, what we read back, what can fail.

Nothing here talks to a router; drivers (netmiko_driver.py) and parsers (parsers/) build on it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass
from collections.abc import Iterable
from typing import Any, Protocol, runtime_checkable

from bot.base.redact import MASK  # noqa: F401 - re-exported for the router layer


class Platform(str, enum.Enum):
    FRR = "frr"
    IOS_XE = "ios-xe"
    IOS_XR = "ios-xr"
    JUNOS = "junos"
    EOS = "eos"
    BIRD2 = "bird2"  # configured by files (bot/routers/bird_driver.py), not by CLI lines
    OPENBGPD = "openbgpd"  # configured by files too (bot/routers/openbgpd_driver.py)


# Platforms whose configuration is files the driver writes, checks and reloads (not CLI lines).
FILE_PLATFORMS = frozenset({Platform.BIRD2, Platform.OPENBGPD})
# The platforms configured with CLI lines (netmiko).
CLI_PLATFORMS = tuple(p for p in Platform if p not in FILE_PLATFORMS)


@dataclass(frozen=True)
class NeighborSpec:
    """Everything a template needs to configure one BGP neighbor.

    All values are validated upstream (bot.base.validation); templates still quote where the
    platform's CLI needs it, and render() re-checks every line for control characters.
    """

    local_asn: int
    peer_ip: str
    remote_asn: int
    description: str
    address_family: int  # 4 or 6
    peer_group: str | None = None
    md5_password: str | None = None
    max_prefixes: int | None = None
    prefix_list_name: str | None = None
    # Entries of the import filter (the resolved AS-SET), in bot.routers.prefixes form:
    # "<cidr>", "<cidr> le N", "<cidr> ge M le N". render() parses each and refuses anything else.
    prefixes: tuple[str, ...] = ()
    admin_down: bool = False
    # Whether the neighbor is already on the router (a re-configure). On FRR, IOS-XE and EOS a
    # NEW neighbor is created shut down and enabled by the last line, so a push cut short
    # (timeout, dropped connection) leaves no live session without its key or import filter;
    # an existing one is not shut (that would flap it). Default False: treat as new (safe).
    exists_on_router: bool = False
    # Max-prefix options (issue 10): warn at this percentage of max_prefixes; after a teardown
    # for too many prefixes, re-open the session after this many minutes (None: stay down).
    max_prefix_warn: int | None = None
    max_prefix_restart: int | None = None
    # Filter objects (names from bot.routers.filters) to remove after this change: on Configure
    # the old version the neighbor used before, on Delete its own; never one another configured
    # session on the same router still uses.
    remove_filters: tuple[str, ...] = ()
    # IOS-XR only: the route-policy applied outbound (an eBGP neighbor exchanges nothing without
    # one). None: peerbot's PEERBOT-PASS.
    out_policy: str | None = None

    def __repr__(self) -> str:  # keep the MD5 key out of logs and tracebacks
        pw = MASK if self.md5_password else None
        return (f"NeighborSpec(local_asn={self.local_asn}, peer_ip={self.peer_ip!r}, remote_asn={self.remote_asn}, "
                f"description={self.description!r}, address_family={self.address_family}, "
                f"peer_group={self.peer_group!r}, md5_password={pw!r}, max_prefixes={self.max_prefixes}, "
                f"prefix_list_name={self.prefix_list_name!r}, prefixes={self.prefixes!r}, admin_down={self.admin_down}, "
                f"exists_on_router={self.exists_on_router}, max_prefix_warn={self.max_prefix_warn}, "
                f"max_prefix_restart={self.max_prefix_restart}, remove_filters={self.remove_filters!r}, "
                f"out_policy={self.out_policy!r})")


_INT32 = 2**31 - 1  # the database's Integer columns
_TEXT_MAX = 500


@dataclass(frozen=True)
class NeighborState:
    """Operational state of one neighbor, normalised across platforms.

    prefixes_received is the platform's "received" counter where it has one (Junos, XR, EOS);
    FRR and IOS-XE only report the post-policy count (their "PfxRcd"), which then fills both
    prefixes_received and prefixes_accepted.
    """

    peer_ip: str
    state: str  # one of BGP_STATES
    admin_down: bool
    remote_asn: int | None
    prefixes_received: int | None
    prefixes_accepted: int | None
    prefixes_advertised: int | None
    uptime_seconds: int | None  # time in the current state / since the last change, if known
    last_error: str | None
    description: str | None = None

    def __post_init__(self) -> None:
        """What a router printed is not trusted to fit the database: a counter past 32 bits (or
        negative) would make the whole poll's write fail, so it is unknown (None) instead; texts
        are texts, bounded."""
        for name, top in (("remote_asn", 2**32 - 1), ("prefixes_received", _INT32), ("prefixes_accepted", _INT32),
                          ("prefixes_advertised", _INT32), ("uptime_seconds", _INT32)):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= top):
                object.__setattr__(self, name, None)
        for name in ("last_error", "description"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, str(value)[:_TEXT_MAX] if isinstance(value, (str, int)) else None)

    @property
    def is_established(self) -> bool:
        return self.state == "Established"


BGP_STATES = ("Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established")


# ----------------------------------------------------------------------------- errors
class RouterError(Exception):
    """Base of all router-layer errors. The message is safe to show in Slack: it never
    contains a login password or an MD5 key."""


class RouterUnreachable(RouterError):
    """TCP connection refused/failed, DNS failure, or the session dropped."""


class RouterAuthFailed(RouterError):
    pass


class RouterTimeout(RouterError):
    """Connected, but the router did not answer (prompt/command output) in time."""


class ConfigRejected(RouterError):
    """The router refused a configuration line (or the commit)."""

    def __init__(self, message: str, *, lines: list[str] | None = None, command: str | None = None):
        self.lines = list(lines or [])  # router error output, secrets masked
        self.command = command  # offending command, secrets masked
        super().__init__(message)


class NeighborNotFound(RouterError):
    pass


class UnsupportedPlatform(RouterError):
    pass


# ----------------------------------------------------------------------------- access
@dataclass(frozen=True)
class RouterCredentials:
    host: str
    port: int
    username: str
    password: str | None
    key_file: str | None
    platform: Platform

    def __repr__(self) -> str:
        pw = MASK if self.password else None
        return (f"RouterCredentials(host={self.host!r}, port={self.port}, username={self.username!r}, "
                f"password={pw!r}, key_file={self.key_file!r}, platform={self.platform.value!r})")

    __str__ = __repr__


@runtime_checkable
class RouterDriver(Protocol):
    """One router session. Use as a context manager: `with get_driver(creds) as r: ...`."""

    def connect(self) -> None: ...

    def close(self) -> None: ...

    def __enter__(self) -> RouterDriver: ...

    def __exit__(self, *exc: object) -> None: ...

    def push(self, lines: list[str], *, secrets: Iterable[str] = ()) -> str:
        """Enter config mode, send `lines`, make them active (commit on XR/Junos), leave
        config mode even on error. Raises ConfigRejected if the router refuses a line.
        `secrets` (the MD5 key) are masked in the output and in error messages."""
        ...

    def save(self) -> str:
        """Persist the running config (write memory); a no-op on commit-based platforms."""
        ...

    def neighbors(self) -> dict[str, NeighborState]:
        """All BGP neighbors (default VRF), read with the platform's state command(s): one on
        most platforms, two on EOS (IPv4 and IPv6 peers); any failed read fails the whole call."""
        ...

    def neighbor(self, ip: str) -> NeighborState | None: ...

    def bgp_config(self) -> Any:
        """The BGP neighbors as the router's configuration has them: a
        bot.routers.bgp_config.model.BgpConfig (discovery and drift)."""
        ...
