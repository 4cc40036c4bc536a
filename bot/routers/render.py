"""Turn a NeighborSpec into the CLI lines for one platform and action.

Templates live in bot/routers/templates/<platform>/<action>.j2. An operator can override any
of them by dropping a file with the same relative path into `templates_dir`.
"""
from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined

from bot.base.redact import mask_password_args
from bot.routers.base import FILE_PLATFORMS, NeighborSpec, Platform
from bot.routers.prefixes import PrefixEntry, parse_entry

ACTIONS = ("neighbor_create", "admin_down", "admin_up", "delete")
# Edit of a configured neighbor: renders only what differs from `old` (may be no line at all).
UPDATE_ACTION = "neighbor_update"
PACKAGED_TEMPLATES = Path(__file__).parent / "templates"
JUNOS_DEFAULT_GROUP = "PEERBOT"
XR_PASS_POLICY = "PEERBOT-PASS"  # IOS-XR: what an eBGP neighbor needs to exchange routes at all

# The last net (inputs are validated upstream): a control character, a Unicode line separator or
# ";" could smuggle a second command onto the router, "?" opens inline help in interactive CLIs.
# Rendered lines are printable ASCII only.
_UNSAFE = re.compile(r"[^\x20-\x7e]|[;?]")
# BIRD: the rendered text is a configuration file, where ";", "{", "}" and quotes are syntax, so a
# rendered line is only checked for printable ASCII; the VALUES put into it must then not hold
# any of them (a quote would end the description string, a brace or ";" end the statement).
_UNSAFE_FILE_LINE = re.compile(r"[^\x20-\x7e]")
_UNSAFE_BIRD_VALUE = re.compile(r"[\"{}\\#;]")
BIRD_SYMBOL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# The driver's directives, first words of a file platform's rendered lines (bot/routers/bird_driver.py)
DIRECTIVE = "#peerbot"


@functools.lru_cache(maxsize=16)
def _environment(templates_dir: str | None) -> Environment:
    loaders = [FileSystemLoader(templates_dir)] if templates_dir else []
    loaders.append(FileSystemLoader(str(PACKAGED_TEMPLATES)))
    env = Environment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,  # a typo in a template fails loudly instead of rendering ""
        autoescape=False,  # CLI text, not HTML
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters["junos_route_filter"] = junos_route_filter
    env.filters["bird_prefix"] = bird_prefix
    env.filters["openbgpd_prefix"] = openbgpd_prefix
    return env


def render(platform: Platform | str, action: str, spec: NeighborSpec,
           templates_dir: str | Path | None = None, old: NeighborSpec | None = None) -> list[str]:
    """Rendered, stripped, non-empty command lines. Raises ValueError for an unknown action,
    prefixes without a prefix_list_name, a filter entry that is not exactly one
    bot.routers.prefixes entry, a limit out of range, or an unsafe rendered line.

    `old` (neighbor_update only): the neighbor as the router has it now; `spec` is what it becomes."""
    platform = Platform(platform)
    if action not in ACTIONS and action != UPDATE_ACTION:
        raise ValueError(f"unknown action {action!r}; expected one of {', '.join(ACTIONS)}, {UPDATE_ACTION}")
    if spec.prefixes and not spec.prefix_list_name:
        raise ValueError("prefixes given without a prefix_list_name")
    _check_inputs(spec)
    if platform in FILE_PLATFORMS:
        _check_file_inputs(spec)
    context = _context(spec)
    if action == UPDATE_ACTION:  # without `old`: nothing differs (context lines only)
        old = old or spec
        _check_inputs(old)
        if platform in FILE_PLATFORMS:
            _check_file_inputs(old)
        context |= _update_context(old, spec)
    env = _environment(str(templates_dir) if templates_dir else None)
    text = env.get_template(f"{platform.value}/{action}.j2").render(**context)
    # split on "\n" only: str.splitlines() would also split on "\r", "\x0b", "\u2028"... and
    # so hide exactly the characters the check below must catch
    lines = [line.strip(" \t") for line in text.split("\n")]
    lines = [line for line in lines if line]
    if platform in FILE_PLATFORMS:
        if lines and not lines[0].startswith(DIRECTIVE + " "):
            raise ValueError(f"a {platform.value} template must start with a {DIRECTIVE} directive line")
        for line in lines:
            if _UNSAFE_FILE_LINE.search(line):
                raise ValueError("rendered configuration contains a non-printable or non-ASCII character")
        return lines
    for line in lines:
        if _UNSAFE.search(line):
            raise ValueError("rendered configuration contains a non-printable or non-ASCII character, ';' or '?'")
    return lines


def _check_file_inputs(spec: NeighborSpec) -> None:
    """BIRD syntax on top of _check_inputs: no value may close a string or a block, start a
    comment or end a statement, and the peer group is a BIRD template's name (a symbol)."""
    values = (spec.description, spec.md5_password, spec.prefix_list_name, spec.peer_group)
    if any(v is not None and _UNSAFE_BIRD_VALUE.search(v) for v in values):
        raise ValueError('a neighbor setting contains a character BIRD reads as syntax (" { } \\ # ;)')
    if spec.peer_group is not None and not BIRD_SYMBOL.match(spec.peer_group):
        raise ValueError("the peer group is not a BIRD template name (letters, digits, '_')")


def bird_protocol(peer_ip: str) -> str:
    """The BIRD protocol (and file) name of the session with `peer_ip`: pb_192_0_2_14,
    pb_2001_db8__1 (one symbol, unique per canonical address)."""
    return "pb_" + re.sub(r"[^0-9a-f]", "_", peer_ip.lower())


def bird_filter(spec: NeighborSpec) -> str | None:
    """The session's BIRD import filter: its protocol name + a hash of the peerbot filter name
    (which says what the filter holds, bot/routers/filters.py). A changed AS-SET is a filter of
    another name: BIRD 2.0.12 does not see a change of a prefix-set literal inside a filter that
    keeps its name, and would keep filtering with the old entries after `birdc configure`."""
    if not spec.prefix_list_name:
        return None
    digest = hashlib.sha256(spec.prefix_list_name.encode()).hexdigest()[:8]
    return f"{bird_protocol(spec.peer_ip)}_in_{digest}"


def bird_prefix(entry: PrefixEntry) -> str:
    """A BIRD prefix-set item: exact `net`, or `net{min,max}`."""
    if entry.exact:
        return str(entry.network)
    return f"{entry.network}{{{entry.min_length},{entry.max_length}}}"


def openbgpd_prefix(entry: PrefixEntry) -> str:
    """An OpenBGPD prefix-set item: exact `net`, or `net prefixlen min - max`."""
    if entry.exact:
        return str(entry.network)
    if entry.min_length == entry.max_length:
        return f"{entry.network} prefixlen = {entry.min_length}"
    return f"{entry.network} prefixlen {entry.min_length} - {entry.max_length}"


def _check_inputs(spec: NeighborSpec) -> None:
    """A newline inside a value would become a separate, valid-looking line after rendering,
    so values are checked before rendering too. Values that are one CLI word (addresses, names,
    keys) must also be exactly one word: a space would let the rest become more arguments."""
    try:
        canonical = str(ipaddress.ip_address(spec.peer_ip))
    except ValueError:
        canonical = None
    if canonical is None or canonical != spec.peer_ip or "%" in spec.peer_ip:
        raise ValueError("the peer address is not a plain, normalised IP address")
    words = (spec.peer_group, spec.md5_password, spec.prefix_list_name, spec.out_policy, *spec.remove_filters)
    for word in words:
        if word is not None and (not word or any(c.isspace() for c in word)):
            raise ValueError("a one-word neighbor setting contains white space")
    values = [spec.peer_ip, spec.description, *words, *spec.prefixes]
    for value in values:
        if value is not None and _UNSAFE.search(value):
            raise ValueError("neighbor settings contain a non-printable or non-ASCII character, ';' or '?'")
    for entry in spec.prefixes:
        parse_entry(entry)  # ValueError: not exactly "<cidr>[ ge M][ le N]"
    for value, low, high in ((spec.max_prefixes, 1, 4_294_967_295), (spec.max_prefix_warn, 1, 100),
                             (spec.max_prefix_restart, 1, 65_535)):
        if value is not None and (type(value) is not int or not low <= value <= high):
            raise ValueError(f"a max-prefix setting is not a whole number from {low} to {high}")


def _context(spec: NeighborSpec) -> dict:
    return {
        "spec": spec,
        "ip": spec.peer_ip,
        "afi": "ipv4" if spec.address_family == 4 else "ipv6",
        # an AS-SET usually resolves to both families: keep those of this session only
        "prefixes": _entries(spec),
        "ip_kw": "ip" if spec.address_family == 4 else "ipv6",
        "pass_policy": XR_PASS_POLICY,
        "group": spec.peer_group or JUNOS_DEFAULT_GROUP,
        # line-by-line platforms: a new neighbor is created shut and enabled by the last line
        "hold_down": not spec.exists_on_router,
        "proto": bird_protocol(spec.peer_ip),  # BIRD: protocol and file name
        "bird_filter": bird_filter(spec),
    }


def _update_context(old: NeighborSpec, new: NeighborSpec) -> dict:
    """neighbor_update.j2: `old` and `new` specs, whether the inbound filter object changes and
    whether the max-prefix settings do.

    A filter object's name says what it holds (bot/routers/filters.py: per AS-SET and entries),
    so a changed filter is a change of name: the new object is written complete and the neighbor
    switched to it. An object is never rewritten in place (on FRR a list being rewritten is, for
    a moment, missing (deny all) or partial, and FRR does not re-read routes when only entries
    change): the same name with other entries is refused."""
    if (old.prefix_list_name == new.prefix_list_name and old.prefixes and new.prefixes
            and _entries(old) != _entries(new)):
        raise ValueError("the filter object keeps its name but not its entries: it would be rewritten in place")
    if new.prefix_list_name and new.prefix_list_name in new.remove_filters:
        raise ValueError("the filter object the neighbor is switched to is also to be removed")
    limits = ("max_prefixes", "max_prefix_warn", "max_prefix_restart")
    return {
        "old": old, "new": new,
        "filter_changed": old.prefix_list_name != new.prefix_list_name,
        "limits_changed": any(getattr(old, f) != getattr(new, f) for f in limits),
        "old_group": old.peer_group or JUNOS_DEFAULT_GROUP, "new_group": new.peer_group or JUNOS_DEFAULT_GROUP,
    }


def _entries(spec: NeighborSpec) -> list[PrefixEntry]:
    """The filter entries of the session's family, parsed (strictly), de-duplicated, sorted."""
    entries = {parse_entry(text) for text in spec.prefixes}
    return sorted((e for e in entries if e.family == spec.address_family), key=PrefixEntry.sort_key)


def junos_route_filter(entry: PrefixEntry) -> str:
    """A route-filter match: `exact`, `upto /N` (from the network's own length), or
    `prefix-length-range /M-/N`."""
    if entry.exact:
        return f"{entry.network} exact"
    if entry.ge is None:
        return f"{entry.network} upto /{entry.max_length}"
    return f"{entry.network} prefix-length-range /{entry.min_length}-/{entry.max_length}"


def mask_secrets(lines: list[str], spec: NeighborSpec) -> list[str]:
    """Copy of `lines` with the password argument of the password line replaced by ********
    (for Slack, logs, audit). By position, never by value: a key that equals the peer's ASN
    or is one character long must not garble the other lines, nor be given away by them."""
    return [mask_password_args(line) for line in lines]
