"""A session's 7-day state timeline as a PNG: one coloured band per state over time (green up,
orange on the way, red down, grey unknown). A pure function of the history; matplotlib's Agg
canvas without pyplot (no global figure state, safe on worker threads).

The bot draws it in a child process (render_in_child): matplotlib holds the interpreter lock
for tens of milliseconds a picture, and every request being acked in the bot's process waited
for it (a `/peering show` made the next requests' acks slower, measured by bench/ack_latency.py).
"""
from __future__ import annotations

import atexit
import io
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timedelta

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import DateFormatter, DayLocator, date2num
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bot.polling.history import TIMELINE_DAYS, SessionHistory

UP, CONNECTING, DOWN, UNKNOWN = "#2e7d32", "#f9a825", "#c62828", "#9e9e9e"
COLOURS = {"Established": UP, "Connect": CONNECTING, "OpenSent": CONNECTING, "OpenConfirm": CONNECTING,
           "Active": DOWN, "Idle": DOWN, "NotFound": DOWN}
LEGEND = (("Established", UP), ("connecting", CONNECTING), ("down", DOWN), ("unknown", UNKNOWN))


def colour(state: str | None) -> str:
    return COLOURS.get(state or "", UNKNOWN)


def segments(h: SessionHistory) -> list[tuple[datetime, datetime, str | None]]:
    """(start, end, state) over the window, in order: the state before it, then each change."""
    start = h.now - timedelta(days=TIMELINE_DAYS)
    out: list[tuple[datetime, datetime, str | None]] = []
    at, state = start, h.state_before_window
    for e in h.window:
        when = max(e.at, start)
        if when > at:
            out.append((at, when, state))
        at, state = when, e.new
    if h.now > at:
        out.append((at, h.now, state))
    return out


def render_timeline(h: SessionHistory, title: str = "") -> bytes:
    fig = Figure(figsize=(8, 1.6), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.04, 0.32, 0.94, 0.5))
    for begin, end, state in segments(h):
        ax.broken_barh([(date2num(begin), date2num(end) - date2num(begin))], (0, 1), facecolors=colour(state),
                       edgecolor="none")
    ax.set_xlim(date2num(h.now - timedelta(days=TIMELINE_DAYS)), date2num(h.now))
    ax.set_ylim(0, 1)
    ax.set_yticks([])
    ax.xaxis.set_major_locator(DayLocator())
    ax.xaxis.set_major_formatter(DateFormatter("%a %d"))
    ax.tick_params(axis="x", labelsize=8)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(title or f"Session #{h.session_id}: last {TIMELINE_DAYS} days (UTC)", fontsize=9, loc="left")
    fig.legend(handles=[Patch(color=c, label=label) for label, c in LEGEND], loc="lower center", ncol=4,
               fontsize=7, frameon=False)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


_pool: ProcessPoolExecutor | None = None
_pool_guard = threading.Lock()
RENDER_TIMEOUT = 60.0  # s: a picture takes well under one; a stuck child is not waited for longer


def render_in_child(h: SessionHistory, title: str = "") -> bytes:
    """render_timeline() in the process's drawing child (started on first use, one for the
    process: pictures are drawn one after another, never more than one core's worth). A child
    that died is replaced and the picture drawn again once."""
    pool = _drawing_pool()
    try:
        return pool.submit(render_timeline, h, title).result(timeout=RENDER_TIMEOUT)
    except BrokenProcessPool:
        _forget(pool)
        return _drawing_pool().submit(render_timeline, h, title).result(timeout=RENDER_TIMEOUT)


def _drawing_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_guard:
        if _pool is None:
            _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def _forget(pool: ProcessPoolExecutor) -> None:
    global _pool
    with _pool_guard:
        if _pool is pool:
            _pool = None


@atexit.register
def _stop_child() -> None:
    with _pool_guard:
        pool = _pool
    if pool is not None:
        pool.shutdown(wait=False, cancel_futures=True)
