"""The bgpq4 runner against the fake IRRd: entries in peerbot's stored form, and every way
bgpq4 can fail turned into a message fit for a user."""
from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.irr.bgpq4 import Bgpq4, IrrError, entry_text
from bot.routers.prefixes import parse_entry
from bot.base.validation import AsSetName, FieldError, parse_as_set_name
from tests.irr.conftest import Irr


def test_aggregated_entries_in_the_stored_form(irr: Irr) -> None:
    bgpq4 = Bgpq4(irr.host)
    v4 = bgpq4.entries(AsSetName("AS-EXAMPLE"), 4)
    assert v4 == ["198.51.100.0/24 ge 25 le 25", "203.0.113.0/24"]  # the two /25s aggregated
    assert bgpq4.entries(AsSetName("AS-EXAMPLE"), 6) == ["2001:db8:65::/48", "2001:db8:66::/48"]
    assert all(str(parse_entry(e)) == e for e in v4)
    assert bgpq4.entries(AsSetName("AS65601"), 4) == ["203.0.113.0/24"]  # a plain ASN is a target too


def test_pinned_source_and_configured_sources(irr: Irr) -> None:
    assert Bgpq4(irr.host).entries(AsSetName("AS-EXAMPLE", "PEERBOT-TEST"), 6)
    assert "!sPEERBOT-TEST" in irr.server.queries
    irr.server.queries.clear()
    assert Bgpq4(irr.host, sources="PEERBOT-TEST").entries(AsSetName("AS-EXAMPLE"), 4)
    assert "!sPEERBOT-TEST" in irr.server.queries


@pytest.mark.parametrize(("item", "text"), [
    ({"prefix": "192.0.2.0/24", "exact": True}, "192.0.2.0/24"),
    ({"prefix": "192.0.2.0/24", "exact": False, "greater-equal": 25, "less-equal": 26}, "192.0.2.0/24 ge 25 le 26"),
    ({"prefix": "192.0.2.0/24", "exact": False, "less-equal": 32}, "192.0.2.0/24 le 32"),
    ({"prefix": "192.0.2.0/24", "exact": False, "greater-equal": 28}, "192.0.2.0/24 ge 28"),
    ({"prefix": "192.0.2.0/24", "exact": False, "greater-equal": 24, "less-equal": 25}, "192.0.2.0/24 le 25"),
    ({"prefix": "2001:db8::/32", "exact": False, "greater-equal": 48, "less-equal": 48}, "2001:db8::/32 ge 48 le 48"),
])
def test_bgpq4_json_elements_become_entries(item: dict, text: str) -> None:
    assert entry_text(item) == text
    assert str(parse_entry(text)) == text


def test_why_a_set_gives_nothing(irr: Irr) -> None:
    bgpq4 = Bgpq4(irr.host)
    assert bgpq4.entries(AsSetName("AS-NOPE"), 4) == []
    assert "is not known at" in bgpq4.describe_empty(AsSetName("AS-NOPE"))
    assert "is empty at" in bgpq4.describe_empty(AsSetName("AS-EMPTY"))
    assert "1 member AS(es)" in bgpq4.describe_empty(AsSetName("AS-UNROUTED"))
    assert "has no route or route6 objects" in bgpq4.describe_empty(AsSetName("AS65603"))


def test_bgpq4_missing_names_the_debian_package(irr: Irr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # a PATH without bgpq4
    with pytest.raises(IrrError, match=r"install the Debian package `bgpq4`"):
        Bgpq4(irr.host).entries(AsSetName("AS-EXAMPLE"), 4)


def test_unreachable_irr_is_a_short_message() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(IrrError) as err:
        Bgpq4(f"127.0.0.1:{port}").entries(AsSetName("AS-EXAMPLE"), 4)
    text = str(err.value)
    assert text.startswith(f"bgpq4 failed expanding AS-EXAMPLE at 127.0.0.1:{port}: ")
    assert "Connection refused" in text and "\n" not in text and "Traceback" not in text


def test_a_silent_irr_times_out() -> None:
    with socket.socket() as listener:  # accepts connections (backlog) and never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        host = f"127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(IrrError, match=r"did not finish within 1 s .*PEERBOT_IRR_TIMEOUT"):
            Bgpq4(host, timeout=1).entries(AsSetName("AS-EXAMPLE"), 4)


@pytest.mark.parametrize("text", [
    "-h evil.example", "--help", "AS-FOO -S RIPE", "AS-FOO;reboot", "AS-FOO\nAS-BAR", "AS-FOO AS-BAR", "AS-FOO|x",
    "AS-FOO-", "AS-", "RIPE:::AS-FOO", "::AS-FOO", "R IPE::AS-FOO", "AS-FOO\x00", "AS-\u212aILO", "AS0",
    "AS4294967296", "AS65001:AS-" + "X" * 100, "$(id)", "`id`", "AS-FOO EXCEPT AS-BAR",
])
def test_hostile_as_set_names_are_refused(text: str) -> None:
    with pytest.raises(FieldError, match="AS-SET"):
        parse_as_set_name(text)


@pytest.mark.parametrize(("text", "name", "source"), [
    ("as-foo", "AS-FOO", None), ("AS65000:AS-FOO", "AS65000:AS-FOO", None),
    ("AS65000:AS-FOO:AS-BAR", "AS65000:AS-FOO:AS-BAR", None), ("ripe::AS-FOO", "AS-FOO", "RIPE"),
    ("RIPE-NONAUTH::AS65000:AS-FOO", "AS65000:AS-FOO", "RIPE-NONAUTH"), ("AS65000", "AS65000", None),
    (" AS-FOO_1 ", "AS-FOO_1", None),
])
def test_rpsl_names(text: str, name: str, source: str | None) -> None:
    parsed = parse_as_set_name(text)
    assert parsed == AsSetName(name, source)
    assert parsed.query == (f"{source}::{name}" if source else name)
