"""Issue 20 on a real BIRD 2 router (the lab's, tests/lab/lab.sh): the whole service path
(operator's button, approver's click, worker, peerbot's BIRD driver over SSH/SFTP) with
assertions on BIRD's own view (`birdc show protocols all`, `show route`), on its files and on
the database.

The BIRD router peers with the lab's FRR PEER over its own link; the PEER has passive
neighbors for BIRD's two addresses (one with TCP-MD5) and announces 203.0.113.0/25 and
203.0.113.128/25 on them. The sessions go into the lab's BIRD template PEERBOT_LAB (fast
timers), peerbot's peer group on that router.
"""
from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest
from sqlalchemy import select

import bot.changes.runner as change_runner
from handlers.ids import Action
from storage.models import AdminStatus, AsSet, AuditEvent, PeerGroup, Router
from tests.factories import ids, make_session
from tests.harness.bot import (
    RunningBot, approval_outcome, approval_posted, approve, db_row, dump, has, open_config_manager,
    request_and_approve, request_id_of, submit_config_manager,
)
from tests.lab_fixture import BirdLab

pytestmark = pytest.mark.lab

SSH_TIMEOUT = 60
ROUTER = "bird1"
AS_SET = "AS-LAB-BIRD"
INSIDE, OUTSIDE = "203.0.113.0/25", "203.0.113.128/25"


@pytest.fixture
def bird_bot(bot: RunningBot, clean_bird: BirdLab, monkeypatch: pytest.MonkeyPatch) -> tuple[RunningBot, BirdLab]:
    """The bot with a router bird1 (platform bird2) pointing at the lab's BIRD router."""
    monkeypatch.setenv("PEERBOT_TEST_BIRD_PASSWORD", clean_bird.password)
    monkeypatch.setattr(change_runner, "FOLLOW_INTERVAL", 1.0)
    monkeypatch.setattr(change_runner, "FOLLOW_TIMEOUT", 30.0)
    with bot.core.db.session() as s:
        router = Router(name=ROUTER, host=clean_bird.host, port=clean_bird.port, platform="bird2",
                        username=clean_bird.username, password_env="PEERBOT_TEST_BIRD_PASSWORD",
                        local_asns=[clean_bird.asn], addresses=[s.router_ip for s in clean_bird.spares.values()])
        s.add(router)
        s.flush()
        s.add(PeerGroup(router_id=router.id, name=clean_bird.template, description="lab BIRD template"))
    return bot, clean_bird


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


def routes(bird: BirdLab, ip: str) -> list[str]:
    """Prefixes BIRD imported from the session (after its import filter)."""
    out = bird.birdc("show", "route", "protocol", bird.protocol_name(ip))
    return sorted(line.split()[0] for line in out.splitlines() if line[:1].isdigit())


def seed(bot: RunningBot, v4: list[str], name: str = AS_SET) -> None:
    with bot.core.db.session() as s:
        row = s.scalar(select(AsSet).where(AsSet.name == name)) or AsSet(name=name)
        row.prefixes_v4, row.prefixes_v6 = list(v4), []
        s.add(row)


def test_lifecycle_on_bird(bird_bot: tuple[RunningBot, BirdLab]) -> None:
    """create -> Configure -> Established (filter and limit in BIRD's view) -> Admin Down ->
    Admin Up -> Edit -> Delete."""
    from tests.integration.test_edit_lab import save_and_approve
    from tests.slack.test_edit import open_edit

    bot, bird = bird_bot
    pair = bird.spares["v4"]
    name = bird.protocol_name(pair.peer_ip)
    seed(bot, [INSIDE])
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(bird.peer.asn), name="Lab Bird Peer", router=ROUTER,
                     as_set=AS_SET, max_prefixes_v4="100",
                     peer_group_id=ids(bot.core)[f"pg:{ROUTER}/{bird.template}"])
    assert bird.protocol(pair.peer_ip) == {} and bird.files() == {}

    text = press(bot, Action.CONFIGURE, v.id)
    assert f"Configured {pair.peer_ip} on {ROUTER}" in text
    assert f"protocol bgp {name} from {bird.template}" in text and "#peerbot" not in text.replace("#peerbot file", "")
    assert list(bird.files()) == [f"{name}.conf"]
    view = bird.wait_state(pair.peer_ip, "Established", timeout=30)
    # the filter and the limit, as BIRD itself has them
    assert view["Input filter"].startswith(f"{name}_in_") and view["Import limit"] == "100"
    assert view["Neighbor AS"] == str(bird.peer.asn) and view["Description"] == f"Lab Bird Peer AS{bird.peer.asn}"
    wait_for("only the prefix inside the AS-SET", lambda: routes(bird, pair.peer_ip) == [INSIDE])
    assert "Established" in press(bot, Action.REFRESH, v.id, f"Refreshed from {ROUTER}")
    row = db_row(bot, v.id)
    assert row.configured and row.bgp_state == "Established" and row.prefixes_accepted == 1
    assert row.prefix_filter  # the AS-SET's filter is recorded as the session's

    down = press(bot, Action.ADMIN_DOWN, v.id)
    assert f"#peerbot disabled {name}.conf yes" in down and f"shut down on {ROUTER}" in down
    assert bird.protocol(pair.peer_ip)["state"] == "down"
    assert "disabled yes;" in bird.files()[f"{name}.conf"]  # stays down across reloads and restarts
    row = db_row(bot, v.id)
    assert row.admin_status == AdminStatus.DOWN and row.bgp_state == "Idle"

    mark = bot.slack.mark()
    up = press(bot, Action.ADMIN_UP, v.id)
    assert f"#peerbot disabled {name}.conf no" in up
    bot.slack.wait_for("chat.update", has("BGP state now Established"), after=mark, timeout=45)
    assert bird.protocol(pair.peer_ip)["BGP state"] == "Established"
    assert db_row(bot, v.id).admin_status == AdminStatus.UP

    # Edit: another AS-SET and limit; the file is rewritten whole
    seed(bot, [OUTSIDE], "AS-LAB-BIRD-OTHER")
    w = open_edit(bot, v.id)
    w.next()
    w.next()
    w.next()
    w.next(as_set="AS-LAB-BIRD-OTHER")
    w.submit(max_prefixes_v4="50")
    done = dump(save_and_approve(bot, w))
    assert f"Edited {pair.peer_ip} on {ROUTER}" in done, done
    wait_for("the new filter applied", lambda: routes(bird, pair.peer_ip) == [OUTSIDE])
    view = bird.protocol(pair.peer_ip)
    assert view["Import limit"] == "50" and view["BGP state"] == "Established"
    assert INSIDE not in bird.files()[f"{name}.conf"]
    assert db_row(bot, v.id).max_prefixes_v4 == 50

    gone = press(bot, Action.DELETE, v.id, "deleted")
    assert f"#peerbot remove {name}.conf" in gone
    assert bird.protocol(pair.peer_ip) == {} and bird.files() == {}
    assert db_row(bot, v.id) is None
    with bot.core.db.session() as s:
        events = [e.action for e in s.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "session", AuditEvent.object_id == v.id, AuditEvent.outcome == "ok")
            .order_by(AuditEvent.id))]
    assert events == ["session.create", "session.configure", "session.admin_down", "session.admin_up",
                      "session.edit", "session.delete"]


def test_md5_session_comes_up_and_the_key_stays_secret(bird_bot: tuple[RunningBot, BirdLab]) -> None:
    bot, bird = bird_bot
    pair = bird.spares["v4_md5"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(bird.peer.asn), name="Lab Bird MD5", router=ROUTER,
                     md5=pair.md5, peer_group_id=ids(bot.core)[f"pg:{ROUTER}/{bird.template}"])
    text = press(bot, Action.CONFIGURE, v.id)
    assert 'password \\"********\\"' in text
    bird.wait_state(pair.peer_ip, "Established", timeout=30)  # only with the right key
    assert pair.md5 not in dump([c.args for c in bot.slack.calls])
    with bot.core.db.session() as s:
        assert pair.md5 not in dump([[e.before, e.after, e.detail] for e in s.scalars(select(AuditEvent))])
    f = f"{bird.include_dir}/{bird.protocol_name(pair.peer_ip)}.conf"
    assert os.stat(f).st_mode & 0o777 == 0o640  # the key's file is not world-readable
    press(bot, Action.DELETE, v.id, "deleted")
    assert bird.files() == {}


def test_a_file_bird_refuses_is_not_left_in_place(bird_bot: tuple[RunningBot, BirdLab]) -> None:
    """Config Manager text that BIRD's check refuses: the error is shown like a refused CLI
    line, the file is taken out again, nothing is recorded as configured."""
    bot, bird = bird_bot
    pair = bird.spares["v4"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(bird.peer.asn), name="Lab Bird Bad", router=ROUTER,
                     peer_group_id=ids(bot.core)[f"pg:{ROUTER}/{bird.template}"])
    modal, commands = open_config_manager(bot, v.id)
    assert commands.startswith(f"#peerbot file {bird.protocol_name(pair.peer_ip)}.conf")
    broken = commands.replace(f"neighbor {pair.peer_ip} as {bird.peer.asn};", f"neighbor {pair.peer_ip} as;")
    assert broken != commands
    mark = bot.slack.mark()
    submit_config_manager(bot, modal, broken)
    posted = approval_posted(bot, mark)
    assert approve(bot, posted).status_code == 200
    out = dump(approval_outcome(bot, mark, "rejected", timeout=SSH_TIMEOUT, request_id=request_id_of(posted)).args)
    assert "syntax error" in out and "not left in place" in out
    assert bird.files() == {} and bird.protocol(pair.peer_ip) == {}
    assert not db_row(bot, v.id).configured


def test_the_import_limit_trips_and_the_poll_says_why(bird_bot: tuple[RunningBot, BirdLab]) -> None:
    """Limit 1, no AS-SET: the PEER's two prefixes make BIRD shut the session itself
    ("Automatic shutdown: Route limit exceeded"), which is shown as the limit, not as admin down."""
    bot, bird = bird_bot
    pair = bird.spares["v4"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(bird.peer.asn), name="Lab Bird Limited", router=ROUTER,
                     max_prefixes_v4="1", peer_group_id=ids(bot.core)[f"pg:{ROUTER}/{bird.template}"])
    assert "import limit 1 action disable;" in press(bot, Action.CONFIGURE, v.id)
    wait_for("the limit to trip", lambda: "Route limit exceeded" in bird.protocol(pair.peer_ip).get("Last error", ""))
    shown = press(bot, Action.REFRESH, v.id, "prefix limit exceeded")
    assert "prefix limit exceeded (1)" in shown
    row = db_row(bot, v.id)
    assert row.bgp_state == "Idle" and row.last_error == "prefix limit exceeded (1)"
    assert row.admin_status == AdminStatus.UP


def test_v6_session_comes_up_and_refresh_stores_its_state(bird_bot: tuple[RunningBot, BirdLab]) -> None:
    bot, bird = bird_bot
    pair = bird.spares["v6"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(bird.peer.asn), name="Lab Bird V6", router=ROUTER,
                     peer_group_id=ids(bot.core)[f"pg:{ROUTER}/{bird.template}"])
    text = press(bot, Action.CONFIGURE, v.id)
    assert f"neighbor {pair.peer_ip} as {bird.peer.asn};" in text and "ipv6 {" in text
    bird.wait_state(pair.peer_ip, "Established", timeout=30)
    wait_for("the peer's IPv6 prefix", lambda: "Routes:         1 imported" in bird.birdc(
        "show", "protocols", "all", bird.protocol_name(pair.peer_ip)))
    assert "Established" in press(bot, Action.REFRESH, v.id, f"Refreshed from {ROUTER}")
    row = db_row(bot, v.id)
    assert row.bgp_state == "Established" and row.prefixes_accepted == len(bird.peer.prefixes_v6)
    press(bot, Action.DELETE, v.id, "deleted")
    assert bird.protocol(pair.peer_ip) == {}
