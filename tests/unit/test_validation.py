"""Parsing of user-typed values: what is accepted, what is refused and why."""
from __future__ import annotations

import pytest

from bot.routers import NeighborSpec, render
from bot.base.validation import (
    FieldError, check_ip_in_subnet, cli_safe_text, clean_text, parse_as_set, parse_asn, parse_ip, parse_md5,
)


@pytest.mark.parametrize(("text", "value"), [("65001", 65001), ("AS65001", 65001), ("as65001", 65001),
                                             (" 4200000000 ", 4200000000), ("1.10", 65546), (4294967295, 4294967295)])
def test_asn_forms(text: str, value: int) -> None:
    assert parse_asn(text).value == value


@pytest.mark.parametrize("text", ["", "0", "4294967296", "AS", "65 001", "-1", "AS-65001", "６５００１", "65536.1.1",
                                  "70000.1"])
def test_asn_refused(text: str) -> None:
    with pytest.raises(FieldError):
        parse_asn(text)


@pytest.mark.parametrize(("value", "warns"), [(13335, False), (23456, True), (64512, True), (64496, True),
                                              (65535, True), (4200000001, True), (65551, True)])
def test_asn_warnings_do_not_block(value: int, warns: bool) -> None:
    assert (parse_asn(str(value)).warning is not None) is warns


@pytest.mark.parametrize("text", [
    "2001:db8:5::1%x password evil",  # a zone suffix smuggling CLI words
    "2001:db8::99% remote-as 1",
    "fe80::1%eth0",
    "2001:db8:6::1%<!channel>",
    "192.0.2.1/24", "192.0.2.256", "192.0.2.1 2", "192.0.2.1\\n", "0.0.0.0", "127.0.0.1", "224.0.0.1", "::",
    "fe80::1", "::ffff:192.0.2.1", "192.0.2.1;reload", "",
])
def test_ip_refused(text: str) -> None:
    with pytest.raises(FieldError):
        parse_ip(text)


def test_ip_normalised() -> None:
    assert str(parse_ip(" 2001:DB8:0::A ")) == "2001:db8::a"


def test_ip_inside_lan() -> None:
    check_ip_in_subnet(parse_ip("192.0.2.10"), "192.0.2.0/24", "IX")
    for ip, prefix in (("192.0.2.0", "192.0.2.0/24"), ("192.0.2.255", "192.0.2.0/24"), ("198.51.100.1", "192.0.2.0/24"),
                       ("2001:db8::1", "192.0.2.0/24")):
        with pytest.raises(FieldError):
            check_ip_in_subnet(parse_ip(ip), prefix, "IX")


@pytest.mark.parametrize("text", ["a;b", "a\nb", "a\x1bb", "a|b", "a#b", "a!b", 'a"b', "a`b", "a$b", "a?b", "Ünïcode", "x" * 81])
def test_cli_text_refused(text: str) -> None:
    with pytest.raises(FieldError):
        cli_safe_text(text, field="Peer name", max_len=80)


def test_notes_allow_newlines_but_no_controls() -> None:
    assert clean_text("line 1\nline 2", field="Notes", max_len=100, multiline=True) == "line 1\nline 2"
    with pytest.raises(FieldError):
        clean_text("bell\x07", field="Notes", max_len=100, multiline=True)


@pytest.mark.parametrize("text", ["has space", "x" * 81, "semi;colon", "tab\tkey", "new\nline", "ümlaut", "help?me",
                                  "a", "64500", "7-chars"])
def test_md5_refused(text: str) -> None:
    with pytest.raises(FieldError):
        parse_md5(text)


def test_md5_length_limits() -> None:
    assert parse_md5("8-chars!"[:7] + "x") == "8-charsx" and parse_md5("k" * 80) == "k" * 80
    with pytest.raises(FieldError, match="at least 8"):
        parse_md5("short")


def test_as_set_forms() -> None:
    assert parse_as_set("ripe::as-example") == "AS-EXAMPLE"
    assert parse_as_set("AS65001:AS-CUSTOMERS") == "AS65001:AS-CUSTOMERS"
    for bad in ("AS EXAMPLE", "AS-EX;AMPLE", "EXAMPLE"):
        with pytest.raises(FieldError):
            parse_as_set(bad)


def test_render_refuses_an_address_that_is_not_plain() -> None:
    """Belt and braces behind parse_ip: the renderer itself refuses a zone or spaces."""
    for ip in ("2001:db8::1%x password evil", "2001:DB8::1", "192.0.2.1 remote-as 1"):
        with pytest.raises(ValueError):
            render("frr", "neighbor_create", NeighborSpec(local_asn=64500, peer_ip=ip, remote_asn=65001,
                                                          description="x", address_family=6))


@pytest.mark.parametrize("text", ["240.0.0.1", "255.255.255.255", "::192.0.2.10"])
def test_parse_ip_refuses_reserved_and_ipv4_compatible_addresses(text: str) -> None:
    with pytest.raises(FieldError):
        parse_ip(text)
