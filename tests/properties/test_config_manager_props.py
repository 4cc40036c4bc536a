"""Properties of the Config Manager checker (`check_edited_commands`) on every platform: for any
edited text it returns lines to push or raises InvalidInput with one clear message; what it
returns stays on the session's own neighbor (or its prefix list), is printable ASCII without ';',
'?' or control characters, never removes the neighbor, never carries the mask, and a key in a
password line is the stored key or one that passes the wizard's MD5 rules."""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.core import Core
from bot.base.errors import InvalidInput
from bot.base.redact import MASK
from bot.routers import Platform
from bot.routers.render import JUNOS_DEFAULT_GROUP
from bot.changes.config_manager import check_edited_commands
from bot.changes.router_config import plan, prefix_list_name
from bot.base.validation import FieldError, parse_md5
from tests.properties.conftest import KNOWN_AS_SET
from tests.properties.strategies import (
    LINE_BREAKS, assert_clear_message, assert_safe_cli_line, canonical_ip, hostile, spliced,
)
from tests.factories import make_session

# The checker is quick (one plan per example): more examples than the other database properties.
DB_PROPS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])
STORED_KEY = "s3cret-Md5-key"


@dataclass(frozen=True)
class Target:
    session_id: int
    platform: Platform
    ip: str
    group: str  # the Junos group of the neighbor
    prefix_list: str
    key: str | None
    rendered: tuple[str, ...]  # clear text
    masked: tuple[str, ...]


@pytest.fixture
def targets(platform_core: Core) -> list[Target]:
    """A session on every platform: IPv4 with a key and a known AS-SET, IPv6 without either."""
    out = []
    for n, (router, platform) in enumerate((("r-frr", Platform.FRR), ("r-iosxe", Platform.IOS_XE),
                                            ("r-iosxr", Platform.IOS_XR), ("r-junos", Platform.JUNOS),
                                            ("r-eos", Platform.EOS))):
        for family in (4, 6):
            ip = f"192.0.2.{50 + n}" if family == 4 else f"2001:db8::{0x50 + n:x}"
            v = make_session(platform_core, ip=ip, asn=str(65601 + n), name=f"Peer {n}", router=router,
                             md5=STORED_KEY if family == 4 else None,
                             as_set=KNOWN_AS_SET if family == 4 else None)
            p = plan(platform_core, v.id, "configure")
            out.append(Target(v.id, platform, v.peer_ip, JUNOS_DEFAULT_GROUP, prefix_list_name(v.peer_asn, family),
                              STORED_KEY if family == 4 else None, tuple(p.lines), tuple(p.masked)))
    return out


NEIGHBOR_TAILS = ("description New name", "description Peer 192.0.2.200", "password ********",
                  "password 7 ********", "password s3cret-Other-key", "password 0 s3cret-Other-key",
                  "authentication-key \"********\"", "authentication-key s3cret-Other-key",
                  "update-source 192.0.2.20/32", "update-source 2001:db8::20/128", "remote-as 65001", "remote-as",
                  "shutdown", "route-map RM-IN in", "timers 3 9", "peer-group OTHER", "peer-as 65001",
                  "family inet unicast prefix-limit maximum 10", "", "ebgp-multihop 255")

KEYWORDS = ("description", "password", "password 7", "password 0", "authentication-key", "update-source",
            "remote-as", "shutdown", "route-map", "timers", "peer-group", "peer-as", "ebgp-multihop", "prefix-list",
            "maximum-prefix", "activate", "local-address")
ARGUMENTS = ("New", "name", MASK, f'"{MASK}"', "s3cret-Other-key", "short", '"quoted key"', "192.0.2.20/32",
             "2001:db8::20/128", "192.0.2.20", "65001", "in", "out", "3", "RM-IN", "OTHER", "255")


@st.composite
def edited_text(draw: st.DrawFn, t: Target) -> str:
    own = (t.ip, t.ip.upper(), ipaddress.ip_address(t.ip).exploded)
    ip_spellings = st.sampled_from(own * 4 + ("192.0.2.99", "2001:db8::99", "010.0.0.1", f"{t.ip}%eth0",
                                              f"[{t.ip}]"))
    # known tails, and keywords with any number of arguments (more or fewer than they take)
    grammar = st.builds(lambda kw, args: " ".join((kw, *args)), st.sampled_from(KEYWORDS),
                        st.lists(st.sampled_from(ARGUMENTS), max_size=3))
    tail = st.sampled_from(NEIGHBOR_TAILS) | grammar | hostile(st.sampled_from(NEIGHBOR_TAILS))
    group = st.sampled_from((t.group,) * 4 + ("OTHER", t.group.lower()))
    neighbor = st.builds(lambda no, ip, rest: f"{no}neighbor {ip} {rest}", st.sampled_from(("", "no ", "NO ")),
                         ip_spellings, tail)
    junos = st.builds(lambda verb, g, ip, rest: f"{verb} protocols bgp group {g} neighbor {ip} {rest}",
                      st.sampled_from(("set", "delete", "deactivate")), group, ip_spellings, tail)
    prefix_list = st.builds(lambda kw, name, net: f"{kw} prefix-list {name} seq 5 permit {net}",
                            st.sampled_from(("ip", "ipv6", "no ip", "set policy-options")),
                            st.sampled_from((t.prefix_list, "OTHER-LIST")),
                            st.sampled_from(("198.51.100.0/24", "0.0.0.0/0", "2001:db8:1000::/36 le 48")))
    rendered = st.sampled_from(t.masked)
    plausible = junos if t.platform == Platform.JUNOS else neighbor
    if draw(st.booleans()):  # what a user would type: mostly accepted, so the output is checked
        line = st.one_of(rendered, plausible, prefix_list)
        separators = st.sampled_from(("\n", "\r\n"))
    else:
        line = st.one_of(rendered, plausible, prefix_list, spliced(rendered), spliced(plausible), neighbor | junos,
                         hostile(), st.sampled_from(("router bgp 64500", "exit", "end", "write erase", "reload",
                                                     "no router bgp 64500", "!", "do show run", "interface eth0")))
        separators = st.sampled_from(("\n",) * 6 + LINE_BREAKS)
    lines = draw(st.lists(line, min_size=1, max_size=4))
    text = lines[0]
    for ln in lines[1:]:
        text += draw(separators) + ln
    return text


def _on_own_neighbor(t: Target, line: str) -> bool:
    if t.platform == Platform.JUNOS:
        m = re.match(r"(?:set|delete|activate|deactivate) protocols bgp group (\S+) neighbor (\S+)(?: |$)", line,
                     re.I)
        return bool(m) and m.group(1) == t.group and canonical_ip(m.group(2)) == t.ip
    m = re.match(r"(?:no\s+)?neighbor\s+(\S+)(?:\s|$)", line, re.I)
    return bool(m) and canonical_ip(m.group(1)) == t.ip


def _other_addresses(t: Target, line: str) -> set[str]:
    found = set()
    for token in re.split(r"[\s/,\[\]\"]+", line):
        for candidate in (token, token.rsplit(":", 1)[0]):
            ip = canonical_ip(candidate)
            if ip is not None:
                found.add(ip)
                break
    return found - {t.ip}


def _password_key(line: str) -> str | None:
    m = re.search(r"\b(?:password(?:\s+(?:[07]|clear|encrypted))?|authentication-key)\s+(.+)$", line, re.I)
    return m.group(1).strip('"') if m else None


@DB_PROPS
@given(data=st.data())
def test_edited_commands_stay_on_the_sessions_own_neighbor(platform_core: Core, targets: list[Target],
                                                          data: st.DataObject) -> None:
    t = data.draw(st.sampled_from(targets))
    text = data.draw(edited_text(t))
    try:
        lines = check_edited_commands(platform_core, t.session_id, text)
    except InvalidInput as exc:
        event("refused: " + re.sub(r"[0-9a-f.:]{6,}.*", "", exc.errors["commands"])[:60])
        assert list(exc.errors) == ["commands"]
        message = exc.errors["commands"]
        assert_clear_message(message)
        if t.key and t.key not in text:
            assert t.key not in message, "the stored key is in the error"
        return
    event("accepted")
    assert 1 <= len(lines) <= 200
    for line in lines:
        assert_safe_cli_line(line)
        assert MASK not in line
        if line in t.rendered:
            continue
        own_list = re.search(rf"\bprefix-list\s+{re.escape(t.prefix_list)}\s", line, re.I)
        assert _on_own_neighbor(t, line) or own_list, f"outside the neighbor: {line!r}"
        if not own_list:
            assert not _other_addresses(t, line), f"another address: {line!r}"
        assert not re.fullmatch(r"(?i)no\s+neighbor\s+\S+(?:\s+remote-as(?:\s+\S+)?)?", line), line
        assert not re.fullmatch(r"(?i)delete\s+protocols\s+bgp\s+group\s+\S+\s+neighbor\s+\S+", line), line
        key = _password_key(line)
        if key is not None and key != t.key:
            try:
                parse_md5(key)
            except FieldError:
                pytest.fail(f"a key the wizard refuses reaches the router: {line!r}")


@pytest.mark.parametrize("platform", [Platform.FRR, Platform.JUNOS])
def test_the_rendered_configuration_passes_as_shown(platform_core: Core, targets: list[Target],
                                                    platform: Platform) -> None:
    for t in (t for t in targets if t.platform == platform):
        assert check_edited_commands(platform_core, t.session_id, "\n".join(t.masked)) == list(t.rendered)


@pytest.mark.parametrize("line", ["neighbor {ip} password a b", "neighbor {ip} password 7 ab cd",
                                  "neighbor {ip} password s3cret-Other-key x"])
def test_a_key_of_several_words_is_refused_without_echoing_it(platform_core: Core, targets: list[Target],
                                                               line: str) -> None:
    """Found by the property above: FRR's `password LINE` took "a b" as the key, past the MD5
    rules, and masking by position showed `password ******** b` in Slack and the audit."""
    t = next(t for t in targets if t.platform == Platform.FRR and t.key)
    with pytest.raises(InvalidInput, match="one word") as exc:
        check_edited_commands(platform_core, t.session_id, line.format(ip=t.ip))
    assert exc.value.errors["commands"].endswith(f"password {MASK}")
    junos = next(t for t in targets if t.platform == Platform.JUNOS)
    with pytest.raises(InvalidInput, match="one word"):
        check_edited_commands(platform_core, junos.session_id,
                              f"set protocols bgp group {junos.group} neighbor {junos.ip} authentication-key ab cd")


@pytest.mark.parametrize("line", ["neighbor {ip} password 7", "neighbor {ip} password N aeemnw",
                                  "neighbor {ip} password clear short"])
def test_a_one_line_password_on_ios_xr_is_checked_like_the_submode_one(platform_core: Core, targets: list[Target],
                                                                        line: str) -> None:
    t = next(t for t in targets if t.platform == Platform.IOS_XR and t.key)
    with pytest.raises(InvalidInput) as err:  # found by the property above: these reached the router
        check_edited_commands(platform_core, t.session_id, line.format(ip=t.ip))
    assert "MD5" in err.value.errors["commands"] and "aeemnw" not in err.value.errors["commands"]
