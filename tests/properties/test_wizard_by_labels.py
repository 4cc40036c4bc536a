"""A Slack client that knows none of our ids or block ids drives the wizard over signed HTTP: it
finds each input by its label and types hostile text into it (or picks an option value of its
own), step after step. Every answer is 200 and either inline errors for inputs that are in the
submitted view (Slack refuses errors for other block ids), or the next view within Slack's
limits; never an error modal."""
from __future__ import annotations

import itertools
import json
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from handlers.ids import Callback
from tests.harness.bot import RunningBot
from tests.properties.strategies import hostile
from tests.slack.test_wizard import open_by_command

PROPS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                        HealthCheck.too_slow])
FRESH = itertools.count(0x1000)  # the bot outlives the examples: each wizard its own peer IP
PLAUSIBLE = st.sampled_from(("Example Peer", "AS65601", "65601", "192.0.2.77", "2001:db8::77", "AS-EXAMPLE",
                             "1000", "s3cret-Md5-key", "ticket NET-7"))


def _fill(view: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """view.state.values, each input found by its label and filled the way a client might."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        label, el = block["label"]["text"], block["element"]
        assert label  # the client finds inputs by their labels
        kind = el["type"]
        if kind == "plain_text_input":
            state = {"type": kind, "value": draw(st.none() | PLAUSIBLE | hostile(PLAUSIBLE))}
        elif kind == "checkboxes":
            picked = draw(st.lists(st.sampled_from(el.get("options") or [{"value": "x"}]) | st.builds(
                lambda v: {"value": v}, hostile()), max_size=2))
            state = {"type": kind, "selected_options": picked}
        else:  # selects: one of its options, or a value of the client's own
            options = el.get("options") or [{"value": "1", "text": {"type": "plain_text", "text": "x"}}]
            own = st.builds(lambda v: {"text": {"type": "plain_text", "text": "x"}, "value": v},
                            st.sampled_from(("0", "-1", "99999999999999999999", "1e3", "")) | hostile())
            state = {"type": kind, "selected_option": draw(st.none() | st.sampled_from(options) | own)}
        values[block["block_id"]] = {el["action_id"]: state}
    return values


def _to_step(w: Any, step: int) -> None:
    """Fill the steps before `step` correctly (as tests/slack/test_wizard.py does)."""
    if step > 1:
        w.next(type="public", exchange="EXAMPLE-IX")
    if step > 2:
        w.select("router", "edge1")
        w.next()
    if step > 3:
        w.next(peer_name="Example", peer_asn="65601", peer_ip=f"2001:db8::{next(FRESH):x}")  # never taken yet
    if step > 4:
        w.next()


@PROPS
@given(data=st.data())
def test_a_client_filling_by_labels_gets_inline_errors_or_the_next_step(bot: RunningBot, data: st.DataObject) -> None:
    w = open_by_command(bot)
    start = data.draw(st.sampled_from((4, 3, 5, 2, 1)))
    _to_step(w, start)
    event(f"hostile from step {start}")
    for _ in range(start, 6):
        view = w.view
        input_ids = {b["block_id"] for b in view["blocks"] if b.get("type") == "input"}
        r = bot.send.view_submission(view, _fill(view, data.draw), view_id=w.view_id)
        assert r.status_code == 200, r.text[:300]
        answer = r.json() if r.text else {}
        text = json.dumps(answer, ensure_ascii=False)
        assert "Something went wrong" not in text and "Traceback" not in text, text[:500]
        if answer.get("response_action") == "errors":
            errors = answer["errors"]
            assert errors and set(errors) <= input_ids, (errors, input_ids)
            assert all(isinstance(m, str) and 0 < len(m) <= 300 for m in errors.values()), errors
            return
        if answer.get("response_action") != "update":
            return  # created (the modal closes) or pushed elsewhere
        new = answer["view"]
        assert new.get("callback_id") == Callback.WIZARD, text[:500]
        assert len(new["blocks"]) <= 100 and len(new.get("private_metadata", "")) <= 3000
        w.view = new
