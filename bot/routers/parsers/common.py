"""Small helpers shared by the per-platform parsers."""
from __future__ import annotations

import functools
import ipaddress
import itertools
import json
import logging
import re

import orjson

from bot.routers.base import BGP_STATES, RouterError

log = logging.getLogger("bot.routers.parsers")

_STATES = {s.lower(): s for s in BGP_STATES}
_STATES.update({"estab": "Established", "opensnt": "OpenSent", "openconf": "OpenConfirm"})  # abbreviations


@functools.lru_cache(maxsize=256)  # a handful of distinct texts, once per neighbor per poll
def _normalize_state_text(raw: str) -> str:
    word = re.split(r"[\s(,.]", raw.strip(), maxsplit=1)[0].lower()
    return _STATES.get(word, "Idle")


def normalize_state(raw: str | None) -> str:
    """Map a platform's state text to the RFC 4271 FSM name.

    "Idle (Admin)", "Idle (PfxCt)", "Active." and "ESTABLISHED" all reduce to their first
    word; anything unknown (FRR "Clearing"/"Deleted", XR "Closing") is reported as Idle,
    which is what the session effectively is.
    """
    return _normalize_state_text(raw[:64]) if isinstance(raw, str) else "Idle"


def to_int(value: object) -> int | None:
    if type(value) is int:  # what JSON answers hold (bool is a subclass: not taken here)
        return value
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except ValueError:  # also 5000 digits (Python's int limit)
        return None


@functools.lru_cache(maxsize=65536)  # every poll normalises the same few thousand addresses
def norm_ip(text: str) -> str:
    """Canonical form so that '2001:DB8::02' from a router matches '2001:db8::2' from the DB."""
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return text.strip()


_UNITS = {"y": 365 * 86400, "w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | None) -> int | None:
    """Seconds from Cisco/Junos style durations.

    Accepts "00:05:12", "1d02h", "3w2d", "1y2w", "2d 3:04:05" (Junos), "6:00:12".
    "never" and unparsable text give None.
    """
    t = (text or "").strip().lower()
    if not t or t == "never":
        return None
    total = 0
    clock = re.search(r"(\d+):(\d{2})(?::(\d{2}))?$", t)
    if clock:
        h, m, s = int(clock.group(1)), int(clock.group(2)), int(clock.group(3) or 0)
        if clock.group(3) is None:  # "MM:SS" (Junos uses it for short durations)
            h, m, s = 0, h, m
        total += h * 3600 + m * 60 + s
        t = t[: clock.start()]
    units = re.findall(r"(\d+)\s*([ywdhms])", t)
    leftover = re.sub(r"(\d+)\s*([ywdhms])|\s", "", t)
    if leftover or (not units and not clock):
        return None
    return total + sum(int(n) * _UNITS[u] for n, u in units)


class ParseError(RouterError, ValueError):
    """The output is not what the state command prints (an error text, a banner, a cut-off
    answer). Raised instead of returning {} so that a poll never reads "every neighbor gone".
    The message names what was missing, never the output itself."""


# paging left in a capture: " --More-- " followed by the backspaces/blanks that erase it
_PAGER = re.compile(r" ?-+ ?\(?[Mm]ore\)? ?-+ ?[\x08 ]*(?:\x08+)?")


def clean_cli_text(text: str) -> str:
    """Drop carriage returns and pager artifacts ("--More--" and its erasing backspaces)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # The pager pattern tries a match at every blank, and a poll's JSON is mostly indentation:
    # run it only when a pager prompt can be there (this was ~5 ms of CPU per router poll).
    if "more" in text.lower():
        text = _PAGER.sub("", text)
    return text.replace("\x08", "")


def load_json(output: str, what: str) -> dict:
    """The JSON object in a CLI answer. Text around it (a Junos "{master:0}" line after it, a
    banner or warning before it) is ignored; no object, or one that is not a dict, is a
    ParseError naming `what` (the command's JSON)."""
    text = clean_cli_text(output)
    first = len(text) - len(text.lstrip())
    at_start = text[first:first + 1] == "{"
    if at_start:
        try:  # nothing but the object (the usual answer): orjson, the JSON was most of a poll's CPU
            return _checked(orjson.loads(text), what, text, first, len(text))
        except orjson.JSONDecodeError:
            pass  # text after it, numbers past 64 bits, NaN: the standard decoder below
    # The object at the start, then every "{" that opens a line (the answer's own: nested objects
    # of a pretty-printed answer are indented), scanned only when the one before is not JSON.
    starts = itertools.chain([first] if at_start else [],
                             (m.start() for m in re.finditer(r"^\{", text, re.M) if m.start() != first))
    error: ValueError | None = None
    for start in starts:  # a line such as "{master:0}" before the answer is not JSON: try the next
        try:
            data, end = json.JSONDecoder().raw_decode(text, start)
        except ValueError as exc:  # not JSON, or a number past Python's 4,300 digits
            error = error or exc
            continue
        return _checked(data, what, text, start, end)
    if error is None:
        raise ParseError(f"no JSON object in the {what} output")
    where = f" (line {error.lineno})" if isinstance(error, json.JSONDecodeError) else ""
    raise ParseError(f"the {what} output is not valid JSON{where}")


def _checked(data: object, what: str, text: str, start: int, end: int) -> dict:
    if not isinstance(data, dict):
        raise ParseError(f"the {what} output is not a JSON object")
    if text[:start].strip() or text[end:].strip():
        log.debug("%s: ignored text around the JSON answer", what)
    return data


# ----------------------------------------------------------------------------- max-prefix
PREFIX_LIMIT_EXCEEDED = "prefix limit exceeded"
# How the platforms word a teardown for too many prefixes: FRR/XR "Cease/Maximum Number of
# Prefixes Reached", IOS "Peer over prefix limit", "Idle (PfxCt)", Junos "prefix-limit exceeded",
# EOS "Maximum routes exceeded" / "MaxRoutes".
_PREFIX_LIMIT_TEXT = re.compile(r"(?i)maximum number of prefixes|prefix[- ]?limit|max(?:imum)?[- ]?routes|"
                                r"pfxct|exceed\w* (?:the )?max")


def is_prefix_limit(text: str | None) -> bool:
    return isinstance(text, str) and bool(_PREFIX_LIMIT_TEXT.search(text))  # router output: maybe not text


def prefix_limit_error(limit: int | None) -> str:
    """The one wording peerbot shows for a max-prefix teardown, on every platform."""
    return f"{PREFIX_LIMIT_EXCEEDED} ({limit})" if limit else PREFIX_LIMIT_EXCEEDED


def with_prefix_limit(last_error: str | None, limit: int | None = None) -> str | None:
    """`last_error`, or the prefix-limit wording when that is what it says."""
    return prefix_limit_error(limit) if is_prefix_limit(last_error) else last_error
