"""The type-ahead over the mirror: tiers (exact ASN, name prefix, substring), inputs, the 100 cap."""
from __future__ import annotations

import pytest

from bot.peeringdb.client import PeeringDBClient
from bot.peeringdb.search import mirror_is_empty, search_networks
from bot.peeringdb.sync import sync
from storage.db import Database
from tests.harness.fake_peeringdb import FakePeeringDB, net


@pytest.fixture
def mirror(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient, mirror_db: Database) -> Database:
    fake_pdb.records["net"] += [
        net(9001, 9001, "13335 Fan Club", 65001),
        net(9002, 9001, "Solarflare Labs", 65002, aka="SFL"),
        net(9003, 9001, "Cloud Nine", 65003, aka="Flarenet Backbone"),
        net(9004, 9001, "Überflare GmbH", 65004),
    ]
    assert mirror_is_empty(mirror_db)
    assert sync(mirror_db, pdb_client).ok
    return mirror_db


def _names(db: Database, text: str) -> list[str]:
    return [h.name for h in search_networks(db, text)]


def test_exact_asn_first_then_name_prefix(mirror: Database) -> None:
    hits = search_networks(mirror, "13335")
    assert [(h.name, h.match) for h in hits] == [("Cloudflare", "asn"), ("13335 Fan Club", "prefix")]
    assert _names(mirror, "AS13335") == ["Cloudflare"]
    assert _names(mirror, "as13335") == ["Cloudflare"]
    assert _names(mirror, "0.13335") == ["Cloudflare"]  # asdot
    assert _names(mirror, "0.6939") == ["Hurricane Electric"]


def test_name_prefix_before_substring_each_tier_alphabetical(mirror: Database) -> None:
    hits = search_networks(mirror, "flare")
    assert [(h.name, h.match) for h in hits] == [
        ("Flare Hosting", "prefix"),
        ("Cloud Nine", "substring"),  # its aka, "Flarenet Backbone"
        ("Cloudflare", "substring"),
        ("Solarflare Labs", "substring"),
        ("Überflare GmbH", "substring"),
    ]


def test_aka_and_as_set_and_multiword(mirror: Database) -> None:
    assert _names(mirror, "AS-CLOUDFLARE") == ["Cloudflare"]
    assert _names(mirror, "radb::as-google") == ["Google LLC"]
    assert _names(mirror, "sfl") == ["Solarflare Labs"]
    assert _names(mirror, "  hurricane   ELEC ") == ["Hurricane Electric"]
    assert _names(mirror, "ricane elec") == ["Hurricane Electric"]
    assert _names(mirror, "überfl") == ["Überflare GmbH"]
    assert _names(mirror, "nothing like this") == []
    assert _names(mirror, "") == [] and _names(mirror, "%") == [] and _names(mirror, "_") == []


def test_never_more_than_100(mirror_db: Database) -> None:
    from sqlalchemy import insert

    from bot.peeringdb.mirror import row_for, token_rows
    from storage.models import PdbNet, PdbNetToken

    rows = [row_for("net", net(100 + i, 1, f"Transit Provider {i:03d}", 70000 + i)) for i in range(250)]
    with mirror_db.session() as s:
        s.execute(insert(PdbNet), rows)
        s.execute(insert(PdbNetToken), list(token_rows(rows)))
    hits = search_networks(mirror_db, "transit")
    assert len(hits) == 100 and hits[0].name == "Transit Provider 000" and hits[-1].name == "Transit Provider 099"
    assert len(search_networks(mirror_db, "provider")) == 100
    assert len(search_networks(mirror_db, "provider", limit=5)) == 5
