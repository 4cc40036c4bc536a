"""The Edit wizard's last step as plain Block Kit (handlers/views/edit.py)."""
from __future__ import annotations

import json

from bot.changes.editing import EditPreview, PushStep
from handlers.views.edit import diff_block, edit_confirm_view
from handlers.views.wizard import WizardState

STATE = WizardState(step=5, edit_id=7)


def text(view: dict) -> str:
    return json.dumps(view["blocks"], ensure_ascii=False)


def test_router_change_shows_difference_and_commands_and_asks_for_a_request() -> None:
    step = PushStep(1, "edge1", "frr", "update", "Edit X", ["router bgp 64500", "no neighbor 192.0.2.10 password", "exit"],
                    ["router bgp 64500", "no neighbor 192.0.2.10 password", "exit"])
    preview = EditPreview(7, True, False, ["MD5: removed"], ["neighbor 192.0.2.10 password ********"], [], [step])
    view = edit_confirm_view(STATE, preview)
    assert view["title"]["text"] == "Edit session #7 · 5/5" and view["submit"]["text"] == "Request change"
    shown = text(view)
    assert "- neighbor 192.0.2.10 password ********" in shown and "Commands sent to edge1* (update)" in shown
    assert len(view["private_metadata"]) <= 3000


def test_no_change_and_database_only() -> None:
    same = EditPreview(7, True, False, [], [], [], [])
    assert "Nothing is changed" in text(edit_confirm_view(STATE, same))
    db_only = EditPreview(7, False, False, ["Notes: – → x"], [], [], [])
    view = edit_confirm_view(STATE, db_only)
    assert view["submit"]["text"] == "Save" and "Not configured on a router" in text(view)


def test_a_problem_is_shown_instead_of_the_preview() -> None:
    view = edit_confirm_view(STATE, None, "Peer IP: taken")
    assert "Peer IP: taken" in text(view) and "Previous" in text(view)


def test_diff_block_marks_lines_and_stays_within_budget() -> None:
    block = diff_block(["a"], ["b"])
    assert block == "```\n- a\n+ b\n```"
    long = diff_block([f"line {i}" for i in range(500)], [], budget=200)
    assert "more line(s)" in long and len(long) < 300


def test_long_session_ids_keep_the_title_within_slack_limits() -> None:
    view = edit_confirm_view(WizardState(step=5, edit_id=123456789), EditPreview(1, False, False, [], [], [], []))
    assert view["title"]["text"] == "Edit session #123456789"


def test_the_max_prefix_limit_is_an_optional_input_prefilled_from_the_session() -> None:
    from handlers.views.wizard import LimitInput

    state = STATE.model_copy(update={"max_prefixes_v4": "900"})
    same = EditPreview(7, True, False, [], [], [], [])
    view = edit_confirm_view(state, same, limits=(LimitInput(4, 1210, "PeeringDB: 1,000 IPv4 prefixes", 90),))
    (limit,) = [b for b in view["blocks"] if b["type"] == "input"]
    assert limit["label"]["text"] == "Max prefixes IPv4" and limit["optional"] is True
    assert limit["element"]["initial_value"] == "900"
    assert "Empty: no limit. Suggested 1,210 (PeeringDB: 1,000 IPv4 prefixes)" in limit["hint"]["text"]
    # shown with a problem too, so that it can carry an inline error
    view = edit_confirm_view(state, None, "AS-SET: unknown", limits=(LimitInput(4, 1210, "x", 90),),
                             errors={"max_prefixes_v4": "IPv4 max-prefix: a whole number"})
    assert [b["label"]["text"] for b in view["blocks"] if b["type"] == "input"] == ["Max prefixes IPv4"]
    assert "IPv4 max-prefix: a whole number" in text(view) and "AS-SET: unknown" in text(view)
