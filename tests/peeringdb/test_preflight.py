"""Pre-flight checks from the database and the PeeringDB mirror (no network while checking)."""
from __future__ import annotations

import pytest

from bot.core import Core
from bot.base.errors import NotFound
from bot.peeringdb.client import PeeringDBClient
from bot.peeringdb.sync import sync
from bot.sessions.preflight import FAIL, OK, WARN, preflight_checks, run_checks
from tests.factories import ids, make_session
from tests.harness.fake_peeringdb import FakePeeringDB
from tests.slack.test_wizard_peeringdb import records


@pytest.fixture
def pdb_core(inventory_core: Core) -> Core:
    fake = FakePeeringDB(records()).start()
    try:
        assert sync(inventory_core.db, PeeringDBClient(base_url=fake.url, sleep=lambda s: None)).ok
    finally:
        fake.stop()
    return inventory_core


def test_a_session_that_matches_peeringdb(pdb_core: Core) -> None:
    sid = make_session(pdb_core, ip="192.0.2.152", asn="13335", name="Cloudflare").id
    checks = preflight_checks(pdb_core, sid)
    assert checks == [
        (OK, "192.0.2.152 is inside EXAMPLE-IX's LAN 192.0.2.0/24."),
        (OK, "PeeringDB lists AS13335 with 192.0.2.152 at Example IX."),
        (OK, "192.0.2.152 is not used by another network at Example IX (PeeringDB)."),
        (OK, "AS13335 is also at Example IX with IPv6 2001:db8::d:1: a session for it can be created too."),
        (OK, "Cloudflare (AS13335): general peering policy Open."),
        (OK, "IPv4 prefix count known for the max-prefix: 3000."),
    ]
    # Once the IPv6 session exists, it is no longer offered.
    make_session(pdb_core, ip="2001:db8::d:1", asn="13335", name="Cloudflare")
    assert (OK, "The IPv6 session with AS13335 at Example IX (2001:db8::d:1) already exists.") in \
        preflight_checks(pdb_core, sid)


def test_wrong_ip_someone_elses_ip_and_unknown_prefix_count(pdb_core: Core) -> None:
    i = ids(pdb_core)
    pf = run_checks(pdb_core, exchange_id=i["ix:EXAMPLE-IX"], peer_asn="AS6939", peer_ip="2001:db8::d:1",
                    router_id=i["router:edge1"])
    assert pf.blocked and pf.other_family_ip == "192.0.2.172"
    assert pf.checks == [
        (OK, "2001:db8::d:1 is inside EXAMPLE-IX's LAN 2001:db8::/32."),
        (WARN, "PeeringDB lists AS6939 at Example IX without an IPv6 address."),
        (FAIL, "2001:db8::d:1 is listed at Example IX for AS13335, not AS6939."),
        (OK, "AS6939 is also at Example IX with IPv4 192.0.2.172: a session for it can be created too."),
        (OK, "Hurricane Electric (AS6939): general peering policy Open."),
        (WARN, "PeeringDB has no IPv6 prefix count for Hurricane Electric (AS6939): set the max-prefix by hand."),
    ]


def test_outside_the_lan_unlisted_network_and_unlinked_exchange(pdb_core: Core) -> None:
    i = ids(pdb_core)
    pf = run_checks(pdb_core, exchange_id=i["ix:EXAMPLE-IX"], peer_asn="64999", peer_ip="198.51.100.9")
    assert pf.checks[0] == (FAIL, "198.51.100.9 is outside EXAMPLE-IX's LAN 192.0.2.0/24.")
    assert (WARN, "PeeringDB does not list AS64999 at Example IX.") in pf.checks
    assert pf.checks[-1] == (WARN, "AS64999 is not in the PeeringDB mirror: no policy or prefix counts to check.")
    other = run_checks(pdb_core, exchange_id=i["ix:OTHER-IX"], peer_asn="13335", peer_ip="198.51.100.9")
    assert (WARN, "OTHER-IX is not linked to PeeringDB: cannot check the IP against PeeringDB.") in other.checks
    none = run_checks(pdb_core, exchange_id=i["ix:No Exchange"], peer_asn="13335", peer_ip="203.0.113.1")
    assert [c.status for c in none.checks] == [OK, OK]  # only the network's own facts
    with pytest.raises(NotFound):
        preflight_checks(pdb_core, 999999)


def test_policy_no_is_a_failure(pdb_core: Core) -> None:
    from storage.models import PdbNet

    with pdb_core.db.session() as s:
        s.get(PdbNet, 20).policy_general = "No"
    pf = run_checks(pdb_core, exchange_id=None, peer_asn="6939", peer_ip="203.0.113.1")
    assert (FAIL, "Hurricane Electric (AS6939): general peering policy No (they do not peer).") in pf.checks
