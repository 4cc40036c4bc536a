"""Edit on the real FRR router: the Edit wizard through signed Slack requests, approval, SSH into
the lab's R1; R1's running configuration of the neighbor is compared before and after."""
from __future__ import annotations

import pytest

from handlers.ids import Action
from tests.factories import make_session
from tests.harness.bot import RunningBot, approval_outcome, approval_posted, approve, db_row, dump, request_id_of
from tests.integration.test_router_e2e import SSH_TIMEOUT, lab_bot, press  # noqa: F401 - the lab_bot fixture
from tests.lab_fixture import Lab
from tests.slack.test_edit import open_edit, to_confirmation

pytestmark = pytest.mark.lab

KEY = "Lab-Edit-Md5-Key"


def neighbor_lines(lab: Lab, ip: str) -> list[str]:
    """R1's running-config lines about the neighbor `ip` (in order, stripped)."""
    config = lab.vtysh("r1", "show running-config")
    return [line.strip() for line in config.splitlines() if f"neighbor {ip} " in f"{line.strip()} "]


def save_and_approve(bot: RunningBot, w, words: str = "Done") -> dict:  # noqa: ANN001
    mark = bot.slack.mark()
    assert w.submit() == {"response_action": "clear"}
    posted = approval_posted(bot, mark)
    assert approve(bot, posted).status_code == 200
    return approval_outcome(bot, mark, words, timeout=SSH_TIMEOUT, request_id=request_id_of(posted)).args


def test_edit_changes_exactly_the_expected_lines(lab_bot: tuple[RunningBot, Lab]) -> None:  # noqa: F811
    bot, lab = lab_bot
    pair = lab.spares["v4"]  # the peer expects no MD5 here: the session comes up once the key is removed
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab Peer", md5=KEY)
    press(bot, Action.CONFIGURE, v.id)
    before = neighbor_lines(lab, pair.peer_ip)
    assert f"neighbor {pair.peer_ip} password {KEY}" in before

    w = open_edit(bot, v.id)
    group = "IX-PEERS"
    to_confirmation(w, peer_group=group, md5_clear=["remove"], peer_name="Lab Peer Renamed")
    done = save_and_approve(bot, w)
    assert f"Edited {pair.peer_ip} on edge1" in dump(done["blocks"])

    after = neighbor_lines(lab, pair.peer_ip)
    removed = [line for line in before if line not in after]
    added = [line for line in after if line not in before]
    assert removed == [f"neighbor {pair.peer_ip} description Lab Peer AS{lab.peer.asn}",
                       f"neighbor {pair.peer_ip} password {KEY}"]
    assert sorted(added) == sorted([f"neighbor {pair.peer_ip} peer-group {group}",
                                    f"neighbor {pair.peer_ip} description Lab Peer Renamed AS{lab.peer.asn}"])
    lab.wait_state(pair.peer_ip, "Established", timeout=45)  # no key on either side now
    row = db_row(bot, v.id)
    assert row.configured and not row.needs_check and row.md5_encrypted is None
    assert KEY not in dump([c.args for c in bot.slack.calls])


def test_move_to_another_peer_ip_on_the_same_router(lab_bot: tuple[RunningBot, Lab]) -> None:  # noqa: F811
    bot, lab = lab_bot
    old, new = lab.spares["v4"], lab.spares["v4_md5"]
    v = make_session(bot.core, ip=old.peer_ip, asn=str(lab.peer.asn), name="Lab Mover")
    press(bot, Action.CONFIGURE, v.id)
    lab.wait_state(old.peer_ip, "Established", timeout=45)

    w = open_edit(bot, v.id)
    view = to_confirmation(w, md5=new.md5, peer_ip=new.peer_ip)
    assert "A move" in dump(view["blocks"])
    done = save_and_approve(bot, w)
    assert f"Moved {old.peer_ip} on edge1 to {new.peer_ip} on edge1" in dump(done["blocks"])

    assert neighbor_lines(lab, old.peer_ip) == [] and lab.neighbor_json(old.peer_ip) == {}
    lines = neighbor_lines(lab, new.peer_ip)
    assert f"neighbor {new.peer_ip} remote-as {lab.peer.asn}" in lines
    assert f"neighbor {new.peer_ip} password {new.md5}" in lines
    lab.wait_state(new.peer_ip, "Established", timeout=45)  # only with the right key
    row = db_row(bot, v.id)
    assert row.peer_ip == new.peer_ip and row.configured and not row.needs_check
    assert new.md5 not in dump([c.args for c in bot.slack.calls])


def test_peer_group_change_re_creates_the_neighbor_on_frr(lab_bot: tuple[RunningBot, Lab]) -> None:  # noqa: F811
    """FRR cannot move a neighbor between peer-groups: the edit deletes and re-creates it."""
    from tests.factories import ids

    bot, lab = lab_bot
    pair = lab.spares["v4"]
    v = make_session(bot.core, ip=pair.peer_ip, asn=str(lab.peer.asn), name="Lab Grouped",
                     peer_group_id=ids(bot.core)["pg:edge1/TRANSIT"])
    press(bot, Action.CONFIGURE, v.id)
    assert f"neighbor {pair.peer_ip} peer-group TRANSIT" in neighbor_lines(lab, pair.peer_ip)
    w = open_edit(bot, v.id)
    view = to_confirmation(w, peer_group="IX-PEERS")
    assert f"no neighbor {pair.peer_ip}" in dump(view["blocks"])  # the re-creation is shown before it is asked for
    done = save_and_approve(bot, w)
    assert f"Edited {pair.peer_ip} on edge1" in dump(done["blocks"])
    lines = neighbor_lines(lab, pair.peer_ip)
    assert f"neighbor {pair.peer_ip} peer-group IX-PEERS" in lines and not [x for x in lines if "TRANSIT" in x]
    assert f"neighbor {pair.peer_ip} description Lab Grouped AS{lab.peer.asn}" in lines
    lab.wait_state(pair.peer_ip, "Established", timeout=45)
    assert db_row(bot, v.id).peer_group_id == ids(bot.core)["pg:edge1/IX-PEERS"]
