"""Reading a router's existing BGP neighbors from its configuration (issue 17: discovery).

The state parsers (bot.routers.parsers) read what sessions *do*; these read what the
configuration *says*, so that sessions configured before peerbot (or by hand) can be proposed
for import and drift can be reported. `CONFIG_COMMANDS` are the show commands whose outputs
`parse_bgp_config` needs, keyed by the command. Output that is not a BGP configuration gives an
empty BgpConfig with the reason in `skipped`; a neighbor that cannot be read is skipped with its
reason while the others are still read. Nothing here raises on odd output.
"""
from __future__ import annotations

from bot.routers.base import Platform
from bot.routers.bgp_config import ios_style, ios_xr, junos
from bot.routers.bgp_config.common import no_config
from bot.routers.bgp_config.model import BgpConfig, ConfiguredNeighbor, SkippedNeighbor

CONFIG_COMMANDS: dict[Platform, tuple[str, ...]] = {
    # FRR's running config holds router bgp and the prefix-lists: one command.
    Platform.FRR: ("show running-config",),
    Platform.IOS_XE: (
        "show running-config | section router bgp",
        "show running-config | include ^ip prefix-list|^ipv6 prefix-list",
    ),
    Platform.IOS_XR: (
        "show running-config router bgp",
        "show running-config prefix-set",
        "show running-config route-policy",
    ),
    Platform.JUNOS: (
        "show configuration protocols bgp | display json",
        "show configuration policy-options | display json",
        "show configuration routing-options autonomous-system | display json",
    ),
    Platform.EOS: (
        "show running-config section router bgp",
        "show running-config section prefix-list",
    ),
    # BIRD (issue 20): discovery of its files is not written yet; nothing is read.
    Platform.BIRD2: (),
    Platform.OPENBGPD: (),
}

__all__ = ["CONFIG_COMMANDS", "BgpConfig", "ConfiguredNeighbor", "SkippedNeighbor", "parse_bgp_config"]


def parse_bgp_config(platform: Platform, outputs: dict[str, str]) -> BgpConfig:
    """The BGP configuration (default VRF) of `platform` from the outputs of its
    CONFIG_COMMANDS (a missing output counts as empty)."""
    platform = Platform(platform)
    if platform in (Platform.BIRD2, Platform.OPENBGPD):
        return no_config(f"discovery is not supported on {platform.value} yet")
    texts = [outputs.get(command) or "" for command in CONFIG_COMMANDS[platform]]
    if platform == Platform.JUNOS:
        return junos.parse(*texts)
    if platform == Platform.IOS_XR:
        return ios_xr.parse(*texts)
    return ios_style.parse(platform, texts)
