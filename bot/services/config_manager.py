"""Config Manager: a user-edited command set is checked to stay within one session's neighbor
before it may be pushed."""
from __future__ import annotations

import ipaddress
import re

from bot.core import Core
from bot.errors import InvalidInput
from bot.redact import MASK, mask_password_args
from bot.services.router_config import (
    load_session, neighbor_spec, plan, prefix_list_name,
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
    this session's neighbor (starting `[no] neighbor <its IP> ...`, no other IP address in them),
    and entries of its own prefix list. The masked MD5 (********) is replaced by the stored
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
    return _CONTROL.sub("?", mask_password_args(line))[:80]


def _tokens(line: str) -> list[str]:
    return [t for t in re.split(r"[\s\"']+", line) if t]


def _is_ip(token: str) -> bool:
    try:
        ipaddress.ip_address(token)
        return True
    except ValueError:
        return False


# A line about the session's neighbor must START with the neighbor statement: "neighbor <ip>"
# somewhere later in a line (a username, alias or banner line) is not in scope.
_NEIGHBOR_LINE = (
    r"^(?:no\s+)?neighbor\s+(?P<ip>[0-9A-Fa-f:.]+)(?:\s+.*)?$",  # FRR, IOS-XE, IOS-XR, EOS
    r"^(?:set|delete|activate|deactivate)\s+protocols\s+bgp\s+group\s+[\w.\-]+\s+neighbor\s+(?P<ip>[0-9A-Fa-f:.]+)(?:\s+.*)?$",  # Junos
)
_PREFIX_LIST_LINE = (
    r"^(?:no\s+)?(?:ip|ipv6)\s+prefix-list\s+{name}\s+(?:seq\s+\d+\s+)?(?:permit|deny)\s+[0-9a-fA-F:./]+(?:\s+(?:le|ge)\s+\d+)*$",
    r"^(?:set|delete)\s+policy-options\s+prefix-list\s+{name}\s+[0-9a-fA-F:./]+$",  # Junos
)


def _targets_neighbor(line: str, ip: str) -> bool:
    """`[no] neighbor <ip> ...` (Junos: `set protocols bgp group G neighbor <ip> ...`), with no
    other address in the line."""
    m = next((m for p in _NEIGHBOR_LINE if (m := re.match(p, line, re.IGNORECASE))), None)
    if m is None or not _is_ip(m.group("ip")) or str(ipaddress.ip_address(m.group("ip"))) != ip:
        return False
    return not [t for t in _tokens(line) if _is_ip(t) and str(ipaddress.ip_address(t)) != ip]


def _about_prefix_list(line: str, name: str) -> bool:
    return any(re.match(p.format(name=re.escape(name)), line, re.IGNORECASE) for p in _PREFIX_LIST_LINE)
