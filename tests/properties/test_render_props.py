"""Properties of the router templates (bot/routers/render.py) for every platform and action:
rendered from values that passed validation, every line is printable ASCII without ';', '?' or
control characters, and user-provided values appear only where the template puts them."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.routers import NeighborSpec, Platform, render
from bot.routers.base import FILE_PLATFORMS
from bot.routers.render import BIRD_SYMBOL, bird_filter, bird_protocol
from bot.routers.prefixes import parse_entry
from bot.routers.render import ACTIONS
from bot.sessions.provisioning import parse_max_prefixes
from bot.changes.router_config import prefix_list_name
from bot.base.validation import FieldError, cli_safe_text, parse_asn, parse_ip, parse_md5
from tests.properties.strategies import (
    CONTROLS, asn_inputs, assert_safe_cli_line, assert_safe_file_line, hostile, ip_inputs, max_prefix_inputs, md5_inputs, name_inputs,
)

PROPS = settings(max_examples=200, deadline=None)
PLATFORMS = tuple(Platform)
# Peer group names come from the inventory (bot/sessions/inventory.py _NAME).
group_names = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}\Z")


def validated(parse, hostile_inputs, plain_inputs):  # noqa: ANN001, ANN201
    """What `parse` returns for a hostile input it accepts, else for a plain one (no filtering:
    most hostile inputs are refused, and a spec needs several valid values at once)."""
    @st.composite
    def _draw(draw: st.DrawFn):  # noqa: ANN202
        try:
            return parse(draw(hostile_inputs))
        except FieldError:
            return parse(draw(plain_inputs))
    return _draw().filter(lambda v: v is not None)


valid_ips = validated(lambda t: str(parse_ip(t)), ip_inputs, st.sampled_from(("192.0.2.10", "2001:db8::10")))
valid_asns = validated(lambda t: parse_asn(t).value, asn_inputs, st.integers(1, 2**32 - 1).map(str))
valid_names = validated(lambda t: cli_safe_text(t, field="Peer name", max_len=80, required=True), name_inputs,
                        st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9 ()&.,/_-]{0,40}\Z"))
valid_md5 = validated(parse_md5, md5_inputs, st.from_regex(r"\A[A-Za-z0-9%&()*+,./:=@^_~\[\]-]{8,80}\Z"))
valid_max_prefixes = validated(lambda t: parse_max_prefixes(t, 4), max_prefix_inputs, st.integers(1, 10**7).map(str))


@st.composite
def networks(draw: st.DrawFn, family: int) -> str:
    addr = draw(st.ip_addresses(v=family))
    return str(ipaddress.ip_network((addr, draw(st.integers(8 if family == 4 else 16, addr.max_prefixlen))),
                                    strict=False))


@st.composite
def specs(draw: st.DrawFn) -> NeighborSpec:
    ip = draw(valid_ips)
    family = ipaddress.ip_address(ip).version
    remote = draw(valid_asns)
    prefixes = tuple(draw(st.lists(st.one_of(networks(4), networks(6)), max_size=4, unique=True)))
    with_list = bool(prefixes) or draw(st.booleans())
    return NeighborSpec(
        local_asn=draw(valid_asns), peer_ip=ip, remote_asn=remote,
        description=f"{draw(valid_names)} AS{remote}", address_family=family,
        peer_group=draw(st.none() | group_names), md5_password=draw(st.none() | valid_md5),
        max_prefixes=draw(st.none() | valid_max_prefixes),
        prefix_list_name=prefix_list_name(remote, family) if with_list else None, prefixes=prefixes,
        admin_down=draw(st.booleans()), exists_on_router=draw(st.booleans()),
    )


# Stand-ins of the same shape as the user's values, unlike anything a template writes itself.
_SENTINEL = {
    "local_asn": 4123456781, "remote_asn": 4123456782, "max_prefixes": 9876543,
    "peer_group": "GROUPSENTINEL", "md5_password": "MD5SENTINEL", "prefix_list_name": "PLSENTINEL",
    "description": "DESCSENTINEL",
}
_SENTINEL_IP = {4: "203.0.113.77", 6: "2001:db8:ffff::77"}


def _sentinel_prefix(i: int, family: int) -> str:
    return f"198.18.{i}.0/24" if family == 4 else f"2001:db8:ee{i:02x}::/48"


def _skeleton(spec: NeighborSpec) -> tuple[NeighborSpec, dict[str, str]]:
    """`spec` with every user-derived value replaced by a sentinel, and sentinel -> real value."""
    values = {k: getattr(spec, k) for k in _SENTINEL if getattr(spec, k) is not None}
    fake = {k: _SENTINEL[k] for k in values}
    back = {str(_SENTINEL[k]): str(v) for k, v in values.items()}
    fake["peer_ip"] = _SENTINEL_IP[spec.address_family]
    back[fake["peer_ip"]] = spec.peer_ip
    sentinel_prefixes = []
    # render() sorts the entries: the stand-ins keep the real ones' order
    for i, p in enumerate(sorted(spec.prefixes, key=lambda text: parse_entry(text).sort_key())):
        s = _sentinel_prefix(i, ipaddress.ip_network(p).version)
        sentinel_prefixes.append(s)
        back[s] = p
    fake["prefixes"] = tuple(sentinel_prefixes)
    return replace(spec, **fake), back


@PROPS
@given(specs(), st.sampled_from(PLATFORMS), st.sampled_from(ACTIONS))
def test_rendered_lines_hold_validated_values_only_where_the_template_puts_them(
        spec: NeighborSpec, platform: Platform, action: str) -> None:
    if platform in FILE_PLATFORMS and spec.peer_group and not BIRD_SYMBOL.match(spec.peer_group):
        with pytest.raises(ValueError):  # a BIRD peer group is a template's name: a symbol
            render(platform, action, spec)
        return
    lines = render(platform, action, spec)
    assert lines, "nothing rendered"
    for line in lines:
        (assert_safe_file_line if platform in FILE_PLATFORMS else assert_safe_cli_line)(line)
    # The same template with stand-ins: putting the real values back where the stand-ins are
    # must give exactly the real rendering, so user text appears nowhere else, and no value
    # added, removed or split a line.
    fake, back = _skeleton(spec)
    if platform in FILE_PLATFORMS:  # names BIRD derives from the address and the filter name
        back[bird_protocol(fake.peer_ip)] = bird_protocol(spec.peer_ip)
        if spec.prefix_list_name:
            back[bird_filter(fake)] = bird_filter(spec)
    pattern = re.compile("|".join(re.escape(s) for s in sorted(back, key=len, reverse=True)))
    expected = [pattern.sub(lambda m: back[m.group()], line) for line in render(platform, action, fake)]
    assert lines == expected


# ----------------------------------------------------------------------------- the last net
hostile_words = hostile(st.sampled_from(("PEERS", "s3cret-Md5-key", "Example Peer AS65001", "PL-1")))


@PROPS
@given(specs(), st.sampled_from(PLATFORMS), st.sampled_from(("description", "peer_group", "md5_password",
                                                              "prefix_list_name", "peer_ip")), hostile_words)
def test_render_refuses_unvalidated_values_that_would_break_a_line(spec: NeighborSpec, platform: Platform,
                                                                   field: str, value: str) -> None:
    """Validation is the gate; render() is the last net: a value that skipped validation either
    renders lines without control characters or ';', or is refused with ValueError."""
    if field == "prefix_list_name" and not spec.prefix_list_name:
        spec = replace(spec, prefix_list_name="PL")
    try:
        lines = render(platform, "neighbor_create", replace(spec, **{field: value}))
    except ValueError:
        return
    if platform in FILE_PLATFORMS:
        # a file: ";", braces and quotes are its syntax. A value may not add any: the rendering
        # has exactly the syntax characters it has with a harmless value in the same place.
        benign = {"description": "x", "peer_group": "PEERS", "md5_password": "s3cret-Md5-key",
                  "prefix_list_name": "PL", "peer_ip": spec.peer_ip}[field] if value else value
        # (an empty value renders no line for its field at all: the same as an empty one)
        plain = render(platform, "neighbor_create", replace(spec, **{field: benign}))
        syntax = lambda text: [c for c in text if c in ';{}"#\\']  # noqa: E731
        assert [syntax(ln) for ln in lines] == [syntax(ln) for ln in plain], lines
        for line in lines:
            assert not set(line) & (set(CONTROLS) | {"\u2028", "\u2029"}), repr(line)
        return
    for line in lines:
        assert not set(line) & (set(CONTROLS) | {";", "\u2028", "\u2029"}), repr(line)


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_description_with_a_line_break_never_renders(platform: Platform) -> None:
    spec = NeighborSpec(local_asn=64500, peer_ip="192.0.2.10", remote_asn=65001,
                        description="x\rno router bgp 64500", address_family=4)
    with pytest.raises(ValueError):
        render(platform, "neighbor_create", spec)
