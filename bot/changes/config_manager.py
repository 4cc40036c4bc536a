"""Config Manager: a user-edited command set is checked to stay within one session's neighbor
before it may be pushed."""
from __future__ import annotations

import ipaddress
import re

from bot.core import Core
from bot.base.errors import InvalidInput
from bot.base.redact import MASK, mask_password_args
from bot.routers import FILE_PLATFORMS, Platform
from bot.routers.render import DIRECTIVE, JUNOS_DEFAULT_GROUP, bird_protocol
from bot.changes.router_config import neighbor_spec, plan, prefix_list_name
from bot.sessions.queries import load_session
from bot.base.validation import FieldError, parse_md5

_DANGEROUS = re.compile(r"(?i)\b(router bgp \d+|no router|write erase|erase|reload|rollback|load)\b")

# Control characters (tab included: it triggers completion in an interactive CLI), ";" (a
# second command on some CLIs) and "?" (inline help in vtysh/IOS/Junos) never reach a router.
_CONTROL = re.compile(r"[\x00-\x1f\x7f;?]")
MAX_EDITED_LINES = 200


def check_edited_commands(core: Core, session_id: int, text: str) -> list[str]:
    """Validate a user-edited command set (Config Manager) and return the lines to push.

    Allowed: any line the template renders for this session (context lines such as
    `router bgp 64500`, `address-family ipv4 unicast`, `exit`, shown masked), lines that act on
    this session's neighbor (starting `[no] neighbor <its IP> ...`; on Junos
    `set|delete|... protocols bgp group <its group> neighbor <its IP> ...`) with no other
    address in them, and entries of its own prefix list. ASCII only. The masked MD5 (********)
    stands for the stored key only as the argument of the password line; a key typed there
    must pass the wizard's MD5 rules. Removing the whole neighbor is refused (the Delete
    button does that and keeps the database true). Anything else is rejected with the
    offending line named.
    """
    p = plan(core, session_id, "configure")
    with core.db.session() as s:
        row = load_session(s, session_id)
        peer_ip, spec = row.peer_ip, neighbor_spec(core, row, s)
        platform = Platform(row.router.platform)
        own_prefix_list = spec.prefix_list_name or prefix_list_name(row.peer.asn, row.address_family)
    scope = _Scope(platform, peer_ip, spec.peer_group or JUNOS_DEFAULT_GROUP, own_prefix_list)
    lines = [ln.strip(" \t") for ln in (text or "").replace("\r\n", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise InvalidInput({"commands": "There are no commands to push."})
    if len(lines) > MAX_EDITED_LINES:
        raise InvalidInput({"commands": f"At most {MAX_EDITED_LINES} lines can be pushed at once."})
    if platform == Platform.OPENBGPD:
        return _check_openbgpd_file(lines, peer_ip, spec.md5_password)
    if platform in FILE_PLATFORMS:
        return _check_file(lines, peer_ip, spec.md5_password)
    rendered = {ln.strip() for ln in p.masked}
    out = []
    for ln in lines:
        if not ln.isascii():
            # NBSP, U+3000 and friends look like spaces but are not separators on a router CLI
            raise InvalidInput({"commands": "Non-ASCII characters (non-breaking and other Unicode spaces "
                                            f"included) are not allowed: {_shown(ln)}"})
        if _CONTROL.search(ln):
            raise InvalidInput({"commands": f"Control characters (tabs included), ';' and '?' are not allowed: {_shown(ln)}"})
        if len(ln) > 250:
            raise InvalidInput({"commands": f"Line too long: {_shown(ln)}"})
        in_scope = ln in rendered or (
            not _DANGEROUS.search(ln) and (scope.targets_neighbor(ln) or scope.about_prefix_list(ln)))
        if not in_scope:
            raise InvalidInput({"commands": f"Line outside this session's neighbor ({peer_ip}): {_shown(ln)}"})
        if scope.removes_neighbor(ln):
            raise InvalidInput({"commands": f"This line would remove the neighbor from the router while peerbot "
                                            f"still records the session as configured: {_shown(ln)}. "
                                            "Use the Delete button to remove the session."})
        out.append(scope.with_key(ln, spec.md5_password))
    return out


# ----------------------------------------------------------------------------- BIRD (a file)
# On a file platform Config Manager edits the session's file text (what neighbor_create renders,
# directive line first). It is checked line by line: printable ASCII only (a control character
# could hide a line from the reader), the one directive naming this session's own file, and
# nothing that reaches beyond the session: no include, no other protocol or template, filters
# only of its own name, a neighbor line only with its address. The daemon's check (bird -p) then
# refuses what is not valid BIRD, and the file is not left in place.
_FILE_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_BIRD_INCLUDE = re.compile(r"(?i)^\s*include\b")
_BIRD_BLOCK = re.compile(r"(?i)\b(protocol|template|filter|function|table|define|roa[46]?|router\s+id)\b\s*(\S*)\s*(\S*)")
_BIRD_PASSWORD = re.compile(r'^(?P<pre>password\s+)"(?P<key>[^"\\]*)"(?P<post>\s*;)$')


def _own_file(lines: list[str], peer_ip: str) -> str:
    """The session's protocol name, once the first line is checked to name its own file."""
    proto = bird_protocol(peer_ip)
    if lines[0] != f"{DIRECTIVE} file {proto}.conf":
        raise InvalidInput({"commands": f"The first line must stay {DIRECTIVE} file {proto}.conf (the session's own "
                                        f"file): {_shown(lines[0])}"})
    return proto


def _plain_file_line(ln: str) -> None:
    """What no line of a daemon's file may hold: non-ASCII or control characters, more than 250
    characters, a second directive."""
    if not ln.isascii() or _FILE_CONTROL.search(ln):
        raise InvalidInput({"commands": f"Non-ASCII and control characters (tabs included) are not allowed: "
                                        f"{_shown(ln)}"})
    if len(ln) > 250:
        raise InvalidInput({"commands": f"Line too long: {_shown(ln)}"})
    if ln.startswith(DIRECTIVE):
        raise InvalidInput({"commands": f"Only the first line may be a {DIRECTIVE} line: {_shown(ln)}"})


def _check_file(lines: list[str], peer_ip: str, stored_key: str | None) -> list[str]:
    proto = _own_file(lines, peer_ip)
    out = [lines[0]]
    for ln in lines[1:]:
        _plain_file_line(ln)
        if _BIRD_INCLUDE.search(ln):
            raise InvalidInput({"commands": f"Line outside this session's file: {_shown(ln)}"})
        if not ln.startswith("#"):
            for m in _BIRD_BLOCK.finditer(ln):
                kind = m.group(1).lower()
                own = (kind == "protocol" and m.group(2).lower() == "bgp" and m.group(3) == proto) or \
                      (kind == "filter" and (m.group(2) == proto + "_in" or m.group(2).startswith(proto + "_")))
                if not own:
                    raise InvalidInput({"commands": f"Line outside this session's neighbor ({peer_ip}): {_shown(ln)}"})
            if re.match(r"(?i)^neighbor\b", ln) and _addresses(ln) != {peer_ip}:
                raise InvalidInput({"commands": f"Line outside this session's neighbor ({peer_ip}): {_shown(ln)}"})
        out.append(_file_key(ln, stored_key))
    return out


def _file_key(line: str, stored_key: str | None, pattern: re.Pattern[str] = _BIRD_PASSWORD,
              form: str = 'password "<key>";', daemon: str = "BIRD") -> str:
    """The password line: ******** is the stored key, a typed key must pass the MD5 rules."""
    if not re.search(r"(?i)\bpassword\b", line) or line.startswith("#"):
        if MASK in line:
            raise InvalidInput({"commands": f"{MASK} stands for the stored MD5 key and may only be the argument "
                                            f"of the password line: {_shown(line)}"})
        return line
    m = pattern.match(line)
    if m is None:
        raise InvalidInput({"commands": f"The MD5 key line is: {form} ({_shown(line)[:20]} …)"})
    key = m.group("key")
    if key == MASK:
        if not stored_key:
            raise InvalidInput({"commands": f"This session has no stored MD5 key, so {MASK} stands for nothing: "
                                            "type the key, or remove the line."})
        return f'{m.group("pre")}"{stored_key}"{m.group("post")}'
    if MASK in key:
        raise InvalidInput({"commands": f"{MASK} may only be the whole key: {_shown(line)}"})
    if key != stored_key:
        try:
            parse_md5(key)
        except FieldError as exc:
            raise InvalidInput({"commands": f"{exc} ({_shown(line)})"}) from None
        if re.search(r'[{};#"\\]', key):
            raise InvalidInput({"commands": f"The MD5 key may not contain {{ }} ; # \" or \\ on {daemon}."})
    return line


# ----------------------------------------------------------------------------- OpenBGPD (a file)
# As BIRD's, plus OpenBGPD's own reach: no macro (a "$name" outside quotes is expanded, "x = y"
# defines one), no global or group statement, prefix-sets only of the session's own names, a
# neighbor block only for its address, filter rules only "from/to <its address>" (never any,
# ebgp, ibgp or a group), prefix-set entries only inside its own prefix-set block.
_OBGP_RULE = re.compile(r"(?i)^(allow|deny|match)\b")
_OBGP_SETS = re.compile(r"(?i)\b(prefix-set|as-set|origin-set|roa-set|aspa-set)\s+(\S+)")
_OBGP_GLOBAL = re.compile(r"(?i)^(include|group|template|rde|network|AS|router-id|socket|listen|rtr|vpn|"
                          r"fib-update|holdtime|log|dump|nexthop|connect-retry|set|transparent-as|"
                          r"route-reflector|fib-priority|rtable|as-trans|reject|static)\b")
_OBGP_PASSWORD = re.compile(r'^(?P<pre>tcp\s+md5sig\s+password\s+)"(?P<key>[^"\\]*)"(?P<post>\s*)$')


def _check_openbgpd_file(lines: list[str], peer_ip: str, stored_key: str | None) -> list[str]:
    proto = _own_file(lines, peer_ip)
    out = [lines[0]]
    in_set = False

    def outside(ln: str) -> InvalidInput:
        return InvalidInput({"commands": f"Line outside this session's neighbor ({peer_ip}): {_shown(ln)}"})

    for ln in lines[1:]:
        _plain_file_line(ln)
        if ln.startswith("#"):
            out.append(_file_key(ln, stored_key, _OBGP_PASSWORD, 'tcp md5sig password "<key>"', "OpenBGPD"))
            continue
        if "$" in ln or re.match(r"^[A-Za-z_][A-Za-z0-9_]*\s*=", ln) or _OBGP_GLOBAL.search(ln):
            raise outside(ln)
        for m in _OBGP_SETS.finditer(ln):
            if m.group(1).lower() != "prefix-set" or not m.group(2).startswith(proto + "_"):
                raise outside(ln)
        if in_set:
            in_set = "}" not in ln
            out.append(ln)
            continue
        if re.match(r"(?i)^prefix-set\b", ln):
            in_set = "}" not in ln
        elif re.match(r"(?i)^neighbor\b", ln):
            if _addresses(ln) != {peer_ip}:
                raise outside(ln)
        elif _OBGP_RULE.match(ln):
            peers = re.findall(r"(?i)\b(?:from|to)\s+(\S+)", ln)
            if not peers or any(p != peer_ip for p in peers) or _addresses(ln) != {peer_ip}:
                raise outside(ln)
        elif _addresses(ln):
            raise outside(ln)
        out.append(_file_key(ln, stored_key, _OBGP_PASSWORD, 'tcp md5sig password "<key>"', "OpenBGPD"))
    return out


def _shown(line: str) -> str:
    return _CONTROL.sub("?", mask_password_args(line)).encode("ascii", "replace").decode()[:80]


# ----------------------------------------------------------------------------- addresses
_IPV4 = re.compile(r"(?=(?<!\d)(\d{1,3}(?:\.\d{1,3}){3})(?!\d))")  # overlapping: 1.2.3.4.5 holds two
_HEXISH = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*")


def _addresses(line: str) -> set[str]:
    """Every address in `line`, wherever it sits: `192.0.2.20/32`, `[2001:db8::1]:179`,
    `x,10.0.0.1`... (as canonical text)."""
    found = set()
    for m in _IPV4.finditer(line):
        try:
            found.add(str(ipaddress.ip_address(m.group(1))))
        except ValueError:
            pass
    for m in _HEXISH.finditer(line):
        run = m.group()
        for candidate in (run, run.strip(":."), re.sub(r":\d+$", "", run)):
            try:
                found.add(str(ipaddress.ip_address(candidate)))
                break
            except ValueError:
                continue
    return found


# ----------------------------------------------------------------------------- scope
_IP = r"(?P<ip>[0-9A-Fa-f:.]+)"
_CISCO_NEIGHBOR = re.compile(rf"^(?P<no>no\s+)?neighbor\s+{_IP}(?P<rest>\s+.*)?$", re.I)
_JUNOS_NEIGHBOR = re.compile(
    rf"^(?P<verb>set|delete|activate|deactivate)\s+protocols\s+bgp\s+group\s+(?P<group>\S+)\s+neighbor\s+{_IP}"
    r"(?P<rest>\s+.*)?$", re.I)
_PREFIX_LIST_LINE = {
    "cisco": r"^(?:no\s+)?(?:ip|ipv6)\s+prefix-list\s+{name}\s+(?:seq\s+\d+\s+)?(?:permit|deny)\s+[0-9a-fA-F:./]+"
             r"(?:\s+(?:le|ge)\s+\d+)*$",
    "junos": r"^(?:set|delete)\s+policy-options\s+prefix-list\s+{name}\s+[0-9a-fA-F:./]+$",
}
# The password line of each platform, split into what precedes the key and the key itself.
_PASSWORD_LINE = {
    "cisco": re.compile(r"^(?P<pre>(?:no\s+)?neighbor\s+\S+\s+password\s+(?:[07]\s+(?=\S))?)(?P<key>\S+)$", re.I),
    # (XR takes it in the neighbor's submode, or on one line after "neighbor <ip>")
    Platform.IOS_XR: re.compile(r"^(?P<pre>(?:no\s+)?(?:neighbor\s+\S+\s+)?password\s+(?:clear|encrypted)\s+)"
                                r"(?P<key>\S+)$", re.I),
    Platform.JUNOS: re.compile(r"^(?P<pre>set\s+protocols\s+bgp\s+group\s+\S+\s+neighbor\s+\S+\s+authentication-key\s+)"
                               r"(?P<key>\"[^\"]*\"|\S+)$", re.I),
}
# The password keyword followed by anything: a line that has it but is no _PASSWORD_LINE gives
# more than one word as the key (FRR's "password LINE" takes them all, unchecked, and masking by
# position hides only the first).
_PASSWORD_KEYWORD = {
    "cisco": re.compile(r"^(?P<pre>(?:no\s+)?neighbor\s+\S+\s+password\s+)\S", re.I),
    Platform.IOS_XR: re.compile(r"^(?P<pre>(?:no\s+)?(?:neighbor\s+\S+\s+)?password\s+)\S", re.I),
    Platform.JUNOS: re.compile(r"^(?P<pre>set\s+protocols\s+bgp\s+group\s+\S+\s+neighbor\s+\S+\s+authentication-key\s+)\S",
                               re.I),
}
# The other platforms' key keyword (FRR/IOS/EOS/XR say "password", Junos "authentication-key"): a
# line of the session's own neighbor with it is no command of this platform, but what follows it
# is a key, so it is refused without being echoed rather than passed on unchecked.
_FOREIGN_KEY_KEYWORD = {
    "cisco": re.compile(r"^(?P<pre>.*?\bauthentication-key\b)", re.I),
    Platform.JUNOS: re.compile(r"^(?P<pre>.*?\bpassword\b)", re.I),
}
# Lines that remove the neighbor as a whole (FRR and IOS also drop it on "no neighbor X remote-as").
_REMOVES_CISCO = re.compile(r"^no\s+neighbor\s+\S+(?:\s+remote-as(?:\s+\S+)?)?$", re.I)
_REMOVES_JUNOS = re.compile(r"^delete\s+protocols\s+bgp\s+group\s+\S+\s+neighbor\s+\S+$", re.I)


class _Scope:
    """What one session's neighbor is on its router's platform."""

    def __init__(self, platform: Platform, peer_ip: str, junos_group: str, prefix_list: str):
        self.platform, self.ip, self.group = platform, peer_ip, junos_group
        self.junos = platform == Platform.JUNOS
        style = "junos" if self.junos else "cisco"
        self._prefix_list = re.compile(_PREFIX_LIST_LINE[style].format(name=re.escape(prefix_list)), re.I)
        self._password = _PASSWORD_LINE.get(platform, _PASSWORD_LINE["cisco"])
        self._password_keyword = _PASSWORD_KEYWORD.get(platform, _PASSWORD_KEYWORD["cisco"])
        self._foreign_key = _FOREIGN_KEY_KEYWORD[Platform.JUNOS if self.junos else "cisco"]

    def targets_neighbor(self, line: str) -> bool:
        """The line starts with this neighbor's statement (on Junos: in this session's group),
        and names no other address. "neighbor <ip>" later in a line (a username, alias or
        banner) does not count."""
        m = (_JUNOS_NEIGHBOR if self.junos else _CISCO_NEIGHBOR).match(line)
        if m is None or _canonical(m.group("ip")) != self.ip:
            return False
        if self.junos and m.group("group") != self.group:  # Junos group names are case-sensitive
            return False
        return _addresses(line) <= {self.ip}

    def about_prefix_list(self, line: str) -> bool:
        return bool(self._prefix_list.match(line))

    def removes_neighbor(self, line: str) -> bool:
        return bool((_REMOVES_JUNOS if self.junos else _REMOVES_CISCO).match(line))

    def with_key(self, line: str, stored_key: str | None) -> str:
        """`line` to push: ******** in the password argument becomes the stored key; a typed
        key must be a valid MD5 key; ******** anywhere else is refused."""
        foreign = self._foreign_key.match(line)
        if foreign is not None:
            raise InvalidInput({"commands": "That is not how this platform sets a TCP-MD5 key (use the password line "
                                            f"peerbot renders): {_shown(foreign.group('pre'))} …"})
        m = self._password.match(line)
        several = self._password_keyword.match(line) if m is None else None
        if several is not None:  # the typed words are not echoed: they are (part of) a key
            raise InvalidInput({"commands": "The MD5 key is one word of 8-80 printable ASCII characters, without "
                                            f"spaces: {_shown(several.group('pre'))}{MASK}"})
        if m is None:
            if MASK in line:
                raise InvalidInput({"commands": f"{MASK} stands for the stored MD5 key and may only be the argument "
                                                f"of the password line: {_shown(line)}"})
            return line
        quoted = m.group("key").startswith('"')
        key = m.group("key").strip('"') if quoted else m.group("key")
        if key == MASK and MASK not in m.group("pre"):
            if not stored_key:
                raise InvalidInput({"commands": f"This session has no stored MD5 key, so {MASK} stands for nothing: "
                                                f"type the key, or remove the line: {_shown(line)}"})
            return m.group("pre") + (f'"{stored_key}"' if quoted else stored_key)
        if MASK in line:
            raise InvalidInput({"commands": f"{MASK} may only be the whole key argument: {_shown(line)}"})
        if key == stored_key:  # checked when it was stored (perhaps under older rules): keep it working
            return line
        try:
            parse_md5(key)
        except FieldError as exc:
            raise InvalidInput({"commands": f"{exc} ({_shown(line)})"}) from None
        return line


def _canonical(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None
