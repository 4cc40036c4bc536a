"""IOS-XR: `router bgp` blocks, prefix-sets and route-policies from the running configuration.

XR nests settings: `neighbor X` blocks with `address-family` blocks inside, inheriting from
`use neighbor-group` / `use session-group` (and `use af-group` per family), each of which may
use another. hier-config (common.config_tree) gives the blocks. An inbound route-policy that only
passes the routes of one prefix-set resolves to that set's entries. VRF blocks are skipped.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.routers.bgp_config import model
from bot.routers.bgp_config.common import (
    ConfigLine, FilterList, address_family_of, config_tree, mask_password_line, no_config,
    parse_address, parse_asn, parse_length_words, parse_max_prefix, short,
)
from bot.routers.bgp_config.model import BgpConfig, ConfiguredNeighbor, SkippedNeighbor

_MAX_DEPTH = 8  # use-chains deeper than this are a loop


@dataclass
class _Family:
    policy_in: str | None = None
    max_prefix: tuple[int, int | None, int | None, bool] | None = None
    uses: list[str] = field(default_factory=list)  # af-groups


@dataclass
class _Block:
    """A neighbor, neighbor-group, session-group or af-group block's own settings."""

    remote_as: int | None = None
    description: str | None = None
    local_as: int | None = None
    password: bool | None = None
    shutdown: bool | None = None
    uses: list[tuple[str, str]] = field(default_factory=list)  # ("neighbor-group"|"session-group", name)
    families: dict[str, _Family] = field(default_factory=dict)
    error: str | None = None


def _read_family(block: ConfigLine) -> _Family:
    family = _Family()
    for line in block.children:
        words = line.words
        if words[:1] == ["route-policy"] and len(words) == 3 and words[2] == "in":
            family.policy_in = words[1]
        elif words[:1] == ["maximum-prefix"]:
            parsed = parse_max_prefix(words[1:], ignore=("discard-extra-paths",))
            if not isinstance(parsed, str):
                family.max_prefix = parsed
        elif words[:2] == ["use", "af-group"] and len(words) == 3:
            family.uses.append(words[2])
    return family


def _read_block(block: ConfigLine) -> tuple[_Block, list[str]]:
    """The settings of one block and its lines for display (password masked)."""
    out = _Block()
    lines = [block.indented]
    for line in block.children:
        words = line.words
        key, args = words[0], words[1:]
        lines.append(mask_password_line(line.indented) if key == "password" else line.indented)
        for below in line.walk():
            lines.append(below.indented)
        if key == "remote-as" and args:
            asn = parse_asn(args[0])
            if asn is None:
                out.error = f"remote-as {short(args[0])} is not an AS number"
            out.remote_as = asn
        elif key == "description":
            m = re.match(r"description[ \t](.*)\Z", line.text, re.S)
            out.description = m[1] if m else ""
        elif key == "local-as" and args:
            if args[0] == "inheritance-disable":
                out.local_as = 0  # 0: explicitly none (stops inheritance)
            elif (asn := parse_asn(args[0])) is not None:
                out.local_as = asn
            else:
                out.error = f"local-as {short(args[0])} is not an AS number"
        elif key == "password":
            out.password = args[:1] != ["inheritance-disable"]
        elif key == "shutdown":
            out.shutdown = args[:1] != ["inheritance-disable"]
        elif key == "use" and len(args) == 2 and args[0] in ("neighbor-group", "session-group"):
            out.uses.append((args[0], args[1]))
        elif key == "address-family" and len(args) >= 2:
            out.families["-".join(args[:2]).lower()] = _read_family(line)
    return out, lines


@dataclass
class _Groups:
    neighbor: dict[str, _Block] = field(default_factory=dict)
    session: dict[str, _Block] = field(default_factory=dict)
    af: dict[str, _Family] = field(default_factory=dict)

    def chain(self, block: _Block, depth: int = 0) -> list[_Block]:
        """`block` and the blocks it uses, nearest first (the neighbor's own settings win)."""
        out = [block]
        if depth >= _MAX_DEPTH:
            return out
        for kind, name in block.uses:
            used = (self.neighbor if kind == "neighbor-group" else self.session).get(name)
            if used is not None:
                out.extend(self.chain(used, depth + 1))
        return out

    def family_chain(self, family: _Family, depth: int = 0) -> list[_Family]:
        out = [family]
        if depth < _MAX_DEPTH:
            for name in family.uses:
                if (used := self.af.get(name)) is not None:
                    out.extend(self.family_chain(used, depth + 1))
        return out


def _prefix_sets(tree: list[ConfigLine]) -> dict[str, FilterList]:
    sets: dict[str, FilterList] = {}
    for line in tree:
        words = line.words
        if words[:1] != ["prefix-set"] or len(words) != 2:
            continue
        target = sets.setdefault(words[1], FilterList())
        body = " ".join(child.text for child in line.walk())
        for index, item in enumerate(p.strip() for p in body.split(",")):
            if not item:
                continue
            parts = item.split()
            cidr = parts[0] if "/" in parts[0] else parts[0] + ("/128" if ":" in parts[0] else "/32")
            bounds = parse_length_words(parts[1:])
            if bounds is None:
                target.unreadable = True
                continue
            ge, le, eq = bounds
            if eq is not None:
                if ge is not None or le is not None:
                    target.unreadable = True
                    continue
                ge = le = eq
            target.add(index, True, cidr, ge, le)
    return sets


_PASS_SET = re.compile(r"if destination in (?P<set>[\w.-]+) then (?:pass|done)(?: else drop)? endif(?: drop)?")


def _policy_sets(tree: list[ConfigLine]) -> dict[str, str]:
    """route-policy name -> prefix-set, for policies that only pass one prefix-set's routes."""
    out: dict[str, str] = {}
    for line in tree:
        words = line.words
        if words[:1] != ["route-policy"] or len(words) != 2:
            continue
        body = " ".join(child.text for child in line.walk()
                        if not child.text.startswith("#") and child.text not in ("end-policy",))
        if m := _PASS_SET.fullmatch(body):
            out[words[1]] = m["set"]
    return out


def parse(bgp_text: str, prefix_set_text: str = "", policy_text: str = "") -> BgpConfig:
    """The default-VRF BGP neighbors of an IOS-XR running configuration."""
    tree = config_tree(bgp_text)
    routers = [line for line in tree if line.words[:2] == ["router", "bgp"] and len(line.words) == 3]
    if not routers:
        return no_config("no 'router bgp' section in the output")
    router = routers[0]
    groups = _Groups()
    peers: list[tuple[str, _Block, list[str]]] = []
    for line in router.children:
        words = line.words
        if words[0] == "neighbor-group" and len(words) == 2:
            groups.neighbor[words[1]] = _read_block(line)[0]
        elif words[0] == "session-group" and len(words) == 2:
            groups.session[words[1]] = _read_block(line)[0]
        elif words[0] == "af-group" and len(words) >= 3:
            groups.af[words[1]] = _read_family(line)
        elif words[0] == "neighbor" and len(words) == 2:
            block, lines = _read_block(line)
            peers.append((words[1], block, lines))
    sets = _prefix_sets(config_tree(prefix_set_text) + tree)
    policies = _policy_sets(config_tree(policy_text) + tree)

    neighbors: dict[str, ConfiguredNeighbor] = {}
    skipped: list[SkippedNeighbor] = []
    for name, block, lines in peers:
        address = parse_address(name)
        if address is None:
            skipped.append(SkippedNeighbor(name, f"{short(name)}: not an IP address"))
            continue
        chain = groups.chain(block)
        error = next((b.error for b in chain if b.error), None)
        if error:
            skipped.append(SkippedNeighbor(name, error))
            continue
        if address in neighbors:
            skipped.append(SkippedNeighbor(name, f"{address} is configured twice"))
            continue
        neighbors[address] = _effective(address, block, chain, groups, sets, policies, tuple(lines))
    asn = parse_asn(router.words[2])
    return BgpConfig(local_asn=asn, neighbors=neighbors, skipped=tuple(skipped))


def _effective(address: str, block: _Block, chain: list[_Block], groups: _Groups,
               sets: dict[str, FilterList], policies: dict[str, str], lines: tuple[str, ...]) -> ConfiguredNeighbor:
    def first(attr: str):  # noqa: ANN202 - any _Block field
        return next((v for b in chain if (v := getattr(b, attr)) is not None), None)

    families: dict[str, list[_Family]] = {}
    for b in chain:
        for name, family in b.families.items():
            families.setdefault(name, []).extend(groups.family_chain(family))

    def family_first(name: str, attr: str):  # noqa: ANN202
        return next((v for f in families.get(name, []) if (v := getattr(f, attr)) is not None), None)

    native = address_family_of(address)
    order = [native] + sorted(f for f in families if f != native)
    policy = next((v for f in order if (v := family_first(f, "policy_in")) is not None), None)
    limit = next((v for f in order if (v := family_first(f, "max_prefix")) is not None), None)
    entries = None
    kind = None
    if policy is not None:
        kind = model.ROUTE_POLICY
        prefix_set = policies.get(policy)
        if prefix_set is not None and prefix_set in sets:
            entries = sets[prefix_set].entries()
    local_as = first("local_as")
    group = next((n for k, n in block.uses if k == "neighbor-group"), None)
    return ConfiguredNeighbor(
        peer_ip=address,
        remote_asn=first("remote_as"),
        description=first("description"),
        peer_group=group,
        local_asn=local_as or None,
        password_set=bool(first("password")),
        families=tuple(sorted(families)),
        inbound_filter=policy,
        filter_kind=kind,
        filter_entries=entries,
        max_prefixes=limit[0] if limit else None,
        max_prefix_warn=limit[1] if limit else None,
        max_prefix_restart=limit[2] if limit else None,
        max_prefix_warning_only=limit[3] if limit else False,
        admin_down=bool(first("shutdown")),
        lines=lines,
    )
