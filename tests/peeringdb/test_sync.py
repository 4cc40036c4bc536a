"""Sync into the mirror (SQLite and PostgreSQL): full load, incremental updates and deletions,
failures that leave the previous mirror serving, exchanges kept current."""
from __future__ import annotations

from sqlalchemy import select

from bot.peeringdb.client import PeeringDBClient
from bot.peeringdb.exchanges import import_exchange
from bot.peeringdb.search import network_at_exchange, search_networks
from bot.peeringdb.sync import sync
from storage.db import Database
from storage.models import Exchange, PdbNet, PdbNetIxLan, PdbPoc, PdbSyncState
from tests.harness.fake_peeringdb import FakePeeringDB, net, netixlan, ts


def test_full_sync_loads_every_object_type(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient,
                                           mirror_db: Database) -> None:
    seen: list[str] = []
    report = sync(mirror_db, pdb_client, progress=lambda t, done, total: seen.append(t))
    assert report.ok, report.error
    assert seen == ["org", "net", "poc", "ix", "ixlan", "ixpfx", "netixlan", ""]
    assert all("since" not in r.query for r in fake_pdb.requests)
    with mirror_db.session() as s:
        cf = s.get(PdbNet, 4224)
        assert (cf.asn, cf.name, cf.name_lc, cf.irr_as_set, cf.info_prefixes4, cf.info_prefixes6, cf.policy_general) \
            == (13335, "Cloudflare", "cloudflare", "AS-CLOUDFLARE", 3000, 1500, "Open")
        assert cf.updated is not None and cf.updated.year == 2025
        assert [p.email for p in s.scalars(select(PdbPoc).where(PdbPoc.net_id == 4224).order_by(PdbPoc.id))] == \
            ["peering@cloudflare.example", "noc@cloudflare.example", "private@cloudflare.example"]
        assert s.get(PdbNetIxLan, 5001).ipaddr6 == "2001:7f8::3417:0:1"
        state = s.get(PdbSyncState, "net")
        assert state.since == ts("2025-06-01T08:00:00Z") and state.row_count == 4


def test_incremental_sync_applies_updates_and_deletions(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient,
                                                         mirror_db: Database) -> None:
    assert sync(mirror_db, pdb_client).ok
    later = "2025-06-02T09:30:00Z"
    fake_pdb.upsert("net", net(4224, 4715, "Cloudflare Global", 13335, updated=later, irr_as_set="AS-CLOUDFLARE",
                               info_prefixes4=3100, info_prefixes6=1600))
    fake_pdb.upsert("net", {**net(31337, 9001, "Flare Hosting", 64999), "status": "deleted", "updated": later})
    fake_pdb.upsert("netixlan", {**netixlan(5002, 4224, 31, 31, 13335, "80.81.195.152", None),
                                 "status": "deleted", "updated": later})
    fake_pdb.upsert("net", net(7777, 9001, "Newcomer Networks", 65010, updated=later))
    fake_pdb.requests.clear()

    report = sync(mirror_db, pdb_client)
    assert report.ok, report.error
    assert {r.query.get("since") for r in fake_pdb.requests} == {str(ts("2025-06-01T08:00:00Z"))}
    by_type = {r.object_type: r for r in report.results}
    assert (by_type["net"].upserted, by_type["net"].deleted) == (2 + 2, 1)  # since= is inclusive
    with mirror_db.session() as s:
        assert s.get(PdbNet, 4224).name == "Cloudflare Global" and s.get(PdbNet, 4224).info_prefixes4 == 3100
        assert s.get(PdbNet, 31337) is None
        assert s.get(PdbNet, 7777).name_lc == "newcomer networks"
        assert s.get(PdbNetIxLan, 5002) is None
        assert s.get(PdbSyncState, "net").since == ts(later)
    # The search index follows: old name gone, new name found, deleted net not found.
    assert [h.asn for h in search_networks(mirror_db, "global")] == [13335]
    assert search_networks(mirror_db, "flare hosting") == []
    assert [h.asn for h in search_networks(mirror_db, "newcomer")] == [65010]


def test_a_failed_sync_leaves_the_previous_mirror_serving(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient,
                                                          mirror_db: Database) -> None:
    assert sync(mirror_db, pdb_client).ok
    fake_pdb.upsert("net", net(4224, 4715, "Cloudflare Renamed", 13335, updated="2025-07-01T00:00:00Z"))
    fake_pdb.upsert("netixlan", netixlan(5009, 4224, 31, 31, 13335, "80.81.196.1", None,
                                         updated="2025-07-01T00:00:00Z"))
    fake_pdb.fail("poc", 500, times=5)
    report = sync(mirror_db, pdb_client)
    assert not report.ok
    assert report.error == "PeeringDB poc: HTTP 500 Internal Server Error after 5 attempts"
    assert [r.object_type for r in report.results] == ["org", "net"]
    # What came before the failure is applied; the rest is the old mirror, still usable.
    assert [h.name for h in search_networks(mirror_db, "AS13335")] == ["Cloudflare Renamed"]
    assert [p.ipaddr4 for p in network_at_exchange(mirror_db, 4224, 31)] == ["80.81.194.152", "80.81.195.152"]
    # The next run resumes: poc onwards, from their old since.
    fake_pdb.requests.clear()
    assert sync(mirror_db, pdb_client).ok
    assert "80.81.196.1" in [p.ipaddr4 for p in network_at_exchange(mirror_db, 4224, 31)]


def test_imported_exchange_follows_the_mirror(fake_pdb: FakePeeringDB, pdb_client: PeeringDBClient,
                                              mirror_db: Database) -> None:
    assert sync(mirror_db, pdb_client).ok
    ex, created, ix = import_exchange(mirror_db, 31)
    assert created and (ex.name, ex.lan_prefix_v4, ex.lan_prefix_v6, ex.peeringdb_ix_id) == \
        ("DE-CIX Frankfurt", "80.81.192.0/21", "2001:7f8::/64", 31)
    again, created, _ = import_exchange(mirror_db, 31)
    assert not created and again.id == ex.id
    from tests.harness.fake_peeringdb import ix, ixpfx

    fake_pdb.upsert("ix", ix(31, 57, "DE-CIX Frankfurt/Main", updated="2025-08-01T00:00:00Z"))
    fake_pdb.upsert("ixpfx", ixpfx(61, 31, "80.81.192.0/22", updated="2025-08-01T00:00:00Z"))
    report = sync(mirror_db, pdb_client)
    assert report.exchanges_updated == ["DE-CIX Frankfurt/Main"]
    with mirror_db.session() as s:
        row = s.get(Exchange, ex.id)
        assert (row.name, row.lan_prefix_v4) == ("DE-CIX Frankfurt/Main", "80.81.192.0/22")
