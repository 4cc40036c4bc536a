"""A database with one router per platform, shared by the examples of one property test."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.sessions.inventory import load_inventory
from storage.models import AsSet, Exchange, PeerGroup, Router

INVENTORY = Path(__file__).parent / "inventory.yml"
# An AS-SET known locally, so that sessions with it render (and Config Manager scopes) a prefix list.
KNOWN_AS_SET = "AS-KNOWN"


@pytest.fixture
def platform_core(core: Core) -> Core:
    load_inventory(core.db, INVENTORY)
    with core.db.session() as s:
        s.add(AsSet(name=KNOWN_AS_SET, source="RIPE", prefixes_v4=["198.51.100.0/24", "203.0.113.0/25"],
                    prefixes_v6=["2001:db8:1000::/36"]))
    return core


def catalog_ids(core: Core) -> dict[str, int]:
    """router:<name>, ix:<name>, pg:<router>/<group>, and "none" (No Exchange) -> id."""
    with core.db.session() as s:
        out = {f"router:{r.name}": r.id for r in s.scalars(select(Router))}
        for x in s.scalars(select(Exchange)):
            out["none" if x.is_none else f"ix:{x.name}"] = x.id
        out |= {f"pg:{g.router.name}/{g.name}": g.id for g in s.scalars(select(PeerGroup))}
    return out
