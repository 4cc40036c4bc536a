"""The wizard with a PeeringDB mirror, driven through signed requests: the type-ahead answered
from the mirror, a network filling the fields, its addresses at the exchange as a select,
pre-flight checks on the confirmation step (a ❌ needs "create anyway", which is audited), the
other address family offered as a second session, and type-ahead selects above 100 entries."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from bot.peeringdb.client import PeeringDBClient
from bot.peeringdb.sync import sync
from handlers.ids import Action
from storage.models import AuditEvent, Exchange
from tests.factories import ids
from tests.harness.bot import RunningBot
from tests.harness.fake_peeringdb import FakePeeringDB, ix, ixlan, ixpfx, net, netixlan, org, poc
from tests.slack.test_wizard import Wizard, inputs, open_by_command, session_rows, text_of, to_step3

EXAMPLE_IX = 9999  # tests/data/inventory.yml: EXAMPLE-IX, 192.0.2.0/24 and 2001:db8::/32


def records() -> dict[str, list[dict]]:
    return {
        "org": [org(4715, "Cloudflare, Inc."), org(2, "Hurricane Electric"), org(77, "Example IX e.V.")],
        "net": [
            net(4224, 4715, "Cloudflare", 13335, irr_as_set="AS-CLOUDFLARE", info_prefixes4=3000,
                info_prefixes6=1500, policy_general="Open"),
            net(20, 2, "Hurricane Electric", 6939, irr_as_set="RADB::AS-HURRICANE AS-HE", info_prefixes4=150000,
                info_prefixes6=None, policy_general="Open"),
        ],
        "poc": [poc(101, 4224, "Policy", "peering@cloudflare.example")],
        "ix": [ix(EXAMPLE_IX, 77, "Example IX")],
        "ixlan": [ixlan(EXAMPLE_IX, EXAMPLE_IX)],
        "ixpfx": [ixpfx(1, EXAMPLE_IX, "192.0.2.0/24"), ixpfx(2, EXAMPLE_IX, "2001:db8::/32")],
        "netixlan": [
            netixlan(1, 4224, EXAMPLE_IX, EXAMPLE_IX, 13335, "192.0.2.152", "2001:db8::d:1", speed=100000),
            netixlan(2, 4224, EXAMPLE_IX, EXAMPLE_IX, 13335, "192.0.2.153", None, speed=10000, is_rs_peer=False),
            netixlan(3, 20, EXAMPLE_IX, EXAMPLE_IX, 6939, "192.0.2.172", None),
        ],
    }


@pytest.fixture
def mirrored(bot: RunningBot) -> Iterator[RunningBot]:
    fake = FakePeeringDB(records()).start()
    try:
        report = sync(bot.core.db, PeeringDBClient(base_url=fake.url, sleep=lambda s: None))
        assert report.ok, report.error
        yield bot
    finally:
        fake.stop()


def pick_network(w: Wizard, text: str, label_start: str) -> dict:
    b = inputs(w.view)["peeringdb"]
    r = w.bot.send.suggestion(Action.WIZARD_PEERINGDB, text, block_id=b["block_id"], view=w.view)
    options = r.json()["options"]
    chosen = next(o for o in options if o["text"]["text"].startswith(label_start))
    return w.select("peeringdb", chosen["value"])


def field_values(w: Wizard, *names: str) -> list:
    p = inputs(w.view)
    return [p[n]["element"].get("initial_value") for n in names]


def test_lookup_fills_the_fields_and_offers_the_addresses_at_the_exchange(mirrored: RunningBot) -> None:
    bot = mirrored
    w = open_by_command(bot, channel="CNETOPS")
    to_step3(w)
    b = inputs(w.view)["peeringdb"]
    assert "Answered from the local PeeringDB mirror" in b["hint"]["text"]
    options = bot.send.suggestion(Action.WIZARD_PEERINGDB, "13335", block_id=b["block_id"], view=w.view).json()["options"]
    assert [o["text"]["text"] for o in options] == ["AS13335 Cloudflare · AS-CLOUDFLARE"]
    names = [o["text"]["text"] for o in bot.send.suggestion(Action.WIZARD_PEERINGDB, "AS-HE", block_id=b["block_id"],
                                                             view=w.view).json()["options"]]
    assert names == ["AS6939 Hurricane Electric · RADB::AS-HURRICANE AS-HE"]

    pick_network(w, "cloud", "AS13335 Cloudflare")
    assert field_values(w, "peer_name", "peer_asn", "peer_ip") == ["Cloudflare", "AS13335", "192.0.2.152"]
    assert "Filled in from PeeringDB" in text_of(w.view["blocks"])
    ips = inputs(w.view)["pdb_ip"]["element"]
    assert ips["type"] == "static_select" and ips["initial_option"]["value"] == "192.0.2.152"
    assert [o["text"]["text"] for o in ips["options"]] == [
        "192.0.2.152 (IPv4 · 100G · RS peer)", "192.0.2.153 (IPv4 · 10G)", "2001:db8::d:1 (IPv6 · 100G · RS peer)"]
    w.select("pdb_ip", "192.0.2.153")
    assert field_values(w, "peer_ip") == ["192.0.2.153"]

    # The fields stay editable: a different name is kept.
    w.next(peer_name="Cloudflare EU")
    assert inputs(w.view)["as_set"]["element"]["initial_value"] == "AS-CLOUDFLARE"
    w.next()
    summary = text_of(w.view["blocks"])
    for line in ("✅ 192.0.2.153 is inside EXAMPLE-IX's LAN 192.0.2.0/24.",
                 "✅ PeeringDB lists AS13335 with 192.0.2.153 at Example IX.",
                 "✅ 192.0.2.153 is not used by another network at Example IX (PeeringDB).",
                 "✅ Cloudflare (AS13335): general peering policy Open.",
                 "✅ IPv4 prefix count known for the max-prefix: 3000.",
                 "✅ AS13335 is also at Example IX with IPv6 2001:db8::d:1"):
        assert line in summary, line
    assert "PeeringDB: Cloudflare" in summary
    assert "anyway" not in inputs(w.view)  # nothing failed
    also = inputs(w.view)["also"]["element"]
    assert also["options"][0]["text"]["text"] == "Also create the IPv6 session (2001:db8::d:1)"
    # max-prefix limits from PeeringDB's counts with the headroom (×1.2 + 10), for both
    # families since the IPv6 session is offered; editable here
    assert field_values(w, "max_prefixes_v4", "max_prefixes_v6") == ["3610", "1810"]
    assert "PeeringDB: 3,000 IPv4 prefixes × 1.2 + 10" in inputs(w.view)["max_prefixes_v4"]["hint"]["text"]
    answer = w.submit(also=["2001:db8::d:1"], max_prefixes_v4="lots")
    assert answer["response_action"] == "errors"
    assert list(answer["errors"].values()) == ["IPv4 max-prefix: a whole number from 1 to 10,000,000, or empty."]
    assert session_rows(bot.core) == []

    assert w.submit(also=["2001:db8::d:1"], max_prefixes_v4="3500")["response_action"] == "clear"
    bot.slack.wait_for("chat.postMessage", lambda c: "2001:db8::d:1" in text_of(c.args))
    rows = sorted(session_rows(bot.core), key=lambda r: r.address_family)
    assert [(r.peer_ip, r.peer.name, r.peer.asn, r.peer.peeringdb_net_id, r.as_set) for r in rows] == [
        ("192.0.2.153", "Cloudflare EU", 13335, 4224, "AS-CLOUDFLARE"),
        ("2001:db8::d:1", "Cloudflare EU", 13335, 4224, "AS-CLOUDFLARE")]
    assert [(r.max_prefixes_v4, r.max_prefixes_v6) for r in rows] == [(3500, 1810)] * 2
    assert rows[0].peer_id == rows[1].peer_id


def test_a_failed_check_needs_create_anyway_and_is_recorded(mirrored: RunningBot) -> None:
    bot = mirrored
    w = open_by_command(bot)
    to_step3(w)
    pick_network(w, "hurricane", "AS6939 Hurricane Electric")
    assert field_values(w, "peer_ip") == ["192.0.2.172"]
    w.next(peer_ip="192.0.2.152")  # Cloudflare's address at the exchange
    assert inputs(w.view)["as_set"]["element"]["initial_value"] == "AS-HURRICANE"  # RADB:: is the source
    w.next()
    summary = text_of(w.view["blocks"])
    assert "❌ PeeringDB lists AS6939 at Example IX with 192.0.2.172, not 192.0.2.152." in summary
    assert "❌ 192.0.2.152 is listed at Example IX for AS13335, not AS6939." in summary
    assert "⚠️ No IPv6 address for AS6939 at Example IX in PeeringDB (IPv4 only)." in summary
    assert "also" not in inputs(w.view)
    anyway = inputs(w.view)["anyway"]
    answer = w.submit()
    assert answer["response_action"] == "errors" and list(answer["errors"]) == [anyway["block_id"]]
    assert "Create anyway" in answer["errors"][anyway["block_id"]]
    assert session_rows(bot.core) == []
    assert w.submit(anyway=["anyway"])["response_action"] == "clear"
    [row] = session_rows(bot.core)
    assert (row.peer_ip, row.peer.asn, row.max_prefixes_v4, row.max_prefixes_v6) == ("192.0.2.152", 6939, 180010, None)
    with bot.core.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "session.preflight_override"))
        assert event.actor == "U111" and event.object_id == row.id
        assert event.after["failed_checks"] == [
            "❌ PeeringDB lists AS6939 at Example IX with 192.0.2.172, not 192.0.2.152.",
            "❌ 192.0.2.152 is listed at Example IX for AS13335, not AS6939."]


def test_editing_the_asn_unlinks_the_network(mirrored: RunningBot) -> None:
    bot = mirrored
    w = open_by_command(bot)
    to_step3(w)
    pick_network(w, "cloudflare", "AS13335 Cloudflare")
    w.next(peer_asn="AS64999", peer_ip="192.0.2.99")
    w.next()
    summary = text_of(w.view["blocks"])
    assert "PeeringDB: Cloudflare" not in summary and "AS64999 is not in the PeeringDB mirror" in summary
    # no PeeringDB count: the default (PEERBOT_MAX_PREFIX_DEFAULT_V4 1000) with the headroom
    assert "no PeeringDB count: default 1,000" in inputs(w.view)["max_prefixes_v4"]["hint"]["text"]
    assert w.submit()["response_action"] == "clear"
    [row] = session_rows(bot.core)
    assert row.peer.peeringdb_net_id is None and (row.max_prefixes_v4, row.max_prefixes_v6) == (1210, None)


def test_bad_max_prefix_is_an_inline_error(mirrored: RunningBot) -> None:
    w = open_by_command(mirrored)
    to_step3(w)
    w.next(peer_name="X", peer_asn="AS64999", peer_ip="192.0.2.99")
    w.next()
    block = inputs(w.view)["max_prefixes_v4"]["block_id"]
    assert "max_prefixes_v6" not in inputs(w.view)  # an IPv4 session, no second one offered
    answer = w.submit(max_prefixes_v4="0")
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {block: "IPv4 max-prefix: a whole number from 1 to 10,000,000, or empty."}
    assert session_rows(mirrored.core) == []
    assert w.submit(max_prefixes_v4="42")["response_action"] == "clear"
    assert session_rows(mirrored.core)[0].max_prefixes_v4 == 42


def test_selects_become_type_ahead_above_100_entries(bot: RunningBot) -> None:
    with bot.core.db.session() as s:
        for n in range(120):
            s.add(Exchange(name=f"IX-{n:03d}", lan_prefix_v4=f"10.{n}.0.0/24"))
    w = open_by_command(bot)
    b = inputs(w.view)["exchange"]
    assert b["element"]["type"] == "external_select"
    options = bot.send.suggestion(Action.WIZARD_EXCHANGE, "ix-11", block_id=b["block_id"], view=w.view).json()["options"]
    assert [o["text"]["text"] for o in options] == [f"IX-11{n}" for n in range(10)]
    options = bot.send.suggestion(Action.WIZARD_EXCHANGE, "", block_id=b["block_id"], view=w.view).json()["options"]
    assert len(options) == 100 and options[0]["text"]["text"] == "No Exchange"
    example = bot.send.suggestion(Action.WIZARD_EXCHANGE, "example", block_id=b["block_id"], view=w.view).json()["options"]
    w.next(type="public", exchange=example[0])
    assert w.state.exchange_id == ids(bot.core)["ix:EXAMPLE-IX"]
    # Previous shows the chosen exchange as the type-ahead's initial option.
    w.select("router", "edge1")
    w.previous()
    assert inputs(w.view)["exchange"]["element"]["initial_option"]["text"]["text"] == "EXAMPLE-IX"
    # peer groups: their router comes from the view's state
    w.next()
    r = bot.send.suggestion(Action.WIZARD_PEER_GROUP, "ix", block_id="b", view=w.view).json()["options"]
    assert [o["text"]["text"] for o in r] == ["IX-PEERS"]
    r = bot.send.suggestion(Action.WIZARD_ROUTER, "edge", block_id="b", view=w.view).json()["options"]
    assert [o["text"]["text"] for o in r] == ["edge1 (frr)", "edge2 (junos)"]
