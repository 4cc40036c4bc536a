"""One bot process that polls edge1 once and sends the notices (the two-process notice test).

    python -m tests.harness.run_notices DATABASE_URL SLACK_API_URL START_AT IP [IP ...]

Its in-memory router shows every IP as Idle. Waits until the epoch time START_AT (so two
processes race), polls edge1, sends what is pending, and prints how many notices it sent.
"""
from __future__ import annotations

import sys
import time

from slack_sdk import WebClient
from sqlalchemy import select

from bot.core import Core
from bot.notices.sender import NoticeSender
from bot.notices.poster import Notifier
from bot.changes.executor import Changes
from bot.core.settings import Settings
from handlers.views.notices import render_notice
from storage.models import Router
from tests.fake_router import FakeNeighbor, FakeRouter


def main() -> None:
    url, api_url, start_at, ips = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4:]
    router = FakeRouter(neighbors={ip: FakeNeighbor(remote_asn=65001, state="Idle") for ip in ips})
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="test-secret-key",
                                       PEERBOT_NOTIFY_CHANNEL="CNOC", PEERBOT_NOTIFY_SUMMARY_MIN=1000),
                              upgrade=False)
    sender = NoticeSender(core, Notifier(WebClient(token="xoxb-111-222-testtoken", base_url=api_url),
                                         min_interval=0.0), render_notice)
    with core.db.session() as s:
        edge1 = s.scalar(select(Router.id).where(Router.name == "edge1"))
    time.sleep(max(0.0, start_at - time.time()))
    Changes(core, driver_factory=router.factory).poll_router(edge1)
    sent = sender.deliver()
    while sender.outbox.pending():  # the other process was sending: wait for it, then check again
        time.sleep(0.2)
        sent += sender.deliver()
    print(sent, flush=True)
    core.db.dispose()


if __name__ == "__main__":
    main()
