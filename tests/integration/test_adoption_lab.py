"""Adopting a running network, against the real FRR lab: neighbors configured by hand with vtysh
are discovered and imported by `peerbot routers discover --import` (a real process), polled to
their state, and a hand change afterwards shows up as drift whose Adopt and Fix (an approved
change request) both leave router and database in step."""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.adoption.drift import Drift
from bot.base.errors import Conflict
from bot.changes.requests import ChangeRequests
from bot.core import Core
from bot.core.settings import Settings
from bot.notices.outbox import Outbox
from bot.sessions.inventory import load_inventory
from handlers.views.notices import render_notice
from storage.models import AuditEvent, ChangeState, Session
from tests.cli.test_cli import ROOT, run
from tests.harness.bot import APPROVER, OPERATOR

pytestmark = pytest.mark.lab


def hand_made(lab) -> None:  # noqa: ANN001
    """What an engineer configured before peerbot: a peer-group member with a description
    holding a CLI metacharacter, one with a password + prefix-list + maximum-prefix, a public
    AS shut down, an IPv6 one with a limit (the lab's baseline neighbors come on top)."""
    v4, md5, v6 = lab.spares["v4"], lab.spares["v4_md5"], lab.spares["v6"]
    lab.vtysh("r1", ["configure terminal", "ip prefix-list HANDMADE-IN seq 5 permit 203.0.113.0/24 le 25"])
    lab.configure("r1",
                  f"neighbor {v4.peer_ip} remote-as {lab.peer.asn}", f"neighbor {v4.peer_ip} peer-group TRANSIT",
                  f"neighbor {v4.peer_ip} description Peer One; Inc AS{lab.peer.asn}",
                  f"neighbor {md5.peer_ip} remote-as {lab.peer.asn}", f"neighbor {md5.peer_ip} password {md5.md5}",
                  f"neighbor {md5.peer_ip} timers connect 1",
                  "neighbor 198.18.0.1 remote-as 13335", "neighbor 198.18.0.1 shutdown",
                  f"neighbor {v6.peer_ip} remote-as {lab.peer.asn}", f"neighbor {v6.peer_ip} timers connect 1",
                  "address-family ipv4 unicast", f"neighbor {md5.peer_ip} prefix-list HANDMADE-IN in",
                  f"neighbor {md5.peer_ip} maximum-prefix 100", f"no neighbor {v6.peer_ip} activate",
                  "exit-address-family",
                  "address-family ipv6 unicast", f"neighbor {v6.peer_ip} activate",
                  f"neighbor {v6.peer_ip} maximum-prefix 50", "exit-address-family")


def test_discover_import_poll_drift_adopt_fix(clean_lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    lab = clean_lab
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", lab.password)  # this process reads the router too
    v4, md5, v6 = lab.spares["v4"], lab.spares["v4_md5"], lab.spares["v6"]
    url = f"sqlite:///{tmp_path}/adopt-lab.db"
    settings = Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="adopt-key", PEERBOT_NOTIFY_CHANNEL="C0NOTIFY",
                        PEERBOT_OPERATORS=OPERATOR, PEERBOT_APPROVERS=APPROVER, PEERBOT_POLL_PROCESSES=0)
    core = Core.from_settings(settings)
    load_inventory(core.db, ROOT / "tests" / "data" / "inventory.yml")
    env = {"PEERBOT_DATABASE_URL": url, "PEERBOT_SECRET_KEY": "adopt-key", "LOGNAME": "alice",
           "PEERBOT_TEST_ROUTER_PASSWORD": lab.password}
    try:
        hand_made(lab)
        lab.wait_state(v4.peer_ip, "Established", timeout=60)

        p = run(["routers", "discover", "edge1"], env, timeout=120)
        assert p.returncode == 0, p.stderr
        assert "edge1: 6 new neighbor(s), 0 already known, 0 differ" in p.stdout, p.stdout
        assert md5.md5 not in p.stdout + p.stderr
        p = run(["routers", "discover", "edge1", "--import"], env, timeout=120)
        assert p.returncode == 0, p.stderr
        assert "edge1: 6 session(s) imported, 0 already known" in p.stdout, p.stdout
        again = run(["routers", "discover", "edge1", "--import"], env, timeout=120)
        assert "0 new neighbor(s), 6 already known, 0 differ" in again.stdout, again.stdout  # idempotent

        with core.db.session() as s:
            rows = {r.peer_ip: r for r in s.scalars(select(Session))}
            assert set(rows) == {v4.peer_ip, md5.peer_ip, "198.18.0.1", v6.peer_ip, *lab.baseline_peer_ips}
            assert rows[v4.peer_ip].peer.name == "Peer One Inc" and rows[v4.peer_ip].peer_group.name == "TRANSIT"
            assert rows[v4.peer_ip].exchange.name == "EXAMPLE-IX"
            assert rows[md5.peer_ip].md5_unknown and rows[md5.peer_ip].prefix_filter == "HANDMADE-IN"
            assert rows[md5.peer_ip].max_prefixes_v4 == 100
            assert rows["198.18.0.1"].exchange.is_none and rows["198.18.0.1"].admin_status.value == "down"
            assert rows[v6.peer_ip].max_prefixes_v6 == 50 and rows[v6.peer_ip].address_family == 6
            assert len(list(s.scalars(select(AuditEvent).where(AuditEvent.action == "session.import",
                                                               AuditEvent.actor == "cli:alice")))) == 6
            md5_id, v4_id = rows[md5.peer_ip].id, rows[v4.peer_ip].id

        lab.wait_state(md5.peer_ip, "Established", timeout=60)
        lab.wait_state(v6.peer_ip, "Established", timeout=60)
        assert run(["refresh", "edge1"], env, timeout=120).returncode == 0
        listed = run(["sessions", "list"], env).stdout
        assert "Peer One Inc" in listed and "Established" in listed, listed
        with core.db.session() as s:
            assert s.get(Session, v4_id).bgp_state == "Established"
            assert s.get(Session, md5_id).bgp_state == "Established"

        # a key peerbot cannot read: Configure would drop it, so it is refused
        with pytest.raises(Conflict, match="cannot read"):
            ChangeRequests(core).request(OPERATOR, "configure", [md5_id])

        # by hand on the router: a new limit (Adopt it) and a shutdown (Fix it)
        lab.configure("r1", "address-family ipv4 unicast", f"neighbor {md5.peer_ip} maximum-prefix 200",
                      "exit-address-family")
        lab.configure("r1", f"neighbor {v4.peer_ip} shutdown")
        drift = Drift(core)
        report = drift.check()
        edge1 = next(r for r in report if r.router == "edge1")
        assert edge1.ok, edge1.error
        items = {i.peer_ip: i for i in edge1.items}
        assert set(items) == {md5.peer_ip, v4.peer_ip}, edge1.items
        assert items[md5.peer_ip].differences == ("max-prefix limit: router 200, peerbot 100",)
        assert items[v4.peer_ip].differences == ("admin state: router shut down, peerbot up",)
        assert edge1.reported
        notice = Outbox(core.db, "test").claim(Outbox(core.db, "test").pending()[0][0])
        text = str(render_notice(notice))
        assert "drift_adopt" in text and "drift_fix" in text and v4.peer_ip in text

        assert "router's values" in drift.adopt(OPERATOR, items[md5.peer_ip].id)
        with core.db.session() as s:
            assert s.get(Session, md5_id).max_prefixes_v4 == 200

        requests = ChangeRequests(core)
        fix = drift.fix(OPERATOR, items[v4.peer_ip].id)
        assert fix.state == ChangeState.REQUESTED
        requests.approve(fix.id, APPROVER)
        done = requests.run(fix.id)
        assert done.state == ChangeState.DONE, done.outcome
        drift.after_change(done)
        running = lab.vtysh("r1", "show running-config")
        assert f"neighbor {v4.peer_ip} shutdown" not in running
        assert f"neighbor {v4.peer_ip} peer-group TRANSIT" in running
        assert f"neighbor {md5.peer_ip} maximum-prefix 200" in running and f"neighbor {md5.peer_ip} password" in running
        assert f"neighbor {md5.peer_ip} prefix-list HANDMADE-IN in" in running
        lab.wait_state(v4.peer_ip, "Established", timeout=60)
        final = next(r for r in drift.check() if r.router == "edge1")
        assert final.ok and final.items == (), final.items

        # by hand: a key and an inbound filter peerbot's session does not have; Fix removes both
        lab.configure("r1", f"neighbor {v4.peer_ip} password by-hand-key-1", "address-family ipv4 unicast",
                      f"neighbor {v4.peer_ip} prefix-list HANDMADE-IN in", "exit-address-family")
        item = next(i for i in next(r for r in drift.check() if r.router == "edge1").items if i.peer_ip == v4.peer_ip)
        assert set(item.differences) == {"inbound filter: router HANDMADE-IN, peerbot none",
                                         "password: router a TCP-MD5 key, peerbot no TCP-MD5 key"}
        fix = drift.fix(OPERATOR, item.id)
        assert fix.action == "config_push" and f"no neighbor {v4.peer_ip} password" in fix.items[0].commands
        requests.approve(fix.id, APPROVER)
        done = requests.run(fix.id)
        assert done.state == ChangeState.DONE, done.outcome
        running = lab.vtysh("r1", "show running-config")
        assert f"neighbor {v4.peer_ip} password" not in running
        assert f"neighbor {v4.peer_ip} prefix-list" not in running
        assert f"neighbor {md5.peer_ip} prefix-list HANDMADE-IN in" in running  # the other neighbor's stays
        lab.wait_state(v4.peer_ip, "Established", timeout=60)
        assert next(r for r in drift.check() if r.router == "edge1").items == ()
    finally:
        lab.vtysh("r1", ["configure terminal", "no ip prefix-list HANDMADE-IN"], check=False)
        core.db.dispose()
