"""Router layer: render neighbor config per platform, push it over SSH, read BGP state back.

    from bot.routers import RouterCredentials, Platform, get_driver, render
    with get_driver(creds) as router:
        router.push(render(creds.platform, "admin_down", spec))
        state = router.neighbor(spec.peer_ip)

Also: connect.py (a driver for a stored router, through the core's driver factory), pool.py
(routers worked on side by side), state_readers.py (polls' SSH + parsing in child processes).

May import: bot.core, bot.base, storage; never bot.peeringdb (a sibling).
"""
from __future__ import annotations

from bot.routers.base import (
    BGP_STATES,
    ConfigRejected,
    NeighborNotFound,
    NeighborSpec,
    NeighborState,
    Platform,
    RouterAuthFailed,
    RouterCredentials,
    RouterDriver,
    RouterError,
    RouterTimeout,
    RouterUnreachable,
    UnsupportedPlatform,
)
from bot.routers.base import FILE_PLATFORMS
from bot.routers.bird_driver import BirdDriver
from bot.routers.openbgpd_driver import OpenBgpdDriver
from bot.routers.netmiko_driver import PROFILES, NetmikoDriver
from bot.routers.render import ACTIONS, mask_secrets, render


def commits_atomically(platform: Platform | str) -> bool:
    """True where a refused push is discarded whole (candidate config + commit: IOS-XR, Junos;
    BIRD: every file of the push is put back when the check fails)."""
    platform = Platform(platform)
    if platform in FILE_PLATFORMS:
        return True
    return PROFILES[platform].commit


def get_driver(creds: RouterCredentials, timeout: float = 15) -> RouterDriver:
    """The driver for `creds.platform`: BIRD through its files (bird_driver.py), the rest netmiko."""
    try:
        platform = Platform(creds.platform)
    except ValueError:
        raise UnsupportedPlatform(f"platform {creds.platform!r} is not supported") from None
    if platform == Platform.BIRD2:
        return BirdDriver(creds, timeout=timeout)
    if platform == Platform.OPENBGPD:
        return OpenBgpdDriver(creds, timeout=timeout)
    return NetmikoDriver(creds, timeout=timeout)


__all__ = [
    "ACTIONS", "BGP_STATES", "BirdDriver", "ConfigRejected", "FILE_PLATFORMS", "NeighborNotFound", "NeighborSpec", "NeighborState",
    "NetmikoDriver", "OpenBgpdDriver", "Platform", "RouterAuthFailed", "RouterCredentials", "RouterDriver", "RouterError",
    "RouterTimeout", "RouterUnreachable", "UnsupportedPlatform", "commits_atomically", "get_driver", "mask_secrets",
    "render",
]
