"""Router output a parser was never written for: captures cut off or with hostile characters
spliced in, JSON with values of the wrong type or size, arbitrary text. A parser returns
neighbors whose fields fit what the database stores, or raises ParseError; nothing else."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.routers.base import BGP_STATES, NeighborState
from bot.routers.parsers import PARSERS
from bot.routers.parsers.common import ParseError
from tests.properties.strategies import hostile, hostile_char

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "routers"
PLATFORM_DIR = {"frr": "frr", "ios_xe": "ios-xe", "ios_xr": "ios-xr", "junos": "junos", "eos": "eos", "bird2": "bird2", "openbgpd": "openbgpd"}
INT32 = 2**31 - 1  # the database's Integer columns (prefix counters)
PROPS = settings(max_examples=50, deadline=None)


def _captures() -> list[tuple[Any, str]]:
    out = []
    for platform in PARSERS:
        folder = FIXTURES / PLATFORM_DIR[platform.value.replace("-", "_")]
        for path in sorted(folder.glob("*")):
            if path.suffix in (".json", ".txt"):
                out.append((platform, path.read_text()))
    return out


CAPTURES = _captures()


def _assert_fits(result: object) -> None:
    assert isinstance(result, dict)
    for ip, n in result.items():
        assert isinstance(ip, str) and isinstance(n, NeighborState)
        assert n.state in BGP_STATES
        for value in (n.prefixes_received, n.prefixes_accepted, n.prefixes_advertised, n.uptime_seconds):
            assert value is None or (isinstance(value, int) and 0 <= value <= INT32), (ip, n)
        assert n.remote_asn is None or 0 <= n.remote_asn < 2**32, (ip, n)


def _parse(platform: Any, text: str) -> None:
    try:
        result = PARSERS[platform](text)
    except ParseError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 300
        return
    _assert_fits(result)


@PROPS
@given(capture=st.sampled_from(CAPTURES), data=st.data())
def test_mangled_captures_parse_or_raise_parse_error(capture: tuple[Any, str], data: st.DataObject) -> None:
    platform, text = capture
    how = data.draw(st.sampled_from(("cut", "splice", "digits", "repeat")))
    if how == "cut":
        text = text[: data.draw(st.integers(0, len(text)))]
    elif how == "splice":
        for _ in range(data.draw(st.integers(1, 5))):
            at = data.draw(st.integers(0, len(text)))
            text = text[:at] + data.draw(hostile_char | hostile()) + text[at:]
    elif how == "digits":  # every number made huge, negative or odd
        odd = data.draw(st.sampled_from(("99999999999999999999", "-5", "4294967296", "1e999", "9" * 5000, "0x10")))
        text = re.sub(r"(?<![\w.:])\d+(?![\w.:])", odd, text, count=data.draw(st.integers(1, 50)))
    else:
        lines = text.splitlines(keepends=True)
        text = "".join(lines * 2)
    _parse(platform, text)


def _odd_json(value: Any, draw: st.DrawFn) -> Any:
    """`value` with some leaves replaced by values of the wrong type or size."""
    if isinstance(value, dict):
        return {k: _odd_json(v, draw) for k, v in value.items()}
    if isinstance(value, list):
        return [_odd_json(v, draw) for v in value]
    if draw(st.integers(0, 5)) == 0:
        return draw(st.sampled_from((None, [], {}, "", "x", -1, 2**70, 1e308, True, "99999999999999999999", "<!channel>")))
    return value


@PROPS
@given(capture=st.sampled_from([c for c in CAPTURES if c[1].lstrip().startswith("{")]), data=st.data())
def test_json_with_odd_values_parses_or_raises_parse_error(capture: tuple[Any, str], data: st.DataObject) -> None:
    platform, text = capture
    _parse(platform, json.dumps(_odd_json(json.loads(text), data.draw)))


@PROPS
@given(platform=st.sampled_from(list(PARSERS)), text=hostile())
def test_arbitrary_text_parses_or_raises_parse_error(platform: Any, text: str) -> None:
    _parse(platform, text)


def test_out_of_range_counters_become_unknown() -> None:
    """A router printing a counter past 32 bits (or negative) must not make the poll's database
    write fail (OverflowError on SQLite, out of range on PostgreSQL): the value is unknown."""
    n = NeighborState("192.0.2.1", "Established", False, 2**32, 2**31, -1, 2**70, -5, ["x"], 7)  # type: ignore[arg-type]
    assert (n.remote_asn, n.prefixes_received, n.prefixes_accepted, n.prefixes_advertised, n.uptime_seconds) == (
        None, None, None, None, None)
    assert n.last_error is None and n.description == "7"
    ok = NeighborState("192.0.2.1", "Established", False, 4200000000, 2**31 - 1, 0, 5, 60, "x" * 900, None)
    assert (ok.remote_asn, ok.prefixes_received, ok.prefixes_accepted, ok.uptime_seconds) == (4200000000, 2**31 - 1, 0, 60)
    assert len(ok.last_error or "") == 500


def test_a_number_too_long_for_python_is_a_parse_error() -> None:
    from bot.routers.parsers.common import load_json

    with pytest.raises(ParseError, match="not valid JSON"):  # found by the property above
        load_json('{"peer": {"asn": ' + "9" * 5000 + "}}", "show bgp json")
