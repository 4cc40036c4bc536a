"""The 7-day state timeline: a pure function of the history, PNG out."""
from __future__ import annotations

import io
import os
from datetime import datetime, timedelta, timezone

from PIL import Image

from bot.polling.history import HistoryEntry, SessionHistory
from bot.polling.timeline import DOWN, UNKNOWN, UP, render_timeline, segments

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def entry(days_ago: float, old: str | None, new: str | None) -> HistoryEntry:
    return HistoryEntry(NOW - timedelta(days=days_ago), old, new, None, None, None, "poll")


def history(window: list[HistoryEntry], before: str | None = "Established") -> SessionHistory:
    return SessionHistory(7, window[-1].new if window else before, None, NOW, [], 0, window, before)


def test_segments_cover_the_window_in_order() -> None:
    h = history([entry(5, "Established", "Idle"), entry(4.5, "Idle", "Established")])
    segs = segments(h)
    assert [s for _, _, s in segs] == ["Established", "Idle", "Established"]
    assert segs[0][0] == NOW - timedelta(days=7) and segs[-1][1] == NOW
    assert all(a[1] == b[0] for a, b in zip(segs, segs[1:]))  # no gaps
    assert segments(history([])) == [(NOW - timedelta(days=7), NOW, "Established")]


def _colours(png: bytes) -> set[tuple[int, int, int]]:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    return {img.getpixel((x, img.height // 2 - 2)) for x in range(0, img.width, 2)}


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]


def test_png_shows_up_and_down_bands() -> None:
    png = render_timeline(history([entry(5, "Established", "Idle"), entry(3, "Idle", "Established")]), "Alpha")
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    img = Image.open(io.BytesIO(png))
    assert img.size == (800, 160)
    colours = _colours(png)
    assert _rgb(UP) in colours and _rgb(DOWN) in colours and _rgb(UNKNOWN) not in colours


def test_never_polled_is_grey_and_rendering_is_deterministic() -> None:
    h = history([entry(2, None, "Established")], before=None)
    png = render_timeline(h)
    assert {_rgb(UNKNOWN), _rgb(UP)} <= _colours(png) and _rgb(DOWN) not in _colours(png)
    assert render_timeline(h) == png


def test_the_bot_draws_the_picture_in_a_child_process_with_the_same_result() -> None:
    from bot.polling import timeline

    h = history([entry(5, "Established", "Idle"), entry(3, "Idle", "Established")])
    assert timeline.render_in_child(h, "Alpha") == render_timeline(h, "Alpha")
    [child] = timeline._pool._processes.values()  # one drawing child, not this process
    assert child.pid != os.getpid() and child.is_alive()
    child.kill()
    child.join(5)
    assert timeline.render_in_child(h, "Alpha") == render_timeline(h, "Alpha")  # a new child draws it
