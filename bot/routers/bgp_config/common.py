"""Helpers the BGP configuration parsers share: ASNs, addresses, prefix-filter entries, masking,
and the indented-text tree (built by hier-config) the Cisco-style parsers walk.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from hier_config import Platform as HPlatform
from hier_config import get_hconfig

from bot.base.redact import MASK
from bot.routers.bgp_config.model import BgpConfig, SkippedNeighbor
from bot.routers.prefixes import parse_entry

MAX_ASN = 2**32 - 1
ALL_PEERS = "(all)"  # SkippedNeighbor.peer when the whole output could not be read


def parse_asn(text: str) -> int | None:
    """An AS number in asplain ("65546") or asdot ("1.10") form; None when it is not one."""
    if not text.isascii():
        return None
    if re.fullmatch(r"\d{1,10}", text):
        value = int(text)
    elif m := re.fullmatch(r"(\d{1,5})\.(\d{1,5})", text):
        high, low = int(m[1]), int(m[2])
        if high > 65535 or low > 65535:
            return None
        value = high * 65536 + low
    else:
        return None
    return value if 0 < value <= MAX_ASN else None


def parse_address(text: str) -> str | None:
    """The canonical form of an IPv4/IPv6 address ('2001:DB8::02' -> '2001:db8::2'), or None."""
    if not text.isascii():
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def address_family_of(address: str) -> str:
    """The unicast family a session over this address carries by default."""
    return "ipv6-unicast" if ":" in address else "ipv4-unicast"


def no_config(reason: str) -> BgpConfig:
    """What a parser returns for output that holds no BGP configuration at all."""
    return BgpConfig(local_asn=None, neighbors={}, skipped=(SkippedNeighbor(ALL_PEERS, reason),))


def short(text: str, limit: int = 60) -> str:
    """`text` cut for a one-line reason, control characters shown escaped."""
    return repr(text[:limit])


# ---- prefix-filter entries ---------------------------------------------------------------------

def prefix_entry(cidr: str, ge: int | None = None, le: int | None = None) -> str | None:
    """One permit entry in bot.routers.prefixes form, or None when it cannot be expressed there.

    Routers accept redundant bounds the stored form refuses ("/24 le 24", "/8 ge 8"): those are
    dropped first, so the entry means exactly what it meant on the router.
    """
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return None
    if ge is not None and ge == net.prefixlen:
        ge = None
    if le is not None and ge is None and le == net.prefixlen:
        le = None
    text = str(net) + (f" ge {ge}" if ge is not None else "") + (f" le {le}" if le is not None else "")
    try:
        return str(parse_entry(text))
    except ValueError:
        return None


def is_deny_all(cidr: str, ge: int | None, le: int | None) -> bool:
    """Whether an entry matches every prefix of its family (0.0.0.0/0 le 32, ::/0 le 128, any)."""
    if cidr == "any":
        return True
    try:
        net = ipaddress.ip_network(cidr, strict=True)
    except ValueError:
        return False
    return net.prefixlen == 0 and le == net.max_prefixlen and ge in (None, 0, 1)


@dataclass
class FilterList:
    """A prefix filter as read: (sequence, permit?, entry or None, deny-all?) rows."""

    rows: list[tuple[int, bool, str | None, bool]] = field(default_factory=list)
    unreadable: bool = False  # some row could not be read at all

    def add(self, seq: int, permit: bool, cidr: str, ge: int | None, le: int | None) -> None:
        entry = prefix_entry(cidr, ge, le) if cidr != "any" else None
        self.rows.append((seq, permit, entry, is_deny_all(cidr, ge, le)))

    def entries(self) -> tuple[str, ...] | None:
        """The permitted entries, sorted and de-duplicated; None when the list is more than a
        list of permits (a deny other than a final deny-all, or an entry not expressible)."""
        if self.unreadable:
            return None
        rows = sorted(self.rows, key=lambda row: row[0])
        out: set[str] = set()
        for index, (_seq, permit, entry, deny_all) in enumerate(rows):
            if not permit:
                if deny_all and index == len(rows) - 1:
                    continue
                return None
            if entry is None:
                return None
            out.add(entry)
        return tuple(str(e) for e in sorted((parse_entry(e) for e in out), key=lambda e: e.sort_key()))


def parse_length_words(words: list[str]) -> tuple[int | None, int | None, int | None] | None:
    """(ge, le, eq) from "ge M", "le N", "eq N" words in any order; None on anything else."""
    bounds: dict[str, int] = {}
    if len(words) % 2:
        return None
    for key, value in zip(words[::2], words[1::2]):
        if key not in ("ge", "le", "eq") or key in bounds or not value.isdigit() or len(value) > 3:
            return None
        bounds[key] = int(value)
    return bounds.get("ge"), bounds.get("le"), bounds.get("eq")


# ---- secrets ------------------------------------------------------------------------------------

_CISCO_PASSWORD = re.compile(r"^(?P<kw>.*?\bpassword[ \t]+(?:(?:[07]|clear|encrypted)[ \t]+(?=\S))?)(?P<val>\S.*)$")


def mask_password_line(line: str) -> str:
    """A `... password [0|7|clear|encrypted] <key>` line with the key replaced by MASK."""
    m = _CISCO_PASSWORD.match(line)
    if m is None or m["val"].strip() == "inheritance-disable":
        return line
    return m["kw"] + MASK


# ---- indented text ------------------------------------------------------------------------------

# Lines that only close or separate blocks (FRR, IOS, EOS, IOS-XR), and comments.
_CLOSERS = frozenset({
    "end", "exit", "exit-address-family", "exit-peer-policy", "exit-peer-session", "exit-vrf",
    "exit-vnc", "end-set", "end-policy", "end-group",
})


@dataclass
class ConfigLine:
    """One configuration line as the router printed it (indentation and trailing blanks and
    carriage return removed, everything else kept) and the lines indented under it."""

    text: str
    indented: str  # the line with its original indentation
    children: list[ConfigLine] = field(default_factory=list)

    @property
    def words(self) -> list[str]:
        return self.text.split()

    def walk(self) -> Iterable[ConfigLine]:
        """Every line below this one, in order."""
        for child in self.children:
            yield child
            yield from child.walk()


def config_tree(text: str) -> list[ConfigLine]:
    """The top-level lines of `text` with their indented blocks.

    hier-config builds the hierarchy from the indentation. It is fed each line's position, not
    its text: hier-config collapses runs of blanks (a tab in a description would be lost), joins
    identical sibling lines, and its platform drivers rewrite lines (the IOS-XR driver deletes
    every line containing "speed" or "duplex"); a line starting "banner" would swallow the lines
    after it. The text of every node is then taken back from the router's output.
    """
    originals: list[tuple[str, str]] = []
    fed: list[str] = []
    for raw in text.replace("\x00", "\ufffd").splitlines():
        line = raw.rstrip(" \r")
        content = line.lstrip(" \t")
        if not content or content.startswith(("!", "#")) or content.strip() in _CLOSERS:
            continue
        indent = len(line) - len(content)
        fed.append(" " * indent + f"L{len(originals)}")
        originals.append((content, line))
    root = get_hconfig(HPlatform.GENERIC, "\n".join(fed))

    def convert(node) -> list[ConfigLine]:  # noqa: ANN001 - hier-config's HConfig / HConfigChild
        out = []
        for child in node.children:
            content, line = originals[int(child.text[1:])]
            out.append(ConfigLine(content, line, convert(child)))
        return out

    return convert(root)


def parse_max_prefix(words: list[str], ignore: tuple[str, ...] = ("force", "percent")
                     ) -> tuple[int | None, int | None, int | None, bool] | str:
    """`maximum-prefix N [pct] [restart M] [warning-only]` (FRR, IOS, IOS-XR) or `maximum-routes N
    [warning-limit W [percent]] [warning-only]` (EOS) as (limit, warn %, restart minutes,
    warning only); a reason string when unreadable. Words in `ignore` change nothing peerbot
    compares (IOS `force`, XR `discard-extra-paths`)."""
    if not words or not words[0].isdigit():
        return f"maximum-prefix {short(' '.join(words))} is not a number"
    limit = int(words[0])
    warn = restart = None
    warning_only = False
    rest = words[1:]
    while rest:
        word = rest.pop(0)
        if word.isdigit() and warn is None:
            warn = int(word)
        elif word == "restart" and rest and rest[0].isdigit():
            restart = int(rest.pop(0))
        elif word == "warning-only":
            warning_only = True
        elif word == "warning-limit" and rest and rest[0].isdigit():
            value = int(rest.pop(0))
            if rest and rest[0] == "percent":
                rest.pop(0)
                warn = value
            elif limit:
                warn = value * 100 // limit  # EOS: an absolute count; peerbot keeps percent
        elif word in ignore:
            continue
        else:
            return f"unknown maximum-prefix option {short(word)}"
    if limit == 0:  # EOS "maximum-routes 0": no limit
        return (None, None, None, False)
    return (limit, warn, restart, warning_only)
