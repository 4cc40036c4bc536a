"""Issue 20 on a real OpenBGPD 7.7 router (the lab's, tests/lab/lab.sh): the whole service path
(operator's button, approver's click, worker, peerbot's OpenBGPD driver over SSH/SFTP) with
assertions on bgpd's own view (`bgpctl -j show neighbor`, `show rib neighbor`), on its files
(session file + peerbot's index) and on the database.

The OpenBGPD router peers with the lab's FRR PEER over its own link; the PEER has passive
neighbors for its two addresses (one with TCP-MD5) and announces 203.0.113.0/25 and
203.0.113.128/25 (and R1's 198.51.100.0/24) on them.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

import bot.changes.runner as change_runner
from handlers.ids import Action
from storage.models import AdminStatus, AsSet, AuditEvent, Router
from tests.factories import make_session
from tests.harness.bot import (
    RunningBot, approval_outcome, approval_posted, approve, db_row, dump, has, open_config_manager,
    request_and_approve, request_id_of, submit_config_manager,
)
from tests.lab_fixture import OpenBgpdLab

pytestmark = pytest.mark.lab

SSH_TIMEOUT = 60
ROUTER = "obgp1"
AS_SET = "AS-LAB-OBGP"
INSIDE, OUTSIDE = "203.0.113.0/25", "203.0.113.128/25"


@pytest.fixture
def obgp_bot(bot: RunningBot, clean_obgp: OpenBgpdLab, monkeypatch: pytest.MonkeyPatch) -> tuple[RunningBot, OpenBgpdLab]:
    """The bot with a router obgp1 (platform openbgpd) pointing at the lab's OpenBGPD router."""
    monkeypatch.setenv("PEERBOT_TEST_OBGP_PASSWORD", clean_obgp.password)
    monkeypatch.setattr(change_runner, "FOLLOW_INTERVAL", 1.0)
    monkeypatch.setattr(change_runner, "FOLLOW_TIMEOUT", 30.0)
    with bot.core.db.session() as s:
        s.add(Router(name=ROUTER, host=clean_obgp.host, port=clean_obgp.port, platform="openbgpd",
                     username=clean_obgp.username, password_env="PEERBOT_TEST_OBGP_PASSWORD",
                     local_asns=[clean_obgp.asn], addresses=[p.router_ip for p in clean_obgp.spares.values()]))
    return bot, clean_obgp


def press(bot: RunningBot, action_id: str, sid: int, words: str = "Done") -> str:
    if action_id == Action.REFRESH:
        mark = bot.slack.mark()
        assert bot.send.button(action_id, str(sid)).status_code == 200
        return dump(bot.slack.wait_for("response_url", has(words), after=mark, timeout=SSH_TIMEOUT).args)
    return dump(request_and_approve(bot, action_id, str(sid), words=words, timeout=SSH_TIMEOUT).args)


def wait_for(what: str, check: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


def seed(bot: RunningBot, v4: list[str], name: str = AS_SET) -> None:
    with bot.core.db.session() as s:
        row = s.scalar(select(AsSet).where(AsSet.name == name)) or AsSet(name=name)
        row.prefixes_v4, row.prefixes_v6 = list(v4), []
        s.add(row)


def test_lifecycle_on_openbgpd(obgp_bot: tuple[RunningBot, OpenBgpdLab]) -> None:
    """create -> Configure -> Established (filter and limit in bgpd's view) -> Admin Down ->
    Admin Up -> Edit -> Delete."""
    from tests.integration.test_edit_lab import save_and_approve
    from tests.slack.test_edit import open_edit

    bot, obgp = obgp_bot
    pair = obgp.spares["v4"]
    name = obgp.file_name(pair.peer_ip)
    seed(bot, [INSIDE])
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(obgp.peer.asn), name="Lab Obgp Peer", router=ROUTER,
                     as_set=AS_SET, max_prefixes_v4="100")
    assert obgp.neighbor(pair.peer_ip) == {} and obgp.files() == {}

    text = press(bot, Action.CONFIGURE, v.id)
    assert f"Configured {pair.peer_ip} on {ROUTER}" in text
    assert f"neighbor {pair.peer_ip} {{" in text and f"allow quick from {pair.peer_ip} prefix-set" in text
    assert list(obgp.files()) == [name] and f'include "{obgp.include_dir}/{name}"' in obgp.index()
    view = obgp.wait_state(pair.peer_ip, "Established", timeout=30)
    # the limit and the filter, as bgpd itself has them
    assert view["config"]["max_prefix"] == 100 and view["description"] == f"Lab Obgp Peer AS{obgp.peer.asn}"
    wait_for("only the prefix inside the AS-SET", lambda: obgp.rib(pair.peer_ip) == [INSIDE])
    assert "Established" in press(bot, Action.REFRESH, v.id, f"Refreshed from {ROUTER}")
    row = db_row(bot, v.id)
    assert row.configured and row.bgp_state == "Established" and row.prefix_filter

    down = press(bot, Action.ADMIN_DOWN, v.id)
    assert f"#peerbot disabled {name} yes" in down and f"shut down on {ROUTER}" in down
    n = obgp.neighbor(pair.peer_ip)
    assert n["config"]["down"] is True and n["state"] != "Established"
    assert "\n  down\n" in obgp.files()[name]  # persistent: stays down across reloads and restarts
    obgp.bgpctl("reload")
    assert obgp.neighbor(pair.peer_ip)["state"] != "Established"
    row = db_row(bot, v.id)
    assert row.admin_status == AdminStatus.DOWN and row.bgp_state == "Idle"

    mark = bot.slack.mark()
    up = press(bot, Action.ADMIN_UP, v.id)
    assert f"#peerbot disabled {name} no" in up
    bot.slack.wait_for("chat.update", has("BGP state now Established"), after=mark, timeout=45)
    assert obgp.neighbor(pair.peer_ip)["state"] == "Established"
    assert db_row(bot, v.id).admin_status == AdminStatus.UP

    # Edit: another AS-SET and limit; the file is rewritten whole
    seed(bot, [OUTSIDE], "AS-LAB-OBGP-OTHER")
    w = open_edit(bot, v.id)
    w.next()
    w.next()
    w.next()
    w.next(as_set="AS-LAB-OBGP-OTHER")
    w.submit(max_prefixes_v4="50")
    done = dump(save_and_approve(bot, w))
    assert f"Edited {pair.peer_ip} on {ROUTER}" in done, done
    wait_for("the new filter applied", lambda: obgp.rib(pair.peer_ip) == [OUTSIDE])
    assert obgp.neighbor(pair.peer_ip)["config"]["max_prefix"] == 50
    assert INSIDE not in obgp.files()[name]
    assert db_row(bot, v.id).max_prefixes_v4 == 50

    gone = press(bot, Action.DELETE, v.id, "deleted")
    assert f"#peerbot remove {name}" in gone
    assert obgp.neighbor(pair.peer_ip) == {} and obgp.files() == {} and name not in obgp.index()
    assert db_row(bot, v.id) is None
    with bot.core.db.session() as s:
        events = [e.action for e in s.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "session", AuditEvent.object_id == v.id, AuditEvent.outcome == "ok")
            .order_by(AuditEvent.id))]
    assert events == ["session.create", "session.configure", "session.admin_down", "session.admin_up",
                      "session.edit", "session.delete"]


def test_md5_session_comes_up_and_the_key_stays_secret(obgp_bot: tuple[RunningBot, OpenBgpdLab]) -> None:
    bot, obgp = obgp_bot
    pair = obgp.spares["v4_md5"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(obgp.peer.asn), name="Lab Obgp MD5", router=ROUTER,
                     md5=pair.md5)
    text = press(bot, Action.CONFIGURE, v.id)
    assert 'tcp md5sig password \\"********\\"' in text
    obgp.wait_state(pair.peer_ip, "Established", timeout=30)  # only with the right key
    assert pair.md5 not in dump([c.args for c in bot.slack.calls])
    with bot.core.db.session() as s:
        assert pair.md5 not in dump([[e.before, e.after, e.detail] for e in s.scalars(select(AuditEvent))])
    assert os.stat(f"{obgp.include_dir}/{obgp.file_name(pair.peer_ip)}").st_mode & 0o777 == 0o640
    press(bot, Action.DELETE, v.id, "deleted")
    assert obgp.files() == {}


def test_a_file_bgpd_refuses_is_not_left_in_place(obgp_bot: tuple[RunningBot, OpenBgpdLab]) -> None:
    """Config Manager text that `bgpd -n` refuses: the error is shown like a refused CLI line,
    the file and the index are put back, nothing is recorded as configured."""
    bot, obgp = obgp_bot
    pair = obgp.spares["v4"]
    index = obgp.index()
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(obgp.peer.asn), name="Lab Obgp Bad", router=ROUTER)
    modal, commands = open_config_manager(bot, v.id)
    assert commands.startswith(f"#peerbot file {obgp.file_name(pair.peer_ip)}")
    broken = commands.replace(f"remote-as {obgp.peer.asn}", "remote-as")
    assert broken != commands
    mark = bot.slack.mark()
    submit_config_manager(bot, modal, broken)
    posted = approval_posted(bot, mark)
    assert approve(bot, posted).status_code == 200
    out = dump(approval_outcome(bot, mark, "rejected", timeout=SSH_TIMEOUT, request_id=request_id_of(posted)).args)
    assert "syntax error" in out and "not left in place" in out
    assert obgp.files() == {} and obgp.index() == index and obgp.neighbor(pair.peer_ip) == {}
    assert not db_row(bot, v.id).configured


def test_the_max_prefix_trips_and_the_poll_says_why(obgp_bot: tuple[RunningBot, OpenBgpdLab]) -> None:
    """Limit 1, no AS-SET: the PEER's prefixes make bgpd close the session itself (Cease,
    max-prefix exceeded), which is shown as the limit, not as admin down."""
    bot, obgp = obgp_bot
    pair = obgp.spares["v4"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(obgp.peer.asn), name="Lab Obgp Limited", router=ROUTER,
                     max_prefixes_v4="1")
    assert "max-prefix 1" in press(bot, Action.CONFIGURE, v.id)
    wait_for("the limit to trip", lambda: "max-prefix" in obgp.neighbor(pair.peer_ip).get("last_error_sent", ""))
    shown = press(bot, Action.REFRESH, v.id, "prefix limit exceeded")
    assert "prefix limit exceeded (1)" in shown
    row = db_row(bot, v.id)
    assert row.bgp_state == "Idle" and row.last_error == "prefix limit exceeded (1)"
    assert row.admin_status == AdminStatus.UP
