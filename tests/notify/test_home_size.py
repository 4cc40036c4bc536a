"""App Home with 10,000 sessions: the right counts, and at most 100 blocks (lists are top-N with
"and N more"). Its speed is measured by bench/bench_home.py, not here."""
from __future__ import annotations

import json

from bot.core import Core
from bot.home.summary import home_summary
from handlers.views.home import home_view
from tests.notify.bulk_fleet import populate


def test_home_with_10k_sessions_is_summarised(any_core: Core) -> None:
    expected = populate(any_core, sessions=10_000, routers=50, changed=3_000)
    summary = home_summary(any_core)
    assert summary.total_sessions == 10_000
    by_state = {str(s): n for s, n in summary.by_state}
    assert by_state == {k: v for k, v in expected.items() if k not in ("changed_24h", "routers")}
    assert summary.routers_total == 52 and summary.routers_failing == 5  # + the 2 of the inventory
    assert summary.changed_total == 3_000 and len(summary.changed) == 10
    view = home_view(summary)
    text = json.dumps(view, ensure_ascii=False)
    assert len(view["blocks"]) <= 100
    assert "*10000 sessions*" in text and "Established: *5000*" in text
    assert "…and 42 more" in text and "…and 2990 more" in text
    assert all(len(b.get("text", {}).get("text", "")) <= 3000 for b in view["blocks"])
    assert ":rotating_light: *bulk-r000*" in text  # failing routers first
