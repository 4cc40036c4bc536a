"""The scheduled re-import: +/- per AS-SET and family, a change over
PEERBOT_IRR_MAX_CHANGE_PERCENT flagged and not applied, an accepted change turned into a
Configure request (actor "irr") for configured sessions, one summary in the notify channel."""
from __future__ import annotations

from collections.abc import Callable

from slack_sdk import WebClient
from sqlalchemy import select

from bot.core.access import IRR_ACTOR, Role
from bot.core import Core
from bot.irr.refresh import IrrRefresher
from bot.irr.service import IrrImports
from bot.notices.poster import Notifier
from bot.changes.requests import ChangeRequests
from handlers.views.irr import refresh_notice
from storage.models import AsSet, ChangeState, Session
from tests.factories import make_session
from tests.harness.bot import BOT_TOKEN, OPERATOR
from tests.harness.fake_slack import FakeSlack
from tests.irr.conftest import Irr

ROUTES = [f"198.18.{100 + 2 * i}.0/24" for i in range(5)]  # 5 entries, none aggregated


def _setup(make_irr_core: Callable[..., Core], irr: Irr, slack: FakeSlack) -> tuple[Core, IrrRefresher, int]:
    irr.data["as-set"]["AS-REFRESH"] = ["AS65610"]
    irr.data["route"]["AS65610"] = list(ROUTES)
    irr.publish()
    core = make_irr_core()
    configured = make_session(core, ip="192.0.2.10", asn="65610", name="Refresh Peer", as_set="AS-REFRESH")
    make_session(core, ip="192.0.2.11", asn="65610", name="Refresh Peer", as_set="AS-REFRESH")  # not configured
    make_session(core, ip="192.0.2.12", asn="65601", name="Example", as_set="AS-EXAMPLE")  # never imported yet
    assert IrrImports(core).import_set("AS-REFRESH", OPERATOR).ok  # before it was configured: no request
    with core.db.session() as s:
        s.get(Session, configured.id).configured = True
    notifier = Notifier(WebClient(token=BOT_TOKEN, base_url=slack.api_url), min_interval=0)
    refresher = IrrRefresher(IrrImports(core), max_change_percent=core.settings.irr_max_change_percent,
                             notifier=notifier, channel="CNOTIFY", render=refresh_notice)
    return core, refresher, configured.id


def _posted(slack: FakeSlack, refresher: IrrRefresher) -> list[str]:
    assert refresher.notifier.flush()
    return [str(c.args.get("blocks")) for c in slack.of("chat.postMessage") if c.args.get("channel") == "CNOTIFY"]


def test_accepted_change_becomes_a_change_request(make_irr_core: Callable[..., Core], irr: Irr, slack: FakeSlack) -> None:
    core, refresher, sid = _setup(make_irr_core, irr, slack)
    irr.data["route"]["AS65610"].append("198.18.120.0/24")  # +1 of 5: 20 %
    irr.publish()

    report = refresher.run_once()
    assert {r.name for r in report.results} == {"AS-REFRESH", "AS-EXAMPLE"}
    refresh = next(r for r in report.results if r.name == "AS-REFRESH")
    assert refresh.ok and not refresh.flagged
    v4 = refresh.changes[0]
    assert (v4.family, v4.added, v4.removed, v4.before) == (4, ("198.18.120.0/24",), (), 5)
    with core.db.session() as s:
        assert "198.18.120.0/24" in s.scalar(select(AsSet).where(AsSet.name == "AS-REFRESH")).prefixes_v4
    [rid] = refresh.request_ids
    request = ChangeRequests(core).get(rid)
    assert (request.action, request.requested_by, request.state) == ("configure", IRR_ACTOR, ChangeState.REQUESTED)
    assert request.session_ids == [sid]  # the configured session only
    commands = "\n".join(request.items[0].commands)
    assert "198.18.120.0/24" in commands and "prefix-list" in commands

    example = next(r for r in report.results if r.name == "AS-EXAMPLE")
    assert example.ok and example.first_import and example.request_ids == ()  # its session is not configured

    [notice] = _posted(slack, refresher)
    assert "AS-REFRESH*: IPv4 +1 −0, IPv6 +0 −0 → change request #%d" % rid in notice
    assert "AS-EXAMPLE*: first import (no configured session uses it)" in notice


def test_too_large_change_is_flagged_not_applied(make_irr_core: Callable[..., Core], irr: Irr, slack: FakeSlack) -> None:
    core, refresher, sid = _setup(make_irr_core, irr, slack)
    irr.data["route"]["AS65610"] = ROUTES[:3] + ["198.18.130.0/24"]  # +1 -2 of 5: 60 %
    irr.publish()

    report = refresher.run_once()
    [flagged] = report.flagged
    assert flagged.name == "AS-REFRESH" and flagged.request_ids == ()
    assert "IPv4 +1 -2 of 5 (60 %)" in flagged.error and "PEERBOT_IRR_MAX_CHANGE_PERCENT (30 %)" in flagged.error
    with core.db.session() as s:
        row = s.scalar(select(AsSet).where(AsSet.name == "AS-REFRESH"))
        assert sorted(row.prefixes_v4) == sorted(ROUTES) and row.last_error == flagged.error
    [notice] = _posted(slack, refresher)
    assert "Not applied: change too large" in notice and "AS-REFRESH" in notice

    # a person accepts it: a manual import stores it and asks for the Configure
    accepted = IrrImports(core).import_set("AS-REFRESH", OPERATOR)
    assert accepted.ok and len(accepted.request_ids) == 1
    assert ChangeRequests(core).get(accepted.request_ids[0]).requested_by == OPERATOR


def test_nothing_new_posts_nothing(make_irr_core: Callable[..., Core], irr: Irr, slack: FakeSlack) -> None:
    core, refresher, _ = _setup(make_irr_core, irr, slack)
    refresher.run_once()  # first import of AS-EXAMPLE: posted
    mark = len(_posted(slack, refresher))
    report = refresher.run_once()
    assert report.changed == [] and report.flagged == [] and report.failed == []
    assert len(_posted(slack, refresher)) == mark


def test_the_irr_actor_may_ask_but_never_approve(make_irr_core: Callable[..., Core]) -> None:
    core = make_irr_core()
    assert core.access.has(IRR_ACTOR, Role.OPERATOR)
    assert not core.access.has(IRR_ACTOR, Role.APPROVER) and not core.access.has(IRR_ACTOR, Role.ADMIN)


def test_the_schedule_follows_the_setting(make_irr_core: Callable[..., Core]) -> None:
    from bot.serve.scheduler import IRR_REFRESH_JOB, start_irr_refresh

    refresher = IrrRefresher(IrrImports(make_irr_core()), max_change_percent=30)
    assert start_irr_refresh(refresher, 0) is None  # PEERBOT_IRR_REFRESH_HOURS=0: off
    sched = start_irr_refresh(refresher, 24)
    try:
        job = sched.get_job(IRR_REFRESH_JOB)
        assert job.trigger.interval.total_seconds() == 24 * 3600
    finally:
        sched.shutdown(wait=False)
