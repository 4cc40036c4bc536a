"""A fleet of simulated FRR routers over real SSH (tests/harness/ssh_fleet.py) polled and changed
through the real netmiko driver: polls overlap, a hanging router only delays itself, a router
being changed is skipped, two processes poll each router once, and a bulk change talks to each
router once (one connection, one push, one save) with the routers side by side."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.changes.executor import Changes
from storage.models import AdminStatus, Session
from tests.harness.ssh_fleet import PASSWORD, PASSWORD_ENV, SshFleet, counting_factory, neighbor_ip, register

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fleet_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def tune(core: Core, **values: object) -> None:
    core.settings = core.settings.model_copy(update=values)


@pytest.fixture
def fleet20(core: Core) -> Iterator[tuple[Core, SshFleet, list[int]]]:
    with SshFleet(routers=20, sessions=5, hanging=1, connect_delay=0.1, command_delay=0.3) as fleet:
        ids = register(core.db, [r.port for r in fleet.routers], 5)
        tune(core, router_timeout=5.0, poll_timeout=3.0)
        yield core, fleet, ids


def test_twenty_routers_are_polled_side_by_side_and_a_hanging_one_only_delays_itself(fleet20) -> None:  # noqa: ANN001
    core, fleet, ids = fleet20
    results = Changes(core).poll_all()
    by_name = {r.router_name: r for r in results}
    assert len(results) == 21
    hanging = by_name["r21"]  # the last router registered is the one that never answers
    assert not hanging.ok and hanging.timed_out and not hanging.skipped
    assert "no answer within 3 s" in hanging.message
    assert all(r.ok and r.polled == 5 for name, r in by_name.items() if name != "r21"), [r.message for r in results]
    stats = fleet.on_loop(fleet.stats)
    assert stats["max_in_flight"]["commands"] > 1  # overlap, as the routers saw it
    assert [r["state_reads"] for r in stats["routers"][:20]] == [1] * 20
    with core.db.session() as s:
        states = {row.bgp_state for row in s.scalars(select(Session).where(Session.router_id != ids[-1]))}
    assert states == {"Established"}


def test_a_router_whose_ssh_read_times_out_is_reported_as_timed_out(core: Core) -> None:
    with SshFleet(routers=2, sessions=2, hanging=1, connect_delay=0, command_delay=0) as fleet:
        register(core.db, [r.port for r in fleet.routers], 2)
        tune(core, router_timeout=1.0, poll_timeout=30.0)  # the driver's own timeout comes first
        results = {r.router_name: r for r in Changes(core).poll_all()}
    assert results["r1"].ok and results["r2"].ok
    assert not results["r3"].ok and results["r3"].timed_out and "in time" in results["r3"].message


def test_a_router_being_changed_is_skipped_not_waited_for(core: Core) -> None:
    with SshFleet(routers=3, sessions=2, connect_delay=0, command_delay=0) as fleet:
        ids = register(core.db, [r.port for r in fleet.routers], 2)
        with core.locks.router(ids[1]):  # a change to r2 is running
            results = {r.router_name: r for r in Changes(core).poll_all()}
        stats = fleet.on_loop(fleet.stats)
    assert results["r2"].skipped and not results["r2"].ok and "change to it is in progress" in results["r2"].message
    assert results["r1"].ok and results["r3"].ok
    assert [r["state_reads"] for r in stats["routers"]] == [1, 0, 1]


def test_bulk_change_runs_routers_side_by_side_one_connection_one_push_one_save_each(core: Core) -> None:
    counts: dict = {}
    core.driver_factory = counting_factory(counts)
    with SshFleet(routers=4, sessions=10, connect_delay=0.1, command_delay=0.2) as fleet:
        register(core.db, [r.port for r in fleet.routers], 10)
        with core.db.session() as s:
            sids = list(s.scalars(select(Session.id).order_by(Session.id)))
        results = Changes(core).run("admin_down", sids, "U111")
        stats = fleet.on_loop(fleet.stats)
    assert all(r.ok for r in results), [r.message for r in results if not r.ok]
    assert len(results) == 40
    for router in stats["routers"]:
        assert counts[router["port"]] == {"connect": 1, "push": 1, "save": 1, "neighbors": 1}  # was 13 calls
        assert (router["connections"], router["config_sessions"], router["saves"]) == (1, 1, 1)
        assert len(router["admin_down"]) == 10  # every session's lines reached the router
    assert stats["max_in_flight"]["connections"] > 1  # the routers' groups overlapped
    with core.db.session() as s:
        assert {row.admin_status for row in s.scalars(select(Session))} == {AdminStatus.DOWN}


def test_bulk_change_with_a_refused_line_fails_that_session_cleanly(core: Core) -> None:
    with SshFleet(routers=2, sessions=3, connect_delay=0, command_delay=0) as fleet:
        register(core.db, [r.port for r in fleet.routers], 3)
        bad_ip = neighbor_ip(1)
        fleet.routers[0].refuse = f"neighbor {bad_ip} shutdown"  # r1 refuses one session's line
        with core.db.session() as s:
            sids = {(row.router.name, row.peer_ip): row.id for row in s.scalars(select(Session))}
        results = {r.session_id: r for r in Changes(core).run("admin_down", list(sids.values()), "U111")}
        stats = fleet.on_loop(fleet.stats)
    refused = results[sids[("r1", bad_ip)]]
    assert not refused.ok and "rejected" in refused.message and "The database was not changed" in refused.message
    assert all(r.ok for sid, r in results.items() if sid != refused.session_id)
    r1 = stats["routers"][0]
    assert r1["admin_down"] == sorted([neighbor_ip(0), neighbor_ip(2)]) and r1["saves"] == 1
    with core.db.session() as s:
        assert s.get(Session, refused.session_id).admin_status == AdminStatus.UP  # as on the router


@pytest.mark.postgres
def test_two_processes_poll_each_router_once_per_interval(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("two processes share one database through PostgreSQL")
    from bot.core.settings import Settings

    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=database_url, PEERBOT_SECRET_KEY="test-secret-key"))
    try:
        with SshFleet(routers=6, sessions=3, connect_delay=0.1, command_delay=0.2) as fleet:
            register(core.db, [r.port for r in fleet.routers], 3)
            start_at = time.time() + 4
            procs = [subprocess.Popen([sys.executable, "-m", "tests.harness.run_poll", database_url, "300",
                                       str(start_at)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, env={**__import__("os").environ, PASSWORD_ENV: PASSWORD})
                     for _ in range(2)]
            outs = [p.communicate(timeout=120) for p in procs]
            stats = fleet.on_loop(fleet.stats)
    finally:
        core.db.dispose()
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    reports = [json.loads(o[0].strip().splitlines()[-1]) for o in outs]
    polled = sorted(name for r in reports for name in r["polled"])
    assert polled == sorted(f"r{i}" for i in range(1, 7)), reports  # each router by one process
    assert not any(r["failed"] for r in reports), reports
    assert [r["state_reads"] for r in stats["routers"]] == [1] * 6  # as the routers saw it
