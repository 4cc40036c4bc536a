"""Junos: `show configuration ... | display json` of protocols bgp, policy-options and the AS.

JSON, not indented text, so no hier-config here: the structure is already there. Settings are
taken neighbor first, then its group, then the bgp level. Inactive statements (`"@": {"inactive":
true}` on an object, `"@name": {...}` beside a leaf) are not in effect: an inactive neighbor or
group is admin down, an inactive leaf is ignored. An import policy whose accepting terms only
match `from prefix-list` (or prefix-list-filter) resolves to those lists' entries. Routing
instances (VRFs) are not asked for. `lines` are the neighbor's statements in `set` form.
"""
from __future__ import annotations

import json
from typing import Any

from bot.base.redact import MASK
from bot.routers.bgp_config import model
from bot.routers.bgp_config.common import (
    FilterList, address_family_of, no_config, parse_address, parse_asn, short,
)
from bot.routers.bgp_config.model import BgpConfig, ConfiguredNeighbor, SkippedNeighbor

_FAMILIES = {("inet", "unicast"): "ipv4-unicast", ("inet6", "unicast"): "ipv6-unicast"}


def _load(text: str) -> dict[str, Any] | None:
    """The "configuration" object of a `| display json` answer (prompts/warnings around it
    tolerated); None when there is none."""
    text = text.strip()
    if not text:
        return None
    candidates = [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for candidate in candidates:
        try:
            data = json.loads(candidate)
        except (ValueError, RecursionError):
            continue
        if isinstance(data, dict):
            config = data.get("configuration", data)
            return config if isinstance(config, dict) else None
    return None


def _obj(value: Any) -> dict[str, Any]:
    """A container: Junos prints an empty one as [null] and some as one-element lists."""
    if isinstance(value, list):
        value = value[0] if len(value) == 1 else None
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list[dict[str, Any]]:
    """A list of named objects (one object when the list has one element)."""
    if isinstance(value, dict):
        return [value]
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _inactive(node: dict[str, Any], key: str | None = None) -> bool:
    meta = node.get("@" if key is None else f"@{key}")
    meta = _obj(meta) if meta is not None else {}
    return meta.get("inactive") in (True, "true")


def _leaf(node: dict[str, Any], key: str) -> Any:
    """An active leaf's value (None when absent or inactive)."""
    if key not in node or _inactive(node, key):
        return None
    return node[key]


def _text(value: Any) -> str | None:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    return None


def _names(value: Any) -> list[str]:
    """A leaf-list (import [ A B ]) as strings."""
    values = value if isinstance(value, list) else [value]
    return [str(v) for v in values if isinstance(v, (str, int)) and not isinstance(v, bool)]


class _Unreadable(ValueError):
    """A setting of one neighbor that cannot be read: the neighbor is skipped."""


def _asn(value: Any, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, dict):  # local-as {"as-number": ...}
        value = value.get("as-number")
    text = _text(value)
    asn = parse_asn(text) if text is not None else None
    if asn is None:
        raise _Unreadable(f"{what} {short(str(value))} is not an AS number")
    return asn


def _families(node: dict[str, Any]) -> dict[str, dict[str, Any]] | None:
    """family name -> its settings object, for the unicast families set at this level."""
    if "family" not in node or _inactive(node, "family"):
        return None
    out: dict[str, dict[str, Any]] = {}
    for afi, body in _obj(node["family"]).items():
        if afi.startswith("@"):
            continue
        body = _obj(body)
        for safi in body:
            if safi.startswith("@") or _inactive(body, safi):
                continue
            name = _FAMILIES.get((afi, safi), f"{afi}-{safi}")
            out[name] = _obj(body[safi])
    return out


def _limit(settings: dict[str, Any]) -> tuple[int, int | None, int | None, bool] | None:
    limit = _obj(settings.get("prefix-limit")) if not _inactive(settings, "prefix-limit") else {}
    maximum = _text(limit.get("maximum"))
    if maximum is None:
        return None
    if not maximum.isdigit():
        raise _Unreadable(f"prefix-limit maximum {short(maximum)} is not a number")
    if "teardown" not in limit:
        return (int(maximum), None, None, True)  # without teardown Junos only logs
    teardown = _obj(limit["teardown"])
    threshold = _text(teardown.get("limit-threshold"))
    idle = _obj(teardown.get("idle-timeout"))
    timeout = _text(idle.get("timeout"))
    return (int(maximum), int(threshold) if threshold and threshold.isdigit() else None,
            int(timeout) if timeout and timeout.isdigit() else None, False)


# ---- policies -----------------------------------------------------------------------------------

def _prefix_lists(policy_options: dict[str, Any]) -> dict[str, list[str] | None]:
    """prefix-list name -> its prefixes (None when it uses apply-path: not known here)."""
    out: dict[str, list[str] | None] = {}
    for plist in _items(policy_options.get("prefix-list")):
        name = _text(plist.get("name"))
        if name is None or _inactive(plist):
            continue
        if "apply-path" in plist:
            out[name] = None
            continue
        out[name] = [str(item["name"]) for item in _items(plist.get("prefix-list-item"))
                     if "name" in item and not _inactive(item)]
    return out


_MATCH = {"exact": "exact", "orlonger": "orlonger", "longer": "longer"}


def _policy_entries(name: str, policy_options: dict[str, Any], lists: dict[str, list[str] | None]) -> tuple[str, ...] | None:
    """The prefixes the policy accepts, when it is "accept routes in these prefix-lists, reject
    the rest"; None when it does anything else."""
    statement = next((p for p in _items(policy_options.get("policy-statement"))
                      if _text(p.get("name")) == name and not _inactive(p)), None)
    if statement is None:
        return None
    terms = [t for t in _items(statement.get("term")) if not _inactive(t)]
    if "from" in statement or "then" in statement:  # the statement's own from/then: a last term
        terms.append({k: statement[k] for k in ("from", "then") if k in statement})
    found = FilterList()
    accepted = False
    for index, term in enumerate(terms):
        then = {k for k in _obj(term.get("then")) if not k.startswith("@")}
        conditions = {k: v for k, v in _obj(term.get("from")).items() if not k.startswith("@")}
        if then == {"reject"} and not conditions and index == len(terms) - 1:
            continue
        if then != {"accept"} or not conditions or set(conditions) - {"prefix-list", "prefix-list-filter"}:
            return None
        for ref in _items(conditions.get("prefix-list")):
            prefixes = lists.get(_text(ref.get("name")) or "")
            if prefixes is None:
                return None
            for prefix in prefixes:
                found.add(len(found.rows), True, prefix, None, None)
        for ref in _items(conditions.get("prefix-list-filter")):
            prefixes = lists.get(_text(ref.get("list_name") or ref.get("name")) or "")
            kind = next((k for k in ("exact", "orlonger", "longer", "upto") if k in ref), None)
            if prefixes is None or kind is None:
                return None
            for prefix in prefixes:
                width = 128 if ":" in prefix else 32
                length = int(prefix.split("/")[1]) if "/" in prefix else width
                ge = le = None
                if kind == "orlonger":
                    le = width
                elif kind == "longer":
                    ge, le = length + 1, width
                elif kind == "upto":
                    upto = (_text(ref.get("upto")) or "").lstrip("/")
                    if not upto.isdigit():
                        return None
                    le = int(upto)
                found.add(len(found.rows), True, prefix, ge, le)
        accepted = True
    return found.entries() if accepted else None


# ---- neighbors ----------------------------------------------------------------------------------

def _set_lines(prefix: str, node: Any) -> list[str]:
    """`set` statements for a JSON subtree, the authentication key masked."""
    out: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key.startswith("@") or key == "name":
                continue
            if key == "authentication-key":
                out.append(f'{prefix} {key} "{MASK}"')
            elif isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
                for item in value:
                    out.extend(_set_lines(f"{prefix} {key} {item['name']}", item) or [f"{prefix} {key} {item['name']}"])
            else:
                out.extend(_set_lines(f"{prefix} {key}", value))
    elif isinstance(node, list):
        if node in ([None], []):
            out.append(prefix)
        elif len(node) > 1 and all(isinstance(v, (str, int)) for v in node):
            out.append(f"{prefix} [ {' '.join(str(v) for v in node)} ]")
        else:
            for value in node:
                out.extend(_set_lines(prefix, value))
    elif node is None:
        out.append(prefix)
    else:
        text = str(node)
        out.append(f'{prefix} "{text}"' if (not text or any(c in text for c in ' ;"\t')) else f"{prefix} {text}")
    return out


def parse(bgp_text: str, policy_text: str = "", as_text: str = "") -> BgpConfig:
    """The global-instance BGP neighbors of a Junos configuration in JSON."""
    config = _load(bgp_text)
    bgp = _obj(_obj(config.get("protocols")).get("bgp")) if config else {}
    if config is None or not bgp:
        return no_config("no protocols bgp configuration in the output")
    routing = _load(as_text) or {}
    system_as = _obj(_obj(routing.get("routing-options")).get("autonomous-system"))
    try:
        local_asn = _asn(system_as.get("as-number"), "autonomous-system") if system_as else None
    except _Unreadable:
        local_asn = None
    policy_options = _obj((_load(policy_text) or {}).get("policy-options"))
    lists = _prefix_lists(policy_options)

    neighbors: dict[str, ConfiguredNeighbor] = {}
    skipped: list[SkippedNeighbor] = []
    bgp_down = _inactive(bgp)
    for group in _items(bgp.get("group")):
        group_name = _text(group.get("name")) or ""
        for peer in _items(group.get("neighbor")):
            name = _text(peer.get("name")) or ""
            address = parse_address(name.split("/")[0] if name.endswith(("/32", "/128")) else name)
            if address is None:
                skipped.append(SkippedNeighbor(name or "?", f"{short(name)}: not an IP address"))
                continue
            try:
                neighbor = _neighbor(address, peer, group, group_name, bgp, bgp_down, local_asn,
                                     policy_options, lists)
            except _Unreadable as exc:
                skipped.append(SkippedNeighbor(name, str(exc)))
                continue
            if address in neighbors:
                skipped.append(SkippedNeighbor(name, f"{address} is configured twice"))
                continue
            neighbors[address] = neighbor
    return BgpConfig(local_asn=local_asn, neighbors=neighbors, skipped=tuple(skipped))


def _neighbor(address: str, peer: dict[str, Any], group: dict[str, Any], group_name: str,
              bgp: dict[str, Any], bgp_down: bool, local_asn: int | None,
              policy_options: dict[str, Any], lists: dict[str, list[str] | None]) -> ConfiguredNeighbor:
    levels = (peer, group, bgp)

    def first(key: str) -> Any:
        return next((v for level in levels if (v := _leaf(level, key)) is not None), None)

    remote = _asn(first("peer-as"), "peer-as")
    if remote is None and _text(_leaf(group, "type")) == "internal":
        remote = local_asn
    local_as = _asn(first("local-as"), "local-as")
    families = next((f for level in levels if (f := _families(level)) is not None), None)
    if families is None:  # no family anywhere: Junos runs the session's own unicast family
        families = {address_family_of(address): {}}
    native = address_family_of(address)
    order = [native] + sorted(f for f in families if f != native)
    limit = next((v for f in order if (v := _limit(families[f])) is not None), None)
    imports = _names(first("import")) if first("import") is not None else []
    description = _text(_leaf(peer, "description"))
    if description is None and not _leaf(peer, "description"):
        description = _text(_leaf(group, "description"))
    entries = None
    if len(imports) == 1:
        entries = _policy_entries(imports[0], policy_options, lists)
    lines = _set_lines(f"set protocols bgp group {group_name} neighbor {peer.get('name')}", peer)
    if _inactive(peer):
        lines.insert(0, f"deactivate protocols bgp group {group_name} neighbor {peer.get('name')}")
    return ConfiguredNeighbor(
        peer_ip=address,
        remote_asn=remote,
        description=description,
        peer_group=group_name or None,
        local_asn=local_as,
        password_set=first("authentication-key") is not None,
        families=tuple(sorted(families)),
        inbound_filter=(imports[0] if len(imports) == 1 else f"[ {' '.join(imports)} ]") if imports else None,
        filter_kind=model.POLICY if imports else None,
        filter_entries=entries,
        max_prefixes=limit[0] if limit else None,
        max_prefix_warn=limit[1] if limit else None,
        max_prefix_restart=limit[2] if limit else None,
        max_prefix_warning_only=limit[3] if limit else False,
        admin_down=bgp_down or _inactive(group) or _inactive(peer),
        lines=tuple(lines),
    )
