"""Change requests in the service (bot/changes/requests.py) on SQLite and PostgreSQL:
roles, four eyes, exactly once (threads and two OS processes), expiry, staleness, restarts."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.core.access import Role
from bot.core import Core
from bot.base.errors import Conflict, InvalidInput, PermissionDenied
from bot.changes.requests import UNKNOWN_OUTCOME, ChangeRequests
from bot.sessions.inventory import load_inventory
from storage.models import AuditEvent, ChangeRequest, ChangeState, Session, utcnow
from tests.conftest import INVENTORY
from tests.factories import make_session
from tests.fake_router import FakeRouter
from tests.harness.bot import ADMIN, APPROVER, OPERATOR, VIEWER, settings_for

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(database_url: str, slack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("PEERBOT_TEST_ROUTER_PASSWORD", "router-login-pw-123")
    core = Core.from_settings(settings_for(database_url, slack, tmp_path))
    load_inventory(core.db, INVENTORY)
    router = FakeRouter()
    core.driver_factory = router.factory
    yield core, router, ChangeRequests(core)
    core.db.dispose()


def state(core: Core, rid: int) -> ChangeState:
    with core.db.session() as s:
        return ChangeState(s.get(ChangeRequest, rid).state)


def test_operator_asks_approver_approves_then_it_runs(env) -> None:  # noqa: ANN001
    core, router, requests = env
    v = make_session(core, ip="192.0.2.10")
    req = requests.request(OPERATOR, "configure", [v.id])
    assert req.state == ChangeState.REQUESTED and req.needs_approval
    assert "neighbor 192.0.2.10 remote-as 65601" in req.items[0].commands
    assert requests.run(req.id) is None and router.pushes == []  # not approved: does not run
    assert requests.approve(req.id, APPROVER).state == ChangeState.APPROVED
    done = requests.run(req.id)
    assert done.state == ChangeState.DONE and "Configured 192.0.2.10" in done.outcome
    assert len(router.pushes) == 1
    with core.db.session() as s:
        assert s.get(Session, v.id).configured
        actions = [e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.object_type == "change_request"))]
    assert actions == ["change.requested", "change.approved", "change.started", "change.done"]


def test_roles_and_four_eyes(env) -> None:  # noqa: ANN001
    core, router, requests = env
    v = make_session(core, ip="192.0.2.10")
    with pytest.raises(PermissionDenied, match="operator"):
        requests.request(VIEWER, "configure", [v.id])
    with core.db.session() as s:
        assert s.scalar(select(ChangeRequest.id)) is None  # nothing stored
    req = requests.request(OPERATOR, "configure", [v.id])
    with pytest.raises(PermissionDenied, match="approver role"):
        requests.approve(req.id, OPERATOR)  # the requester, and no approver
    with pytest.raises(PermissionDenied, match="approver"):
        requests.approve(req.id, VIEWER)
    own = requests.request(ADMIN, "admin_down", [make_session(core, ip="192.0.2.11").id])
    with pytest.raises(PermissionDenied, match="another approver"):
        requests.approve(own.id, ADMIN)  # an admin may approve, but never their own request
    with pytest.raises(PermissionDenied, match="cancel someone else"):
        requests.cancel(req.id, APPROVER)
    assert requests.cancel(req.id, ADMIN).state == ChangeState.CANCELLED
    assert router.pushes == []


def test_deny_by_default_without_roles_and_open_mode(database_url: str, slack, tmp_path: Path) -> None:  # noqa: ANN001
    from bot.core.access import Access, Role

    closed = Access()
    assert closed.roles_of("U123") == {Role.VIEWER}
    with pytest.raises(PermissionDenied, match="No roles are configured"):
        closed.require("U123", Role.OPERATOR, "configure")
    assert Access(open_mode=True).has("U123", Role.APPROVER)
    assert Access().roles_of("cli:alice") == {Role.OPERATOR, Role.VIEWER}
    groups = Access(operators=frozenset({"S0NETOPS"}))
    groups.use_slack_groups(lambda g: ["U777"] if g == "S0NETOPS" else [])
    assert groups.has("U777", Role.OPERATOR) and not groups.has("U778", Role.OPERATOR)


def test_double_and_concurrent_approvals_run_once(env) -> None:  # noqa: ANN001
    core, router, requests = env
    v = make_session(core, ip="192.0.2.10")
    req = requests.request(OPERATOR, "configure", [v.id])
    core.access.members[Role.APPROVER] = frozenset({APPROVER, "U333"})  # two approvers at once
    outcomes: list[object] = []
    barrier = threading.Barrier(4)

    def approve_and_run(user: str) -> None:
        barrier.wait()
        try:
            requests.approve(req.id, user)
            outcomes.append("approved")
        except Conflict:
            outcomes.append("conflict")
        outcomes.append(requests.run(req.id))

    threads = [threading.Thread(target=approve_and_run, args=(u,)) for u in (APPROVER, "U333", APPROVER, "U333")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert outcomes.count("approved") == 1 and outcomes.count("conflict") == 3
    ran = [o for o in outcomes if o not in ("approved", "conflict") and o is not None]
    assert len(ran) == 1 and ran[0].state == ChangeState.DONE
    assert len(router.pushes) == 1


def test_idempotency_key_makes_one_request(env) -> None:  # noqa: ANN001
    core, _, requests = env
    v = make_session(core, ip="192.0.2.10")
    a = requests.request(OPERATOR, "configure", [v.id], idempotency_key="session_configure:U111:1700.1")
    b = requests.request(OPERATOR, "configure", [v.id], idempotency_key="session_configure:U111:1700.1")
    assert a.id == b.id
    with pytest.raises(Conflict, match="already has request"):  # a different click while it waits
        requests.request(OPERATOR, "configure", [v.id], idempotency_key="session_configure:U111:1700.2")


def test_reject_needs_a_reason_and_ends_the_request(env) -> None:  # noqa: ANN001
    core, router, requests = env
    req = requests.request(OPERATOR, "configure", [make_session(core, ip="192.0.2.10").id])
    with pytest.raises(InvalidInput):
        requests.reject(req.id, APPROVER, " \n ")
    out = requests.reject(req.id, APPROVER, "wrong peer group\x07")
    assert out.state == ChangeState.REJECTED and out.reason == "wrong peer group" and out.decided_by == APPROVER
    with pytest.raises(Conflict):
        requests.approve(req.id, APPROVER)
    assert router.pushes == []


def test_expired_request_cannot_be_approved(env) -> None:  # noqa: ANN001
    core, router, requests = env
    req = requests.request(OPERATOR, "configure", [make_session(core, ip="192.0.2.10").id])
    other = requests.request(OPERATOR, "configure", [make_session(core, ip="192.0.2.11").id])
    with core.db.session() as s:
        s.execute(update(ChangeRequest).values(expires_at=utcnow() - timedelta(seconds=1)))
    with pytest.raises(Conflict, match="not approved in time"):
        requests.approve(req.id, APPROVER)
    assert state(core, req.id) == ChangeState.EXPIRED
    assert requests.expire_due() == [other.id]  # the sweep expires the rest
    assert router.pushes == []


def test_request_goes_stale_when_the_session_changes(env) -> None:  # noqa: ANN001
    core, router, requests = env
    v = make_session(core, ip="192.0.2.10")
    req = requests.request(OPERATOR, "configure", [v.id])
    with core.db.session() as s:
        s.get(Session, v.id).local_asn = 64501  # edited meanwhile: another `router bgp` line
    with pytest.raises(Conflict, match="changed since it was requested"):
        requests.approve(req.id, APPROVER)
    assert state(core, req.id) == ChangeState.EXPIRED
    # approved, then edited before a worker ran it: not run either
    req = requests.request(OPERATOR, "configure", [v.id])
    requests.approve(req.id, APPROVER)
    with core.db.session() as s:
        s.get(Session, v.id).local_asn = 64500
    out = requests.run(req.id)
    assert out.state == ChangeState.FAILED and "nothing was sent" in out.outcome and router.pushes == []


def test_policy_skip_and_database_only_requests_need_no_approval(env, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    core, router, requests = env
    v = make_session(core, ip="192.0.2.10")
    db_only = requests.request(OPERATOR, "admin_down", [v.id])  # not configured: touches no router
    assert db_only.state == ChangeState.APPROVED and not db_only.needs_approval
    assert requests.run(db_only.id).state == ChangeState.DONE and router.pushes == []
    monkeypatch.setattr(core.settings, "approval_skip", "configure")
    emergency = requests.request(OPERATOR, "configure", [v.id])
    assert emergency.state == ChangeState.APPROVED and emergency.decided_by == "policy"
    assert requests.run(emergency.id).state == ChangeState.DONE and len(router.pushes) == 1


def test_restart_between_request_and_approval(env, slack, tmp_path: Path) -> None:  # noqa: ANN001
    core, router, requests = env
    req = requests.request(OPERATOR, "configure", [make_session(core, ip="192.0.2.10").id])
    core.db.dispose()
    fresh = Core.from_settings(settings_for(core.settings.database_url, slack, tmp_path))  # a new process
    fresh.driver_factory = router.factory
    again = ChangeRequests(fresh)
    again.approve(req.id, APPROVER)
    assert again.run(req.id).state == ChangeState.DONE and len(router.pushes) == 1
    fresh.db.dispose()


def test_restart_while_running_reports_outcome_unknown(env) -> None:  # noqa: ANN001
    core, router, requests = env
    v = make_session(core, ip="192.0.2.10")
    req = requests.request(OPERATOR, "configure", [v.id])
    requests.approve(req.id, APPROVER)
    # a process claimed it and died mid-push: `running`, its router lock gone with it
    with core.db.session() as s:
        s.execute(update(ChangeRequest).where(ChangeRequest.id == req.id).values(state=ChangeState.RUNNING))
    # while a live runner holds the router, the request is not touched
    assert core.locks.try_router(req.router_ids[0])
    try:
        assert threading_result(requests.recover) == []
    finally:
        core.locks.release_router(req.router_ids[0])
    found = requests.recover()
    assert [f.id for f in found] == [req.id] and found[0].outcome == UNKNOWN_OUTCOME
    assert state(core, req.id) == ChangeState.FAILED
    with core.db.session() as s:
        assert "outcome unknown" in s.get(Session, v.id).last_error


def threading_result(fn):  # noqa: ANN001, ANN201
    """fn() on another thread (the in-process router lock is re-entrant for its holder)."""
    out: list = []
    t = threading.Thread(target=lambda: out.append(fn()))
    t.start()
    t.join(10)
    return out[0]


@pytest.mark.postgres
def test_two_processes_run_an_approved_request_once(env, tmp_path: Path) -> None:  # noqa: ANN001
    core, _, requests = env
    if not core.settings.database_url.startswith("postgresql"):
        pytest.skip("two processes share one database through PostgreSQL")
    v = make_session(core, ip="192.0.2.10")
    req = requests.request(OPERATOR, "configure", [v.id])
    requests.approve(req.id, APPROVER)
    log = tmp_path / "pushes.jsonl"
    start_at = time.time() + 3
    procs = [subprocess.Popen([sys.executable, "-m", "tests.harness.run_request", core.settings.database_url,
                               str(req.id), str(log), str(start_at)], cwd=ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**__import__("os").environ, "PEERBOT_TEST_ROUTER_PASSWORD": "x"})
             for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1][-2000:] for o in outs]
    results = sorted(o[0].strip() for o in outs)
    assert results == ["done", "not mine"], outs
    lines = log.read_text().splitlines()
    assert sum('remote-as 65601' in ln for ln in lines) == 1  # the router saw the change once
    assert state(core, req.id) == ChangeState.DONE


def test_results_are_kept_per_session(env) -> None:  # noqa: ANN001
    core, router, requests = env
    ids = [make_session(core, ip=f"192.0.2.{n}", asn=str(65600 + n)).id for n in (10, 11)]
    router.reject_line = r"192\.0\.2\.11 remote-as"
    req = requests.request(OPERATOR, "configure", ids)
    requests.approve(req.id, APPROVER)
    out = requests.run(req.id)
    assert out.state == ChangeState.FAILED and "1 of 2 session(s) done" in out.outcome
    by_session = {i.session_id: i for i in requests.get(req.id).items}
    assert by_session[ids[0]].ok is True and "Configured 192.0.2.10" in by_session[ids[0]].result
    assert by_session[ids[1]].ok is False and "rejected" in by_session[ids[1]].result


@pytest.mark.postgres
def test_two_requests_for_one_session_asked_at_once_store_one(env, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    """bench/limits.py (issue 19): 50 Admin Down clicks at once stored two requests for one
    session: both read "nothing open" before either was committed. The first is held here
    between storing and committing; the second must wait for it, then find it open."""
    core, _, requests = env
    if not core.settings.database_url.startswith("postgresql"):
        pytest.skip("concurrent transactions: PostgreSQL")
    import bot.changes.requests as module
    from sqlalchemy import text

    v = make_session(core, ip="192.0.2.10")
    real_store, stored, go = module.store, threading.Event(), threading.Event()

    def store_then_hold(*args, **kw):  # noqa: ANN002, ANN003, ANN202
        view = real_store(*args, **kw)
        if not stored.is_set():  # the first request only: flushed, not committed yet
            stored.set()
            go.wait(10)
        return view

    monkeypatch.setattr(module, "store", store_then_hold)
    outcomes: dict[str, object] = {}

    def ask(name: str, key: str) -> None:
        try:
            outcomes[name] = requests.request(OPERATOR, "configure", [v.id], idempotency_key=key).id
        except Conflict as exc:
            outcomes[name] = exc

    first = threading.Thread(target=ask, args=("first", "configure:U111:1.1"))
    first.start()
    assert stored.wait(10)
    second = threading.Thread(target=ask, args=("second", "configure:U111:1.2"))
    second.start()
    deadline = time.monotonic() + 10
    while second.is_alive() and time.monotonic() < deadline:  # until it waits for the first's lock
        with core.db.engine.connect() as c:
            if c.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                             "AND datname = current_database()")):
                break
        time.sleep(0.05)
    go.set()
    first.join(10)
    second.join(10)
    assert isinstance(outcomes["first"], int)
    assert isinstance(outcomes["second"], Conflict) and "already has request" in str(outcomes["second"])
    with core.db.session() as s:
        assert len(list(s.scalars(select(ChangeRequest)))) == 1
