"""Hypothesis strategies for hostile user input, and the invariants every surface shares.

The values mix three sources: arbitrary Unicode, plausible values with hostile characters
spliced in (every line break and control character, CLI metacharacters, look-alike spaces and
digits), and hand-picked edge forms of addresses and AS numbers that parsers get wrong.
"""
from __future__ import annotations

import ipaddress
import re

from hypothesis import strategies as st

# Every character some CLI, terminal or str.splitlines() treats as a line break.
LINE_BREAKS = ("\n", "\r", "\r\n", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")
# C0 controls, DEL, C1 controls.
CONTROLS = tuple(chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0)))
# CLI metacharacters, quoting, look-alike spaces, invisible and bidi characters.
SPECIALS = (";", "?", "!", "#", "|", '"', "'", "`", "\\", "{", "}", "$", "<", ">", "%", "[", "]", "/", " ", "\t",
            "\u00a0", "\u3000", "\u2007", "\u200b", "\u202e", "\ufeff", "\u0130", "\u212a", "\u017f")
# Digits that str.isdigit() or \d accept but are not 0-9.
UNICODE_DIGITS = ("\uff11", "\u0661", "\u06f5", "\u0967", "\u00b2", "\u2460", "\U0001d7d9")
HOSTILE_CHARS = (*LINE_BREAKS, *CONTROLS, *SPECIALS, *UNICODE_DIGITS)

hostile_char = st.sampled_from(HOSTILE_CHARS)


def spliced(base: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """`base` values with 1-3 hostile characters inserted at arbitrary positions."""

    @st.composite
    def _splice(draw: st.DrawFn) -> str:
        text = draw(base)
        for _ in range(draw(st.integers(1, 3))):
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(hostile_char) + text[at:]
        return text

    return _splice()


def long_text(alphabet: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """Very long strings (a character repeated up to 6000 times: past Python's 4300-digit int limit)."""
    chars = alphabet if alphabet is not None else st.sampled_from(("9", "a", "A", " ", "\u00a0", ";", "1."))
    return st.builds(lambda c, n: c * n, chars,
                     st.one_of(st.sampled_from((81, 256, 1001, 4301, 6000)), st.integers(81, 6000)))
long_digits = long_text(st.sampled_from(("9", "1", "0")))


def hostile(*bases: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Arbitrary Unicode, hostile characters alone or spliced into plausible values, very long strings."""
    plausible = st.one_of(*bases) if bases else st.text(max_size=20)
    return st.one_of(
        st.text(max_size=60),
        st.lists(hostile_char, max_size=10).map("".join),
        plausible,
        spliced(plausible),
        long_text(),
    )


# ----------------------------------------------------------------------------- addresses
IP_EDGE_FORMS = (
    "010.0.0.1", "192.0.2.010", "192.000.002.010", "0192.0.2.10",          # leading zeros (octal on some stacks)
    "::ffff:192.0.2.1", "::ffff:c000:201", "::FFFF:192.0.2.10",           # IPv4-mapped IPv6
    "::192.0.2.10", "64:ff9b::192.0.2.10",                                 # IPv4-compatible, NAT64
    "fe80::1%eth0", "2001:db8::10%eth0", "192.0.2.10%1", "2001:db8::10%",  # zone ids
    "[::1]", "[2001:db8::10]", "[192.0.2.10]", "192.0.2.10:179", "[2001:db8::10]:179",
    "192.0.2.10.", "192.0.2.10..", ".192.0.2.10", "2001:db8::10.",          # trailing/leading dots
    "192.0.2. 10", "192.0.2.\u00a010", "2001:db8:: 10", "192.0.2.10\u00a0x",  # embedded spaces, NBSP
    "\uff11\uff19\uff12.0.2.10", "192.0.2.\u0661\u0660",                    # full-width, Arabic-Indic digits
    "192.0.2.10/32", "2001:db8::10/128", "192.0.2.0/24",
    "0.0.0.0", "::", "127.0.0.1", "::1", "224.0.0.5", "ff02::1", "169.254.0.1", "fe80::1",
    "255.255.255.255", "192.0.2.256", "1.2.3", "1.2.3.4.5", "0x7f.0.0.1", "3221225994", "1e2.0.0.1",
    "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "2001:db8::g", "2001:0db8:0000:0000:0000:0000:0000:0010",
    "2001:DB8::10", "2001:db8:0:0:0:0:0:10", "::ffff:0:0", "2002:c000:0204::1",
)


@st.composite
def ip_variants(draw: st.DrawFn) -> str:
    """A real address written some way: canonical, exploded, upper case, padded with white space."""
    ip = draw(st.ip_addresses())
    text = draw(st.sampled_from((str(ip), ip.exploded, str(ip).upper())))
    pad = draw(st.sampled_from(("", " ", "\t", "\u00a0", "\n")))
    return pad + text + draw(st.sampled_from(("", " ", "\u3000", "\r\n")))


ip_inputs = st.one_of(st.sampled_from(IP_EDGE_FORMS), ip_variants(), hostile(st.sampled_from(IP_EDGE_FORMS)))

# ----------------------------------------------------------------------------- AS numbers
ASN_EDGE_FORMS = (
    "0", "AS0", "1", "23456", "AS23456", "64496", "65535", "65536", "4294967295", "4294967296", "AS4294967296",
    "1.10", "AS1.10", "0.0", "65535.65535", "65536.0", "1.65536", "1.", ".1", "1..1", "1.2.3",
    "as65001", "As65001", "AS 65001", "AS-65001", "ASN65001", "65001AS", "+65001", "-1", "-65001", "065001",
    "\uff16\uff15\uff10\uff10\uff11", "\u0666\u0665\u0660\u0660\u0661", "\u0661.\u0661\u0660", "\uff11.\uff11",
    "6\u00b2", "\u2460", "65_001", "65,001", "0x10", "1e3", "65001.0", "99999999999999999999",
)
asn_inputs = st.one_of(
    st.sampled_from(ASN_EDGE_FORMS),
    st.integers(-(2**70), 2**70).map(str),
    st.integers(0, 2**33).map(lambda n: f"AS{n}"),
    st.tuples(st.integers(0, 70000), st.integers(0, 70000)).map(lambda t: f"{t[0]}.{t[1]}"),
    long_digits, long_digits.map(lambda d: f"AS{d}"), long_digits.map(lambda d: f"{d}.1"),
    hostile(st.sampled_from(ASN_EDGE_FORMS)),
)

# ----------------------------------------------------------------------------- other fields
name_inputs = hostile(st.sampled_from(("Example Peer", "Alpha Networks", "ACME (EU)", "x", "A&B Telecom")))
md5_inputs = hostile(st.sampled_from(("s3cret-Md5-key", "abcdefgh", "pa ss word", "********", "k" * 80, "k" * 81)))
as_set_inputs = hostile(st.sampled_from(("AS-EXAMPLE", "RIPE::AS-EXAMPLE", "AS65001:AS-CUST", "AS65001", "as-x",
                                          "AS-\u212aELVIN", "AS-\u0661", "AS-EX AMPLE", "AS-")))
max_prefix_inputs = st.one_of(long_digits, hostile(st.sampled_from((
    "100", "1,000", "10_000", "0", "10000000", "10000001", "-5", "\uff11\uff10\uff10", "1e3", "1.5"))))
notes_inputs = hostile(st.sampled_from(("ticket NET-7", "line one\nline two", "tab\tseparated", "a" * 1000)))

# ----------------------------------------------------------------------------- invariants
_CONTROL_OR_SEPARATOR = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PRINTABLE_ASCII_LINE = re.compile(r"[\x20-\x7e]*")


def assert_clear_message(message: str) -> None:
    """An error a user sees: there, one line, bounded, no control characters echoed back."""
    assert isinstance(message, str) and message.strip(), "empty error message"
    assert not _CONTROL_OR_SEPARATOR.search(message), f"error message echoes control characters: {message!r}"
    assert len(message) <= 300, f"error message too long ({len(message)})"


def assert_safe_file_line(line: str) -> None:
    """A line of a configuration file (BIRD): printable ASCII and stripped; ";" and "?" are
    allowed (the values in it are checked for the file's syntax characters: test_render_props)."""
    assert _PRINTABLE_ASCII_LINE.fullmatch(line), f"non-printable or non-ASCII character in {line!r}"
    assert line == line.strip(), f"line not stripped: {line!r}"


def assert_safe_cli_line(line: str) -> None:
    """A line that may be sent to a router: printable ASCII, no command separator or help key."""
    assert _PRINTABLE_ASCII_LINE.fullmatch(line), f"non-printable or non-ASCII character in {line!r}"
    assert ";" not in line and "?" not in line, f"';' or '?' in {line!r}"
    assert line == line.strip(), f"line not stripped: {line!r}"


def canonical_ip(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
