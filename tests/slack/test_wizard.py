"""The create-session wizard, driven through signed requests against the running bot and the fake
Slack API: open -> Next on every step -> Previous -> inline errors -> Create -> detail message ->
session row. Views come from the bot (views.open / views.update / response_action update) and
are submitted back with state values built from what the view shows, like a Slack client does."""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from handlers.ids import Action
from handlers.views.wizard import WizardState, block_name
from handlers.wizard_steps import render
from storage.models import AsSet, Peer, Session
from tests.factories import ids, make_session
from bot.core import Core
from tests.harness.bot import RunningBot, settings_for, start_bot

MD5 = "Pe3r-S3cret.md5"


# -- a Slack client, as far as the wizard needs one -------------------------------------------
def inputs(view: dict) -> dict[str, dict]:
    return {block_name(b["block_id"]): b for b in view["blocks"] if b["type"] == "input"}


def _find_option(el: dict, v: str) -> dict:
    for o in el.get("options", []):
        t = o["text"]["text"]
        if v in (o["value"], t) or t.startswith(v + " "):
            return o
    raise AssertionError(f"no option {v!r} in {[o['text']['text'] for o in el.get('options', [])]}")


def _initial(el: dict) -> Any:
    if el["type"] == "plain_text_input":
        return el.get("initial_value")
    if el["type"] == "checkboxes":
        return [o["value"] for o in el.get("initial_options", [])]
    return (el.get("initial_option") or {}).get("value")


def _element_state(el: dict, v: Any) -> dict:
    t = el["type"]
    if t == "plain_text_input":
        return {"type": t, "value": v}
    if t == "checkboxes":
        return {"type": t, "selected_options": [_find_option(el, x) for x in v or []]}
    if t == "external_select":
        return {"type": t, "selected_option": v if isinstance(v, dict) or v is None else {"text": {"type": "plain_text", "text": v}, "value": v}}
    return {"type": t, "selected_option": _find_option(el, v) if v is not None else None}


def values_for(view: dict, **over: Any) -> dict:
    """view.state.values as Slack sends them: every input, initial values unless typed over."""
    out = {}
    for name, b in inputs(view).items():
        el = b["element"]
        out[b["block_id"]] = {el["action_id"]: _element_state(el, over[name] if name in over else _initial(el))}
    unknown = set(over) - set(inputs(view))
    assert not unknown, f"no input {unknown} in this step"
    return out


class Wizard:
    def __init__(self, bot: RunningBot, view: dict, view_id: str = "V00001"):
        self.bot, self.view, self.view_id = bot, view, view_id

    @property
    def state(self) -> WizardState:
        return WizardState.decode(self.view["private_metadata"])

    def submit(self, **fields: Any) -> dict:
        r = self.bot.send.view_submission(self.view, values_for(self.view, **fields), view_id=self.view_id)
        assert r.status_code == 200, r.text
        answer = r.json() if r.text else {}
        if answer.get("response_action") == "update":
            self.view = answer["view"]
        return answer

    def next(self, **fields: Any) -> dict:
        step = self.state.step
        answer = self.submit(**fields)
        assert answer.get("response_action") == "update", answer
        assert self.state.step == step + 1
        return self.view

    def act(self, action: dict, **fields: Any) -> dict:
        mark = self.bot.slack.mark()
        r = self.bot.send.view_action(self.view, action, values_for(self.view, **fields), view_id=self.view_id)
        assert r.status_code == 200
        call = self.bot.slack.wait_for("views.update", after=mark)
        assert call.args["view_id"] == self.view_id and call.args.get("hash")  # hash-checked update
        self.view = call.args["view"]
        return self.view

    def previous(self, **fields: Any) -> dict:
        step = self.state.step
        self.act({"type": "button", "action_id": Action.WIZARD_PREV, "value": str(step)}, **fields)
        assert self.state.step == step - 1
        return self.view

    def select(self, name: str, value: str, **fields: Any) -> dict:
        b = inputs(self.view)[name]
        el = b["element"]
        opt = _find_option(el, value) if el["type"] != "external_select" else {"text": {"type": "plain_text", "text": value}, "value": value}
        return self.act({"type": el["type"], "action_id": el["action_id"], "block_id": b["block_id"],
                         "selected_option": opt}, **{name: value if el["type"] != "external_select" else opt}, **fields)

    def button(self, action_id: str, **fields: Any) -> dict:
        return self.act({"type": "button", "action_id": action_id, "value": "x"}, **fields)


def open_by_command(bot: RunningBot, channel: str = "C111", view_id: str = "V00001") -> Wizard:
    mark = bot.slack.mark()
    assert bot.send.command("add", channel=channel).status_code == 200
    call = bot.slack.wait_for("views.open", after=mark)
    assert call.args["trigger_id"]
    return Wizard(bot, call.args["view"], view_id)


def text_of(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)


def session_rows(core) -> list[Session]:  # noqa: ANN001
    with core.db.session() as s:
        rows = list(s.scalars(select(Session)))
        for r in rows:
            _ = (r.peer.name, r.exchange.name, r.router.name, r.peer_group and r.peer_group.name)
        return rows


def assert_secret_never_sent(bot: RunningBot, secret: str) -> None:
    for call in bot.slack.calls:
        assert secret not in text_of(call.args), f"{secret!r} sent to Slack in {call.method}"


def to_step3(w: Wizard, *, session_type: str = "public", exchange: str = "EXAMPLE-IX", router: str = "edge1",
             md5: str | None = None) -> None:
    w.next(type=session_type, exchange=exchange)
    w.select("router", router)
    w.next(md5=md5)


# -- end to end -------------------------------------------------------------------------------
def test_ixp_session_end_to_end(bot: RunningBot) -> None:
    w = open_by_command(bot, channel="CNETOPS")
    assert w.view["title"]["text"] == "Add session · 1/5" and w.view["submit"]["text"] == "Next"
    assert w.view["close"]["text"] == "Cancel"
    w.next(type="public", exchange="EXAMPLE-IX", notes="Ticket NET-42\nContact noc@example.net")
    assert "router" in inputs(w.view) and "peer_group" not in inputs(w.view)
    w.select("router", "edge1")
    groups = [o["text"]["text"] for o in inputs(w.view)["peer_group"]["element"]["options"]]
    assert groups == ["IX-PEERS", "TRANSIT"]
    assert inputs(w.view)["local_asn"]["element"]["initial_option"]["value"] == "64500"  # the only one
    w.next(peer_group="IX-PEERS", md5=MD5)
    w.next(peer_name="Example Networks", peer_asn="AS64501", peer_ip="192.0.2.77")
    w.next(as_set="as-example")
    summary = text_of(w.view["blocks"])
    assert w.view["submit"]["text"] == "Create Session"
    for part in ("Public (IXP)", "EXAMPLE-IX", "edge1", "IX-PEERS", "AS64500", "•••• (set)", "Example Networks",
                 "AS64501", "192.0.2.77", "AS-EXAMPLE", "Ticket NET-42"):
        assert part in summary, part
    assert "documentation ASN" in summary  # AS64501: a warning, not an error
    mark = bot.slack.mark()
    assert w.submit() == {"response_action": "clear"}
    post = bot.slack.wait_for("chat.postMessage", after=mark).args
    assert post["channel"] == "CNETOPS"
    [row] = session_rows(bot.core)
    assert f"Session #{row.id}" in text_of(post["blocks"]) and "Example Networks" in text_of(post["blocks"])
    assert Action.ADD_SESSION in text_of(post["blocks"])
    i = ids(bot.core)
    assert (row.session_type.value, row.exchange_id, row.router_id, row.peer_group_id, row.local_asn) == (
        "public", i["ix:EXAMPLE-IX"], i["router:edge1"], i["pg:edge1/IX-PEERS"], 64500)
    assert (row.peer.name, row.peer.asn, row.peer_ip, row.address_family, row.as_set) == (
        "Example Networks", 64501, "192.0.2.77", 4, "AS-EXAMPLE")
    assert row.notes == "Ticket NET-42\nContact noc@example.net" and row.created_by == "U111"
    assert row.configured is False and bot.core.secrets.decrypt(row.md5_encrypted) == MD5
    assert_secret_never_sent(bot, MD5)
    # and it is in the list
    mark = bot.slack.mark()
    bot.send.command("list")
    assert "Example Networks" in text_of(bot.slack.wait_for("response_url", after=mark).args["blocks"])


def test_local_session_from_the_add_button(bot: RunningBot) -> None:
    mark = bot.slack.mark()
    bot.send.command("list")
    listing = bot.slack.wait_for("response_url", after=mark).args
    assert Action.ADD_SESSION in text_of(listing["blocks"])  # the list offers Add Session
    mark = bot.slack.mark()
    assert bot.send.button(Action.ADD_SESSION, channel="CLOCAL").status_code == 200
    w = Wizard(bot, bot.slack.wait_for("views.open", after=mark).args["view"], "V00042")
    w.next(type="local", exchange="No Exchange")
    w.select("router", "edge2")
    assert [o["value"] for o in inputs(w.view)["local_asn"]["element"]["options"]] == ["64500", "64511"]
    w.next(peer_group="PEERS", local_asn="AS64511")
    w.next(peer_name="Lab Customer", peer_asn="4200000001", peer_ip="203.0.113.9")
    w.next()  # no AS-SET
    assert "•" not in text_of(w.view["blocks"]).split("MD5")[1][:30]
    mark = bot.slack.mark()
    assert w.submit()["response_action"] == "clear"
    post = bot.slack.wait_for("chat.postMessage", after=mark).args
    assert post["channel"] == "CLOCAL" and "Lab Customer" in text_of(post["blocks"])
    [row] = session_rows(bot.core)
    assert (row.session_type.value, row.exchange.is_none, row.router.name, row.peer_group.name, row.local_asn) == (
        "local", True, "edge2", "PEERS", 64511)
    assert (row.peer.asn, row.peer_ip, row.md5_encrypted, row.as_set, row.notes, row.peer.is_local) == (
        4200000001, "203.0.113.9", None, None, None, True)


def test_previous_from_every_step_keeps_all_values(bot: RunningBot) -> None:
    w = open_by_command(bot)
    w.next(type="private", exchange="OTHER-IX", notes="PNI in rack 4")
    w.select("router", "edge2")
    w.next(peer_group="PEERS", local_asn="64511", md5=MD5)
    w.next(peer_name="Beta Transit", peer_asn="65002", peer_ip="198.51.100.20")
    w.next(as_set="AS-BETA")
    # 5 -> 4 -> 3 -> 2 -> 1, each step showing what was entered
    w.previous()
    assert inputs(w.view)["as_set"]["element"]["initial_value"] == "AS-BETA"
    w.previous(as_set="AS-CHANGED")  # typed on step 4, then Previous: kept
    p = inputs(w.view)
    assert [p[n]["element"]["initial_value"] for n in ("peer_name", "peer_asn", "peer_ip")] == [
        "Beta Transit", "65002", "198.51.100.20"]
    w.previous(peer_name="Beta Transit Ltd")
    p = inputs(w.view)
    assert p["router"]["element"]["initial_option"]["value"] == str(ids(bot.core)["router:edge2"])
    assert p["peer_group"]["element"]["initial_option"]["text"]["text"] == "PEERS"
    assert p["local_asn"]["element"]["initial_option"]["value"] == "64511"
    assert "initial_value" not in p["md5"]["element"]  # never sent back, not even masked
    assert "An MD5 password is set" in p["md5"]["hint"]["text"] and "md5_clear" in p
    w.previous()
    p = inputs(w.view)
    assert p["type"]["element"]["initial_option"]["value"] == "private"
    assert p["exchange"]["element"]["initial_option"]["text"]["text"] == "OTHER-IX"
    assert p["notes"]["element"]["initial_value"] == "PNI in rack 4"
    assert "wz_nav" not in text_of(w.view["blocks"])  # no Previous on step 1
    # and forward again: everything still there, incl. what was typed before each Previous
    w.next()
    w.next()  # md5 left empty: kept
    assert inputs(w.view)["peer_name"]["element"]["initial_value"] == "Beta Transit Ltd"
    w.next()
    assert inputs(w.view)["as_set"]["element"]["initial_value"] == "AS-CHANGED"
    w.next()
    assert "•••• (set)" in text_of(w.view["blocks"])
    w.previous()
    w.previous()
    w.previous()
    w.next(md5_clear=["remove"])  # remove the MD5 on step 2
    w.next()
    w.next()
    assert "MD5*\\nnone" in text_of(w.view["blocks"])
    assert w.submit()["response_action"] == "clear"
    [row] = session_rows(bot.core)
    assert (row.peer.name, row.as_set, row.md5_encrypted, row.notes) == ("Beta Transit Ltd", "AS-CHANGED", None, "PNI in rack 4")
    assert_secret_never_sent(bot, MD5)


def test_router_change_updates_peer_groups_and_keeps_typed_values(bot: RunningBot) -> None:
    w = open_by_command(bot)
    w.next(type="public", exchange="EXAMPLE-IX")
    w.select("router", "edge1")
    w.select("router", "edge1", peer_group="TRANSIT")
    assert inputs(w.view)["peer_group"]["element"]["initial_option"]["text"]["text"] == "TRANSIT"
    w.select("router", "edge2", md5=MD5)  # typed before changing the router
    p = inputs(w.view)
    assert [o["text"]["text"] for o in p["peer_group"]["element"]["options"]] == ["PEERS"]
    assert "initial_option" not in p["peer_group"]["element"]  # TRANSIT is edge1's
    assert p["local_asn"]["element"]["initial_option"]["value"] == "64500"  # still valid on edge2: kept
    assert "An MD5 password is set" in p["md5"]["hint"]["text"]
    answer = w.submit(peer_group="PEERS", local_asn=None)
    assert answer["response_action"] == "errors"
    assert answer["errors"] == {p["local_asn"]["block_id"]: "Choose the local ASN."}
    assert_secret_never_sent(bot, MD5)


def test_peer_lookups_autofill(bot: RunningBot) -> None:
    known = make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    w = open_by_command(bot)
    to_step3(w)
    b = inputs(w.view)["peeringdb"]
    assert b["element"]["type"] == "external_select" and b["dispatch_action"] is True
    # An empty mirror says so, in the hint and as the only suggestion (choosing it does nothing).
    assert "PeeringDB mirror is empty: run `peerbot peeringdb sync`" in b["hint"]["text"]
    options = bot.send.suggestion(Action.WIZARD_PEERINGDB, "alpha", block_id=b["block_id"], view=w.view).json()["options"]
    assert [o["text"]["text"] for o in options] == ["PeeringDB mirror is empty: run `peerbot peeringdb sync`"]
    r = bot.send.view_action(w.view, {"type": "external_select", "action_id": Action.WIZARD_PEERINGDB,
                                      "block_id": b["block_id"], "selected_option": options[0]}, values_for(w.view))
    assert r.status_code == 200
    # local peer lookup: a peer and one of its IPs
    local = inputs(w.view)["local_peer"]["element"]
    assert [o["text"]["text"] for o in local["options"]] == ["Alpha Networks AS65601 · 192.0.2.10"]
    w.select("local_peer", f"{known.peer_id}|192.0.2.10", peer_name="edited", peer_asn="1", peer_ip="")
    assert inputs(w.view)["peer_name"]["element"]["initial_value"] == "Alpha Networks"
    assert "AS65601 is a reserved ASN" in text_of(w.view["blocks"])  # a warning, not blocking
    # the user can still edit: a second session with the same peer on another IP
    answer = w.submit(peer_ip="192.0.2.10")
    assert answer["response_action"] == "errors" and "already has a session" in text_of(answer)
    w.next(peer_ip="192.0.2.11")
    w.next()
    assert f"existing peer #{known.peer_id}" in text_of(w.view["blocks"])
    assert w.submit()["response_action"] == "clear"
    with bot.core.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Peer)) == 1  # reused, not duplicated
        assert s.scalar(select(func.count()).select_from(Session)) == 2


def test_edited_lookup_makes_a_new_peer(bot: RunningBot) -> None:
    known = make_session(bot.core, ip="192.0.2.10", name="Alpha Networks", asn="65601")
    w = open_by_command(bot)
    to_step3(w)
    w.select("local_peer", f"{known.peer_id}|192.0.2.10")
    w.next(peer_name="Alpha Networks EU", peer_asn="65602", peer_ip="192.0.2.12")
    w.next()
    assert "existing peer" not in text_of(w.view["blocks"])
    assert w.submit()["response_action"] == "clear"
    with bot.core.db.session() as s:
        assert sorted(s.scalars(select(Peer.name))) == ["Alpha Networks", "Alpha Networks EU"]


def test_as_set_validate_and_import(bot: RunningBot) -> None:
    with bot.core.db.session() as s:
        s.add(AsSet(name="AS-KNOWN", source="RIPE", prefixes_v4=["192.0.2.0/24"], prefixes_v6=[]))
    w = open_by_command(bot)
    to_step3(w)
    w.next(peer_name="Gamma", peer_asn="65003", peer_ip="192.0.2.30")
    w.button(Action.WIZARD_AS_SET_VALIDATE, as_set="as-known")
    assert "AS-KNOWN* is known locally: 1 IPv4 / 0 IPv6 prefixes" in text_of(w.view["blocks"])
    assert inputs(w.view)["as_set"]["element"]["initial_value"] == "as-known"  # the typed value stays
    w.button(Action.WIZARD_AS_SET_VALIDATE, as_set="AS-UNKNOWN")
    assert "AS-UNKNOWN* is not known locally" in text_of(w.view["blocks"])
    w.button(Action.WIZARD_AS_SET_VALIDATE, as_set="AS 1 2")
    assert ":x: An AS-SET looks like" in text_of(w.view["blocks"])
    w.button(Action.WIZARD_AS_SET_IMPORT, as_set="AS-!!")  # refused before bgpq4 runs (tests/irr: the import)
    assert ":x: An AS-SET looks like" in text_of(w.view["blocks"])
    answer = w.submit(as_set="AS-!!")
    assert answer == {"response_action": "errors", "errors": {
        inputs(w.view)["as_set"]["block_id"]: "An AS-SET looks like AS-EXAMPLE, AS65001:AS-CUSTOMERS or AS65001."}}


# -- inline errors ----------------------------------------------------------------------------
def _at_step(bot: RunningBot, step: int, view_id: str = "V00001", **state: Any) -> Wizard:
    """A view exactly as the bot renders it for `state` (fast way to reach many error cases)."""
    i = ids(bot.core)
    base = dict(session_type="public", exchange_id=i["ix:EXAMPLE-IX"], router_id=i["router:edge1"], local_asn=64500)
    return Wizard(bot, render(bot.core, WizardState(step=step, channel="C111", **{**base, **state})), view_id)


def _error(w: Wizard, field: str, **typed: Any) -> str:
    answer = w.submit(**typed)
    assert answer.get("response_action") == "errors", (typed, answer)
    assert list(answer["errors"]) == [inputs(w.view)[field]["block_id"]], (typed, answer)
    msg = answer["errors"][inputs(w.view)[field]["block_id"]]
    assert 0 < len(msg) <= 150
    return msg


STEP1_ERRORS = [
    ({"type": "public", "exchange": "No Exchange"}, "exchange", "needs an internet exchange"),
    ({"type": "local", "exchange": "EXAMPLE-IX"}, "exchange", "uses No Exchange"),
    ({"type": None, "exchange": "No Exchange"}, "type", "Choose a session type"),
    ({"type": "private", "exchange": None}, "exchange", "Choose an exchange"),
    ({"type": "local", "exchange": "No Exchange", "notes": "x" * 1001}, "notes", "too long (1001 characters, at most 1000)"),
    ({"type": "local", "exchange": "No Exchange", "notes": "bell\x07"}, "notes", "control characters"),
]
STEP2_ERRORS = [
    ({"md5": "has space"}, "md5", "without spaces"),
    ({"md5": "x" * 81}, "md5", "at most 80"),
    ({"md5": "semi;colon"}, "md5", "may not contain"),
    ({"local_asn": None}, "local_asn", "Choose the local ASN"),
]
STEP3_OK = {"peer_name": "Delta", "peer_asn": "65004", "peer_ip": "192.0.2.40"}
STEP3_ERRORS = [
    ({"peer_asn": "sixty-five"}, "peer_asn", "digits only"),
    ({"peer_asn": "0"}, "peer_asn", "between 1 and 4294967295"),
    ({"peer_asn": "4294967296"}, "peer_asn", "between 1 and 4294967295"),
    ({"peer_asn": None}, "peer_asn", "Enter an AS number"),
    ({"peer_ip": "198.51.100.7"}, "peer_ip", "not inside EXAMPLE-IX's LAN"),
    ({"peer_ip": "192.0.2.0"}, "peer_ip", "network or broadcast"),
    ({"peer_ip": "192.0.2.255"}, "peer_ip", "network or broadcast"),
    ({"peer_ip": "192.0.2.1"}, "peer_ip", "address of edge1 itself"),
    ({"peer_ip": "2001:db8::1"}, "peer_ip", "address of edge1 itself"),
    ({"peer_ip": "192.0.2.10"}, "peer_ip", "already has a session with 192.0.2.10"),
    ({"peer_ip": "not-an-ip"}, "peer_ip", "not a valid IPv4 or IPv6"),
    ({"peer_ip": "192.0.2.40/24"}, "peer_ip", "without a prefix length"),
    ({"peer_name": "bad\x07name"}, "peer_name", "control characters"),
    ({"peer_name": "two\nlines"}, "peer_name", "control characters"),
    ({"peer_name": "x; reload"}, "peer_name", "may not contain ';'"),
    ({"peer_name": "x" * 81}, "peer_name", "too long"),
    ({"peer_name": None}, "peer_name", "required"),
]


def test_inline_errors_for_every_bad_field(bot: RunningBot) -> None:
    make_session(bot.core, ip="192.0.2.10", name="Taken", asn="65010")
    w = _at_step(bot, 1, session_type=None, exchange_id=None, router_id=None, local_asn=None)
    for typed, field, text in STEP1_ERRORS:
        assert text in _error(w, field, **typed), typed
    w = _at_step(bot, 2)
    for typed, field, text in STEP2_ERRORS:
        assert text in _error(w, field, **typed), typed
    w = _at_step(bot, 3)
    for typed, field, text in STEP3_ERRORS:
        assert text in _error(w, field, **{**STEP3_OK, **typed}), typed
    # several bad fields at once: each gets its own error
    answer = w.submit(peer_name="a;b", peer_asn="x", peer_ip="10.0.0.1")
    assert set(answer["errors"]) == {inputs(w.view)[n]["block_id"] for n in ("peer_name", "peer_asn", "peer_ip")}
    # IPv6 on a v4-only exchange
    w6 = _at_step(bot, 3, exchange_id=ids(bot.core)["ix:OTHER-IX"])
    assert "OTHER-IX has no IPv6 peering LAN" in _error(w6, "peer_ip", **{**STEP3_OK, "peer_ip": "2001:db8::5"})
    w4 = _at_step(bot, 4)
    assert "An AS-SET looks like" in _error(w4, "as_set", as_set="AS-!!")
    assert session_rows(bot.core)[0].peer.name == "Taken" and len(session_rows(bot.core)) == 1


def test_garbage_metadata_is_reported_not_crashed(bot: RunningBot) -> None:
    w = _at_step(bot, 3)
    w.view = {**w.view, "private_metadata": "{not json"}
    answer = w.submit(**STEP3_OK)
    assert answer["response_action"] == "update" and "expired" in text_of(answer["view"])


def test_create_goes_back_when_the_ip_was_taken_meanwhile(bot: RunningBot) -> None:
    w = _at_step(bot, 5, peer_name="Epsilon", peer_asn="65005", peer_ip="192.0.2.50")
    make_session(bot.core, ip="192.0.2.50", name="Someone Else", asn="65006")
    answer = w.submit()
    assert answer["response_action"] == "update" and w.state.step == 3
    assert "already has a session with 192.0.2.50" in text_of(w.view["blocks"])
    assert len(session_rows(bot.core)) == 1


# -- double submit, restart, delivery ---------------------------------------------------------
def test_double_create_makes_one_session_and_one_message(bot: RunningBot) -> None:
    w = _at_step(bot, 5, peer_name="Zeta", peer_asn="65007", peer_ip="192.0.2.70", view_id="V00077")
    view = w.view
    mark = bot.slack.mark()
    assert w.submit() == {"response_action": "clear"}
    bot.slack.wait_for("chat.postMessage", after=mark)
    w.view = view
    assert w.submit() == {"response_action": "clear"}  # Slack retry / double click: same view
    # a burst of concurrent clicks on a second wizard
    w2 = _at_step(bot, 5, peer_name="Eta", peer_asn="65008", peer_ip="192.0.2.80", view_id="V00078")
    answers: list[dict] = []
    threads = [threading.Thread(target=lambda: answers.append(Wizard(bot, w2.view, "V00078").submit())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [{"response_action": "clear"}] * 4
    bot.slack.wait_for("chat.postMessage", lambda c: "Eta" in text_of(c.args), after=mark)
    assert sorted(r.peer.name for r in session_rows(bot.core)) == ["Eta", "Zeta"]
    time.sleep(0.3)  # a second (wrong) post would come right after the first
    posts = [c for c in bot.slack.of("chat.postMessage")]
    assert sum("Zeta" in text_of(c.args) for c in posts) == 1
    assert sum("Eta" in text_of(c.args) for c in posts) == 1


def test_wizard_survives_a_restart_between_steps(bot: RunningBot, sqlite_url: str, tmp_path: Path) -> None:
    w = open_by_command(bot)
    w.next(type="public", exchange="EXAMPLE-IX", notes="before restart")
    w.select("router", "edge1")
    w.next(peer_group="TRANSIT", md5=MD5)
    bot.stop()
    # a new process: its own Core, built from the same settings (database, secret key)
    settings = settings_for(sqlite_url, bot.slack, tmp_path)
    assert settings.database_url == bot.core.settings.database_url
    new_core = Core.from_settings(settings)
    assert new_core is not bot.core and new_core.db is not bot.core.db and new_core.secrets is not bot.core.secrets
    fresh = start_bot(new_core, bot.slack)
    try:
        w.bot = fresh
        w.next(peer_name="Theta", peer_asn="65009", peer_ip="2001:db8::99")
        w.previous()  # a block_actions on the new process too
        w.next()
        w.next(as_set="AS-THETA")
        mark = fresh.slack.mark()
        assert w.submit()["response_action"] == "clear"
        fresh.slack.wait_for("chat.postMessage", after=mark)
        [row] = session_rows(new_core)
        assert (row.notes, row.peer_group.name, row.peer_ip, row.address_family, row.as_set) == (
            "before restart", "TRANSIT", "2001:db8::99", 6, "AS-THETA")
        # the MD5 typed before the restart (encrypted in the view by the old process) was read by the new one
        assert new_core.secrets.decrypt(row.md5_encrypted) == MD5
    finally:
        fresh.stop()
        new_core.db.dispose()
    assert_secret_never_sent(bot, MD5)


def test_failed_detail_post_is_told_to_the_user(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    """Posting the new session's message fails after the ack (not a DM-fallback error): the user
    hears about it, with the session number and how to see it."""
    w = _at_step(bot, 5, peer_name="Kappa", peer_asn="65012", peer_ip="192.0.2.91")
    bot.slack.fail_methods["chat.postMessage"] = "invalid_blocks"
    mark = bot.slack.mark()
    assert w.submit() == {"response_action": "clear"}
    told = bot.slack.wait_for("chat.postEphemeral", after=mark).args
    [row] = session_rows(bot.core)
    assert told["channel"] == "C111" and told["user"] == "U111"
    assert f"Session #{row.id} created, but its message could not be posted" in told["text"]
    assert "invalid_blocks" in told["text"] and f"/peering show {row.id}" in told["text"]
    # nowhere to say it in the channel either: a DM
    del bot.slack.fail_methods["chat.postMessage"]
    answer = bot.slack._answer

    def channel_refuses(method: str, args: dict) -> dict:
        if method == "chat.postMessage" and args.get("channel") == "C111":
            return {"ok": False, "error": "msg_too_long"}
        if method == "chat.postEphemeral":
            return {"ok": False, "error": "user_not_in_channel"}
        return answer(method, args)

    monkeypatch.setattr(bot.slack, "_answer", channel_refuses)
    w2 = _at_step(bot, 5, peer_name="Lambda", peer_asn="65013", peer_ip="192.0.2.92", view_id="V00092")
    mark = bot.slack.mark()
    assert w2.submit() == {"response_action": "clear"}
    dm = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "U111", after=mark).args
    assert "msg_too_long" in dm["text"] and "could not be posted" in dm["text"] and "Lambda" not in dm["text"]


def test_detail_goes_to_dm_when_the_bot_is_not_in_the_channel(bot: RunningBot, monkeypatch: pytest.MonkeyPatch) -> None:
    answer = bot.slack._answer

    def not_in_private(method: str, args: dict) -> dict:
        if method == "chat.postMessage" and args.get("channel") == "CPRIVATE":
            return {"ok": False, "error": "not_in_channel"}
        return answer(method, args)

    monkeypatch.setattr(bot.slack, "_answer", not_in_private)
    w = open_by_command(bot, channel="CPRIVATE")
    w.view = _at_step(bot, 5, peer_name="Iota", peer_asn="65011", peer_ip="192.0.2.90").view
    w.view["private_metadata"] = w.view["private_metadata"].replace('"c":"C111"', '"c":"CPRIVATE"')
    mark = bot.slack.mark()
    assert w.submit()["response_action"] == "clear"
    dm = bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == "U111", after=mark)
    assert "Iota" in text_of(dm.args["blocks"])


def test_invalid_md5_is_never_dropped_silently(bot: RunningBot) -> None:
    w = open_by_command(bot)
    w.next(type="public", exchange="EXAMPLE-IX")
    w.select("router", "edge1")
    w.select("router", "edge2", md5="has space")  # changing the router carries values along
    assert "It was not kept" in text_of(w.view) and w.state.md5_enc is None
    w.act({"type": "button", "action_id": Action.WIZARD_PREV, "value": "2"}, md5="has space")
    assert w.state.step == 2, "Previous stays on step 2 while the typed MD5 is invalid"
    assert "It was not kept" in text_of(w.view)
    w.previous()  # nothing typed now: Previous works
    assert_secret_never_sent(bot, "has space")


def test_unicode_digits_in_the_asn_do_not_break_the_wizard(bot: RunningBot) -> None:
    w = open_by_command(bot)
    to_step3(w)
    w.previous(peer_name="Peer", peer_asn="²", peer_ip="192.0.2.10")  # kept as typed, rendered on return
    w.next()
    assert w.state.step == 3 and inputs(w.view)["peer_asn"]["element"]["initial_value"] == "²"
    answer = w.submit()
    assert answer["response_action"] == "errors"
    assert "AS number" in str(answer["errors"])
