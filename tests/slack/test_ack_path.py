"""The ack path in HTTP mode (issue 12), through signed requests against the running bot: every
request kind is answered, the answer goes out at ack() (not when the listener ends), and the
list's buttons walk pages by key and refuse damaged values with a clear message."""
from __future__ import annotations

import json
import threading

from sqlalchemy import insert, select

from handlers.ids import Action
from storage.models import Peer, Session
from tests.harness.bot import OPERATOR, RunningBot
from tests.harness.bulk import load_sessions
from tests.slack.test_wizard import open_by_command


def _blocks_text(args: dict) -> str:
    return json.dumps(args.get("blocks") or [], ensure_ascii=False)


def _nav(args: dict) -> dict[str, dict]:
    return {e["action_id"].rsplit("-", 1)[-1]: e for b in args["blocks"] if b["type"] == "actions"
            for e in b["elements"] if e["action_id"].startswith(Action.LIST_PAGE)}


def _press(bot: RunningBot, button: dict) -> dict:
    mark = bot.slack.mark()
    assert bot.send.button(button["action_id"], button["value"]).status_code == 200
    return bot.slack.wait_for("response_url", after=mark).args


def _ids(args: dict) -> list[str]:
    return [b["accessory"]["value"] for b in args["blocks"] if b.get("accessory", {}).get("action_id") == Action.LIST_SHOW]


def test_list_buttons_walk_by_key_and_refuse_damaged_values(bot: RunningBot) -> None:
    load_sessions(bot.core.db, 40, routers=2, exchanges=1)  # page size 15: three pages
    mark = bot.slack.mark()
    bot.send.command("list")
    first = bot.slack.wait_for("response_url", after=mark).args
    assert "Page 1/3" in _blocks_text(first) and set(_nav(first)) == {"next", "last"}
    second = _press(bot, _nav(first)["next"])
    assert second["replace_original"] is True and "Page 2/3" in _blocks_text(second)
    assert set(_nav(second)) == {"prev", "next"} and not set(_ids(first)) & set(_ids(second))
    last = _press(bot, _nav(second)["next"])
    assert "Page 3/3" in _blocks_text(last) and len(_ids(last)) == 10 and "next" not in _nav(last)
    assert _ids(_press(bot, _nav(last)["prev"])) == _ids(second)
    assert _ids(_press(bot, _nav(last)["first"])) == _ids(first)
    assert _ids(_press(bot, _nav(first)["last"])) == _ids(last)
    for damaged in ('{"p": "x"}', "not json", '{"p": 2, "a": [1, 2]}', json.dumps({"p": 2, "a": ["r" * 999, "x"]})):
        mark = bot.slack.mark()
        assert bot.send.button(f"{Action.LIST_PAGE}-next", damaged).status_code == 200
        error = bot.slack.wait_for("response_url", after=mark).args
        assert error["response_type"] == "ephemeral" and error.get("replace_original") is False
        assert "damaged or out of date" in _blocks_text(error)


def test_every_kind_is_answered(bot: RunningBot) -> None:
    load_sessions(bot.core.db, 20, routers=2, exchanges=1)
    with bot.core.db.engine.begin() as c:
        c.execute(insert(Peer), [{"name": "Zeta Cloud", "asn": 64999, "is_local": True},
                                 {"name": "Cloudy", "asn": 64998, "is_local": True}])
    with bot.core.db.session() as s:
        sid = s.scalar(select(Session.id).order_by(Session.id))
    # slash commands: list and show
    mark = bot.slack.mark()
    assert bot.send.command("list").status_code == 200
    listed = bot.slack.wait_for("response_url", after=mark).args
    mark = bot.slack.mark()
    assert bot.send.command(f"show {sid}").status_code == 200
    assert f"Session #{sid}" in _blocks_text(bot.slack.wait_for("response_url", after=mark).args)
    # buttons: View on the list, Next
    mark = bot.slack.mark()
    assert bot.send.button(Action.LIST_SHOW, _ids(listed)[0]).status_code == 200
    assert f"Session #{_ids(listed)[0]}" in _blocks_text(bot.slack.wait_for("response_url", after=mark).args)
    assert "Page 2/2" in _blocks_text(_press(bot, _nav(listed)["next"]))
    # view submission: the wizard's step 1, answered in the ack with step 2
    wizard = open_by_command(bot)
    wizard.next(type="local", exchange="No Exchange")
    # block_suggestion: the local-peer type-ahead, ranked (name prefix before contains)
    r = bot.send.suggestion(Action.WIZARD_LOCAL_PEER, "cloud", block_id="peer_local", view=wizard.view, user=OPERATOR)
    assert r.status_code == 200
    assert [o["text"]["text"].split(" AS")[0] for o in r.json()["options"]] == ["Cloudy", "Zeta Cloud"]
    assert bot.send.http.get(bot.url + "/healthz", timeout=10).status_code == 200


def test_the_answer_goes_out_at_ack_while_the_listener_still_works(bot: RunningBot) -> None:
    """A listener that acks and then does slow work (a Slack call, say) does not hold the answer:
    the HTTP response comes back while it is still running."""
    release, finished = threading.Event(), threading.Event()

    def slow(ack) -> None:  # noqa: ANN001
        ack()
        release.wait(30)
        finished.set()

    bot.app.action("test_slow_after_ack")(slow)  # type: ignore[attr-defined]
    try:
        r = bot.send.button("test_slow_after_ack", "x")
        assert r.status_code == 200 and not finished.is_set()
    finally:
        release.set()
    assert finished.wait(10)
