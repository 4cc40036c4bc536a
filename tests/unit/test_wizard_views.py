"""The wizard's step views as plain JSON: Slack's limits, the private_metadata budget with
maximal inputs, the MD5 never in a view, and the small pure helpers (values, errors)."""
from __future__ import annotations

import json
from typing import Any

import pytest

from bot.core import Core
from bot.sessions import catalog
from handlers.views.wizard import (
    METADATA_MAX, Summary, WizardExpired, WizardState, apply_step, block_id, read_values, step1_view, step2_view,
    step3_view, step4_view, step5_view,
)
from handlers.wizard_steps import inline_errors, render
from storage.models import Exchange, Peer, PeerGroup, Router
from tests.factories import ids
from tests.unit.test_session_views import check_confirm, check_mrkdwn

MAX_MD5 = "!" + "Aa0~" * 19 + "zzz"  # 80 printable characters
assert len(MAX_MD5) == 80


WORST_PEER = ("&<>" * 27)[:80]
WORST_ROUTER = ("<&>" * 22)[:64]


def check_slack_limits(view: dict[str, Any]) -> None:
    """The documented Block Kit limits for a modal (api.slack.com/reference/block-kit)."""
    assert view["type"] == "modal"
    assert len(view["blocks"]) <= 100
    for key in ("title", "submit", "close"):
        if key in view:
            assert view[key]["type"] == "plain_text" and 0 < len(view[key]["text"]) <= 24, key
    assert len(view.get("private_metadata", "")) <= METADATA_MAX
    assert len(view.get("callback_id", "")) <= 255
    block_ids = [b["block_id"] for b in view["blocks"] if "block_id" in b]
    assert len(block_ids) == len(set(block_ids)), "block_ids must be unique"
    for b in view["blocks"]:
        assert len(b.get("block_id", "")) <= 255
        if b["type"] == "input":
            assert len(b["label"]["text"]) <= 2000 and len(b.get("hint", {}).get("text", "")) <= 2000
            _element(b["element"])
        elif b["type"] == "section":
            if "text" in b:
                check_mrkdwn(b["text"]["text"], 3000)
            assert len(b.get("fields", [])) <= 10
            for f in b.get("fields", []):
                check_mrkdwn(f["text"], 2000)
        elif b["type"] == "context":
            assert 0 < len(b["elements"]) <= 10
            for e in b["elements"]:
                check_mrkdwn(e["text"], 3000)
        elif b["type"] == "actions":
            assert 0 < len(b["elements"]) <= 25
            for e in b["elements"]:
                _element(e)
        elif b["type"] == "header":
            assert len(b["text"]["text"]) <= 150


def _element(el: dict[str, Any]) -> None:
    assert len(el["action_id"]) <= 255
    if "placeholder" in el:
        assert len(el["placeholder"]["text"]) <= 150
    if el["type"] == "button":
        assert 0 < len(el["text"]["text"]) <= 75 and len(el.get("value", "")) <= 2000
    if "confirm" in el:
        check_confirm(el["confirm"])
    if el["type"] == "plain_text_input":
        assert el.get("max_length", 3000) <= 3000
        assert len(el.get("initial_value", "")) <= el.get("max_length", 3000)
    if "options" in el:
        assert 0 < len(el["options"]) <= 100
        for o in el["options"]:
            assert len(o["text"]["text"]) <= 75 and len(o["value"]) <= 150
        if "initial_option" in el:
            assert el["initial_option"] in el["options"]


def maximal_state(core: Core, step: int) -> WizardState:
    i = ids(core)
    return WizardState(
        step=step, channel="C0123456789ABCDEF", session_type="private", exchange_id=i["ix:EXAMPLE-IX"],
        notes='"\\😀\n' * 250, router_id=i["router:edge2"], peer_group_id=i["pg:edge2/PEERS"], local_asn=4294967294,
        md5_enc=core.secrets.encrypt(MAX_MD5), peer_id=2**31 - 1, peeringdb_net_id=2**31 - 1,
        peer_name="N" * 80, peer_asn="AS4294967294", peer_ip="2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        as_set="AS4294967294:AS-" + "X" * 84, rev=10**6, max_prefixes_v4="9" * 10, max_prefixes_v6="9" * 10,
    )


@pytest.fixture
def big_core(inventory_core: Core) -> Core:
    """More of everything than a select may show."""
    with inventory_core.db.session() as s:
        edge1 = s.get(Router, ids(inventory_core)["router:edge1"])
        for n in range(130):
            s.add(Exchange(name=f"IX-{n:03d}-" + "L" * 100, lan_prefix_v4=f"10.{n}.0.0/24"))
            s.add(Peer(name=f"Peer {n:03d} " + "W" * 100, asn=65000 + n, is_local=True))
            s.add(PeerGroup(router_id=edge1.id, name=f"GROUP-{n:03d}"))
            s.add(Router(name=f"r{n:03d}", host="192.0.2.200", platform="frr", username="x", local_asns=[64500]))
        s.add(Router(name=WORST_ROUTER, host="192.0.2.201", platform="frr", username="x", local_asns=[4294967294]))
        s.add(Peer(name=WORST_PEER, asn=4294967294, is_local=True))
    return inventory_core


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_every_step_view_is_within_slack_limits(big_core: Core, step: int) -> None:
    state = maximal_state(big_core, step).model_copy(update={"router_id": ids(big_core)["router:edge1"],
                                                             "peer_group_id": None, "local_asn": 64500})
    view = render(big_core, state, errors={"peer_ip": "x" * 150, "notes": "y" * 150})
    check_slack_limits(view)
    assert MAX_MD5 not in json.dumps(view)
    assert view["title"]["text"] == f"Add session · {step}/5"
    assert view["submit"]["text"] == ("Create Session" if step == 5 else "Next")
    assert ("wizard_prev" in json.dumps(view)) == (step > 1)


@pytest.mark.parametrize("step", [1, 2, 3, 4, 5])
def test_every_step_view_fits_with_the_worst_names(big_core: Core, step: int) -> None:
    """Names of & < > (escaped to 4-5 characters each) at their longest: 64 (router), 80 (peer)."""
    state = maximal_state(big_core, step).model_copy(update={
        "router_id": ids(big_core)[f"router:{WORST_ROUTER}"], "peer_group_id": None, "local_asn": 4294967294,
        "peer_name": WORST_PEER, "notes": "&<>" * 333, "as_set": "AS-" + "&" * 97})
    view = render(big_core, state, errors={"peer_name": "&<>" * 50, "as_set": "<&>" * 50})
    check_slack_limits(view)  # incl. every mrkdwn text escaped, and not cut inside an entity
    if step in (2, 5):
        assert "&lt;&amp;&gt;" in json.dumps(view)  # the router name, escaped


def test_each_view_function_renders_alone(inventory_core: Core) -> None:
    st = WizardState()
    check_slack_limits(step1_view(st, catalog.list_exchanges(inventory_core.db)))
    check_slack_limits(step2_view(st.model_copy(update={"step": 2}), [], []))  # no routers at all
    check_slack_limits(step3_view(st.model_copy(update={"step": 3}), [], note="n", warning="w"))
    check_slack_limits(step4_view(st.model_copy(update={"step": 4}), message="m"))
    check_slack_limits(step5_view(st.model_copy(update={"step": 5}), Summary("No Exchange", "edge1", None, warnings=("w",))))


def test_private_metadata_fits_with_maximal_inputs(inventory_core: Core) -> None:
    state = maximal_state(inventory_core, 5)
    text = state.encode()
    assert len(text) <= METADATA_MAX
    # Even counted in UTF-16 code units (emoji count twice), with room to spare.
    assert len(text.encode("utf-16-le")) // 2 <= METADATA_MAX
    back = WizardState.decode(text)
    assert back == state and back.notes == state.notes
    assert MAX_MD5 not in text and inventory_core.secrets.decrypt(back.md5_enc) == MAX_MD5


def test_forged_values_carried_by_previous_cannot_overflow(inventory_core: Core) -> None:
    """Previous keeps unvalidated values; they are bounded to what a Slack client can send."""
    state = maximal_state(inventory_core, 3)
    forged = {"peer_name": "\x01\"" * 5000, "peer_asn": "\\" * 5000, "peer_ip": "\"" * 5000}
    kept = apply_step(state, 3, forged, lenient=True).state
    assert len(kept.encode()) <= METADATA_MAX
    kept = apply_step(kept.model_copy(update={"step": 4}), 4, {"as_set": "\"" * 5000}, lenient=True).state
    assert len(kept.encode()) <= METADATA_MAX
    kept = apply_step(kept.model_copy(update={"step": 1}), 1, {"type": "local", "exchange": "1", "notes": "\x00" * 5000},
                      lenient=True).state
    assert len(kept.encode()) <= METADATA_MAX
    # on Next nothing is cut: the validator sees (and reports) the real length
    assert len(apply_step(state, 1, {"notes": "x" * 5000}).state.notes) == 5000


def test_encode_refuses_to_exceed_the_limit() -> None:
    with pytest.raises(AssertionError, match="private_metadata too long"):
        WizardState(notes="x" * 3000).encode()


def test_decode_rejects_foreign_metadata() -> None:
    for bad in ("", "This is for you!", "[]", '{"s": 9}'):
        with pytest.raises(WizardExpired):
            WizardState.decode(bad)


def test_read_values_and_apply_step() -> None:
    values = read_values({
        block_id("type", 3): {"type": {"type": "radio_buttons", "selected_option": {"value": "public"}}},
        block_id("exchange", 3): {"exchange": {"type": "static_select", "selected_option": None}},
        block_id("notes", 3): {"notes": {"type": "plain_text_input", "value": None}},
        block_id("md5_clear", 3): {"md5_clear": {"type": "checkboxes", "selected_options": [{"value": "remove"}]}},
        "wz_nav": {"x": {"type": "button"}},
        "unrelated": {"a": {"type": "plain_text_input", "value": "x"}},
    })
    assert values == {"type": "public", "exchange": None, "notes": None, "md5_clear": ["remove"]}
    inp = apply_step(WizardState(step=2, md5_enc="token"), 2, {"router": "7", "peer_group": "junk", "md5": "k", "md5_clear": ["remove"]})
    assert (inp.state.router_id, inp.state.peer_group_id, inp.md5_typed, inp.md5_remove) == (7, None, "k", True)
    assert inp.state.md5_enc == "token"  # the handler decides, with the secret box


def test_inline_errors_map_to_block_ids_and_never_drop_one() -> None:
    blocks = [{"type": "input", "block_id": block_id("peer_ip", 4)}, {"type": "input", "block_id": block_id("peer_asn", 4)}]
    out = inline_errors({"peer_ip": "bad ip", "local_asn": "Choose the local ASN."}, blocks)
    assert out == {"wz.peer_ip.4": "bad ip Local ASN: Choose the local ASN."}


def test_selects_over_100_entries_are_type_ahead_with_the_choice_kept(big_core: Core) -> None:
    i = ids(big_core)
    state = WizardState(step=1, exchange_id=i["ix:EXAMPLE-IX"])
    ex = {b["block_id"].split(".")[1]: b for b in render(big_core, state)["blocks"] if b["type"] == "input"}["exchange"]
    assert ex["element"]["type"] == "external_select" and ex["element"]["initial_option"]["value"] == str(i["ix:EXAMPLE-IX"])
    state = WizardState(step=2, router_id=i["router:edge1"], peer_group_id=i["pg:edge1/IX-PEERS"])
    els = {b["block_id"].split(".")[1]: b["element"] for b in render(big_core, state)["blocks"] if b["type"] == "input"}
    assert els["router"]["type"] == "external_select" and els["router"]["initial_option"]["text"]["text"] == "edge1 (frr)"
    assert els["peer_group"]["type"] == "external_select" and els["peer_group"]["initial_option"]["text"]["text"] == "IX-PEERS"
    assert els["local_asn"]["type"] == "static_select"  # a handful: stays static
    els = {b["block_id"].split(".")[1]: b["element"] for b in render(big_core, WizardState(step=3))["blocks"]
           if b["type"] == "input"}
    assert els["local_peer"]["type"] == "external_select"


def test_peeringdb_views() -> None:
    from handlers.views.wizard import IpAtExchange, NetworkOption, PeeringDBInfo, pdb_search_options

    assert pdb_search_options([], mirror_empty=True) == [
        {"text": {"type": "plain_text", "text": "PeeringDB mirror is empty: run `peerbot peeringdb sync`", "emoji": True},
         "value": "none:empty"}]
    opts = pdb_search_options([NetworkOption(4224, 13335, "Cloudflare" + "x" * 100, "AS-CLOUDFLARE")] * 150,
                              mirror_empty=False)
    assert len(opts) == 100 and opts[0]["value"] == "net:4224" and len(opts[0]["text"]["text"]) <= 75
    st = WizardState(step=3, peer_ip="192.0.2.1")
    info = PeeringDBInfo(empty=False, synced="2h ago", exchange="DE-CIX <Frankfurt>", network="Cloud & Co (AS1)",
                         ips=tuple(IpAtExchange(f"192.0.2.{n}", 4, 400000, True) for n in range(150)))
    view = step3_view(st, [], pdb=info)
    check_slack_limits(view)
    pick = next(b for b in view["blocks"] if b.get("block_id", "").startswith("wz.pdb_ip."))
    assert pick["element"]["initial_option"]["text"]["text"] == "192.0.2.1 (IPv4 · 400G · RS peer)"
    checks = tuple(("❌" if n % 2 else "✅", "<&>" * 100) for n in range(30))
    view = step5_view(WizardState(step=5), Summary("IX", "r", None, checks=checks, other_family_ip="2001:db8::1"))
    check_slack_limits(view)
    names = [b["block_id"].split(".")[1] for b in view["blocks"] if b["type"] == "input"]
    assert names == ["also", "anyway"]
