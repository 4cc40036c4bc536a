"""Names of the inbound filter objects peerbot creates on a router for an AS-SET.

One object per (AS-SET, address family, content): `PB-<AS-SET>-<h>-<family>-<v>`, e.g.
`PB-AS-EXAMPLE-3f2a9c-4-81c0d2` (at most 43 characters).
- `<AS-SET>` is the name made safe as one CLI word on every platform (upper-case letters,
  digits and '-' only, at most 24 characters); `<h>` is a hash of the exact AS-SET name, so two
  AS-SETs that sanitise to the same text (`AS-FOO` and `RIPE::AS-FOO`, or two long names cut at
  24) never share an object.
- `<v>` is a hash of the entries. A changed AS-SET therefore gets a NEW object: a re-configure
  builds it complete, switches the neighbor over in one command, then removes the old one. The
  neighbor is never bound to a half-written, empty (FRR: permit-all) or missing (FRR: deny-all)
  list, and FRR re-reads a neighbor's routes when its filter command changes (it does not when
  only the list's entries change).
Sessions on one router with the same AS-SET and the same entries share the object.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

from bot.routers.prefixes import PrefixEntry

PREFIX = "PB"
TAG_MAX = 24
# What a name built here looks like: a check for names read back from the database.
NAME_RE = re.compile(r"^PB-[A-Z0-9-]{1,24}-[0-9a-f]{6}-[46]-[0-9a-f]{6}$")


def _digest(text: str, n: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:n]


def as_set_tag(as_set: str) -> str:
    """`RIPE::AS65000:AS-FOO` -> `RIPE-AS65000-AS-FOO-<hash>`: one safe word, unique per AS-SET."""
    words = re.sub(r"[^A-Z0-9]+", "-", as_set.upper()).strip("-")[:TAG_MAX].strip("-") or "X"
    return f"{words}-{_digest(as_set, 6)}"


def filter_name(as_set: str, family: int, entries: Iterable[PrefixEntry]) -> str:
    """The object name for this AS-SET's entries of one family (sorted, de-duplicated)."""
    body = "\n".join(sorted({str(e) for e in entries}))
    return f"{PREFIX}-{as_set_tag(as_set)}-{family}-{_digest(body, 6)}"
