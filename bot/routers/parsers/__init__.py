"""One parser module per platform; each exposes parse_neighbors(output) -> {ip: NeighborState}."""
from __future__ import annotations

from collections.abc import Callable

from bot.routers.base import NeighborState, Platform
from bot.routers.parsers import bird, eos, frr, ios_xe, ios_xr, junos, openbgpd

Parser = Callable[[str], dict[str, NeighborState]]

PARSERS: dict[Platform, Parser] = {
    Platform.FRR: frr.parse_neighbors,
    Platform.IOS_XE: ios_xe.parse_neighbors,
    Platform.IOS_XR: ios_xr.parse_neighbors,
    Platform.JUNOS: junos.parse_neighbors,
    Platform.EOS: eos.parse_neighbors,
    Platform.BIRD2: bird.parse_neighbors,
    Platform.OPENBGPD: openbgpd.parse_neighbors,
}
