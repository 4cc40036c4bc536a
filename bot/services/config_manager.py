"""Config Manager: a user-edited command set is checked to stay within one session's neighbor
before it may be pushed."""
from __future__ import annotations

import ipaddress
import re

from bot.core import Core
from bot.errors import InvalidInput
from bot.routers.base import MASK
from bot.services.router_config import (
    SECRET_IN_LINE, load_session, neighbor_spec, plan, prefix_list_name,
)

_DANGEROUS = re.compile(r"(?i)\b(router bgp \d+|no router|write erase|erase|reload|rollback|load)\b")

# Control characters (tab included: it triggers completion in an interactive CLI), ";" (a
# second command on some CLIs) and "?" (inline help in vtysh/IOS/Junos) never reach a router.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029;?]")
MAX_EDITED_LINES = 200


def check_edited_commands(core: Core, session_id: int, text: str) -> list[str]:
    """Validate a user-edited command set (Config Manager) and return the lines to push.

    Allowed: any line the template renders for this session (context lines such as
    `router bgp 64500`, `address-family ipv4 unicast`, `exit`, shown masked), lines that act on
    this session's neighbor (`[no] neighbor <its IP> ...`, and no other IP address in them),
    and lines about its own prefix list. The masked MD5 (********) is replaced by the stored
    key. Anything else is rejected with the offending line named.
    """
    p = plan(core, session_id, "configure")
    with core.db.session() as s:
        row = load_session(s, session_id)
        peer_ip, secret_spec = row.peer_ip, neighbor_spec(core, row, s)
    own_prefix_list = prefix_list_name(row.peer.asn, row.address_family)
    lines = [ln.strip(" \t") for ln in (text or "").replace("\r\n", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    if not lines:
        raise InvalidInput({"commands": "There are no commands to push."})
    if len(lines) > MAX_EDITED_LINES:
        raise InvalidInput({"commands": f"At most {MAX_EDITED_LINES} lines can be pushed at once."})
    rendered = {ln.strip() for ln in p.masked}
    out = []
    for ln in lines:
        if _CONTROL.search(ln):
            raise InvalidInput({"commands": f"Control characters (tabs included), ';' and '?' are not allowed: {_shown(ln)}"})
        if len(ln) > 250:
            raise InvalidInput({"commands": f"Line too long: {_shown(ln)}"})
        in_scope = ln in rendered or (
            not _DANGEROUS.search(ln) and (_targets_neighbor(ln, peer_ip) or _about_prefix_list(ln, own_prefix_list)))
        if not in_scope:
            raise InvalidInput({"commands": f"Line outside this session's neighbor ({peer_ip}): {_shown(ln)}"})
        out.append(ln.replace(MASK, secret_spec.md5_password) if secret_spec.md5_password else ln)
    return out


def _shown(line: str) -> str:
    return _CONTROL.sub("?", SECRET_IN_LINE.sub(lambda m: m.group("kw") + MASK, line))[:80]


def _tokens(line: str) -> list[str]:
    return [t for t in re.split(r"[\s\"']+", line) if t]


def _ip_or_none(token: str) -> str | None:
    try:
        return str(ipaddress.ip_address(token))
    except ValueError:
        return None


def _targets_neighbor(line: str, ip: str) -> bool:
    """`[no] neighbor <ip> ...` (or Junos `... neighbor <ip> ...`), with no other address in it."""
    tokens = _tokens(line)
    ips = [(i, _ip_or_none(t)) for i, t in enumerate(tokens)]
    ips = [(i, a) for i, a in ips if a is not None]
    if not ips:
        return False
    first, addr = ips[0]
    return addr == ip and first > 0 and tokens[first - 1].lower() == "neighbor" and all(a == ip for _, a in ips)


def _about_prefix_list(line: str, name: str) -> bool:
    tokens = _tokens(line)
    return name in tokens and not any(_ip_or_none(t) for t in tokens)

