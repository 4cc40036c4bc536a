"""Step 4 of the wizard through signed requests against the running bot, the fake Slack API
and bgpq4 asking the fake IRRd: Validate, Import (ack, "importing", result by views.update),
errors shown in the step, Previous/Next still working, a late result never clobbering a view
that moved on."""
from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Core
from handlers.ids import Action, Callback
from storage.models import AsSet
from tests.harness.bot import VIEWER, RunningBot, settings_for, start_bot
from tests.harness.fake_slack import FakeSlack
from tests.irr.conftest import INVENTORY, Irr
from tests.slack.test_wizard import Wizard, inputs, open_by_command, text_of, to_step3, values_for


@pytest.fixture
def irr_bot(sqlite_url: str, slack: FakeSlack, tmp_path: Path, irr: Irr) -> Iterator[RunningBot]:
    from bot.sessions.inventory import load_inventory

    core = Core.from_settings(settings_for(sqlite_url, slack, tmp_path, PEERBOT_IRR_HOST=irr.host))
    load_inventory(core.db, INVENTORY)
    running = start_bot(core, slack)
    yield running
    running.stop()
    core.db.dispose()


def _at_step4(bot: RunningBot) -> Wizard:
    w = open_by_command(bot)
    to_step3(w)
    w.next(peer_name="Example", peer_asn="65601", peer_ip="192.0.2.30")
    assert w.state.step == 4
    return w


def _import(w: Wizard, as_set: str, *, user: str = "U111") -> tuple[dict, dict]:
    """Click Import; return the "importing" update and the result update."""
    slack = w.bot.slack
    mark = slack.mark()
    r = w.bot.send.view_action(w.view, {"type": "button", "action_id": Action.WIZARD_AS_SET_IMPORT, "value": "import"},
                               values_for(w.view, as_set=as_set), user=user, view_id=w.view_id)
    assert r.status_code == 200
    importing = slack.wait_for("views.update", lambda c: "Importing" in text_of(c.args["view"]), after=mark)
    result = slack.wait_for("views.update", lambda c: "Importing" not in text_of(c.args["view"]), after=mark)
    return importing.args, result.args


def _as_set(bot: RunningBot, name: str) -> AsSet | None:
    with bot.core.db.session() as s:
        return s.scalar(select(AsSet).where(AsSet.name == name))


def test_validate_import_validate(irr_bot: RunningBot) -> None:
    w = _at_step4(irr_bot)
    w.button(Action.WIZARD_AS_SET_VALIDATE, as_set="as-example")
    assert "AS-EXAMPLE* is not known locally: *Import* it" in text_of(w.view["blocks"])

    importing, result = _import(w, "as-example")
    assert "Importing *AS-EXAMPLE* from 127.0.0.1:" in text_of(importing["view"]["blocks"])
    assert importing["hash"]  # hash-checked against the view the click came from
    assert result["hash"] and result["hash"] != importing["hash"]  # ... and the result against "importing"
    w.view = result["view"]
    text = text_of(w.view["blocks"])
    assert "*AS-EXAMPLE* imported: 2 IPv4 / 2 IPv6 prefixes from 127.0.0.1:" in text
    metadata = w.view["private_metadata"]
    assert len(metadata) < 300 and "203.0.113" not in metadata and "2001:db8" not in metadata
    assert inputs(w.view)["as_set"]["element"]["initial_value"] == "as-example"
    assert _as_set(irr_bot, "AS-EXAMPLE").count_v4 == 2

    w.button(Action.WIZARD_AS_SET_VALIDATE, as_set="AS-EXAMPLE")
    assert "*AS-EXAMPLE* is known locally: 2 IPv4 / 2 IPv6 prefixes, imported" in text_of(w.view["blocks"])

    w.previous()  # Previous and Next still work after an import
    assert w.state.step == 3
    w.next()
    w.next(as_set="AS-EXAMPLE")
    assert w.state.step == 5 and "AS-EXAMPLE" in text_of(w.view["blocks"])


@pytest.mark.parametrize(("as_set", "reason"), [
    ("AS-EMPTY", "*AS-EMPTY* was not imported: AS-EMPTY is empty at 127.0.0.1:"),
    ("AS-NOPE", "*AS-NOPE* was not imported: AS-NOPE is not known at 127.0.0.1:"),
])
def test_import_errors_are_shown_in_the_step(irr_bot: RunningBot, as_set: str, reason: str) -> None:
    w = _at_step4(irr_bot)
    _, result = _import(w, as_set)
    assert result["view"]["callback_id"] == Callback.WIZARD  # still the wizard, not an error modal
    assert ":x: " + reason in text_of(result["view"]["blocks"])
    assert _as_set(irr_bot, as_set) is None


def test_a_viewer_cannot_import(irr_bot: RunningBot) -> None:
    w = _at_step4(irr_bot)
    mark = irr_bot.slack.mark()
    w.bot.send.view_action(w.view, {"type": "button", "action_id": Action.WIZARD_AS_SET_IMPORT, "value": "import"},
                           values_for(w.view, as_set="AS-EXAMPLE"), user=VIEWER, view_id=w.view_id)
    call = irr_bot.slack.wait_for("views.update", after=mark)
    assert "not allowed to import AS-SETs" in text_of(call.args["view"])
    assert irr_bot.core.db and _as_set(irr_bot, "AS-EXAMPLE") is None


def test_a_late_result_does_not_clobber_a_view_that_moved_on(irr_bot: RunningBot, irr: Irr) -> None:
    w = _at_step4(irr_bot)
    slack = irr_bot.slack
    release = threading.Event()
    irr.server.log = lambda query: release.wait(30)  # the IRR answers only when the test says so
    mark = slack.mark()
    w.bot.send.view_action(w.view, {"type": "button", "action_id": Action.WIZARD_AS_SET_IMPORT, "value": "import"},
                           values_for(w.view, as_set="AS-TWELVE"), view_id=w.view_id)
    slack.wait_for("views.update", lambda c: "Importing" in text_of(c.args["view"]), after=mark)
    slack.fail_methods["views.update"] = "hash_conflict"  # the user clicked Next meanwhile: the hash moved on
    release.set()
    late = slack.wait_for("views.update", lambda c: "imported" in text_of(c.args["view"]), after=mark)
    assert late.args["hash"]  # it was checked, and Slack refused it: the user's view stays
    deadline = time.monotonic() + 10
    while _as_set(irr_bot, "AS-TWELVE") is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _as_set(irr_bot, "AS-TWELVE").count_v4 == 12  # stored all the same
    irr_bot.app.runner.workers.shutdown(wait=True)  # the import job has finished: nothing more comes
    assert not [c for c in slack.calls[mark:] if c.method == "views.update" and "wizard_error" in text_of(c.args)]


def test_import_of_a_set_in_use_asks_for_the_new_filter(irr_bot: RunningBot) -> None:
    from bot.changes.requests import ChangeRequests
    from storage.models import Session
    from tests.factories import make_session
    from tests.harness.bot import APPROVAL_CHANNEL

    # AS65601 as the set: exact entries only
    used = make_session(irr_bot.core, ip="192.0.2.40", asn="65601", name="Example", as_set="AS65601")
    with irr_bot.core.db.session() as s:
        s.get(Session, used.id).configured = True
    w = _at_step4(irr_bot)
    mark = irr_bot.slack.mark()
    _, result = _import(w, "as65601")
    assert "get the new filter through change request #1." in text_of(result["view"]["blocks"])
    request = ChangeRequests(irr_bot.core).get(1)
    assert (request.action, request.requested_by, request.session_ids) == ("configure", "U111", [used.id])
    # the bot's sweep posts it for approval, with the exact commands
    posted = irr_bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == APPROVAL_CHANNEL, after=mark)
    assert "203.0.113.0/24" in text_of(posted.args)
