"""AS-SET texts: the wizard's Validate / Import answers and the scheduled re-import notice."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.irr.refresh import RefreshReport
from bot.irr.service import AsSetInfo, FamilyChange, ImportResult
from handlers.views.common import ago, clip_mrkdwn, context, escape, message, section

MAX_LINES = 30  # per part of the notice; a section holds at most 3000 characters


def known_text(info: AsSetInfo) -> str:
    where = " from " + escape(info.irr_host) if info.irr_host else ""
    source = f" ({escape(info.source)})" if info.source else ""
    text = (f":white_check_mark: *{escape(info.name)}* is known locally: {info.count_v4} IPv4 / "
            f"{info.count_v6} IPv6 prefixes, imported {ago(info.imported_at)}{where}{source}.")
    if info.last_error:
        text += f"\n:warning: Last import attempt {ago(info.last_attempt_at)}: {escape(info.last_error)}"
    return text


def unknown_text(name: str) -> str:
    return (f":x: *{escape(name)}* is not known locally: *Import* it from the IRR (or create the session anyway; "
            "its prefix filter waits for the import).")


def importing_text(query: str, where: str) -> str:
    return f":hourglass_flowing_sand: Importing *{escape(query)}* from {escape(where)} … this can take a few seconds."


def changes_text(changes: Sequence[FamilyChange]) -> str:
    return ", ".join(f"IPv{c.family} +{len(c.added)} −{len(c.removed)}" for c in changes)


def import_result_text(result: ImportResult) -> str:
    if not result.ok:
        return f":x: *{escape(result.name)}* was not imported: {escape(result.error)}"
    info = result.info
    assert info is not None
    what = "imported" if result.first_import else ("re-imported, changed" if result.changed else "re-imported, unchanged")
    text = (f":white_check_mark: *{escape(result.name)}* {what}: {info.count_v4} IPv4 / {info.count_v6} IPv6 prefixes"
            + (f" ({changes_text(result.changes)})" if result.changed and not result.first_import else "")
            + (f" from {escape(info.irr_host)}" if info.irr_host else "") + ".")
    if result.request_ids:
        text += ("\nIts configured sessions get the new filter through change request "
                 + ", ".join(f"#{i}" for i in result.request_ids) + ".")
    for err in result.request_errors[:3]:
        text += f"\n:warning: {escape(err)}"
    return text


def refresh_notice(report: RefreshReport) -> dict[str, Any]:
    """One message for a scheduled re-import: what changed (+/-), what was flagged, what failed."""
    blocks = []
    changed = [_changed_line(r) for r in report.changed]
    if changed:
        blocks.append(section(clip_mrkdwn("*Prefix lists changed*\n" + "\n".join(changed[:MAX_LINES]), 3000)))
    flagged = [f"• *{escape(r.name)}*: {changes_text(r.changes)} — {escape(r.error)}" for r in report.flagged]
    if flagged:
        blocks.append(section(clip_mrkdwn(":warning: *Not applied: change too large*\n" + "\n".join(flagged[:MAX_LINES]),
                                          3000)))
    failed = [f"• *{escape(r.name)}*: {escape(r.error)}" for r in report.failed]
    if failed:
        blocks.append(section(clip_mrkdwn(":x: *Not re-imported* (the stored lists stay)\n" + "\n".join(failed[:MAX_LINES]),
                                          3000)))
    blocks.append(context(f"Scheduled IRR re-import of {len(report.results)} AS-SET(s): {len(report.changed)} changed, "
                          f"{len(report.unchanged)} unchanged, {len(report.flagged)} flagged, {len(report.failed)} failed."))
    summary = (f"IRR re-import: {len(report.changed)} changed, {len(report.flagged)} flagged, "
               f"{len(report.failed)} failed")
    return message(summary, blocks)


def _changed_line(r: ImportResult) -> str:
    line = f"• *{escape(r.name)}*: " + ("first import" if r.first_import else changes_text(r.changes))
    if r.request_ids:
        line += " → change request " + ", ".join(f"#{i}" for i in r.request_ids)
    elif not r.sessions:
        line += " (no configured session uses it)"
    for err in r.request_errors[:2]:
        line += f"\n   :warning: {escape(err)}"
    return line
