"""`peerbot irr import | show | refresh` as a real subprocess, asking the fake IRRd."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli.test_cli import ROOT, run
from tests.irr.conftest import Irr


@pytest.fixture
def env(tmp_path: Path, irr: Irr) -> dict[str, str]:
    env = {"PEERBOT_DATABASE_URL": f"sqlite:///{tmp_path}/irr.db", "PEERBOT_SECRET_KEY": "k",
           "PEERBOT_IRR_HOST": irr.host}
    loaded = run(["inventory", "load", str(ROOT / "tests" / "data" / "inventory.yml")], env)
    assert loaded.returncode == 0, loaded.stderr
    return env


def test_import_show_refresh(env: dict[str, str], irr: Irr) -> None:
    done = run(["irr", "import", "as-example"], env)
    assert done.returncode == 0, done.stderr
    assert "AS-EXAMPLE: imported: 2 IPv4 / 2 IPv6 prefixes from 127.0.0.1:" in done.stdout
    assert "  + 198.51.100.0/24 ge 25 le 25" in done.stdout

    shown = run(["irr", "show", "AS-EXAMPLE", "--entries"], env)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("AS-EXAMPLE: 2 IPv4 / 2 IPv6 prefixes, imported")
    assert "  203.0.113.0/24\n" in shown.stdout and "  2001:db8:66::/48\n" in shown.stdout

    refreshed = run(["irr", "refresh"], env)  # no session uses an AS-SET yet
    assert refreshed.returncode == 0, refreshed.stderr
    assert "0 AS-SET(s): 0 changed, 0 flagged, 0 failed" in refreshed.stdout


def test_errors(env: dict[str, str]) -> None:
    empty = run(["irr", "import", "AS-EMPTY"], env)
    assert empty.returncode == 1 and "AS-EMPTY: not imported: AS-EMPTY is empty at" in empty.stdout
    hostile = run(["irr", "import", "--", "-h evil AS-X"], env)
    assert hostile.returncode == 2 and "AS-SET" in hostile.stderr and "Traceback" not in hostile.stderr
    unknown = run(["irr", "show", "AS-NOPE"], env)
    assert unknown.returncode == 1 and "AS-NOPE is not known locally" in unknown.stderr
    missing = run(["irr", "import", "AS-EXAMPLE"], {**env, "PATH": "/nonexistent"})
    assert missing.returncode == 1 and "Debian package `bgpq4`" in missing.stdout
