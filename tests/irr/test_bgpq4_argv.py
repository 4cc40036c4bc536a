"""Hostile AS-SET names through the wizard's Validate/Import and `peerbot irr import` never reach
bgpq4's argv in a dangerous form. A recording `bgpq4` first on PATH writes each argv it gets (one
JSON line) and runs the real bgpq4, so accepted names still import from the fake IRRd."""
from __future__ import annotations

import json
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import Core

from handlers.ids import Action
from tests.cli.test_cli import ROOT, run
from tests.harness.bot import RunningBot, settings_for, start_bot
from tests.harness.fake_slack import FakeSlack
from tests.irr.conftest import INVENTORY, Irr
from tests.irr.test_wizard_irr import _at_step4
from tests.slack.test_wizard import text_of, values_for

REAL = shutil.which("bgpq4") or "/usr/bin/bgpq4"
# What may follow bgpq4's own options: one RPSL name, optionally SOURCE::-pinned.
SAFE_TARGET = re.compile(r"^(?:[A-Z0-9][A-Z0-9-]{0,31}::)?(?:AS\d+:)?AS[A-Z0-9_:-]*$")
HOSTILE_NAMES = (
    "-h evil.example AS-X", "--help", "-S RIPE", "-", "AS-FOO -S RIPE", "AS-FOO;touch /tmp/pwned", "AS-FOO\nAS-BAR",
    "AS-FOO AS-BAR", "AS-FOO|id", "$(id)", "`id`", "AS-FOO\x00", "AS-FOO\t-h", "RIPE:: -h x", "-RIPE::AS-FOO",
    "AS-\u212aILO", "AS-FOO\u2028-h", "AS-" + "X" * 300, "'AS-FOO'", '"AS-FOO"', "AS-FOO&&id", "AS-FOO>out",
    "AS65001:AS-FOO:-h", "  -h  ", "\u00adAS-FOO",
)


@pytest.fixture
def irr_bot(sqlite_url: str, slack: FakeSlack, tmp_path: Path, irr: Irr) -> Iterator[RunningBot]:
    from bot.sessions.inventory import load_inventory

    core = Core.from_settings(settings_for(sqlite_url, slack, tmp_path, PEERBOT_IRR_HOST=irr.host))
    load_inventory(core.db, INVENTORY)
    running = start_bot(core, slack)
    yield running
    running.stop()
    core.db.dispose()


@pytest.fixture
def recording_bgpq4(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    log = tmp_path / "argv.jsonl"
    script = bindir / "bgpq4"
    script.write_text(f"""#!/bin/sh
/usr/bin/env python3 -c 'import json, sys; open(sys.argv[1], "a").write(json.dumps(sys.argv[2:]) + "\\n")' \\
  {log} "$@"
exec {REAL} "$@"
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{bindir}:{Path(REAL).parent}:/usr/bin:/bin")
    return log


def _argvs(log: Path) -> list[list[str]]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def _assert_safe(argvs: list[list[str]]) -> None:
    for argv in argvs:
        target = argv[-1]
        assert SAFE_TARGET.fullmatch(target), argv
        for arg in argv:
            assert not re.search(r"[\s;|&$`'\"<>\\]", arg), argv
        # options are peerbot's own: -h <host>, -S <sources>, and the fixed flags
        assert argv[0] == "-h" and not argv[1].startswith("-"), argv


def test_hostile_names_through_the_wizard_never_reach_bgpq4(irr_bot: RunningBot, recording_bgpq4: Path) -> None:
    w = _at_step4(irr_bot)
    slack = irr_bot.slack
    for name in HOSTILE_NAMES:
        for action_id in (Action.WIZARD_AS_SET_VALIDATE, Action.WIZARD_AS_SET_IMPORT):
            mark = slack.mark()
            r = irr_bot.send.view_action(w.view, {"type": "button", "action_id": action_id, "value": "x"},
                                         values_for(w.view, as_set=name), view_id=w.view_id)
            assert r.status_code == 200
            shown = slack.wait_for("views.update", after=mark).args["view"]
            text = text_of(shown["blocks"])
            assert ":x:" in text and "AS-SET" in text, (name, text[:300])
            assert "Something went wrong" not in text
    assert _argvs(recording_bgpq4) == []
    # a good name still goes through the recording bgpq4 to the fake IRRd
    mark = slack.mark()
    irr_bot.send.view_action(w.view, {"type": "button", "action_id": Action.WIZARD_AS_SET_IMPORT, "value": "x"},
                             values_for(w.view, as_set="ripe::as-example"), view_id=w.view_id)
    slack.wait_for("views.update", lambda c: "imported" in text_of(c.args["view"]), after=mark, timeout=30)
    argvs = _argvs(recording_bgpq4)
    assert argvs and all(a[-1] == "RIPE::AS-EXAMPLE" for a in argvs)
    _assert_safe(argvs)


def test_hostile_names_through_the_cli_never_reach_bgpq4(tmp_path: Path, irr: Irr, recording_bgpq4: Path) -> None:
    import os

    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/irr.db", "PEERBOT_SECRET_KEY": "k",
           "PEERBOT_IRR_HOST": irr.host, "PATH": os.environ["PATH"]}
    assert run(["inventory", "load", str(ROOT / "tests" / "data" / "inventory.yml")], env).returncode == 0
    for name in HOSTILE_NAMES[::3]:  # a subprocess each: a sample (the wizard test takes them all)
        if "\x00" in name:
            continue  # no process takes a NUL in its argv
        done = run(["irr", "import", "--", name], env)
        assert done.returncode == 2, (name, done.returncode, done.stdout, done.stderr)
        assert "AS-SET" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert _argvs(recording_bgpq4) == []
    done = run(["irr", "import", "AS-EXAMPLE"], env)
    assert done.returncode == 0, done.stdout + done.stderr
    _assert_safe(_argvs(recording_bgpq4))
