"""Prefix-filter entries: the one text form peerbot stores and templates render.

An entry is `<network>` (exact match), or `<network> le <n>` / `<network> ge <m> le <n>` /
`<network> ge <m>` (a length range), the words IOS, FRR and EOS use; the IOS-XR and Junos
templates translate. The IRR import (bgpq4) writes entries in this form into AsSet.prefixes_v4
/ prefixes_v6, and every template reads them through `parse_entry`, so a value that is not
exactly one well-formed entry can never reach a router CLI.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_ENTRY = re.compile(r"^(?P<net>[0-9A-Fa-f.:]+/\d{1,3})(?: ge (?P<ge>\d{1,3}))?(?: le (?P<le>\d{1,3}))?\Z")


@dataclass(frozen=True)
class PrefixEntry:
    network: Network
    ge: int | None = None  # shortest length accepted (None: the network's own length)
    le: int | None = None  # longest length accepted (None: exact unless ge is given)

    @property
    def family(self) -> int:
        return self.network.version

    @property
    def min_length(self) -> int:
        return self.ge if self.ge is not None else self.network.prefixlen

    @property
    def max_length(self) -> int:
        if self.le is not None:
            return self.le
        return self.network.max_prefixlen if self.ge is not None else self.network.prefixlen

    @property
    def exact(self) -> bool:
        return self.ge is None and self.le is None

    def __str__(self) -> str:
        text = str(self.network)
        if self.ge is not None:
            text += f" ge {self.ge}"
        if self.le is not None:
            text += f" le {self.le}"
        return text

    def sort_key(self) -> tuple[int, int, int, int, int]:
        return (self.family, int(self.network.network_address), self.network.prefixlen,
                self.min_length, self.max_length)


def parse_entry(text: str) -> PrefixEntry:
    """One stored entry, strictly: the network in canonical form (no host bits), and
    len < ge <= le <= max length. Raises ValueError with a short reason."""
    if not isinstance(text, str) or not text.isascii():
        raise ValueError("prefix entry is not ASCII text")
    m = _ENTRY.match(text)
    if m is None:
        raise ValueError(f"not a prefix entry: {text[:60]!r}")
    try:
        net = ipaddress.ip_network(m["net"], strict=True)
    except ValueError as exc:
        raise ValueError(f"bad prefix {m['net']!r}: {exc}") from None
    ge = int(m["ge"]) if m["ge"] is not None else None
    le = int(m["le"]) if m["le"] is not None else None
    low = ge if ge is not None else net.prefixlen
    if ge is not None and ge <= net.prefixlen:
        raise ValueError(f"{text!r}: ge must be longer than the prefix length")
    if le is not None and not (max(low, net.prefixlen + 1) <= le <= net.max_prefixlen):
        raise ValueError(f"{text!r}: le must be between the prefix length (exclusive) and {net.max_prefixlen}")
    if ge is not None and ge > net.max_prefixlen:
        raise ValueError(f"{text!r}: ge beyond {net.max_prefixlen}")
    return PrefixEntry(net, ge, le)


def parse_entries(texts: Iterable[str], family: int | None = None) -> list[PrefixEntry]:
    """All entries, de-duplicated and sorted; `family` (4/6) refuses entries of the other family."""
    entries = {parse_entry(t) for t in texts}
    if family is not None:
        wrong = [str(e) for e in entries if e.family != family]
        if wrong:
            raise ValueError(f"IPv{family} list holds {wrong[0]}")
    return sorted(entries, key=PrefixEntry.sort_key)
