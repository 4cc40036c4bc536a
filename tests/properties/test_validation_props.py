"""Properties of the field parsers (bot/base/validation.py, parse_max_prefixes): for any input they
return a clean value or raise FieldError with a clear message, never anything else; what they
accept is exactly what the field allows."""
from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.sessions.provisioning import MAX_PREFIXES, parse_max_prefixes
from bot.base.validation import (
    ASN_MAX, FieldError, clean_text, cli_safe_text, parse_as_set, parse_asn, parse_ip, parse_md5, short,
)
from tests.properties.strategies import (
    CONTROLS, IP_EDGE_FORMS, LINE_BREAKS, as_set_inputs, asn_inputs, assert_clear_message, canonical_ip, hostile,
    ip_inputs, max_prefix_inputs, md5_inputs, name_inputs, notes_inputs,
)

PROPS = settings(max_examples=200, deadline=None)
_ASCII_ASN = re.compile(r"(?:AS)?(?:[0-9]+|[0-9]+\.[0-9]+)", re.I | re.ASCII)


def _outcome(fn, *args, **kwargs):  # noqa: ANN001, ANN202
    """(value, None) or (None, message); any other exception fails the property."""
    try:
        return fn(*args, **kwargs), None
    except FieldError as exc:
        assert_clear_message(str(exc))
        return None, str(exc)


# ----------------------------------------------------------------------------- ASN
@PROPS
@given(asn_inputs)
@example("9" * 5000)
@example("9" * 5000 + ".1")
@example("\u0661.\u0661\u0660")
def test_parse_asn_accepts_only_ascii_asplain_or_asdot_in_range(text: str) -> None:
    asn, error = _outcome(parse_asn, text)
    if asn is None:
        assert "AS number" in error
        return
    raw = text.strip()
    assert _ASCII_ASN.fullmatch(raw), f"accepted {text!r}"
    assert 1 <= asn.value <= ASN_MAX
    digits = raw[2:] if raw[:2].upper() == "AS" else raw
    hi, _, lo = digits.partition(".")
    hi, lo = (int(part.lstrip("0") or "0") for part in (hi, lo))  # leading zeros are allowed
    assert asn.value == (hi * 65536 + lo if "." in digits else hi)


@PROPS
@given(st.integers(1, ASN_MAX), st.sampled_from(("", "AS", "as")))
def test_parse_asn_round_trips_asplain_and_asdot(value: int, prefix: str) -> None:
    assert parse_asn(f"{prefix}{value}").value == value
    assert parse_asn(f" {prefix}{value // 65536}.{value % 65536}\t").value == value


@pytest.mark.parametrize("text", ["0", "AS0", "4294967296", "-1", "-65001", "AS-65001", "65536.0", "1.65536",
                                  "\uff16\uff15\uff10\uff10\uff11", "\u0661.\u0661\u0660", "\uff11.\uff11",
                                  "9" * 5000, "AS" + "9" * 5000, "9" * 5000 + ".1", "99999999999999999999"])
def test_parse_asn_refuses_edge_cases(text: str) -> None:
    with pytest.raises(FieldError):
        parse_asn(text)


def test_parse_asn_warns_on_special_asns() -> None:
    assert "AS_TRANS" in (parse_asn("23456").warning or "")
    assert "reserved" in (parse_asn("4294967295").warning or "")
    assert parse_asn("AS1.10").value == 65546 and parse_asn("1.10").warning


# ----------------------------------------------------------------------------- IP
@PROPS
@given(ip_inputs)
def test_parse_ip_accepts_only_plain_usable_addresses(text: str) -> None:
    ip, error = _outcome(parse_ip, text)
    if ip is None:
        assert "address" in error
        return
    raw = text.strip()
    assert re.fullmatch(r"[0-9A-Fa-f:.]+", raw), f"accepted {text!r}"
    assert ipaddress.ip_address(raw) == ip and canonical_ip(str(ip)) == str(ip)
    assert not (ip.is_loopback or ip.is_multicast or ip.is_link_local or ip.is_unspecified)
    assert not (ip.version == 6 and ip.ipv4_mapped)


@pytest.mark.parametrize("text", [t for t in IP_EDGE_FORMS if t not in (
    "::192.0.2.10", "64:ff9b::192.0.2.10", "255.255.255.255", "2001:0db8:0000:0000:0000:0000:0000:0010",
    "2001:DB8::10", "2001:db8:0:0:0:0:0:10", "2002:c000:0204::1")])
def test_parse_ip_refuses_edge_forms(text: str) -> None:
    with pytest.raises(FieldError):
        parse_ip(text)


def test_parse_ip_normalises_long_and_upper_case_forms() -> None:
    assert str(parse_ip("2001:0DB8:0000:0000:0000:0000:0000:0010")) == "2001:db8::10"


# ----------------------------------------------------------------------------- free text
@PROPS
@given(name_inputs, st.integers(1, 100), st.booleans())
def test_cli_safe_text_accepts_one_printable_ascii_line_without_cli_metacharacters(text: str, max_len: int,
                                                                                   required: bool) -> None:
    value, error = _outcome(cli_safe_text, text, field="Peer name", max_len=max_len, required=required)
    if error is not None:
        assert "Peer name" in error
        return
    if value is None:
        assert not required and not text.strip()
        return
    assert value == text.strip() and len(value) <= max_len
    assert re.fullmatch(r"[\x20-\x7e]+", value)
    assert not set(value) & set(";!#|\"'`\\{}$<>?")


@PROPS
@given(notes_inputs, st.booleans())
def test_clean_text_keeps_no_control_characters(text: str, multiline: bool) -> None:
    value, error = _outcome(clean_text, text, field="Notes", max_len=1000, multiline=multiline)
    if error is not None:
        assert "Notes" in error
        return
    if value is None:
        return
    assert value == text.strip() and len(value) <= 1000
    allowed = {"\n", "\t"} if multiline else set()
    bad = (set(CONTROLS) | {"\u2028", "\u2029"}) - allowed
    assert not set(value) & bad, f"kept a control character: {value!r}"


@pytest.mark.parametrize("brk", [b for b in LINE_BREAKS if b not in ("\n",)])
def test_single_line_text_refuses_every_line_break(brk: str) -> None:
    with pytest.raises(FieldError, match="Peer name"):
        cli_safe_text(f"Example{brk}Peer", field="Peer name", max_len=80)
    with pytest.raises(FieldError, match="Notes"):
        clean_text(f"one{brk}two", field="Notes", max_len=1000, multiline=True)


# ----------------------------------------------------------------------------- MD5
def _md5_error(text: str) -> str:
    with pytest.raises(FieldError) as exc:
        parse_md5(text)
    return str(exc.value)


# every message parse_md5 has: none of them may depend on the key (it would echo it)
_MD5_MESSAGES = {_md5_error(t) for t in ("x" * 81, "x", "abcdefg h", "abcdefgh;")}


@PROPS
@given(md5_inputs)
def test_parse_md5_accepts_8_to_80_printable_ascii_without_cli_metacharacters(text: str) -> None:
    value, error = _outcome(parse_md5, text)
    if error is not None:
        assert error in _MD5_MESSAGES, f"an error that depends on the key: {error!r}"
        assert "MD5 password" in error
        return
    if value is None:
        assert text == ""
        return
    assert value == text and 8 <= len(value) <= 80
    assert re.fullmatch(r"[\x21-\x7e]+", value)
    assert not set(value) & set(";!#|\"'`\\{}$<>?")


# ----------------------------------------------------------------------------- AS-SET
@PROPS
@given(as_set_inputs)
def test_parse_as_set_accepts_only_ascii_rpsl_names(text: str) -> None:
    value, error = _outcome(parse_as_set, text)
    if value is None:
        assert (error is not None and "AS-SET" in error) or not text.strip()
        return
    assert value == value.upper() and len(value) <= 100
    assert re.fullmatch(r"(?:AS[0-9]+:)?AS-[A-Z0-9_\-]+(?::AS-[A-Z0-9_\-]+)*|AS[0-9]+", value, re.ASCII), value


# ----------------------------------------------------------------------------- max-prefix
@PROPS
@given(max_prefix_inputs, st.sampled_from((4, 6)))
@example("9" * 5000, 4)
def test_parse_max_prefixes_accepts_whole_numbers_in_range(text: str, family: int) -> None:
    value, error = _outcome(parse_max_prefixes, text, family)
    if error is not None:
        assert f"IPv{family}" in error
        return
    if value is None:
        assert not text.strip().replace(",", "").replace("_", "")
        return
    assert 1 <= value <= MAX_PREFIXES
    assert re.fullmatch(r"[0-9,_]+", text.strip())


# ----------------------------------------------------------------------------- echo
@PROPS
@given(hostile())
def test_short_echo_has_no_control_characters_and_is_bounded(text: str) -> None:
    shown = short(text)
    assert len(shown) <= 40
    assert not re.search(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", shown)


@pytest.mark.parametrize("text", ["9" * 5000, "0" * 5000, "0" * 4999 + "1" * 9, "1" + "0" * 8])
def test_parse_max_prefixes_refuses_huge_numbers_with_a_field_error(text: str) -> None:
    """Found by the property above: int() raised ValueError past 4300 digits (a traceback from
    `peerbot sessions add --max-prefixes-v4 ...`)."""
    with pytest.raises(FieldError, match="IPv4 max-prefix"):
        parse_max_prefixes(text, 4)
    assert parse_max_prefixes("0" * 5000 + "100", 4) == 100
