"""Parsing and checking of everything a user types. Every value that can end up in a router
command or a Slack message passes through one of these functions first.

Each parser returns the clean value or raises FieldError with a message fit for an inline
modal error (Slack shows at most ~150 characters under a field).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

ASN_MAX = 4_294_967_295
AS_TRANS = 23456
# RFC 5398 documentation, RFC 6996 private, RFC 7300 last ASNs, RFC 7607 AS0.
_SPECIAL_ASN_RANGES: list[tuple[int, int, str]] = [
    (64496, 64511, "a documentation ASN (RFC 5398)"),
    (65536, 65551, "a documentation ASN (RFC 5398)"),
    (64512, 65534, "a private ASN (RFC 6996)"),
    (4_200_000_000, 4_294_967_294, "a private ASN (RFC 6996)"),
    (65535, 65535, "a reserved ASN (RFC 7300)"),
    (ASN_MAX, ASN_MAX, "a reserved ASN (RFC 7300)"),
    (65552, 131071, "a reserved ASN (IANA)"),
]
# Anything outside printable ASCII/Unicode letters: C0/C1 control characters, DEL, and the
# line/paragraph separators that some CLIs treat as newlines.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Free text that may be rendered into a router's config (descriptions): one line, no
# characters that CLIs give a meaning to (comment, command separators, quoting).
# "?" asks an interactive CLI (IOS, vtysh, Junos) for help instead of being typed.
_CLI_UNSAFE = re.compile(r"[;!#|\"'`\\{}$<>?]")
# RPSL names are ASCII: re.ASCII keeps \d to 0-9 and stops IGNORECASE folding e.g. the Kelvin
# sign onto "K" or the long s onto "S".
_AS_SET = re.compile(r"^(?:AS\d+:)?AS-[A-Z0-9_\-]+(?::AS-[A-Z0-9_\-]+)*$|^AS\d+$", re.IGNORECASE | re.ASCII)
# "RIPE::", "RIPE-NONAUTH::", "PEERBOT-TEST::" (IRRd source names)
_IRR_SOURCE = re.compile(r"^[A-Z0-9][A-Z0-9\-]{0,31}::", re.IGNORECASE | re.ASCII)


class FieldError(ValueError):
    """A single bad value; the message is shown to the user as is."""


@dataclass(frozen=True)
class Asn:
    value: int
    warning: str | None = None  # set for valid-but-suspicious ASNs


def parse_asn(text: str | int | None) -> Asn:
    raw = str(text if text is not None else "").strip()
    if not raw:
        raise FieldError("Enter an AS number, e.g. 65001 or AS65001.")
    digits = raw[2:] if raw[:2].upper() == "AS" else raw
    if not digits.isdigit() or not digits.isascii():
        # [0-9], not \d: \d also matches Arabic-Indic, full-width... digits, which int() reads
        if re.fullmatch(r"[0-9]+\.[0-9]+", digits):
            hi, lo = (_digits_value(x, 5) for x in digits.split("."))
            if hi <= 65535 and lo <= 65535:
                digits = str(hi * 65536 + lo)  # asdot notation
            else:
                raise FieldError("AS number out of range (asdot parts must be 0-65535).")
        else:
            raise FieldError("An AS number is digits only, optionally prefixed with AS (e.g. AS65001).")
    value = _digits_value(digits, 10)
    if not 1 <= value <= ASN_MAX:
        raise FieldError(f"AS number must be between 1 and {ASN_MAX}.")
    return Asn(value, asn_warning(value))


def _digits_value(digits: str, max_digits: int) -> int:
    """int() of ASCII digits; a number longer than `max_digits` comes back as 10**max_digits (out
    of the caller's range): int() refuses strings of more than 4300 digits with a ValueError."""
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= max_digits else 10**max_digits


def asn_warning(value: int) -> str | None:
    if value == AS_TRANS:
        return "AS23456 is AS_TRANS (RFC 6793): a real peer never uses it."
    for lo, hi, what in _SPECIAL_ASN_RANGES:
        if lo <= value <= hi:
            return f"AS{value} is {what}."
    return None


def parse_ip(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    raw = (text or "").strip()
    if not raw:
        raise FieldError("Enter the peer's IP address.")
    if "/" in raw:
        raise FieldError("Enter the address without a prefix length (e.g. 192.0.2.10).")
    if "%" in raw:
        # ipaddress accepts "fe80::1%<anything>" and keeps the suffix in str(ip): a way to smuggle
        # text into a router command. A BGP neighbor address never needs a zone.
        raise FieldError("Enter the address without a %zone/scope suffix.")
    if not re.fullmatch(r"[0-9A-Fa-f:.]+", raw):
        raise FieldError(f"'{short(raw)}' is not a valid IPv4 or IPv6 address.")
    try:
        ip = ipaddress.ip_address(raw)
    except ValueError:
        raise FieldError(f"'{short(raw)}' is not a valid IPv4 or IPv6 address.") from None
    if ip.is_unspecified or ip.is_loopback or ip.is_multicast or ip.is_link_local:
        raise FieldError(f"{ip} cannot be a BGP neighbor address (unspecified, loopback, multicast or link-local).")
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        raise FieldError("Use the plain IPv4 address, not an IPv4-mapped IPv6 address.")
    if isinstance(ip, ipaddress.IPv6Address) and ip.packed[:12] == bytes(12):
        raise FieldError("Use the plain IPv4 address, not an IPv4-compatible IPv6 address (::a.b.c.d).")
    if isinstance(ip, ipaddress.IPv4Address) and (ip.is_reserved or ip == ipaddress.IPv4Address("255.255.255.255")):
        raise FieldError(f"{ip} is a reserved address (240.0.0.0/4): it cannot be a BGP neighbor.")
    return ip


def check_ip_in_subnet(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, prefix: str, where: str) -> None:
    """The peer address must be a usable host address inside the exchange/interconnect LAN."""
    net = ipaddress.ip_network(prefix, strict=False)
    if ip.version != net.version:
        raise FieldError(f"{where} uses IPv{net.version} ({net}); this is an IPv{ip.version} address.")
    if ip not in net:
        raise FieldError(f"{ip} is not inside {where}'s LAN {net}.")
    if net.version == 4 and net.prefixlen < 31 and ip in (net.network_address, net.broadcast_address):
        raise FieldError(f"{ip} is the network or broadcast address of {net}.")


def clean_text(text: str | None, *, field: str, max_len: int, required: bool = False, multiline: bool = False) -> str | None:
    """Free text for names and notes: trimmed, length-limited, no control characters."""
    value = (text or "").strip()
    if not value:
        if required:
            raise FieldError(f"{field} is required.")
        return None
    if len(value) > max_len:
        raise FieldError(f"{field} is too long ({len(value)} characters, at most {max_len}).")
    check = value.replace("\n", "").replace("\t", " ") if multiline else value
    if _CONTROL.search(check):
        raise FieldError(f"{field} contains control characters or line breaks; remove them.")
    return value


def cli_safe_text(text: str | None, *, field: str, max_len: int, required: bool = False) -> str | None:
    """Text that a template may put into a router command (e.g. a neighbor description)."""
    value = clean_text(text, field=field, max_len=max_len, required=required)
    if value is None:
        return None
    if not value.isascii():
        raise FieldError(f"{field} may contain ASCII characters only (router CLIs mangle the rest).")
    bad = _CLI_UNSAFE.search(value)
    if bad:
        raise FieldError(f"{field} may not contain '{bad.group()}' (it has a meaning on router CLIs).")
    return value


MD5_MIN_LEN = 8  # no router needs fewer, and a shorter key is guessed offline from one captured segment
MD5_MAX_LEN = 80  # RFC 2385 implementations and Linux (FRR) stop at 80


def parse_md5(text: str | None) -> str | None:
    """Optional TCP-MD5 key: 8-80 printable ASCII characters, no spaces. Never echoed back.

    FRR, IOS, EOS and Junos accept keys from one character up; the floor is peerbot's: an
    MD5 key of a few characters falls to an offline search, and masking it in free text (a
    router's error message) would garble every line that happens to contain it."""
    if text is None or text == "":
        return None
    if len(text) > MD5_MAX_LEN:
        raise FieldError(f"The MD5 password may be at most {MD5_MAX_LEN} characters.")
    if len(text) < MD5_MIN_LEN:
        raise FieldError(f"The MD5 password must be at least {MD5_MIN_LEN} characters long.")
    if not all(33 <= ord(c) <= 126 for c in text):
        raise FieldError("The MD5 password may use printable ASCII characters only, without spaces.")
    if _CLI_UNSAFE.search(text):
        raise FieldError("The MD5 password may not contain ; ! # | \" ' ` \\ { } $ < > ? (router CLIs treat them specially).")
    return text


AS_SET_MAX_LEN = 100  # whole name without the source; RPSL puts no limit, real names stay far below


@dataclass(frozen=True)
class AsSetName:
    """An AS-SET (or a single ASN) as bgpq4 takes it: the RPSL name, upper-case, and the IRR
    source the user pinned with `SOURCE::` (None: the configured PEERBOT_IRR_SOURCES)."""

    name: str
    source: str | None = None

    @property
    def query(self) -> str:
        """The argument handed to bgpq4: `RIPE::AS-FOO` when a source is pinned."""
        return f"{self.source}::{self.name}" if self.source else self.name

    @property
    def is_asn(self) -> bool:
        return self.name[2:].isdigit()


def parse_as_set_name(text: str | None) -> AsSetName | None:
    """`AS-FOO`, `AS65000:AS-FOO`, `AS65000:AS-FOO:AS-BAR`, `RIPE::AS-FOO` or a plain `AS65000`
    (RFC 2622 set names: letters, digits, `-` and `_`, ending in a letter or digit). None for
    empty input; FieldError (the message names the AS-SET) for anything else."""
    raw = (text or "").strip()
    if not raw:
        return None
    if not raw.isascii() or _CONTROL.search(raw):
        raise FieldError("An AS-SET uses ASCII letters, digits, '-', '_' and ':' only.")
    source = None
    m = _IRR_SOURCE.match(raw)
    if m:
        source = m.group()[:-2].upper()
        raw = raw[m.end():]
    elif "::" in raw:
        raise FieldError("The IRR source of an AS-SET (before '::') is 1-32 letters, digits or '-', e.g. RIPE::AS-EXAMPLE.")
    if len(raw) > AS_SET_MAX_LEN:
        raise FieldError(f"An AS-SET name is at most {AS_SET_MAX_LEN} characters.")
    if not _AS_SET.fullmatch(raw) or any(part[-1] in "-_" for part in raw.split(":")):
        raise FieldError("An AS-SET looks like AS-EXAMPLE, AS65001:AS-CUSTOMERS or AS65001.")
    for part in raw.split(":"):
        if part[2:].isdigit() and not 1 <= _digits_value(part[2:], 10) <= ASN_MAX:
            raise FieldError(f"{part[:20]} in the AS-SET is not a valid AS number (1-{ASN_MAX}).")
    return AsSetName(raw.upper(), source)


def parse_as_set(text: str | None) -> str | None:
    """The AS-SET's name as stored on sessions (the `SOURCE::` prefix is not part of it)."""
    parsed = parse_as_set_name(text)
    return parsed.name if parsed else None


def short(text: str, limit: int = 40) -> str:
    """Echo user input back safely: no control characters, bounded length."""
    text = _CONTROL.sub("?", text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def outside_name(text: str | None, max_len: int = 80) -> str:
    """Outside text (a PeeringDB network name, a router's neighbor description) made fit for the
    peer name field: without the characters it refuses (names end up in router descriptions) and
    control characters, on one line, within `max_len`. It may still fail cli_safe_text (non-ASCII)."""
    return " ".join(re.sub(r"[;!#|\"'`\\{}$<>?\x00-\x1f\x7f-\x9f]", " ", text or "").split())[:max_len].strip()


def safe_peer_name(text: str | None, max_len: int = 80) -> str | None:
    """outside_name(text) when it passes cli_safe_text, else None (the caller picks another name)."""
    try:
        return cli_safe_text(outside_name(text, max_len), field="Peer name", max_len=max_len, required=True)
    except FieldError:
        return None


def first_as_set(irr_as_set: str | None) -> str | None:
    """PeeringDB's irr_as_set may list several ("RIPE::AS-FOO AS-BAR"): the first that parses."""
    for token in (irr_as_set or "").replace(",", " ").split():
        try:
            return parse_as_set(token)
        except FieldError:
            continue
    return None
