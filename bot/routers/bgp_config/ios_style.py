"""FRR, IOS-XE and EOS: `router bgp` and prefix-lists from the running configuration.

The three print the same shape: `neighbor <ip|group> <setting>` lines under `router bgp`, per
address family under `address-family ...`, and `ip[v6] prefix-list` lines (EOS also as a block
with `seq` lines under `ip prefix-list NAME`). hier-config (common.config_tree) gives the blocks;
each `neighbor` line is read word by word. VRF sections are skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.routers.base import Platform
from bot.routers.bgp_config import model
from bot.routers.bgp_config.common import (
    ConfigLine, FilterList, address_family_of, config_tree, mask_password_line, no_config,
    parse_address, parse_asn, parse_length_words, parse_max_prefix, short,
)
from bot.routers.bgp_config.model import BgpConfig, ConfiguredNeighbor, SkippedNeighbor

GLOBAL = ""  # the address-family key of settings made outside any address-family block


@dataclass
class _FamilySettings:
    """Per-address-family settings of a neighbor or group (None: not set at this level)."""

    activate: bool | None = None
    filter: tuple[str, str] | None = None  # (kind, name)
    max_prefix: tuple[int | None, int | None, int | None, bool] | None = None  # N, warn, restart, warning-only


@dataclass
class _Settings:
    """What one neighbor's or peer group's own lines set (None: not set at this level)."""

    remote_as: int | str | None = None  # an ASN, or "internal" / "external" (FRR)
    description: str | None = None
    peer_group: str | None = None
    local_as: int | None = None
    password: bool | None = None
    shutdown: bool | None = None
    families: dict[str, _FamilySettings] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)
    error: str | None = None

    def family(self, name: str) -> _FamilySettings:
        return self.families.setdefault(name, _FamilySettings())


def _family_name(words: list[str]) -> str | None:
    """`address-family ipv4 [unicast]` -> "ipv4-unicast"; None for a VRF's address family."""
    if "vrf" in words[1:]:
        return None
    parts = words[1:3]
    if len(parts) == 1:
        parts.append("unicast")
    return "-".join(p.lower() for p in parts)


def _description(line: str) -> str:
    """The description text exactly as written (tabs, `;` and all)."""
    m = re.match(r"(?:no[ \t]+)?neighbor[ \t]+\S+[ \t]+description[ \t](.*)\Z", line, re.S)
    return m[1] if m else ""


def _apply(settings: _Settings, words: list[str], line: str, family: str, is_group: bool) -> None:
    """One `[no] neighbor X <setting>` line into `settings`."""
    negated = words[0] == "no"
    attr = words[3:] if negated else words[2:]
    if not attr:
        return
    key, args = attr[0], attr[1:]
    if key == "remote-as" and args and not negated:
        if args[0] in ("internal", "external"):
            settings.remote_as = args[0]
        elif (asn := parse_asn(args[0])) is not None:
            settings.remote_as = asn
        else:
            settings.error = f"remote-as {short(args[0])} is not an AS number"
    elif key == "description":
        settings.description = None if negated else _description(line)
    elif key in ("peer-group", "peer") and not is_group:
        group = args[1:] if key == "peer" and args[:1] == ["group"] else args
        if group and not negated:
            settings.peer_group = group[0]
    elif key == "local-as":
        if negated:
            settings.local_as = None
        elif args and (asn := parse_asn(args[0])) is not None:
            settings.local_as = asn
        else:
            settings.error = f"local-as {short(' '.join(args))} is not an AS number"
    elif key == "password":
        settings.password = not negated
    elif key == "shutdown":
        settings.shutdown = not negated
    elif key == "activate":
        settings.family(family or "ipv4-unicast").activate = not negated
    elif key in ("prefix-list", "route-map") and args[-1:] == ["in"] and len(args) == 2:
        kind = model.PREFIX_LIST if key == "prefix-list" else model.ROUTE_MAP
        fam = settings.family(family)
        if negated:
            fam.filter = None
        elif fam.filter is None or kind == model.PREFIX_LIST:
            fam.filter = (kind, args[0])  # both bound: the prefix-list is the one with entries
    elif key in ("maximum-prefix", "maximum-routes") and not negated:
        parsed = parse_max_prefix(args)
        if isinstance(parsed, str):
            settings.error = parsed
        else:
            settings.family(family).max_prefix = parsed


@dataclass
class _RouterBgp:
    local_asn: int | None
    default_ipv4: bool
    default_ipv4_for_ipv6_peers: bool
    # per neighbor/group name: its lines in order, each with its address-family key
    lines: dict[str, list[tuple[str, str, ConfigLine]]] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)


def _read_router_bgp(block: ConfigLine, platform: Platform) -> _RouterBgp:
    asn_word = block.words[2] if len(block.words) > 2 else ""
    bgp = _RouterBgp(parse_asn(asn_word), default_ipv4=True,
                     default_ipv4_for_ipv6_peers=platform != Platform.EOS)

    def neighbor_line(line: ConfigLine, family: str, header: str | None) -> None:
        words = line.words
        offset = 1 if words[0] == "no" else 0
        if len(words) < offset + 2 or words[offset] != "neighbor":
            return
        name = words[offset + 1]
        rest = words[offset + 2:]
        if rest in (["peer-group"], ["peer", "group"]) and not offset:
            bgp.groups.add(name)
        entries = bgp.lines.setdefault(name, [])
        if header is not None and not any(h == header for h, _, _ in entries if h):
            entries.append((header, family, ConfigLine(header, header)))
        entries.append(("", family, line))

    for line in block.children:
        words = line.words
        if words[:3] == ["no", "bgp", "default"] and words[3:4] == ["ipv4-unicast"]:
            bgp.default_ipv4 = False
        elif words[:3] == ["bgp", "default", "ipv4-unicast"] and words[3:5] == ["transport", "ipv6"]:
            bgp.default_ipv4_for_ipv6_peers = True
        elif words[0] == "address-family" and len(words) > 1:
            family = _family_name(words)
            if family is None:
                continue
            for child in line.children:
                neighbor_line(child, family, line.indented)
        elif words[0] in ("neighbor", "no"):
            neighbor_line(line, GLOBAL, None)
    return bgp


def _collect(entries: list[tuple[str, str, ConfigLine]], is_group: bool) -> _Settings:
    settings = _Settings()
    for header, family, line in entries:
        if header:
            settings.lines.append(header)
            continue
        words = line.words
        masked = mask_password_line(line.indented) if "password" in words[2:4] else line.indented
        settings.lines.append(masked)
        _apply(settings, words, line.text, family, is_group)
    return settings


def _prefix_lists(trees: list[list[ConfigLine]]) -> dict[tuple[str, str], FilterList]:
    """`ip prefix-list` / `ipv6 prefix-list` lists by (family word, name), one-line and EOS
    block forms."""
    lists: dict[tuple[str, str], FilterList] = {}

    def row(target: FilterList, words: list[str], auto_seq: int) -> None:
        seq = auto_seq
        if words[:1] == ["seq"]:
            if len(words) < 2 or not words[1].isdigit():
                target.unreadable = True
                return
            seq, words = int(words[1]), words[2:]
        if len(words) < 2 or words[0] not in ("permit", "deny"):
            if words[:1] not in (["description"], ["remark"]):
                target.unreadable = True
            return
        bounds = parse_length_words(words[2:])
        if bounds is None:
            target.unreadable = True
            return
        ge, le, _eq = bounds
        target.add(seq, words[0] == "permit", words[1], ge, le)

    for tree in trees:
        for line in tree:
            words = line.words
            if len(words) < 3 or words[0] not in ("ip", "ipv6") or words[1] != "prefix-list":
                continue
            target = lists.setdefault((words[0], words[2]), FilterList())
            if len(words) > 3:
                row(target, words[3:], 1_000_000 + len(target.rows))
            for child in line.children:
                row(target, child.words, 1_000_000 + len(target.rows))
    return lists


def parse(platform: Platform, outputs: list[str]) -> BgpConfig:
    """The default-instance BGP neighbors of an FRR, IOS-XE or EOS running configuration."""
    trees = [config_tree(text) for text in outputs]
    routers = [line for tree in trees for line in tree
               if line.words[:2] == ["router", "bgp"] and len(line.words) == 3]
    if not routers:
        return no_config("no 'router bgp' section in the output")
    bgp = _read_router_bgp(routers[0], platform)
    lists = _prefix_lists(trees)
    groups = {name: _collect(bgp.lines.get(name, []), True) for name in bgp.groups}

    neighbors: dict[str, ConfiguredNeighbor] = {}
    skipped: list[SkippedNeighbor] = []
    for name, entries in bgp.lines.items():
        if name in bgp.groups:
            continue
        own = _collect(entries, False)
        address = parse_address(name)
        if address is None:
            reason = "an interface (unnumbered) neighbor" if any(
                line.words[2:3] == ["interface"] for _, _, line in entries if line.words) else "not an IP address"
            skipped.append(SkippedNeighbor(name, f"{short(name)}: {reason}"))
            continue
        group = groups.get(own.peer_group) if own.peer_group else None
        if own.peer_group and group is None:
            skipped.append(SkippedNeighbor(name, f"peer group {short(own.peer_group)} is not defined"))
            continue
        error = own.error or (group.error if group else None)
        if error:
            skipped.append(SkippedNeighbor(name, error))
            continue
        neighbor = _effective(address, own, group, bgp, lists, platform)
        if address in neighbors:
            skipped.append(SkippedNeighbor(name, f"{address} is configured twice"))
            continue
        neighbors[address] = neighbor
    return BgpConfig(local_asn=bgp.local_asn, neighbors=neighbors, skipped=tuple(skipped))


def _effective(address: str, own: _Settings, group: _Settings | None, bgp: _RouterBgp,
               lists: dict[tuple[str, str], FilterList], platform: Platform) -> ConfiguredNeighbor:
    """The neighbor's settings with its peer group's filled in where it sets none itself."""
    def pick(attr: str):  # noqa: ANN202 - any of the _Settings fields
        value = getattr(own, attr)
        return value if value is not None or group is None else getattr(group, attr)

    def pick_family(family: str, attr: str):  # noqa: ANN202
        mine = own.families.get(family)
        if mine is not None and getattr(mine, attr) is not None:
            return getattr(mine, attr)
        theirs = group.families.get(family) if group else None
        return getattr(theirs, attr) if theirs is not None else None

    remote = pick("remote_as")
    if remote == "internal":
        remote = bgp.local_asn
    elif remote == "external":
        remote = None

    # families: IPv4 unicast is on by default unless `no bgp default ipv4-unicast` (EOS: only
    # for IPv4 peers); every other family needs `activate`.
    native = address_family_of(address)
    default_v4 = bgp.default_ipv4 and (native == "ipv4-unicast" or bgp.default_ipv4_for_ipv6_peers)
    known = set(own.families) | (set(group.families) if group else set())
    known.discard(GLOBAL)
    families = set()
    for family in known | {"ipv4-unicast"}:
        active = pick_family(family, "activate")
        if active or (active is None and family == "ipv4-unicast" and default_v4):
            families.add(family)

    # filter and limit: the ones of the session's own family, else the ones set outside any
    # address family (IOS without address-family blocks, EOS), else those of another family.
    order = [native, GLOBAL] + sorted(f for f in families if f != native)
    bound = next((v for f in order if (v := pick_family(f, "filter")) is not None), None)
    limit = next((v for f in order if (v := pick_family(f, "max_prefix")) is not None), None)
    entries = None
    if bound is not None and bound[0] == model.PREFIX_LIST:
        family_word = "ipv6" if native == "ipv6-unicast" else "ip"
        found = lists.get((family_word, bound[1])) or lists.get(("ipv6" if family_word == "ip" else "ip", bound[1]))
        entries = found.entries() if found is not None else None
    lines = tuple(own.lines)
    return ConfiguredNeighbor(
        peer_ip=address,
        remote_asn=remote,
        description=pick("description"),
        peer_group=own.peer_group,
        local_asn=pick("local_as"),
        password_set=bool(pick("password")),
        families=tuple(sorted(families)),
        inbound_filter=bound[1] if bound else None,
        filter_kind=bound[0] if bound else None,
        filter_entries=entries,
        max_prefixes=limit[0] if limit else None,
        max_prefix_warn=limit[1] if limit else None,
        max_prefix_restart=limit[2] if limit else None,
        max_prefix_warning_only=limit[3] if limit else False,
        admin_down=bool(pick("shutdown")),
        lines=lines,
    )
