"""Run one approved change request in a process of its own (the two-process test).

    python -m tests.harness.run_request DATABASE_URL REQUEST_ID PUSH_LOG START_AT

Builds a Core on DATABASE_URL with an in-memory router whose pushes are appended to PUSH_LOG,
waits until the epoch time START_AT (so two processes race), runs the request, and prints its
state (or "not mine").
"""
from __future__ import annotations

import json
import sys
import time

from bot.core import Core
from bot.changes.requests import ChangeRequests
from bot.core.settings import Settings
from tests.fake_router import FakeRouter


def main() -> None:
    url, request_id, push_log, start_at = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
    router = FakeRouter()
    original_apply = router.apply

    def recording_apply(line: str) -> None:
        with open(push_log, "a") as fh:
            fh.write(json.dumps({"line": line}) + "\n")
        time.sleep(0.05)  # a slow router widens any window two runners could share
        original_apply(line)

    router.apply = recording_apply  # type: ignore[method-assign]
    core = Core.from_settings(Settings(PEERBOT_DATABASE_URL=url, PEERBOT_SECRET_KEY="test-secret-key"), upgrade=False)
    core.driver_factory = router.factory
    time.sleep(max(0.0, start_at - time.time()))
    view = ChangeRequests(core).run(request_id)
    print(view.state.value if view is not None else "not mine", flush=True)
    core.db.dispose()


if __name__ == "__main__":
    main()
