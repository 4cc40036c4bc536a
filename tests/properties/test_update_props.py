"""Properties of an Edit's router commands (bot/routers/update.py) on every platform, over any
pair of before/after filter objects, limits, groups and keys: safe lines; a new filter object is
complete before the neighbor is bound to it; an old object is removed only after the neighbor no
longer uses it (or with the neighbor), and only when the caller said it may be; an object that
stays is never touched; an IOS-XR neighbor always keeps an inbound and outbound policy."""
from __future__ import annotations

import re
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.routers import NeighborSpec, Platform
from bot.routers.base import CLI_PLATFORMS
from bot.routers.filters import filter_name
from bot.routers.prefixes import parse_entries
from bot.routers.update import recreates, update_commands
from tests.properties.strategies import assert_safe_cli_line

PROPS = settings(max_examples=300, deadline=None)
ENTRIES = (("203.0.113.0/24",), ("203.0.113.0/24", "198.51.100.0/22 le 24"), ("10.0.0.0/8 ge 16 le 24",))
FILTERS = [None] + [(a, e) for a in ("AS-EXAMPLE", "RIPE::AS65000:AS-OTHER") for e in ENTRIES]
BASE = NeighborSpec(local_asn=64500, peer_ip="192.0.2.6", remote_asn=64501, description="Example AS64501",
                    address_family=4, exists_on_router=True)


def _defines(platform: Platform, name: str) -> re.Pattern[str]:
    """A line that writes (part of) the object `name`."""
    return re.compile({
        Platform.FRR: rf"^ip prefix-list {name} seq ", Platform.IOS_XE: rf"^ip prefix-list {name} seq ",
        Platform.IOS_XR: rf"^(prefix-set|route-policy) {name}$",
        Platform.JUNOS: rf"^set policy-options policy-statement {name} ",
        Platform.EOS: rf"^(ip prefix-list {name} seq |route-map {name} permit)",
    }[platform])


def _binds(platform: Platform, name: str) -> str:
    return {Platform.FRR: f"neighbor 192.0.2.6 prefix-list {name} in",
            Platform.IOS_XE: f"neighbor 192.0.2.6 prefix-list {name} in",
            Platform.IOS_XR: f"route-policy {name} in",
            Platform.JUNOS: f"neighbor 192.0.2.6 import {name}",
            Platform.EOS: f"neighbor 192.0.2.6 route-map {name} in"}[platform]


def _removes(line: str, name: str) -> bool:
    return line in (f"no ip prefix-list {name}", f"no route-policy {name}", f"no prefix-set {name}",
                    f"no route-map {name}", f"delete policy-options policy-statement {name}")


@st.composite
def specs(draw: st.DrawFn, filt) -> NeighborSpec:  # noqa: ANN001
    limit = draw(st.sampled_from((None, 100, 250)))
    spec = replace(BASE, max_prefixes=limit, max_prefix_warn=draw(st.sampled_from((None, 90))) if limit else None,
                   max_prefix_restart=draw(st.sampled_from((None, 5))) if limit else None,
                   md5_password=draw(st.sampled_from((None, "Md5-Key-One", "Md5-Key-Two"))),
                   peer_group=draw(st.sampled_from((None, "IXP", "TRANSIT"))),
                   local_asn=draw(st.sampled_from((64500, 64500, 64511))),
                   out_policy=draw(st.sampled_from((None, "EXPORT-IX"))))
    if filt is None:
        return spec
    as_set, entries = filt
    return replace(spec, prefix_list_name=filter_name(as_set, 4, parse_entries(entries)), prefixes=entries)


@st.composite
def edits(draw: st.DrawFn) -> tuple[NeighborSpec, NeighborSpec]:
    old = draw(specs(draw(st.sampled_from(FILTERS))))
    new = draw(specs(draw(st.sampled_from(FILTERS))))
    if draw(st.booleans()):  # the router's old entries are no longer known: the name alone
        old = replace(old, prefixes=())
    if old.prefix_list_name and old.prefix_list_name != new.prefix_list_name and draw(st.booleans()):
        new = replace(new, remove_filters=(old.prefix_list_name,))  # no other session uses it
    return old, new


@PROPS
@given(edit=edits(), platform=st.sampled_from(list(CLI_PLATFORMS)))  # BIRD: one file, rewritten whole
def test_filters_are_switched_never_left_missing_or_rewritten(edit: tuple[NeighborSpec, NeighborSpec],
                                                              platform: Platform) -> None:
    old, new = edit
    lines = update_commands(platform, old, new)
    for line in lines:
        assert_safe_cli_line(line)
    o, n = old.prefix_list_name, new.prefix_list_name
    removals = [i for i, ln in enumerate(lines) for name in (o, n) if name and _removes(ln, name)]
    # only the object the caller allowed is removed, and never the one the neighbor ends up with
    assert all(_removes(lines[i], o) and o in new.remove_filters for i in removals)
    if not new.remove_filters:
        assert not removals
    if recreates(platform, old, new):
        gone = next(i for i, ln in enumerate(lines) if "192.0.2.6" in ln and ln.startswith(("no neighbor", "delete")))
        assert all(i > gone for i in removals)  # removed with the neighbor, not before it
        return
    if n and n != o:
        bind = next(i for i, ln in enumerate(lines) if ln.endswith(_binds(platform, n)))
        writes = [i for i, ln in enumerate(lines) if _defines(platform, n).search(ln)]
        assert writes and max(writes) < bind  # complete before it is used
        assert all(i > bind for i in removals)  # the old one only once nothing uses it
    elif n == o:
        assert not [ln for ln in lines if n and n in ln]  # the same object: not touched
    if platform == Platform.IOS_XR:
        assert not [ln for ln in lines if re.fullmatch(r"no route-policy \S+ (in|out)", ln)]
        if o and not n:
            assert "route-policy PEERBOT-PASS in" in lines and "route-policy PEERBOT-PASS" in lines
