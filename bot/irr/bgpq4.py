"""Run bgpq4 for one AS-SET and one address family; return the prefix-filter entries in the
form peerbot stores (bot/routers/prefixes.py).

bgpq4 is asked for JSON (`-j`), aggregated (`-A`): each element is `{"prefix": "<cidr>",
"exact": true}` or `{"prefix": ..., "exact": false, "greater-equal": m, "less-equal": n}` with
either bound possibly absent. Every entry is checked with `parse_entry` before it is returned.

bgpq4 answers an unknown set and an empty one alike (exit 0, an empty list), so `describe_empty`
asks once more (`-t`, the set's ASNs, with `-d` debug output) to tell the user which it is.
Failures are IrrError, whose message is safe to show: never a traceback, never bgpq4's whole
output.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass

from bot.base.errors import PeerbotError
from bot.routers.prefixes import parse_entries
from bot.base.validation import AsSetName

log = logging.getLogger(__name__)

BGPQ4 = "bgpq4"
DEBIAN_PACKAGE = "bgpq4"
_LIST_NAME = "PEERBOT"  # -l: the JSON object's key
_ERROR_LINE = re.compile(r"^ERROR:\s*(.*)$", re.MULTILINE)
_UNPRINTABLE = re.compile(r"[^\x20-\x7e]")


class IrrError(PeerbotError):
    """An import that could not be done; the message says why, fit for Slack and the CLI."""


@dataclass(frozen=True)
class Bgpq4:
    """How to reach the IRR: `host` (host or host:port), `sources` ("RIPE,ARIN"; "" = the
    server's default), bgpq4's time limit in seconds and the executable (found on PATH)."""

    host: str
    sources: str = ""
    timeout: float = 60.0
    executable: str = BGPQ4

    @classmethod
    def from_settings(cls, settings) -> Bgpq4:  # noqa: ANN001
        return cls(host=settings.irr_host, sources=settings.irr_sources, timeout=settings.irr_timeout)

    def where(self, target: AsSetName) -> str:
        """"rr.ntt.net (RIPE)": where a set is looked up, for messages."""
        sources = target.source or self.sources
        return self.host + (f" ({sources})" if sources else "")

    def _argv(self, target: AsSetName, options: Sequence[str]) -> list[str]:
        exe = shutil.which(self.executable)
        if exe is None:
            raise IrrError(f"bgpq4 is not installed on the peerbot host: install the Debian package "
                           f"`{DEBIAN_PACKAGE}` (apt-get install {DEBIAN_PACKAGE}) to import AS-SETs.")
        argv = [exe, "-h", self.host]
        if self.sources and not target.source:  # a pinned SOURCE:: wins over the configured list
            argv += ["-S", self.sources]
        # The target is a validated RPSL name: it starts with "AS" or a source, never with "-".
        return argv + list(options) + [target.query]

    def _run(self, target: AsSetName, options: Sequence[str]) -> subprocess.CompletedProcess[str]:
        argv = self._argv(target, options)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=self.timeout,
                                  check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise IrrError(f"bgpq4 did not finish within {self.timeout:g} s expanding {target.query} at "
                           f"{self.where(target)}: the IRR is slow or the set is very large. Try again later, "
                           "or raise PEERBOT_IRR_TIMEOUT.") from None
        except OSError as exc:
            raise IrrError(f"bgpq4 could not be started ({type(exc).__name__}).") from None
        if done.returncode != 0:
            log.info("bgpq4 %s exited %s: %s", target.query, done.returncode, done.stderr[-500:])
            raise IrrError(f"bgpq4 failed expanding {target.query} at {self.where(target)}: {_reason(done.stderr)}")
        return done

    def entries(self, target: AsSetName, family: int) -> list[str]:
        """The set's aggregated prefix-filter entries of `family` (4 or 6), sorted."""
        done = self._run(target, ["-4" if family == 4 else "-6", "-j", "-A", "-l", _LIST_NAME])
        try:
            items = json.loads(done.stdout)[_LIST_NAME]
            texts = [entry_text(item) for item in items]
            return [str(e) for e in parse_entries(texts, family)]
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("bgpq4 output for %s not understood: %s", target.query, str(exc)[:200])
            raise IrrError(f"bgpq4 returned IPv{family} data for {target.query} that peerbot cannot read; "
                           "nothing was imported.") from None

    def describe_empty(self, target: AsSetName) -> str:
        """Why a set gave no prefixes at all: unknown, empty, or members without route objects."""
        where = self.where(target)
        if target.is_asn:
            return f"{target.query} has no route or route6 objects at {where}."
        try:
            done = self._run(target, ["-t", "-j", "-d", "-l", _LIST_NAME])
            asns = json.loads(done.stdout)[_LIST_NAME]
        except (IrrError, ValueError, KeyError, TypeError):
            asns = None
        if asns:
            return (f"{target.query} has {len(asns)} member AS(es) at {where}, but none has route or route6 "
                    "objects: an empty filter would reject everything, so nothing was imported.")
        if asns is not None and "key not found" in done.stderr.lower():
            return f"{target.query} is not known at {where}: check its name and source."
        return f"{target.query} is empty at {where} (no members with prefixes): nothing was imported."


def entry_text(item: dict) -> str:
    """One bgpq4 JSON element as a stored entry: `<cidr>`, `<cidr> le N`, `<cidr> ge M le N`."""
    prefix = item["prefix"]
    if not isinstance(prefix, str):
        raise TypeError("prefix is not text")
    if item.get("exact", True) is True:
        return prefix
    length = int(prefix.rpartition("/")[2])
    ge, le = item.get("greater-equal"), item.get("less-equal")
    ge = None if ge is None or int(ge) == length else int(ge)  # "ge <own length>" says nothing
    le = None if le is None or (int(le) == length and ge is None) else int(le)
    text = prefix
    if ge is not None:
        text += f" ge {ge}"
    if le is not None:
        text += f" le {le}"
    return text


def _reason(stderr: str) -> str:
    """bgpq4's last ERROR line, printable and short; a generic text when there is none."""
    lines = _ERROR_LINE.findall(stderr or "")
    text = _UNPRINTABLE.sub("?", lines[-1].strip())[:200] if lines else ""
    return text or "it gave no reason"
