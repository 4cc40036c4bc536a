"""Properties of the wizard's validation over every field: `check_draft` (what the wizard and the
CLI run), the wizard's step submissions as Slack sends them (`next_step`), and the session a
passing draft creates, rendered for its router's platform."""
from __future__ import annotations

import ipaddress
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.core import Core
from bot.base.errors import Conflict, InvalidInput
from bot.routers import render
from bot.sessions.provisioning import STEP_FIELDS, SessionDraft, check_draft, create_session
from bot.changes.router_config import FilterUnavailable, plan
from bot.base.validation import FieldError, cli_safe_text, parse_as_set, parse_asn, parse_ip, parse_md5
from handlers import wizard, wizard_steps
from handlers.views.wizard import METADATA_MAX, STEP_INPUTS, WizardState
from tests.properties.conftest import KNOWN_AS_SET, catalog_ids
from tests.properties.strategies import (
    as_set_inputs, asn_inputs, assert_clear_message, assert_safe_cli_line, hostile, ip_inputs, max_prefix_inputs,
    md5_inputs, name_inputs, notes_inputs,
)

DB_PROPS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])
ROUTERS = ("r-frr", "r-iosxe", "r-iosxr", "r-junos", "r-eos")
DRAFT_FIELDS = {f for fields in STEP_FIELDS.values() for f in fields}
# An id as a forged or stale form could carry it: someone else's, missing, negative, past 64 bits.
odd_ids = st.sampled_from((0, -1, 999_999, 2**31, 2**63 - 1))


@st.composite
def drafts(draw: st.DrawFn, ids: dict[str, int]) -> SessionDraft:
    """A correct draft with up to three fields replaced by hostile values (none, in about a third
    of the drafts: those get created and rendered)."""
    router = draw(st.sampled_from(ROUTERS))
    family = draw(st.sampled_from((4, 6)))
    host = draw(st.integers(10, 254)) if family == 4 else draw(st.integers(0x10, 0xFFFF_FFFF))
    good_ip = f"192.0.2.{host}" if family == 4 else str(ipaddress.ip_address("2001:db8::") + host)
    some_id = st.one_of(st.none(), odd_ids, st.sampled_from(sorted(ids.values())))
    choices = {  # field: (valid values, hostile values)
        "session_type": (st.just("public"), st.sampled_from(("private", "local")) | hostile()),
        "exchange_id": (st.just(ids["ix:EXAMPLE-IX"]), some_id),
        "notes": (st.none() | st.just("ticket NET-7\nsecond line"), notes_inputs),
        "router_id": (st.just(ids[f"router:{router}"]), some_id),
        "peer_group_id": (st.none() | st.just(ids[f"pg:{router}/IX-PEERS"]), some_id),
        "local_asn": (st.just(64500), st.none() | st.integers(-(2**40), 2**40)),
        "md5": (st.none() | st.just("s3cret-Md5-key"), md5_inputs),
        "peer_name": (st.sampled_from(("Example Peer", "ACME (EU) & Co.", "x")), name_inputs),
        "peer_asn": (st.sampled_from(("65601", "AS13335", "AS1.10", "4200000001")), asn_inputs),
        "peer_ip": (st.just(good_ip), ip_inputs),
        "as_set": (st.none() | st.sampled_from((KNOWN_AS_SET, "RIPE::as-other")), as_set_inputs),
        "max_prefixes_v4": (st.none() | st.just("1,000"), max_prefix_inputs),
        "max_prefixes_v6": (st.none() | st.just("500"), max_prefix_inputs),
    }
    bad = draw(st.sets(st.sampled_from(sorted(choices)), max_size=3))
    return SessionDraft(**{name: draw(pair[name in bad]) for name, pair in choices.items()})


def _refused(parse, value) -> bool:  # noqa: ANN001
    try:
        parse(value)
    except FieldError:
        return True
    return False


@DB_PROPS
@given(data=st.data())
def test_check_draft_reports_each_bad_field_and_a_passing_draft_renders_safely(platform_core: Core,
                                                                               data: st.DataObject) -> None:
    core = platform_core
    draft = data.draw(drafts(catalog_ids(core)))
    chk = check_draft(core, draft)  # nothing but a DraftCheck may come out
    assert set(chk.errors) <= DRAFT_FIELDS and set(chk.warnings) <= DRAFT_FIELDS
    for message in (*chk.errors.values(), *chk.warnings.values()):
        assert_clear_message(message)
    # a field its own parser refuses always has its error, next to that field
    own_checks = {
        "peer_name": lambda v: cli_safe_text(v, field="Peer name", max_len=80, required=True),
        "peer_asn": parse_asn, "peer_ip": parse_ip, "md5": parse_md5, "as_set": parse_as_set,
    }
    for name, parse in own_checks.items():
        if _refused(parse, getattr(draft, name)):
            assert name in chk.errors, f"{name}={getattr(draft, name)!r} passed"
    if draft.md5 and len(draft.md5) >= 8:
        assert not any(draft.md5 in m for m in chk.errors.values()), "the MD5 key is echoed"
    event("draft passed" if chk.ok else "draft refused")
    if not chk.ok:
        return
    try:
        view = create_session(core, draft, actor="U111")
    except Conflict:
        return
    except InvalidInput as exc:  # pragma: no cover - check_draft passed a moment ago
        raise AssertionError(f"create_session refused a checked draft: {exc.errors}") from None
    assert view.peer_ip == str(parse_ip(draft.peer_ip)) and view.peer_name == draft.peer_name.strip()
    for action in ("configure", "admin_down", "admin_up", "deconfigure"):
        try:
            p = plan(core, view.id, action)
        except FilterUnavailable as exc:  # an AS-SET nobody imported: Configure is refused, clearly
            assert action == "configure" and view.as_set and view.as_set in str(exc)
            continue
        for line in p.lines:
            assert_safe_cli_line(line)
        # the peer name reaches the router only inside the description line
        name_lines = [ln for ln in p.lines if view.peer_name in ln and len(view.peer_name) >= 4]
        assert all("description" in ln for ln in name_lines), name_lines
        if draft.md5:
            assert draft.md5 not in "\n".join(p.masked)


# ----------------------------------------------------------------------------- the wizard's steps
def _state_for(ids: dict[str, int], step: int) -> WizardState:
    """A wizard at `step` whose earlier steps were filled in correctly."""
    return WizardState(step=step, session_type="public", exchange_id=ids["ix:EXAMPLE-IX"],
                       router_id=ids["router:r-frr"], local_asn=64500, peer_name="Example Peer",
                       peer_asn="AS65601", peer_ip="192.0.2.77")


@st.composite
def _slack_values(draw: st.DrawFn, ids: dict[str, int], step: int) -> dict[str, Any]:
    """view.state.values as read_values returns them (typed text, or a selected option's value):
    correct, with up to two inputs replaced by hostile values."""
    some_id = st.one_of(st.sampled_from(sorted(ids.values())).map(str), odd_ids.map(str),
                        hostile())
    by_input = {  # input: (valid values, hostile values)
        "type": (st.just("public"), st.sampled_from(("private", "local")) | hostile()),
        "exchange": (st.just(str(ids["ix:EXAMPLE-IX"])), some_id),
        "notes": (st.none() | st.just("ticket NET-7"), notes_inputs),
        "router": (st.just(str(ids["router:r-frr"])), some_id),
        "peer_group": (st.none() | st.just(str(ids["pg:r-frr/IX-PEERS"])), some_id),
        "local_asn": (st.just("64500"), st.just("4200000000") | hostile(st.just("64500"))),
        "md5": (st.none() | st.just("s3cret-Md5-key"), md5_inputs),
        "md5_clear": (st.just([]), st.just(["remove"])),
        "peer_name": (st.just("Example Peer"), name_inputs),
        "peer_asn": (st.just("AS65601"), asn_inputs),
        "peer_ip": (st.integers(10, 254).map(lambda n: f"192.0.2.{n}"), ip_inputs),
        "max_prefixes_v4": (st.none() | st.just("100"), max_prefix_inputs),
        "max_prefixes_v6": (st.none() | st.just("100"), max_prefix_inputs),
        "as_set": (st.none() | st.just(KNOWN_AS_SET), as_set_inputs),
    }
    names = [n for n in STEP_INPUTS[step] if n in by_input]
    bad = draw(st.sets(st.sampled_from(names), max_size=2))
    return {name: draw(by_input[name][name in bad]) for name in names}


@DB_PROPS
@given(data=st.data(), step=st.sampled_from((1, 2, 3, 4)))
def test_every_wizard_step_answers_inline_errors_or_the_next_step(platform_core: Core, data: st.DataObject,
                                                                  step: int) -> None:
    core = platform_core
    ids = catalog_ids(core)
    state = _state_for(ids, step)
    blocks = wizard_steps.render(core, state)["blocks"]
    values = data.draw(_slack_values(ids, step))
    answer = wizard.next_step(core, state, values, blocks)
    assert answer["response_action"] in ("errors", "update")
    event(f"step {step}: {answer['response_action']}")
    if answer["response_action"] == "errors":
        block_ids = {b.get("block_id") for b in blocks if b.get("type") == "input"}
        assert answer["errors"] and set(answer["errors"]) <= block_ids
        for message in answer["errors"].values():
            assert_clear_message(message)
            if values.get("md5") and len(values["md5"]) >= 8:
                assert values["md5"] not in message
        return
    view = answer["view"]
    assert len(view["private_metadata"]) <= METADATA_MAX and len(view["blocks"]) <= 100
    new = WizardState.decode(view["private_metadata"])
    if step == 3:
        assert new.peer_ip == str(parse_ip(new.peer_ip))
    if values.get("md5"):
        assert values["md5"] not in view["private_metadata"], "the clear MD5 went to Slack"
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", str(view["blocks"]))


@pytest.mark.parametrize("value", [str(2**63), "9" * 100])
def test_a_select_value_past_64_bits_is_an_inline_error(platform_core: Core, value: str) -> None:
    ids = catalog_ids(platform_core)
    state = WizardState(step=1)
    blocks = wizard_steps.render(platform_core, state)["blocks"]
    answer = wizard.next_step(platform_core, state, {"type": "public", "exchange": value}, blocks)
    assert answer["response_action"] == "errors" and ids  # "Choose an exchange"


def test_render_module_is_the_one_the_plan_uses() -> None:
    # plan() above renders through bot.routers.render: the property covers the real path
    from bot.changes import router_config

    assert router_config.render is render
