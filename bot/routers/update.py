"""Editing a configured neighbor: what changes in its configuration, and the commands that get the
router from the old configuration to the new one, per platform.

- `config_difference`: the lines of the full configuration (neighbor_create) that go away and the
  ones that come, old vs new — what a person reads to see what the edit does.
- `update_commands`: what is sent. Normally the platform's `neighbor_update.j2` (only what
  differs, with negations for what was removed); where the platform cannot change a setting in
  place, the neighbor is re-created (`delete` of the old + `neighbor_create` of the new):
    * a local ASN change on the platforms whose neighbors live under `router bgp <ASN>`;
    * FRR leaving or changing a peer-group ("no neighbor X peer-group G" deletes the neighbor,
      and a neighbor cannot change groups in place);
    * Junos changing the group (a neighbor lives under its group).
  A different router or peer address is not an update but a move (remove + add), decided by the
  caller (bot/changes/editing.py).
Inbound filters follow bot/routers/filters.py: a changed AS-SET (or changed entries) is a new,
versioned object written complete before the neighbor is switched to it in one command; the old
object is removed afterwards only when `new.remove_filters` names it (the caller decides that: no
other configured session on the router uses it).
Everything is rendered through bot.routers.render, so overrides in PEERBOT_TEMPLATES_DIR apply.
"""
from __future__ import annotations

import difflib
from dataclasses import replace
from pathlib import Path

from bot.routers.base import FILE_PLATFORMS, NeighborSpec, Platform
from bot.routers.render import JUNOS_DEFAULT_GROUP, render


def recreates(platform: Platform | str, old: NeighborSpec, new: NeighborSpec) -> bool:
    """True when this edit cannot be applied in place on `platform` (see the module docstring)."""
    platform = Platform(platform)
    if platform in FILE_PLATFORMS:  # the session's file is rewritten whole, whatever changed
        return False
    if platform == Platform.JUNOS:
        return (old.peer_group or JUNOS_DEFAULT_GROUP) != (new.peer_group or JUNOS_DEFAULT_GROUP)
    if old.local_asn != new.local_asn:
        return True
    return platform == Platform.FRR and old.peer_group is not None and old.peer_group != new.peer_group


def update_commands(platform: Platform | str, old: NeighborSpec, new: NeighborSpec,
                    templates_dir: str | Path | None = None) -> list[str]:
    """The lines that turn the neighbor `old` (configured now) into `new` on the same router and
    address. Raises ValueError for a move or a value that cannot be rendered safely."""
    if old.peer_ip != new.peer_ip:
        raise ValueError("a different peer address is a move, not an update")
    old, new = replace(old, exists_on_router=True), replace(new, exists_on_router=True)
    if recreates(platform, old, new):
        # The old filter object (new.remove_filters) goes with the old neighbor, before the new
        # neighbor is created bound to its own (complete) object: nothing refers to it by then.
        return (render(platform, "delete", replace(old, remove_filters=new.remove_filters), templates_dir)
                + render(platform, "neighbor_create", replace(new, exists_on_router=False, remove_filters=()),
                         templates_dir))
    return render(platform, "neighbor_update", new, templates_dir, old=old)


def config_difference(old_platform: Platform | str, old: NeighborSpec, new_platform: Platform | str,
                      new: NeighborSpec, templates_dir: str | Path | None = None) -> tuple[list[str], list[str]]:
    """(removed, added): the lines of the neighbor's full configuration that go away and those that
    come, in clear text (the caller masks them). Both sides are rendered as existing neighbors, so
    the create-time shutdown/enable pair of a new neighbor does not show as a difference, and
    without the removal of old filter objects (a command, not configuration: the old object's
    lines show as removed)."""
    before = render(old_platform, "neighbor_create", replace(old, exists_on_router=True, remove_filters=()),
                    templates_dir)
    after = render(new_platform, "neighbor_create", replace(new, exists_on_router=True, remove_filters=()),
                   templates_dir)
    removed: list[str] = []
    added: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=before, b=after, autojunk=False).get_opcodes():
        if op in ("replace", "delete"):
            removed += before[i1:i2]
        if op in ("replace", "insert"):
            added += after[j1:j2]
    return removed, added
