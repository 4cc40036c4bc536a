"""What peerbot pushes is not drift: the commands Configure renders for a session, as the router
then shows them in its running config, parse back (the real discovery parsers) to exactly the
values the drift check expects, on the CLI platforms whose running config has the pushed lines'
shape (FRR, IOS-XE, EOS; IOS-XR with its nesting put back)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.adoption.compare import differences
from bot.adoption.discovery import expected_for_router
from bot.changes.router_config import plan
from bot.core import Core
from bot.routers.base import Platform
from bot.routers.bgp_config import CONFIG_COMMANDS, parse_bgp_config
from storage.models import Router
from tests.factories import ids, make_session


def running_config(lines: list[str]) -> str:
    """Config-mode lines as the router's running config holds them afterwards: indented under
    `router bgp` and its address families, a later `no neighbor X shutdown` undoing the shutdown,
    the peer group defined on the router."""
    out: list[str] = []
    depth = 0
    for raw in lines:
        line = raw.strip()
        if line.startswith("no neighbor") and line.endswith(" shutdown"):
            out = [x for x in out if x.strip() != line.removeprefix("no ")]
            continue
        if line.startswith(("exit-address-family", "exit")):
            depth = max(0, depth - 1)
            continue
        out.append(" " * depth + line)
        if line.startswith("router bgp"):
            out.append(" neighbor TRANSIT peer-group")  # the router's own group, as the inventory says
        if line.startswith(("router bgp", "address-family")):
            depth += 1
    return "\n".join(out) + "\n"


def xr_running_config(lines: list[str]) -> str:
    """IOS-XR's nesting: route-policies at the top, `router bgp` > `neighbor` > `address-family`."""
    out: list[str] = []
    depth = 0
    for raw in lines:
        line = raw.strip()
        if line in ("root", "exit", "end-policy"):
            depth = 0 if line != "exit" else max(0, depth - 1)
            if line == "end-policy":
                out.append(line)
            continue
        if line.startswith("neighbor "):
            depth = 1
        elif line.startswith("address-family"):
            depth = 2
        out.append(" " * depth + line)
        if line.startswith(("router bgp", "neighbor ", "address-family", "route-policy ")) and not line.endswith((" in", " out")):
            depth += 1
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("platform", ["frr", "ios-xe", "eos", "ios-xr"])
@pytest.mark.parametrize("admin_down", [False, True])
def test_configured_session_reads_back_without_differences(inventory_core: Core, platform: str,
                                                           admin_down: bool) -> None:
    core = inventory_core
    with core.db.session() as s:
        s.scalar(select(Router).where(Router.name == "edge1")).platform = platform
    group = None if platform == "ios-xr" else ids(core)["pg:edge1/TRANSIT"]  # (XR: a neighbor-group of its own)
    v = make_session(core, ip="192.0.2.10", md5="Md5-Secr3t-Key", peer_group_id=group)
    if admin_down:
        with core.db.session() as s:
            from storage.models import AdminStatus, Session

            s.get(Session, v.id).admin_status = AdminStatus.DOWN
    lines = plan(core, v.id, "configure").lines
    text = xr_running_config(lines) if platform == "ios-xr" else running_config(lines)
    commands = CONFIG_COMMANDS[Platform(platform)]
    config = parse_bgp_config(Platform(platform), {c: text for c in commands})
    found = config.neighbors["192.0.2.10"]
    with core.db.session() as s:
        expected = expected_for_router(s, ids(core)["router:edge1"])["192.0.2.10"]
    assert differences(expected, found.settings()) == [], text
    assert found.password_set and found.admin_down == admin_down
    assert found.peer_group == (None if platform == "ios-xr" else "TRANSIT")
